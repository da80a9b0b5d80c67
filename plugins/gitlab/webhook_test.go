package gitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

const hookSecret = "hook-s3cret-value"

func webhookOf(t *testing.T, p *Plugin) plugins.Webhook {
	t.Helper()
	hs := p.Webhooks()
	if len(hs) != 1 || hs[0].Topic != "gitlab" {
		t.Fatalf("webhooks %+v", hs)
	}
	return hs[0]
}

func TestWebhookVerify(t *testing.T) {
	with, _, err := tryPlugin(nil, "events: {modules: {gitlab: {webhookSecret: "+hookSecret+"}}}")
	if err != nil {
		t.Fatal(err)
	}
	without, _, err := tryPlugin(nil, "integrations: {gitlab: [{host: git.example.com}]}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       *Plugin
		token   string
		wantErr string
	}{
		{"good token", with, hookSecret, ""},
		{"bad token", with, "wrong", "invalid token"},
		{"prefix of the token", with, hookSecret[:5], "invalid token"},
		{"no header", with, "", "invalid token"},
		{"no secret configured", without, hookSecret, "events.modules.gitlab.webhookSecret is not configured"},
		{"no secret, no header", without, "", "events.modules.gitlab.webhookSecret is not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.token != "" {
				h.Set("X-Gitlab-Token", tt.token)
			}
			err := webhookOf(t, tt.p).Verify(h, []byte(`{"object_kind":"push"}`))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), hookSecret) {
				t.Errorf("the error names the secret: %v", err)
			}
		})
	}
}

type commit struct{ Added, Modified, Removed []string }

func pushEvent(f *fakeGitLab, project, ref, defaultBranch string, total int, commits ...commit) []byte {
	cs := make([]map[string]any, 0, len(commits))
	for _, c := range commits {
		cs = append(cs, map[string]any{"added": nz(c.Added), "modified": nz(c.Modified), "removed": nz(c.Removed)})
	}
	if total == 0 {
		total = len(commits)
	}
	b, _ := json.Marshal(map[string]any{
		"object_kind": "push", "event_name": "push", "ref": ref, "project_id": 7,
		"project": map[string]any{"web_url": f.url() + "/" + project, "path_with_namespace": project, "default_branch": defaultBranch},
		"commits": cs, "total_commits_count": total,
	})
	return b
}

