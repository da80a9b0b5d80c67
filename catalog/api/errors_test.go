package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

func TestErrorEnvelope(t *testing.T) {
	e := newEnv(t)
	t.Run("unknown routes", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{"GET", "/nope"},
			{"GET", "/entities/nope"},
			{"POST", "/entities"},
			{"PUT", "/entities/by-refs"},
			{"DELETE", "/entities"},
			{"GET", "/entities/by-refs"},
			{"PATCH", "/locations"},
			{"GET", "/entities/by-uid/"},
		} {
			r := e.do(tc.method, tc.path, nil)
			wantError(t, r, tc.method, "/api/catalog"+tc.path, 404, "NotFoundError", "No route for "+tc.method+" /api/catalog"+tc.path)
		}
	})
	t.Run("request url keeps the query", func(t *testing.T) {
		path := "/entities?filter==x&fields=kind"
		r := e.get(path)
		wantError(t, r, "GET", "/api/catalog"+path, 400, "InputError", "Invalid filter, '=x' is not a valid statement (expected a string on the form a=b or a= or a)")
	})
	t.Run("envelope has exactly error, request, response", func(t *testing.T) {
		for _, r := range []resp{e.get("/entities/by-uid/nope"), e.get("/entities?order=x"), e.post("/locations", map[string]any{"type": "url", "target": "x", "y": 1})} {
			m := obj(r.json(t))
			keys := map[string]bool{}
			for k := range m {
				keys[k] = true
			}
			mustEqual(t, "keys", keys, map[string]bool{"error": true, "request": true, "response": true})
		}
	})
	t.Run("bodies", func(t *testing.T) {
		routes := []string{"/entities/by-refs", "/refresh", "/locations", "/analyze-location", "/entities/by-query", "/entity-facets", "/locations/by-query"}
		cases := []struct {
			name, body, contentType, msg string
		}{
			{"malformed JSON", `{"entityRefs":`, "application/json", "*"},
			{"trailing garbage", `{"a":1} x`, "application/json", "*"},
			{"wrong content type", `{"entityRefs":[]}`, "text/plain", "Illegal Content-Type"},
			{"form content type", `entityRefs=x`, "application/x-www-form-urlencoded", "Illegal Content-Type"},
			{"json-ish content type", `{"entityRefs":[]}`, "application/jsonx", "Illegal Content-Type"},
			{"array body", `[1,2,3]`, "application/json", "Expected body to be a JSON object"},
			{"string body", `"hello"`, "application/json", "Expected body to be a JSON object"},
			{"number body", `42`, "application/json", "Expected body to be a JSON object"},
			{"null body", `null`, "application/json", "Expected body to be a JSON object"},
		}
		for _, tc := range cases {
			for _, route := range routes {
				r := e.do("POST", route, tc.body, "Content-Type", tc.contentType)
				wantError(t, r, "POST", "/api/catalog"+route, 400, "InputError", tc.msg)
			}
		}
		for _, route := range []string{"/entities/by-refs", "/refresh", "/locations", "/analyze-location"} {
			r := e.do("POST", route, `{"a":1}`, "Content-Type", "")
			wantError(t, r, "POST", "/api/catalog"+route, 400, "InputError", "Content-Type missing")
		}
		// a charset is fine
		r := e.do("POST", "/entities/by-refs", `{"entityRefs":[]}`, "Content-Type", "application/json; charset=utf-8")
		e.ok(r, 200)
	})
	t.Run("validate-entity answers {errors} for bad bodies", func(t *testing.T) {
		r := e.do("POST", "/validate-entity", `{"entity":`, "Content-Type", "application/json")
		got := obj(e.ok(r, 400))
		if len(list(got["errors"])) != 1 || got["error"] != nil {
			t.Errorf("body %s", r.body)
		}
	})
}

func TestPayloadTooLarge(t *testing.T) {
	e := newEnv(t)
	big := `{"entityRefs":["` + strings.Repeat("x", 20<<20) + `"]}`
	for _, route := range []string{"/entities/by-refs", "/entities/by-query", "/locations", "/validate-entity"} {
		r := e.post(route, big)
		wantError(t, r, "POST", "/api/catalog"+route, 413, "PayloadTooLargeError", "request entity too large")
	}
	t.Run("without a content length", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.base+"/entities/by-refs", io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = -1 // chunked
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		wantError(t, resp{status: res.StatusCode, header: res.Header, body: body}, "POST", "/api/catalog/entities/by-refs", 413, "PayloadTooLargeError", "*")
	})
	t.Run("a configured limit", func(t *testing.T) {
		e := newEnv(t, envOpts{maxBody: 100})
		r := e.post("/entities/by-refs", map[string]any{"entityRefs": []string{strings.Repeat("y", 200)}})
		wantError(t, r, "POST", "/api/catalog/entities/by-refs", 413, "PayloadTooLargeError", "request entity too large")
		e.ok(e.post("/entities/by-refs", map[string]any{"entityRefs": []string{rAda}}), 200)
	})
}

