package e2e

import (
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// The catalog page: every filter change swaps the table through htmx and
// writes the state into the URL; the URL reloads to the same view.
func TestCatalogFiltersPagingAndURL(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/catalog")
	heading := p.Locator("#results-title")
	p.must(p.expect(heading).ToContainText("1–25 of 32"))
	p.shot("catalog")

	// Type filter: the table and the address bar change, the page does not reload.
	_, err := p.Evaluate("() => { window.__sameDocument = true }")
	p.must(err)
	if _, err := p.Locator("#filter-type").SelectOption(playwright.SelectOptionValues{Values: &[]string{"service"}}); err != nil {
		t.Fatal(err)
	}
	p.waitURL("type=service")
	p.must(p.expect(heading).Not().ToContainText("of 32"))
	types, err := p.Locator("#results tbody tr td:nth-child(2)").AllTextContents()
	p.must(err)
	if len(types) == 0 {
		t.Fatal("no rows for type=service")
	}
	for _, ty := range types {
		if strings.TrimSpace(ty) != "service" {
			t.Errorf("row of type %q under type=service", ty)
		}
	}
	if same, _ := p.Evaluate("() => window.__sameDocument === true"); same != true {
		t.Error("the filter reloaded the page instead of swapping the table")
	}

	// Text filter, typed: debounced request, URL keeps both filters.
	before, err := heading.TextContent()
	p.must(err)
	p.must(p.Locator("#filter-q").Fill("payment"))
	p.waitURL("q=payment")
	p.must(p.expect(heading).Not().ToContainText(strings.TrimSpace(before)))
	rows, err := p.Locator("#results tbody tr").AllTextContents()
	p.must(err)
	for _, r := range rows {
		if !strings.Contains(strings.ToLower(r), "payment") {
			t.Errorf("row without the text filter's term: %q", r)
		}
	}
	if !strings.Contains(p.URL(), "type=service") {
		t.Errorf("text filter lost the type filter: %s", p.URL())
	}

	// The URL alone reproduces the view.
	url := p.URL()
	p.open(url)
	p.must(p.expect(p.Locator("#filter-q")).ToHaveValue("payment"))
	p.must(p.expect(p.Locator("#filter-type")).ToHaveValue("service"))
	p.must(p.expect(p.Locator("#results tbody tr").First()).ToContainText("payment", playwright.LocatorAssertionsToContainTextOptions{IgnoreCase: playwright.Bool(true)}))

	// Paging forward and sorting.
	p.open(a.URL + "/catalog?kind=component")
	p.must(p.Locator(".pager a[rel=next]").Click())
	p.waitURL("page=2")
	p.must(p.expect(heading).ToContainText("26–32 of 32"))
	p.shot("catalog-page-2")
	p.must(p.Locator("th a.sort", playwright.PageLocatorOptions{HasText: "Name"}).Click())
	p.waitURL("sort=-name")
	first, err := p.Locator("#results tbody tr td.name a").First().TextContent()
	p.must(err)
	last, err := p.Locator("#results tbody tr td.name a").Last().TextContent()
	p.must(err)
	if strings.ToLower(first) < strings.ToLower(last) {
		t.Errorf("descending sort shows %q before %q", first, last)
	}

	// Kind selector: the filters' options follow the kind.
	if _, err := p.Locator("#filter-kind").SelectOption(playwright.SelectOptionValues{Values: &[]string{"api"}}); err != nil {
		t.Fatal(err)
	}
	p.waitURL("kind=api")
	p.must(p.expect(heading).ToContainText("API"))
	p.must(p.expect(p.Locator("#filter-type option[value=openapi]")).ToHaveCount(1))
	p.shot("catalog-apis")
}

// Without JavaScript the same form works by full page loads.
func TestCatalogWithoutJavaScript(t *testing.T) {
	a := newApp(t, nil)
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{JavaScriptEnabled: playwright.Bool(false)})
	p := &tab{t: t}
	p.must(err)
	t.Cleanup(func() { ctx.Close() })
	page, err := ctx.NewPage()
	p.must(err)
	p.Page = page
	p.open(a.URL + "/catalog")
	if _, err := p.Locator("#filter-lifecycle").SelectOption(playwright.SelectOptionValues{Values: &[]string{"experimental"}}); err != nil {
		t.Fatal(err)
	}
	p.must(p.Locator("button.apply").Click())
	p.waitURL("lifecycle=experimental")
	rows, err := p.Locator("#results tbody tr").Count()
	p.must(err)
	if rows == 0 || rows >= 25 {
		t.Errorf("%d rows for lifecycle=experimental", rows)
	}
	p.shot("catalog-no-js")
}

