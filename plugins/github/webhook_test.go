package github

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

const testSecret = "whsec-do-not-leak-42"

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func githubWebhook(t *testing.T, p *Plugin) (func(http.Header, []byte) error, func(context.Context, *fakeLocations, string, any) (string, error)) {
	t.Helper()
	hooks := p.Webhooks()
	if len(hooks) != 1 || hooks[0].Topic != "github" {
		t.Fatalf("webhooks = %+v, want the github topic", hooks)
	}
	h := hooks[0]
	return h.Verify, func(ctx context.Context, loc *fakeLocations, event string, payload any) (string, error) {
		body, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		hdr := http.Header{}
		hdr.Set("X-GitHub-Event", event)
		return h.Handle(ctx, loc, hdr, body)
	}
}

func TestVerify(t *testing.T) {
	f := newFake(t)
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	withSecret := newPlugin(t, f, map[string]any{"events": map[string]any{"modules": map[string]any{"github": map[string]any{"webhookSecret": testSecret}}}})
	without := newPlugin(t, f, nil)
	tests := []struct {
		name    string
		p       *Plugin
		sig     string
		body    []byte
		wantErr string
	}{
		{"good", withSecret.p, sign(testSecret, body), body, ""},
		{"wrong secret", withSecret.p, sign("other", body), body, "invalid signature"},
		{"body changed", withSecret.p, sign(testSecret, body), append([]byte(nil), append(body, ' ')...), "invalid signature"},
		{"sha1 header form", withSecret.p, strings.Replace(sign(testSecret, body), "sha256=", "sha1=", 1), body, "invalid signature"},
		{"not hex", withSecret.p, "sha256=zz", body, "invalid signature"},
		{"missing", withSecret.p, "", body, "invalid signature"},
		{"no secret configured", without.p, sign("", body), body, "events.modules.github.webhookSecret must be set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			verify, _ := githubWebhook(t, tc.p)
			h := http.Header{}
			if tc.sig != "" {
				h.Set("X-Hub-Signature-256", tc.sig)
			}
			err := verify(h, tc.body)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatal("the secret is in the error")
			}
		})
	}
}

func pushPayload(f *fakeGitHub, org, repo, ref string, commits ...map[string]any) map[string]any {
	cs := make([]any, len(commits))
	for i, c := range commits {
		for _, k := range []string{"added", "removed", "modified"} {
			if c[k] == nil {
				c[k] = []any{}
			}
		}
		cs[i] = c
	}
	return map[string]any{
		"ref":          ref,
		"repository":   repoJSON(f, org, repo, map[string]any{"organization": org}),
		"organization": map[string]any{"login": org},
		"commits":      cs,
	}
}

