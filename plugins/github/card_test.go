package github

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

func entity(ann map[string]string) *catalog.Entity {
	return &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "svc", Annotations: ann}}
}

func TestCardApplies(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	card := e.p.EntityCards()[0]
	equal(t, "name", card.Name(), "repository")
	equal(t, "title", card.Title(), "Repository")
	tests := []struct {
		name      string
		ann       map[string]string
		applies   bool
		wantHost  string
		wantSlug  string
		wantAnnot string
	}{
		{"slug on github.com", map[string]string{slugAnnotation: "acme/svc"}, true, "github.com", "acme/svc", slugAnnotation},
		{"slug with an enterprise source", map[string]string{slugAnnotation: "acme/svc", sourceAnnotation: "url:" + f.web("acme/svc") + "/tree/main/"},
			true, f.host(), "acme/svc", slugAnnotation},
		{"slug with an unknown source host", map[string]string{slugAnnotation: "acme/svc", sourceAnnotation: "url:https://gitlab.example.com/a/b"},
			true, "github.com", "acme/svc", slugAnnotation},
		{"source location", map[string]string{sourceAnnotation: "url:" + f.web("acme/web") + "/tree/main/"}, true, f.host(), "acme/web", sourceAnnotation},
		{"managed-by blob", map[string]string{managedByAnnotation: "url:" + f.web("acme/api") + "/blob/main/catalog-info.yaml"},
			true, f.host(), "acme/api", managedByAnnotation},
		{"unconfigured host", map[string]string{sourceAnnotation: "url:https://gitlab.example.com/a/b/-/tree/main"}, false, "", "", ""},
		{"bad slug", map[string]string{slugAnnotation: "../etc"}, false, "", "", ""},
		{"file location", map[string]string{managedByAnnotation: "file:/tmp/catalog-info.yaml"}, false, "", "", ""},
		{"nothing", nil, false, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			en := entity(tc.ann)
			equal(t, "Applies", card.Applies(en), tc.applies)
			if !tc.applies {
				return
			}
			tg, _ := e.p.cardTarget(en)
			equal(t, "target", []string{tg.in.host, tg.owner + "/" + tg.repo, tg.annotation}, []string{tc.wantHost, tc.wantSlug, tc.wantAnnot})
		})
	}
}

func TestCardRender(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	sha := "9fceb02d0ae598e95dc970b74767f19372d61af8"
	f.on("GET /repos/acme/svc", 200, repoJSON(f, "acme", "svc", map[string]any{"default_branch": "trunk", "description": "The service"}))
	f.on("GET /repos/acme/svc/commits/trunk", 200, map[string]any{
		"sha": sha, "html_url": f.web("acme/svc") + "/commit/" + sha,
		"commit": map[string]any{"message": "Fix the frobnicator\n\nLong body", "author": map[string]any{
			"name": "Ada Lovelace", "date": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)}},
	})
	f.on("GET /search/issues", 200, map[string]any{"total_count": 12, "items": []any{}})
	en := entity(map[string]string{sourceAnnotation: "url:" + f.web("acme/svc") + "/tree/trunk/"})
	comp, err := e.p.EntityCards()[0].Render(context.Background(), en, plugins.Viewer{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := comp.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		"<code>trunk</code>", "9fceb02", "Fix the frobnicator", "Ada Lovelace", "3 hours ago", "The service",
		`class="open-changes">12</a>`, `href="` + f.web("acme/svc") + `/pulls"`, "pull requests",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the card lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "Long body") {
		t.Error("the card shows more than the commit's first line")
	}
	search := f.find(t, "GET", "/search/issues")
	equal(t, "search q", search.Query, "per_page=1&q=repo%3Aacme%2Fsvc+is%3Apr+is%3Aopen")
	equal(t, "Authorization", search.Header.Get("Authorization"), "token "+testToken)
}

