package rbac

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// entity is a processed entity as JSON-like values, owned by owner.
func entity(kind, name, owner string, labels, annotations map[string]string) map[string]any {
	md := map[string]any{"name": name, "namespace": "default"}
	if labels != nil {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		md["labels"] = l
	}
	if annotations != nil {
		a := map[string]any{}
		for k, v := range annotations {
			a[k] = v
		}
		md["annotations"] = a
	}
	e := map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": md,
		"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": owner}}
	if owner != "" {
		e["relations"] = []any{map[string]any{"type": "ownedBy", "targetRef": owner}}
	}
	return e
}

func predString(p store.Predicate) string {
	join := func(ps []store.Predicate) string {
		parts := make([]string, len(ps))
		for i, s := range ps {
			parts[i] = predString(s)
		}
		return strings.Join(parts, ", ")
	}
	switch t := p.(type) {
	case nil:
		return "everything"
	case store.All:
		return "all(" + join(t) + ")"
	case store.Any:
		return "any(" + join(t) + ")"
	case store.Not:
		return "not(" + predString(t.P) + ")"
	case store.Field:
		switch {
		case t.Values != nil:
			return fmt.Sprintf("%s in %v", t.Key, t.Values)
		case t.Prefix != "":
			return t.Key + " ^= " + t.Prefix
		}
		return t.Key + " exists"
	}
	return fmt.Sprintf("%T", p)
}

func leafOf(rule, rt string, params map[string]any) Criteria {
	ps, err := normalizeParams(params)
	if err != nil {
		panic(err)
	}
	return Criteria{Rule: rule, ResourceType: rt, Params: ps}
}

func cat(rule string, params map[string]any) Criteria {
	return leafOf(rule, ResourceCatalogEntity, params)
}

func TestEvaluateCatalog(t *testing.T) {
	svc := entity("Component", "svc", "group:default/team-a",
		map[string]string{"tier": "gold"},
		map[string]string{"backstage.io/techdocs-ref": "dir:.", "empty": ""})
	svc["metadata"].(map[string]any)["tags"] = []any{"java", "web"}
	svc["spec"].(map[string]any)["system"] = "shop"
	api := entity("API", "pets", "user:default/alice", nil, nil)
	tests := []struct {
		name string
		c    Criteria
		svc  bool
		api  bool
	}{
		{"owner", cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"group:default/team-a"}}), true, false},
		{"owner case-insensitive", cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"User:default/Alice"}}), false, true},
		{"owner no claims", cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{}}), false, false},
		{"kind", cat("IS_ENTITY_KIND", map[string]any{"kinds": []any{"api", "System"}}), false, true},
		{"annotation", cat("HAS_ANNOTATION", map[string]any{"annotation": "backstage.io/techdocs-ref"}), true, false},
		{"annotation value", cat("HAS_ANNOTATION", map[string]any{"annotation": "backstage.io/techdocs-ref", "value": "dir:."}), true, false},
		{"annotation other value", cat("HAS_ANNOTATION", map[string]any{"annotation": "backstage.io/techdocs-ref", "value": "url:x"}), false, false},
		{"annotation empty value exists", cat("HAS_ANNOTATION", map[string]any{"annotation": "empty"}), true, false},
		{"label", cat("HAS_LABEL", map[string]any{"label": "tier"}), true, false},
		{"metadata array value", cat("HAS_METADATA", map[string]any{"key": "tags", "value": "java"}), true, false},
		{"metadata array", cat("HAS_METADATA", map[string]any{"key": "tags"}), true, false},
		{"metadata name", cat("HAS_METADATA", map[string]any{"key": "name", "value": "pets"}), false, true},
		{"spec", cat("HAS_SPEC", map[string]any{"key": "system", "value": "shop"}), true, false},
		{"spec missing", cat("HAS_SPEC", map[string]any{"key": "definition"}), false, false},
		{"allOf", Criteria{AllOf: []Criteria{
			cat("IS_ENTITY_KIND", map[string]any{"kinds": []any{"Component"}}),
			cat("HAS_LABEL", map[string]any{"label": "tier"}),
		}}, true, false},
		{"anyOf", Criteria{AnyOf: []Criteria{
			cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"user:default/alice"}}),
			cat("HAS_LABEL", map[string]any{"label": "tier"}),
		}}, true, true},
		{"not", Criteria{Not: &Criteria{AnyOf: []Criteria{cat("HAS_LABEL", map[string]any{"label": "tier"})}}}, false, true},
		{"unknown rule never grants", cat("HAS_RELATION", map[string]any{}), false, false},
		{"bad params never grant", cat("IS_ENTITY_KIND", map[string]any{"kinds": "API"}), false, false},
		{"not of unknown", Criteria{Not: &Criteria{Rule: "X", ResourceType: "catalog-entity"}}, true, true},
		{"empty node", Criteria{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.c, svc); got != tt.svc {
				t.Errorf("svc: %v", got)
			}
			if got := Evaluate(tt.c, api); got != tt.api {
				t.Errorf("api: %v", got)
			}
		})
	}
}

