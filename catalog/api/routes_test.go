package api_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestByUID(t *testing.T) {
	e := newEnv(t)
	t.Run("get", func(t *testing.T) {
		for _, ref := range []string{rOvens, rLedger, e.generatedRef()} {
			want := e.entity(ref)
			uid := str(want, "metadata", "uid")
			r := e.get("/entities/by-uid/" + uid)
			mustEqual(t, ref, e.ok(r, 200), want)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		}
	})
	t.Run("get unknown", func(t *testing.T) {
		for _, uid := range []string{"nope", "00000000-0000-0000-0000-000000000000", url.PathEscape("a b")} {
			unescaped, _ := url.PathUnescape(uid)
			e.wantErr("GET", "/entities/by-uid/"+uid, nil, 404, "NotFoundError", "No entity with uid "+unescaped)
		}
	})
	t.Run("uid is exact", func(t *testing.T) {
		uid := e.uidOf(rOvens)
		e.wantErr("GET", "/entities/by-uid/"+strings.ToUpper(uid), nil, 404, "NotFoundError", "No entity with uid "+strings.ToUpper(uid))
	})
	t.Run("delete, gone, and back after a crawl", func(t *testing.T) {
		e := newEnv(t)
		uid := e.uidOf(rAPI)
		r := e.do("DELETE", "/entities/by-uid/"+uid, nil)
		if r.status != 204 || len(r.body) != 0 {
			t.Fatalf("delete: %d %q", r.status, r.body)
		}
		e.wantErr("GET", "/entities/by-uid/"+uid, nil, 404, "NotFoundError", "No entity with uid "+uid)
		e.wantErr("GET", "/entities/by-name/api/default/proofing-api", nil, 404, "NotFoundError", "No entity named 'proofing-api' found, with kind 'api' in namespace 'default'")
		got := refsOf(list(e.ok(e.get("/entities?filter=kind=api"), 200)))
		mustEqual(t, "list after delete", got, []string{})
		// The relations it emitted are gone and their peers restitched: its
		// owner no longer lists it. (Relations other entities emit towards it,
		// like the provider's providesApi, stay, as in Backstage.)
		hasRel := func(ref, typ, target string) bool {
			for _, rel := range list(field(e.entity(ref), "relations")) {
				if str(rel, "type") == typ && str(rel, "targetRef") == target {
					return true
				}
			}
			return false
		}
		if hasRel(rOvens, "ownerOf", rAPI) {
			t.Error("ovens still owns the deleted API")
		}
		if !hasRel(rProofing, "providesApi", rAPI) {
			t.Error("proofing-service lost the relation it emits itself")
		}
		// Deleting again (or an unknown uid) is still 204.
		if r := e.do("DELETE", "/entities/by-uid/"+uid, nil); r.status != 204 {
			t.Errorf("second delete: %d", r.status)
		}
		if r := e.do("DELETE", "/entities/by-uid/nope", nil); r.status != 204 {
			t.Errorf("unknown delete: %d", r.status)
		}
		// Its location still emits it: the next crawl brings it back.
		if err := e.eng.CrawlAll(e.ctx); err != nil {
			t.Fatal(err)
		}
		back := e.entity(rAPI)
		if str(back, "metadata", "name") != "proofing-api" {
			t.Fatalf("not back: %v", back)
		}
		if !hasRel(rOvens, "ownerOf", rAPI) {
			t.Error("ownerOf relation not restored")
		}
	})
}

