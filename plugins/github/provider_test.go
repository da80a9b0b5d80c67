package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

func repoJSON(f *fakeGitHub, owner, name string, extra map[string]any) map[string]any {
	m := map[string]any{
		"name": name, "full_name": owner + "/" + name, "html_url": f.web(owner + "/" + name),
		"clone_url": f.srv.URL + "/git/" + owner + "/" + name + ".git", "default_branch": "main",
		"archived": false, "fork": false, "private": false, "visibility": "public", "topics": []any{},
		"owner": map[string]any{"login": owner},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func catalogConfig(f *fakeGitHub, cfg map[string]any) map[string]any {
	cfg["host"] = f.host()
	return map[string]any{"providers": map[string]any{"github": map[string]any{"main": cfg}}}
}

func targets(specs []catalog.LocationSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Type+" "+s.Presence+" "+s.Target)
	}
	return out
}

func TestDiscoverFilters(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, map[string]any{"catalog": catalogConfig(f, map[string]any{
		"organization": "acme",
		"filters": map[string]any{
			"repository": "svc-.*",
			"topic":      map[string]any{"include": []any{"backstage", "deprecated"}, "exclude": []any{"deprecated"}},
			"allowForks": false,
		},
	})})
	f.on("GET /users/acme", 200, map[string]any{"login": "acme", "type": "Organization"})
	var page1 []any
	for i := 0; i < 97; i++ { // a full page, so the provider asks for the next
		page1 = append(page1, repoJSON(f, "acme", fmt.Sprintf("other-%d", i), map[string]any{"topics": []any{"backstage"}}))
	}
	page1 = append(page1,
		repoJSON(f, "acme", "svc-a", map[string]any{"topics": []any{"backstage"}}),
		repoJSON(f, "acme", "svc-archived", map[string]any{"topics": []any{"backstage"}, "archived": true}),
		repoJSON(f, "acme", "svc-notopic", nil),
	)
	page2 := []any{
		repoJSON(f, "acme", "svc-fork", map[string]any{"topics": []any{"backstage"}, "fork": true}),
		repoJSON(f, "acme", "svc-old", map[string]any{"topics": []any{"backstage", "deprecated"}}),
		repoJSON(f, "acme", "svc-b", map[string]any{"topics": []any{"backstage"}, "default_branch": "trunk"}),
		repoJSON(f, "acme", "my-svc-c", map[string]any{"topics": []any{"backstage"}}), // the regex is anchored
	}
	f.handle("GET /orgs/acme/repos", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "1":
			writeJSON(w, page1)
		case "2":
			writeJSON(w, page2)
		default:
			writeJSON(w, []any{})
		}
	})
	pr := e.p.EntityProviders()[0]
	equal(t, "name", pr.Name(), "github-provider:main")
	specs, err := pr.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "locations", targets(specs), []string{
		"url optional " + f.web("acme/svc-a") + "/blob/main/catalog-info.yaml",
		"url optional " + f.web("acme/svc-b") + "/blob/trunk/catalog-info.yaml",
	})
	equal(t, "calls", f.routesCalled(), []string{
		"GET /users/acme",
		"GET /orgs/acme/repos?per_page=100&page=1",
		"GET /orgs/acme/repos?per_page=100&page=2",
	})
	for _, r := range f.requests() {
		equal(t, "Authorization", r.Header.Get("Authorization"), "token "+testToken)
	}
}

func TestDiscoverUserGlobArchivedVisibility(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, map[string]any{"catalog": catalogConfig(f, map[string]any{
		"organization": "jane",
		"catalogPath":  "/**/catalog-info.yaml",
		"filters":      map[string]any{"allowArchived": true, "visibility": []any{"private"}, "branch": "release"},
	})})
	f.on("GET /users/jane", 200, map[string]any{"login": "jane", "type": "User"})
	f.on("GET /users/jane/repos", 200, []any{
		repoJSON(f, "jane", "mono", map[string]any{"archived": true, "private": true, "visibility": "private"}),
		repoJSON(f, "jane", "empty", map[string]any{"private": true, "visibility": "private"}),
		repoJSON(f, "jane", "open", nil),
	})
	f.on("GET /repos/jane/mono/git/trees/release", 200, map[string]any{"truncated": false, "tree": []any{
		map[string]any{"path": "catalog-info.yaml", "type": "blob"},
		map[string]any{"path": "services", "type": "tree"},
		map[string]any{"path": "services/api/catalog-info.yaml", "type": "blob"},
		map[string]any{"path": "services/api/README.md", "type": "blob"},
		map[string]any{"path": "catalog-info.yaml.bak", "type": "blob"},
	}})
	f.on("GET /repos/jane/empty/git/trees/release", 409, map[string]any{"message": "Git Repository is empty."})
	specs, err := e.p.EntityProviders()[0].Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "locations", targets(specs), []string{
		"url optional " + f.web("jane/mono") + "/blob/release/catalog-info.yaml",
		"url optional " + f.web("jane/mono") + "/blob/release/services/api/catalog-info.yaml",
	})
	equal(t, "calls", f.routesCalled(), []string{
		"GET /users/jane",
		"GET /users/jane/repos?per_page=100&page=1",
		"GET /repos/jane/mono/git/trees/release?recursive=1",
		"GET /repos/jane/empty/git/trees/release?recursive=1",
	})
}

func TestDiscoverRefusesForeignHTMLURL(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, map[string]any{"catalog": catalogConfig(f, map[string]any{"organization": "acme"})})
	f.on("GET /users/acme", 200, map[string]any{"type": "Organization"})
	f.on("GET /orgs/acme/repos", 200, []any{
		repoJSON(f, "acme", "svc", map[string]any{"html_url": "https://evil.example.com/acme/svc"}),
	})
	specs, err := e.p.EntityProviders()[0].Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "locations", len(specs), 0)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func TestDiscoverValidateLocationsExist(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, map[string]any{"catalog": catalogConfig(f, map[string]any{"organization": "acme", "validateLocationsExist": true, "catalogPath": "/meta/catalog.yaml"})})
	f.on("GET /users/acme", 200, map[string]any{"type": "Organization"})
	f.on("GET /orgs/acme/repos", 200, []any{repoJSON(f, "acme", "has", nil), repoJSON(f, "acme", "lacks", nil)})
	f.on("GET /repos/acme/has/contents/meta/catalog.yaml", 200, map[string]any{"type": "file"})
	specs, err := e.p.EntityProviders()[0].Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "locations", targets(specs), []string{"url optional " + f.web("acme/has") + "/blob/main/meta/catalog.yaml"})
	equal(t, "contents query", f.find(t, "GET", "/repos/acme/lacks/contents/meta/catalog.yaml").Query, "ref=main")
}