func TestEvaluateScaffolder(t *testing.T) {
	step := map[string]any{"id": "publish", "action": "publish:github", "backstage:permissions": map[string]any{"tags": []any{"secret", "ops"}}}
	action := map[string]any{"action": "publish:github", "input": map[string]any{
		"repoUrl": "github.com?repo=x", "private": true, "count": 3, "nested": map[string]any{"list": []any{"a", map[string]any{"b": "c"}}}, "none": nil}}
	task := map[string]any{"createdBy": "user:default/alice"}
	sc := func(rule string, params map[string]any) Criteria {
		return leafOf(rule, ResourceScaffolderAction, params)
	}
	tests := []struct {
		name     string
		c        Criteria
		resource map[string]any
		want     bool
	}{
		{"tag", leafOf("HAS_TAG", ResourceScaffolderTemplate, map[string]any{"tag": "ops"}), step, true},
		{"tag missing", leafOf("HAS_TAG", ResourceScaffolderTemplate, map[string]any{"tag": "dev"}), step, false},
		{"no tags", leafOf("HAS_TAG", ResourceScaffolderTemplate, map[string]any{"tag": "ops"}), map[string]any{}, false},
		{"action id", sc("HAS_ACTION_ID", map[string]any{"actionId": "publish:github"}), action, true},
		{"action id other", sc("HAS_ACTION_ID", map[string]any{"actionId": "fetch:template"}), action, false},
		{"property exists", sc("HAS_PROPERTY", map[string]any{"key": "repoUrl"}), action, true},
		{"property null exists", sc("HAS_PROPERTY", map[string]any{"key": "none"}), action, true},
		{"property null value", sc("HAS_PROPERTY", map[string]any{"key": "none", "value": nil}), action, true},
		{"property path", sc("HAS_PROPERTY", map[string]any{"key": "nested.list[1].b", "value": "c"}), action, true},
		{"property path dots", sc("HAS_PROPERTY", map[string]any{"key": "nested.list.0", "value": "a"}), action, true},
		{"property missing", sc("HAS_PROPERTY", map[string]any{"key": "nested.other"}), action, false},
		{"boolean", sc("HAS_BOOLEAN_PROPERTY", map[string]any{"key": "private", "value": true}), action, true},
		{"boolean false", sc("HAS_BOOLEAN_PROPERTY", map[string]any{"key": "private", "value": false}), action, false},
		{"boolean on string", sc("HAS_BOOLEAN_PROPERTY", map[string]any{"key": "repoUrl"}), action, false},
		{"number from int input", sc("HAS_NUMBER_PROPERTY", map[string]any{"key": "count", "value": 3}), action, true},
		{"number exists", sc("HAS_NUMBER_PROPERTY", map[string]any{"key": "count"}), action, true},
		{"string", sc("HAS_STRING_PROPERTY", map[string]any{"key": "repoUrl", "value": "github.com?repo=x"}), action, true},
		{"string on bool", sc("HAS_STRING_PROPERTY", map[string]any{"key": "private"}), action, false},
		{"task owner", leafOf("IS_TASK_OWNER", ResourceScaffolderTask, map[string]any{"createdBy": []any{"user:default/alice"}}), task, true},
		{"task other", leafOf("IS_TASK_OWNER", ResourceScaffolderTask, map[string]any{"createdBy": []any{"user:default/bob"}}), task, false},
		{"task without creator", leafOf("IS_TASK_OWNER", ResourceScaffolderTask, map[string]any{"createdBy": []any{""}}), map[string]any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.c, tt.resource); got != tt.want {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestToPredicate(t *testing.T) {
	tests := []struct {
		c    Criteria
		want string
	}{
		{cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"user:default/a", "group:default/b"}}), "relations.ownedBy in [user:default/a group:default/b]"},
		{cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{}}), "relations.ownedBy in []"},
		{cat("IS_ENTITY_KIND", map[string]any{"kinds": []any{"API", "Component"}}), "kind in [api component]"},
		{cat("HAS_ANNOTATION", map[string]any{"annotation": "a/b"}), "metadata.annotations.a/b exists"},
		{cat("HAS_ANNOTATION", map[string]any{"annotation": "a/b", "value": "x"}), "metadata.annotations.a/b in [x]"},
		{cat("HAS_LABEL", map[string]any{"label": "tier"}), "metadata.labels.tier exists"},
		{cat("HAS_METADATA", map[string]any{"key": "tags", "value": "java"}), "metadata.tags in [java]"},
		{cat("HAS_SPEC", map[string]any{"key": "lifecycle"}), "spec.lifecycle exists"},
		{Criteria{AnyOf: []Criteria{
			{AllOf: []Criteria{cat("HAS_LABEL", map[string]any{"label": "x"}), cat("HAS_SPEC", map[string]any{"key": "y"})}},
			{Not: &Criteria{AnyOf: []Criteria{cat("IS_ENTITY_KIND", map[string]any{"kinds": []any{"User"}})}}},
		}}, "any(all(metadata.labels.x exists, spec.y exists), not(any(kind in [user])))"},
		{leafOf("IS_TASK_OWNER", ResourceScaffolderTask, map[string]any{"createdBy": []any{"user:default/a"}}), "created_by in [user:default/a]"},
	}
	for _, tt := range tests {
		p, err := ToPredicate(tt.c)
		if err != nil {
			t.Errorf("%s: %v", tt.want, err)
			continue
		}
		if got := predString(p); got != tt.want {
			t.Errorf("got %s\nwant %s", got, tt.want)
		}
	}
	// The empty claims list stays a list: no value matches, not "the key
	// exists".
	p, _ := ToPredicate(cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{}}))
	if f := p.(store.Field); f.Values == nil {
		t.Error("empty claims became an existence test")
	}
	for _, bad := range []struct {
		c    Criteria
		want string
	}{
		{cat("HAS_RELATION", nil), `permission rule "HAS_RELATION" does not exist for resource type "catalog-entity"`},
		{leafOf("HAS_TAG", ResourceScaffolderTemplate, map[string]any{"tag": "x"}), `permission rule "HAS_TAG" of "scaffolder-template" cannot be part of a query`},
		{cat("IS_ENTITY_OWNER", nil), `rule IS_ENTITY_OWNER needs the parameter "claims"`},
		{Criteria{AllOf: []Criteria{}}, "allOf is empty"},
		{Criteria{}, "criteria: empty node"},
		{Criteria{Not: &Criteria{AnyOf: []Criteria{cat("X", nil)}}}, `permission rule "X" does not exist for resource type "catalog-entity"`},
	} {
		if _, err := ToPredicate(bad.c); err == nil || err.Error() != bad.want {
			t.Errorf("got %v\nwant %s", err, bad.want)
		}
	}
}

