package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/scaffolder/service"
	"github.com/greenroom-dev/greenroom/web"
)

// newServer ingests the files (root: all.yaml) and serves the pages.
func newServer(t testing.TB, files map[string]string) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, "catalog", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return serve(t, dir, filepath.Join(dir, "catalog", "all.yaml"))
}

func serve(t testing.TB, dir, root string) *httptest.Server {
	t.Helper()
	c := ingesttest.Ingest(t, dir, root)
	st, eng := c.Store, c.Engine
	scaff, _, err := service.Open(st, eng, service.Config{DataDir: filepath.Join(dir, "scaffolder"), LocalGitHosts: []string{"git.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scaff.Close() })
	hs := httptest.NewServer((&web.Server{Catalog: st, Ingester: eng, Scaffolder: scaff}).Handler())
	t.Cleanup(hs.Close)
	return hs
}

func get(t testing.TB, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const smallCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  title: Billing service
  description: Sends the invoices.
  tags: [go]
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: money
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: money
spec:
  owner: team-a
`

func TestPagesHeaders(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": smallCatalog})
	for _, path := range []string{"/", "/catalog", "/catalog?kind=group", "/api-docs", "/catalog/default/component/billing",
		"/catalog/default/component/billing/inspect", "/catalog/default/group/team-a", "/catalog-import", "/locations", "/docs", "/create", "/docs?q=bill&page=2"} {
		resp, body := get(t, hs.URL+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: content type %q", path, ct)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if !strings.HasPrefix(body, "<!doctype html>") {
			t.Errorf("%s: not a whole page: %.80s", path, body)
		}
	}
	for _, path := range []string{"/catalog/default/component/nothing", "/catalog/default/component/billing/definition", "/nowhere"} {
		resp, body := get(t, hs.URL+path)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Not found") {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
}

func TestStaticAssetsCached(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": smallCatalog})
	_, page := get(t, hs.URL+"/catalog")
	m := regexp.MustCompile(`href="(/static/css/greenroom.css\?v=([0-9a-f]+))"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no versioned stylesheet link")
	}
	resp, body := get(t, hs.URL+m[1])
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") || len(body) == 0 {
		t.Errorf("stylesheet: %q, %d bytes", ct, len(body))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("versioned asset cache-control %q", cc)
	}
	resp, _ = get(t, hs.URL+"/static/js/greenroom.js")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=86400" {
		t.Errorf("unversioned asset cache-control %q", cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("script content type %q", ct)
	}
}

// htmx asks for the part it swaps; the same URL without it is a page.
func TestCatalogFragments(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": smallCatalog})
	resp, body := get(t, hs.URL+"/catalog?kind=component&type=service", "HX-Request", "true", "HX-Target", "results")
	if !strings.HasPrefix(body, `<section id="results"`) || strings.Contains(body, "<html") || !strings.Contains(body, "Billing service") {
		t.Errorf("results fragment: %.200s", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("fragment content type %q", ct)
	}
	if v := resp.Header.Get("Vary"); !strings.Contains(v, "HX-Request") {
		t.Errorf("Vary %q", v)
	}
	_, body = get(t, hs.URL+"/catalog?kind=group", "HX-Request", "true", "HX-Target", "catalog-view")
	if !strings.HasPrefix(body, `<div id="catalog-view"`) || !strings.Contains(body, "team-a") {
		t.Errorf("view fragment: %.200s", body)
	}
	_, body = get(t, hs.URL+"/catalog?kind=component", "HX-Request", "true", "HX-Target", "results", "HX-History-Restore-Request", "true")
	if !strings.HasPrefix(body, "<!doctype html>") {
		t.Errorf("history restore got a fragment: %.80s", body)
	}
}

func TestCatalogFilters(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": smallCatalog})
	cases := map[string]bool{ // query → billing listed
		"kind=component":                            true,
		"kind=component&type=service":               true,
		"kind=component&type=website":               false,
		"kind=component&owner=team-a":               true,
		"kind=component&owner=group:default/team-a": true,
		"kind=component&owner=team-b":               false,
		"kind=component&tag=go":                     true,
		"kind=component&tag=rust":                   false,
		"kind=component&lifecycle=production":       true,
		"kind=&q=BILLING":                           true,
		"kind=&q=invoices":                          false, // descriptions are the search page's
		"kind=&q=nothing-like-it":                   false,
		"kind=group":                                false,
		"kind=component&page=2":                     false,
		"kind=component&sort=-owner&size=1000":      true,
	}
	for q, want := range cases {
		_, body := get(t, hs.URL+"/catalog?"+q, "HX-Request", "true", "HX-Target", "results")
		if got := strings.Contains(body, `href="/catalog/default/component/billing"`); got != want {
			t.Errorf("%s: billing listed %v, want %v", q, got, want)
		}
	}
	_, body := get(t, hs.URL+"/catalog?kind=component&q="+strings.Repeat("x", 300))
	if !strings.Contains(body, "matches at most") {
		t.Error("an over-long text filter gives no message")
	}
}

// The catalog page stays small whatever the entities hold: long
// descriptions and titles, many tags, thousands of owners and types.
func TestCatalogPageSizeBounded(t *testing.T) {
	var b strings.Builder
	long := strings.Repeat("word ", 2000)
	for i := range 400 {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c%d\n  title: %q\n  description: %q\n  tags: [", i, strings.Repeat("T", 150)+fmt.Sprint(i), long)
		for j := range 40 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "tag-%d-%d", i, j)
		}
		fmt.Fprintf(&b, "]\n  links:\n    - url: https://example.com/%d\n      title: %q\nspec:\n  type: type-%d\n  lifecycle: life-%d\n  owner: owner-%d\n  system: system-%d\n", i, long, i, i, i, i)
	}
	hs := newServer(t, map[string]string{"all.yaml": b.String()})
	for _, q := range []string{"kind=component&size=100", "kind=&size=100000", "kind=component&size=100&page=2"} {
		resp, body := get(t, hs.URL+"/catalog?"+q)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", q, resp.StatusCode)
		}
		if len(body) > 200<<10 {
			t.Errorf("%s: catalog page is %d KB", q, len(body)>>10)
		}
		if rows := strings.Count(body, "<tr>") - 1; rows != 100 {
			t.Errorf("%s: %d rows", q, rows)
		}
		t.Logf("%s: %d KB", q, len(body)>>10)
	}
}

