package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/web"
)

// searchFake answers every search with the same documents, filtered by
// kind, and counts facets over them; it records the queries.
type searchFake struct {
	mu      sync.Mutex
	hits    []search.Hit
	err     error
	queries []search.Query
}

func (f *searchFake) Search(ctx context.Context, q search.Query) (*search.Result, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	if utf8.RuneCountInString(q.Term) > search.MaxTermLength {
		return nil, search.ErrTermTooLong
	}
	if f.err != nil {
		return nil, f.err
	}
	var match []search.Hit
	for _, h := range f.hits {
		if kinds := q.Filters[search.FacetKind]; len(kinds) > 0 && !slicesContainsFold(kinds, h.Kind) {
			continue
		}
		match = append(match, h)
	}
	res := &search.Result{Total: len(match), Facets: map[string][]search.FacetValue{}}
	for _, facet := range q.Facets {
		counts := map[string]int{}
		var order []string
		for _, h := range match {
			v := map[string]string{search.FacetKind: h.Kind, search.FacetType: h.Type, search.FacetOwner: h.Owner,
				search.FacetLifecycle: h.Lifecycle, search.FacetSpecType: h.SpecType}[facet]
			if v == "" {
				continue
			}
			if counts[v] == 0 {
				order = append(order, v)
			}
			counts[v]++
		}
		for _, v := range order {
			res.Facets[facet] = append(res.Facets[facet], search.FacetValue{Value: v, Count: counts[v]})
		}
	}
	limit := q.Limit
	if limit == 0 {
		limit = 25
	}
	for i := q.Offset; i < len(match) && i < q.Offset+limit; i++ {
		res.Hits = append(res.Hits, match[i])
	}
	return res, nil
}

func (f *searchFake) last() []search.Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queries
	f.queries = nil
	return q
}

func slicesContainsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func searchHits() []search.Hit {
	hits := []search.Hit{
		{Document: search.Document{Type: search.TypeCatalog, Title: "Payment gateway", Name: "payment-gateway", Text: "Captures payments.",
			Location: "/catalog/default/component/payment-gateway", Kind: "component", Namespace: "default", SpecType: "service",
			Lifecycle: "production", Owner: "team-payments"},
			Highlights: map[string]string{"title": "<mark>Payment</mark> gateway", "text": "Captures <mark>payments</mark> &amp; refunds."}},
		{Document: search.Document{Type: search.TypeCatalog, Title: `<script>alert("t")</script> API`, Name: "hostile",
			Text: `<img src=x onerror=alert(1)> description`, Location: "/catalog/default/api/hostile", Kind: "api",
			Namespace: "default", Owner: "group:default/team-<b>"}},
		{Document: search.Document{Type: search.TypeTechDocs, Title: "Payments runbook", Text: "How to refund.",
			Location: "/docs/default/component/payment-gateway/runbook/", Kind: "component", Owner: "team-payments"}},
		{Document: search.Document{Type: search.TypeCatalog, Title: "Evil link", Location: "javascript:alert(1)", Kind: "component"}},
		{Document: search.Document{Type: search.TypeCatalog, Title: "Other host", Location: "//evil.example/x", Kind: "component"}},
	}
	for i := range 40 {
		hits = append(hits, search.Hit{Document: search.Document{Type: search.TypeCatalog, Title: fmt.Sprintf("Service %02d", i),
			Location: fmt.Sprintf("/catalog/default/component/service-%02d", i), Kind: "component", Owner: "team-a"}})
	}
	return hits
}

func newSearchServer(t *testing.T, f *searchFake) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer((&web.Server{Search: f}).Handler())
	t.Cleanup(hs.Close)
	return hs
}

func TestSearchPage(t *testing.T) {
	f := &searchFake{hits: searchHits()}
	hs := newSearchServer(t, f)
	resp, body := get(t, hs.URL+"/search?q=payment")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.HasPrefix(body, "<!doctype html>") {
		t.Fatalf("status %d, %q: %.100s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	for _, want := range []string{
		`<title>“payment” · Search · Greenroom</title>`,
		`value="payment"`, // the header box keeps the term
		`Results for “payment”`, `1–25 of 45`,
		`<a href="/catalog/default/component/payment-gateway"><mark>Payment</mark> gateway</a>`, // highlights are HTML
		`Captures <mark>payments</mark> &amp; refunds.`,
		`&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; API`,           // a title without highlights is text
		`&lt;img src=x onerror=alert(1)&gt; description`,                // so is a text without
		`href="/catalog/default/group/team-payments">team-payments</a>`, // owners link to their page
		`team-&lt;b&gt;`,
		`<span class="badge kind">Component</span>`,
		`<span class="badge type">Documentation</span>`,
		`class="search-hit docs"`,
		`rel="next" href="/search?page=2&amp;q=payment"`,
		`<ol class="search-hits" start="1">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{`<script>alert`, `<img src=x`, `href="javascript:`, `href="//evil.example`, `team-<b>`} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %s", bad)
		}
	}
	qs := f.last()
	if len(qs) != 1 {
		t.Fatalf("%d searches for one page", len(qs))
	}
	want := search.Query{Term: "payment", Facets: search.Facets, FacetSize: 10, Limit: 25}
	if !reflect.DeepEqual(qs[0], want) {
		t.Errorf("query %+v", qs[0])
	}

	// Page 2.
	_, body = get(t, hs.URL+"/search?q=payment&page=2")
	if !strings.Contains(body, "26–45 of 45") || !strings.Contains(body, `start="26"`) || !strings.Contains(body, `rel="prev"`) || strings.Contains(body, `rel="next"`) {
		t.Errorf("page 2: %s", between(body, `<section id="search-results"`, `</section>`))
	}
	if qs := f.last(); qs[0].Offset != 25 || qs[0].Limit != 25 {
		t.Errorf("page 2 query %+v", qs[0])
	}
}