func TestResolveAliases(t *testing.T) {
	c := Criteria{AnyOf: []Criteria{
		cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"$ownerRefs", "group:default/extra", "$currentUser"}}),
		{Not: &Criteria{AllOf: []Criteria{cat("HAS_METADATA", map[string]any{"key": "owner", "value": "$currentUser"})}}},
		cat("HAS_SPEC", map[string]any{"key": "x", "value": "$ownerRefs"}),
	}}
	got := ResolveAliases(c, Identity{Ref: "user:default/alice", OwnershipRefs: []string{"user:default/alice", "group:default/a"}})
	b, _ := json.Marshal(got)
	want := `{"anyOf":[` +
		`{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/alice","group:default/a","group:default/extra","user:default/alice"]}},` +
		`{"not":{"allOf":[{"rule":"HAS_METADATA","resourceType":"catalog-entity","params":{"key":"owner","value":"user:default/alice"}}]}},` +
		`{"rule":"HAS_SPEC","resourceType":"catalog-entity","params":{"key":"x","value":"$ownerRefs"}}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// The stored policy is untouched.
	if c.AnyOf[0].Params["claims"].([]any)[0] != "$ownerRefs" || c.AnyOf[1].Not.AllOf[0].Params["value"] != "$currentUser" {
		t.Error("ResolveAliases changed its input")
	}
	// No ownership refs: $ownerRefs expands to nothing.
	got = ResolveAliases(cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"$ownerRefs"}}), Identity{Ref: "user:default/x"})
	if !reflect.DeepEqual(got.Params["claims"], []any{}) {
		t.Errorf("claims %v", got.Params["claims"])
	}
}

func TestCriteriaJSON(t *testing.T) {
	in := `{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/a"]}},` +
		`{"not":{"allOf":[{"rule":"HAS_NUMBER_PROPERTY","resourceType":"scaffolder-action","params":{"key":"n","value":2}},{"rule":"HAS_LABEL","resourceType":"catalog-entity"}]}}]}`
	var c Criteria
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.AnyOf[1].Not.AllOf[0].Params["value"] != 2.0 {
		t.Errorf("number param %#v", c.AnyOf[1].Not.AllOf[0].Params["value"])
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip\n got %s\nwant %s", out, in)
	}
	// Unknown keys are tolerated, as Backstage's parser does.
	if err := json.Unmarshal([]byte(`{"rule":"HAS_LABEL","resourceType":"catalog-entity","extra":1}`), &c); err != nil {
		t.Errorf("extra key: %v", err)
	}
	for _, bad := range []struct{ in, want string }{
		{`{}`, "criteria: a node needs one of rule, allOf, anyOf or not"},
		{`{"allOf":[]}`, "allOf must not be empty"},
		{`{"anyOf":[]}`, "anyOf must not be empty"},
		{`{"not":[{"rule":"HAS_LABEL","resourceType":"catalog-entity"}]}`, "not: json: cannot unmarshal array into Go value of type rbac.wireCriteria"},
		{`{"rule":"HAS_LABEL"}`, "condition HAS_LABEL: resourceType is missing"},
		{`{"rule":"HAS_LABEL","resourceType":"catalog-entity","not":{"rule":"X","resourceType":"y"}}`, "criteria: a node has only one of rule, allOf, anyOf or not; nest them instead"},
		{`{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":{"a":1}}}`, "condition HAS_LABEL: params.label: a parameter is a string, number, boolean, null or an array of those, not map[string]interface {}"},
		{`{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":[[1]]}}`, "condition HAS_LABEL: params.label: an array may hold only strings, numbers, booleans or null"},
	} {
		var c Criteria
		if err := json.Unmarshal([]byte(bad.in), &c); err == nil || err.Error() != bad.want {
			t.Errorf("%s: got %v\nwant %s", bad.in, err, bad.want)
		}
	}
}