func files(fs ...string) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestPush(t *testing.T) {
	f := newFake(t)
	catalog := catalogConfig(f, map[string]any{"organization": "acme", "catalogPath": "**/catalog-info.yaml"})
	e := newPlugin(t, f, map[string]any{"catalog": catalog})
	noProvider := newPlugin(t, f, nil)
	base := f.web("acme/svc")
	commits := func() []map[string]any {
		return []map[string]any{
			{"added": files("a/catalog-info.yaml", "tmp/catalog-info.yaml", "src/main.go"),
				"modified": files("catalog-info.yaml", "docs/mkdocs.yml", "README.md")},
			{"removed": files("b/catalog-info.yaml", "tmp/catalog-info.yaml", "../../etc/catalog-info.yaml"),
				"modified": files("a/catalog-info.yaml")},
		}
	}
	tests := []struct {
		name        string
		p           *Plugin
		org, ref    string
		wantAdded   map[string][]string
		wantRemoved map[string][]string
		wantRefresh []string
		wantSummary string
	}{
		{
			name: "default branch", p: e.p, org: "acme", ref: "refs/heads/main",
			wantAdded:   map[string][]string{"github-provider:main": {base + "/blob/main/a/catalog-info.yaml"}},
			wantRemoved: map[string][]string{"github-provider:main": {base + "/blob/main/b/catalog-info.yaml"}},
			wantRefresh: []string{
				base + "/blob/main/catalog-info.yaml", base + "/blob/main/docs/mkdocs.yml",
				base + "/tree/main/catalog-info.yaml", base + "/tree/main/docs/mkdocs.yml",
			},
			wantSummary: "Processed Github push event: added 1 - removed 1 - modified 2 (refreshed 2 locations)",
		},
		{
			name: "other branch: registered locations only", p: e.p, org: "acme", ref: "refs/heads/feature/x",
			wantAdded: map[string][]string{}, wantRemoved: map[string][]string{},
			wantRefresh: []string{
				base + "/blob/feature/x/catalog-info.yaml", base + "/blob/feature/x/docs/mkdocs.yml",
				base + "/tree/feature/x/catalog-info.yaml", base + "/tree/feature/x/docs/mkdocs.yml",
			},
			wantSummary: "Processed Github push event: added 0 - removed 0 - modified 2 (refreshed 2 locations)",
		},
		{
			name: "other organization", p: e.p, org: "other", ref: "refs/heads/main",
			wantAdded: map[string][]string{}, wantRemoved: map[string][]string{},
			wantRefresh: []string{
				f.web("other/svc") + "/blob/main/catalog-info.yaml", f.web("other/svc") + "/blob/main/docs/mkdocs.yml",
				f.web("other/svc") + "/tree/main/catalog-info.yaml", f.web("other/svc") + "/tree/main/docs/mkdocs.yml",
			},
			wantSummary: "Processed Github push event: added 0 - removed 0 - modified 2 (refreshed 2 locations)",
		},
		{
			name: "no provider", p: noProvider.p, org: "acme", ref: "refs/heads/main",
			wantAdded: map[string][]string{}, wantRemoved: map[string][]string{},
			wantRefresh: []string{
				base + "/blob/main/catalog-info.yaml", base + "/blob/main/docs/mkdocs.yml",
				base + "/tree/main/catalog-info.yaml", base + "/tree/main/docs/mkdocs.yml",
			},
			wantSummary: "Processed Github push event: added 0 - removed 0 - modified 2 (refreshed 2 locations)",
		},
		{
			name: "tag push ignored", p: e.p, org: "acme", ref: "refs/tags/v1",
			wantAdded: map[string][]string{}, wantRemoved: map[string][]string{},
			wantSummary: "Ignored Github push event: not a branch push",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, handle := githubWebhook(t, tc.p)
			loc := newLocations()
			summary, err := handle(context.Background(), loc, "push", pushPayload(f, tc.org, "svc", tc.ref, commits()...))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "summary", summary, tc.wantSummary)
			equal(t, "added", loc.added, tc.wantAdded)
			equal(t, "removed", loc.removed, tc.wantRemoved)
			equal(t, "refreshed", sorted(loc.refreshed), tc.wantRefresh)
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("a push made %d API calls, want none", n)
	}
}

func TestPushRefusesForeignRepository(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	_, handle := githubWebhook(t, e.p)
	for name, repo := range map[string]map[string]any{
		"unknown host":  repoJSON(f, "acme", "svc", map[string]any{"html_url": "https://evil.example.com/acme/svc"}),
		"name mismatch": repoJSON(f, "acme", "svc", map[string]any{"name": "other"}),
		"javascript":    repoJSON(f, "acme", "svc", map[string]any{"html_url": "javascript:alert(1)"}),
	} {
		loc := newLocations()
		_, err := handle(context.Background(), loc, "push", map[string]any{"ref": "refs/heads/main", "repository": repo,
			"commits": []any{map[string]any{"modified": files("catalog-info.yaml")}}})
		if err == nil || len(loc.refreshed) != 0 {
			t.Errorf("%s: err = %v, refreshed %v; want a refusal", name, err, loc.refreshed)
		}
	}
}

