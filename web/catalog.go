package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// The catalog page's limits keep its HTML small whatever the catalog's
// size: a bounded page of rows, bounded option lists, truncated text.
const (
	defaultPageSize = 25
	maxPageSize     = 100
	maxOptions      = 100 // values offered per filter (the most common ones)
	maxDescription  = 160 // runes of description per row
	maxRowTags      = 5
	maxTextFilter   = catalog.MaxFilterLength
)

// catalogQuery is the catalog page's state, all of it in the URL so any
// view can be linked and reloaded.
type catalogQuery struct {
	Kind      string // lower-case kind; "" for every kind
	Type      string
	Owner     string // as typed: "team-a", "group:default/team-a"
	Lifecycle string
	Namespace string
	Tag       string
	Text      string
	Sort      string // a key of sortKeys
	Desc      bool
	Page      int // from 1
	Size      int
}

// sortKeys maps the table's sortable columns to filter keys. type, owner
// and lifecycle sort only where every entity of the kind has them: the
// store leaves out entities lacking the sort key, as Backstage does, and a
// sort must never hide rows.
var sortKeys = map[string]string{
	"name":      "metadata.name",
	"kind":      "kind",
	"type":      "spec.type",
	"owner":     "spec.owner",
	"lifecycle": "spec.lifecycle",
}

func (q catalogQuery) sortable(col string) bool {
	switch col {
	case "name":
		return true
	case "kind":
		return q.Kind == ""
	case "type", "owner", "lifecycle":
		return q.Kind == "component" || q.Kind == "api"
	}
	return false
}