func TestRuleMetadata(t *testing.T) {
	r, ok := NewRules().Lookup(ResourceCatalogEntity, "HAS_LABEL")
	if !ok {
		t.Fatal("no HAS_LABEL")
	}
	b, _ := json.Marshal(map[string]any{"name": r.Name, "description": r.Description, "resourceType": r.ResourceType, "paramsSchema": r.ParamsSchema()})
	want := `{"description":"Allow entities with the specified label","name":"HAS_LABEL","paramsSchema":{"$schema":"http://json-schema.org/draft-07/schema#","additionalProperties":false,"properties":{"label":{"description":"Name of the label to match on","type":"string"}},"required":["label"],"type":"object"},"resourceType":"catalog-entity"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var names []string
	for _, r := range NewRules().ForResourceType(ResourceScaffolderAction) {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "HAS_ACTION_ID HAS_BOOLEAN_PROPERTY HAS_NUMBER_PROPERTY HAS_PROPERTY HAS_STRING_PROPERTY" {
		t.Errorf("action rules %q", names)
	}
	// A plugin's own rule loads and evaluates beside Backstage's.
	custom := Rule{Name: "IS_GOLD", ResourceType: ResourceCatalogEntity, Query: func(map[string]any) store.Predicate {
		return store.Field{Key: "metadata.labels.tier", Values: []string{"gold"}}
	}}
	custom.Apply = func(e map[string]any, p map[string]any) bool { return matchEntity(custom.Query(p), e) }
	rs := NewRules(custom)
	gold := entity("Component", "g", "", map[string]string{"tier": "Gold"}, nil)
	if !rs.Evaluate(Criteria{Rule: "IS_GOLD", ResourceType: ResourceCatalogEntity}, gold) {
		t.Error("custom rule")
	}
}
