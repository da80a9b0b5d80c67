package search

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// apiFakeSearcher records the query and answers with total hits numbered
// from the query's offset.
type apiFakeSearcher struct {
	total int
	err   error
	got   *Query
}

func (f *apiFakeSearcher) Search(ctx context.Context, q Query) (*Result, error) {
	f.got = &q
	if f.err != nil {
		return nil, f.err
	}
	res := &Result{Total: f.total}
	limit := q.Limit
	if limit == 0 {
		limit = 25
	}
	for i := q.Offset; i < f.total && i < q.Offset+limit; i++ {
		res.Hits = append(res.Hits, Hit{
			Document: Document{
				ID: fmt.Sprintf("software-catalog:component:default/c%d", i), Type: TypeCatalog,
				Title: fmt.Sprintf("C %d & co", i), Text: "Serves <orders>", Location: fmt.Sprintf("/catalog/default/component/c%d", i),
				Name: fmt.Sprintf("c%d", i), Kind: "Component", Namespace: "default", SpecType: "service",
				Lifecycle: "production", Owner: "team-a",
			},
			Highlights: map[string]string{"title": fmt.Sprintf("<mark>C</mark> %d &amp; co", i), "text": "Serves &lt;orders&gt;"},
		})
	}
	return res, nil
}

func apiGet(t *testing.T, h http.Handler, query string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/query"+query, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s: content type %q", query, ct)
	}
	body, _ := io.ReadAll(rec.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: %v: %s", query, err, body)
	}
	return rec.Code, out
}

func apiCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(offset)))
}

func TestAPIQueryParameters(t *testing.T) {
	cases := []struct {
		name, query string
		want        Query
	}{
		{"defaults", "", Query{Limit: 25}},
		{"term", "?term=payment+gateway", Query{Term: "payment gateway", Limit: 25}},
		{"syntax is text", "?term=%22a%3Ab*~%5B%28", Query{Term: `"a:b*~[(`, Limit: 25}},
		{"types[]", "?term=x&types[]=software-catalog&types[]=techdocs", Query{Term: "x", Types: []string{"software-catalog", "techdocs"}, Limit: 25}},
		{"types[i] as qs writes them", "?types%5B1%5D=techdocs&types%5B0%5D=software-catalog", Query{Types: []string{"software-catalog", "techdocs"}, Limit: 25}},
		{"types[10] after types[2]", "?types[10]=b&types[2]=a", Query{Types: []string{"a", "b"}, Limit: 25}},
		{"plain types", "?types=techdocs", Query{Types: []string{"techdocs"}, Limit: 25}},
		{"filter value", "?filters[kind]=Component", Query{Filters: map[string][]string{FacetKind: {"Component"}}, Limit: 25}},
		{"filter list", "?filters[kind][]=a&filters[kind][]=b", Query{Filters: map[string][]string{FacetKind: {"a", "b"}}, Limit: 25}},
		{"filter indexed list", "?filters%5Bkind%5D%5B1%5D=b&filters%5Bkind%5D%5B0%5D=a", Query{Filters: map[string][]string{FacetKind: {"a", "b"}}, Limit: 25}},
		{"filter keys", "?filters[namespace]=default&filters[lifecycle]=production&filters[owner]=team-a&filters[type]=techdocs&filters[componentType]=service&filters[tags][]=go",
			Query{Filters: map[string][]string{FacetNamespace: {"default"}, FacetLifecycle: {"production"}, FacetOwner: {"team-a"},
				FacetType: {"techdocs"}, FacetSpecType: {"service"}, FacetTags: {"go"}}, Limit: 25}},
		{"spec.type", "?filters[spec.type]=website", Query{Filters: map[string][]string{FacetSpecType: {"website"}}, Limit: 25}},
		{"duplicates and blanks", "?filters[kind]=a&filters[kind][]=a&filters[kind][]=", Query{Filters: map[string][]string{FacetKind: {"a"}}, Limit: 25}},
		{"page limit", "?pageLimit=100", Query{Limit: 100}},
		{"cursor", "?pageCursor=" + apiCursor(50) + "&pageLimit=10", Query{Offset: 50, Limit: 10}},
		{"url-safe cursor unpadded", "?pageCursor=" + base64.RawURLEncoding.EncodeToString([]byte("5")), Query{Offset: 5, Limit: 25}},
		{"term of 100 characters", "?term=" + strings.Repeat("é", 100), Query{Term: strings.Repeat("é", 100), Limit: 25}},
		{"other parameters ignored", "?foo=bar&filters=x", Query{Limit: 25}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &apiFakeSearcher{}
			status, body := apiGet(t, Handler(f), c.query)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, body)
			}
			if !reflect.DeepEqual(*f.got, c.want) {
				t.Errorf("query\n got %#v\nwant %#v", *f.got, c.want)
			}
		})
	}
}

