package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// Refs of the fixture entities, for readable expectations.
const (
	rAPI       = "api:default/proofing-api"
	rProofing  = "component:default/proofing-service"
	rRecipe    = "component:default/recipe-search"
	rStore     = "component:default/storefront"
	rLedger    = "component:finance/ledger"
	rFrosting  = "group:default/frosting"
	rGuests    = "group:default/guests"
	rOvens     = "group:default/ovens"
	rRootLoc   = "location:default/bakery-root"
	rTeamsLoc  = "location:default/bakery-teams"
	rKitchen   = "system:default/kitchen"
	rAda       = "user:default/ada"
	rBruno     = "user:default/bruno"
	rBin1      = "resource:default/bin-01"
	rBin2      = "resource:default/bin-02"
	generated  = "GENERATED" // replaced by the generated root Location's ref
	everything = "ALL"       // every entity
)

var (
	components = []string{rProofing, rRecipe, rStore, rLedger}
	groups     = []string{rFrosting, rGuests, rOvens}
	users      = []string{rAda, rBruno}
	bins       = []string{rBin1, rBin2, "resource:default/bin-03", "resource:default/bin-04",
		"resource:default/bin-05", "resource:default/bin-06", "resource:default/bin-07", "resource:default/bin-08"}
)

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// expand replaces the GENERATED and ALL placeholders.
func (e *env) expand(refs []string) []string {
	var out []string
	for _, r := range refs {
		switch r {
		case generated:
			out = append(out, e.generatedRef())
		case everything:
			out = append(out, e.allRefs()...)
		default:
			out = append(out, r)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func (e *env) uidOf(ref string) string { return str(e.entity(ref), "metadata", "uid") }

// TestGetEntitiesFilter covers the filter grammar of GET /entities: each
// case runs unpaged (a bare array, in no promised order) and paged (entity
// ref order), which must agree.
func TestGetEntitiesFilter(t *testing.T) {
	e := newEnv(t)
	guestsFile, _ := filepath.Abs(filepath.Join("testdata", "catalog", "teams", "guests.yaml"))
	ovensUID := e.uidOf(rOvens)
	cases := []struct {
		name  string
		query string // raw query string after ?
		want  []string
	}{
		{"kind", "filter=kind=component", components},
		{"value case-insensitive", "filter=kind=COMPONENT", components},
		{"key case-insensitive", "filter=KIND=component", components},
		{"repeated filter is OR", "filter=kind=user&filter=kind=group", join(users, groups)},
		{"comma is AND", "filter=kind=component,spec.type=website", []string{rStore}},
		{"AND matches values case-insensitively", "filter=kind=component,spec.type=service", []string{rProofing, rRecipe}},
		{"same key twice is any-of", "filter=kind=component,kind=api", join(components, []string{rAPI})},
		{"any-of ANDed with another key", "filter=kind=group,spec.type=team,spec.type=community", groups},
		{"OR of ANDs", "filter=kind=component,spec.lifecycle=experimental&filter=kind=user,metadata.name=bruno", []string{rStore, rBruno}},
		{"key alone is existence", "filter=spec.lifecycle", join(components, []string{rAPI})},
		{"existence of a sparse key", "filter=metadata.title", []string{rRecipe, rOvens}},
		{"existence ANDed", "filter=kind=component,metadata.title", []string{rRecipe}},
		{"key= is the empty string", "filter=metadata.annotations.bakery.example/empty=", []string{rProofing}},
		{"key= does not match other values", "filter=spec.type=", nil},
		{"exists includes the empty string", "filter=metadata.annotations.bakery.example/empty", []string{rProofing}},
		{"exact, not substring", "filter=spec.type=serv", nil},
		{"exact, not prefix", "filter=metadata.name=proofing", nil},
		{"exact, not suffix", "filter=metadata.name=service", nil},
		{"tag as key", "filter=metadata.tags.go", []string{rProofing, rRecipe}},
		{"tag as value", "filter=metadata.tags=go", []string{rProofing, rRecipe}},
		{"tag value case-insensitive", "filter=metadata.tags=GO", []string{rProofing, rRecipe}},
		{"tag key case-insensitive", "filter=METADATA.TAGS.Dough", []string{rProofing, rAPI}},
		{"tag any-of", "filter=metadata.tags=typescript,metadata.tags=dough", []string{rStore, rProofing, rAPI}},
		{"string array item", "filter=spec.memberof=ovens", []string{rAda}},
		{"string array item as key", "filter=spec.memberof.frosting", []string{rBruno}},
		{"relation", "filter=relations.ownedby=group:default/frosting", []string{rRecipe, rStore}},
		{"relation case-insensitive", "filter=relations.ownedBy=Group:Default/Frosting", []string{rRecipe, rStore}},
		{"relation with kind", "filter=kind=user,relations.memberof=group:default/ovens", []string{rAda}},
		{"relation existence", "filter=relations.hasmember", []string{rOvens, rFrosting}},
		{"relation any-of", "filter=kind=component,relations.ownedby=group:default/ovens,relations.ownedby=group:default/frosting", components},
		{"relation needs the full ref", "filter=relations.ownedby=frosting", nil},
		{"annotation key with dots and slash", "filter=metadata.annotations.backstage.io/techdocs-ref=dir:.", []string{rProofing}},
		{"annotation value with a colon and slashes", "filter=metadata.annotations.backstage.io/managed-by-location=file:" + url.QueryEscape(guestsFile), []string{rGuests}},
		{"annotation value with #", "filter=metadata.annotations.bakery.example/slack=%23ovens", []string{rOvens}},
		{"value split on the first = only", "filter=spec.type=a=b", nil},
		{"default namespace when absent", "filter=metadata.namespace=default,kind=component", []string{rProofing, rRecipe, rStore}},
		{"explicit namespace", "filter=metadata.namespace=finance", []string{rLedger}},
		{"metadata.uid", "filter=metadata.uid=" + ovensUID, []string{rOvens}},
		{"metadata.uid case-insensitive", "filter=metadata.uid=" + strings.ToUpper(ovensUID), []string{rOvens}},
		{"metadata.name against a mixed-case name", "filter=metadata.name=frosting", []string{rFrosting}},
		{"nested key with spaces in the value", "filter=spec.profile.displayName=ada%20crumb", []string{rAda}},
		{"number value", "filter=spec.capacityKg=25", []string{rBin1}},
		{"boolean value", "filter=spec.refrigerated=true", []string{rBin1}},
		{"long value: exists", "filter=metadata.annotations.bakery.example/notes", []string{rBin2}},
		{"long value: never equal", "filter=metadata.annotations.bakery.example/notes=" + url.QueryEscape(strings.Repeat("flour ", 45)[:269]), nil},
		{"location kind and type", "filter=kind=location,spec.type=file", []string{generated}},
		{"whitespace around statements trimmed", "filter=%20kind%20=%20component%20,%20spec.type%20=%20website%20", []string{rStore}},
		{"empty statements skipped", "filter=,kind=system,,", []string{rKitchen}},
		{"empty filter ignored", "filter=", []string{everything}},
		{"only commas ignored", "filter=,,", []string{everything}},
		{"empty filter beside a real one", "filter=&filter=kind=system", []string{rKitchen}},
		{"unknown key", "filter=spec.nope", nil},
		{"relations itself is not searchable", "filter=relations", nil},
		{"metadata.etag is not searchable", "filter=metadata.etag", nil},
		{"status is not searchable", "filter=status", nil},
		{"apiVersion", "filter=apiVersion=backstage.io/v1alpha1", []string{everything}},
		{"no filter", "", []string{everything}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := sorted(e.expand(tc.want))
			unpaged := list(e.ok(e.get("/entities?"+tc.query), 200))
			mustEqual(t, "unpaged refs", sorted(refsOf(unpaged)), want)
			paged := list(e.ok(e.get("/entities?limit=1000&"+tc.query), 200))
			mustEqual(t, "paged refs (entity ref order)", refsOf(paged), want)
		})
	}
}

func TestGetEntitiesFilterErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ query, stmt string }{
		{"filter==component", "=component"},
		{"filter=kind=component,=x", "=x"},
		{"filter=%20=x", "=x"},
		{"filter=kind=user&filter==", "="},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			want := "Invalid filter, '" + tc.stmt + "' is not a valid statement (expected a string on the form a=b or a= or a)"
			for _, route := range []string{"/entities", "/entities/by-query", "/entity-facets"} {
				path := route + "?" + tc.query
				if route == "/entity-facets" {
					path += "&facet=kind"
				}
				e.wantErr("GET", path, nil, 400, "InputError", want)
			}
			e.wantErr("POST", "/entities/by-refs?"+tc.query, map[string]any{"entityRefs": []string{}}, 400, "InputError", want)
		})
	}
}

