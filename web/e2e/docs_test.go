package e2e

import (
	"testing"

	"github.com/playwright-community/playwright-go"
)

// TechDocs in the browser: from the entity to its docs, the navigation,
// links between pages and to anchors, tabs, a collapsible admonition, a
// Mermaid diagram drawn as SVG, and a phrase found by search.
func TestDocsReader(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/catalog/default/component/order-service")
	p.must(p.Locator(".tabs a", playwright.PageLocatorOptions{HasText: "Docs"}).Click())
	p.waitURL("/docs/default/component/order-service/")
	article := p.Locator("#docs-article")
	p.must(p.expect(article.Locator("h1")).ToContainText("Order service"))
	p.must(p.expect(p.Locator(".docs-nav a[aria-current=page]")).ToHaveText("Overview"))
	p.must(p.expect(p.Locator(".docs-toc")).ToContainText("At a glance"))
	p.shot("docs-index-page")

	// The nav: a page inside a (closed) section.
	p.must(p.Locator(".docs-nav summary", playwright.PageLocatorOptions{HasText: "Operating"}).Click())
	p.must(p.Locator(".docs-nav a", playwright.PageLocatorOptions{HasText: "Releases"}).Click())
	p.waitURL("/operations/releases/")
	p.must(p.expect(article.Locator("h1")).ToContainText("Releases"))

	// An in-doc link to another page's anchor.
	p.open(a.URL + "/docs/default/component/order-service/")
	p.must(article.Locator("a", playwright.LocatorLocatorOptions{HasText: "runbook"}).First().Click())
	p.waitURL("/operations/runbook/#paging")
	p.must(p.expect(p.Locator("#paging")).ToBeInViewport())

	// Tabs, a collapsible admonition, the Mermaid diagram.
	p.open(a.URL + "/docs/default/component/order-service/architecture/")
	goTab := article.Locator("label", playwright.LocatorLocatorOptions{HasText: "Go"}).First()
	p.must(goTab.Click())
	p.must(p.expect(article.Locator("code", playwright.LocatorLocatorOptions{HasText: "PlaceOrder"}).First()).ToBeVisible())
	p.must(p.expect(article.Locator("code", playwright.LocatorLocatorOptions{HasText: "curl -X POST"}).First()).Not().ToBeVisible())
	details := article.Locator("details", playwright.LocatorLocatorOptions{HasText: "Why an outbox?"})
	p.must(p.expect(details).Not().ToHaveAttribute("open", ""))
	p.must(details.Locator("summary").Click())
	p.must(p.expect(details).ToHaveAttribute("open", ""))
	p.must(p.expect(article.Locator("pre.mermaid svg")).ToBeVisible())
	p.must(p.expect(article.Locator("img[alt='Order flow']")).ToBeVisible())
	p.shot("docs-architecture")

	// A phrase that only the docs contain, found by search.
	p.must(p.Locator("#site-search").Fill(`"lighthouse drill"`))
	p.must(p.Keyboard().Press("Enter"))
	p.waitURL("/search")
	p.must(p.Locator("#search-results a", playwright.PageLocatorOptions{HasText: "Runbook"}).First().Click())
	p.waitURL("/docs/default/component/order-service/operations/runbook/")
	p.must(p.expect(article).ToContainText("lighthouse drill"))
	p.shot("docs-runbook")

	// An entity without docs says why.
	p.allow("status of 404")
	p.open(a.URL + "/docs/default/component/cart-service/")
	p.must(p.expect(p.Locator("#docs-missing")).ToContainText("no documentation"))
}
