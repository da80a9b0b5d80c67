package gitea

// Tests against the real Gitea of giteatest (skipped without
// GREENROOM_GITEA). Each test works in organisations of its own on the
// shared server.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gitea/giteatest"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

const hookSecret = "hook-secret-4b1d"

// livePlugin is the plugin configured for the shared server, with a
// provider per organisation in orgs (id = organisation).
func livePlugin(t *testing.T, srv *giteatest.Server, orgs ...string) (*Plugin, testEnv) {
	t.Helper()
	provs := map[string]any{}
	for _, o := range orgs {
		provs[o] = map[string]any{"organization": o, "host": srv.Host}
	}
	cfg := map[string]any{
		"integrations": map[string]any{"gitea": []any{srv.IntegrationConfig()}},
		"events":       map[string]any{"modules": map[string]any{"gitea": map[string]any{"webhookSecret": hookSecret}}},
	}
	if len(provs) > 0 {
		cfg["catalog"] = map[string]any{"providers": map[string]any{"gitea": provs}}
	}
	env := newEnv(cfg)
	p, err := New(env.Env)
	if err != nil {
		t.Fatal(err)
	}
	return p, env
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func parseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	check(t, err)
	return u
}

func TestLiveReadURL(t *testing.T) {
	srv := gitea.Server(t)
	check(t, srv.CreateOrg("rd"))
	must[*giteatest.Repo](t)(srv.CreateRepo("rd", "svc", true))
	must[string](t)(srv.PutFile("rd", "svc", "main", "catalog-info.yaml", "kind: Component\n# v1\n", "add catalog"))
	p, env := livePlugin(t, srv)
	r := p.URLReaders()[0]
	if r.Host() != srv.Host {
		t.Fatalf("Host() = %s", r.Host())
	}
	ctx := context.Background()
	fileURL := parseURL(t, srv.URL+"/rd/svc/src/branch/main/catalog-info.yaml")

	f, err := r.ReadURL(ctx, fileURL, reading.Options{})
	check(t, err)
	if string(f.Data) != "kind: Component\n# v1\n" || !regexp.MustCompile(`^"[0-9a-f]{40}"$`).MatchString(f.ETag) {
		t.Fatalf("read %q, etag %q", f.Data, f.ETag)
	}
	// the raw endpoint answers 304 to If-None-Match
	if _, err := r.ReadURL(ctx, fileURL, reading.Options{ETag: f.ETag}); !errors.Is(err, reading.ErrNotModified) {
		t.Fatalf("unchanged read: %v", err)
	}
	// a bare SHA (the contents API's sha field) is the same tag
	if _, err := r.ReadURL(ctx, fileURL, reading.Options{ETag: strings.Trim(f.ETag, `"`)}); !errors.Is(err, reading.ErrNotModified) {
		t.Fatalf("unchanged read with a bare sha: %v", err)
	}

	must[string](t)(srv.PutFile("rd", "svc", "main", "catalog-info.yaml", "kind: Component\n# v2\n", "change catalog"))
	f2, err := r.ReadURL(ctx, fileURL, reading.Options{ETag: f.ETag})
	check(t, err)
	if string(f2.Data) != "kind: Component\n# v2\n" || f2.ETag == f.ETag || f2.ETag == "" {
		t.Fatalf("changed read %q, etag %q (was %q)", f2.Data, f2.ETag, f.ETag)
	}
	// the raw/ form and a token-only integration read the same
	tokenOnly := mustNew(t, map[string]any{"integrations": map[string]any{"gitea": []any{
		map[string]any{"host": srv.Host, "baseUrl": srv.URL + "/", "password": srv.Token}}}})
	f3, err := tokenOnly.hosts[0].ReadURL(ctx, parseURL(t, srv.URL+"/rd/svc/raw/branch/main/catalog-info.yaml"), reading.Options{})
	check(t, err)
	if !bytes.Equal(f3.Data, f2.Data) || f3.ETag != f2.ETag {
		t.Fatalf("raw form read %q %q", f3.Data, f3.ETag)
	}

	_, err = r.ReadURL(ctx, parseURL(t, srv.URL+"/rd/svc/src/branch/main/missing.yaml"), reading.Options{})
	var nf *reading.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) || nf.URL != srv.URL+"/rd/svc/src/branch/main/missing.yaml" {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := r.ReadURL(ctx, parseURL(t, srv.URL+"/rd/nope/src/branch/main/x.yaml"), reading.Options{}); !errors.As(err, &nf) {
		t.Fatalf("missing repository: %v", err)
	}

	// a really empty file is answered at once, not retried as "just created"
	must[string](t)(srv.PutFile("rd", "svc", "main", "empty.yaml", "", "empty"))
	fe, err := r.ReadURL(ctx, parseURL(t, srv.URL+"/rd/svc/src/branch/main/empty.yaml"), reading.Options{})
	check(t, err)
	if len(fe.Data) != 0 || fe.ETag != emptyBlobTag || strings.Contains(env.logs.String(), "retrying") {
		t.Fatalf("empty file: %q %q\n%s", fe.Data, fe.ETag, env.logs.String())
	}
}