// hostileQueries are query strings no route may answer with a 500.
func hostileQueries() []string {
	long := strings.Repeat("a", 100_000)
	var many, manyAnd, manyIn []string
	for i := 0; i < 1000; i++ {
		many = append(many, fmt.Sprintf("filter=metadata.name=n%d", i))
		manyAnd = append(manyAnd, fmt.Sprintf("k%d=v", i))
		manyIn = append(manyIn, fmt.Sprintf("metadata.name=n%d", i))
	}
	return []string{
		"%",
		"filter=%",
		"filter=kind=%zz",
		"filter=%E0%A4%A",
		"%%%%&&&===",
		"filter=" + long,
		"filter=kind=" + long,
		"fields=" + long,
		"order=asc:" + long,
		"orderField=" + long + ",asc",
		"fullTextFilterTerm=" + long,
		"fullTextFilterFields=" + long + "&fullTextFilterTerm=a",
		strings.Join(many, "&"),
		"filter=" + strings.Join(manyAnd, ","),
		"filter=" + strings.Join(manyIn, ","),
		"fields=" + strings.Repeat("metadata.name,", 1000),
		strings.Repeat("order=asc:metadata.name&", 200),
		"filter=kind=%00",
		"filter=%00=%00",
		"fields=%00",
		"order=asc:%00",
		"orderField=%00,asc",
		"fullTextFilterTerm=%00",
		"cursor=%00",
		"after=%00",
		"filter=metadata.name=%F0%9F%8D%B0",
		"filter=%F0%9F%8D%B0",
		"fields=%F0%9F%8D%B0",
		"order=desc:%F0%9F%8D%B0",
		"fullTextFilterTerm=%F0%9F%8D%B0&fullTextFilterFields=%F0%9F%8D%B0",
		"filter=kind=\xff\xfe",
		"limit=99999999999999999999",
		"limit=9223372036854775807",
		"offset=9223372036854775807&limit=1",
		"offset=99999999999",
		"limit=2147483648",
		"limit=1e3",
		"limit=0x10",
		"limit=%20",
		"offset=-0",
		"after=" + long,
		"cursor=" + long,
		"cursor=eyJ9",
		"after=eyJ9",
		"filter=metadata.annotations.backstage.io/x=%27%3B%20DROP%20TABLE%20entities%3B--",
		"filter=%27)%20OR%201%3D1--",
		"order=asc:metadata.name%27%20--",
		"fullTextFilterTerm=%25%5F%5C&fullTextFilterFields=metadata.name",
		"filter=relations.=x",
		"filter=relations.%00=x",
		"filter=.=.",
		"fields=.",
		"fields=..",
		"order=asc:.",
		"orderField=,",
		"orderField=,asc",
		"facet=" + long,
		"facet=%00",
		"facet=relations.",
		"facet=" + strings.Repeat("kind&facet=", 300) + "kind",
		"totalItems=%00",
		"dryRun=%00",
	}
}

func TestHostileQueries(t *testing.T) {
	e := newEnv(t)
	routes := []string{"/entities", "/entities?limit=5&", "/entities/by-query", "/entity-facets?facet=kind&", "/entity-facets"}
	for i, hq := range hostileQueries() {
		for _, route := range routes {
			sep := "?"
			if strings.HasSuffix(route, "&") {
				sep = ""
			}
			path := route + sep + hq
			req, err := http.NewRequest("GET", e.base+"/entities", nil)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(e.base)
			req.URL.Path = u.Path + strings.SplitN(path, "?", 2)[0]
			if q := strings.SplitN(path, "?", 2); len(q) == 2 {
				req.URL.RawQuery = q[1]
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("case %d %s: %v", i, trunc(path), err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			r := resp{status: res.StatusCode, header: res.Header, body: body}
			checkNot500(t, fmt.Sprintf("case %d GET %s", i, trunc(path)), r)
		}
		// and the same through by-refs' query string
		r := e.do("POST", "/entities/by-refs?"+hq, map[string]any{"entityRefs": []string{rAda}})
		checkNot500(t, fmt.Sprintf("case %d POST by-refs", i), r)
	}
}

// checkNot500 fails on a 5xx and on a body that is not JSON.
func checkNot500(t *testing.T, what string, r resp) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s: %d %s", what, r.status, trunc(string(r.body)))
		return
	}
	if !json.Valid(r.body) {
		t.Errorf("%s: %d body is not JSON: %q", what, r.status, trunc(string(r.body)))
	}
	if r.status != 200 && r.status != 400 {
		t.Errorf("%s: status %d", what, r.status)
	}
}

