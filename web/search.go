package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/search"
)

// Searcher runs searches: the search index.
type Searcher interface {
	Search(ctx context.Context, q search.Query) (*search.Result, error)
}

// The search page's limits.
const (
	searchPageSize   = 25
	maxSearchPage    = 400 // 10,000 results: the index collects offset+limit hits
	searchFacetSize  = 10  // values per facet
	maxFilterValues  = 20  // values per filter parameter
	maxFilterValue   = 200 // bytes of a filter value
	suggestLimit     = 8
	searchSnippetLen = 240 // runes of text when the index gives no snippet
)

// searchParam ties a URL parameter of the search page to a facet.
type searchParam struct {
	Param, Facet, Title string
}

// searchParams are the filters, in the order the sidebar shows them.
var searchParams = []searchParam{
	{"type", search.FacetType, "Result type"},
	{"kind", search.FacetKind, "Kind"},
	{"spec.type", search.FacetSpecType, "Type"},
	{"owner", search.FacetOwner, "Owner"},
	{"lifecycle", search.FacetLifecycle, "Lifecycle"},
	{"tag", search.FacetTags, "Tag"},
}

// searchQuery is the search page's state, all of it in the URL.
type searchQuery struct {
	Term    string
	Filters map[string][]string // facet field → values, in the URL's order
	Page    int                 // from 1
}

