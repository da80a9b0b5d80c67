package gitea

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

func TestInfo(t *testing.T) {
	i := Info()
	if i.ID != "git.gitea" || !reflect.DeepEqual(i.Keys, []string{"integrations.gitea", "catalog.providers.gitea", "events.modules.gitea"}) {
		t.Fatalf("Info = %+v", i)
	}
	pl, err := i.New(newEnv(map[string]any{"integrations": map[string]any{"gitea": []any{map[string]any{"host": "g.example"}}}}).Env)
	if err != nil {
		t.Fatal(err)
	}
	// the capabilities the host discovers
	_ = pl.(plugins.URLReaderProvider)
	_ = pl.(plugins.EntityProvider)
	_ = pl.(plugins.WebhookReceiver)
	_ = pl.(plugins.ActionProvider)
	_ = pl.(plugins.CardProvider)
	_ = pl.(plugins.HealthChecker)
	if action.SupportsDryRun(pl.(plugins.ActionProvider).Actions()[0]) {
		t.Fatal("publish:gitea must not run in dry runs (Backstage's does not)")
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	good := sign("s3cret", body)
	tests := []struct {
		name, secret, sig, want string
	}{
		{"valid", "s3cret", good, ""},
		{"valid upper-case hex", "s3cret", strings.ToUpper(good), ""},
		{"no secret configured", "", good, "events.modules.gitea.webhookSecret is not configured"},
		{"no header", "s3cret", "", "no X-Gitea-Signature header"},
		{"wrong secret", "s3cret", sign("other", body), "invalid signature"},
		{"other body", "s3cret", sign("s3cret", []byte("{}")), "invalid signature"},
		{"not hex", "s3cret", "zz" + good[2:], "invalid signature"},
		{"github form", "s3cret", "sha256=" + good, "invalid signature"},
		{"truncated", "s3cret", good[:32], "invalid signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plugin{secret: tc.secret}
			h := http.Header{}
			if tc.sig != "" {
				h.Set("X-Gitea-Signature", tc.sig)
			}
			err := p.verify(h, body)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if err != nil && tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}

func TestFold(t *testing.T) {
	c := func(added, removed, modified []string) pushCommit {
		return pushCommit{Added: added, Removed: removed, Modified: modified}
	}
	l := func(s ...string) []string { return s }
	tests := []struct {
		name    string
		commits []pushCommit // oldest first
		want    map[string]change
	}{
		{"one of each", []pushCommit{c(l("a.yaml"), l("b.yml"), l("c.yaml"))},
			map[string]change{"a.yaml": added, "b.yml": removed, "c.yaml": modified}},
		{"added then removed is nothing", []pushCommit{c(l("a.yaml"), nil, nil), c(nil, l("a.yaml"), nil)},
			map[string]change{}},
		{"removed then added is modified", []pushCommit{c(nil, l("a.yaml"), nil), c(l("a.yaml"), nil, nil)},
			map[string]change{"a.yaml": modified}},
		{"added then modified stays added", []pushCommit{c(l("a.yaml"), nil, nil), c(nil, nil, l("a.yaml"))},
			map[string]change{"a.yaml": added}},
		{"modified then removed is removed", []pushCommit{c(nil, nil, l("a.yaml")), c(nil, l("a.yaml"), nil)},
			map[string]change{"a.yaml": removed}},
		{"modified twice", []pushCommit{c(nil, nil, l("a.yaml")), c(nil, nil, l("a.yaml"))},
			map[string]change{"a.yaml": modified}},
		{"only yaml paths", []pushCommit{c(l("README.md", "x/y.YAML", "main.go"), l("z.json"), l("docs/index.md"))},
			map[string]change{"x/y.YAML": added}},
		{"unclean paths skipped", []pushCommit{c(l("../up.yaml", "/abs.yaml", "a//b.yaml", "ok/c.yaml"), nil, nil)},
			map[string]change{"ok/c.yaml": added}},
		{"no commits", nil, map[string]change{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fold(tc.commits); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("fold = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	ints := func(entries ...map[string]any) map[string]any {
		l := make([]any, len(entries))
		for i, e := range entries {
			l[i] = e
		}
		return map[string]any{"gitea": l}
	}
	host := map[string]any{"host": "g.example"}
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"unknown integration key", map[string]any{"integrations": ints(map[string]any{"host": "g.example", "tokn": "x"})},
			`field tokn not found`},
		{"host required", map[string]any{"integrations": ints(map[string]any{"baseUrl": "https://g.example"})},
			"integrations.gitea[0].host is required"},
		{"host is not a URL", map[string]any{"integrations": ints(map[string]any{"host": "https://g.example"})},
			"integrations.gitea[0].host"},
		{"bad baseUrl", map[string]any{"integrations": ints(map[string]any{"host": "g.example", "baseUrl": "ftp://g.example"})},
			"integrations.gitea[0].baseUrl"},
		{"credentials in baseUrl", map[string]any{"integrations": ints(map[string]any{"host": "g.example", "baseUrl": "https://u:p@g.example"})},
			"integrations.gitea[0].baseUrl"},
		{"signing key", map[string]any{"integrations": ints(map[string]any{"host": "g.example", "commitSigningKey": "KEY"})},
			"integrations.gitea[0].commitSigningKey: signing commits is not supported yet"},
		{"host twice", map[string]any{"integrations": ints(host, map[string]any{"host": "G.example"})},
			"integrations.gitea[1].host: G.example is configured twice"},
		{"integrations not a list", map[string]any{"integrations": map[string]any{"gitea": map[string]any{"host": "x"}}},
			"integrations.gitea"},
		{"provider unknown key", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "g.example", "filters": "x"}}}}},
			"field filters not found"},
		{"provider organization", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"host": "g.example"}}}}},
			"catalog.providers.gitea.main.organization is required"},
		{"provider host unknown", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "other.example"}}}}},
			"catalog.providers.gitea.main.host: no integrations.gitea entry has host other.example"},
		{"provider host missing", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o"}}}}},
			"catalog.providers.gitea.main.host is required"},
		{"provider catalogPath escapes", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "g.example", "catalogPath": "../x.yaml"}}}}},
			"catalog.providers.gitea.main.catalogPath"},
		{"provider branch with slash", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "g.example", "branch": "release/1"}}}}},
			"catalog.providers.gitea.main.branch"},
		{"schedule unit", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "g.example",
				"schedule": map[string]any{"frequency": map[string]any{"minutez": 3}}}}}}},
			`catalog.providers.gitea.main.schedule.frequency: unknown duration unit "minutez"`},
		{"schedule cron", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "g.example",
				"schedule": map[string]any{"frequency": map[string]any{"cron": "* * * * *"}}}}}}},
			"schedule.frequency: cron schedules are not supported"},
		{"schedule unknown key", map[string]any{"integrations": ints(host), "catalog": map[string]any{"providers": map[string]any{
			"gitea": map[string]any{"main": map[string]any{"organization": "o", "host": "g.example",
				"schedule": map[string]any{"frequncy": "PT1M"}}}}}},
			"field frequncy not found"},
		{"events unknown key", map[string]any{"events": map[string]any{"modules": map[string]any{"gitea": map[string]any{"secret": "x"}}}},
			"field secret not found"},
		{"plugin section unknown key", map[string]any{"integrations": ints(host), "plugins": map[string]any{"git.gitea": map[string]any{"x": 1}}},
			"plugins.git.gitea"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(newEnv(tc.cfg).Env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "KEY") {
				t.Fatalf("error shows the signing key: %v", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	p := mustNew(t, map[string]any{
		"integrations": map[string]any{"gitea": []any{
			map[string]any{"host": "g.example"},
			map[string]any{"host": "h.example:3000", "baseUrl": "http://h.example:3000/gitea/"},
		}},
		"catalog": map[string]any{"providers": map[string]any{"gitea": map[string]any{
			"b": map[string]any{"organization": "acme", "host": "g.example"},
			"a": map[string]any{"organization": "ops", "host": "h.example:3000", "branch": "live", "catalogPath": "/meta/catalog.yaml",
				"schedule": map[string]any{"frequency": "PT2H", "timeout": map[string]any{"minutes": 3}, "initialDelay": "10s"}},
		}}},
		"events": map[string]any{"modules": map[string]any{"gitea": map[string]any{"webhookSecret": "x"}}},
	})
	if got := []string{p.hosts[0].baseURL(), p.hosts[1].baseURL()}; !reflect.DeepEqual(got, []string{"https://g.example", "http://h.example:3000/gitea"}) {
		t.Fatalf("base URLs = %v", got)
	}
	if len(p.providers) != 2 {
		t.Fatalf("providers = %d", len(p.providers))
	}
	a, b := p.providers[0], p.providers[1] // sorted by id
	if a.Name() != "gitea-provider:a" || a.branch != "live" || a.catalogPath != "meta/catalog.yaml" || a.Schedule() != 2*time.Hour || a.timeout != 3*time.Minute {
		t.Fatalf("provider a = %+v", a)
	}
	if b.Name() != "gitea-provider:b" || b.branchOf("trunk") != "trunk" || b.branchOf("") != "main" || b.catalogPath != "catalog-info.yaml" || b.Schedule() != 30*time.Minute {
		t.Fatalf("provider b = %+v", b)
	}
	if p.secret != "x" {
		t.Fatal("webhook secret not read")
	}
}

func TestParseURL(t *testing.T) {
	h := &host{name: "g.example:3000", base: &url.URL{Scheme: "http", Host: "g.example:3000", Path: "/git"}}
	tests := []struct {
		in   string
		want location
		err  bool
	}{
		{"http://g.example:3000/git/acme/svc/src/branch/main/catalog-info.yaml", location{"acme", "svc", "main", "catalog-info.yaml"}, false},
		{"http://g.example:3000/git/acme/svc/raw/commit/0123abc/docs/a%20b.md", location{"acme", "svc", "0123abc", "docs/a b.md"}, false},
		{"http://g.example:3000/git/acme/svc/src/tag/v1/", location{"acme", "svc", "v1", ""}, false},
		{"http://g.example:3000/git/acme/svc.git", location{"acme", "svc", "", ""}, false},
		{"http://g.example:3000/acme/svc/src/branch/main/x", location{}, true}, // outside the base path
		{"http://other:3000/git/acme/svc/src/branch/main/x", location{}, true}, // another host
		{"http://g.example:3000/git/acme/svc/blob/main/x", location{}, true},   // GitHub's form
		{"http://g.example:3000/git/acme/svc/src/branch/main/../x", location{}, true},
		{"http://g.example:3000/git/acme/svc/src/branch/main/a%2F..%2F..%2Fx", location{}, true},
		{"http://g.example:3000/git/acme", location{}, true},
		{"http://g.example:3000/git/acme/svc/src/branch", location{}, true},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.in)
		got, err := h.parse(u)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parse(%s) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func makeTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: mode, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if e.typ == tar.TypeXGlobalHeader { // what git archive writes first
			hdr = &tar.Header{Typeflag: e.typ, PAXRecords: map[string]string{"comment": "0123abc"}}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestUntar(t *testing.T) {
	arch := makeTar(t, []tarEntry{
		{name: "pax_global_header", typ: tar.TypeXGlobalHeader},
		{name: "svc/", typ: tar.TypeDir},
		{name: "svc/README.md", body: "root", typ: tar.TypeReg},
		{name: "svc/docs/", typ: tar.TypeDir},
		{name: "svc/docs/index.md", body: "# Hi", typ: tar.TypeReg},
		{name: "svc/docs/run.sh", body: "#!/bin/sh", typ: tar.TypeReg, mode: 0o755},
		{name: "svc/docs/link.md", link: "../README.md", typ: tar.TypeSymlink},
		{name: "svc/docs/sub/deep.md", body: "deep", typ: tar.TypeReg},
		{name: "svc/docsx/other.md", body: "not docs", typ: tar.TypeReg},
	})
	files, found, err := untar(bytes.NewReader(arch), "docs")
	if err != nil || !found {
		t.Fatal(found, err)
	}
	want := []reading.TreeFile{
		{Path: "index.md", Data: []byte("# Hi")},
		{Path: "run.sh", Data: []byte("#!/bin/sh"), Executable: true},
		{Path: "sub/deep.md", Data: []byte("deep")},
	}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %+v", files)
	}
	if all, _, _ := untar(bytes.NewReader(arch), ""); len(all) != 5 || all[0].Path != "README.md" {
		t.Fatalf("root files = %+v", all)
	}
	if _, found, err := untar(bytes.NewReader(arch), "nope"); err != nil || found {
		t.Fatalf("missing dir: found %v, %v", found, err)
	}
	for _, bad := range []string{"svc/../../etc/passwd", "/etc/passwd", "svc/./x", "svc//x"} {
		a := makeTar(t, []tarEntry{{name: bad, body: "x", typ: tar.TypeReg}})
		if _, _, err := untar(bytes.NewReader(a), ""); err == nil || !strings.Contains(err.Error(), "not a clean relative path") {
			t.Errorf("entry %q: err = %v", bad, err)
		}
	}
}

// TestAuthHeaders checks the two ways Backstage authenticates, against a
// local server that records them.
func TestAuthHeaders(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Write([]byte(`{"version":"1.26.0"}`))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	for _, ic := range []map[string]any{
		{"host": u.Host, "baseUrl": srv.URL, "username": "bot", "password": "pw"},
		{"host": u.Host, "baseUrl": srv.URL, "password": "tok123"},
		{"host": u.Host, "baseUrl": srv.URL},
	} {
		p := mustNew(t, map[string]any{"integrations": map[string]any{"gitea": []any{ic}}})
		if err := p.CheckHealth(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("bot:pw")), "token tok123", ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Authorization = %q, want %q", got, want)
	}
}

// pushBody is a push payload in Gitea's shape (commits newest first).
func pushBody(t *testing.T, htmlURL, ref string, total int, commits ...pushCommit) []byte {
	t.Helper()
	u, _ := url.Parse(htmlURL)
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	b, err := json.Marshal(map[string]any{
		"ref": ref, "total_commits": total, "commits": commits,
		"repository": map[string]any{"name": parts[len(parts)-1], "full_name": strings.Join(parts[len(parts)-2:], "/"),
			"html_url": htmlURL, "default_branch": "main", "owner": map[string]any{"login": parts[len(parts)-2]}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandlePush(t *testing.T) {
	p := mustNew(t, map[string]any{
		"integrations": map[string]any{"gitea": []any{map[string]any{"host": "g.example"}}},
		"catalog": map[string]any{"providers": map[string]any{"gitea": map[string]any{
			"acme": map[string]any{"organization": "Acme", "host": "g.example"}}}},
	})
	const repo = "https://g.example/acme/svc"
	ev := http.Header{"X-Gitea-Event": {"push"}}
	l := func(s ...string) []string { return s }
	tests := []struct {
		name                    string
		body                    []byte
		added, removed, refresh []string
		summary                 string
	}{
		{"catalog file added (newest commit first)",
			pushBody(t, repo, "refs/heads/main", 2,
				pushCommit{Modified: l("catalog-info.yaml", "docs/x.yml")},
				pushCommit{Added: l("catalog-info.yaml", "README.md")}),
			l("url:" + repo + "/src/branch/main/catalog-info.yaml:optional"), nil, l(repo + "/src/branch/main/docs/x.yml"),
			"push acme/svc: added 1 - removed 0 - modified 1; gitea-provider:acme added " + repo + "/src/branch/main/catalog-info.yaml; refreshed 0 locations"},
		{"added then removed across commits: nothing",
			pushBody(t, repo, "refs/heads/main", 2,
				pushCommit{Removed: l("catalog-info.yaml")},
				pushCommit{Added: l("catalog-info.yaml")}),
			nil, nil, nil, "push acme/svc: no catalog files changed"},
		{"catalog file removed",
			pushBody(t, repo, "refs/heads/main", 1, pushCommit{Removed: l("catalog-info.yaml")}),
			nil, l("url:" + repo + "/src/branch/main/catalog-info.yaml:optional"), nil,
			"push acme/svc: added 0 - removed 1 - modified 0; gitea-provider:acme removed " + repo + "/src/branch/main/catalog-info.yaml"},
		{"modified yaml refreshed without a provider",
			pushBody(t, "https://other.example/team/app", "refs/heads/main", 1, pushCommit{Modified: l("catalog-info.yaml", "go.mod")}),
			nil, nil, l("https://other.example/team/app/src/branch/main/catalog-info.yaml"),
			"push team/app: added 0 - removed 0 - modified 1; refreshed 0 locations"},
		{"other branch ignored",
			pushBody(t, repo, "refs/heads/feature", 1, pushCommit{Modified: l("catalog-info.yaml")}),
			nil, nil, nil, "push acme/svc: ignored, feature is not the default branch"},
		{"tag ignored",
			pushBody(t, repo, "refs/tags/v1", 1, pushCommit{Modified: l("catalog-info.yaml")}),
			nil, nil, nil, "push acme/svc: ignored, not a branch"},
		{"non-yaml only",
			pushBody(t, repo, "refs/heads/main", 1, pushCommit{Added: l("main.go")}),
			nil, nil, nil, "push acme/svc: no catalog files changed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := newFakeLocations()
			sum, err := p.handle(context.Background(), loc, ev, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if sum != tc.summary {
				t.Errorf("summary = %q\nwant      %q", sum, tc.summary)
			}
			added, removed, refresh := loc.snapshot()
			if !reflect.DeepEqual(added["gitea-provider:acme"], tc.added) || !reflect.DeepEqual(removed["gitea-provider:acme"], tc.removed) || !reflect.DeepEqual(refresh, tc.refresh) {
				t.Errorf("added %v removed %v refresh %v", added, removed, refresh)
			}
		})
	}
}

func TestHandleRejectsBadPayloads(t *testing.T) {
	p := mustNew(t, nil)
	ev := http.Header{"X-Gitea-Event": {"push"}}
	for name, body := range map[string]string{
		"not json":       `{`,
		"no repository":  `{"ref":"refs/heads/main"}`,
		"javascript url": `{"ref":"refs/heads/main","repository":{"name":"r","owner":{"login":"o"},"html_url":"javascript:alert(1)","default_branch":"main"}}`,
		"dotdot name":    `{"ref":"refs/heads/main","repository":{"name":"..","owner":{"login":"o"},"html_url":"https://g/o/r","default_branch":"main"}}`,
		"query in url":   `{"ref":"refs/heads/main","repository":{"name":"r","owner":{"login":"o"},"html_url":"https://g/o/r?x=1","default_branch":"main"}}`,
	} {
		if _, err := p.handle(context.Background(), newFakeLocations(), ev, []byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	sum, err := p.handle(context.Background(), newFakeLocations(), http.Header{"X-Gitea-Event": {"issues"}}, []byte(`{}`))
	if err != nil || sum != "ignored issues event" {
		t.Fatalf("issues: %q, %v", sum, err)
	}
	sum, _ = p.handle(context.Background(), newFakeLocations(), http.Header{"X-Gitea-Event": {"x\nFAKE LOG LINE"}}, []byte(`{}`))
	if sum != "ignored unnamed event" {
		t.Fatalf("summary = %q", sum)
	}
}

// TestSecretsNotShown makes every error path it can reach with a local
// server and checks that neither the password, the token, the basic
// credentials nor the webhook secret appear in an error or the log.
func TestSecretsNotShown(t *testing.T) {
	const password, token, secret = "pa55-Secret-Word", "tok-Secret-0123456789", "hook-Secret-xyz"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/raw/"):
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"user does not exist"}`))
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	u, _ := url.Parse(srv.URL)
	dead := httptest.NewServer(http.NotFoundHandler())
	du, _ := url.Parse(dead.URL)
	dead.Close()
	env := newEnv(map[string]any{
		"integrations": map[string]any{"gitea": []any{
			map[string]any{"host": u.Host, "baseUrl": srv.URL, "username": "bot", "password": password},
			map[string]any{"host": du.Host, "baseUrl": dead.URL, "password": token},
		}},
		"catalog": map[string]any{"providers": map[string]any{"gitea": map[string]any{
			"a": map[string]any{"organization": "acme", "host": u.Host}}}},
		"events": map[string]any{"modules": map[string]any{"gitea": map[string]any{"webhookSecret": secret}}},
	})
	p, err := New(env.Env)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	var errs []error
	for _, h := range p.hosts {
		fu, _ := url.Parse(h.baseURL() + "/acme/svc/src/branch/main/catalog-info.yaml")
		_, err := h.ReadURL(ctx, fu, reading.Options{})
		errs = append(errs, err)
		tu, _ := url.Parse(h.baseURL() + "/acme/svc/src/branch/main/docs")
		_, err = h.ReadTree(ctx, tu, reading.Options{})
		errs = append(errs, err)
	}
	_, err = p.providers[0].Discover(ctx)
	errs = append(errs, err, p.CheckHealth(ctx))
	errs = append(errs, p.verify(http.Header{"X-Gitea-Signature": {sign("wrong", nil)}}, []byte("x")))
	c := &action.Context{Ctx: ctx, Workspace: t.TempDir(), Input: map[string]any{"repoUrl": u.Host + "?owner=acme&repo=new"},
		Log: func(f string, a ...any) { env.Env.Log.Info("action", "line", strings.TrimSpace(f)) }}
	errs = append(errs, action.Run(p.Actions()[0], c))
	_, err = repoCard{p}.Render(ctx, entityAt("url:"+srv.URL+"/acme/svc/src/branch/main/catalog-info.yaml"), plugins.Viewer{})
	errs = append(errs, err)

	basic := base64.StdEncoding.EncodeToString([]byte("bot:" + password))
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d did not fail", i)
			continue
		}
		env.Env.Log.Error("call failed", "err", err)
		for _, s := range []string{password, token, secret, basic} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %d shows a secret: %v", i, err)
			}
		}
	}
	for _, s := range []string{password, token, secret, basic} {
		if strings.Contains(env.logs.String(), s) {
			t.Errorf("log shows a secret:\n%s", env.logs.String())
		}
	}
	if !strings.Contains(env.logs.String(), "check the credentials of integrations.gitea") {
		t.Errorf("a 401 should say which credentials to check; log:\n%s", env.logs.String())
	}
}

func TestPublishInputErrors(t *testing.T) {
	p := mustNew(t, map[string]any{"integrations": map[string]any{"gitea": []any{
		map[string]any{"host": "g.example", "username": "bot", "password": "pw"},
		map[string]any{"host": "t.example", "password": "token-only"},
	}}})
	tests := []struct {
		input map[string]any
		want  string
	}{
		{map[string]any{}, "input repoUrl is required"},
		{map[string]any{"repoUrl": "other.example?owner=o&repo=r"}, "No matching integration configuration for host other.example, please check your integrations config"},
		{map[string]any{"repoUrl": "g.example?repo=r"}, "Invalid repo URL passed to publisher: g.example?repo=r, missing owner"},
		{map[string]any{"repoUrl": "g.example?owner=o"}, "Invalid repo URL passed to publisher: g.example?owner=o, missing repo"},
		{map[string]any{"repoUrl": "g.example?owner=o/p&repo=r"}, "single names"},
		{map[string]any{"repoUrl": "t.example?owner=o&repo=r"}, "Credentials for the gitea t.example required"},
		{map[string]any{"repoUrl": "g.example?owner=o&repo=r", "signCommit": true}, "Signing commits is enabled but no signing key is provided in the configuration"},
		{map[string]any{"repoUrl": "g.example?owner=o&repo=r", "repoVisibility": "internal"}, "repoVisibility must be private or public"},
		{map[string]any{"repoUrl": "g.example?owner=o&repo=r", "defaultBranch": "-x"}, "not a branch name"},
		{map[string]any{"repoUrl": "g.example?owner=o&repo=r", "sourcePath": "../x"}, "sourcePath"},
	}
	for _, tc := range tests {
		c := &action.Context{Ctx: context.Background(), Workspace: t.TempDir(), Input: tc.input}
		err := action.Run(p.Actions()[0], c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.input, err, tc.want)
		}
	}
}

func TestCardApplies(t *testing.T) {
	p := mustNew(t, map[string]any{"integrations": map[string]any{"gitea": []any{
		map[string]any{"host": "g.example:3000", "baseUrl": "http://g.example:3000/git"}}}})
	card := p.EntityCards()[0]
	if card.Name() != "repository" || card.Title() != "Repository" {
		t.Fatalf("card %s %s", card.Name(), card.Title())
	}
	for v, want := range map[string]bool{
		"url:http://g.example:3000/git/acme/svc/src/branch/main/catalog-info.yaml": true,
		"url:http://g.example:3000/git/acme/svc":                                   true,
		"url:http://g.example:3000/acme/svc/src/branch/main/x.yaml":                false, // outside the base path
		"url:https://github.com/acme/svc/blob/main/catalog-info.yaml":              false,
		"file:/tmp/x.yaml":                       false,
		"url:http://g.example:3000/git/acme":     false,
		"url:http://g.example:3000/git/../svc/x": false,
	} {
		if got := card.Applies(entityAt(v)); got != want {
			t.Errorf("Applies(%s) = %v", v, got)
		}
	}
	if card.Applies(nil) {
		t.Error("Applies(nil)")
	}
}

// TestHandleRepository runs the repository events against a local server
// that answers the catalog file probe as Gitea does.
func TestHandleRepository(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/repos/acme/new-name/contents/catalog-info.yaml" && r.URL.Query().Get("ref") == "main" {
			w.Write([]byte(`{"type":"file"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	p := mustNew(t, map[string]any{
		"integrations": map[string]any{"gitea": []any{map[string]any{"host": u.Host, "baseUrl": srv.URL}}},
		"catalog": map[string]any{"providers": map[string]any{"gitea": map[string]any{
			"acme": map[string]any{"organization": "acme", "host": u.Host}}}},
	})
	body := func(action, name string, empty bool, extra string) []byte {
		return []byte(`{"action":"` + action + `",` + extra + `"repository":{"name":"` + name + `","full_name":"acme/` + name +
			`","html_url":"` + srv.URL + `/acme/` + name + `","default_branch":"main","empty":` + fmt.Sprint(empty) + `,"owner":{"login":"acme"}}}`)
	}
	spec := func(name string) []string {
		return []string{"url:" + srv.URL + "/acme/" + name + "/src/branch/main/catalog-info.yaml:optional"}
	}
	tests := []struct {
		name             string
		body             []byte
		added, removed   []string
		summaryHasSuffix string
	}{
		{"created empty", body("created", "new-name", true, ""), nil, nil, ": empty, nothing to add until a catalog file is pushed"},
		{"created with a catalog file", body("created", "new-name", false, ""), spec("new-name"), nil, "gitea-provider:acme added " + srv.URL + "/acme/new-name/src/branch/main/catalog-info.yaml"},
		{"created without one", body("created", "other", false, ""), nil, nil, "gitea-provider:acme: no catalog-info.yaml yet"},
		{"deleted", body("deleted", "old", false, ""), nil, spec("old"), "gitea-provider:acme removed " + srv.URL + "/acme/old/src/branch/main/catalog-info.yaml"},
		{"renamed", body("renamed", "new-name", false, `"changes":{"name":{"from":"old-name"}},`), spec("new-name"), spec("old-name"), "added " + srv.URL + "/acme/new-name/src/branch/main/catalog-info.yaml"},
		{"archived", body("archived", "x", false, ""), nil, nil, "repository archived acme/x: ignored"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := newFakeLocations()
			sum, err := p.handle(context.Background(), loc, http.Header{"X-Gitea-Event": {"repository"}}, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			added, removed, _ := loc.snapshot()
			if !strings.HasSuffix(sum, tc.summaryHasSuffix) || !reflect.DeepEqual(added["gitea-provider:acme"], tc.added) || !reflect.DeepEqual(removed["gitea-provider:acme"], tc.removed) {
				t.Fatalf("summary %q, added %v, removed %v", sum, added, removed)
			}
		})
	}
	if _, err := p.handle(context.Background(), newFakeLocations(), http.Header{"X-Gitea-Event": {"repository"}},
		body("renamed", "new-name", false, `"changes":{"name":{"from":"../x"}},`)); err == nil {
		t.Fatal("a rename from an invalid name was accepted")
	}
	sum, err := p.handle(context.Background(), newFakeLocations(), http.Header{"X-Gitea-Event": {"repository"}},
		[]byte(`{"action":"deleted","repository":{"name":"r","html_url":"https://elsewhere.example/team/r","owner":{"login":"team"}}}`))
	if err != nil || sum != "repository deleted team/r: no catalog.providers.gitea entry for team" {
		t.Fatalf("no provider: %q %v", sum, err)
	}
}

// TestReadURLRetriesEmptyAnswer keeps Backstage's retry of the empty
// answer Gitea can give for a file created a moment ago.
func TestReadURLRetriesEmptyAnswer(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.Header().Set("ETag", `"0000000000000000000000000000000000000001"`)
			return // 200, no body
		}
		w.Header().Set("ETag", `"0000000000000000000000000000000000000002"`)
		w.Write([]byte("kind: Component\n"))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	p := mustNew(t, map[string]any{"integrations": map[string]any{"gitea": []any{map[string]any{"host": u.Host, "baseUrl": srv.URL}}}})
	fu, _ := url.Parse(srv.URL + "/o/r/src/branch/main/catalog-info.yaml")
	f, err := p.hosts[0].ReadURL(context.Background(), fu, reading.Options{})
	if err != nil || string(f.Data) != "kind: Component\n" || calls != 3 {
		t.Fatalf("read %v after %d calls: %v", f, calls, err)
	}
}

// TestErrorScrubsPassword checks that a Gitea error message echoing the
// configured password does not carry it into the error.
func TestErrorScrubsPassword(t *testing.T) {
	const secret = "tok-s3cret-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"token ` + secret + ` is invalid"}`))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	p := mustNew(t, map[string]any{"integrations": map[string]any{"gitea": []any{
		map[string]any{"host": u.Host, "baseUrl": srv.URL, "password": secret}}}})
	err := p.CheckHealth(context.Background())
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "token *** is invalid") {
		t.Fatalf("err = %v", err)
	}
}