func nz(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const groupProviderConfig = `
catalog:
  providers:
    gitlab:
      main:
        host: "{{HOST}}"
        group: team/sub
events:
  modules:
    gitlab:
      webhookSecret: ` + hookSecret + `
`

func TestWebhookPush(t *testing.T) {
	f := newFake(t)
	p, logs := newPlugin(t, f, baseConfig+groupProviderConfig)
	wh := webhookOf(t, p)
	hdr := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {hookSecret}}
	base := f.url() + "/team/sub/svc"
	ctx := context.Background()

	loc := newLocations()
	body := pushEvent(f, "team/sub/svc", "refs/heads/main", "main", 0,
		commit{Added: []string{"new/catalog-info.yaml", "gone/catalog-info.yaml", "README.md"}, Modified: []string{"catalog-info.yaml"}},
		commit{Removed: []string{"old/catalog-info.yaml", "gone/catalog-info.yaml"}, Modified: []string{"docs/api.yaml", "new/catalog-info.yaml"}},
	)
	if err := wh.Verify(hdr, body); err != nil {
		t.Fatal(err)
	}
	summary, err := wh.Handle(ctx, loc, hdr, body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Processed GitLab push event from " + base + ": added 1 - removed 1 - modified 2 (refreshed 2 locations)"; summary != want {
		t.Errorf("summary %q\nwant    %q", summary, want)
	}
	wantAdd := []catalog.LocationSpec{{Type: "url", Target: base + "/-/blob/main/new/catalog-info.yaml", Presence: "optional"}}
	wantRemove := []catalog.LocationSpec{{Type: "url", Target: base + "/-/blob/main/old/catalog-info.yaml", Presence: "optional"}}
	if got := loc.added["gitlab-provider:main"]; len(got) != 1 || got[0] != wantAdd[0] {
		t.Errorf("added %+v", loc.added)
	}
	if got := loc.removed["gitlab-provider:main"]; len(got) != 1 || got[0] != wantRemove[0] {
		t.Errorf("removed %+v", loc.removed)
	}
	wantRefresh := []string{base + "/-/blob/main/catalog-info.yaml", base + "/-/blob/main/docs/api.yaml"}
	if len(loc.refreshed) != 1 || strings.Join(loc.refreshed[0], " ") != strings.Join(wantRefresh, " ") {
		t.Errorf("refreshed %v", loc.refreshed)
	}
	if len(f.calls()) != 0 {
		t.Errorf("a push needs no API call: %v", f.calls())
	}

	tests := []struct {
		name, project, ref, want string
	}{
		{"another branch", "team/sub/svc", "refs/heads/feature", "added 0 - removed 0 - modified 0"},
		{"a tag", "team/sub/svc", "refs/tags/v1", "is not a branch"},
		{"outside the group", "other/svc", "refs/heads/main", "added 0 - removed 0 - modified 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := newLocations()
			body := pushEvent(f, tt.project, tt.ref, "main", 0, commit{Added: []string{"catalog-info.yaml"}, Removed: []string{"x/catalog-info.yaml"}})
			s, err := wh.Handle(ctx, loc, hdr, body)
			if err != nil || !strings.Contains(s, tt.want) {
				t.Fatalf("%q %v, want %q", s, err, tt.want)
			}
			if len(loc.added)+len(loc.removed)+len(loc.refreshed) != 0 {
				t.Errorf("changed %+v", loc)
			}
		})
	}

	// GitLab lists 20 commits at most: the root catalog file is re-read
	loc = newLocations()
	body = pushEvent(f, "team/sub/svc", "refs/heads/main", "main", 42, commit{Modified: []string{"src/main.go"}})
	if _, err := wh.Handle(ctx, loc, hdr, body); err != nil {
		t.Fatal(err)
	}
	if len(loc.refreshed) != 1 || strings.Join(loc.refreshed[0], " ") != base+"/-/blob/main/catalog-info.yaml" {
		t.Errorf("truncated push refreshed %v", loc.refreshed)
	}

	// untrusted payloads
	bad := []struct{ name, body, want string }{
		{"foreign host", `{"object_kind":"push","ref":"refs/heads/main","project":{"web_url":"https://evil.example.com/team/sub/svc","path_with_namespace":"team/sub/svc","default_branch":"main"}}`, "is not a configured GitLab"},
		{"path and url disagree", `{"object_kind":"push","ref":"refs/heads/main","project":{"web_url":"` + f.url() + `/team/sub/other","path_with_namespace":"team/sub/svc","default_branch":"main"}}`, "do not agree"},
		{"dot-dot project", `{"object_kind":"push","ref":"refs/heads/main","project":{"web_url":"` + f.url() + `/team/../x","path_with_namespace":"team/../x","default_branch":"main"}}`, "do not agree"},
		{"unknown event", `{"object_kind":"issue"}`, `Ignored GitLab "issue" event`},
	}
	for _, b := range bad {
		loc := newLocations()
		s, err := wh.Handle(ctx, loc, hdr, []byte(b.body))
		if err != nil || !strings.Contains(s, b.want) {
			t.Errorf("%s: %q %v, want %q", b.name, s, err, b.want)
		}
		if len(loc.added)+len(loc.removed)+len(loc.refreshed) != 0 {
			t.Errorf("%s changed %+v", b.name, loc)
		}
	}
	// a file path that climbs is dropped, the rest is kept
	loc = newLocations()
	body = pushEvent(f, "team/sub/svc", "refs/heads/main", "main", 0, commit{Added: []string{"../catalog-info.yaml", "ok/catalog-info.yaml"}})
	if _, err := wh.Handle(ctx, loc, hdr, body); err != nil {
		t.Fatal(err)
	}
	if got := loc.added["gitlab-provider:main"]; len(got) != 1 || got[0].Target != base+"/-/blob/main/ok/catalog-info.yaml" {
		t.Errorf("added %+v", got)
	}
	if _, err := wh.Handle(ctx, loc, hdr, []byte("not json")); err == nil {
		t.Error("a body that is not JSON is an error")
	}
	noSecret(t, "logs", logs.String())
}

