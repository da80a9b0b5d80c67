package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// page is one by-query answer.
type page struct {
	items      []any
	total      float64
	next, prev string
	pageInfo   map[string]any
}

func (e *env) queryPage(method, path string, body any) page {
	e.t.Helper()
	var r resp
	if method == "GET" {
		r = e.get(path)
	} else {
		r = e.post(path, body)
	}
	v := obj(e.ok(r, 200))
	keys := map[string]bool{}
	for k := range v {
		keys[k] = true
	}
	mustEqual(e.t, "response keys", keys, map[string]bool{"items": true, "totalItems": true, "pageInfo": true})
	p := page{items: list(v["items"]), pageInfo: obj(v["pageInfo"])}
	if p.items == nil {
		e.t.Fatalf("items is not an array: %s", trunc(string(r.body)))
	}
	p.total, _ = v["totalItems"].(float64)
	p.next, _ = p.pageInfo["nextCursor"].(string)
	p.prev, _ = p.pageInfo["prevCursor"].(string)
	for k := range p.pageInfo {
		if k != "nextCursor" && k != "prevCursor" {
			e.t.Errorf("unexpected pageInfo key %q", k)
		}
	}
	return p
}

func decodeCursor(t *testing.T, c string) map[string]any {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		t.Fatalf("cursor %q is not base64: %v", c, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("cursor is not JSON: %s", b)
	}
	return m
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(b)
}

// walk follows nextCursor from a first page to the end, then prevCursor
// back to the start, checking totals on the way.
func walk(t *testing.T, e *env, method string, first func() page, next func(cursor string) page, wantTotal float64, pageSize int) (forward [][]string, backward [][]string) {
	t.Helper()
	p := first()
	if p.prev != "" {
		t.Errorf("first page has a prevCursor")
	}
	for i := 0; ; i++ {
		if p.total != wantTotal {
			t.Errorf("page %d: totalItems %v, want %v", i, p.total, wantTotal)
		}
		if i > 0 && p.prev == "" {
			t.Errorf("page %d has no prevCursor", i)
		}
		forward = append(forward, refsOf(p.items))
		if p.next == "" {
			break
		}
		if len(p.items) != pageSize {
			t.Errorf("page %d: %d items before the end, want %d", i, len(p.items), pageSize)
		}
		if i > 50 {
			t.Fatal("no end")
		}
		p = next(p.next)
	}
	// and back
	for i := 0; p.prev != ""; i++ {
		if i > 50 {
			t.Fatal("no start")
		}
		p = next(p.prev)
		if p.total != wantTotal {
			t.Errorf("back page %d: totalItems %v, want %v", i, p.total, wantTotal)
		}
		backward = append(backward, refsOf(p.items))
		if p.next == "" {
			t.Errorf("back page %d has no nextCursor", i)
		}
	}
	return forward, backward
}

