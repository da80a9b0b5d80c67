package ingest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// loopbackReader is the server's URL reader allowed to read the test
// servers on 127.0.0.1 (an IP-literal rule admits its address).
func loopbackReader(t *testing.T) *reading.Mux {
	t.Helper()
	m, err := reading.New(reading.Config{Allow: []reading.AllowRule{{Host: "127.0.0.1:1-65535"}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// catalogServer serves fixed files and counts the requests for each path.
type catalogServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]string
	hits  map[string]int
}

func newCatalogServer(t *testing.T, files map[string]string) *catalogServer {
	s := &catalogServer{files: files, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		body, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		switch {
		case r.URL.Path == "/broken.yaml":
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
		case !ok:
			http.NotFound(w, r)
		default:
			w.Write([]byte(body))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *catalogServer) set(path, body string) {
	s.mu.Lock()
	s.files[path] = body
	s.mu.Unlock()
}

func (s *catalogServer) remove(path string) {
	s.mu.Lock()
	delete(s.files, path)
	s.mu.Unlock()
}

func (s *catalogServer) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// TestURLLocation: a url root whose Location names relative targets, which
// resolve against its URL; a 404 target is an error, as is a server error.
func TestURLLocation(t *testing.T) {
	srv := newCatalogServer(t, map[string]string{
		"/catalog/all.yaml": locationYAML("remote", "./team.yaml", "./svc/component.yaml", "../other/api.yaml", "./missing.yaml", "/broken.yaml") +
			"---\n" + locationYAML("remote-2", "./svc/component.yaml"),
		"/catalog/team.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n",
		"/catalog/svc/component.yaml": strings.Replace(fmt.Sprintf(componentTmpl, "remote-svc", "x", "team-a"),
			"description: x", "description:\n    $text: ./README.md", 1),
		"/catalog/svc/README.md": "Read over HTTP",
		"/other/api.yaml":        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: remote-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition: '{}'\n",
	})
	e := newCrawlEnv(t)
	e.crawler.Reader = &ingest.Reader{Fetcher: loopbackReader(t)}
	root := srv.URL + "/catalog/all.yaml"
	l := e.add("url", root)
	e.crawl(l)

	tests := []struct{ ref, url string }{
		{"location:default/remote", root},
		{"group:default/team-a", srv.URL + "/catalog/team.yaml"},
		{"component:default/remote-svc", srv.URL + "/catalog/svc/component.yaml"},
		{"api:default/remote-api", srv.URL + "/other/api.yaml"},
	}
	for _, tt := range tests {
		ent := e.entity(tt.ref)
		if got := ent.Metadata.Annotations[catalog.AnnotationLocation]; got != "url:"+tt.url {
			t.Errorf("%s: managed-by-location %q, want %q", tt.ref, got, "url:"+tt.url)
		}
		if got := ent.Metadata.Annotations[catalog.AnnotationOriginLocation]; got != "url:"+root {
			t.Errorf("%s: managed-by-origin-location %q", tt.ref, got)
		}
		if got := ent.Metadata.Annotations[catalog.AnnotationViewURL]; got != tt.url {
			t.Errorf("%s: view-url %q", tt.ref, got)
		}
	}
	if d := e.entity("component:default/remote-svc").Metadata.Description; d != "Read over HTTP" {
		t.Errorf("$text over HTTP: %q", d)
	}
	if !hasRelation(e.entity("group:default/team-a"), "ownerOf", "api:default/remote-api") {
		t.Error("relations across URL files are not stitched")
	}
	e.wantError(l.ID, "url:"+srv.URL+"/catalog/missing.yaml", "NotFoundError")
	e.wantError(l.ID, "url:"+srv.URL+"/broken.yaml", "500")
	if errs := e.errors(l.ID); len(errs) != 2 {
		t.Errorf("errors:\n%s", formatErrors(errs))
	}
	// Two Locations name svc/component.yaml: it is fetched once per crawl.
	if n := srv.hitCount("/catalog/svc/component.yaml"); n != 1 {
		t.Errorf("svc/component.yaml fetched %d times in one crawl", n)
	}
	if p := e.provenance("component:default/remote-svc"); p.ParentRef != "location:default/remote" {
		t.Errorf("parent_ref %q", p.ParentRef)
	}

	// The server goes down for one file: its entities are kept.
	srv.remove("/other/api.yaml")
	srv.set("/catalog/team.yaml", "kind: [broken")
	e.crawl(l)
	e.wantError(l.ID, "url:"+srv.URL+"/other/api.yaml", "NotFoundError")
	e.wantError(l.ID, "url:"+srv.URL+"/catalog/team.yaml", "YAMLParseError")
	e.entity("api:default/remote-api")
	e.entity("group:default/team-a")
}

// TestURLNotEnabled: without a fetcher, url locations are an error.
func TestURLNotEnabled(t *testing.T) {
	e := newCrawlEnv(t)
	l := e.add("url", "http://127.0.0.1:1/catalog-info.yaml")
	e.crawl(l)
	e.wantError(l.ID, "url:http://127.0.0.1:1/catalog-info.yaml", "not enabled")
}

// TestURLNotAllowed: a url location the reading policy refuses (no rule
// for the host, or an internal address) is the location's error, naming
// the key that would allow it, and nothing is read from the server.
func TestURLNotAllowed(t *testing.T) {
	srv := newCatalogServer(t, map[string]string{
		"/catalog-info.yaml": fmt.Sprintf(componentTmpl, "never", "x", "team-a"),
		"/placeholder.yaml": strings.Replace(fmt.Sprintf(componentTmpl, "with-remote-text", "x", "team-a"),
			"description: x", "description:\n    $text: http://169.254.169.254/latest/meta-data", 1),
	})
	strict, err := reading.New(reading.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := newCrawlEnv(t)
	e.crawler.Reader = &ingest.Reader{Fetcher: strict}
	target := srv.URL + "/catalog-info.yaml"
	l := e.add("url", target)
	e.crawl(l)
	e.wantError(l.ID, "url:"+target, "Reading from '"+target+"' is not allowed", "backend.reading.allow")
	if n := srv.hitCount("/catalog-info.yaml"); n != 0 {
		t.Errorf("the refused target was read %d times", n)
	}

	// A remote placeholder in an allowed file is refused the same way.
	e2 := newCrawlEnv(t)
	e2.crawler.Reader = &ingest.Reader{Fetcher: loopbackReader(t)}
	target = srv.URL + "/placeholder.yaml"
	l2 := e2.add("url", target)
	e2.crawl(l2)
	e2.wantError(l2.ID, "", "Placeholder $text could not read location http://169.254.169.254/latest/meta-data", "Reading from 'http://169.254.169.254/latest/meta-data' is not allowed. You may need to configure an integration")
}
