package gitlab

import (
	"strings"
	"testing"
	"time"
)

func TestInfo(t *testing.T) {
	i := Info()
	if i.ID != "git.gitlab" || i.New == nil {
		t.Fatalf("info %+v", i)
	}
	want := []string{"integrations.gitlab", "catalog.providers.gitlab", "events.modules.gitlab"}
	if strings.Join(i.Keys, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v", i.Keys)
	}
}

func TestIntegrationConfig(t *testing.T) {
	tests := []struct {
		name, cfg           string
		host, base, api     string
		wantErr             string
		wantGitlabComAPIRaw bool
	}{
		{name: "gitlab.com deduced", cfg: "integrations: {gitlab: [{host: gitlab.com, token: x}]}",
			host: "gitlab.com", base: "https://gitlab.com", api: "https://gitlab.com/api/v4"},
		{name: "self-hosted from baseUrl", cfg: "integrations: {gitlab: [{host: git.example.com}]}",
			host: "git.example.com", base: "https://git.example.com", api: "https://git.example.com/api/v4"},
		{name: "relative path", cfg: "integrations: {gitlab: [{host: git.example.com, baseUrl: 'https://git.example.com/gitlab/'}]}",
			host: "git.example.com", base: "https://git.example.com/gitlab", api: "https://git.example.com/gitlab/api/v4"},
		{name: "explicit api", cfg: "integrations: {gitlab: [{host: git.example.com, apiBaseUrl: 'https://api.example.com/v4/'}]}",
			host: "git.example.com", base: "https://git.example.com", api: "https://api.example.com/v4"},
		{name: "host required", cfg: "integrations: {gitlab: [{token: x}]}", wantErr: "integrations.gitlab[0]: host is required"},
		{name: "strict", cfg: "integrations: {gitlab: [{host: a.example.com, tokn: x}]}", wantErr: "field tokn not found"},
		{name: "bad baseUrl", cfg: "integrations: {gitlab: [{host: a.example.com, baseUrl: 'ftp://a'}]}", wantErr: "baseUrl \"ftp://a\" is not a valid http(s) URL"},
		{name: "twice", cfg: "integrations: {gitlab: [{host: a.example.com}, {host: A.example.com}]}", wantErr: "configured twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := tryPlugin(nil, tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := p.integration(tt.host)
			if in == nil || in.base() != tt.base || in.apiBase != tt.api || in.implicit {
				t.Fatalf("integration %+v", in)
			}
			if p.integration("gitlab.com") == nil {
				t.Error("gitlab.com is always configured, as in Backstage")
			}
		})
	}
}

func TestProviderConfig(t *testing.T) {
	head := "integrations: {gitlab: [{host: git.example.com, token: x}]}\n"
	tests := []struct {
		name, cfg string
		check     func(t *testing.T, pr *provider)
		wantErr   string
	}{
		{name: "defaults", cfg: "catalog: {providers: {gitlab: {main: {host: git.example.com}}}}",
			check: func(t *testing.T, pr *provider) {
				if pr.Name() != "gitlab-provider:main" || pr.file != "catalog-info.yaml" || pr.fallback != "master" ||
					pr.branch != "" || pr.every != 30*time.Minute || !pr.pattern.MatchString("any/thing") {
					t.Errorf("provider %+v", pr)
				}
			}},
		{name: "entityFilename alias and schedule", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, group: /g/sub/, entityFilename: /c.yaml, schedule: {frequency: {minutes: 5}, timeout: PT3M}, topics: 'a, b'}}}}",
			check: func(t *testing.T, pr *provider) {
				if pr.file != "c.yaml" || pr.every != 5*time.Minute || pr.group != "g/sub" || strings.Join(pr.topics, "|") != "a|b" {
					t.Errorf("provider %+v", pr)
				}
			}},
		{name: "ISO schedule", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, schedule: {frequency: PT1H}}}}}",
			check: func(t *testing.T, pr *provider) {
				if pr.every != time.Hour {
					t.Errorf("every %v", pr.every)
				}
			}},
		{name: "orgEnabled", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, orgEnabled: true}}}}",
			wantErr: "catalog.providers.gitlab.x: orgEnabled is not supported yet"},
		{name: "orgEnabled false is fine", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, orgEnabled: false, userPattern: ''}}}}",
			check: func(*testing.T, *provider) {}},
		{name: "groupPattern", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, groupPattern: [a]}}}}",
			wantErr: "groupPattern is not supported yet"},
		{name: "unknown key", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, colour: red}}}}",
			wantErr: "field colour not found"},
		{name: "no integration", cfg: "catalog: {providers: {gitlab: {x: {host: other.example.com}}}}",
			wantErr: "no integrations.gitlab entry matches host other.example.com"},
		{name: "bad pattern", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, projectPattern: '('}}}}",
			wantErr: "projectPattern"},
		{name: "cron", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, schedule: {frequency: {cron: '* * * * *'}}}}}}",
			wantErr: "config catalog.providers.gitlab.x.schedule.frequency: cron schedules are not supported"},
		{name: "schedule unknown key", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, schedule: {frequncy: PT1M}}}}}",
			wantErr: "field frequncy not found"},
		{name: "schedule without frequency", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, schedule: {timeout: PT1M}}}}}",
			wantErr: "config catalog.providers.gitlab.x.schedule.frequency is required"},
		{name: "catalogFile escapes", cfg: "catalog: {providers: {gitlab: {x: {host: git.example.com, catalogFile: ../x.yaml}}}}",
			wantErr: "catalogFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := tryPlugin(nil, head+tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.providers) != 1 {
				t.Fatalf("providers %v", p.providers)
			}
			tt.check(t, p.providers[0])
		})
	}
}

func TestEventsConfigStrict(t *testing.T) {
	_, _, err := tryPlugin(nil, "events: {modules: {gitlab: {webhookSecret: s, other: 1}}}")
	if err == nil || !strings.Contains(err.Error(), "events.modules.gitlab") {
		t.Fatalf("error %v", err)
	}
	p, _, err := tryPlugin(nil, "events: {modules: {gitlab: {webhookSecret: s}}}")
	if err != nil || p.secret != "s" {
		t.Fatalf("%v %q", err, p.secret)
	}
}