func TestByName(t *testing.T) {
	e := newEnv(t)
	t.Run("found", func(t *testing.T) {
		for _, path := range []string{
			"/entities/by-name/component/default/recipe-search",
			"/entities/by-name/Component/Default/Recipe-Search",
			"/entities/by-name/COMPONENT/DEFAULT/RECIPE-SEARCH",
		} {
			got := e.ok(e.get(path), 200)
			mustEqual(t, path+" ref", refOf(got), rRecipe)
			mustEqual(t, path+" name keeps its case", str(got, "metadata", "name"), "Recipe-Search")
		}
		got := e.ok(e.get("/entities/by-name/component/finance/ledger"), 200)
		mustEqual(t, "namespaced", refOf(got), rLedger)
	})
	t.Run("entity shape", func(t *testing.T) {
		got := obj(e.entity(rProofing))
		keys := map[string]bool{}
		for k := range got {
			keys[k] = true
		}
		mustEqual(t, "top-level keys", keys, map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "relations": true})
		md := obj(got["metadata"])
		for _, k := range []string{"uid", "etag", "name", "namespace", "annotations"} {
			if md[k] == nil {
				t.Errorf("metadata.%s missing: %v", k, md)
			}
		}
		mustEqual(t, "namespace set", md["namespace"], "default")
		mustEqual(t, "relations", got["relations"], []any{
			map[string]any{"type": "ownedBy", "targetRef": rOvens},
			map[string]any{"type": "partOf", "targetRef": rKitchen},
			map[string]any{"type": "providesApi", "targetRef": rAPI},
		})
	})
	t.Run("not found", func(t *testing.T) {
		cases := []struct{ path, kind, ns, name string }{
			{"Component/default/nope", "Component", "default", "nope"},
			{"component/finance/proofing-service", "component", "finance", "proofing-service"},
			{"group/default/Ovens2", "group", "default", "Ovens2"},
			{"user/some%20space/a%2Fb", "user", "some space", "a/b"},
		}
		for _, tc := range cases {
			e.wantErr("GET", "/entities/by-name/"+tc.path, nil, 404, "NotFoundError",
				"No entity named '"+tc.name+"' found, with kind '"+tc.kind+"' in namespace '"+tc.ns+"'")
		}
	})
	t.Run("incomplete paths are unknown routes", func(t *testing.T) {
		for _, p := range []string{"/entities/by-name/component/default", "/entities/by-name/component"} {
			r := e.get(p)
			wantError(t, r, "GET", "/api/catalog"+p, 404, "NotFoundError", "*")
		}
	})
}