// The layout: "/" focuses the search box, the theme switch, a phone-sized
// screen, navigation by keyboard.
func TestLayout(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/")
	p.must(p.expect(p.Locator("h1")).ToContainText("Welcome"))
	p.must(p.Keyboard().Press("/"))
	p.must(p.expect(p.Locator("#site-search")).ToBeFocused())
	p.must(p.Keyboard().Type("checkout"))
	p.must(p.Keyboard().Press("Enter"))
	p.waitURL("q=checkout")
	p.must(p.expect(p.Locator("#search-results .search-hit").First()).ToBeVisible())
	p.shot("search-from-header")

	// Theme: system → light → dark, remembered across pages.
	toggle := p.Locator("#theme-toggle")
	p.must(toggle.Click())
	p.must(toggle.Click())
	p.must(p.expect(p.Locator("html")).ToHaveAttribute("data-theme", "dark"))
	p.open(a.URL + "/catalog/default/component/cart-service")
	p.must(p.expect(p.Locator("html")).ToHaveAttribute("data-theme", "dark"))
	bg, err := p.Evaluate("() => getComputedStyle(document.body).backgroundColor")
	p.must(err)
	if bg != "rgb(13, 17, 23)" {
		t.Errorf("dark theme background %v", bg)
	}
	p.shot("entity-dark")

	// Keyboard: Tab from the top reaches the skip link, then the brand.
	p.open(a.URL + "/catalog")
	p.must(p.Keyboard().Press("Tab"))
	p.must(p.expect(p.Locator("a.skip")).ToBeFocused())
	p.must(p.Keyboard().Press("Enter"))
	p.must(p.expect(p.Locator("#main")).ToBeFocused())

	// Every navigation item leads to its page.
	for _, n := range []struct{ label, path, heading string }{
		{"Catalog", "/catalog", "Catalog"}, {"APIs", "/api-docs", "Catalog"},
		{"Docs", "/docs", "Documentation"}, {"Create", "/create", "Create"},
	} {
		p.must(p.Locator(".site-nav a", playwright.PageLocatorOptions{HasText: n.label}).Click())
		p.waitURL(n.path)
		p.must(p.expect(p.Locator("h1")).ToContainText(n.heading))
		p.must(p.expect(p.Locator(".site-nav a[aria-current=page]")).ToHaveText(n.label))
	}
	p.open(a.URL + "/create")
	p.must(p.expect(p.Locator("ul.cards li", playwright.PageLocatorOptions{HasText: "New Go service"})).ToContainText("golden-path"))
	p.shot("create")
	p.open(a.URL + "/docs")
	p.must(p.expect(p.Locator("table.entities tbody tr")).ToHaveCount(5)) // the demo's documented components
	p.shot("docs-index")

	// A phone: no sideways scrolling of the page itself.
	phone := newTab(t, 390, 844)
	phone.open(a.URL + "/catalog")
	wide, err := phone.Evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
	phone.must(err)
	if wide == true {
		t.Error("the catalog page scrolls sideways on a phone")
	}
	phone.shot("catalog-phone")
	phone.open(a.URL + "/catalog/default/component/cart-service")
	phone.shot("entity-phone")
}
