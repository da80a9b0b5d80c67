package search

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog/api"
)

// Searcher runs searches: the Index, or a fake in tests.
type Searcher interface {
	Search(ctx context.Context, q Query) (*Result, error)
}

// Limits of Backstage's search API (search-backend's query route).
const (
	defaultPageLimit = 25
	maxPageLimit     = 100
	// maxOffset bounds what a cursor may ask for: the index collects
	// offset+limit hits to return a page.
	maxOffset = 100_000
	// maxFilterValues bounds the values of one filter field.
	maxFilterValues = 100
)

// filterFields maps the filter keys of Backstage's query to facet fields.
var filterFields = map[string]string{
	"type":          FacetType,
	"kind":          FacetKind,
	"namespace":     FacetNamespace,
	"lifecycle":     FacetLifecycle,
	"owner":         FacetOwner,
	"componentType": FacetSpecType,
	"spec.type":     FacetSpecType,
	"tags":          FacetTags,
}

// Handler serves Backstage's search API (mounted at /api/search):
//
//	GET /query?term=…&types[0]=…&filters[kind]=…&pageCursor=…&pageLimit=…
//
// answering {results, nextPageCursor, previousPageCursor, numberOfResults}
// as @backstage/plugin-search-backend does, so Backstage's search client
// works against Greenroom.
func Handler(s Searcher) http.Handler {
	r := chi.NewRouter()
	r.Get("/query", func(w http.ResponseWriter, r *http.Request) {
		q, err := parseAPIQuery(r.URL.Query())
		if err != nil {
			api.WriteError(w, r, err)
			return
		}
		res, err := s.Search(r.Context(), q)
		if errors.Is(err, ErrTermTooLong) {
			api.WriteError(w, r, inputError("Invalid query string: %v", err))
			return
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return
			}
			api.WriteError(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, apiResponse(q, res))
	})
	return r
}

func inputError(format string, args ...any) error { return api.InputError(format, args...) }

// Keys written the qs way: "types[0]", "filters[kind][]".
var (
	typesKey  = regexp.MustCompile(`^types(\[\d*\])?$`)
	filterKey = regexp.MustCompile(`^filters\[([^\[\]]+)\](\[\d*\])?$`)
)

// parseAPIQuery reads the query string as Backstage's search client
// writes it with qs: term, types[0]…, filters[field] or filters[field][i],
// pageCursor, pageLimit.
func parseAPIQuery(v url.Values) (Query, error) {
	q := Query{Term: strings.TrimSpace(v.Get("term")), Limit: defaultPageLimit}
	if n := utf8.RuneCountInString(q.Term); n > MaxTermLength {
		return q, inputError("Invalid query string: the term is %d characters long, the limit is %d", n, MaxTermLength)
	}
	if s := v.Get("pageLimit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n < 1:
			return q, inputError("Invalid query string: pageLimit %q is not a positive whole number", s)
		case n > maxPageLimit:
			return q, inputError("Invalid query string: pageLimit %d is greater than %d", n, maxPageLimit)
		}
		q.Limit = n
	}
	if c := v.Get("pageCursor"); c != "" {
		off, err := decodeCursor(c)
		if err != nil {
			return q, inputError("Invalid query string: pageCursor %q is not a cursor this API gave", c)
		}
		q.Offset = off
	}
	// Keys in a fixed order, so the values of indexed keys keep theirs.
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return indexedLess(keys[i], keys[j]) })
	for _, k := range keys {
		switch {
		case typesKey.MatchString(k):
			q.Types = appendValues(q.Types, v[k])
		case filterKey.MatchString(k):
			name := filterKey.FindStringSubmatch(k)[1]
			field, ok := filterFields[name]
			if !ok {
				return q, inputError("Invalid query string: unknown filter %q; filters are %s", name, strings.Join(filterNames(), ", "))
			}
			if q.Filters == nil {
				q.Filters = map[string][]string{}
			}
			q.Filters[field] = appendValues(q.Filters[field], v[k])
			if len(q.Filters[field]) > maxFilterValues {
				return q, inputError("Invalid query string: filter %q has more than %d values", name, maxFilterValues)
			}
		case strings.HasPrefix(k, "filters["):
			return q, inputError("Invalid query string: filter %q is not a field and a value or list of values", k)
		}
	}
	if len(q.Types) > maxFilterValues {
		return q, inputError("Invalid query string: more than %d types", maxFilterValues)
	}
	return q, nil
}