func TestAPIRefusesBadParameters(t *testing.T) {
	cases := map[string]string{ // query → part of the message
		"?term=" + strings.Repeat("x", 101): "the term is 101 characters long",
		"?pageLimit=0":                      "pageLimit",
		"?pageLimit=-3":                     "pageLimit",
		"?pageLimit=ten":                    "pageLimit",
		"?pageLimit=101":                    "greater than 100",
		"?pageCursor=!!!":                   "pageCursor",
		"?pageCursor=" + apiCursor(-25):     "pageCursor",
		"?pageCursor=" + base64.StdEncoding.EncodeToString([]byte("page 2")): "pageCursor",
		"?filters[color]=red":         `unknown filter "color"`,
		"?filters[metadata][name]=x":  "is not a field",
		"?filters[kind][a]=Component": "is not a field",
		"?term=x" + apiManyValues():   "more than 100 values",
	}
	for query, msg := range cases {
		f := &apiFakeSearcher{}
		status, body := apiGet(t, Handler(f), query)
		if status != http.StatusBadRequest {
			t.Errorf("%.60s: status %d", query, status)
			continue
		}
		e, _ := body["error"].(map[string]any)
		if e["name"] != "InputError" || !strings.HasPrefix(fmt.Sprint(e["message"]), "Invalid query string: ") || !strings.Contains(fmt.Sprint(e["message"]), msg) {
			t.Errorf("%.60s: error %v", query, e)
		}
		if resp, _ := body["response"].(map[string]any); resp["statusCode"] != float64(400) {
			t.Errorf("%.60s: response %v", query, body["response"])
		}
		if f.got != nil {
			t.Errorf("%.60s: searched anyway", query)
		}
	}
}

func apiManyValues() string {
	var b strings.Builder
	for i := range 101 {
		fmt.Fprintf(&b, "&filters[kind][]=k%d", i)
	}
	return b.String()
}

func TestAPISearchErrors(t *testing.T) {
	status, body := apiGet(t, Handler(&apiFakeSearcher{err: fmt.Errorf("parse: %w", ErrTermTooLong)}), "?term=x")
	if e, _ := body["error"].(map[string]any); status != 400 || e["name"] != "InputError" {
		t.Errorf("term too long from the index: %d %v", status, body)
	}
	status, body = apiGet(t, Handler(&apiFakeSearcher{err: errors.New("index closed")}), "?term=x")
	if e, _ := body["error"].(map[string]any); status != 500 || e["name"] != "Error" || e["message"] != "index closed" {
		t.Errorf("index failure: %d %v", status, body)
	}
}

// Following nextPageCursor visits every result once, ranks counting on
// across pages; previousPageCursor goes back.
func TestAPICursorsRoundTrip(t *testing.T) {
	f := &apiFakeSearcher{total: 23}
	h := Handler(f)
	query := "?term=c&pageLimit=10"
	var ranks []int
	var prev []string
	for page := 0; ; page++ {
		status, body := apiGet(t, h, query)
		if status != 200 {
			t.Fatalf("page %d: %d %v", page, status, body)
		}
		if body["numberOfResults"] != float64(23) {
			t.Errorf("numberOfResults %v", body["numberOfResults"])
		}
		for _, r := range body["results"].([]any) {
			ranks = append(ranks, int(r.(map[string]any)["rank"].(float64)))
		}
		p, hasPrev := body["previousPageCursor"].(string)
		if hasPrev != (page > 0) {
			t.Errorf("page %d: previousPageCursor %v", page, body["previousPageCursor"])
		}
		prev = append(prev, p)
		next, ok := body["nextPageCursor"].(string)
		if !ok {
			if page != 2 {
				t.Errorf("no next page after page %d", page)
			}
			break
		}
		if page > 5 {
			t.Fatal("cursors do not end")
		}
		query = "?term=c&pageLimit=10&pageCursor=" + next
	}
	for i, r := range ranks {
		if r != i+1 {
			t.Fatalf("ranks %v", ranks)
		}
	}
	if len(ranks) != 23 {
		t.Errorf("%d results over the pages", len(ranks))
	}
	// The last page's previous cursor is the second page's.
	apiGet(t, h, "?term=c&pageLimit=10&pageCursor="+prev[2])
	if f.got.Offset != 10 {
		t.Errorf("previous cursor of the last page reads offset %d", f.got.Offset)
	}
	for _, off := range []int{0, 1, 25, 99999} {
		if n, err := decodeCursor(encodeCursor(off)); err != nil || n != off {
			t.Errorf("cursor %d: %d %v", off, n, err)
		}
	}
}