// between is the part of s from the first start to the next end.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j+len(end)]
}

// Every filter parameter, repeatable, reaches the index; a selected facet
// is counted without its own filter.
func TestSearchFilters(t *testing.T) {
	f := &searchFake{hits: searchHits()}
	hs := newSearchServer(t, f)
	_, body := get(t, hs.URL+"/search?q=pay&type=software-catalog&kind=component&kind=api&kind=API&spec.type=service&specType=website"+
		"&owner=team-a&lifecycle=production&tag=go&tag=&page=3")
	qs := f.last()
	if len(qs) != 7 {
		t.Fatalf("%d searches: %+v", len(qs), qs)
	}
	wantFilters := map[string][]string{
		search.FacetType: {"software-catalog"}, search.FacetKind: {"component", "api"}, search.FacetSpecType: {"service", "website"},
		search.FacetOwner: {"team-a"}, search.FacetLifecycle: {"production"}, search.FacetTags: {"go"},
	}
	if !reflect.DeepEqual(qs[0].Filters, wantFilters) || qs[0].Offset != 50 || qs[0].Term != "pay" {
		t.Errorf("query %+v", qs[0])
	}
	for _, q := range qs[1:] {
		if len(q.Facets) != 1 || q.Filters[q.Facets[0]] != nil || len(q.Filters) != 5 || q.Offset != 0 {
			t.Errorf("facet count query %+v", q)
		}
	}
	// Selected values are marked and link to their removal; the others add.
	sidebar := between(body, `<aside class="filters card search-facets"`, `</aside>`)
	for _, want := range []string{
		`class="facet-value selected" href="/search?kind=api&amp;lifecycle=production&amp;owner=team-a&amp;q=pay&amp;spec.type=service&amp;spec.type=website&amp;tag=go&amp;type=software-catalog"`,
		`aria-current="true"`,
		`(selected: remove the filter)`,
		`<span class="label">Documentation</span>`,
		`Clear filters`,
		`href="/search?q=pay"`,
	} {
		if !strings.Contains(sidebar, want) {
			t.Errorf("sidebar lacks %s", want)
		}
	}
	// A selected value the counts do not list is still shown, without a count.
	if website := between(sidebar, `<span class="label">website</span>`, `</a>`); website == "" || strings.Contains(website, `class="n"`) ||
		!strings.Contains(website, "selected") {
		t.Errorf("uncounted selected value: %s", between(sidebar, `facet-spec-type`, `</section>`))
	}

	// Adding a value keeps the others and goes back to page 1.
	_, body = get(t, hs.URL+"/search?q=pay&kind=api&page=2")
	if !strings.Contains(body, `href="/search?kind=api&amp;kind=component&amp;q=pay"`) {
		t.Errorf("add-a-kind link missing: %s", between(body, `facet-kind`, `</section>`))
	}
	// Facet counts of a selected facet come from the search without it.
	kinds := between(body, `id="facet-kind"`, `</section>`)
	if !strings.Contains(kinds, `<span class="label">Component</span> <span class="n">44</span>`) {
		t.Errorf("kind counts: %s", kinds)
	}
}