// appendValues adds the non-empty values not there yet.
func appendValues(to, values []string) []string {
	for _, s := range values {
		s = strings.TrimSpace(s)
		if s != "" && !hasValue(to, s) {
			to = append(to, s)
		}
	}
	return to
}

func hasValue(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// indexedLess orders "types[2]" before "types[10]" and otherwise by name.
func indexedLess(a, b string) bool {
	pa, ia := splitIndex(a)
	pb, ib := splitIndex(b)
	if pa != pb {
		return pa < pb
	}
	return ia < ib
}

// splitIndex splits a trailing "[n]" off a key; other keys get index -1.
func splitIndex(k string) (string, int) {
	if !strings.HasSuffix(k, "]") {
		return k, -1
	}
	i := strings.LastIndexByte(k, '[')
	if i < 0 {
		return k, -1
	}
	n, err := strconv.Atoi(k[i+1 : len(k)-1])
	if err != nil {
		return k, -1
	}
	return k[:i], n
}

func filterNames() []string {
	names := make([]string, 0, len(filterFields))
	for k := range filterFields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Cursors are the offset of a page's first result, base64-encoded as
// Backstage's engines encode theirs; clients pass them back unread.
func encodeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, error) {
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(c); err == nil {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, err
	}
	if n < 0 || n > maxOffset {
		return 0, fmt.Errorf("offset %d out of range", n)
	}
	return n, nil
}

// The response, as Backstage's SearchResultSet.
type apiResultSet struct {
	Results            []apiResult `json:"results"`
	NextPageCursor     string      `json:"nextPageCursor,omitempty"`
	PreviousPageCursor string      `json:"previousPageCursor,omitempty"`
	NumberOfResults    int         `json:"numberOfResults"`
}

type apiResult struct {
	Type      string        `json:"type"`
	Document  apiDocument   `json:"document"`
	Highlight *apiHighlight `json:"highlight,omitempty"`
	Rank      int           `json:"rank"`
}

// apiDocument is Backstage's CatalogEntityDocument: componentType is the
// older name of type (spec.type), both are sent.
type apiDocument struct {
	Title         string `json:"title"`
	Text          string `json:"text"`
	Location      string `json:"location"`
	Kind          string `json:"kind"`
	Namespace     string `json:"namespace"`
	Name          string `json:"name"`
	ComponentType string `json:"componentType"`
	Type          string `json:"type"`
	Lifecycle     string `json:"lifecycle"`
	Owner         string `json:"owner"`
}

type apiHighlight struct {
	PreTag  string            `json:"preTag"`
	PostTag string            `json:"postTag"`
	Fields  map[string]string `json:"fields"`
}

func apiResponse(q Query, res *Result) apiResultSet {
	out := apiResultSet{Results: make([]apiResult, 0, len(res.Hits)), NumberOfResults: res.Total}
	for i, h := range res.Hits {
		r := apiResult{
			Type: h.Type,
			Document: apiDocument{
				Title: h.Title, Text: h.Text, Location: h.Location,
				Kind: h.Kind, Namespace: h.Namespace, Name: h.Name,
				ComponentType: h.SpecType, Type: h.SpecType,
				Lifecycle: h.Lifecycle, Owner: h.Owner,
			},
			Rank: q.Offset + i + 1,
		}
		// The index's highlights are HTML; Backstage's are text with the
		// tags marking the matches, which its frontend renders as text.
		fields := map[string]string{}
		for _, f := range []string{"title", "text"} {
			if s := h.Highlights[f]; s != "" {
				fields[f] = html.UnescapeString(s)
			}
		}
		if len(fields) > 0 {
			r.Highlight = &apiHighlight{PreTag: "<mark>", PostTag: "</mark>", Fields: fields}
		}
		out.Results = append(out.Results, r)
	}
	if end := q.Offset + len(res.Hits); len(res.Hits) > 0 && end < res.Total && q.Offset+q.Limit <= maxOffset {
		out.NextPageCursor = encodeCursor(q.Offset + q.Limit)
	}
	if q.Offset > 0 {
		out.PreviousPageCursor = encodeCursor(max(0, q.Offset-q.Limit))
	}
	return out
}