func parseSearchQuery(v url.Values) searchQuery {
	q := searchQuery{Term: strings.TrimSpace(v.Get("q")), Filters: map[string][]string{}, Page: 1}
	for _, p := range searchParams {
		vals := v[p.Param]
		if p.Param == "spec.type" {
			vals = append(append([]string(nil), vals...), v["specType"]...)
		}
		for _, s := range vals {
			s = strings.TrimSpace(s)
			if s == "" || len(s) > maxFilterValue || len(q.Filters[p.Facet]) >= maxFilterValues || hasFold(q.Filters[p.Facet], s) {
				continue
			}
			q.Filters[p.Facet] = append(q.Filters[p.Facet], s)
		}
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 0 {
		q.Page = min(n, maxSearchPage)
	}
	return q
}

func hasFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// values writes the state back as URL parameters.
func (q searchQuery) values() url.Values {
	v := url.Values{}
	if q.Term != "" {
		v.Set("q", q.Term)
	}
	for _, p := range searchParams {
		for _, s := range q.Filters[p.Facet] {
			v.Add(p.Param, s)
		}
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

func (q searchQuery) URL() string {
	if s := q.values().Encode(); s != "" {
		return "/search?" + s
	}
	return "/search"
}

func (q searchQuery) filtered() bool {
	for _, vals := range q.Filters {
		if len(vals) > 0 {
			return true
		}
	}
	return false
}

// with returns a copy whose filters are its own.
func (q searchQuery) with(facet string, values []string) searchQuery {
	f := make(map[string][]string, len(q.Filters))
	for k, v := range q.Filters {
		if k != facet {
			f[k] = v
		}
	}
	if len(values) > 0 {
		f[facet] = values
	}
	q.Filters = f
	return q
}

// toggled is the link of a facet value: the filter added, or removed when
// selected; back to the first page either way.
func (q searchQuery) toggled(facet, value string) string {
	var vals []string
	found := false
	for _, s := range q.Filters[facet] {
		if strings.EqualFold(s, value) {
			found = true
			continue
		}
		vals = append(vals, s)
	}
	if !found {
		vals = append(vals, value)
	}
	q = q.with(facet, vals)
	q.Page = 1
	return q.URL()
}

func (q searchQuery) withPage(n int) string {
	q.Page = n
	return q.URL()
}

// cleared keeps the term and drops every filter.
func (q searchQuery) cleared() string {
	return searchQuery{Term: q.Term, Page: 1}.URL()
}

// index is the query the index runs for this state.
func (q searchQuery) index() search.Query {
	iq := search.Query{
		Term:      q.Term,
		Facets:    search.Facets,
		FacetSize: searchFacetSize,
		Offset:    (q.Page - 1) * searchPageSize,
		Limit:     searchPageSize,
	}
	for k, v := range q.Filters {
		if len(v) > 0 {
			if iq.Filters == nil {
				iq.Filters = map[string][]string{}
			}
			iq.Filters[k] = v
		}
	}
	return iq
}

// searchHit is a result as the page shows it.
type searchHit struct {
	Href      string // the portal path; "" when the index's location is not one
	Title     string
	TitleHTML string // the index's highlighted title (trusted HTML), if any
	Snippet   string
	SnipHTML  string // the index's highlighted text (trusted HTML), if any
	Docs      bool   // a TechDocs page rather than a catalog entity
	TypeLabel string
	Kind      string // as the built-in kinds are spelled
	SpecType  string
	Lifecycle string
	Owner     string // the owner, humanized
	OwnerHref string
}

// facetOption is one value of a facet in the sidebar.
type facetOption struct {
	Value, Label string
	Count        int // -1: not among the counted values
	Selected     bool
	Href         string
}

type facetGroup struct {
	Param, Title string
	Options      []facetOption
	Selected     int
}

type searchView struct {
	Q      searchQuery
	Hits   []searchHit
	Total  int
	Pages  int
	Facets []facetGroup
	// Prompt: no term and no filter, so no results, only the facets.
	Prompt bool
	Error  string // a message for a search the index refuses
}

func (v searchView) firstHit() int { return (v.Q.Page-1)*searchPageSize + 1 }

func (v searchView) lastHit() int { return (v.Q.Page-1)*searchPageSize + len(v.Hits) }

// searchPage is the search page: results, facets and paging. htmx asks
// for the part it swaps (HX-Target search-view: facets and results;
// search-results: the results alone, when paging).
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := parseSearchQuery(r.URL.Query())
	if s.Search == nil || restricted(r.Context()) {
		// No index: the catalog's text filter finds entities by name and title.
		cq := catalogQuery{Kind: "", Text: q.Term, Page: 1, Size: defaultPageSize, Sort: "name"}
		http.Redirect(w, r, cq.URL(), http.StatusSeeOther)
		return
	}
	v, err := s.searchView(r.Context(), q)
	if errors.Is(err, context.Canceled) {
		return
	}
	status := http.StatusOK
	if err != nil {
		v.Error = searchError(q, err)
		// Only a term that is too long is the user's doing; the index runs
		// match queries, so anything else is the server's.
		status = http.StatusBadRequest
		if !errors.Is(err, search.ErrTermTooLong) {
			s.Log.Error("search", "term", q.Term, "error", err)
			status = http.StatusInternalServerError
		}
	}
	switch htmxTarget(r) {
	case "search-view":
		// htmx swaps only successful answers: the message is in the body.
		s.render(w, r, http.StatusOK, searchBody(v))
	case "search-results":
		s.render(w, r, http.StatusOK, searchResults(v))
	default:
		p := s.page(r, "Search", "/search")
		if q.Term != "" {
			p.Title = "“" + truncate(q.Term, 60) + "” · Search"
		}
		p.Query = q.Term
		s.render(w, r, status, searchPageView(p, v))
	}
}

// searchError is what the page says about a refused search.
func searchError(q searchQuery, err error) string {
	if errors.Is(err, search.ErrTermTooLong) {
		return fmt.Sprintf("The search term is %d characters long; search takes at most %d. Shorten it and search again.",
			utf8.RuneCountInString(q.Term), search.MaxTermLength)
	}
	return "The search index could not run this search; try again in a moment."
}

func (s *Server) searchView(ctx context.Context, q searchQuery) (searchView, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v := searchView{Q: q, Pages: 1, Prompt: q.Term == "" && !q.filtered()}
	if utf8.RuneCountInString(q.Term) > search.MaxTermLength {
		return v, search.ErrTermTooLong
	}
	iq := q.index()
	// Selected facets are counted apart, below.
	iq.Facets = nil
	for _, p := range searchParams {
		if len(q.Filters[p.Facet]) == 0 {
			iq.Facets = append(iq.Facets, p.Facet)
		}
	}
	if v.Prompt {
		iq.Offset, iq.Limit = 0, 1 // only the facets, to browse by
	}
	res, err := s.Search.Search(ctx, iq)
	if err != nil {
		return v, err
	}
	facets := res.Facets
	// A selected facet counts its values as if it were not selected, so
	// its other values stay offered (OR within a facet).
	for _, p := range searchParams {
		if len(q.Filters[p.Facet]) == 0 {
			continue
		}
		fq := q.with(p.Facet, nil).index()
		fq.Facets, fq.Offset, fq.Limit = []string{p.Facet}, 0, 1
		fr, err := s.Search.Search(ctx, fq)
		if err != nil {
			return v, err
		}
		facets = withFacet(facets, p.Facet, fr.Facets[p.Facet])
	}
	v.Facets = facetGroups(q, facets)
	if v.Prompt {
		return v, nil
	}
	v.Total = res.Total
	v.Pages = max(1, min(maxSearchPage, (res.Total+searchPageSize-1)/searchPageSize))
	for _, h := range res.Hits {
		v.Hits = append(v.Hits, hitView(h))
	}
	return v, nil
}

// withFacet copies the facet counts with one field's replaced.
func withFacet(m map[string][]search.FacetValue, field string, vals []search.FacetValue) map[string][]search.FacetValue {
	out := make(map[string][]search.FacetValue, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[field] = vals
	return out
}

// facetGroups makes the sidebar: every facet with values, its selected
// values always among them.
func facetGroups(q searchQuery, facets map[string][]search.FacetValue) []facetGroup {
	var out []facetGroup
	for _, p := range searchParams {
		g := facetGroup{Param: p.Param, Title: p.Title}
		selected := q.Filters[p.Facet]
		for _, fv := range facets[p.Facet] {
			if fv.Value == "" {
				continue
			}
			sel := hasFold(selected, fv.Value)
			g.Options = append(g.Options, facetOption{Value: fv.Value, Label: facetLabel(p.Facet, fv.Value), Count: fv.Count, Selected: sel, Href: q.toggled(p.Facet, fv.Value)})
		}
		for _, s := range selected {
			found := false
			for _, o := range g.Options {
				found = found || strings.EqualFold(o.Value, s)
			}
			if !found {
				g.Options = append(g.Options, facetOption{Value: s, Label: facetLabel(p.Facet, s), Count: -1, Selected: true, Href: q.toggled(p.Facet, s)})
			}
		}
		// Owners written two ways ("team-a", "group:default/team-a") read
		// the same once humanized: those show as written.
		labels := map[string]int{}
		for _, o := range g.Options {
			labels[o.Label]++
		}
		for i, o := range g.Options {
			if labels[o.Label] > 1 {
				g.Options[i].Label = o.Value
			}
			if o.Selected {
				g.Selected++
			}
		}
		if len(g.Options) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// facetLabel is how a facet value reads: document types by name, kinds
// as spelled, owners as Backstage shows refs.
func facetLabel(facet, value string) string {
	switch facet {
	case search.FacetType:
		return typeLabel(value)
	case search.FacetKind:
		return kindLabel(value)
	case search.FacetOwner:
		if r, err := catalog.ParseRef(value, catalog.RefDefaults{Kind: "Group", Namespace: catalog.DefaultNamespace}); err == nil {
			return humanize(r, "group")
		}
	}
	return value
}

func typeLabel(t string) string {
	switch t {
	case search.TypeCatalog:
		return "Catalog"
	case search.TypeTechDocs:
		return "Documentation"
	}
	return t
}

func hitView(h search.Hit) searchHit {
	v := searchHit{
		Href:      portalPath(h.Location),
		Title:     h.Title,
		TitleHTML: h.Highlights["title"],
		SnipHTML:  h.Highlights["text"],
		Docs:      h.Type == search.TypeTechDocs,
		TypeLabel: typeLabel(h.Type),
		Kind:      kindLabel(h.Kind),
		SpecType:  h.SpecType,
		Lifecycle: h.Lifecycle,
	}
	if v.Title == "" {
		v.Title = h.Name
	}
	if v.Title == "" {
		v.Title = h.Location
	}
	if v.SnipHTML == "" {
		v.Snippet = truncate(h.Text, searchSnippetLen)
	}
	if h.Owner != "" {
		if r, err := catalog.ParseRef(h.Owner, catalog.RefDefaults{Kind: "Group", Namespace: orDefault(h.Namespace)}); err == nil {
			v.Owner, v.OwnerHref = humanize(r, "group"), entityHref(r)
		} else {
			v.Owner = h.Owner
		}
	}
	return v
}

func orDefault(ns string) string {
	if ns == "" {
		return catalog.DefaultNamespace
	}
	return ns
}

// portalPath accepts a path of the portal ("/catalog/…", "/docs/…") and
// nothing else: no other host, no scheme.
func portalPath(loc string) string {
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return loc
}

// suggestion is an option of the header box's list.
type suggestion struct {
	ID, Href, Title, TitleHTML, Kind string
}

type suggestView struct {
	Term    string
	Options []suggestion
	AllHref string
}

// searchSuggest answers the header box's typeahead with a listbox of the
// best matches for the words typed so far (the last one as a prefix) and
// a last option leading to every result.
func (s *Server) searchSuggest(w http.ResponseWriter, r *http.Request) {
	term := strings.TrimSpace(r.URL.Query().Get("q"))
	if term == "" || s.Search == nil || restricted(r.Context()) || utf8.RuneCountInString(term) > search.MaxTermLength {
		s.render(w, r, http.StatusOK, templ.NopComponent)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	res, err := s.Search.Search(ctx, search.Query{Term: term, Prefix: true, Limit: suggestLimit})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		if !errors.Is(err, search.ErrTermTooLong) {
			s.Log.Error("search suggestions", "term", term, "error", err)
		}
		s.render(w, r, http.StatusOK, templ.NopComponent)
		return
	}
	v := suggestView{Term: term, AllHref: searchQuery{Term: term}.URL()}
	for i, h := range res.Hits {
		if i == suggestLimit {
			break
		}
		href := portalPath(h.Location)
		if href == "" {
			continue
		}
		kind := kindLabel(h.Kind)
		if h.Type == search.TypeTechDocs {
			kind = "Docs"
		}
		title := h.Title
		if title == "" {
			title = h.Name
		}
		v.Options = append(v.Options, suggestion{
			ID: "site-search-opt-" + strconv.Itoa(len(v.Options)), Href: href, Title: title, TitleHTML: h.Highlights["title"], Kind: kind,
		})
	}
	s.render(w, r, http.StatusOK, suggestList(v))
}