func treePaths(tr *reading.Tree) map[string]string {
	m := map[string]string{}
	for _, f := range tr.Files {
		m[f.Path] = string(f.Data)
	}
	return m
}

func TestLiveReadTree(t *testing.T) {
	srv := gitea.Server(t)
	check(t, srv.CreateOrg("tree"))
	must[*giteatest.Repo](t)(srv.CreateRepo("tree", "docs", true))
	must[string](t)(srv.PutFile("tree", "docs", "main", "docs/index.md", "# Home\n", "docs"))
	must[string](t)(srv.PutFile("tree", "docs", "main", "docs/guide/start.md", "Start\n", "guide"))
	head := must[string](t)(srv.PutFile("tree", "docs", "main", "mkdocs.yml", "site_name: x\n", "mkdocs"))
	p, _ := livePlugin(t, srv)
	r := p.URLReaders()[0]
	ctx := context.Background()
	dir := parseURL(t, srv.URL+"/tree/docs/src/branch/main/docs")

	tr, err := r.ReadTree(ctx, dir, reading.Options{})
	check(t, err)
	if want := map[string]string{"index.md": "# Home\n", "guide/start.md": "Start\n"}; !reflect.DeepEqual(treePaths(tr), want) {
		t.Fatalf("tree = %v", treePaths(tr))
	}
	if tr.ETag != head {
		t.Fatalf("tree etag %q, want the head commit %q", tr.ETag, head)
	}
	if _, err := r.ReadTree(ctx, dir, reading.Options{ETag: tr.ETag}); !errors.Is(err, reading.ErrNotModified) {
		t.Fatalf("unchanged tree: %v", err)
	}
	// a commit elsewhere changes the tree's ETag (it is the commit)
	head2 := must[string](t)(srv.PutFile("tree", "docs", "main", "README.md", "changed\n", "readme"))
	tr2, err := r.ReadTree(ctx, dir, reading.Options{ETag: tr.ETag})
	check(t, err)
	if tr2.ETag != head2 || len(tr2.Files) != 2 {
		t.Fatalf("re-read tree: etag %s, %d files", tr2.ETag, len(tr2.Files))
	}
	// the repository URL reads the default branch's whole tree
	whole, err := r.ReadTree(ctx, parseURL(t, srv.URL+"/tree/docs"), reading.Options{})
	check(t, err)
	if got := treePaths(whole); got["README.md"] != "changed\n" || got["docs/index.md"] != "# Home\n" || got["mkdocs.yml"] != "site_name: x\n" || whole.ETag != head2 {
		t.Fatalf("whole tree = %v (%s)", got, whole.ETag)
	}
	// a commit ref reads that commit
	old, err := r.ReadTree(ctx, parseURL(t, srv.URL+"/tree/docs/src/commit/"+head+"/"), reading.Options{})
	check(t, err)
	if treePaths(old)["README.md"] == "changed\n" || old.ETag != head {
		t.Fatalf("tree at %s = %v", head, treePaths(old))
	}
	var nf *reading.NotFoundError
	if _, err := r.ReadTree(ctx, parseURL(t, srv.URL+"/tree/docs/src/branch/main/nope"), reading.Options{}); !errors.As(err, &nf) {
		t.Fatalf("missing dir: %v", err)
	}
	if _, err := r.ReadTree(ctx, parseURL(t, srv.URL+"/tree/docs/src/branch/nobranch/docs"), reading.Options{}); !errors.As(err, &nf) {
		t.Fatalf("missing branch: %v", err)
	}
}