func TestRepositoryEvents(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, map[string]any{"catalog": catalogConfig(f, map[string]any{"organization": "acme"})})
	_, handle := githubWebhook(t, e.p)
	const name = "github-provider:main"
	tests := []struct {
		name        string
		payload     map[string]any
		wantAdded   map[string][]string
		wantRemoved map[string][]string
		wantSummary string
	}{
		{
			name: "renamed",
			payload: map[string]any{"action": "renamed", "repository": repoJSON(f, "acme", "svc-new", nil),
				"organization": map[string]any{"login": "acme"},
				"changes":      map[string]any{"repository": map[string]any{"name": map[string]any{"from": "svc-old"}}}},
			wantAdded:   map[string][]string{name: {f.web("acme/svc-new") + "/blob/main/catalog-info.yaml"}},
			wantRemoved: map[string][]string{name: {f.web("acme/svc-old") + "/blob/main/catalog-info.yaml"}},
			wantSummary: "Processed Github repository renamed event: added 1 - removed 1",
		},
		{
			name:        "deleted",
			payload:     map[string]any{"action": "deleted", "repository": repoJSON(f, "acme", "svc", nil), "organization": map[string]any{"login": "acme"}},
			wantAdded:   map[string][]string{},
			wantRemoved: map[string][]string{name: {f.web("acme/svc") + "/blob/main/catalog-info.yaml"}},
			wantSummary: "Processed Github repository deleted event: added 0 - removed 1",
		},
		{
			name:        "archived",
			payload:     map[string]any{"action": "archived", "repository": repoJSON(f, "acme", "svc", map[string]any{"archived": true}), "organization": map[string]any{"login": "acme"}},
			wantAdded:   map[string][]string{},
			wantRemoved: map[string][]string{name: {f.web("acme/svc") + "/blob/main/catalog-info.yaml"}},
			wantSummary: "Processed Github repository archived event: added 0 - removed 1",
		},
		{
			name:        "unarchived",
			payload:     map[string]any{"action": "unarchived", "repository": repoJSON(f, "acme", "svc", nil), "organization": map[string]any{"login": "acme"}},
			wantAdded:   map[string][]string{name: {f.web("acme/svc") + "/blob/main/catalog-info.yaml"}},
			wantRemoved: map[string][]string{},
			wantSummary: "Processed Github repository unarchived event: added 1 - removed 0",
		},
		{
			name:        "other organization",
			payload:     map[string]any{"action": "deleted", "repository": repoJSON(f, "beta", "svc", nil), "organization": map[string]any{"login": "beta"}},
			wantAdded:   map[string][]string{},
			wantRemoved: map[string][]string{},
			wantSummary: "Processed Github repository deleted event: added 0 - removed 0",
		},
		{
			name: "transferred away",
			payload: map[string]any{"action": "transferred", "repository": repoJSON(f, "beta", "svc", nil), "organization": map[string]any{"login": "beta"},
				"changes": map[string]any{"owner": map[string]any{"from": map[string]any{"organization": map[string]any{"login": "acme"}}}}},
			wantAdded:   map[string][]string{},
			wantRemoved: map[string][]string{name: {f.web("acme/svc") + "/blob/main/catalog-info.yaml"}},
			wantSummary: "Processed Github repository transferred event: added 0 - removed 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := newLocations()
			summary, err := handle(context.Background(), loc, "repository", tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "summary", summary, tc.wantSummary)
			equal(t, "added", loc.added, tc.wantAdded)
			equal(t, "removed", loc.removed, tc.wantRemoved)
		})
	}
}

func TestFold(t *testing.T) {
	ev := &pushEvent{}
	ev.Commits = append(ev.Commits,
		struct {
			Added    []string `json:"added"`
			Removed  []string `json:"removed"`
			Modified []string `json:"modified"`
		}{Added: []string{"new", "gone", "back"}, Removed: []string{"back"}, Modified: []string{"edit"}},
		struct {
			Added    []string `json:"added"`
			Removed  []string `json:"removed"`
			Modified []string `json:"modified"`
		}{Added: []string{"back"}, Removed: []string{"gone", "old", "/abs", "a/../b"}, Modified: []string{"new"}},
	)
	got, err := fold(ev)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "fold", got, map[string]change{"new": added, "back": added, "edit": modified, "old": removed})
}
