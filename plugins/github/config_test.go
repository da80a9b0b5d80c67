package github

import (
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
)

func TestConfig(t *testing.T) {
	ghe := map[string]any{"host": "ghe.example.com", "apiBaseUrl": "https://ghe.example.com/api/v3/", "token": "t"}
	ints := map[string]any{"github": []any{ghe}}
	tests := []struct {
		name    string
		raw     map[string]any
		wantErr string
		check   func(t *testing.T, p *Plugin)
	}{
		{
			name: "defaults and github.com added",
			raw:  map[string]any{"integrations": ints},
			check: func(t *testing.T, p *Plugin) {
				equal(t, "hosts", []string{p.integrations[0].host, p.integrations[1].host}, []string{"ghe.example.com", "github.com"})
				equal(t, "api trimmed", p.integrations[0].api, "https://ghe.example.com/api/v3")
				equal(t, "github.com api", p.integrations[1].api, "https://api.github.com")
				equal(t, "github.com raw", p.integrations[1].raw, "https://raw.githubusercontent.com")
			},
		},
		{
			name:    "unknown integration key",
			raw:     map[string]any{"integrations": map[string]any{"github": []any{map[string]any{"host": "github.com", "tokn": "x"}}}},
			wantErr: "tokn",
		},
		{
			name:    "apps refused",
			raw:     map[string]any{"integrations": map[string]any{"github": []any{map[string]any{"host": "github.com", "apps": []any{map[string]any{"appId": 1}}}}}},
			wantErr: "GitHub Apps are not supported yet; use a token",
		},
		{
			name: "empty apps accepted",
			raw:  map[string]any{"integrations": map[string]any{"github": []any{map[string]any{"host": "github.com", "apps": []any{}}}}},
		},
		{
			name:    "enterprise host needs a base URL",
			raw:     map[string]any{"integrations": map[string]any{"github": []any{map[string]any{"host": "ghe.example.com", "token": "t"}}}},
			wantErr: "GitHub integration for 'ghe.example.com' must configure an explicit apiBaseUrl and rawBaseUrl",
		},
		{
			name: "single provider is default",
			raw: map[string]any{"integrations": ints, "catalog": map[string]any{"providers": map[string]any{"github": map[string]any{
				"host": "ghe.example.com", "organization": "acme", "schedule": map[string]any{"frequency": map[string]any{"minutes": 30}, "timeout": "PT3M", "initialDelay": "15s"},
			}}}},
			check: func(t *testing.T, p *Plugin) {
				pr := p.EntityProviders()
				equal(t, "providers", len(pr), 1)
				equal(t, "name", pr[0].Name(), "github-provider:default")
				equal(t, "frequency", pr[0].Schedule(), 30*time.Minute)
				equal(t, "timeout", p.providers[0].timeout, 3*time.Minute)
				equal(t, "initialDelay", p.providers[0].initialDelay, 15*time.Second)
				equal(t, "catalogPath", p.providers[0].catalogPath, "catalog-info.yaml")
				equal(t, "allowForks", p.providers[0].allowForks, true)
			},
		},
		{
			name: "providers by id",
			raw: map[string]any{"catalog": map[string]any{"providers": map[string]any{"github": map[string]any{
				"one": map[string]any{"organization": "acme", "catalogPath": "/**/catalog-info.yaml", "filters": map[string]any{"topic": "backstage"}},
				"two": map[string]any{"organization": "beta", "filters": map[string]any{"topic": map[string]any{"include": []any{"a"}, "exclude": []any{"b"}}, "allowForks": false}},
			}}}},
			check: func(t *testing.T, p *Plugin) {
				pr := p.EntityProviders()
				equal(t, "names", []string{pr[0].Name(), pr[1].Name()}, []string{"github-provider:one", "github-provider:two"})
				equal(t, "glob", p.providers[0].glob, true)
				equal(t, "topic string", p.providers[0].topicInclude, []string{"backstage"})
				equal(t, "topic object", [][]string{p.providers[1].topicInclude, p.providers[1].topicExclude}, [][]string{{"a"}, {"b"}})
				equal(t, "allowForks", p.providers[1].allowForks, false)
				equal(t, "default frequency", pr[0].Schedule(), defaultFrequency)
			},
		},
		{
			name:    "unknown provider key",
			raw:     map[string]any{"catalog": map[string]any{"providers": map[string]any{"github": map[string]any{"x": map[string]any{"organization": "acme", "orgnization": "y"}}}}},
			wantErr: "orgnization",
		},
		{
			name:    "unknown filter key",
			raw:     map[string]any{"catalog": map[string]any{"providers": map[string]any{"github": map[string]any{"organization": "acme", "filters": map[string]any{"branches": "x"}}}}},
			wantErr: "branches",
		},
		{
			name:    "provider host without integration",
			raw:     map[string]any{"catalog": map[string]any{"providers": map[string]any{"github": map[string]any{"organization": "acme", "host": "nowhere.example.com"}}}},
			wantErr: "There is no GitHub config that matches host nowhere.example.com",
		},
		{
			name:    "cron refused",
			raw:     map[string]any{"catalog": map[string]any{"providers": map[string]any{"github": map[string]any{"organization": "acme", "schedule": map[string]any{"frequency": map[string]any{"cron": "* * * * *"}}}}}},
			wantErr: "cron schedules are not supported",
		},
		{
			name:    "app provider refused",
			raw:     map[string]any{"catalog": map[string]any{"providers": map[string]any{"github": map[string]any{"app": 1234}}}},
			wantErr: "GitHub Apps are not supported yet; use a token",
		},
		{
			name:    "webhook secret unknown key",
			raw:     map[string]any{"events": map[string]any{"modules": map[string]any{"github": map[string]any{"webhookSecrets": "x"}}}},
			wantErr: "webhookSecrets",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pl, err := New(plugins.Env{Config: plugins.NewConfig(tc.raw)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, pl.(*Plugin))
			}
		})
	}
}

func TestInfo(t *testing.T) {
	i := Info()
	equal(t, "id", i.ID, "git.github")
	equal(t, "keys", i.Keys, []string{"integrations.github", "catalog.providers.github", "events.modules.github"})
}
