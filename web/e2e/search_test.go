package e2e

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// The header box suggests as one types; the arrow keys move through the
// suggestions, Enter opens one, Escape and a click elsewhere close them.
func TestSearchTypeahead(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/catalog")
	box := p.Locator("#site-search")
	list := p.Locator("#site-search-suggestions")
	options := list.Locator("[role=option]")

	p.must(p.Keyboard().Press("/"))
	p.must(p.expect(box).ToBeFocused())
	p.must(p.Keyboard().Type("pay", playwright.KeyboardTypeOptions{Delay: playwright.Float(40)}))
	p.must(p.expect(list).ToBeVisible())
	p.must(p.expect(box).ToHaveAttribute("aria-expanded", "true"))
	p.must(p.expect(list).ToContainText("Payment gateway"))
	p.must(p.expect(options.Last()).ToContainText("See all results for “pay”"))
	n, err := options.Count()
	p.must(err)
	if n < 3 || n > 9 {
		t.Errorf("%d suggestions", n)
	}
	p.shot("search-typeahead")

	// Arrow keys: down from the box to the first, up wraps to the last.
	p.must(p.Keyboard().Press("ArrowDown"))
	p.must(p.expect(options.First()).ToHaveAttribute("aria-selected", "true"))
	id, err := options.First().GetAttribute("id")
	p.must(err)
	p.must(p.expect(box).ToHaveAttribute("aria-activedescendant", id))
	p.must(p.Keyboard().Press("ArrowUp"))
	p.must(p.expect(options.Last()).ToHaveAttribute("aria-selected", "true"))
	p.must(p.expect(options.First()).ToHaveAttribute("aria-selected", "false"))
	p.must(p.Keyboard().Press("ArrowDown"))
	p.must(p.expect(options.First()).ToHaveAttribute("aria-selected", "true"))

	// Escape closes and keeps the text; ArrowDown opens again.
	p.must(p.Keyboard().Press("Escape"))
	p.must(p.expect(list).ToBeHidden())
	p.must(p.expect(box).ToHaveAttribute("aria-expanded", "false"))
	p.must(p.expect(box).ToHaveValue("pay"))
	p.must(p.Keyboard().Press("ArrowDown"))
	p.must(p.expect(list).ToBeVisible())
	p.must(p.expect(options.First()).ToHaveAttribute("aria-selected", "true"))

	// A click elsewhere closes.
	p.must(p.Locator("h1").Click())
	p.must(p.expect(list).ToBeHidden())

	// Enter on an option opens it.
	p.must(box.Click())
	p.must(p.expect(list).ToBeVisible())
	p.must(p.Keyboard().Type("ment gat", playwright.KeyboardTypeOptions{Delay: playwright.Float(40)}))
	p.must(p.expect(options.First()).ToContainText("Payment gateway"))
	p.must(p.expect(options.Last()).ToContainText("See all results for “payment gat”"))
	p.must(p.Keyboard().Press("ArrowDown"))
	p.must(p.expect(options.First()).ToHaveAttribute("aria-selected", "true"))
	p.must(p.Keyboard().Press("Enter"))
	p.waitURL("/catalog/default/component/payment-gateway")
	p.must(p.expect(p.Locator("h1")).ToContainText("Payment gateway"))

	// A click on a suggestion opens it too.
	p.must(box.Click())
	p.must(box.Fill("checkout"))
	p.must(p.expect(options.First()).ToBeVisible())
	href, err := options.First().GetAttribute("href")
	p.must(err)
	p.must(options.First().Click())
	p.waitURL(href)
}