// TestGetEntitiesFields covers the fields projection, compared as whole
// JSON objects.
func TestGetEntitiesFields(t *testing.T) {
	e := newEnv(t)
	full := obj(e.entity(rProofing))
	md := obj(full["metadata"])
	cases := []struct {
		name, fields string // raw fields parameters
		want         map[string]any
	}{
		{"one leaf", "fields=metadata.name", map[string]any{"metadata": map[string]any{"name": "proofing-service"}}},
		{"comma list", "fields=kind,metadata.name", map[string]any{"kind": "Component", "metadata": map[string]any{"name": "proofing-service"}}},
		{"repeated parameter", "fields=kind&fields=metadata.name", map[string]any{"kind": "Component", "metadata": map[string]any{"name": "proofing-service"}}},
		{"whitespace trimmed, empties skipped", "fields=%20kind%20,,%20metadata.name", map[string]any{"kind": "Component", "metadata": map[string]any{"name": "proofing-service"}}},
		{"duplicates collapse", "fields=kind,kind", map[string]any{"kind": "Component"}},
		{"subtree", "fields=spec", map[string]any{"spec": full["spec"]}},
		{"subtree and leaf", "fields=metadata.annotations,spec.owner", map[string]any{"metadata": map[string]any{"annotations": md["annotations"]}, "spec": map[string]any{"owner": "ovens"}}},
		{"annotation key with dots", "fields=metadata.annotations.backstage.io/techdocs-ref", map[string]any{"metadata": map[string]any{"annotations": map[string]any{"backstage.io/techdocs-ref": "dir:."}}}},
		{"annotation with an empty value", "fields=metadata.annotations.bakery.example/empty", map[string]any{"metadata": map[string]any{"annotations": map[string]any{"bakery.example/empty": ""}}}},
		{"array kept whole", "fields=metadata.tags", map[string]any{"metadata": map[string]any{"tags": []any{"go", "dough"}}}},
		{"relations", "fields=relations", map[string]any{"relations": full["relations"]}},
		{"missing field omitted", "fields=spec.nope", map[string]any{}},
		{"missing beside present", "fields=metadata.name,spec.nope,status", map[string]any{"metadata": map[string]any{"name": "proofing-service"}}},
		{"path through a leaf", "fields=kind.x", map[string]any{}},
		{"case-sensitive paths", "fields=Kind", map[string]any{}},
		{"fields= alone is no projection", "fields=", full},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{
				"/entities?filter=metadata.name=proofing-service&" + tc.fields,
				"/entities?limit=5&filter=metadata.name=proofing-service&" + tc.fields,
			} {
				got := list(e.ok(e.get(path), 200))
				if len(got) != 1 {
					t.Fatalf("%s: %d entities", path, len(got))
				}
				mustEqual(t, path, got[0], map[string]any(tc.want))
			}
			got := obj(e.ok(e.get("/entities/by-query?filter=metadata.name=proofing-service&"+tc.fields), 200))
			mustEqual(t, "by-query", list(got["items"]), []any{map[string]any(tc.want)})
		})
	}
	t.Run("top-level keys pruned", func(t *testing.T) {
		got := list(e.ok(e.get("/entities?filter=kind=group&fields=metadata.name,metadata.annotations,spec"), 200))
		for _, g := range got {
			m := obj(g)
			if _, ok := m["kind"]; ok || m["apiVersion"] != nil || m["relations"] != nil {
				t.Errorf("unnamed top-level keys kept: %v", m)
			}
			if len(obj(m["metadata"])) != 2 {
				t.Errorf("metadata should hold name and annotations only: %v", m["metadata"])
			}
		}
	})
	t.Run("array fields refused", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{"fields=x[0]", "x[0]"},
			{"fields=kind,relations[0].type", "relations[0].type"},
			{"fields=kind&fields=metadata.tags[1]", "metadata.tags[1]"},
		} {
			msg := `Invalid field "` + tc.field + `", array type fields are not supported`
			e.wantErr("GET", "/entities?"+tc.query, nil, 400, "InputError", msg)
			e.wantErr("GET", "/entities?limit=1&"+tc.query, nil, 400, "InputError", msg)
			e.wantErr("GET", "/entities/by-query?"+tc.query, nil, 400, "InputError", msg)
			e.wantErr("POST", "/entities/by-refs?"+tc.query, map[string]any{"entityRefs": []string{rAda}}, 400, "InputError", msg)
		}
	})
}