func TestCardSearchFallbackAndEmptyRepo(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.on("GET /repos/acme/svc", 200, repoJSON(f, "acme", "svc", nil))
	f.on("GET /repos/acme/svc/commits/main", 409, map[string]any{"message": "Git Repository is empty."})
	f.on("GET /search/issues", 422, map[string]any{"message": "Validation Failed"})
	f.on("GET /repos/acme/svc/pulls", 200, []any{map[string]any{"number": 1}, map[string]any{"number": 2}})
	en := entity(map[string]string{managedByAnnotation: "url:" + f.web("acme/svc") + "/blob/main/catalog-info.yaml"})
	comp, err := e.p.EntityCards()[0].Render(context.Background(), en, plugins.Viewer{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	comp.Render(context.Background(), &buf)
	for _, want := range []string{"No commits yet", `class="open-changes">2</a>`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the card lacks %q:\n%s", want, buf.String())
		}
	}
	equal(t, "pulls query", f.find(t, "GET", "/repos/acme/svc/pulls").Query, "state=open&per_page=100")
}

func TestCardErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   map[string]any
		ann    map[string]string
		want   string
	}{
		{"missing repository by slug", 404, map[string]any{"message": "Not Found"}, map[string]string{slugAnnotation: "acme/gone"},
			"GitHub answered 404 for acme/gone: check the github.com/project-slug annotation"},
		{"bad token", 401, map[string]any{"message": "Bad credentials"}, map[string]string{slugAnnotation: "acme/gone"},
			"GitHub answered 401 for acme/gone: check the integrations.github token for "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			e := newPlugin(t, f, nil)
			f.on("GET /repos/acme/gone", tc.status, tc.body)
			tc.ann[sourceAnnotation] = "url:" + f.web("acme/gone") + "/tree/main/"
			_, err := e.p.EntityCards()[0].Render(context.Background(), entity(tc.ann), plugins.Viewer{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatal("the token is in the error")
			}
		})
	}
}

func TestCheckHealth(t *testing.T) {
	f := newFake(t)
	raw := map[string]any{"integrations": map[string]any{"github": []any{
		map[string]any{"host": f.host(), "apiBaseUrl": f.api(), "token": testToken},
		// github.com must not be called from a test: it is configured
		// without an API through rawBaseUrl only
		map[string]any{"host": "github.com", "apiBaseUrl": f.api(), "rawBaseUrl": f.srv.URL + "/raw"},
	}}}
	pl, err := New(plugins.Env{Config: plugins.NewConfig(raw), HTTP: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.(*Plugin).CheckHealth(context.Background()); err == nil || !strings.Contains(err.Error(), "GitHub GET /rate_limit answered 404") {
		t.Fatalf("CheckHealth with no route: %v", err)
	}
	f.on("GET /rate_limit", 200, map[string]any{"resources": map[string]any{}})
	if err := pl.(*Plugin).CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	equal(t, "calls", f.routesCalled()[2:], []string{"GET /rate_limit", "GET /rate_limit"})
	equal(t, "first Authorization", f.requests()[2].Header.Get("Authorization"), "token "+testToken)
	equal(t, "anonymous second", f.requests()[3].Header.Get("Authorization"), "")
}

// onlyLocal refuses requests to anything but the test server.
type onlyLocal struct {
	next  http.RoundTripper
	hosts []string
}

func (o *onlyLocal) RoundTrip(r *http.Request) (*http.Response, error) {
	o.hosts = append(o.hosts, r.URL.Host)
	if !strings.HasPrefix(r.URL.Host, "127.0.0.1:") {
		return nil, errors.New("refused: " + r.URL.Host)
	}
	return o.next.RoundTrip(r)
}

func TestCheckHealthSkipsImplicitGithubCom(t *testing.T) {
	f := newFake(t)
	f.on("GET /rate_limit", 200, map[string]any{})
	tr := &onlyLocal{next: f.srv.Client().Transport}
	raw := map[string]any{"integrations": map[string]any{"github": []any{map[string]any{"host": f.host(), "apiBaseUrl": f.api()}}}}
	pl, err := New(plugins.Env{Config: plugins.NewConfig(raw), HTTP: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.(*Plugin).CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	equal(t, "hosts called", tr.hosts, []string{f.host()})
}