// A search from the header box: results, the next page, a facet, all in
// the URL; a typo still finds.
func TestSearchPageFacetsAndPaging(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/")
	p.must(p.Keyboard().Press("/"))
	p.must(p.Keyboard().Type("team"))
	p.must(p.expect(p.Locator("#site-search-suggestions [role=option]").First()).ToBeVisible())
	p.must(p.Keyboard().Press("Enter")) // no active option: the form
	p.waitURL("/search?q=team")
	heading := p.Locator("#search-results-title")
	p.must(p.expect(heading).ToContainText("Results for “team”"))
	p.must(p.expect(heading).ToContainText("1–25 of"))
	total := countOf(t, p, heading)
	if total <= 25 {
		t.Fatalf("%d results for team; the test needs more than a page", total)
	}
	hits := p.Locator(".search-hit")
	p.must(p.expect(hits).ToHaveCount(25))
	p.must(p.expect(p.Locator(".search-hit mark").First()).ToBeVisible())
	p.must(p.expect(p.Locator("#site-search")).ToHaveValue("team"))
	p.shot("search-results")

	// Paging swaps the results in place; the URL alone reproduces the view.
	_, err := p.Evaluate("() => { window.__sameDocument = true }")
	p.must(err)
	p.must(p.Locator(".pager a[rel=next]").Click())
	p.waitURL("page=2")
	p.must(p.expect(heading).ToContainText("26–" + strconv.Itoa(min(total, 50)) + " of " + strconv.Itoa(total)))
	p.must(p.expect(hits).ToHaveCount(min(total, 50) - 25))
	if same, _ := p.Evaluate("() => window.__sameDocument === true"); same != true {
		t.Error("paging reloaded the page instead of swapping the results")
	}
	p.open(p.URL())
	p.must(p.expect(heading).ToContainText("26–"))

	// A facet: the results and the URL change, back to the first page.
	_, err = p.Evaluate("() => { window.__sameDocument = true }")
	p.must(err)
	first := p.Locator("#facet-kind + ul a.facet-value").First()
	label, err := first.Locator(".label").TextContent()
	p.must(err)
	p.must(first.Click())
	p.waitURL("kind=" + strings.ToLower(label))
	if strings.Contains(p.URL(), "page=") {
		t.Errorf("a facet kept the page: %s", p.URL())
	}
	p.must(p.expect(p.Locator("#facet-kind + ul a.facet-value.selected")).ToHaveCount(1))
	p.must(p.expect(heading).Not().ToContainText("of " + strconv.Itoa(total)))
	kinds, err := p.Locator(".search-hit .badge.kind").AllTextContents()
	p.must(err)
	if len(kinds) == 0 {
		t.Fatalf("no results for kind %s", label)
	}
	for _, k := range kinds {
		if k != label {
			t.Errorf("a %s among kind %s", k, label)
		}
	}
	if same, _ := p.Evaluate("() => window.__sameDocument === true"); same != true {
		t.Error("the facet reloaded the page instead of swapping the results")
	}
	p.shot("search-facet")

	// Removing it brings the other kinds back.
	p.must(p.Locator("#facet-kind + ul a.facet-value.selected").Click())
	p.must(p.expect(heading).ToContainText("1–25 of " + strconv.Itoa(total)))
	if strings.Contains(p.URL(), "kind=") {
		t.Errorf("URL still filtered: %s", p.URL())
	}
	// Back goes to the filtered view.
	_, err = p.GoBack()
	p.must(err)
	p.waitURL("kind=")
	p.must(p.expect(p.Locator("#facet-kind + ul a.facet-value.selected")).ToHaveCount(1))

	// A typo.
	p.open(a.URL + "/search?q=paymnet")
	p.must(p.expect(p.Locator(".search-hit .hit-title").First()).ToContainText("Payment gateway"))
}

func countOf(t *testing.T, p *tab, heading playwright.Locator) int {
	t.Helper()
	text, err := heading.TextContent()
	p.must(err)
	m := regexp.MustCompile(`of (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no count in %q", text)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Query syntax is text; a term too long gets a message.
func TestSearchOddTerms(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	for _, term := range []string{`"payment`, `kind:component`, `pay*`, `gateway~`, `(payment]`, `<b>payment</b>`} {
		resp := p.open(a.URL + "/search?q=" + url.QueryEscape(term))
		if resp.Status() != 200 {
			t.Errorf("%s: status %d", term, resp.Status())
		}
		p.must(p.expect(p.Locator("#search-results-title")).ToContainText(term))
	}
	p.allow("status of 400")
	resp := p.open(a.URL + "/search?q=" + strings.Repeat("x", 101))
	if resp.Status() != 400 {
		t.Errorf("long term: status %d", resp.Status())
	}
	p.must(p.expect(p.Locator("#search-results [role=alert]")).ToContainText("at most 100"))
	p.shot("search-too-long")

	// No term: a prompt and the facets to browse by.
	p.open(a.URL + "/search")
	p.must(p.expect(p.Locator("#search-results-title")).ToContainText("What are you looking for?"))
	p.shot("search-prompt")
	p.must(p.Locator("#facet-kind + ul a.facet-value", playwright.PageLocatorOptions{HasText: "API"}).Click())
	p.waitURL("kind=api")
	p.must(p.expect(p.Locator("#search-results-title")).ToContainText("Filtered results"))
	p.must(p.expect(p.Locator(".search-hit .badge.kind").First()).ToHaveText("API"))

	// A phone: no sideways scrolling, the suggestions fit the screen.
	phone := newTab(t, 390, 844)
	phone.open(a.URL + "/search?q=team")
	wide, err := phone.Evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
	phone.must(err)
	if wide == true {
		t.Error("the search page scrolls sideways on a phone")
	}
	phone.must(phone.Locator("#site-search").Fill("pay"))
	phone.must(phone.expect(phone.Locator("#site-search-suggestions")).ToContainText("See all results for “pay”"))
	wide, err = phone.Evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
	phone.must(err)
	if wide == true {
		t.Error("the suggestions scroll sideways on a phone")
	}
	phone.shot("search-phone")
}

// Without JavaScript the box is a form and facets and pages are links.
func TestSearchWithoutJavaScript(t *testing.T) {
	a := newApp(t, nil)
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{JavaScriptEnabled: playwright.Bool(false)})
	p := &tab{t: t}
	p.must(err)
	t.Cleanup(func() { ctx.Close() })
	page, err := ctx.NewPage()
	p.must(err)
	p.Page = page
	p.open(a.URL + "/")
	p.must(p.Locator("#site-search").Fill("team"))
	p.must(p.Locator("#site-search").Press("Enter"))
	p.waitURL("/search?q=team")
	p.must(p.Locator(".pager a[rel=next]").Click())
	p.waitURL("page=2")
	p.must(p.Locator("#facet-kind + ul a.facet-value", playwright.PageLocatorOptions{HasText: "Group"}).Click())
	p.waitURL("kind=group")
	p.must(p.expect(p.Locator("#facet-kind + ul a.facet-value.selected")).ToHaveCount(1))
	p.must(p.expect(p.Locator(".search-hit").First()).ToBeVisible())
}