// Forms post only from the portal's own pages.
func TestCrossSitePostRefused(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": smallCatalog})
	form := url.Values{"target": {"https://example.com/catalog-info.yaml"}, "action": {"register"}}
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/catalog-import", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://elsewhere.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: status %d", resp.StatusCode)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// A group's page lists what it owns itself and through every group below
// it, however deep; a cycle in the hierarchy does no harm.
func TestGroupOwnershipThroughChildGroups(t *testing.T) {
	group := func(name, parent string) string {
		p := ""
		if parent != "" {
			p = "\n  parent: " + parent
		}
		return fmt.Sprintf("---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  type: team\n  children: []%s\n", name, p)
	}
	comp := func(name, owner string) string {
		return fmt.Sprintf("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n", name, owner)
	}
	cat := group("dept", "") + group("team-a", "dept") + group("squad-a1", "team-a") + group("loop-x", "loop-y") + group("loop-y", "loop-x") +
		comp("own-dept", "dept") + comp("own-team", "team-a") + comp("own-squad", "squad-a1") + comp("elsewhere", "loop-x")
	hs := newServer(t, map[string]string{"all.yaml": cat})
	_, body := get(t, hs.URL+"/catalog/default/group/dept")
	for _, want := range []string{"own-dept", "own-team", "own-squad", "through 2 child groups"} {
		if !strings.Contains(body, want) {
			t.Errorf("dept page lacks %q", want)
		}
	}
	if strings.Contains(body, "elsewhere") {
		t.Error("dept page lists an entity of an unrelated group")
	}
	_, body = get(t, hs.URL+"/catalog/default/group/team-a")
	owned := body[strings.Index(body, `id="owned"`):strings.Index(body, `id="relations"`)]
	if strings.Contains(owned, "own-dept") || !strings.Contains(owned, "own-squad") {
		t.Errorf("team page: wrong ownership: %s", owned)
	}
	resp, body := get(t, hs.URL+"/catalog/default/group/loop-x")
	if resp.StatusCode != 200 || !strings.Contains(body, "elsewhere") {
		t.Errorf("cyclic hierarchy: status %d", resp.StatusCode)
	}
}

// With file locations allowed (greenroom serve --import-paths), a local
// path is analysed and registered like a URL.
func TestImportLocalPath(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "catalog", "all.yaml")
	os.MkdirAll(filepath.Dir(root), 0o755)
	os.WriteFile(root, []byte(smallCatalog), 0o644)
	extra := filepath.Join(dir, "other", "catalog-info.yaml")
	os.MkdirAll(filepath.Dir(extra), 0o755)
	os.WriteFile(extra, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: local-thing\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-a\n"), 0o644)
	c := ingesttest.Ingest(t, dir, root)
	hs := httptest.NewServer((&web.Server{Catalog: c.Store, Ingester: c.Engine, LocationTypes: []string{"url", "file"}}).Handler())
	t.Cleanup(hs.Close)
	post := func(action string) string {
		resp, err := http.PostForm(hs.URL+"/catalog-import", url.Values{"target": {extra}, "action": {action}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := post("analyze"); !strings.Contains(body, "component:default/local-thing") {
		t.Fatalf("analysis of a local path: %.300s", body)
	}
	if body := post("register"); !strings.Contains(body, `href="/catalog/default/component/local-thing"`) {
		t.Errorf("registration of a local path: %.300s", body)
	}
}

// Tag links keep the tag whole: "+" and "#" are escaped.
func TestTagLinksEscaped(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: cpp-svc, tags: ["c++", "c#"]}
spec: {type: service, lifecycle: production, owner: team-a}
`})
	_, body := get(t, hs.URL+"/catalog/default/component/cpp-svc")
	for _, want := range []string{`tag=c%2B%2B"`, `tag=c%23"`} {
		if !strings.Contains(body, want) {
			t.Errorf("entity page lacks a link with %s", want)
		}
	}
}