func flatten(pages [][]string) []string {
	var out []string
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

func TestEntitiesByQueryPaging(t *testing.T) {
	e := newEnv(t)
	all := e.allRefs()
	get := func(path string) page { return e.queryPage("GET", path, nil) }
	post := func(body map[string]any) page { return e.queryPage("POST", "/entities/by-query", body) }

	t.Run("default limit is 20", func(t *testing.T) {
		for _, p := range []page{get("/entities/by-query"), post(map[string]any{}), e.queryPage("POST", "/entities/by-query", nil)} {
			if len(p.items) != 20 || p.total != 22 || p.next == "" || p.prev != "" {
				t.Errorf("%d items, total %v, next %q, prev %q", len(p.items), p.total, p.next, p.prev)
			}
		}
	})
	t.Run("limit=0 gives totalItems only", func(t *testing.T) {
		for _, p := range []page{get("/entities/by-query?limit=0"), get("/entities/by-query?limit=0&filter=kind=user"), post(map[string]any{"limit": 0, "query": map[string]any{"kind": "user"}})} {
			if len(p.items) != 0 || len(p.pageInfo) != 0 {
				t.Errorf("items %v, pageInfo %v", p.items, p.pageInfo)
			}
		}
		mustEqual(t, "total", get("/entities/by-query?limit=0").total, 22.0)
		mustEqual(t, "total filtered", get("/entities/by-query?limit=0&filter=kind=user").total, 2.0)
	})
	t.Run("default order is uid", func(t *testing.T) {
		p := get("/entities/by-query?limit=100&fields=metadata.uid")
		var uids []string
		for _, it := range p.items {
			uids = append(uids, str(it, "metadata", "uid"))
		}
		mustEqual(t, "uids", uids, sorted(uids))
		if len(uids) != 22 || p.next != "" || len(p.pageInfo) != 0 {
			t.Errorf("%d items, pageInfo %v", len(uids), p.pageInfo)
		}
	})
	t.Run("orderField", func(t *testing.T) {
		gen := strings.TrimPrefix(e.generatedRef(), "location:default/")
		want := []string{"ada", "bakery-root", "bakery-teams", "bin-01", "bin-02"}
		mustEqual(t, "asc", names(get("/entities/by-query?limit=5&orderField=metadata.name,asc").items), want)
		mustEqual(t, "no direction is asc", names(get("/entities/by-query?limit=5&orderField=metadata.name").items), want)
		mustEqual(t, "extra parts ignored", names(get("/entities/by-query?limit=5&orderField=metadata.name,asc,whatever").items), want)
		mustEqual(t, "desc", names(get("/entities/by-query?limit=3&orderField=metadata.name,desc").items), []string{"storefront", "Recipe-Search", "proofing-service"})
		mustEqual(t, "only the first is used", names(get("/entities/by-query?limit=3&orderField=metadata.name,desc&orderField=kind,asc").items), []string{"storefront", "Recipe-Search", "proofing-service"})
		mustEqual(t, "POST orderBy", names(post(map[string]any{"limit": 3, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "desc"}}}).items), []string{"storefront", "Recipe-Search", "proofing-service"})
		// sorting on a field leaves out entities without it
		p := get("/entities/by-query?orderField=metadata.title,asc")
		mustEqual(t, "only entities with a title", names(p.items), []string{"ovens", "Recipe-Search"})
		mustEqual(t, "total counts entities with the field", p.total, 2.0)
		p = get("/entities/by-query?orderField=spec.type,desc&filter=kind=location")
		mustEqual(t, "location with spec.type", names(p.items), []string{gen})
	})
	t.Run("invalid orderField order", func(t *testing.T) {
		for _, of := range []string{"metadata.name,up", "metadata.name,DESC", "metadata.name,"} {
			if of == "metadata.name," {
				continue // an empty order reads as asc
			}
			e.wantErr("GET", "/entities/by-query?orderField="+url.QueryEscape(of), nil, 400, "InputError", "Invalid order field order, must be asc or desc")
		}
		for _, order := range []string{"up", "", "ASC"} {
			e.wantErr("POST", "/entities/by-query", map[string]any{"orderBy": []any{map[string]any{"field": "metadata.name", "order": order}}}, 400, "InputError", "Invalid order field order, must be asc or desc")
		}
	})
	t.Run("offset on the first request", func(t *testing.T) {
		a := get("/entities/by-query?limit=100&orderField=metadata.name,asc")
		b := get("/entities/by-query?limit=3&offset=2&orderField=metadata.name,asc")
		mustEqual(t, "offset page", refsOf(b.items), refsOf(a.items)[2:5])
		if b.total != 22 {
			t.Errorf("total %v", b.total)
		}
		c := post(map[string]any{"limit": 3, "offset": 2, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "asc"}}})
		mustEqual(t, "POST offset page", refsOf(c.items), refsOf(a.items)[2:5])
		e.wantErr("GET", "/entities/by-query?offset=-1", nil, 400, "InputError", "Invalid offset, must be zero or greater")
		e.wantErr("POST", "/entities/by-query", map[string]any{"offset": -1}, 400, "InputError", "Invalid offset, must be zero or greater")
		e.wantErr("POST", "/entities/by-query", map[string]any{"limit": -1}, 400, "InputError", "Invalid limit, must be zero or greater")
		e.wantErr("GET", "/entities/by-query?limit=-1", nil, 400, "InputError", "Invalid limit, must be zero or greater")
	})

	walks := []struct {
		name  string
		first string // GET query
		body  map[string]any
		want  []string // all refs in walk order; nil = any order of all
		total float64
		set   bool // want is a set: the order is by uid
	}{
		{"uid order", "limit=5", map[string]any{"limit": 5}, nil, 22, false},
		{"name asc", "limit=5&orderField=metadata.name,asc", map[string]any{"limit": 5, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "asc"}}}, nil, 22, false},
		{"name desc", "limit=4&orderField=metadata.name,desc", map[string]any{"limit": 4, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "desc"}}}, nil, 22, false},
		{"kind asc (ties broken by uid)", "limit=3&orderField=kind,asc", map[string]any{"limit": 3, "orderBy": []any{map[string]any{"field": "kind", "order": "asc"}}}, nil, 22, false},
		{"filtered", "limit=3&filter=kind=resource,kind=user", map[string]any{"limit": 3, "query": map[string]any{"kind": map[string]any{"$in": []any{"resource", "user"}}}}, join(bins, users), 10, true},
		{"filtered, spec.type desc", "limit=2&filter=kind=component&orderField=spec.type,desc", map[string]any{"limit": 2, "query": map[string]any{"kind": "component"}, "orderBy": []any{map[string]any{"field": "spec.type", "order": "desc"}}},
			[]string{rStore, rProofing, rRecipe, rLedger}, 4, true}, // "service" twice: a tie across pages, broken by uid
		{"page size 1", "limit=1&filter=kind=group&orderField=metadata.name,asc", map[string]any{"limit": 1, "query": map[string]any{"kind": "group"}, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "asc"}}},
			[]string{rFrosting, rGuests, rOvens}, 3, false},
		{"full text", "limit=2&fullTextFilterTerm=bin&fullTextFilterFields=metadata.name&orderField=metadata.name,desc",
			map[string]any{"limit": 2, "fullTextFilter": map[string]any{"term": "bin", "fields": []string{"metadata.name"}}, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "desc"}}},
			[]string{"resource:default/bin-08", "resource:default/bin-07", "resource:default/bin-06", "resource:default/bin-05", "resource:default/bin-04", "resource:default/bin-03", rBin2, rBin1}, 8, false},
	}
	for _, w := range walks {
		for _, method := range []string{"GET", "POST"} {
			t.Run("walk "+w.name+" "+method, func(t *testing.T) {
				first := func() page { return get("/entities/by-query?" + w.first) }
				next := func(c string) page { return get("/entities/by-query?cursor=" + url.QueryEscape(c)) }
				if method == "POST" {
					first = func() page { return post(w.body) }
					next = func(c string) page { return post(map[string]any{"cursor": c}) }
				}
				limit := int(w.body["limit"].(int))
				fwd, back := walk(t, e, method, first, next, w.total, limit)
				got := flatten(fwd)
				if w.set {
					mustEqual(t, "forward (as a set)", sorted(got), sorted(w.want))
					if len(got) != len(w.want) {
						t.Errorf("forward walk saw %d entities, want %d", len(got), len(w.want))
					}
				} else if w.want != nil {
					mustEqual(t, "forward", got, w.want)
				} else {
					if len(got) != 22 {
						t.Errorf("forward walk saw %d entities", len(got))
					}
					mustEqual(t, "forward (as a set)", sorted(got), all)
				}
				// Back from the last page: the earlier pages in reverse.
				mustEqual(t, "backward pages", len(back), len(fwd)-1)
				for i := range back {
					mustEqual(t, "backward page", back[i], fwd[len(fwd)-2-i])
				}
			})
		}
	}
	t.Run("walk with the order's sort values in the cursor", func(t *testing.T) {
		p := get("/entities/by-query?limit=2&orderField=metadata.name,asc&filter=kind=user,kind=group")
		c := decodeCursor(t, p.next)
		mustEqual(t, "orderFields", c["orderFields"], []any{map[string]any{"field": "metadata.name", "order": "asc"}})
		vals := list(c["orderFieldValues"])
		if len(vals) != 2 || vals[0] != "bruno" || vals[1] != e.uidOf(rBruno) {
			t.Errorf("orderFieldValues %v, want the last name (lower-cased) and its uid", vals)
		}
		mustEqual(t, "isPrevious", c["isPrevious"], false)
		mustEqual(t, "totalItems", c["totalItems"], 5.0)
		if first := list(c["firstSortFieldValues"]); len(first) != 2 || first[0] != "ada" {
			t.Errorf("firstSortFieldValues %v", first)
		}
	})
	t.Run("cursor ignores other parameters", func(t *testing.T) {
		p := get("/entities/by-query?limit=2&filter=kind=group&orderField=metadata.name,asc")
		want := get("/entities/by-query?cursor=" + url.QueryEscape(p.next))
		for _, extra := range []string{"&filter=kind=user", "&orderField=metadata.name,desc", "&fullTextFilterTerm=zzz&fullTextFilterFields=kind", "&offset=5", "&totalItems=exclude"} {
			got := get("/entities/by-query?cursor=" + url.QueryEscape(p.next) + extra)
			mustEqual(t, extra, refsOf(got.items), refsOf(want.items))
			mustEqual(t, extra+" total", got.total, 3.0)
		}
		got := post(map[string]any{"cursor": p.next, "query": map[string]any{"kind": "user"}, "orderBy": []any{map[string]any{"field": "kind", "order": "desc"}}, "offset": 3})
		mustEqual(t, "POST", refsOf(got.items), refsOf(want.items))
		mustEqual(t, "refs", refsOf(want.items), []string{rOvens})
	})
	t.Run("limit applies with a cursor", func(t *testing.T) {
		p := get("/entities/by-query?limit=2&orderField=metadata.name,asc")
		got := get("/entities/by-query?limit=7&cursor=" + url.QueryEscape(p.next))
		if len(got.items) != 7 {
			t.Errorf("%d items", len(got.items))
		}
		got = post(map[string]any{"cursor": p.next, "limit": 4, "fields": []string{"metadata.name"}})
		mustEqual(t, "POST names", names(got.items), []string{"bakery-teams", "bin-01", "bin-02", "bin-03"})
		mustEqual(t, "projected", got.items[0], map[string]any{"metadata": map[string]any{"name": "bakery-teams"}})
	})
	t.Run("totalItems is counted on the first page only", func(t *testing.T) {
		e := newEnv(t)
		p := e.queryPage("GET", "/entities/by-query?limit=3&filter=kind=user,kind=group&orderField=metadata.name,asc", nil)
		if p.total != 5 {
			t.Fatalf("total %v", p.total)
		}
		// Delete an entity of the result: later pages still carry the first count.
		r := e.do("DELETE", "/entities/by-uid/"+e.uidOf(rOvens), nil)
		if r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
		p = e.queryPage("GET", "/entities/by-query?cursor="+url.QueryEscape(p.next), nil)
		mustEqual(t, "total carried", p.total, 5.0)
		mustEqual(t, "page", refsOf(p.items), []string{rGuests}) // ovens is gone
		if p.next != "" || p.prev == "" {
			t.Errorf("pageInfo %v", p.pageInfo)
		}
		fresh := e.queryPage("GET", "/entities/by-query?limit=0&filter=kind=user,kind=group", nil)
		mustEqual(t, "fresh count", fresh.total, 4.0)
	})
	t.Run("totalItems=exclude", func(t *testing.T) {
		p := get("/entities/by-query?limit=2&totalItems=exclude")
		if p.total != 0 || len(p.items) != 2 || p.next == "" {
			t.Fatalf("total %v, %d items", p.total, len(p.items))
		}
		mustEqual(t, "next page total", get("/entities/by-query?cursor="+url.QueryEscape(p.next)).total, 0.0)
		mustEqual(t, "POST", post(map[string]any{"limit": 1, "totalItems": "exclude"}).total, 0.0)
		mustEqual(t, "include", get("/entities/by-query?limit=1&totalItems=include").total, 22.0)
		e.wantErr("GET", "/entities/by-query?totalItems=some", nil, 400, "InputError", `Invalid totalItems parameter "some", expected one of: include, exclude`)
		e.wantErr("POST", "/entities/by-query", map[string]any{"totalItems": "some"}, 400, "InputError", `Invalid totalItems value "some", expected one of: include, exclude`)
	})
	t.Run("malformed cursors", func(t *testing.T) {
		good := decodeCursor(t, get("/entities/by-query?limit=1").next)
		bad := []string{
			"!!!",
			base64.StdEncoding.EncodeToString([]byte("not json")),
			encodeCursor(map[string]any{"a": 1}),
			encodeCursor(map[string]any{"orderFields": []any{}, "isPrevious": false}),
			encodeCursor(map[string]any{"orderFields": []any{map[string]any{"field": "kind", "order": "up"}}, "orderFieldValues": []any{"x"}, "isPrevious": false}),
			encodeCursor(map[string]any{"orderFields": "kind", "orderFieldValues": []any{"x"}, "isPrevious": false}),
			encodeCursor(map[string]any{"orderFields": []any{}, "orderFieldValues": []any{"x"}, "isPrevious": false, "query": "component"}),
			encodeCursor(map[string]any{"orderFields": []any{}, "orderFieldValues": []any{"x"}, "isPrevious": false, "query": map[string]any{"kind": map[string]any{"$nope": 1}}}),
			encodeCursor(map[string]any{"orderFields": []any{}, "orderFieldValues": []any{5}, "isPrevious": false}),
		}
		for _, c := range bad {
			for _, method := range []string{"GET", "POST"} {
				var r resp
				if method == "GET" {
					r = e.get("/entities/by-query?cursor=" + url.QueryEscape(c))
				} else {
					r = e.post("/entities/by-query", map[string]any{"cursor": c})
				}
				wantError(t, r, method, "", 400, "InputError", "*")
				msg := str(r.json(t), "error", "message")
				if !strings.HasPrefix(msg, "Malformed cursor") && !strings.HasPrefix(msg, "Invalid") {
					t.Errorf("cursor %q: message %q", c, msg)
				}
			}
		}
		e.wantErr("POST", "/entities/by-query", map[string]any{"cursor": ""}, 400, "InputError", "Cursor cannot be empty")
		// a well-formed cursor still works
		if len(e.queryPage("POST", "/entities/by-query", map[string]any{"cursor": encodeCursor(good)}).items) == 0 {
			t.Error("re-encoded cursor gave nothing")
		}
	})
}