func TestWebhookPushWithoutProvider(t *testing.T) {
	f := newFake(t)
	p, _ := newPlugin(t, f, baseConfig+"events: {modules: {gitlab: {webhookSecret: x}}}")
	loc := newLocations()
	body := pushEvent(f, "a/b", "refs/heads/main", "main", 0,
		commit{Modified: []string{"catalog-info.yaml", "docs/x.yml", "main.go"}, Added: []string{"new.yaml"}})
	s, err := webhookOf(t, p).Handle(context.Background(), loc, nil, body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{f.url() + "/a/b/-/blob/main/catalog-info.yaml", f.url() + "/a/b/-/blob/main/docs/x.yml"}
	if len(loc.refreshed) != 1 || strings.Join(loc.refreshed[0], " ") != strings.Join(want, " ") {
		t.Errorf("refreshed %v", loc.refreshed)
	}
	if len(loc.added)+len(loc.removed) != 0 {
		t.Errorf("without a provider nothing is added or removed: %+v", loc)
	}
	if !strings.Contains(s, "added 0 - removed 0 - modified 2") {
		t.Errorf("summary %q", s)
	}
	// only the default branch
	loc = newLocations()
	body = pushEvent(f, "a/b", "refs/heads/dev", "main", 0, commit{Modified: []string{"catalog-info.yaml"}})
	if _, err := webhookOf(t, p).Handle(context.Background(), loc, nil, body); err != nil || len(loc.refreshed) != 0 {
		t.Errorf("%v %v", err, loc.refreshed)
	}
}

func TestSystemHooks(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/groups/team%2Fsub/projects", 200, []map[string]any{proj(f, "team/sub/svc", "main", nil)}, "X-Next-Page", "")
	f.json("HEAD /api/v4/projects/team%2Fsub%2Fsvc/repository/files/catalog-info.yaml", 200, nil)
	p, _ := newPlugin(t, f, baseConfig+groupProviderConfig)
	ctx := context.Background()
	if _, err := p.EntityProviders()[0].Discover(ctx); err != nil {
		t.Fatal(err)
	}
	wh := webhookOf(t, p)

	// renamed inside the group: the old location goes, the new one comes
	f.json("GET /api/v4/projects/7", 200, map[string]any{"id": 7, "path_with_namespace": "team/sub/svc2", "default_branch": "trunk", "web_url": f.url() + "/team/sub/svc2"})
	f.json("HEAD /api/v4/projects/team%2Fsub%2Fsvc2/repository/files/catalog-info.yaml", 200, nil)
	f.reset()
	loc := newLocations()
	s, err := wh.Handle(ctx, loc, nil, []byte(`{"event_name":"project_rename","project_id":7,"path_with_namespace":"team/sub/svc2","old_path_with_namespace":"team/sub/svc"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s != "Processed GitLab project_rename event: team/sub/svc → team/sub/svc2: removed 1 - added 1" {
		t.Errorf("summary %q", s)
	}
	rm, add := loc.removed["gitlab-provider:main"], loc.added["gitlab-provider:main"]
	if len(rm) != 1 || rm[0].Target != f.url()+"/team/sub/svc/-/blob/main/catalog-info.yaml" ||
		len(add) != 1 || add[0].Target != f.url()+"/team/sub/svc2/-/blob/trunk/catalog-info.yaml" {
		t.Errorf("removed %+v added %+v", rm, add)
	}
	want := "GET /api/v4/projects/7,HEAD /api/v4/projects/team%2Fsub%2Fsvc2/repository/files/catalog-info.yaml?ref=trunk"
	if got := strings.Join(f.calls(), ","); got != want {
		t.Errorf("calls %s", got)
	}

	// transferred out of the group: removed only
	loc = newLocations()
	f.reset()
	s, err = wh.Handle(ctx, loc, nil, []byte(`{"event_name":"project_transfer","project_id":7,"path_with_namespace":"elsewhere/svc2","old_path_with_namespace":"team/sub/svc2"}`))
	if err != nil || !strings.HasSuffix(s, "removed 1 - added 0") || len(loc.added) != 0 || len(f.calls()) != 0 {
		t.Errorf("%q %v %+v %v", s, err, loc, f.calls())
	}

	// destroyed: what is remembered is removed
	if _, err := p.EntityProviders()[0].Discover(ctx); err != nil {
		t.Fatal(err)
	}
	loc = newLocations()
	s, err = wh.Handle(ctx, loc, nil, []byte(`{"event_name":"project_destroy","project_id":7,"path_with_namespace":"team/sub/svc"}`))
	if err != nil || s != "Processed GitLab project_destroy event for team/sub/svc: removed 1" {
		t.Fatalf("%q %v", s, err)
	}
	if rm := loc.removed["gitlab-provider:main"]; len(rm) != 1 || rm[0].Target != f.url()+"/team/sub/svc/-/blob/main/catalog-info.yaml" {
		t.Errorf("removed %+v", loc.removed)
	}
	s, err = wh.Handle(ctx, newLocations(), nil, []byte(`{"event_name":"project_destroy","path_with_namespace":"../x"}`))
	if err != nil || !strings.Contains(s, "Ignored") {
		t.Errorf("%q %v", s, err)
	}
}