// Owners are humanized, unless two values would read the same.
func TestSearchOwnerLabels(t *testing.T) {
	f := &searchFake{hits: []search.Hit{
		{Document: search.Document{Type: search.TypeCatalog, Title: "A", Location: "/catalog/default/component/a", Kind: "component", Owner: "team-a"}},
		{Document: search.Document{Type: search.TypeCatalog, Title: "B", Location: "/catalog/default/component/b", Kind: "component", Owner: "group:default/team-a"}},
		{Document: search.Document{Type: search.TypeCatalog, Title: "C", Location: "/catalog/default/component/c", Kind: "component", Owner: "group:default/team-c"}},
		{Document: search.Document{Type: search.TypeCatalog, Title: "D", Location: "/catalog/default/component/d", Kind: "component", Owner: "user:jo"}},
	}}
	hs := newSearchServer(t, f)
	_, body := get(t, hs.URL+"/search?q=x")
	owners := between(body, `id="facet-owner"`, `</section>`)
	for _, want := range []string{`<span class="label">team-a</span>`, `<span class="label">group:default/team-a</span>`,
		`<span class="label">team-c</span>`, `<span class="label">user:jo</span>`} {
		if !strings.Contains(owners, want) {
			t.Errorf("owner facet lacks %s: %s", want, owners)
		}
	}
	if strings.Count(owners, `<span class="label">team-a</span>`) != 1 {
		t.Errorf("two owners read team-a: %s", owners)
	}
}

// htmx asks for the part it swaps; the same URL without it is a page.
func TestSearchFragments(t *testing.T) {
	f := &searchFake{hits: searchHits()}
	hs := newSearchServer(t, f)
	resp, body := get(t, hs.URL+"/search?q=pay&kind=component", "HX-Request", "true", "HX-Target", "search-view")
	if !strings.HasPrefix(body, `<div id="search-view"`) || strings.Contains(body, "<html") || !strings.Contains(body, "/component/payment-gateway") {
		t.Errorf("view fragment: %.200s", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("fragment content type %q", ct)
	}
	if v := resp.Header.Get("Vary"); !strings.Contains(v, "HX-Target") {
		t.Errorf("Vary %q", v)
	}
	_, body = get(t, hs.URL+"/search?q=pay&page=2", "HX-Request", "true", "HX-Target", "search-results")
	if !strings.HasPrefix(body, `<section id="search-results"`) || strings.Contains(body, "search-facets") {
		t.Errorf("results fragment: %.200s", body)
	}
	_, body = get(t, hs.URL+"/search?q=pay", "HX-Request", "true", "HX-Target", "search-results", "HX-History-Restore-Request", "true")
	if !strings.HasPrefix(body, "<!doctype html>") {
		t.Errorf("history restore got a fragment: %.80s", body)
	}
}

// A term too long, or one the index refuses: a message, never a 500.
func TestSearchRefused(t *testing.T) {
	f := &searchFake{hits: searchHits()}
	hs := newSearchServer(t, f)
	long := strings.Repeat("é", 101)
	resp, body := get(t, hs.URL+"/search?q="+url.QueryEscape(long))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "The search term is 101 characters long; search takes at most 100.") ||
		!strings.HasPrefix(body, "<!doctype html>") {
		t.Errorf("long term: %d %s", resp.StatusCode, between(body, `<section id="search-results"`, `</section>`))
	}
	if qs := f.last(); len(qs) != 0 {
		t.Errorf("searched a long term: %+v", qs)
	}
	// As a fragment the message must swap in: htmx leaves 4xx answers out.
	resp, body = get(t, hs.URL+"/search?q="+url.QueryEscape(long), "HX-Request", "true", "HX-Target", "search-view")
	if resp.StatusCode != 200 || !strings.Contains(body, "characters long") {
		t.Errorf("long term fragment: %d %.300s", resp.StatusCode, body)
	}
	// 100 characters are fine.
	resp, _ = get(t, hs.URL+"/search?q="+url.QueryEscape(strings.Repeat("é", 100)))
	if resp.StatusCode != 200 {
		t.Errorf("100 characters: %d", resp.StatusCode)
	}

	// An index failure is the server's: 500, a message, no internals.
	f.err = errors.New("bleve: <internal> failure")
	resp, body = get(t, hs.URL+"/search?q=pay")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "could not run this search") || strings.Contains(body, "internal") {
		t.Errorf("index error: %d %s", resp.StatusCode, between(body, `<section id="search-results"`, `</section>`))
	}
	f.err = nil
	f.last()

	// Query syntax is text: passed as typed, shown escaped.
	for _, term := range []string{`"unbalanced`, `kind:component`, `pay*`, `paymnet~2`, `(a OR [b`, `a]) }{`, `<b>x</b>`} {
		resp, body := get(t, hs.URL+"/search?q="+url.QueryEscape(term))
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", term, resp.StatusCode)
		}
		if qs := f.last(); len(qs) == 0 || qs[0].Term != term {
			t.Errorf("%s: queries %+v", term, qs)
		}
		if strings.Contains(body, "<b>x</b>") {
			t.Errorf("%s: term not escaped", term)
		}
	}
}