func TestEntitiesByQueryFullText(t *testing.T) {
	e := newEnv(t)
	ovensUID := e.uidOf(rOvens)
	cases := []struct {
		name, query string
		body        map[string]any
		want        []string
	}{
		{"substring of a field, trimmed and case-insensitive", "fullTextFilterTerm=%20PROOF%20&fullTextFilterFields=metadata.name",
			map[string]any{"fullTextFilter": map[string]any{"term": " PROOF ", "fields": []string{"metadata.name"}}}, []string{rAPI, rProofing}},
		{"several fields", "fullTextFilterTerm=web&fullTextFilterFields=metadata.name,spec.type",
			map[string]any{"fullTextFilter": map[string]any{"term": "web", "fields": []string{"metadata.name", "spec.type"}}}, []string{rStore}},
		{"field names case-insensitive", "fullTextFilterTerm=glaze&fullTextFilterFields=SPEC.PROFILE.DISPLAYNAME",
			map[string]any{"fullTextFilter": map[string]any{"term": "glaze", "fields": []string{"SPEC.PROFILE.DISPLAYNAME"}}}, []string{rBruno}},
		{"default field is metadata.uid", "fullTextFilterTerm=" + strings.ToUpper(ovensUID[:13]),
			map[string]any{"fullTextFilter": map[string]any{"term": strings.ToUpper(ovensUID[:13])}}, []string{rOvens}},
		{"default field is not the name", "fullTextFilterTerm=proofing",
			map[string]any{"fullTextFilter": map[string]any{"term": "proofing"}}, nil},
		{"default field is the sort field", "fullTextFilterTerm=ROOF&orderField=metadata.name,asc",
			map[string]any{"fullTextFilter": map[string]any{"term": "ROOF"}, "orderBy": []any{map[string]any{"field": "metadata.name", "order": "asc"}}}, []string{rAPI, rProofing}},
		{"ANDed with the filter", "fullTextFilterTerm=proof&fullTextFilterFields=metadata.name&filter=kind=api",
			map[string]any{"fullTextFilter": map[string]any{"term": "proof", "fields": []string{"metadata.name"}}, "query": map[string]any{"kind": "api"}}, []string{rAPI}},
		{"% is literal", "fullTextFilterTerm=%25&fullTextFilterFields=metadata.name",
			map[string]any{"fullTextFilter": map[string]any{"term": "%", "fields": []string{"metadata.name"}}}, nil},
		{"_ is literal", "fullTextFilterTerm=bin_0&fullTextFilterFields=metadata.name",
			map[string]any{"fullTextFilter": map[string]any{"term": "bin_0", "fields": []string{"metadata.name"}}}, nil},
		{"backslash is literal", "fullTextFilterTerm=%5C&fullTextFilterFields=metadata.name",
			map[string]any{"fullTextFilter": map[string]any{"term": `\`, "fields": []string{"metadata.name"}}}, nil},
		{"matches array items", "fullTextFilterTerm=scri&fullTextFilterFields=metadata.tags",
			map[string]any{"fullTextFilter": map[string]any{"term": "scri", "fields": []string{"metadata.tags"}}}, []string{rStore}},
		{"empty term is no filter", "fullTextFilterTerm=&fullTextFilterFields=metadata.name&filter=kind=user",
			map[string]any{"fullTextFilter": map[string]any{"term": "", "fields": []string{"metadata.name"}}, "query": map[string]any{"kind": "user"}}, users},
		{"blank term is no filter", "fullTextFilterTerm=%20%20&fullTextFilterFields=metadata.name&filter=kind=user",
			map[string]any{"fullTextFilter": map[string]any{"term": "  "}, "query": map[string]any{"kind": "user"}}, users},
		{"unknown field matches nothing", "fullTextFilterTerm=a&fullTextFilterFields=spec.nope",
			map[string]any{"fullTextFilter": map[string]any{"term": "a", "fields": []string{"spec.nope"}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := sorted(tc.want)
			p := e.queryPage("GET", "/entities/by-query?limit=100&"+tc.query, nil)
			mustEqual(t, "GET", sorted(refsOf(p.items)), want)
			mustEqual(t, "GET total", p.total, float64(len(want)))
			body := map[string]any{"limit": 100}
			for k, v := range tc.body {
				body[k] = v
			}
			p = e.queryPage("POST", "/entities/by-query", body)
			mustEqual(t, "POST", sorted(refsOf(p.items)), want)
			mustEqual(t, "POST total", p.total, float64(len(want)))
		})
	}
}

// TestEntitiesByQueryPredicates covers the predicate query of POST
// /entities/by-query (and the same predicates on POST /entity-facets and
// POST /entities/by-refs).
func TestEntitiesByQueryPredicates(t *testing.T) {
	e := newEnv(t)
	owned := join(components, bins, []string{rAPI, rKitchen})
	cases := []struct {
		name  string
		query any
		want  []string
	}{
		{"field equals", map[string]any{"kind": "component"}, components},
		{"keys and values case-insensitive", map[string]any{"KIND": "COMPONENT"}, components},
		{"several fields ANDed", map[string]any{"kind": "component", "spec.lifecycle": "production"}, []string{rProofing, rLedger}},
		{"empty object is everything", map[string]any{}, []string{everything}},
		{"$all", map[string]any{"$all": []any{map[string]any{"kind": "component"}, map[string]any{"spec.lifecycle": "production"}}}, []string{rProofing, rLedger}},
		{"$all empty is everything", map[string]any{"$all": []any{}}, []string{everything}},
		{"$any", map[string]any{"$any": []any{map[string]any{"kind": "user"}, map[string]any{"kind": "system"}}}, join(users, []string{rKitchen})},
		{"$any empty is nothing", map[string]any{"$any": []any{}}, nil},
		{"$not", map[string]any{"$not": map[string]any{"kind": map[string]any{"$in": []any{"component", "resource", "location"}}}}, join(groups, users, []string{rAPI, rKitchen})},
		{"$not $not", map[string]any{"$not": map[string]any{"$not": map[string]any{"kind": "user"}}}, users},
		{"nested", map[string]any{"$any": []any{
			map[string]any{"$all": []any{map[string]any{"kind": "component"}, map[string]any{"metadata.tags": map[string]any{"$contains": "typescript"}}}},
			map[string]any{"metadata.name": "guests"}}}, []string{rStore, rGuests}},
		{"$exists true", map[string]any{"metadata.title": map[string]any{"$exists": true}}, []string{rRecipe, rOvens}},
		{"$exists false", map[string]any{"kind": "group", "metadata.title": map[string]any{"$exists": false}}, []string{rFrosting, rGuests}},
		{"$exists on a long value", map[string]any{"metadata.annotations.bakery.example/notes": map[string]any{"$exists": true}}, []string{rBin2}},
		{"$in", map[string]any{"spec.type": map[string]any{"$in": []any{"website", "LIBRARY"}}}, []string{rStore, rLedger}},
		{"$in empty", map[string]any{"spec.type": map[string]any{"$in": []any{}}}, nil},
		{"$in numbers and booleans", map[string]any{"spec.capacitykg": map[string]any{"$in": []any{25, 30}}, "spec.refrigerated": map[string]any{"$in": []any{true}}}, []string{rBin1}},
		{"number value", map[string]any{"spec.capacityKg": 25}, []string{rBin1}},
		{"number as string", map[string]any{"spec.capacityKg": "25"}, []string{rBin1}},
		{"boolean value", map[string]any{"spec.refrigerated": true}, []string{rBin1}},
		{"exact, not substring", map[string]any{"spec.type": "serv"}, nil},
		{"$hasPrefix", map[string]any{"metadata.name": map[string]any{"$hasPrefix": "PROOF"}}, []string{rAPI, rProofing}},
		{"$hasPrefix escapes _", map[string]any{"metadata.name": map[string]any{"$hasPrefix": "bin_"}}, nil},
		{"$hasPrefix escapes %", map[string]any{"metadata.name": map[string]any{"$hasPrefix": "%"}}, nil},
		{"$hasPrefix empty is existence", map[string]any{"metadata.title": map[string]any{"$hasPrefix": ""}}, []string{rRecipe, rOvens}},
		{"$hasPrefix on an annotation", map[string]any{"metadata.annotations.backstage.io/techdocs-ref": map[string]any{"$hasPrefix": "dir:"}}, []string{rProofing}},
		{"$contains on tags", map[string]any{"metadata.tags": map[string]any{"$contains": "go"}}, []string{rProofing, rRecipe}},
		{"$contains case-insensitive", map[string]any{"metadata.tags": map[string]any{"$contains": "DOUGH"}}, []string{rProofing, rAPI}},
		{"relations $contains type and ref", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": "ownedBy", "targetRef": "group:default/frosting"}}}, []string{rRecipe, rStore}},
		{"relations $contains type only", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": "memberOf"}}}, users},
		{"relations $contains $in, keys any case", map[string]any{"relations": map[string]any{"$contains": map[string]any{"TYPE": "OWNEDBY", "TargetRef": map[string]any{"$in": []any{"group:default/frosting", "GROUP:default/ovens"}}}}}, owned},
		{"relations as a filter key", map[string]any{"relations.partof": "system:default/kitchen"}, []string{rProofing, rStore, rAPI}},
		{"default namespace", map[string]any{"kind": "component", "metadata.namespace": "default"}, []string{rProofing, rRecipe, rStore}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := sorted(e.expand(tc.want))
			p := e.queryPage("POST", "/entities/by-query", map[string]any{"query": tc.query, "limit": 100})
			mustEqual(t, "by-query", sorted(refsOf(p.items)), want)
			mustEqual(t, "totalItems", p.total, float64(len(want)))
			// The same predicate on facets counts the same entities.
			f := obj(e.ok(e.post("/entity-facets", map[string]any{"facets": []string{"metadata.uid"}, "query": tc.query}), 200))
			mustEqual(t, "facet count", len(list(field(f, "facets", "metadata.uid"))), len(want))
			// And on by-refs it nulls out the others.
			all := e.allRefs()
			br := list(obj(e.ok(e.post("/entities/by-refs", map[string]any{"entityRefs": all, "query": tc.query, "fields": []string{"kind", "metadata"}}), 200))["items"])
			var found []string
			for _, it := range br {
				if it != nil {
					found = append(found, refOf(it))
				}
			}
			mustEqual(t, "by-refs", sorted(found), want)
		})
	}
}

func TestEntitiesByQueryPredicateErrors(t *testing.T) {
	e := newEnv(t)
	primitive := func(v string) string {
		return `Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. { "kind": ` + v + ` }`
	}
	cases := []struct {
		name  string
		query any
		msg   string // for by-query; "*" = any message
		other string // for entity-facets and by-refs, when it differs
	}{
		{"top-level string", "component", "Query must be an object", primitive(`"component"`)},
		{"top-level number", 5, "Query must be an object", primitive(`5`)},
		{"top-level array", []any{map[string]any{"kind": "x"}}, "Query must be an object", "*"},
		{"primitive inside $all", map[string]any{"$all": []any{"component"}}, primitive(`"component"`), ""},
		{"primitive inside $not", map[string]any{"$not": true}, primitive(`true`), ""},
		{"$all not an array", map[string]any{"$all": map[string]any{"kind": "x"}}, "*", ""},
		{"unknown operator", map[string]any{"$foo": 1}, "*", ""},
		{"unknown value operator", map[string]any{"kind": map[string]any{"$foo": 1}}, "*", ""},
		{"null value", map[string]any{"kind": nil}, "*", ""},
		{"array value", map[string]any{"kind": []any{"a"}}, "*", ""},
		{"$exists not a boolean", map[string]any{"kind": map[string]any{"$exists": "yes"}}, "*", ""},
		{"$in not an array", map[string]any{"kind": map[string]any{"$in": "component"}}, "*", ""},
		{"$in of objects", map[string]any{"kind": map[string]any{"$in": []any{map[string]any{}}}}, "*", ""},
		{"$hasPrefix not a string", map[string]any{"kind": map[string]any{"$hasPrefix": 1}}, "*", ""},
		{"$contains object on a field", map[string]any{"metadata.tags": map[string]any{"$contains": map[string]any{"a": 1}}}, `Object form of $contains is not supported for field "metadata.tags"`, ""},
		{"$contains array", map[string]any{"metadata.tags": map[string]any{"$contains": []any{1}}}, `Unsupported $contains target for field "metadata.tags": [1]`, ""},
		{"relations $contains without type", map[string]any{"relations": map[string]any{"$contains": map[string]any{"targetRef": "group:default/ovens"}}}, `The $contains operator for "relations" requires a "type" string property`, ""},
		{"relations $contains type not a string", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": 1}}}, `The $contains operator for "relations" requires a "type" string property`, ""},
		{"relations $contains unknown key", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": "ownedBy", "other": 1}}}, `Unsupported key "other" in $contains for "relations". Only "type" and "targetRef" are supported`, ""},
		{"relations $contains targetRef number", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": "ownedBy", "targetRef": 5}}}, `Unsupported value in $contains for "relations": expected a string or { "$in": [strings] }, but got 5`, ""},
		{"relations $contains targetRef $in of numbers", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": "ownedBy", "targetRef": map[string]any{"$in": []any{1}}}}}, `Unsupported value in $contains for "relations": expected a string or { "$in": [strings] }, but got {"$in":[1]}`, ""},
		{"relations $contains empty $in", map[string]any{"relations": map[string]any{"$contains": map[string]any{"type": "ownedBy", "targetRef": map[string]any{"$in": []any{}}}}}, `Empty "$in" array for $contains on "relations" is not allowed`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.wantErr("POST", "/entities/by-query", map[string]any{"query": tc.query}, 400, "InputError", tc.msg)
			other := tc.other
			if other == "" {
				other = tc.msg
			}
			e.wantErr("POST", "/entity-facets", map[string]any{"facets": []string{"kind"}, "query": tc.query}, 400, "InputError", other)
			e.wantErr("POST", "/entities/by-refs", map[string]any{"entityRefs": []string{rAda}, "query": tc.query}, 400, "InputError", other)
		})
	}
	t.Run("nesting depth", func(t *testing.T) {
		nest := func(n int) any {
			var q any = map[string]any{"kind": "user"}
			for i := 0; i < n; i++ {
				if i%2 == 0 {
					q = map[string]any{"$all": []any{q}}
				} else {
					q = map[string]any{"$any": []any{q}}
				}
			}
			return q
		}
		p := e.queryPage("POST", "/entities/by-query", map[string]any{"query": nest(100)})
		mustEqual(t, "100 levels", sorted(refsOf(p.items)), users)
		msg := "Invalid query: predicates may not be nested more than 100 levels deep"
		e.wantErr("POST", "/entities/by-query", map[string]any{"query": nest(101)}, 400, "InputError", msg)
		e.wantErr("POST", "/entity-facets", map[string]any{"facets": []string{"kind"}, "query": nest(500)}, 400, "InputError", msg)
		e.wantErr("POST", "/entities/by-refs", map[string]any{"entityRefs": []string{}, "query": nest(101)}, 400, "InputError", msg)
	})
	t.Run("by-query body validation", func(t *testing.T) {
		for _, tc := range []struct {
			body any
			msg  string
		}{
			{`{"limit":"ten"}`, "*"},
			{`{"orderBy":"metadata.name"}`, "*"},
			{`{"fields":"kind"}`, "*"},
			{`{"fullTextFilter":"x"}`, "*"},
			{`[1,2]`, "Expected body to be a JSON object"},
			{`"x"`, "Expected body to be a JSON object"},
			{`{"limit":`, "*"},
		} {
			e.wantErr("POST", "/entities/by-query", tc.body, 400, "InputError", tc.msg)
		}
		e.wantErr("POST", "/entities/by-query", map[string]any{"fields": []string{"spec.targets[0]"}}, 400, "InputError", `Invalid field "spec.targets[0]", array type fields are not supported`)
	})
}
