package techdocs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/techdocs"
)

type fixture struct {
	dir string
	cat *ingesttest.Catalog
	svc *techdocs.Service
}

// newFixture ingests the demo catalog (whose order service has a docs
// site) plus extra files under extra/ when extra["all.yaml"] is set.
func newFixture(t *testing.T, extra map[string]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	root, err := demo.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	roots := []string{root}
	for name, content := range extra {
		p := filepath.Join(dir, "extra", filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := extra["all.yaml"]; ok {
		roots = append(roots, filepath.Join(dir, "extra", "all.yaml"))
	}
	c := ingesttest.Ingest(t, dir, roots...)
	return &fixture{dir: dir, cat: c, svc: &techdocs.Service{Catalog: c.Store, Git: c.Engine.Crawler.Reader, Recheck: time.Nanosecond}}
}

var orderService = catalog.Ref{Kind: "component", Namespace: "default", Name: "order-service"}

func TestPagesLinksAndNavigation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pg, err := f.svc.Page(ctx, orderService, "")
	if err != nil {
		t.Fatal(err)
	}
	if pg.Title != "Order service" || pg.Site.Name != "Order service" {
		t.Errorf("index page %q of site %q", pg.Title, pg.Site.Name)
	}
	html := pg.Result.HTML
	for _, want := range []string{
		`href="/docs/default/component/order-service/operations/runbook/#paging"`,
		`href="/docs/default/component/order-service/architecture/#order-states"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index page lacks link %s", want)
		}
	}
	if pg.Next == nil || pg.Next.Href != "/docs/default/component/order-service/architecture/" || pg.Prev != nil {
		t.Errorf("prev/next %+v %+v", pg.Prev, pg.Next)
	}
	if pg.EditURL != "https://git.freshcart.example/checkout/order-service/edit/main/docs/index.md" {
		t.Errorf("edit URL %q", pg.EditURL)
	}
	arch, err := f.svc.Page(ctx, orderService, "architecture/")
	if err != nil {
		t.Fatal(err)
	}
	if !arch.Result.HasMermaid || !strings.Contains(arch.Result.HTML, `src="/docs/default/component/order-service/img/order-flow.svg"`) {
		t.Errorf("architecture page: mermaid %v, image link missing", arch.Result.HasMermaid)
	}
	if len(arch.Result.Broken) != 0 {
		t.Errorf("broken links on a clean page: %v", arch.Result.Broken)
	}
	if _, err := f.svc.Page(ctx, orderService, "no/such/page/"); !errors.Is(err, techdocs.ErrNotFound) {
		t.Errorf("missing page: %v", err)
	}
}

// Docs are untrusted: links and images leaving the docs directory are
// broken, files outside it or hidden are never served, scripts never run.
func TestUntrustedDocs(t *testing.T) {
	f := newFixture(t, map[string]string{
		"all.yaml":       "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: sly\n  annotations:\n    backstage.io/techdocs-ref: dir:./sly\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
		"sly/mkdocs.yml": "site_name: Sly\n",
		"sly/docs/index.md": "# Sly\n\n[up](../../../../etc/passwd) ![img](../mkdocs.yml) [abs](/../../secret.md) [js](javascript:alert(1))\n\n" +
			"[ok](other.md)\n\n<script>alert(1)</script><img src=x onerror=alert(1)>\n",
		"sly/docs/other.md": "# Other\n",
		"sly/docs/.secret":  "hidden",
		"sly/outside.txt":   "outside the docs dir",
	})
	ctx := context.Background()
	sly := catalog.Ref{Kind: "component", Namespace: "default", Name: "sly"}
	// A symlink inside docs pointing out of it.
	if err := os.Symlink(filepath.Join(f.dir, "extra", "sly", "outside.txt"), filepath.Join(f.dir, "extra", "sly", "docs", "link.txt")); err != nil {
		t.Fatal(err)
	}
	pg, err := f.svc.Page(ctx, sly, "")
	if err != nil {
		t.Fatal(err)
	}
	html := strings.ToLower(pg.Result.HTML)
	for _, bad := range []string{"<script", "onerror", "javascript:", "etc/passwd", "mkdocs.yml"} {
		if strings.Contains(html, bad) {
			t.Errorf("page HTML contains %q:\n%s", bad, pg.Result.HTML)
		}
	}
	if len(pg.Result.Broken) < 2 {
		t.Errorf("broken links not reported: %v", pg.Result.Broken)
	}
	if !strings.Contains(pg.Result.HTML, `href="/docs/default/component/sly/other/"`) {
		t.Error("a good link was not rewritten")
	}
	for _, p := range []string{"../outside.txt", "../../all.yaml", ".secret", "link.txt", "/etc/passwd", "index.md/../../outside.txt"} {
		if fh, err := f.svc.File(ctx, sly, p); err == nil {
			fh.Close()
			t.Errorf("served %q", p)
		}
	}
}

func TestNoDocsSaysWhy(t *testing.T) {
	f := newFixture(t, nil)
	for _, c := range []struct {
		ref  catalog.Ref
		want string
	}{
		{catalog.Ref{Kind: "component", Namespace: "default", Name: "cart-service"}, "no documentation"},
	} {
		_, err := f.svc.Page(context.Background(), c.ref, "")
		var nd *techdocs.NoDocsError
		if !errors.As(err, &nd) || !strings.Contains(strings.ToLower(nd.Reason), c.want) {
			t.Errorf("%s: %v", c.ref, err)
		}
	}
}

// An edited page shows its new text on the next view; an added page
// joins the site.
func TestCacheFollowsSources(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	docs := filepath.Join(f.dir, "catalog", "components", "docs", "order-service", "docs")
	if _, err := f.svc.Page(ctx, orderService, "api/"); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(docs, "api.md")
	if err := os.WriteFile(p, []byte("# API\n\nNow with quokkas.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(p, future, future)
	pg, err := f.svc.Page(ctx, orderService, "api/")
	if err != nil || !strings.Contains(pg.Result.HTML, "quokkas") {
		t.Fatalf("edited page not re-rendered: %v", err)
	}
	if err := os.WriteFile(filepath.Join(docs, "new-page.md"), []byte("# New page\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(docs, future, future)
	if _, err := f.svc.Page(ctx, orderService, "new-page/"); err != nil {
		t.Errorf("added page: %v", err)
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t, nil)
	hs := httptest.NewServer(f.svc.Handler())
	t.Cleanup(hs.Close)
	get := func(p string) (*http.Response, string) {
		resp, err := http.Get(hs.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/metadata/techdocs/default/component/order-service")
	var meta map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &meta) != nil || meta["site_name"] != "Order service" {
		t.Errorf("site metadata: %d %s", resp.StatusCode, body)
	}
	resp, body = get("/metadata/entity/default/component/order-service")
	if resp.StatusCode != 200 || !strings.Contains(body, `"locationMetadata":{"target":"./docs/order-service","type":"dir"}`) {
		t.Errorf("entity metadata: %d %s", resp.StatusCode, body)
	}
	resp, body = get("/static/docs/default/component/order-service/architecture/index.html")
	if resp.StatusCode != 200 || !strings.Contains(body, "<article") || !strings.Contains(body, "Order states") {
		t.Errorf("page: %d %.200s", resp.StatusCode, body)
	}
	resp, body = get("/static/docs/default/component/order-service/search/search_index.json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"location":"operations/runbook/"`) {
		t.Errorf("search index: %d %.300s", resp.StatusCode, body)
	}
	resp, _ = get("/static/docs/default/component/order-service/img/order-flow.svg")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("image: %d csp %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	for _, p := range []string{"/metadata/techdocs/default/component/cart-service", "/metadata/techdocs/default/component/nothing",
		"/static/docs/default/component/order-service/../../../etc/passwd", "/static/docs/default/component/order-service/nope.png"} {
		if resp, _ := get(p); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// Every docs page becomes a search document; changed sites are re-read.
func TestSearchDocuments(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	ix, err := search.Open(filepath.Join(f.dir, "search"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	in := &techdocs.Indexer{Service: f.svc, Index: ix, Catalog: f.cat.Store}
	if err := in.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := ix.Search(ctx, search.Query{Term: `"lighthouse drill"`, Types: []string{search.TypeTechDocs}})
	if err != nil || len(r.Hits) != 1 || r.Hits[0].Location != "/docs/default/component/order-service/operations/runbook/" {
		t.Fatalf("phrase only in the docs: %v %+v", err, r)
	}
	n, _ := ix.Count()
	// A page removed from the site leaves the index.
	if err := os.Remove(filepath.Join(f.dir, "catalog", "components", "docs", "order-service", "docs", "operations", "releases.md")); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(f.dir, "catalog", "components", "docs", "order-service", "docs", "operations"), future, future)
	if err := in.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := ix.Count(); m != n-1 {
		t.Errorf("documents %d after removing a page, %d before", m, n)
	}

	// An entity that loses its docs annotation takes its pages out of the
	// index.
	file := filepath.Join(f.dir, "catalog", "components", "checkout.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Replace(string(b), "    backstage.io/techdocs-ref: dir:./docs/order-service\n", "", 1)
	if cut == string(b) {
		t.Fatal("the fixture no longer has order-service's techdocs-ref")
	}
	os.WriteFile(file, []byte(cut), 0o644)
	if err := f.cat.Engine.CrawlAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := in.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = ix.Search(ctx, search.Query{Term: `"lighthouse drill"`, Types: []string{search.TypeTechDocs}})
	if err != nil || len(r.Hits) != 0 {
		t.Errorf("the pages of docs no longer in the catalog are still found: %v %+v", err, r)
	}
}