func TestAncestry(t *testing.T) {
	e := newEnv(t)
	type item struct {
		ref     string
		parents []string
	}
	check := func(t *testing.T, ref string, want []item) {
		t.Helper()
		kind, rest, _ := strings.Cut(ref, ":")
		ns, name, _ := strings.Cut(rest, "/")
		got := obj(e.ok(e.get("/entities/by-name/"+kind+"/"+ns+"/"+name+"/ancestry"), 200))
		keys := map[string]bool{}
		for k := range got {
			keys[k] = true
		}
		mustEqual(t, "keys", keys, map[string]bool{"rootEntityRef": true, "items": true})
		mustEqual(t, "rootEntityRef", got["rootEntityRef"], ref)
		items := list(got["items"])
		if len(items) != len(want) {
			t.Fatalf("%d items, want %d: %v", len(items), len(want), trunc(toJSON(items)))
		}
		for i, it := range items {
			m := obj(it)
			if len(m) != 2 {
				t.Errorf("item %d keys: %v", i, m)
			}
			mustEqual(t, "item ref", refOf(m["entity"]), want[i].ref)
			mustEqual(t, "item entity", m["entity"], e.entity(want[i].ref))
			mustEqual(t, "parentEntityRefs", m["parentEntityRefs"], toAny(want[i].parents))
		}
	}
	gen := e.generatedRef()
	t.Run("two levels of Location below the root", func(t *testing.T) {
		check(t, rGuests, []item{
			{rGuests, []string{rTeamsLoc}},
			{rTeamsLoc, []string{rRootLoc}},
			{rRootLoc, []string{gen}},
			{gen, []string{}},
		})
	})
	t.Run("one level", func(t *testing.T) {
		check(t, rLedger, []item{{rLedger, []string{rRootLoc}}, {rRootLoc, []string{gen}}, {gen, []string{}}})
	})
	t.Run("path case-insensitive", func(t *testing.T) {
		got := obj(e.ok(e.get("/entities/by-name/Component/Default/Recipe-Search/ancestry"), 200))
		mustEqual(t, "rootEntityRef", got["rootEntityRef"], rRecipe)
		mustEqual(t, "items", len(list(got["items"])), 3)
	})
	t.Run("the root itself", func(t *testing.T) {
		check(t, gen, []item{{gen, []string{}}})
	})
	t.Run("not found", func(t *testing.T) {
		e.wantErr("GET", "/entities/by-name/Component/default/nope/ancestry", nil, 404, "NotFoundError", "No such entity component:default/nope")
	})
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func TestByRefs(t *testing.T) {
	e := newEnv(t)
	items := func(t *testing.T, path string, body any) []any {
		t.Helper()
		got := obj(e.ok(e.post(path, body), 200))
		if len(got) != 1 {
			t.Errorf("response keys: %v", got)
		}
		return list(got["items"])
	}
	refsOrNull := func(items []any) []string {
		out := make([]string, len(items))
		for i, it := range items {
			if it == nil {
				out[i] = "null"
			} else {
				out[i] = refOf(it)
			}
		}
		return out
	}
	t.Run("request order, nulls for missing, exact canonical refs", func(t *testing.T) {
		got := items(t, "/entities/by-refs", map[string]any{"entityRefs": []string{
			rBruno, "group:guests", rGuests, "Group:Default/Guests", "guests", "not a ref", "", rLedger, "component:default/ledger", rBruno,
		}})
		mustEqual(t, "items", refsOrNull(got), []string{rBruno, "null", rGuests, "null", "null", "null", "null", rLedger, "null", rBruno})
		mustEqual(t, "full entity", got[0], e.entity(rBruno))
	})
	t.Run("empty list", func(t *testing.T) {
		r := e.post("/entities/by-refs", map[string]any{"entityRefs": []string{}})
		if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"items":[]}` {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("fields in the body", func(t *testing.T) {
		got := items(t, "/entities/by-refs", map[string]any{"entityRefs": []string{rOvens, "group:default/nope"}, "fields": []string{"metadata.name", "spec.profile"}})
		mustEqual(t, "items", got, []any{map[string]any{"metadata": map[string]any{"name": "ovens"}, "spec": map[string]any{"profile": map[string]any{"displayName": "Ovens"}}}, nil})
	})
	t.Run("fields in the query and the body", func(t *testing.T) {
		got := items(t, "/entities/by-refs?fields=kind", map[string]any{"entityRefs": []string{rOvens}, "fields": []string{"metadata.name"}})
		mustEqual(t, "items", got, []any{map[string]any{"kind": "Group", "metadata": map[string]any{"name": "ovens"}}})
	})
	t.Run("filter query parameter", func(t *testing.T) {
		got := items(t, "/entities/by-refs?filter=kind=user&fields=metadata.name", map[string]any{"entityRefs": []string{rGuests, rAda, rBruno}})
		mustEqual(t, "items", got, []any{nil, map[string]any{"metadata": map[string]any{"name": "ada"}}, map[string]any{"metadata": map[string]any{"name": "bruno"}}})
		got = items(t, "/entities/by-refs?filter=kind=user&filter=kind=group,spec.type=community&fields=kind,metadata", map[string]any{"entityRefs": []string{rGuests, rOvens, rAda}})
		mustEqual(t, "OR filter", refsOrNull(got), []string{rGuests, "null", rAda})
	})
	t.Run("filter and query are ANDed", func(t *testing.T) {
		got := items(t, "/entities/by-refs?filter=kind=component", map[string]any{"entityRefs": components, "query": map[string]any{"spec.lifecycle": "production"}})
		mustEqual(t, "items", refsOrNull(got), []string{rProofing, "null", "null", rLedger})
	})
	t.Run("body errors", func(t *testing.T) {
		prefix := "Malformed request body (did you remember to specify an application/json content type?), "
		e.wantErr("POST", "/entities/by-refs", map[string]any{"fields": []string{"kind"}}, 400, "InputError", prefix+`Validation error: Required at "entityRefs"`)
		for _, body := range []string{`{"entityRefs":"x"}`, `{"entityRefs":[1]}`, `{"entityRefs":null}`} {
			r := e.post("/entities/by-refs", body)
			wantError(t, r, "POST", "/api/catalog/entities/by-refs", 400, "InputError", "*")
			if msg := str(r.json(t), "error", "message"); !strings.HasPrefix(msg, prefix) && !strings.HasPrefix(msg, "Malformed request body") {
				t.Errorf("%s: %q", body, msg)
			}
		}
		e.wantErr("POST", "/entities/by-refs", map[string]any{}, 400, "InputError", "Empty request body")
	})
}

func TestFacets(t *testing.T) {
	e := newEnv(t)
	fv := func(pairs ...any) []any {
		out := []any{}
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, map[string]any{"value": pairs[i], "count": float64(pairs[i+1].(int))})
		}
		return out
	}
	cases := []struct {
		name  string
		query string
		body  map[string]any
		want  map[string]any
	}{
		{"kind", "facet=kind", map[string]any{"facets": []string{"kind"}},
			map[string]any{"kind": fv("API", 1, "Component", 4, "Group", 3, "Location", 3, "Resource", 8, "System", 1, "User", 2)}},
		{"case-kept values counted apart, in binary order", "facet=spec.type&filter=kind=component",
			map[string]any{"facets": []string{"spec.type"}, "query": map[string]any{"kind": "component"}},
			map[string]any{"spec.type": fv("Service", 1, "library", 1, "service", 1, "website", 1)}},
		{"facet key echoed as asked, matched case-insensitively", "facet=SPEC.Lifecycle",
			map[string]any{"facets": []string{"SPEC.Lifecycle"}},
			map[string]any{"SPEC.Lifecycle": fv("deprecated", 1, "experimental", 1, "production", 3)}},
		{"tags", "facet=metadata.tags", map[string]any{"facets": []string{"metadata.tags"}},
			map[string]any{"metadata.tags": fv("dough", 2, "go", 2, "typescript", 1)}},
		{"several facets", "facet=kind&facet=metadata.namespace&filter=kind=component",
			map[string]any{"facets": []string{"kind", "metadata.namespace"}, "query": map[string]any{"kind": "component"}},
			map[string]any{"kind": fv("Component", 4), "metadata.namespace": fv("default", 3, "finance", 1)}},
		{"relations facet", "facet=relations.ownedBy", map[string]any{"facets": []string{"relations.ownedBy"}},
			map[string]any{"relations.ownedBy": fv("group:default/frosting", 2, "group:default/ovens", 12)}},
		{"relations facet filtered", "facet=relations.ownedby&filter=kind=component",
			map[string]any{"facets": []string{"relations.ownedby"}, "query": map[string]any{"kind": "component"}},
			map[string]any{"relations.ownedby": fv("group:default/frosting", 2, "group:default/ovens", 2)}},
		{"relations facet of a relation type", "facet=relations.hasMember", map[string]any{"facets": []string{"relations.hasMember"}},
			map[string]any{"relations.hasMember": fv("user:default/ada", 1, "user:default/bruno", 1)}},
		{"OR filter", "facet=kind&filter=kind=user&filter=kind=group", map[string]any{"facets": []string{"kind"}, "query": map[string]any{"$any": []any{map[string]any{"kind": "user"}, map[string]any{"kind": "group"}}}},
			map[string]any{"kind": fv("Group", 3, "User", 2)}},
		{"filter matching nothing", "facet=kind&filter=kind=nothing", map[string]any{"facets": []string{"kind"}, "query": map[string]any{"kind": "nothing"}},
			map[string]any{"kind": fv()}},
		{"unknown facet", "facet=spec.nope&facet=kind&filter=kind=system", map[string]any{"facets": []string{"spec.nope", "kind"}, "query": map[string]any{"kind": "system"}},
			map[string]any{"spec.nope": fv(), "kind": fv("System", 1)}},
		{"long values left out", "facet=metadata.annotations.bakery.example/notes", map[string]any{"facets": []string{"metadata.annotations.bakery.example/notes"}},
			map[string]any{"metadata.annotations.bakery.example/notes": fv()}},
		{"numbers and booleans as strings", "facet=spec.capacityKg&facet=spec.refrigerated", map[string]any{"facets": []string{"spec.capacityKg", "spec.refrigerated"}},
			map[string]any{"spec.capacityKg": fv("25", 1), "spec.refrigerated": fv("true", 1)}},
		{"empty facet names skipped", "facet=&facet=kind&filter=kind=api", map[string]any{"facets": []string{"", "kind"}, "query": map[string]any{"kind": "api"}},
			map[string]any{"kind": fv("API", 1)}},
		{"location type", "facet=spec.type&filter=kind=location", map[string]any{"facets": []string{"spec.type"}, "query": map[string]any{"kind": "location"}},
			map[string]any{"spec.type": fv("file", 1)}},
		{"names keep their case", "facet=metadata.name&filter=kind=group", map[string]any{"facets": []string{"metadata.name"}, "query": map[string]any{"kind": "group"}},
			map[string]any{"metadata.name": fv("Frosting", 1, "guests", 1, "ovens", 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := obj(e.ok(e.get("/entity-facets?"+tc.query), 200))
			mustEqual(t, "GET", got, map[string]any{"facets": tc.want})
			got = obj(e.ok(e.post("/entity-facets", tc.body), 200))
			mustEqual(t, "POST", got, map[string]any{"facets": tc.want})
		})
	}
	t.Run("missing facet", func(t *testing.T) {
		for _, q := range []string{"", "?facet=", "?facet=&facet=", "?filter=kind=user"} {
			e.wantErr("GET", "/entity-facets"+q, nil, 400, "InputError", "Missing facet parameter")
		}
		for _, body := range []any{map[string]any{"facets": []string{}}, map[string]any{"facets": []string{""}}, map[string]any{"query": map[string]any{"kind": "x"}}, map[string]any{}} {
			e.wantErr("POST", "/entity-facets", body, 400, "InputError", "Missing or empty facets parameter")
		}
		r := e.do("POST", "/entity-facets", nil)
		wantError(t, r, "POST", "/api/catalog/entity-facets", 400, "InputError", "Missing or empty facets parameter")
	})
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	t.Run("known entity", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"entityRef": rGuests},
			{"entityRef": "Group:Default/Guests"},
			{"entityRef": rStore, "authorizationToken": "ignored"},
			{"entityRef": e.generatedRef()},
		} {
			r := e.post("/refresh", body)
			if r.status != 200 || len(r.body) != 0 {
				t.Errorf("%v: %d %q", body, r.status, r.body)
			}
		}
	})
	t.Run("unknown entity", func(t *testing.T) {
		e.wantErr("POST", "/refresh", map[string]any{"entityRef": "component:default/nope"}, 404, "NotFoundError", "Entity component:default/nope not found")
		e.wantErr("POST", "/refresh", map[string]any{"entityRef": "Component:Default/Nope"}, 404, "NotFoundError", "Entity component:default/nope not found")
	})
	t.Run("bad body", func(t *testing.T) {
		e.wantErr("POST", "/refresh", map[string]any{}, 400, "InputError", "Empty request body")
		for _, body := range []any{map[string]any{"entityRef": ""}, map[string]any{"entityRef": 5}, map[string]any{"other": 1}} {
			r := e.post("/refresh", body)
			wantError(t, r, "POST", "/api/catalog/refresh", 400, "InputError", "*")
		}
	})
}

func TestRefreshRecrawls(t *testing.T) {
	e := newEnv(t, envOpts{run: true})
	e.remote.set("/svc.yaml", componentYAML("kneader", "experimental"))
	e.ok(e.post("/locations", map[string]any{"type": "url", "target": e.remote.URL + "/svc.yaml"}), 201)
	eventually(t, "kneader registered", func() bool { return e.get("/entities/by-name/component/default/kneader").status == 200 })
	e.remote.set("/svc.yaml", componentYAML("kneader", "production"))
	if r := e.post("/refresh", map[string]any{"entityRef": "component:default/kneader"}); r.status != 200 {
		t.Fatalf("refresh: %d", r.status)
	}
	eventually(t, "kneader refreshed", func() bool {
		return str(e.ok(e.get("/entities/by-name/component/default/kneader"), 200), "spec", "lifecycle") == "production"
	})
}

func componentYAML(name, lifecycle string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\nspec:\n  type: service\n  lifecycle: " + lifecycle + "\n  owner: ovens\n"
}

func TestValidateEntity(t *testing.T) {
	e := newEnv(t)
	valid := map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": "ovens"}}
	loc := "url:https://example.com/catalog-info.yaml"
	t.Run("valid", func(t *testing.T) {
		for _, entity := range []map[string]any{
			valid,
			{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "g", "annotations": map[string]any{"a.b/c": "d"}}, "spec": map[string]any{"type": "team", "children": []any{}}},
		} {
			r := e.post("/validate-entity", map[string]any{"entity": entity, "location": loc})
			if r.status != 200 || len(r.body) != 0 {
				t.Errorf("%d %q", r.status, r.body)
			}
		}
		// nothing is stored
		e.wantErr("GET", "/entities/by-name/component/default/x", nil, 404, "NotFoundError", "No entity named 'x' found, with kind 'component' in namespace 'default'")
	})
	errorsOf := func(t *testing.T, body any) []any {
		t.Helper()
		r := e.post("/validate-entity", body)
		got := obj(e.ok(r, 400))
		if len(got) != 1 || got["errors"] == nil {
			t.Fatalf("body %s, want {errors:[…]}", r.body)
		}
		errs := list(got["errors"])
		if len(errs) == 0 {
			t.Fatal("no errors")
		}
		return errs
	}
	t.Run("kind validator", func(t *testing.T) {
		entity := map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": "x"},
			"spec": map[string]any{"type": "service", "owner": "ovens"}}
		errs := errorsOf(t, map[string]any{"entity": entity, "location": loc})
		cause := "TypeError: /spec must have required property 'lifecycle' - missingProperty: lifecycle"
		mustEqual(t, "errors", errs, []any{map[string]any{
			"name":    "InputError",
			"message": "Processor BuiltinKindsEntityProcessor threw an error while validating the entity component:default/x; caused by " + cause,
			"cause":   map[string]any{"name": "TypeError", "message": "/spec must have required property 'lifecycle' - missingProperty: lifecycle"},
		}})
	})
	t.Run("envelope", func(t *testing.T) {
		errs := errorsOf(t, map[string]any{"entity": map[string]any{"kind": "Component"}, "location": loc})
		mustEqual(t, "errors", errs, []any{map[string]any{"name": "TypeError", "message": "<root> must have required property 'apiVersion' - missingProperty: apiVersion"}})
		errs = errorsOf(t, map[string]any{"entity": "nope", "location": loc})
		mustEqual(t, "name", str(errs[0], "name") != "", true)
	})
	t.Run("location must be url", func(t *testing.T) {
		for _, l := range []string{"file:/tmp/catalog-info.yaml", "git:https://example.com/repo"} {
			errs := errorsOf(t, map[string]any{"entity": valid, "location": l})
			mustEqual(t, l, errs, []any{map[string]any{"name": "TypeError", "message": "Invalid location ref " + l + ", only 'url:<target>' is supported, e.g. url:https://host/path"}})
		}
		errs := errorsOf(t, map[string]any{"entity": valid, "location": "nope"})
		if str(errs[0], "message") == "" {
			t.Errorf("errors %v", errs)
		}
	})
	t.Run("bad body", func(t *testing.T) {
		for _, body := range []any{map[string]any{"entity": valid}, `[1]`, `{"entity":`} {
			errs := errorsOf(t, body)
			if str(errs[0], "name") == "" || str(errs[0], "message") == "" {
				t.Errorf("%v: %v", body, errs)
			}
		}
	})
}

func TestAnalyzeLocation(t *testing.T) {
	e := newEnv(t)
	e.remote.set("/repo/catalog-info.yaml", componentYAML("oven-monitor", "experimental"))
	e.remote.set("/repo2/custom.yaml", componentYAML("custom-one", "production"))
	e.remote.set("/direct.yaml", componentYAML("direct", "production"))
	t.Run("existing file in a folder", func(t *testing.T) {
		got := obj(e.ok(e.post("/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": e.remote.URL + "/repo"}}), 200))
		files := list(got["existingEntityFiles"])
		mustEqual(t, "generateEntities", got["generateEntities"], []any{})
		if len(files) != 1 {
			t.Fatalf("existingEntityFiles %v", files)
		}
		f := obj(files[0])
		target := e.remote.URL + "/repo/catalog-info.yaml"
		mustEqual(t, "location", f["location"], map[string]any{"type": "url", "target": target})
		mustEqual(t, "isRegistered", f["isRegistered"], false)
		ent := obj(f["entity"])
		mustEqual(t, "entity ref", refOf(ent), "component:default/oven-monitor")
		mustEqual(t, "spec", ent["spec"], map[string]any{"type": "service", "lifecycle": "experimental", "owner": "ovens"})
		mustEqual(t, "managed-by-location", obj(field(ent, "metadata", "annotations"))["backstage.io/managed-by-location"], "url:"+target)
	})
	t.Run("existing file named directly", func(t *testing.T) {
		got := obj(e.ok(e.post("/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": e.remote.URL + "/direct.yaml"}}), 200))
		files := list(got["existingEntityFiles"])
		if len(files) != 1 || refOf(field(files[0], "entity")) != "component:default/direct" {
			t.Fatalf("existingEntityFiles %v", files)
		}
	})
	t.Run("catalogFilename", func(t *testing.T) {
		for _, key := range []string{"catalogFilename", "catalogFileName"} {
			got := obj(e.ok(e.post("/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": e.remote.URL + "/repo2/"}, key: "custom.yaml"}), 200))
			files := list(got["existingEntityFiles"])
			if len(files) != 1 || refOf(field(files[0], "entity")) != "component:default/custom-one" {
				t.Errorf("%s: existingEntityFiles %v", key, files)
			}
		}
	})
	t.Run("folder without a catalog file", func(t *testing.T) {
		got := obj(e.ok(e.post("/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": e.remote.URL + "/my-new-service"}}), 200))
		mustEqual(t, "existingEntityFiles", got["existingEntityFiles"], []any{})
		mustEqual(t, "generateEntities", got["generateEntities"], []any{map[string]any{
			"entity": map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": "my-new-service"},
				"spec": map[string]any{"type": "other", "lifecycle": "unknown"}},
			"fields": []any{map[string]any{"field": "spec.owner", "state": "needsUserInput", "value": nil, "description": "Entity owner, a user or group that is responsible for it"}},
		}})
	})
	t.Run("registered file", func(t *testing.T) {
		e := newEnv(t, envOpts{run: true})
		e.remote.set("/repo/catalog-info.yaml", componentYAML("oven-monitor", "experimental"))
		target := e.remote.URL + "/repo/catalog-info.yaml"
		e.ok(e.post("/locations", map[string]any{"type": "url", "target": target}), 201)
		got := obj(e.ok(e.post("/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": e.remote.URL + "/repo"}}), 200))
		mustEqual(t, "isRegistered", field(list(got["existingEntityFiles"])[0], "isRegistered"), true)
	})
	t.Run("refused by the reading policy", func(t *testing.T) {
		// No integration and no backend.reading.allow rule: the loopback
		// remote is refused with Backstage's message, and never asked.
		strict := newEnv(t, envOpts{strictReader: true})
		strict.remote.set("/x/catalog-info.yaml", componentYAML("hidden", "production"))
		strict.remote.set("/x.yaml", componentYAML("hidden", "production"))
		for _, target := range []string{strict.remote.URL + "/x", strict.remote.URL + "/x.yaml"} {
			file := target
			if !strings.HasSuffix(file, ".yaml") {
				file += "/catalog-info.yaml"
			}
			strict.wantErr("POST", "/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": target}}, 403, "NotAllowedError",
				"Reading from '"+file+"' is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'")
		}
		// Another spelling of the same address is the same address.
		port := strings.TrimPrefix(strict.remote.URL, "http://127.0.0.1:")
		strict.wantErr("POST", "/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": "http://0x7f000001:" + port + "/x.yaml"}}, 403, "NotAllowedError",
			"Reading from 'http://127.0.0.1:"+port+"/x.yaml' is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'")
		if n := strict.remote.requests(); n != 0 {
			t.Errorf("the refused remote was asked %d times", n)
		}
	})
	t.Run("not a URL", func(t *testing.T) {
		for _, target := range []string{"not a url", "ftp://example.com/x", "https://", "/just/a/path"} {
			e.wantErr("POST", "/analyze-location", map[string]any{"location": map[string]any{"type": "url", "target": target}}, 400, "InputError", "The given location.target is not a URL")
		}
	})
	t.Run("bad body", func(t *testing.T) {
		e.wantErr("POST", "/analyze-location", map[string]any{"catalogFilename": "x.yaml"}, 400, "InputError", "Malformed request: location with type and target is required")
		e.wantErr("POST", "/analyze-location", map[string]any{"location": map[string]any{"type": "url"}}, 400, "InputError", "Malformed request: location with type and target is required")
		e.wantErr("POST", "/analyze-location", map[string]any{}, 400, "InputError", "Empty request body")
	})
}