// No term: a prompt and the facets to browse by; filters alone list results.
func TestSearchEmptyTerm(t *testing.T) {
	f := &searchFake{hits: searchHits()}
	hs := newSearchServer(t, f)
	resp, body := get(t, hs.URL+"/search")
	if resp.StatusCode != 200 || !strings.Contains(body, "What are you looking for?") || strings.Contains(body, `class="search-hits"`) ||
		!strings.Contains(body, `href="/search?kind=component"`) {
		t.Errorf("empty search: %d %s", resp.StatusCode, between(body, `<div id="search-view"`, `</main>`))
	}
	if qs := f.last(); len(qs) != 1 || qs[0].Term != "" || qs[0].Limit != 1 {
		t.Errorf("empty search queries %+v", qs)
	}
	_, body = get(t, hs.URL+"/search?q=+&kind=api")
	if !strings.Contains(body, "Filtered results") || !strings.Contains(body, `href="/catalog/default/api/hostile"`) || strings.Contains(body, "payment-gateway\"") {
		t.Errorf("filters only: %s", between(body, `<section id="search-results"`, `</section>`))
	}
	_, body = get(t, hs.URL+"/search?q=nothing&kind=user")
	if !strings.Contains(body, "No results for “nothing”") || !strings.Contains(body, "remove a filter") {
		t.Errorf("no results: %s", between(body, `<section id="search-results"`, `</section>`))
	}
}

func TestSearchSuggest(t *testing.T) {
	f := &searchFake{hits: searchHits()}
	hs := newSearchServer(t, f)
	resp, body := get(t, hs.URL+"/search/suggest?q=pay", "HX-Request", "true", "HX-Target", "site-search-suggestions")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("suggest: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, `<div id="site-search-listbox" role="listbox"`) || strings.Contains(body, "<html") {
		t.Errorf("suggest fragment: %.200s", body)
	}
	qs := f.last()
	if len(qs) != 1 || !reflect.DeepEqual(qs[0], search.Query{Term: "pay", Prefix: true, Limit: 8}) {
		t.Errorf("suggest queries %+v", qs)
	}
	// Eight at most, less the two whose location is not a portal path,
	// plus "see all".
	if n := strings.Count(body, `role="option"`); n != 7 {
		t.Errorf("%d options: %s", n, body)
	}
	for _, want := range []string{
		`<a id="site-search-opt-0" class="suggestion" role="option" aria-selected="false" tabindex="-1" href="/catalog/default/component/payment-gateway"><span class="s-title"><mark>Payment</mark> gateway</span> <span class="s-kind">Component</span></a>`,
		`&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; API`,
		`<span class="s-kind">Docs</span>`,
		`href="/search?q=pay">See all results for “pay”`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("suggestions lack %s in %s", want, body)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "javascript:") || strings.Contains(body, "//evil") {
		t.Errorf("suggestions unsafe: %s", body)
	}
	// Nothing typed, too long, or the index failing: an empty list.
	for _, q := range []string{"", "+++", url.QueryEscape(strings.Repeat("x", 101))} {
		resp, body := get(t, hs.URL+"/search/suggest?q="+q)
		if resp.StatusCode != 200 || body != "" {
			t.Errorf("suggest %.20s: %d %q", q, resp.StatusCode, body)
		}
	}
	f.err = errors.New("closed")
	if resp, body := get(t, hs.URL+"/search/suggest?q=pay"); resp.StatusCode != 200 || body != "" {
		t.Errorf("suggest on a failing index: %d %q", resp.StatusCode, body)
	}
}

// The header box is a combobox wired to the suggestions, and a plain form
// without JavaScript.
func TestSearchBoxInLayout(t *testing.T) {
	hs := newSearchServer(t, &searchFake{})
	_, body := get(t, hs.URL+"/search")
	for _, want := range []string{
		`<form class="site-search" role="search" action="/search" method="get">`,
		`role="combobox"`, `aria-expanded="false"`, `aria-controls="site-search-listbox"`,
		`hx-get="/search/suggest"`, `hx-trigger="input changed delay:150ms, focus"`, `hx-target="#site-search-suggestions"`,
		`<div id="site-search-suggestions" class="suggestions" hidden></div>`,
		`<script src="/static/js/search.js?v=`,
		`<a href="/search" aria-current="page">Search</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("layout lacks %s", want)
		}
	}
	resp, js := get(t, hs.URL+"/static/js/search.js")
	if resp.StatusCode != 200 || !strings.Contains(js, "aria-activedescendant") {
		t.Errorf("search.js: %d", resp.StatusCode)
	}
}

// Without an index the box's searches go to the catalog's text filter.
func TestSearchWithoutIndex(t *testing.T) {
	hs := httptest.NewServer((&web.Server{}).Handler())
	t.Cleanup(hs.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hs.URL + "/search?q=billing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/catalog?kind=&q=billing" {
		t.Errorf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := get(t, hs.URL+"/search/suggest?q=billing")
	if resp.StatusCode != 200 || body != "" {
		t.Errorf("suggest without an index: %d %q", resp.StatusCode, body)
	}
}
