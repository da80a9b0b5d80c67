package e2e

import (
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// Entity text is written by anyone who can commit a catalog file: markup
// in any field must show as text and never run.
const hostile = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: extra
spec:
  targets: [./hostile.yaml]
`

const hostileEntity = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hostile
  title: "<script>window.__pwned='title'</script><img src=x onerror=\"window.__pwned='img'\">"
  description: "</textarea><script>window.__pwned='desc'</script><b onmouseover=\"window.__pwned='hover'\">bold</b>"
  tags: [xss]
  links:
    - url: "javascript:window.__pwned='link'"
      title: "<svg onload=\"window.__pwned='svg'\">click me</svg>"
    - url: "https://example.com/\"><script>window.__pwned='href'</script>"
      title: ok link
  annotations:
    backstage.io/edit-url: "javascript:window.__pwned='edit'"
    backstage.io/view-url: "data:text/html,<script>window.__pwned='view'</script>"
    example.com/note: "<script>window.__pwned='annotation'</script>"
spec:
  type: "<iframe src=javascript:window.__pwned='type'>"
  lifecycle: "<script>window.__pwned='lifecycle'</script>"
  owner: "team-platform"
  system: "<script>x</script>"
`

func TestEntityTextIsEscaped(t *testing.T) {
	a := newApp(t, extraFiles{"all.yaml": hostile, "hostile.yaml": hostileEntity})
	if _, err := a.Store.FinalByRef(t.Context(), "component:default/hostile"); err != nil {
		t.Fatalf("the hostile entity was not ingested: %v", err)
	}
	p := newTab(t)
	var dialogs []string
	p.OnDialog(func(d playwright.Dialog) {
		dialogs = append(dialogs, d.Message())
		d.Dismiss()
	})
	check := func(where string) {
		t.Helper()
		pwned, err := p.Evaluate("() => window.__pwned === undefined ? '' : String(window.__pwned)")
		p.must(err)
		if pwned != "" {
			t.Errorf("%s: injected script ran (%v)", where, pwned)
		}
		n, err := p.Locator("a[href^='javascript:'], a[href^='data:'], [onerror], [onload], [onmouseover], iframe, main script").Count()
		p.must(err)
		if n > 0 {
			t.Errorf("%s: %d injected elements or attributes in the page", where, n)
		}
	}
	// The catalog table, loaded whole and swapped in by htmx.
	p.open(a.URL + "/catalog?kind=component&tag=xss")
	p.must(p.expect(p.Locator("#results tbody tr")).ToHaveCount(1))
	p.must(p.expect(p.Locator("#results tbody td.name a")).ToContainText("<script>window.__pwned='title'</script>"))
	check("catalog")
	p.must(p.Locator("#filter-q").Fill("pwned"))
	p.waitURL("q=pwned")
	p.must(p.expect(p.Locator("#results tbody tr")).ToHaveCount(1))
	check("catalog via htmx")

	// The entity page: title, description, links, annotations, spec.
	p.must(p.Locator("#results tbody td.name a").Click())
	p.waitURL("/catalog/default/component/hostile")
	p.must(p.expect(p.Locator("h1")).ToContainText("<img src=x onerror="))
	about := p.Locator("section[aria-labelledby=about-title]")
	p.must(p.expect(about).ToContainText("<b onmouseover="))
	p.must(p.expect(about).ToContainText("click me"))
	p.must(p.Locator("section[aria-labelledby=about-title] .description").Hover())
	check("entity page")
	href, err := p.Locator("a", playwright.PageLocatorOptions{HasText: "ok link"}).GetAttribute("href")
	p.must(err)
	if strings.Contains(href, "<") || strings.Contains(href, `"`) {
		t.Errorf("link href not encoded: %q", href)
	}
	p.shot("entity-hostile")

	p.must(p.Locator(".tabs a", playwright.PageLocatorOptions{HasText: "Inspect"}).Click())
	p.waitURL("/inspect")
	p.must(p.expect(p.Locator("section[aria-labelledby=annotations-title]")).ToContainText("<script>window.__pwned='annotation'</script>"))
	check("inspect")
	if len(dialogs) > 0 {
		t.Errorf("dialogs opened: %v", dialogs)
	}
}
