package rbac

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// The translated predicates, run as SQL by the real store, select exactly
// the entities Evaluate allows: a list page and an entity page can never
// disagree about an entity.
func TestPredicateMatchesStore(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	loc, _, err := s.AddLocation(ctx, "url", "https://example.com/all.yaml", "test")
	if err != nil {
		t.Fatal(err)
	}
	ents := []*catalog.Entity{
		{APIVersion: catalog.APIVersionV1alpha1, Kind: "Component",
			Metadata: catalog.Metadata{Name: "shop", Namespace: "default", Labels: map[string]string{"tier": "Gold"},
				Annotations: map[string]string{"backstage.io/techdocs-ref": "dir:."}, Tags: []string{"java"}},
			Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "group:default/team-a", "system": "Shop"}},
		{APIVersion: catalog.APIVersionV1alpha1, Kind: "Component",
			Metadata: catalog.Metadata{Name: "billing", Namespace: "default", Labels: map[string]string{"protected": "true"}},
			Spec:     map[string]any{"type": "service", "lifecycle": "production", "owner": "user:default/alice"}},
		{APIVersion: catalog.APIVersionV1alpha1, Kind: "API",
			Metadata: catalog.Metadata{Name: "pets", Namespace: "default", Tags: []string{"rest", "java"}},
			Spec:     map[string]any{"type": "openapi", "lifecycle": "experimental", "owner": "team-b", "definition": "openapi: 3.0.0"}},
		{APIVersion: catalog.APIVersionV1alpha1, Kind: "Group",
			Metadata: catalog.Metadata{Name: "team-a", Namespace: "default"},
			Spec:     map[string]any{"type": "team", "children": []any{}}},
	}
	a, err := s.BeginApply(ctx, loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback()
	for _, e := range ents {
		edges, err := catalog.EmitRelations(e)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(e)
		rows, err := catalog.FilterRows(e)
		if err != nil {
			t.Fatal(err)
		}
		key := "url:https://example.com/all.yaml"
		if err := a.Put(store.Item{Entity: e, Body: body, Edges: edges, Rows: rows, LocationKey: key, Hash: e.Metadata.Name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	list := func(filter store.Predicate) (refs []string, finals map[string]map[string]any) {
		finals = map[string]map[string]any{}
		err := s.List(ctx, store.ListRequest{Filter: filter}, func(final []byte) error {
			var m map[string]any
			if err := json.Unmarshal(final, &m); err != nil {
				return err
			}
			md := m["metadata"].(map[string]any)
			ref := m["kind"].(string) + ":" + md["name"].(string)
			refs = append(refs, ref)
			finals[ref] = m
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(refs)
		return refs, finals
	}
	all, finals := list(nil)
	if len(all) != 4 {
		t.Fatalf("stored %v", all)
	}
	p := loadTestdata(t, "teams", Config{})
	ann := Identity{Ref: "user:default/ann", OwnershipRefs: []string{"user:default/ann", "group:default/team-a"}}
	aliceID := Identity{Ref: "user:default/alice", OwnershipRefs: []string{"user:default/alice"}}
	criteria := map[string]Criteria{
		"ann reads":    p.Decide(ann, CatalogEntityRead).Conditions,
		"ann deletes":  p.Decide(ann, CatalogEntityDelete).Conditions,
		"alice reads":  ResolveAliases(p.ConditionalPolicies()[0].Conditions, aliceID),
		"gold":         cat("HAS_LABEL", map[string]any{"label": "tier"}),
		"gold value":   cat("HAS_METADATA", map[string]any{"key": "labels.tier", "value": "gold"}),
		"techdocs":     cat("HAS_ANNOTATION", map[string]any{"annotation": "backstage.io/techdocs-ref", "value": "dir:."}),
		"java":         cat("HAS_METADATA", map[string]any{"key": "tags", "value": "java"}),
		"system":       cat("HAS_SPEC", map[string]any{"key": "system", "value": "shop"}),
		"not owned":    {Not: &Criteria{AnyOf: []Criteria{cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"group:default/team-a", "group:default/team-b"}})}}},
		"nobody":       cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{}}),
		"kinds":        cat("IS_ENTITY_KIND", map[string]any{"kinds": []any{"group", "API"}}),
		"definition":   cat("HAS_SPEC", map[string]any{"key": "definition"}),
		"owner by ref": cat("IS_ENTITY_OWNER", map[string]any{"claims": []any{"Group:default/Team-B"}}),
	}
	want := map[string][]string{
		"ann reads":    {"API:pets", "Component:shop"},
		"ann deletes":  {"Component:shop"},
		"alice reads":  {"API:pets", "Component:billing"},
		"gold":         {"Component:shop"},
		"gold value":   {"Component:shop"},
		"techdocs":     {"Component:shop"},
		"java":         {"API:pets", "Component:shop"},
		"system":       {"Component:shop"},
		"not owned":    {"Component:billing", "Group:team-a"},
		"nobody":       nil,
		"kinds":        {"API:pets", "Group:team-a"},
		"definition":   {"API:pets"},
		"owner by ref": {"API:pets"},
	}
	for name, c := range criteria {
		pred, err := ToPredicate(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := list(pred)
		if !reflect.DeepEqual(got, want[name]) {
			t.Errorf("%s: SQL selects %v, want %v", name, got, want[name])
		}
		var evaluated []string
		for _, ref := range all {
			if Evaluate(c, finals[ref]) {
				evaluated = append(evaluated, ref)
			}
		}
		if !reflect.DeepEqual(evaluated, got) {
			t.Errorf("%s: Evaluate allows %v, SQL %v", name, evaluated, got)
		}
	}
}