// names projects entities to their names.
func names(items []any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, str(it, "metadata", "name"))
	}
	return out
}

func TestGetEntitiesOrder(t *testing.T) {
	e := newEnv(t)
	gen := strings.TrimPrefix(e.generatedRef(), "location:default/")
	byName := []string{"ada", "bakery-root", "bakery-teams", "bin-01", "bin-02", "bin-03", "bin-04", "bin-05", "bin-06", "bin-07", "bin-08",
		"bruno", "Frosting", gen, "guests", "kitchen", "ledger", "ovens", "proofing-api", "proofing-service", "Recipe-Search", "storefront"}
	reversed := func(s []string) []string {
		out := make([]string, len(s))
		for i := range s {
			out[len(s)-1-i] = s[i]
		}
		return out
	}
	paged := func(t *testing.T, query string) []string {
		t.Helper()
		return names(list(e.ok(e.get("/entities?limit=100&fields=metadata.name&"+query), 200)))
	}

	t.Run("default order of a paged request is entity ref", func(t *testing.T) {
		got := refsOf(list(e.ok(e.get("/entities?limit=100"), 200)))
		mustEqual(t, "refs", got, e.allRefs())
	})
	t.Run("asc by name, case-insensitive", func(t *testing.T) {
		mustEqual(t, "names", paged(t, "order=asc:metadata.name"), byName)
	})
	t.Run("desc by name", func(t *testing.T) {
		mustEqual(t, "names", paged(t, "order=desc:metadata.name"), reversed(byName))
	})
	t.Run("order field key is case-insensitive", func(t *testing.T) {
		mustEqual(t, "names", paged(t, "order=asc:METADATA.NAME"), byName)
	})
	t.Run("multiple orders", func(t *testing.T) {
		got := paged(t, "order=desc:kind&order=asc:metadata.name&filter=kind=user,kind=system,kind=group,kind=api")
		mustEqual(t, "names", got, []string{"ada", "bruno", "kitchen", "Frosting", "guests", "ovens", "proofing-api"})
	})
	t.Run("with filter and offset", func(t *testing.T) {
		got := names(list(e.ok(e.get("/entities?filter=kind=component&order=desc:metadata.name&fields=metadata.name&offset=1&limit=2"), 200)))
		mustEqual(t, "names", got, []string{"Recipe-Search", "proofing-service"})
	})
	t.Run("entities without the field come last", func(t *testing.T) {
		r := e.get("/entities?limit=100&fields=metadata.name&order=asc:spec.lifecycle&order=asc:metadata.name")
		got := names(list(e.ok(r, 200)))
		want := []string{"Recipe-Search", "storefront", "ledger", "proofing-api", "proofing-service"} // deprecated, experimental, production…
		var rest []string
		for _, n := range byName {
			if !contains(want, n) {
				rest = append(rest, n)
			}
		}
		mustEqual(t, "names", got, append(want, rest...))
	})
	t.Run("desc keeps entities without the field last", func(t *testing.T) {
		r := e.get("/entities?limit=100&fields=metadata.name&order=desc:metadata.title&order=asc:metadata.name")
		got := names(list(e.ok(r, 200)))
		var rest []string
		for _, n := range byName {
			if n != "Recipe-Search" && n != "ovens" {
				rest = append(rest, n)
			}
		}
		mustEqual(t, "names", got, append([]string{"Recipe-Search", "ovens"}, rest...)) // "recipe search" > "oven team"
	})
	t.Run("unpaged order streams only entities with the field", func(t *testing.T) {
		// Backstage answers an unpaged request through queryEntities, which
		// orders by the first order field and leaves out entities without it.
		got := names(list(e.ok(e.get("/entities?fields=metadata.name&order=asc:spec.lifecycle"), 200)))
		if len(got) != 5 {
			t.Fatalf("got %v, want the 5 entities with a lifecycle", got)
		}
		mustEqual(t, "first two", got[:2], []string{"Recipe-Search", "storefront"})
		mustEqual(t, "production ones", sorted(got[2:]), []string{"ledger", "proofing-api", "proofing-service"})
		got = names(list(e.ok(e.get("/entities?fields=metadata.name&order=desc:metadata.name&filter=kind=component"), 200)))
		mustEqual(t, "desc", got, []string{"storefront", "Recipe-Search", "proofing-service", "ledger"})
	})
	t.Run("malformed order", func(t *testing.T) {
		for _, o := range []string{"metadata.name", "up:metadata.name", "asc:", "ASC:metadata.name", ":metadata.name", "asc", "asc-metadata.name"} {
			msg := `Invalid order parameter "` + o + `", expected "<asc or desc>:<field name>"`
			e.wantErr("GET", "/entities?order="+url.QueryEscape(o), nil, 400, "InputError", msg)
			e.wantErr("GET", "/entities?limit=3&order=asc:kind&order="+url.QueryEscape(o), nil, 400, "InputError", msg)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func decodeAfterParam(t *testing.T, link string) map[string]any {
	t.Helper()
	start, end := strings.Index(link, "<"), strings.Index(link, ">")
	u, err := url.Parse(link[start+1 : end])
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(u.Query().Get("after"))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGetEntitiesPaging(t *testing.T) {
	e := newEnv(t)
	all := e.allRefs() // 22 entities in ref order
	after := func(limit, offset int) string {
		b, _ := json.Marshal(map[string]int{"limit": limit, "offset": offset})
		return base64.StdEncoding.EncodeToString(b)
	}
	link := func(query string) string {
		return `</entities?` + query + `>; rel="next"`
	}
	cases := []struct {
		name, query string
		want        []string
		link        string // "" = no Link header
	}{
		{"limit", "limit=5", all[:5], link("limit=5&after=" + url.QueryEscape(after(5, 5)))},
		{"offset and limit", "offset=3&limit=4", all[3:7], link("limit=4&after=" + url.QueryEscape(after(4, 7)))},
		{"offset removed wherever it is", "limit=4&offset=3", all[3:7], link("limit=4&after=" + url.QueryEscape(after(4, 7)))},
		{"other parameters kept in order", "filter=kind=resource&fields=kind,metadata.name&limit=3", bins[:3],
			link("filter=kind%3Dresource&fields=kind%2Cmetadata.name&limit=3&after=" + url.QueryEscape(after(3, 3)))},
		{"spaces encoded as +", "filter=kind=user,spec.profile.displayName=ada%20crumb&filter=kind=group&limit=1&offset=0", []string{rFrosting},
			link("filter=kind%3Duser%2Cspec.profile.displayName%3Dada+crumb&filter=kind%3Dgroup&limit=1&after=" + url.QueryEscape(after(1, 1)))},
		{"repeated parameters kept", "filter=kind=user&filter=kind=group&limit=2", []string{rFrosting, rGuests},
			link("filter=kind%3Duser&filter=kind%3Dgroup&limit=2&after=" + url.QueryEscape(after(2, 2)))},
		{"offset alone", "offset=20", all[20:], ""},
		{"offset zero", "offset=0", all, ""},
		{"offset past the end", "offset=100", nil, ""},
		{"limit beyond the total", "limit=100", all, ""},
		{"limit equal to the total", "limit=22", all, ""},
		{"limit one short of the total", "limit=21", all[:21], link("limit=21&after=" + url.QueryEscape(after(21, 21)))},
		{"last page", "limit=5&offset=20", all[20:], ""},
		{"after alone", "after=" + url.QueryEscape(after(3, 3)), all[3:6], link("after=" + url.QueryEscape(after(3, 6)))},
		{"after overrides offset and limit", "limit=10&offset=0&after=" + url.QueryEscape(after(2, 4)), all[4:6],
			link("limit=10&after=" + url.QueryEscape(after(2, 6)))},
		{"after without padding", "after=" + strings.TrimRight(after(3, 3), "="), all[3:6], link("after=" + url.QueryEscape(after(3, 6)))},
		{"after with only an offset keeps the limit", "limit=2&after=" + base64.StdEncoding.EncodeToString([]byte(`{"offset":10}`)), all[10:12],
			link("limit=2&after=" + url.QueryEscape(after(2, 12)))},
		{"empty page", "filter=kind=nothing&limit=3", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get("/entities?" + tc.query)
			got := list(e.ok(r, 200))
			want := tc.want
			if want == nil {
				want = []string{}
				if string(r.body) != "[]" {
					t.Errorf("body %q, want []", r.body)
				}
			}
			mustEqual(t, "refs", refsOf(got), want)
			if l := r.header.Get("Link"); l != tc.link {
				t.Errorf("Link = %q\n want %q", l, tc.link)
			}
		})
	}
	t.Run("walk the Link headers to the end", func(t *testing.T) {
		var got []string
		path := "/entities?filter=kind=resource,kind=component&limit=5&fields=kind,metadata.name,metadata.namespace"
		pages := 0
		for path != "" {
			r := e.get(path)
			got = append(got, refsOf(list(e.ok(r, 200)))...)
			pages++
			path = ""
			if l := r.header.Get("Link"); l != "" {
				if !strings.HasSuffix(l, `>; rel="next"`) || !strings.HasPrefix(l, "</entities?") {
					t.Fatalf("Link %q", l)
				}
				path = l[1:strings.Index(l, ">")]
				if c := decodeAfterParam(t, l); c["limit"] != float64(5) {
					t.Errorf("after = %v", c)
				}
			}
		}
		mustEqual(t, "refs", got, sorted(join(components, bins)))
		if pages != 3 {
			t.Errorf("%d pages, want 3", pages)
		}
	})
	t.Run("unpaged returns everything as a bare array", func(t *testing.T) {
		r := e.get("/entities")
		if !strings.HasPrefix(string(r.body), "[") || r.header.Get("Link") != "" {
			t.Fatalf("body %q, Link %q", trunc(string(r.body)), r.header.Get("Link"))
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		mustEqual(t, "refs", sorted(refsOf(list(e.ok(r, 200)))), all)
		for _, it := range list(r.json(t)) {
			mustEqual(t, refOf(it), it, e.entity(refOf(it)))
		}
	})
	t.Run("empty result is []", func(t *testing.T) {
		for _, path := range []string{"/entities?filter=kind=nothing", "/entities?filter=kind=nothing&fields=kind", "/entities?filter=kind=nothing&order=asc:metadata.name"} {
			r := e.get(path)
			if r.status != 200 || string(r.body) != "[]" {
				t.Errorf("%s: %d %q", path, r.status, r.body)
			}
		}
	})
	t.Run("invalid paging", func(t *testing.T) {
		b64 := func(s string) string { return url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(s))) }
		cases := []struct{ query, msg string }{
			{"offset=-1", "Invalid offset, must be zero or greater"},
			{"offset=-1&limit=3", "Invalid offset, must be zero or greater"},
			{"limit=0", "Invalid limit, must be greater than zero"},
			{"limit=-5", "Invalid limit, must be greater than zero"},
			{"after=", "Invalid after, must not be empty"},
			{"limit=2&after=", "Invalid after, must not be empty"},
			{"after=!!!", "Malformed after cursor, could not be parsed"},
			{"after=" + b64("not json"), "Malformed after cursor, could not be parsed"},
			{"after=" + b64(`{"limit":"x"}`), "Malformed after cursor, limit was not an number"},
			{"after=" + b64(`{"limit":1.5}`), "Malformed after cursor, limit was not an number"},
			{"after=" + b64(`{"offset":"3"}`), "Malformed after cursor, offset was not a number"},
			{"limit=abc", "*"},
			{"offset=1.5", "*"},
			{"limit=", "*"},
		}
		for _, tc := range cases {
			e.wantErr("GET", "/entities?"+tc.query, nil, 400, "InputError", tc.msg)
		}
	})
}
