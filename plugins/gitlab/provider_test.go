package gitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

func proj(f *fakeGitLab, path, defaultBranch string, extra map[string]any) map[string]any {
	m := map[string]any{"id": len(path), "path_with_namespace": path, "default_branch": defaultBranch,
		"web_url": f.url() + "/" + path, "archived": false, "topics": []string{"backstage"}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestDiscoverGroup(t *testing.T) {
	f := newFake(t)
	page1 := []map[string]any{
		proj(f, "team/svc-a", "main", nil),
		proj(f, "team/sub/svc-b", "", nil), // no default branch: fallbackBranch
		proj(f, "team/forked", "main", map[string]any{"forked_from_project": map[string]any{"id": 1}}),
		proj(f, "team/old", "main", map[string]any{"archived": true}),
	}
	page2 := []map[string]any{
		proj(f, "team/excluded", "main", nil),
		proj(f, "team/untagged", "main", map[string]any{"topics": []string{}}),
		proj(f, "team/nofile", "main", nil),
		proj(f, "team/lib-x", "main", nil), // outside projectPattern
		proj(f, "other/svc", "main", nil),  // outside the group
	}
	f.handle("GET /api/v4/groups/team/projects", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "2" {
			w.Header().Set("X-Next-Page", "")
			_ = json.NewEncoder(w).Encode(page2)
			return
		}
		w.Header().Set("X-Next-Page", "2")
		_ = json.NewEncoder(w).Encode(page1)
	})
	for _, p := range []string{"team%2Fsvc-a", "team%2Fsub%2Fsvc-b", "team%2Fnofile-not"} {
		f.json("HEAD /api/v4/projects/"+p+"/repository/files/catalog-info.yaml", 200, nil)
	}
	pl, _ := newPlugin(t, f, baseConfig+`
catalog:
  providers:
    gitlab:
      main:
        host: "{{HOST}}"
        group: team
        fallbackBranch: trunk
        projectPattern: '^team/(svc|sub|forked|old|excluded|untagged|nofile)'
        skipForkedRepos: true
        excludeRepos: [team/excluded]
        topics: [backstage]
`)
	provs := pl.EntityProviders()
	if len(provs) != 1 || provs[0].Name() != "gitlab-provider:main" {
		t.Fatalf("providers %v", provs)
	}
	specs, err := provs[0].Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.LocationSpec{
		{Type: "url", Target: f.url() + "/team/svc-a/-/blob/main/catalog-info.yaml", Presence: "optional"},
		{Type: "url", Target: f.url() + "/team/sub/svc-b/-/blob/trunk/catalog-info.yaml", Presence: "optional"},
	}
	if len(specs) != len(want) || specs[0] != want[0] || specs[1] != want[1] {
		t.Fatalf("specs %+v\nwant %+v", specs, want)
	}
	calls := f.calls()
	wantLists := []string{
		"GET /api/v4/groups/team/projects?archived=false&include_subgroups=true&page=1&per_page=100&topic=backstage",
		"GET /api/v4/groups/team/projects?archived=false&include_subgroups=true&page=2&per_page=100&topic=backstage",
	}
	if calls[0] != wantLists[0] || calls[1] != wantLists[1] {
		t.Errorf("list calls %v", calls[:2])
	}
	probes := map[string]bool{}
	for _, c := range calls[2:] {
		probes[c] = true
	}
	wantProbes := []string{
		"HEAD /api/v4/projects/team%2Fsvc-a/repository/files/catalog-info.yaml?ref=main",
		"HEAD /api/v4/projects/team%2Fsub%2Fsvc-b/repository/files/catalog-info.yaml?ref=trunk",
		"HEAD /api/v4/projects/team%2Fnofile/repository/files/catalog-info.yaml?ref=main",
	}
	if len(probes) != len(wantProbes) {
		t.Errorf("probes %v", calls[2:])
	}
	for _, w := range wantProbes {
		if !probes[w] {
			t.Errorf("missing probe %s in %v", w, calls[2:])
		}
	}
	head := f.find(t, "HEAD", "/api/v4/projects/team%2Fsvc-a/repository/files/catalog-info.yaml")
	if head.Header.Get("PRIVATE-TOKEN") != testToken {
		t.Errorf("probe headers %v", head.Header)
	}
}

func TestDiscoverInstanceWithoutPaginationHeaders(t *testing.T) {
	f := newFake(t)
	f.handle("GET /api/v4/projects", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("page") {
		case "1":
			_ = json.NewEncoder(w).Encode([]map[string]any{proj(f, "a/one", "main", nil)})
		case "2":
			_ = json.NewEncoder(w).Encode([]map[string]any{proj(f, "b/two", "dev", map[string]any{"archived": true})})
		default:
			_, _ = w.Write([]byte("[]"))
		}
	})
	f.json("HEAD /api/v4/projects/a%2Fone/repository/files/.backstage%2Fcatalog.yaml", 200, nil)
	f.json("HEAD /api/v4/projects/b%2Ftwo/repository/files/.backstage%2Fcatalog.yaml", 200, nil)
	pl, _ := newPlugin(t, f, baseConfig+`
catalog:
  providers:
    gitlab:
      all:
        host: "{{HOST}}"
        branch: release
        catalogFile: .backstage/catalog.yaml
        includeArchivedRepos: true
`)
	specs, err := pl.EntityProviders()[0].Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	if len(calls) != 5 || calls[0] != "GET /api/v4/projects?page=1&per_page=100" || calls[2] != "GET /api/v4/projects?page=3&per_page=100" {
		t.Errorf("calls %v", calls)
	}
	if strings.Join(calls[3:], ",") != "HEAD /api/v4/projects/a%2Fone/repository/files/.backstage%2Fcatalog.yaml?ref=release,HEAD /api/v4/projects/b%2Ftwo/repository/files/.backstage%2Fcatalog.yaml?ref=release" &&
		strings.Join(calls[3:], ",") != "HEAD /api/v4/projects/b%2Ftwo/repository/files/.backstage%2Fcatalog.yaml?ref=release,HEAD /api/v4/projects/a%2Fone/repository/files/.backstage%2Fcatalog.yaml?ref=release" {
		t.Errorf("probes %v", calls[3:])
	}
	if len(specs) != 2 || specs[0].Target != f.url()+"/a/one/-/blob/release/.backstage/catalog.yaml" ||
		specs[1].Target != f.url()+"/b/two/-/blob/release/.backstage/catalog.yaml" {
		t.Errorf("specs %+v", specs)
	}
}

func TestDiscoverProbeFailureFailsTheRun(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/projects", 200, []map[string]any{proj(f, "a/one", "main", nil)}, "X-Next-Page", "")
	f.json("HEAD /api/v4/projects/a%2Fone/repository/files/catalog-info.yaml", 502, nil)
	pl, _ := newPlugin(t, f, baseConfig+"catalog: {providers: {gitlab: {x: {host: '{{HOST}}'}}}}")
	_, err := pl.EntityProviders()[0].Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "gitlab-provider:x: probing catalog-info.yaml in a/one") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("error %v", err)
	}
	noSecret(t, "error", err.Error())
}