func TestHostileBodies(t *testing.T) {
	e := newEnv(t)
	deep := strings.Repeat(`{"$not":`, 5000) + `{"kind":"x"}` + strings.Repeat("}", 5000)
	var anyOf []string
	for i := 0; i < 2000; i++ {
		anyOf = append(anyOf, fmt.Sprintf(`{"metadata.name":"n%d"}`, i))
	}
	wide := `{"$any":[` + strings.Join(anyOf, ",") + `]}`
	bigIn := `{"metadata.name":{"$in":[` + strings.TrimSuffix(strings.Repeat(`"x",`, 50_000), ",") + `]}}`
	longPrefix := `{"metadata.name":{"$hasPrefix":"` + strings.Repeat("p", 60_000) + `"}}`
	queries := []string{deep, wide, bigIn, longPrefix, `{"kind":"\u0000"}`, `{"\u0000":"x"}`, `{"kind":"🍰"}`, `{"":""}`, `{"relations":{"$contains":{"type":"","targetRef":"x"}}}`,
		`{"metadata.name":{"$hasPrefix":"%_\\"}}`}
	for i, q := range queries {
		for _, tc := range []struct{ route, body string }{
			{"/entities/by-query", `{"query":` + q + `}`},
			{"/entities/by-query", `{"query":` + q + `,"orderBy":[{"field":"metadata.name","order":"desc"}],"limit":3}`},
			{"/entity-facets", `{"facets":["kind"],"query":` + q + `}`},
			{"/entities/by-refs", `{"entityRefs":["user:default/ada"],"query":` + q + `}`},
			{"/locations/by-query", `{"query":` + q + `}`},
		} {
			r := e.post(tc.route, tc.body)
			checkNot500(t, fmt.Sprintf("query %d %s", i, tc.route), r)
		}
	}
	var refs []string
	for i := 0; i < 20_000; i++ {
		refs = append(refs, fmt.Sprintf("component:default/c%d", i))
	}
	r := e.post("/entities/by-refs", map[string]any{"entityRefs": append(refs, rAda)})
	items := list(obj(e.ok(r, 200))["items"])
	if len(items) != 20_001 || refOf(items[20_000]) != rAda {
		t.Errorf("by-refs with 20001 refs: %d items", len(items))
	}
}

// fuzzHandler is one catalog API over the fixtures, built once per fuzz
// process, answering in memory.
func fuzzHandler(f *testing.F) http.Handler {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(f.TempDir(), "c.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	eng := &ingest.Engine{Store: st, Crawler: &ingest.Crawler{Reader: &ingest.Reader{Fetcher: newReader(f, false)}}}
	root, _ := filepath.Abs(filepath.Join("testdata", "catalog", "root.yaml"))
	if err := eng.SyncConfigLocations(ctx, []catalog.LocationSpec{{Type: "file", Target: root}}); err != nil {
		f.Fatal(err)
	}
	if err := eng.CrawlAll(ctx); err != nil {
		f.Fatal(err)
	}
	r := chi.NewRouter()
	r.Mount("/api/catalog", (&api.Server{Store: st, Ingester: eng, AllowedLocationTypes: []string{"url", "git"}}).Routes())
	return r
}

// FuzzFilterParams throws query strings at GET /entities and
// GET /entities/by-query: the answer may be 200 or 400, never a 500.
func FuzzFilterParams(f *testing.F) {
	for _, seed := range []string{
		"filter=kind=component",
		"filter=kind=user&filter=kind=group,spec.type=team",
		"filter=metadata.tags.go&fields=metadata.name&order=desc:metadata.name&limit=2&offset=1",
		"filter=relations.ownedby=group:default/ovens",
		"filter==x",
		"fields=x[0]",
		"order=up:x",
		"limit=0&offset=-1",
		"after=eyJsaW1pdCI6Miwib2Zmc2V0IjoyfQ==",
		"orderField=metadata.name,desc&fullTextFilterTerm=bin&fullTextFilterFields=metadata.name",
		"cursor=eyJvcmRlckZpZWxkcyI6W10sIm9yZGVyRmllbGRWYWx1ZXMiOlsieCJdLCJpc1ByZXZpb3VzIjp0cnVlfQ==",
		"totalItems=exclude&limit=1",
		"filter=%00&order=asc:%F0%9F%8D%B0",
		"%",
	} {
		f.Add(seed)
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"/api/catalog/entities", "/api/catalog/entities/by-query"} {
			req := httptest.NewRequest("GET", path, nil)
			req.URL.RawQuery = rawQuery
			req.RequestURI = path + "?" + rawQuery
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s?%q: %d %s", path, rawQuery, rec.Code, trunc(rec.Body.String()))
			}
			if !json.Valid(bytes.TrimSpace(rec.Body.Bytes())) {
				t.Fatalf("GET %s?%q: %d body is not JSON: %q", path, rawQuery, rec.Code, trunc(rec.Body.String()))
			}
		}
	})
}
