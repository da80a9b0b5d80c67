package rbac

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseCSV(f *testing.F) {
	for _, name := range []string{"worked-example", "teams"} {
		data, err := os.ReadFile("testdata/" + name + ".csv")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`p, "role:default/a", "x,y", read, allow` + "\n" + `g, user:default/a, "role:default/b"`))
	f.Add([]byte("p\ng\n\"\n#\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseCSV("f.csv", data)
		if err != nil {
			if len(LineErrors(err)) == 0 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, r := range file.policies {
			if validateRef(r.Subject) != nil || !isAction(r.Action) || (r.Effect != "allow" && r.Effect != "deny") || r.Line < 1 {
				t.Fatalf("accepted bad row %+v", r)
			}
		}
		for _, r := range file.roles {
			if refKind(r.Role) != "role" || r.Member != strings.ToLower(r.Member) {
				t.Fatalf("accepted bad role row %+v", r)
			}
		}
		p, err := Load(data, nil)
		if err != nil {
			t.Fatalf("parsed but did not load: %v", err)
		}
		for _, perm := range Catalogue() {
			p.Decide(Identity{Ref: "user:default/a", OwnershipRefs: []string{"group:default/b"}}, perm)
		}
	})
}

func FuzzParseConditional(f *testing.F) {
	for _, name := range []string{"worked-example", "teams"} {
		data, err := os.ReadFile("testdata/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(docHead + "conditions: {not: {anyOf: [{rule: HAS_SPEC, resourceType: catalog-entity, params: {key: a, value: b}}]}}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := parseConditional("f.yaml", data, NewRules(), DefaultLimits())
		if err != nil {
			if len(LineErrors(err)) == 0 {
				t.Fatalf("error without a file: %v", err)
			}
			return
		}
		user := Identity{Ref: "user:default/a", OwnershipRefs: []string{"user:default/a", "group:default/b"}}
		for _, p := range ps {
			c := ResolveAliases(p.Conditions, user)
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("marshal %+v: %v", c, err)
			}
			var back Criteria
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if !reflect.DeepEqual(normalizeEmpty(back), normalizeEmpty(c)) {
				t.Fatalf("round trip %s", b)
			}
			Evaluate(c, entity("Component", "x", "group:default/b", nil, nil))
			ToPredicate(c)
		}
	})
}

// normalizeEmpty treats absent and empty params alike, as the wire does.
func normalizeEmpty(c Criteria) Criteria {
	if len(c.Params) == 0 {
		c.Params = nil
	}
	for i := range c.AllOf {
		c.AllOf[i] = normalizeEmpty(c.AllOf[i])
	}
	for i := range c.AnyOf {
		c.AnyOf[i] = normalizeEmpty(c.AnyOf[i])
	}
	if c.Not != nil {
		n := normalizeEmpty(*c.Not)
		c.Not = &n
	}
	return c
}

func FuzzCriteriaJSON(f *testing.F) {
	f.Add([]byte(`{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/a"]}},{"not":{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"x"}}}]}`))
	f.Add([]byte(`{"allOf":[{"rule":"HAS_PROPERTY","resourceType":"scaffolder-action","params":{"key":"a.b","value":null}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Criteria
		if json.Unmarshal(data, &c) != nil {
			return
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		Evaluate(c, entity("API", "y", "user:default/a", map[string]string{"x": "1"}, nil))
		ToPredicate(c)
	})
}
