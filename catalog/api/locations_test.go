package api_test

import (
	"encoding/base64"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func locationRef(typ, target string) string {
	return "location:default/" + catalog.GeneratedLocationName(catalog.LocationSpec{Type: typ, Target: target})
}

// wantLocation checks a location object field by field.
func wantLocation(t *testing.T, got any, id, typ, target string) {
	t.Helper()
	m := obj(got)
	if id == "" {
		if !uuidRe.MatchString(str(m, "id")) {
			t.Errorf("id %q is not a uuid", m["id"])
		}
		id = str(m, "id")
	}
	mustEqual(t, "location", m, map[string]any{"id": id, "type": typ, "target": target, "entityRef": locationRef(typ, target)})
}

func TestLocations(t *testing.T) {
	e := newEnv(t, envOpts{run: true})
	e.remote.set("/mixer.yaml", componentYAML("mixer", "experimental")+"---\n"+
		"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: mixer-more\nspec:\n  targets: [./more.yaml]\n")
	e.remote.set("/more.yaml", componentYAML("whisk", "production"))
	target := e.remote.URL + "/mixer.yaml"
	mixerRef := "component:default/mixer"

	t.Run("dry run", func(t *testing.T) {
		for _, dry := range []string{"true", "yes", "1", "y", "TRUE"} {
			got := obj(e.ok(e.post("/locations?dryRun="+dry, map[string]any{"type": "url", "target": target}), 201))
			mustEqual(t, "exists", got["exists"], false)
			mustEqual(t, "location", got["location"], map[string]any{"id": "url:" + target, "type": "url", "target": target, "entityRef": locationRef("url", target)})
			ents := list(got["entities"])
			mustEqual(t, "entities", refsOf(ents), []string{locationRef("url", target), mixerRef, "location:default/mixer-more", "component:default/whisk"})
			mustEqual(t, "root entity", obj(ents[0])["spec"], map[string]any{"type": "url", "target": target})
			mustEqual(t, "annotation", obj(field(ents[1], "metadata", "annotations"))["backstage.io/managed-by-location"], "url:"+target)
		}
		// nothing stored
		mustEqual(t, "locations", e.ok(e.get("/locations"), 200), []any{})
		if r := e.get("/entities/by-name/component/default/mixer"); r.status != 404 {
			t.Errorf("dry run stored the entity: %d", r.status)
		}
	})
	t.Run("dry run of a missing file", func(t *testing.T) {
		r := e.post("/locations?dryRun=true", map[string]any{"type": "url", "target": e.remote.URL + "/nope.yaml"})
		wantError(t, r, "POST", "/api/catalog/locations?dryRun=true", 400, "InputError", "*")
	})

	var id string
	t.Run("create", func(t *testing.T) {
		r := e.post("/locations", map[string]any{"type": "url", "target": target})
		got := obj(e.ok(r, 201))
		mustEqual(t, "entities", got["entities"], []any{})
		if len(got) != 2 {
			t.Errorf("keys %v", got)
		}
		wantLocation(t, got["location"], "", "url", target)
		id = str(got["location"], "id")
		eventually(t, "mixer crawled", func() bool { return e.get("/entities/by-name/component/default/whisk").status == 200 })
		ent := e.entity(mixerRef)
		mustEqual(t, "origin", obj(field(ent, "metadata", "annotations"))["backstage.io/managed-by-origin-location"], "url:"+target)
		// the generated root Location entity exists too
		e.entity(locationRef("url", target))
	})
	if id == "" {
		t.Fatal("no location created")
	}
	t.Run("duplicate", func(t *testing.T) {
		e.wantErr("POST", "/locations", map[string]any{"type": "url", "target": target}, 409, "ConflictError", "Location url:"+target+" already exists")
	})
	t.Run("dry run of a registered location", func(t *testing.T) {
		got := obj(e.ok(e.post("/locations?dryRun=true", map[string]any{"type": "url", "target": target}), 201))
		mustEqual(t, "exists", got["exists"], true)
	})
	t.Run("dryRun=false creates", func(t *testing.T) {
		e.remote.set("/other.yaml", componentYAML("other", "production"))
		got := obj(e.ok(e.post("/locations?dryRun=false", map[string]any{"type": "url", "target": e.remote.URL + "/other.yaml"}), 201))
		wantLocation(t, got["location"], "", "url", e.remote.URL+"/other.yaml")
		if _, ok := got["exists"]; ok {
			t.Errorf("exists in a real create: %v", got)
		}
	})
	t.Run("disallowed type", func(t *testing.T) {
		for _, typ := range []string{"file", "bootstrap", "URL"} {
			msg := `Registered locations must be of an allowed type ["url","git"]`
			e.wantErr("POST", "/locations", map[string]any{"type": typ, "target": "/tmp/catalog-info.yaml"}, 400, "InputError", msg)
			e.wantErr("POST", "/locations?dryRun=true", map[string]any{"type": typ, "target": "/tmp/catalog-info.yaml"}, 400, "InputError", msg)
		}
	})
	t.Run("bad body", func(t *testing.T) {
		for _, tc := range []struct {
			body any
			msg  string
		}{
			{map[string]any{"type": "url"}, "Malformed request: type and target are required strings"},
			{map[string]any{"target": target}, "Malformed request: type and target are required strings"},
			{map[string]any{"type": "url", "target": 5}, `Malformed request: unexpected or invalid field "target"`},
			{map[string]any{"type": "url", "target": target, "extra": 1}, `Malformed request: unexpected or invalid field "extra"`},
			{map[string]any{"type": "url", "target": target, "presence": "sometimes"}, `Malformed request: unexpected or invalid field "presence"`},
			{map[string]any{}, "Empty request body"},
			{`[]`, "Expected body to be a JSON object"},
		} {
			e.wantErr("POST", "/locations", tc.body, 400, "InputError", tc.msg)
		}
	})
	t.Run("list", func(t *testing.T) {
		got := list(e.ok(e.get("/locations"), 200))
		if len(got) != 2 {
			t.Fatalf("locations %v", got)
		}
		var targets []string
		for _, it := range got {
			m := obj(it)
			if len(m) != 1 {
				t.Errorf("item not wrapped in data: %v", m)
			}
			d := m["data"]
			wantLocation(t, d, "", "url", str(d, "target"))
			targets = append(targets, str(d, "target"))
		}
		sort.Strings(targets)
		mustEqual(t, "targets", targets, []string{target, e.remote.URL + "/other.yaml"})
	})
	t.Run("get by id", func(t *testing.T) {
		wantLocation(t, e.ok(e.get("/locations/"+id), 200), id, "url", target)
		e.wantErr("GET", "/locations/nope", nil, 404, "NotFoundError", "Found no location with ID nope")
		// the config location is not a registered one
		cfg, err := e.st.LocationByTarget(e.ctx, e.config.Type, e.config.Target)
		if err != nil {
			t.Fatal(err)
		}
		e.wantErr("GET", "/locations/"+cfg.ID, nil, 404, "NotFoundError", "Found no location with ID "+cfg.ID)
	})
	t.Run("by entity", func(t *testing.T) {
		for _, ref := range []string{mixerRef, "component:default/whisk", "location:default/mixer-more", locationRef("url", target)} {
			kind, rest, _ := strings.Cut(ref, ":")
			ns, name, _ := strings.Cut(rest, "/")
			wantLocation(t, e.ok(e.get("/locations/by-entity/"+kind+"/"+ns+"/"+name), 200), id, "url", target)
		}
		wantLocation(t, e.ok(e.get("/locations/by-entity/Component/Default/Mixer"), 200), id, "url", target)
		e.wantErr("GET", "/locations/by-entity/component/default/nope", nil, 404, "NotFoundError", "found no entity for ref component:default/nope")
		e.wantErr("GET", "/locations/by-entity/Component/Default/Nope", nil, 404, "NotFoundError", "found no entity for ref component:default/nope")
		// entities of the config location have no registered location
		e.wantErr("GET", "/locations/by-entity/group/default/ovens", nil, 404, "NotFoundError", "Found no location with type file and target "+e.config.Target)
	})
	t.Run("delete", func(t *testing.T) {
		r := e.do("DELETE", "/locations/"+id, nil)
		if r.status != 204 || len(r.body) != 0 {
			t.Fatalf("delete: %d %q", r.status, r.body)
		}
		for _, ref := range []string{mixerRef, "component:default/whisk", "location:default/mixer-more", locationRef("url", target)} {
			if r := e.get("/entities/by-name/" + strings.Replace(ref, ":", "/", 1)); r.status != 404 {
				t.Errorf("%s still there: %d", ref, r.status)
			}
		}
		e.wantErr("GET", "/locations/"+id, nil, 404, "NotFoundError", "Found no location with ID "+id)
		e.wantErr("DELETE", "/locations/"+id, nil, 404, "NotFoundError", "Found no location with ID "+id)
		mustEqual(t, "remaining", len(list(e.ok(e.get("/locations"), 200))), 1)
		// the config location's entities are untouched
		e.entity(rOvens)
		cfg, _ := e.st.LocationByTarget(e.ctx, e.config.Type, e.config.Target)
		e.wantErr("DELETE", "/locations/"+cfg.ID, nil, 404, "NotFoundError", "Found no location with ID "+cfg.ID)
		e.entity(rOvens)
	})
	t.Run("re-register after delete", func(t *testing.T) {
		got := obj(e.ok(e.post("/locations", map[string]any{"type": "url", "target": target}), 201))
		if str(got["location"], "id") == id {
			t.Error("same id reused")
		}
		eventually(t, "mixer back", func() bool { return e.get("/entities/by-name/component/default/mixer").status == 200 })
	})
}

func TestLocationsReadonly(t *testing.T) {
	e := newEnv(t, envOpts{readonly: true})
	e.remote.set("/ro.yaml", componentYAML("ro", "production"))
	target := e.remote.URL + "/ro.yaml"
	e.wantErr("POST", "/locations", map[string]any{"type": "url", "target": target}, 403, "NotAllowedError", "This operation not allowed in readonly mode")
	got := obj(e.ok(e.post("/locations?dryRun=true", map[string]any{"type": "url", "target": target}), 201))
	mustEqual(t, "dry run entities", refsOf(list(got["entities"])), []string{locationRef("url", target), "component:default/ro"})
	e.wantErr("DELETE", "/locations/some-id", nil, 403, "NotAllowedError", "This operation not allowed in readonly mode")
	mustEqual(t, "nothing registered", e.ok(e.get("/locations"), 200), []any{})
	// reads still work
	e.entity(rOvens)
}

func TestLocationsByQuery(t *testing.T) {
	e := newEnv(t)
	var targets []string
	ids := map[string]string{}
	for _, name := range []string{"alpha", "beta", "bravo", "charlie"} {
		target := e.remote.URL + "/" + name + "/catalog-info.yaml"
		e.remote.set("/"+name+"/catalog-info.yaml", componentYAML(name, "production"))
		got := obj(e.ok(e.post("/locations", map[string]any{"type": "url", "target": target}), 201))
		ids[target] = str(got["location"], "id")
		targets = append(targets, target)
	}
	byID := append([]string(nil), targets...)
	sort.Slice(byID, func(i, j int) bool { return ids[byID[i]] < ids[byID[j]] })
	type result struct {
		targets []string
		total   float64
		next    string
	}
	query := func(t *testing.T, body any) result {
		t.Helper()
		got := obj(e.ok(e.post("/locations/by-query", body), 200))
		if len(got) != 3 {
			t.Errorf("keys %v", got)
		}
		var res result
		for _, it := range list(got["items"]) {
			wantLocation(t, it, ids[str(it, "target")], "url", str(it, "target"))
			res.targets = append(res.targets, str(it, "target"))
		}
		if res.targets == nil {
			res.targets = []string{}
		}
		res.total, _ = got["totalItems"].(float64)
		pi := obj(got["pageInfo"])
		res.next, _ = pi["nextCursor"].(string)
		if len(pi) > 1 || (len(pi) == 1 && res.next == "") {
			t.Errorf("pageInfo %v", pi)
		}
		return res
	}
	t.Run("everything, by id", func(t *testing.T) {
		for _, body := range []any{map[string]any{}, nil} {
			r := query(t, body)
			mustEqual(t, "targets", r.targets, byID)
			mustEqual(t, "total", r.total, 4.0)
			mustEqual(t, "next", r.next, "")
		}
	})
	t.Run("limit and cursor", func(t *testing.T) {
		r := query(t, map[string]any{"limit": 3})
		mustEqual(t, "page 1", r.targets, byID[:3])
		mustEqual(t, "total", r.total, 4.0)
		raw, _ := base64.StdEncoding.DecodeString(r.next)
		if !strings.Contains(string(raw), `"limit":3`) || !strings.Contains(string(raw), `"afterId":"`+ids[byID[2]]+`"`) {
			t.Errorf("cursor %s", raw)
		}
		r2 := query(t, map[string]any{"cursor": r.next})
		mustEqual(t, "page 2", r2.targets, byID[3:])
		mustEqual(t, "total", r2.total, 4.0)
		mustEqual(t, "next", r2.next, "")
		// limit 1 walks one by one
		var seen []string
		body := map[string]any{"limit": 1}
		for i := 0; i < 10; i++ {
			r := query(t, body)
			seen = append(seen, r.targets...)
			if r.next == "" {
				break
			}
			body = map[string]any{"cursor": r.next}
		}
		mustEqual(t, "walk", seen, byID)
	})
	t.Run("query", func(t *testing.T) {
		b := e.remote.URL + "/b"
		cases := []struct {
			name  string
			query any
			want  []string
		}{
			{"$hasPrefix", map[string]any{"target": map[string]any{"$hasPrefix": b}}, []string{targets[1], targets[2]}},
			{"$hasPrefix case-insensitive", map[string]any{"TARGET": map[string]any{"$hasPrefix": strings.ToUpper(b)}}, []string{targets[1], targets[2]}},
			{"equals, case-insensitive", map[string]any{"type": "URL"}, targets},
			{"id", map[string]any{"id": ids[targets[0]]}, []string{targets[0]}},
			{"entityRef", map[string]any{"entityRef": locationRef("url", targets[3])}, []string{targets[3]}},
			{"$in", map[string]any{"target": map[string]any{"$in": []any{targets[0], targets[3], "x"}}}, []string{targets[0], targets[3]}},
			{"$not", map[string]any{"$not": map[string]any{"target": map[string]any{"$hasPrefix": b}}}, []string{targets[0], targets[3]}},
			{"$any", map[string]any{"$any": []any{map[string]any{"target": targets[0]}, map[string]any{"target": targets[2]}}}, []string{targets[0], targets[2]}},
			{"$all", map[string]any{"$all": []any{map[string]any{"type": "url"}, map[string]any{"target": targets[2]}}}, []string{targets[2]}},
			{"$exists", map[string]any{"target": map[string]any{"$exists": true}}, targets},
			{"no match", map[string]any{"type": "git"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				want := []string{}
				for _, x := range byID {
					if contains(tc.want, x) {
						want = append(want, x)
					}
				}
				r := query(t, map[string]any{"query": tc.query})
				mustEqual(t, "targets", r.targets, want)
				mustEqual(t, "total", r.total, float64(len(want)))
			})
		}
		// the cursor carries the query
		r := query(t, map[string]any{"query": map[string]any{"target": map[string]any{"$hasPrefix": b}}, "limit": 1})
		mustEqual(t, "total", r.total, 2.0)
		r2 := query(t, map[string]any{"cursor": r.next, "query": map[string]any{"type": "git"}})
		mustEqual(t, "page 2 keeps the query", len(r2.targets), 1)
		mustEqual(t, "page 2 total", r2.total, 2.0)
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			body any
			msg  string
		}{
			{map[string]any{"limit": 0}, "Limit must be a positive integer >= 1"},
			{map[string]any{"limit": -3}, "Limit must be a positive integer >= 1"},
			{map[string]any{"limit": 1.5}, "Limit must be a positive integer >= 1"},
			{map[string]any{"cursor": ""}, "Cursor cannot be empty"},
			{map[string]any{"cursor": "!!!"}, "Malformed cursor, unknown encoding"},
			{map[string]any{"cursor": base64.StdEncoding.EncodeToString([]byte(`{"limit":0}`))}, "*"},
			{map[string]any{"query": "url"}, "Query must be an object"},
			{map[string]any{"query": map[string]any{"name": "x"}}, "Invalid filter predicate, expected key to be 'id', 'type', 'target', or 'entityRef', got 'name'"},
			{map[string]any{"query": map[string]any{"$foo": []any{}}}, "Invalid filter predicate, unknown logic operator '$foo'"},
			{map[string]any{"query": map[string]any{"type": nil}}, "Invalid filter predicate, got unknown matcher object 'null'"},
			{map[string]any{"query": map[string]any{"type": map[string]any{"$nope": 1}}}, `Invalid filter predicate, got unknown matcher object '{"$nope":1}'`},
			{`{"limit":"x"}`, "*"},
		} {
			e.wantErr("POST", "/locations/by-query", tc.body, 400, "InputError", tc.msg)
		}
	})
}