func TestLiveDiscover(t *testing.T) {
	srv := gitea.Server(t)
	check(t, srv.CreateOrg("disc"))
	must[*giteatest.Repo](t)(srv.CreateRepo("disc", "empty", false))
	must[*giteatest.Repo](t)(srv.CreateRepo("disc", "nocat", true))
	for _, name := range []string{"svc-a", "svc-b"} {
		must[*giteatest.Repo](t)(srv.CreateRepo("disc", name, true))
		must[string](t)(srv.PutFile("disc", name, "main", "catalog-info.yaml", "kind: Component\n", "catalog"))
	}
	must[*giteatest.Repo](t)(srv.CreateRepo("disc", "elsewhere", true))
	must[string](t)(srv.PutFile("disc", "elsewhere", "main", "meta/catalog-info.yaml", "kind: Component\n", "catalog"))
	// another organisation's repository is not discovered
	check(t, srv.CreateOrg("disc2"))
	must[*giteatest.Repo](t)(srv.CreateRepo("disc2", "svc-c", true))
	must[string](t)(srv.PutFile("disc2", "svc-c", "main", "catalog-info.yaml", "kind: Component\n", "catalog"))

	p, _ := livePlugin(t, srv, "disc")
	provs := p.EntityProviders()
	if len(provs) != 1 || provs[0].Name() != "gitea-provider:disc" || provs[0].Schedule() != 30*time.Minute {
		t.Fatalf("providers = %v", provs)
	}
	p.providers[0].pageSize = 2 // five repositories: three pages and an empty one
	got, err := provs[0].Discover(context.Background())
	check(t, err)
	sort.Slice(got, func(i, j int) bool { return got[i].Target < got[j].Target })
	want := []catalog.LocationSpec{
		{Type: "url", Target: srv.URL + "/disc/svc-a/src/branch/main/catalog-info.yaml", Presence: "optional"},
		{Type: "url", Target: srv.URL + "/disc/svc-b/src/branch/main/catalog-info.yaml", Presence: "optional"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("discovered %+v\nwant %+v", got, want)
	}
	// the provider's catalogPath
	p2 := mustNew(t, map[string]any{
		"integrations": map[string]any{"gitea": []any{srv.IntegrationConfig()}},
		"catalog": map[string]any{"providers": map[string]any{"gitea": map[string]any{
			"meta": map[string]any{"organization": "disc", "host": srv.Host, "catalogPath": "meta/catalog-info.yaml"}}}},
	})
	got, err = p2.EntityProviders()[0].Discover(context.Background())
	check(t, err)
	if len(got) != 1 || got[0].Target != srv.URL+"/disc/elsewhere/src/branch/main/meta/catalog-info.yaml" {
		t.Fatalf("catalogPath discovery = %+v", got)
	}
	// a missing organisation is an error, not an empty (full) result
	p3 := mustNew(t, map[string]any{
		"integrations": map[string]any{"gitea": []any{srv.IntegrationConfig()}},
		"catalog": map[string]any{"providers": map[string]any{"gitea": map[string]any{
			"x": map[string]any{"organization": "no-such-org", "host": srv.Host}}}},
	})
	if _, err := p3.EntityProviders()[0].Discover(context.Background()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing org: %v", err)
	}
}

// delivery is one webhook delivery as the test receiver saw it.
type delivery struct {
	event   string
	summary string
	err     error // Verify's or Handle's
	refused bool
}

// receiver is a webhook endpoint on 127.0.0.1 that runs the plugin's
// Verify and Handle, as the host's /api/events/http/gitea does.
func receiver(t *testing.T, p *Plugin, loc plugins.Locations) (string, <-chan delivery) {
	t.Helper()
	wh := p.Webhooks()[0]
	if wh.Topic != "gitea" {
		t.Fatalf("topic %q", wh.Topic)
	}
	ch := make(chan delivery, 50)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{event: r.Header.Get("X-Gitea-Event")}
		if err := wh.Verify(r.Header, body); err != nil {
			d.err, d.refused = err, true
			w.WriteHeader(http.StatusForbidden)
			ch <- d
			return
		}
		d.summary, d.err = wh.Handle(r.Context(), loc, r.Header, body)
		w.WriteHeader(http.StatusAccepted)
		ch <- d
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/events/http/gitea", ch
}

func next(t *testing.T, ch <-chan delivery, event string) delivery {
	t.Helper()
	for {
		select {
		case d := <-ch:
			if d.event != event {
				t.Logf("skipping %s delivery: %s %v", d.event, d.summary, d.err)
				continue
			}
			return d
		case <-time.After(60 * time.Second): // a bound on waiting, not a timing assertion
			t.Fatalf("no %s delivery from Gitea", event)
		}
	}
}

func TestLiveWebhook(t *testing.T) {
	srv := gitea.Server(t)
	check(t, srv.CreateOrg("hook"))
	must[*giteatest.Repo](t)(srv.CreateRepo("hook", "svc", true))
	p, env := livePlugin(t, srv, "hook")
	loc := newFakeLocations()
	target, ch := receiver(t, p, loc)
	must[int64](t)(srv.CreateWebhook("hook", "svc", target, hookSecret, []string{"push"}))
	catalogURL := srv.URL + "/hook/svc/src/branch/main/catalog-info.yaml"
	spec := "url:" + catalogURL + ":optional"

	// a catalog file pushed: the provider's location is added
	must[string](t)(srv.PutFile("hook", "svc", "main", "catalog-info.yaml", "kind: Component\n", "add catalog"))
	d := next(t, ch, "push")
	check(t, d.err)
	added, removed, refresh := loc.snapshot()
	if !reflect.DeepEqual(added, map[string][]string{"gitea-provider:hook": {spec}}) || len(removed) != 0 || len(refresh) != 0 {
		t.Fatalf("after add: added %v removed %v refresh %v (%s)", added, removed, refresh, d.summary)
	}
	if want := "push hook/svc: added 1 - removed 0 - modified 0; gitea-provider:hook added " + catalogURL; d.summary != want {
		t.Fatalf("summary %q\nwant    %q", d.summary, want)
	}

	// modified: refreshed
	loc.reset()
	loc.refreshN = 1
	must[string](t)(srv.PutFile("hook", "svc", "main", "catalog-info.yaml", "kind: Component\n# 2\n", "change catalog"))
	d = next(t, ch, "push")
	check(t, d.err)
	if added, _, refresh = loc.snapshot(); len(added) != 0 || !reflect.DeepEqual(refresh, []string{catalogURL}) || !strings.HasSuffix(d.summary, "refreshed 1 location") {
		t.Fatalf("after modify: added %v refresh %v (%s)", added, refresh, d.summary)
	}

	// several commits in one git push, newest first in Gitea's payload:
	// x.yaml added then removed is no change, the catalog file modified
	loc.reset()
	gitPush(t, srv, "hook", "svc", func(dir string, commit func(string)) {
		write(t, filepath.Join(dir, "x.yaml"), "kind: API\n")
		commit("add x")
		os.Remove(filepath.Join(dir, "x.yaml"))
		write(t, filepath.Join(dir, "catalog-info.yaml"), "kind: Component\n# 3\n")
		commit("remove x, change catalog")
	})
	d = next(t, ch, "push")
	check(t, d.err)
	if added, removed, refresh = loc.snapshot(); len(added)+len(removed) != 0 || !reflect.DeepEqual(refresh, []string{catalogURL}) {
		t.Fatalf("after two commits: added %v removed %v refresh %v (%s)", added, removed, refresh, d.summary)
	}

	// more commits than Gitea puts in the payload: the catalog file is
	// probed and re-added, and the locations reading it refreshed
	loc.reset()
	gitPush(t, srv, "hook", "svc", func(dir string, commit func(string)) {
		for i := range 7 {
			write(t, filepath.Join(dir, "n.txt"), fmt.Sprint(i))
			commit(fmt.Sprint("commit ", i))
		}
	})
	d = next(t, ch, "push")
	check(t, d.err)
	added, _, refresh = loc.snapshot()
	if !reflect.DeepEqual(added, map[string][]string{"gitea-provider:hook": {spec}}) || !reflect.DeepEqual(refresh, []string{catalogURL}) ||
		!strings.Contains(d.summary, "5 of 7 commits in the payload") {
		t.Fatalf("truncated push: added %v refresh %v (%s)", added, refresh, d.summary)
	}

	// a push to another branch is ignored
	loc.reset()
	gitPush(t, srv, "hook", "svc", func(dir string, commit func(string)) {
		write(t, filepath.Join(dir, "catalog-info.yaml"), "kind: Component\n# feature\n")
		commit("feature")
	}, "feature")
	d = next(t, ch, "push")
	if added, _, refresh = loc.snapshot(); d.err != nil || len(added)+len(refresh) != 0 || d.summary != "push hook/svc: ignored, feature is not the default branch" {
		t.Fatalf("feature push: %v %v %q %v", added, refresh, d.summary, d.err)
	}

	// removed: the provider's location goes
	loc.reset()
	must[string](t)(srv.DeleteFile("hook", "svc", "main", "catalog-info.yaml", "remove catalog"))
	d = next(t, ch, "push")
	check(t, d.err)
	if _, removed, _ = loc.snapshot(); !reflect.DeepEqual(removed, map[string][]string{"gitea-provider:hook": {spec}}) {
		t.Fatalf("after remove: removed %v (%s)", removed, d.summary)
	}

	// a delivery signed with another secret is refused before Handle
	must[*giteatest.Repo](t)(srv.CreateRepo("hook", "forged", true))
	must[int64](t)(srv.CreateWebhook("hook", "forged", target, "not-the-secret", []string{"push"}))
	loc.reset()
	must[string](t)(srv.PutFile("hook", "forged", "main", "catalog-info.yaml", "kind: Component\n", "add catalog"))
	d = next(t, ch, "push")
	if !d.refused || d.err == nil || !strings.Contains(d.err.Error(), "invalid signature") {
		t.Fatalf("forged delivery: refused %v, %v", d.refused, d.err)
	}
	if added, removed, refresh = loc.snapshot(); len(added)+len(removed)+len(refresh) != 0 {
		t.Fatalf("a refused delivery reached the catalog: %v %v %v", added, removed, refresh)
	}

	// repository events come from the organisation's hook
	must[int64](t)(srv.CreateOrgWebhook("hook", target, hookSecret, []string{"repository"}))
	loc.reset()
	must[*giteatest.Repo](t)(srv.CreateRepo("hook", "fresh", false))
	d = next(t, ch, "repository")
	if d.err != nil || d.summary != "repository created hook/fresh: empty, nothing to add until a catalog file is pushed" {
		t.Fatalf("created: %q %v", d.summary, d.err)
	}
	check(t, srv.DeleteRepo("hook", "forged"))
	d = next(t, ch, "repository")
	check(t, d.err)
	if _, removed, _ = loc.snapshot(); !reflect.DeepEqual(removed, map[string][]string{
		"gitea-provider:hook": {"url:" + srv.URL + "/hook/forged/src/branch/main/catalog-info.yaml:optional"}}) {
		t.Fatalf("deleted: removed %v (%s)", removed, d.summary)
	}
	if strings.Contains(env.logs.String(), hookSecret) {
		t.Fatal("the log shows the webhook secret")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	check(t, os.WriteFile(path, []byte(content), 0o644))
}

// gitPush clones a repository, lets edit make commits and pushes them
// in one push (to branch, default main).
func gitPush(t *testing.T, srv *giteatest.Server, org, repo string, edit func(dir string, commit func(msg string)), branch ...string) {
	t.Helper()
	dir := t.TempDir()
	env := append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "http.extraHeader=Authorization: token " + srv.Token}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	git("clone", "-q", srv.URL+"/"+org+"/"+repo+".git", ".")
	if len(branch) > 0 {
		git("checkout", "-q", "-b", branch[0])
	}
	edit(dir, func(msg string) {
		git("add", "-A")
		git("commit", "-q", "-m", msg)
	})
	git("push", "-q", "origin", "HEAD")
}

func TestLivePublish(t *testing.T) {
	srv := gitea.Server(t)
	check(t, srv.CreateOrg("pub"))
	p, env := livePlugin(t, srv)
	ws := t.TempDir()
	check(t, os.MkdirAll(filepath.Join(ws, "out", "docs"), 0o755))
	write(t, filepath.Join(ws, "out", "catalog-info.yaml"), "kind: Component\n")
	write(t, filepath.Join(ws, "out", "docs", "index.md"), "# Docs\n")
	outputs := map[string]any{}
	var logs []string
	c := &action.Context{Ctx: context.Background(), Workspace: ws,
		Input: map[string]any{"repoUrl": srv.Host + "?owner=pub&repo=new-svc", "description": "A new service",
			"sourcePath": "out", "defaultBranch": "trunk", "repoVisibility": "private", "gitCommitMessage": "Scaffolded"},
		Output: func(k string, v any) { outputs[k] = v },
		Log:    func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	act := p.Actions()[0]
	if act.ID() != "publish:gitea" {
		t.Fatal(act.ID())
	}
	check(t, action.Run(act, c))
	hash, _ := outputs["commitHash"].(string)
	if outputs["remoteUrl"] != srv.URL+"/pub/new-svc.git" || outputs["repoContentsUrl"] != srv.URL+"/pub/new-svc/src/branch/trunk/" || len(hash) != 40 {
		t.Fatalf("outputs = %v", outputs)
	}
	var repo struct {
		giteatest.Repo
		Private     bool   `json:"private"`
		Description string `json:"description"`
	}
	check(t, srv.Do(context.Background(), http.MethodGet, "/repos/pub/new-svc", nil, &repo))
	if !repo.Private || repo.Description != "A new service" || repo.DefaultBranch != "trunk" || repo.Empty {
		t.Fatalf("created repository = %+v", repo)
	}
	var cm struct {
		SHA    string `json:"sha"`
		Commit struct {
			Message string `json:"message"`
			Author  struct{ Name, Email string }
		} `json:"commit"`
	}
	check(t, srv.Do(context.Background(), http.MethodGet, "/repos/pub/new-svc/git/commits/trunk", nil, &cm))
	if cm.SHA != hash || !regexp.MustCompile(`^Scaffolded\n\nChange-Id: I[0-9a-f]{40}\n?$`).MatchString(cm.Commit.Message) || cm.Commit.Author.Name != "Scaffolder" {
		t.Fatalf("commit = %+v", cm)
	}
	// the pushed files are there, read back through the plugin's reader
	f, err := p.hosts[0].ReadURL(context.Background(), parseURL(t, srv.URL+"/pub/new-svc/src/branch/trunk/docs/index.md"), reading.Options{})
	check(t, err)
	if string(f.Data) != "# Docs\n" {
		t.Fatalf("docs/index.md = %q", f.Data)
	}

	// again: the repository exists now
	err = action.Run(act, &action.Context{Ctx: context.Background(), Workspace: ws, Input: c.Input})
	if err == nil || !strings.Contains(err.Error(), "Unable to create repository, 409 Conflict") {
		t.Fatalf("second publish: %v", err)
	}
	// an organisation that does not exist
	err = action.Run(act, &action.Context{Ctx: context.Background(), Workspace: ws,
		Input: map[string]any{"repoUrl": srv.Host + "?owner=ghost&repo=x"}})
	if err == nil || err.Error() != "Organization ghost do not exist. Please create it first !" {
		t.Fatalf("missing org: %v", err)
	}
	for _, l := range append(logs, env.logs.String()) {
		if strings.Contains(l, srv.AdminPassword) {
			t.Fatalf("a log line shows the password: %s", l)
		}
	}
}

func TestLiveCard(t *testing.T) {
	srv := gitea.Server(t)
	check(t, srv.CreateOrg("card"))
	must[*giteatest.Repo](t)(srv.CreateRepo("card", "svc", true))
	head := must[string](t)(srv.PutFile("card", "svc", "main", "catalog-info.yaml", "kind: Component\n", "Add the catalog file\n\nwith a body"))
	must[*giteatest.Repo](t)(srv.CreateRepo("card", "bare", false))
	p, _ := livePlugin(t, srv)
	card := p.EntityCards()[0]
	e := entityAt("url:" + srv.URL + "/card/svc/src/branch/main/catalog-info.yaml")
	if !card.Applies(e) {
		t.Fatal("card does not apply")
	}
	comp, err := card.Render(context.Background(), e, plugins.Viewer{})
	check(t, err)
	var buf bytes.Buffer
	check(t, comp.Render(context.Background(), &buf))
	html := buf.String()
	for _, want := range []string{
		`<a href="` + srv.URL + `/card/svc" rel="noopener">card/svc</a>`,
		"<code>main</code>",
		`<a href="` + srv.URL + `/card/svc/commit/` + head + `" rel="noopener"><code>` + head[:7] + `</code></a>`,
		"Add the catalog file",
		"by gitadmin",
		`<a href="` + srv.URL + `/card/svc/pulls" rel="noopener" class="open-changes">0</a>`,
		"Open pull requests",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("card lacks %s\n%s", want, html)
		}
	}
	if strings.Contains(html, "with a body") {
		t.Error("the card shows more than the commit's first line")
	}
	comp, err = card.Render(context.Background(), entityAt("url:"+srv.URL+"/card/bare/src/branch/main/catalog-info.yaml"), plugins.Viewer{})
	check(t, err)
	buf.Reset()
	check(t, comp.Render(context.Background(), &buf))
	if !strings.Contains(buf.String(), "No commits yet") {
		t.Errorf("empty repository card:\n%s", buf.String())
	}
	_, err = card.Render(context.Background(), entityAt("url:"+srv.URL+"/card/gone/src/branch/main/catalog-info.yaml"), plugins.Viewer{})
	if err == nil || err.Error() != "Gitea at "+srv.Host+" has no repository card/gone, or the integration's credentials cannot see it" {
		t.Fatalf("missing repository: %v", err)
	}
}

func TestLiveHealthAndBadCredentials(t *testing.T) {
	srv := gitea.Server(t)
	p, _ := livePlugin(t, srv)
	check(t, p.CheckHealth(context.Background()))

	check(t, srv.CreateOrg("priv"))
	check(t, srv.Do(context.Background(), http.MethodPost, "/orgs/priv/repos", map[string]any{"name": "secret", "private": true, "auto_init": true}, nil))
	const wrong = "wrong-Password-77"
	env := newEnv(map[string]any{"integrations": map[string]any{"gitea": []any{
		map[string]any{"host": srv.Host, "baseUrl": srv.URL, "username": srv.AdminUser, "password": wrong}}}})
	bad, err := New(env.Env)
	check(t, err)
	_, err = bad.hosts[0].ReadURL(context.Background(), parseURL(t, srv.URL+"/priv/secret/src/branch/main/README.md"), reading.Options{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "check the credentials of integrations.gitea for "+srv.Host) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("wrong password: %v", err)
	}
}