func TestAPIResponseShape(t *testing.T) {
	h := Handler(&apiFakeSearcher{total: 30})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/query?term=c&pageLimit=2&pageCursor="+apiCursor(4), nil))
	var got struct {
		Results []struct {
			Type      string            `json:"type"`
			Document  map[string]string `json:"document"`
			Highlight struct {
				PreTag, PostTag string
				Fields          map[string]string
			} `json:"highlight"`
			Rank int `json:"rank"`
		} `json:"results"`
		NextPageCursor     string `json:"nextPageCursor"`
		PreviousPageCursor string `json:"previousPageCursor"`
		NumberOfResults    int    `json:"numberOfResults"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != 2 || got.NumberOfResults != 30 || got.NextPageCursor != apiCursor(6) || got.PreviousPageCursor != apiCursor(2) {
		t.Fatalf("result set %+v", got)
	}
	r := got.Results[0]
	wantDoc := map[string]string{
		"title": "C 4 & co", "text": "Serves <orders>", "location": "/catalog/default/component/c4",
		"kind": "Component", "namespace": "default", "name": "c4", "componentType": "service", "type": "service",
		"lifecycle": "production", "owner": "team-a",
	}
	if r.Type != "software-catalog" || r.Rank != 5 || !reflect.DeepEqual(r.Document, wantDoc) {
		t.Errorf("result %+v", r)
	}
	if r.Highlight.PreTag != "<mark>" || r.Highlight.PostTag != "</mark>" ||
		r.Highlight.Fields["title"] != "<mark>C</mark> 4 & co" || r.Highlight.Fields["text"] != "Serves <orders>" {
		t.Errorf("highlight %+v", r.Highlight)
	}
	if got.Results[1].Rank != 6 {
		t.Errorf("second rank %d", got.Results[1].Rank)
	}

	// No results: an empty list, not null; no cursors.
	rec = httptest.NewRecorder()
	Handler(&apiFakeSearcher{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/query?term=zzz", nil))
	if body := rec.Body.String(); body != `{"results":[],"numberOfResults":0}` {
		t.Errorf("empty result set %s", body)
	}

	// Only GET.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/query", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// Mounted under /api/search by a chi router or by a prefix strip.
func TestAPIMounted(t *testing.T) {
	r := chi.NewRouter()
	r.Mount("/api/search", Handler(&apiFakeSearcher{total: 1}))
	mux := http.NewServeMux()
	mux.Handle("/api/search/", http.StripPrefix("/api/search", Handler(&apiFakeSearcher{total: 1})))
	for _, h := range []http.Handler{r, mux} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/search/query?term=c", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"numberOfResults":1`) {
			t.Errorf("mounted: %d %s", rec.Code, rec.Body.String())
		}
	}
}

// The API in front of the real index: filters as Backstage writes them,
// query syntax as text, highlights as text with the tags.
func TestAPIWithIndex(t *testing.T) {
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	err = ix.Put(
		Document{ID: "software-catalog:component:default/payment-gateway", Type: TypeCatalog, Title: "Payment gateway",
			Text: "Captures payments & <refunds>.", Location: "/catalog/default/component/payment-gateway", Name: "payment-gateway",
			Kind: "Component", Namespace: "default", SpecType: "service", Lifecycle: "production", Owner: "team-payments"},
		Document{ID: "software-catalog:api:default/payments-api", Type: TypeCatalog, Title: "Payments API",
			Text: "REST API of payments.", Location: "/catalog/default/api/payments-api", Name: "payments-api",
			Kind: "API", Namespace: "default", SpecType: "openapi", Owner: "team-payments"},
	)
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(ix)
	status, body := apiGet(t, h, "?term=payment&types[0]=software-catalog&filters[kind]=Component")
	if status != 200 || body["numberOfResults"] != float64(1) {
		t.Fatalf("%d %v", status, body)
	}
	r := body["results"].([]any)[0].(map[string]any)
	doc := r["document"].(map[string]any)
	if doc["location"] != "/catalog/default/component/payment-gateway" || r["rank"] != float64(1) || r["type"] != "software-catalog" {
		t.Errorf("result %v", r)
	}
	hl, _ := r["highlight"].(map[string]any)
	fields, _ := hl["fields"].(map[string]any)
	if !strings.Contains(fmt.Sprint(fields["title"]), "<mark>Payment</mark>") || !strings.Contains(fmt.Sprint(fields["text"]), "& <refunds>") {
		t.Errorf("highlight %v", hl)
	}
	for _, term := range []string{`"payment`, `kind:api`, `pay*`, `payment~`, `(payment]`, `{payments}`} {
		if status, body := apiGet(t, h, "?term="+url.QueryEscape(term)); status != 200 {
			t.Errorf("%s: %d %v", term, status, body)
		}
	}
	if status, _ := apiGet(t, h, "?term="+strings.Repeat("x", 101)); status != 400 {
		t.Errorf("long term: %d", status)
	}
}
