package gitlab

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

func entity(ann map[string]string) *catalog.Entity {
	return &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "svc", Annotations: ann}}
}

func cardOf(t *testing.T, p *Plugin) plugins.EntityView {
	t.Helper()
	cs := p.EntityCards()
	if len(cs) != 1 || cs[0].Name() != "repository" || cs[0].Title() != "Repository" {
		t.Fatalf("cards %+v", cs)
	}
	return cs[0]
}

func TestCardApplies(t *testing.T) {
	f := newFake(t)
	p, _ := newPlugin(t, f, baseConfig)
	card := cardOf(t, p)
	tests := []struct {
		name     string
		ann      map[string]string
		applies  bool
		wantHost string
		wantRef  string
	}{
		{"slug", map[string]string{annotationSlug: "group/sub/proj"}, true, f.host(), "group/sub/proj"},
		{"id", map[string]string{annotationID: "42"}, true, f.host(), "42"},
		{"instance", map[string]string{annotationSlug: "g/p", annotationInstance: "gitlab.com"}, true, "gitlab.com", "g/p"},
		{"unknown instance", map[string]string{annotationSlug: "g/p", annotationInstance: "nope.example.com"}, false, "", ""},
		{"source location", map[string]string{annotationSource: "url:" + f.url() + "/group/proj/-/tree/main/"}, true, f.host(), "group/proj"},
		{"managed-by location", map[string]string{annotationManaged: "url:" + f.url() + "/group/proj/-/blob/main/catalog-info.yaml"}, true, f.host(), "group/proj"},
		{"instance disagrees with the location", map[string]string{annotationInstance: "gitlab.com", annotationSource: "url:" + f.url() + "/group/proj/-/tree/main/"}, false, "", ""},
		{"location on another host", map[string]string{annotationSource: "url:https://github.com/o/r/tree/main/"}, false, "", ""},
		{"empty slug turns it off", map[string]string{annotationSlug: "", annotationSource: "url:" + f.url() + "/group/proj/-/tree/main/"}, false, "", ""},
		{"bad slug", map[string]string{annotationSlug: "../x"}, false, "", ""},
		{"nothing", map[string]string{}, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := entity(tt.ann)
			if got := card.Applies(e); got != tt.applies {
				t.Fatalf("Applies = %v", got)
			}
			if !tt.applies {
				return
			}
			in, ref, _ := p.projectOf(e)
			if in.host != tt.wantHost || ref != tt.wantRef {
				t.Errorf("project %s %s", in.host, ref)
			}
		})
	}
}

func TestCardRender(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/projects/group%2Fproj", 200, map[string]any{
		"id": 8, "path_with_namespace": "group/proj", "default_branch": "main", "description": "The <b>service</b>",
		"web_url": f.url() + "/group/proj",
	})
	f.json("GET /api/v4/projects/8/repository/commits", 200, []map[string]any{{
		"id": "1234567890abcdef1234567890abcdef12345678", "title": "Fix the thing", "author_name": "Jane",
		"committed_date": "2026-01-02T03:04:05Z", "web_url": f.url() + "/group/proj/-/commit/1234567890abcdef",
	}})
	f.json("GET /api/v4/projects/8/merge_requests", 200, []map[string]any{{"iid": 1}}, "X-Total", "3")
	p, _ := newPlugin(t, f, baseConfig)
	card := cardOf(t, p)
	e := entity(map[string]string{annotationSource: "url:" + f.url() + "/group/proj/-/tree/main/"})
	comp, err := card.Render(context.Background(), e, plugins.Viewer{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := comp.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`href="` + f.url() + `/group/proj"`, ">group/proj</a>", "on " + f.host(),
		"The &lt;b&gt;service&lt;/b&gt;", "<code>main</code>", "<code>1234567</code>", "Fix the thing", "by Jane",
		"Open merge requests", `href="` + f.url() + `/group/proj/-/merge_requests"`, `class="open-changes">3</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("card lacks %q:\n%s", want, html)
		}
	}
	want := []string{
		"GET /api/v4/projects/group%2Fproj",
		"GET /api/v4/projects/8/repository/commits?per_page=1&ref_name=main",
		"GET /api/v4/projects/8/merge_requests?per_page=1&state=opened",
	}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s", strings.Join(got, "\n"))
	}
}

func TestCardErrors(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/projects/group%2Fprivate", 403, map[string]any{"message": "403 Forbidden " + testToken})
	f.json("GET /api/v4/projects/group%2Fevil", 200, map[string]any{"id": 1, "web_url": "javascript:alert(1)"})
	p, _ := newPlugin(t, f, baseConfig)
	card := cardOf(t, p)
	tests := []struct{ slug, want string }{
		{"group/missing", "GitLab project group/missing was not found on " + f.host() + ", or the integration's token cannot see it."},
		{"group/private", "GitLab " + f.host() + " refused the request (403): check the token of integrations.gitlab for " + f.host() + "."},
		{"group/evil", "GitLab " + f.host() + " answered with a project outside " + f.url() + "."},
	}
	for _, tt := range tests {
		_, err := card.Render(context.Background(), entity(map[string]string{annotationSlug: tt.slug}), plugins.Viewer{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v\nwant %s", tt.slug, err, tt.want)
		}
		if err != nil {
			noSecret(t, "card error", err.Error())
		}
	}
}

func TestCheckHealth(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/version", 200, map[string]any{"version": "17.0.0"})
	p, _ := newPlugin(t, f, baseConfig)
	if err := p.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.calls(); len(got) != 1 || got[0] != "GET /api/v4/version" {
		t.Errorf("calls %v (gitlab.com, added implicitly, is not polled)", got)
	}
	if r := f.find(t, "GET", "/api/v4/version"); r.Header.Get("PRIVATE-TOKEN") != testToken {
		t.Errorf("headers %v", r.Header)
	}

	// without a token: GET /projects?per_page=1; a failure names the host
	g := newFake(t)
	g.json("GET /api/v4/projects", 503, map[string]any{"message": "maintenance"})
	p, _ = newPlugin(t, g, "integrations: {gitlab: [{host: '{{HOST}}', baseUrl: '{{URL}}'}]}")
	err := p.CheckHealth(context.Background())
	if err == nil || err.Error() != "GitLab "+g.host()+": GET /projects: 503 Service Unavailable: maintenance" {
		t.Errorf("error %v", err)
	}
	if got := g.calls(); len(got) != 1 || got[0] != "GET /api/v4/projects?per_page=1" {
		t.Errorf("calls %v", got)
	}
}