func parseCatalogQuery(v url.Values) catalogQuery {
	q := catalogQuery{Kind: "component", Page: 1, Size: defaultPageSize, Sort: "name"}
	if k, ok := v["kind"]; ok && len(k) > 0 {
		q.Kind = strings.ToLower(strings.TrimSpace(k[0]))
	}
	q.Type = strings.TrimSpace(v.Get("type"))
	q.Owner = strings.TrimSpace(v.Get("owner"))
	q.Lifecycle = strings.TrimSpace(v.Get("lifecycle"))
	q.Namespace = strings.TrimSpace(v.Get("namespace"))
	q.Tag = strings.TrimSpace(v.Get("tag"))
	q.Text = strings.TrimSpace(v.Get("q"))
	if s := v.Get("sort"); s != "" {
		q.Desc = strings.HasPrefix(s, "-")
		q.Sort = strings.TrimPrefix(s, "-")
	}
	if !q.sortable(q.Sort) {
		q.Sort, q.Desc = "name", false
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 0 {
		q.Page = n
	}
	if n, err := strconv.Atoi(v.Get("size")); err == nil && n > 0 {
		q.Size = min(n, maxPageSize)
	}
	return q
}

// values writes the state back as URL parameters, leaving out defaults.
func (q catalogQuery) values() url.Values {
	v := url.Values{}
	v.Set("kind", q.Kind)
	for _, p := range [][2]string{{"type", q.Type}, {"owner", q.Owner}, {"lifecycle", q.Lifecycle},
		{"namespace", q.Namespace}, {"tag", q.Tag}, {"q", q.Text}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	if q.Sort != "name" || q.Desc {
		s := q.Sort
		if q.Desc {
			s = "-" + s
		}
		v.Set("sort", s)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.Size != defaultPageSize {
		v.Set("size", strconv.Itoa(q.Size))
	}
	return v
}

func (q catalogQuery) URL() string { return "/catalog?" + q.values().Encode() }

// withPage and sortedBy are the links of the pager and the column headers.
func (q catalogQuery) withPage(n int) string {
	q.Page = n
	return q.URL()
}

func (q catalogQuery) sortedBy(col string) string {
	if q.Sort == col {
		q.Desc = !q.Desc
	} else {
		q.Sort, q.Desc = col, false
	}
	q.Page = 1
	return q.URL()
}

// ownerRef resolves the owner filter as Backstage resolves spec.owner: a
// Group in the default namespace unless the text says otherwise.
func (q catalogQuery) ownerRef() string {
	r, err := catalog.ParseRef(q.Owner, catalog.RefDefaults{Kind: "Group", Namespace: catalog.DefaultNamespace})
	if err != nil {
		return strings.ToLower(q.Owner)
	}
	return r.String()
}

// filter is the query's predicate without the text term; kindOnly is the
// part the filter options are counted over.
func (q catalogQuery) filter() store.All {
	p := q.kindFilter()
	eq := func(key, value string) {
		if value != "" {
			p = append(p, store.Field{Key: key, Values: []string{strings.ToLower(value)}})
		}
	}
	eq("spec.type", q.Type)
	eq("spec.lifecycle", q.Lifecycle)
	eq("metadata.namespace", q.Namespace)
	eq("metadata.tags", q.Tag)
	if q.Owner != "" {
		eq("relations.ownedby", q.ownerRef())
	}
	return p
}

func (q catalogQuery) kindFilter() store.All {
	if q.Kind == "" {
		return store.All{}
	}
	return store.All{store.Field{Key: "kind", Values: []string{q.Kind}}}
}

// textFields are the keys the text filter looks in: those of Backstage's
// catalog table (EntityTextFilter: name, title, a user's display name).
// Descriptions and docs are for the search page, which has an index.
var textFields = []string{"metadata.name", "metadata.title", "spec.profile.displayname"}

// option is one value of a filter's list, with how many entities have it.
type option struct {
	Value, Label string
	Count        int
}

type catalogView struct {
	Q          catalogQuery
	Kinds      []option
	Types      []option
	Lifecycles []option
	Namespaces []option
	Owners     []option
	Tags       []option
	Rows       []entity
	Total      int
	Pages      int
	Error      string // a message for a filter the catalog cannot answer
}

// facetKeys are the filters whose options are counted from the catalog.
// Owners are offered as written in spec.owner: counting the ownedBy
// relations instead takes over a second at 100k entities, on the first
// view after every change; the filter itself resolves the text to a ref.
var facetKeys = []string{"spec.type", "spec.lifecycle", "metadata.namespace", "metadata.tags", "spec.owner"}

func (s *Server) catalogPage(w http.ResponseWriter, r *http.Request) {
	q := parseCatalogQuery(r.URL.Query())
	v, err := s.catalogView(r, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch htmxTarget(r) {
	case "results":
		s.render(w, r, http.StatusOK, catalogResults(v))
	case "catalog-view":
		s.render(w, r, http.StatusOK, catalogBody(v))
	default:
		s.render(w, r, http.StatusOK, catalogPageView(s.page(r, "Catalog", "/catalog"), v))
	}
}

func (s *Server) catalogView(r *http.Request, q catalogQuery) (catalogView, error) {
	ctx := r.Context()
	v := catalogView{Q: q}
	counts, err := s.Catalog.Count(ctx)
	if err != nil {
		return v, fmt.Errorf("count kinds: %w", err)
	}
	v.Kinds = kindOptions(counts)
	facets, err := s.Catalog.Facets(ctx, facetKeys, q.kindFilter())
	if err != nil {
		return v, fmt.Errorf("filter options: %w", err)
	}
	v.Types = options(facets["spec.type"], q.Type, nil)
	v.Lifecycles = options(facets["spec.lifecycle"], q.Lifecycle, nil)
	v.Namespaces = options(facets["metadata.namespace"], q.Namespace, nil)
	v.Tags = options(facets["metadata.tags"], q.Tag, nil)
	v.Owners = options(facets["spec.owner"], q.Owner, nil)
	if len([]rune(q.Text)) > maxTextFilter {
		v.Error = fmt.Sprintf("The text filter is %d characters long; the catalog matches at most %d.", len([]rune(q.Text)), maxTextFilter)
		return v, nil
	}
	req := store.QueryRequest{
		Filter:     q.filter(),
		SortField:  sortKeys[q.Sort],
		Desc:       q.Desc,
		Offset:     (q.Page - 1) * q.Size,
		Limit:      q.Size,
		CountTotal: true,
	}
	if q.Text != "" {
		req.TextTerm, req.TextFields = q.Text, textFields
	}
	rows, total, err := s.queryEntities(ctx, req)
	if err != nil {
		return v, fmt.Errorf("query catalog: %w", err)
	}
	v.Rows = rows
	v.Total = total
	v.Pages = max(1, (total+q.Size-1)/q.Size)
	return v, nil
}

// kindOptions lists the built-in kinds first, then any others the catalog holds.
func kindOptions(counts map[string]int) []option {
	var out []option
	seen := map[string]bool{}
	for _, k := range kindNames {
		lk := strings.ToLower(k)
		seen[lk] = true
		if counts[lk] > 0 {
			out = append(out, option{Value: lk, Label: k, Count: counts[lk]})
		}
	}
	var other []string
	for k := range counts {
		if !seen[strings.ToLower(k)] {
			other = append(other, k)
		}
	}
	sort.Strings(other)
	for _, k := range other {
		out = append(out, option{Value: strings.ToLower(k), Label: k, Count: counts[k]})
	}
	return out
}

// options turns facet counts into a filter's list: the maxOptions most
// common values in alphabetical order, always including the selected one.
func options(values []store.FacetValue, selected string, label func(string) string) []option {
	vals := values
	if len(vals) > maxOptions {
		vals = mostCommon(values, maxOptions)
		found := selected == ""
		for _, v := range vals {
			found = found || strings.EqualFold(v.Value, selected)
		}
		if !found {
			for _, v := range values {
				if strings.EqualFold(v.Value, selected) {
					vals[len(vals)-1] = v
					break
				}
			}
		}
		slices.SortFunc(vals, func(a, b store.FacetValue) int { return strings.Compare(a.Value, b.Value) })
	}
	out := make([]option, 0, len(vals))
	for _, v := range vals {
		l := v.Value
		if label != nil {
			l = label(v.Value)
		}
		out = append(out, option{Value: v.Value, Label: l, Count: v.Count})
	}
	return out
}

// mostCommon picks the k values with the highest counts (ties: the
// earlier, i.e. alphabetically first) in one pass with a min-heap: owner
// and tag lists run to thousands of values at 100k entities.
func mostCommon(values []store.FacetValue, k int) []store.FacetValue {
	h := make([]store.FacetValue, 0, k)
	less := func(a, b store.FacetValue) bool { // a ranks below b
		return a.Count < b.Count || (a.Count == b.Count && a.Value > b.Value)
	}
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(h) && less(h[l], h[m]) {
				m = l
			}
			if r := l + 1; r < len(h) && less(h[r], h[m]) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for _, v := range values {
		if len(h) < k {
			h = append(h, v)
			for i := len(h) - 1; i > 0 && less(h[i], h[(i-1)/2]); i = (i - 1) / 2 {
				h[i], h[(i-1)/2] = h[(i-1)/2], h[i]
			}
		} else if less(h[0], v) {
			h[0] = v
			down(0)
		}
	}
	return h
}

// Row helpers for the table.

func (e entity) ownerRefs() []catalog.Ref { return e.Targets(catalog.RelationOwnedBy) }

func (e entity) systemRef() (catalog.Ref, bool) {
	sys := e.Spec("system")
	if sys == "" {
		return catalog.Ref{}, false
	}
	r, err := catalog.ParseRef(sys, catalog.RefDefaults{Kind: "System", Namespace: e.Ref.Namespace})
	return r, err == nil
}

func (e entity) rowTags() []string {
	if len(e.Metadata.Tags) > maxRowTags {
		return e.Metadata.Tags[:maxRowTags]
	}
	return e.Metadata.Tags
}

func (e entity) moreTags() int { return max(0, len(e.Metadata.Tags)-maxRowTags) }

func (v catalogView) kindLabel() string {
	if v.Q.Kind == "" {
		return "entities"
	}
	return kindLabel(v.Q.Kind)
}

func (v catalogView) firstRow() int { return (v.Q.Page-1)*v.Q.Size + 1 }

func (v catalogView) lastRow() int { return (v.Q.Page-1)*v.Q.Size + len(v.Rows) }

func lifecycleClass(l string) string { return "lifecycle-" + strings.ToLower(l) }

// sortState is the column header's aria-sort value.
func sortState(q catalogQuery, col string) string {
	switch {
	case q.Sort != col:
		return "none"
	case q.Desc:
		return "descending"
	}
	return "ascending"
}
