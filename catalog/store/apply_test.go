package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

// allPuts puts every test entity, each from its own file.
func allPuts(t *testing.T) []put {
	var puts []put
	for _, e := range testEntities(t) {
		puts = append(puts, put{e, "file:/srv/" + e.Metadata.Name + ".yaml"})
	}
	sort.Slice(puts, func(i, j int) bool { return puts[i].e.Ref().String() < puts[j].e.Ref().String() })
	return puts
}

// TestRelationsBothEnds: each edge processing emitted is served on its
// source, so a relation shows on both ends when both exist, and only on the
// source when the target is missing.
func TestRelationsBothEnds(t *testing.T) {
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/all.yaml")
	apply(t, s, l.ID, allPuts(t)...)
	want := map[string][]string{
		"group:default/team-a": {
			"hasMember user:default/alice", "ownerOf api:default/billing-api",
			"ownerOf component:default/billing", "ownerOf system:default/platform",
		},
		"user:default/alice":       {"memberOf group:default/team-a", "ownerOf component:default/search"},
		"component:default/search": {"consumesApi api:default/billing-api", "ownedBy user:default/alice"},
		"component:default/billing": {
			"dependsOn resource:default/ghost-db", "ownedBy group:default/team-a",
			"partOf system:default/platform", "providesApi api:default/billing-api",
		},
		"api:default/billing-api": {
			"apiConsumedBy component:default/search", "apiProvidedBy component:default/billing", "ownedBy group:default/team-a",
		},
		"system:default/platform": {
			"hasPart component:default/billing", "ownedBy group:default/team-a", "partOf domain:default/commerce",
		},
	}
	for ref, rels := range want {
		if got := relations(mustEntity(t, s, ref)); !reflect.DeepEqual(got, rels) {
			t.Errorf("%s relations\n got %q\nwant %q", ref, got, rels)
		}
	}
	for _, ref := range []string{"resource:default/ghost-db", "domain:default/commerce"} {
		if _, err := s.Entity(context.Background(), ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v", ref, err)
		}
	}
	// Relations are served sorted by type, then target.
	rs := mustEntity(t, s, "group:default/team-a").Relations
	if !sort.SliceIsSorted(rs, func(i, j int) bool {
		return rs[i].Type < rs[j].Type || rs[i].Type == rs[j].Type && rs[i].TargetRef < rs[j].TargetRef
	}) {
		t.Errorf("relations not sorted: %v", rs)
	}

	// The missing domain arrives from another root: it serves hasPart.
	l2 := mustAddLocation(t, s, "/srv/domain.yaml")
	dom := &catalog.Entity{APIVersion: catalog.APIVersionV1alpha1, Kind: "Domain",
		Metadata: catalog.Metadata{Name: "commerce", Namespace: "default"}, Spec: map[string]any{"owner": "team-a"}}
	apply(t, s, l2.ID, put{dom, "file:/srv/domain.yaml"})
	if got := relations(mustEntity(t, s, "domain:default/commerce")); !reflect.DeepEqual(got, []string{"hasPart system:default/platform", "ownedBy group:default/team-a"}) {
		t.Errorf("late domain relations %q", got)
	}
	if !contains(relations(mustEntity(t, s, "group:default/team-a")), "ownerOf domain:default/commerce") {
		t.Error("team-a does not serve ownerOf the domain from another root")
	}

	// An edit moves a relation on both ends: search's owner becomes team-a.
	var puts []put
	for _, p := range allPuts(t) {
		if p.e.Metadata.Name == "search" {
			p.e.Spec["owner"] = "team-a"
		}
		puts = append(puts, p)
	}
	st := apply(t, s, l.ID, puts...)
	if st.Updated != 1 || st.Unchanged != len(puts)-1 {
		t.Errorf("edit: %+v", st)
	}
	if contains(relations(mustEntity(t, s, "user:default/alice")), "ownerOf component:default/search") {
		t.Error("alice still owns search")
	}
	if !contains(relations(mustEntity(t, s, "group:default/team-a")), "ownerOf component:default/search") {
		t.Error("team-a does not own search")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestApplyStats: add, unchanged, update and remove are counted, and an
// apply that changes nothing reports Changed() == false.
func TestApplyStats(t *testing.T) {
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/a.yaml")
	a, b := component("a", "team-a", "1"), component("b", "team-a", "1")
	st := apply(t, s, l.ID, put{a, "file:/srv/a.yaml"}, put{b, "file:/srv/a.yaml"})
	if st.Added != 2 || !st.Changed() {
		t.Errorf("first: %+v", st)
	}
	st = apply(t, s, l.ID, put{a, "file:/srv/a.yaml"}, put{b, "file:/srv/a.yaml"})
	if st.Unchanged != 2 || st.Changed() || st.Stitched != 0 {
		t.Errorf("unchanged: %+v", st)
	}
	st = apply(t, s, l.ID, put{component("a", "team-a", "2"), "file:/srv/a.yaml"})
	if st.Updated != 1 || st.Removed != 1 || st.Added != 0 || !st.Changed() {
		t.Errorf("edit and removal: %+v", st)
	}
	if got := mustEntity(t, s, "component:default/a").Metadata.Description; got != "2" {
		t.Errorf("description %q", got)
	}
	if !strings.Contains(st.String(), "1 updated") {
		t.Errorf("String() = %q", st.String())
	}
}

// TestUIDAndEtag: a uid is given once and kept; the etag changes exactly
// when the served entity does, including when it gains a relation.
func TestUIDAndEtag(t *testing.T) {
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/a.yaml")
	x := component("x", "team-a", "v1")
	apply(t, s, l.ID, put{x, "file:/srv/a.yaml"})
	v1 := mustEntity(t, s, "component:default/x")
	if len(v1.Metadata.UID) != 36 || len(v1.Metadata.Etag) != 40 {
		t.Errorf("uid %q etag %q", v1.Metadata.UID, v1.Metadata.Etag)
	}
	apply(t, s, l.ID, put{x, "file:/srv/a.yaml"})
	same := mustEntity(t, s, "component:default/x")
	if same.Metadata.UID != v1.Metadata.UID || same.Metadata.Etag != v1.Metadata.Etag {
		t.Error("an unchanged apply changed uid or etag")
	}
	apply(t, s, l.ID, put{component("x", "team-a", "v2"), "file:/srv/a.yaml"})
	v2 := mustEntity(t, s, "component:default/x")
	if v2.Metadata.UID != v1.Metadata.UID || v2.Metadata.Etag == v1.Metadata.Etag {
		t.Errorf("edit: uid %s->%s etag %s->%s", v1.Metadata.UID, v2.Metadata.UID, v1.Metadata.Etag, v2.Metadata.Etag)
	}
	// A relation from another root's entity changes x's etag, not its uid.
	l2 := mustAddLocation(t, s, "/srv/b.yaml")
	dep := component("dep", "team-a", "")
	dep.Spec["dependsOn"] = []any{"component:x"}
	apply(t, s, l2.ID, put{dep, "file:/srv/b.yaml"})
	v3 := mustEntity(t, s, "component:default/x")
	if !contains(relations(v3), "dependencyOf component:default/dep") || v3.Metadata.Etag == v2.Metadata.Etag || v3.Metadata.UID != v1.Metadata.UID {
		t.Errorf("new relation: %v etag %s->%s", relations(v3), v2.Metadata.Etag, v3.Metadata.Etag)
	}
	// The uid is filterable.
	var n int
	s.db.QueryRow(`SELECT COUNT(*) FROM search WHERE key = 'metadata.uid' AND value = ?`, strings.ToLower(v1.Metadata.UID)).Scan(&n)
	if n != 1 {
		t.Errorf("%d metadata.uid rows", n)
	}
	// x is edited (its relations unchanged), then dep is edited without
	// touching the relation: x is restitched, and must keep its etag.
	apply(t, s, l.ID, put{component("x", "team-a", "v3"), "file:/srv/a.yaml"})
	v3 = mustEntity(t, s, "component:default/x")
	dep.Metadata.Description = "dep edited"
	apply(t, s, l2.ID, put{dep, "file:/srv/b.yaml"})
	if again := mustEntity(t, s, "component:default/x"); again.Metadata.Etag != v3.Metadata.Etag {
		t.Errorf("a neighbour's edit changed x's etag %s -> %s, though x did not change", v3.Metadata.Etag, again.Metadata.Etag)
	}
	apply(t, s, l.ID, put{component("x", "team-a", "v2"), "file:/srv/a.yaml"})

	// Removing the relation's source restores x's previous served form.
	apply(t, s, l2.ID)
	v4 := mustEntity(t, s, "component:default/x")
	if len(v4.Relations) != 1 || v4.Metadata.Etag != v2.Metadata.Etag {
		t.Errorf("after the source went: %v etag %s, want %s", relations(v4), v4.Metadata.Etag, v2.Metadata.Etag)
	}
}

// TestConflictBetweenRoots: the root that stored an entity first keeps it;
// the other is told with a ConflictError, and its relations are not served.
func TestConflictBetweenRoots(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l1, l2 := mustAddLocation(t, s, "/srv/1.yaml"), mustAddLocation(t, s, "/srv/2.yaml")
	apply(t, s, l1.ID, put{component("x", "team-a", "first"), "file:/srv/1.yaml"})
	st := apply(t, s, l2.ID, put{component("x", "team-b", "second"), "file:/srv/2.yaml"}, put{component("y", "team-b", ""), "file:/srv/2.yaml"})
	if st.Conflicts != 1 || st.Added != 1 {
		t.Errorf("stats %+v", st)
	}
	x := mustEntity(t, s, "component:default/x")
	if x.Metadata.Description != "first" || x.Metadata.Annotations[catalog.AnnotationLocation] != "file:/srv/1.yaml" {
		t.Errorf("x = %q managed by %s", x.Metadata.Description, x.Metadata.Annotations[catalog.AnnotationLocation])
	}
	if !reflect.DeepEqual(relations(x), []string{"ownedBy group:default/team-a"}) {
		t.Errorf("x relations %v", relations(x))
	}
	errs, _ := s.Errors(ctx, l2.ID)
	if len(errs) != 1 || errs[0].Location != "file:/srv/2.yaml" || !strings.HasPrefix(errs[0].Message, "ConflictError: ") ||
		!strings.Contains(errs[0].Message, "component:default/x") || !strings.Contains(errs[0].Message, "file:/srv/1.yaml") {
		t.Errorf("errors %+v", errs)
	}
	if p, _ := s.Provenance(ctx, "component:default/x"); p.RootID != l1.ID {
		t.Errorf("x provenance %+v", p)
	}
	// Within one apply, the first put wins.
	l3 := mustAddLocation(t, s, "/srv/3.yaml")
	st = apply(t, s, l3.ID, put{component("z", "team-a", "a"), "file:/srv/a.yaml"}, put{component("z", "team-a", "b"), "file:/srv/b.yaml"})
	if st.Conflicts != 1 || mustEntity(t, s, "component:default/z").Metadata.Description != "a" {
		t.Errorf("same apply: %+v", st)
	}
}

// TestOrphanStrategies: with "delete" an entity no longer emitted is
// removed with its relations; with "keep" it stays, annotated and
// filterable as an orphan, until it is emitted again.
func TestOrphanStrategies(t *testing.T) {
	ctx := context.Background()
	orphanRows := func(s *Store) []string {
		rows, err := s.db.QueryContext(ctx, `SELECT e.ref, s.value FROM search s JOIN entities e ON e.id = s.entity_id
			WHERE s.key = 'metadata.annotations.backstage.io/orphan' ORDER BY e.ref`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var ref, v string
			rows.Scan(&ref, &v)
			out = append(out, ref+"="+v)
		}
		return out
	}
	group := &catalog.Entity{APIVersion: catalog.APIVersionV1alpha1, Kind: "Group",
		Metadata: catalog.Metadata{Name: "team-a", Namespace: "default"}, Spec: map[string]any{"type": "team", "children": []any{}}}
	for _, strategy := range []string{"delete", "keep"} {
		t.Run(strategy, func(t *testing.T) {
			s, _ := openTest(t)
			s.OrphanStrategy = strategy
			l := mustAddLocation(t, s, "/srv/a.yaml")
			both := []put{{group, "file:/srv/g.yaml"}, {component("stays", "team-a", ""), "file:/srv/a.yaml"}, {component("goes", "team-a", ""), "file:/srv/a.yaml"}}
			apply(t, s, l.ID, both...)
			before := mustEntity(t, s, "component:default/goes")
			st := apply(t, s, l.ID, both[:2]...)
			goes, err := s.Entity(ctx, "component:default/goes")
			if strategy == "delete" {
				if st.Removed != 1 || !errors.Is(err, ErrNotFound) {
					t.Fatalf("delete: %+v, %v", st, err)
				}
				if contains(relations(mustEntity(t, s, "group:default/team-a")), "ownerOf component:default/goes") {
					t.Error("team-a still serves ownerOf a deleted entity")
				}
				var n int
				s.db.QueryRow(`SELECT COUNT(*) FROM search s LEFT JOIN entities e ON e.id = s.entity_id WHERE e.id IS NULL`).Scan(&n)
				if n != 0 {
					t.Errorf("%d filter rows of deleted entities remain", n)
				}
				return
			}
			if err != nil || st.Orphaned != 1 || st.Removed != 0 {
				t.Fatalf("keep: %+v, %v", st, err)
			}
			if goes.Metadata.Annotations[catalog.AnnotationOrphan] != "true" || goes.Metadata.UID != before.Metadata.UID || goes.Metadata.Etag == before.Metadata.Etag {
				t.Errorf("orphan: annotations %v uid %s etag %s", goes.Metadata.Annotations, goes.Metadata.UID, goes.Metadata.Etag)
			}
			if got := orphanRows(s); !reflect.DeepEqual(got, []string{"component:default/goes=true"}) {
				t.Errorf("orphan rows %v", got)
			}
			if p, _ := s.Provenance(ctx, "component:default/goes"); !p.Orphan {
				t.Error("provenance does not say orphan")
			}
			if st := apply(t, s, l.ID, both[:2]...); st.Changed() {
				t.Errorf("re-orphaning wrote: %+v", st)
			}
			st = apply(t, s, l.ID, both...)
			if st.Updated != 1 {
				t.Errorf("re-adding: %+v", st)
			}
			goes = mustEntity(t, s, "component:default/goes")
			if _, ok := goes.Metadata.Annotations[catalog.AnnotationOrphan]; ok {
				t.Errorf("re-added entity still annotated: %v", goes.Metadata.Annotations)
			}
			if goes.Metadata.Etag != before.Metadata.Etag || goes.Metadata.UID != before.Metadata.UID {
				t.Error("re-added entity differs from before it was orphaned")
			}
			if got := orphanRows(s); len(got) != 0 {
				t.Errorf("orphan rows after re-adding: %v", got)
			}
			if p, _ := s.Provenance(ctx, "component:default/goes"); p.Orphan {
				t.Error("provenance still says orphan")
			}
		})
	}
}

// TestDeleteLocation removes what the root emitted, its errors and the
// relations its entities gave others, and leaves other roots alone.
func TestDeleteLocation(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l1, l2 := mustAddLocation(t, s, "/srv/groups.yaml"), mustAddLocation(t, s, "/srv/components.yaml")
	ents := testEntities(t)
	apply(t, s, l1.ID, put{ents["group:default/team-a"], "file:/srv/groups.yaml"}, put{ents["user:default/alice"], "file:/srv/groups.yaml"})
	a, _ := s.BeginApply(ctx, l2.ID)
	for _, ref := range []string{"component:default/billing", "component:default/search", "api:default/billing-api"} {
		a.Put(itemOf(t, ents[ref], "file:/srv/components.yaml", ""))
	}
	a.AddError("file:/srv/components.yaml", "", "Error: something")
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(mustEntity(t, s, "group:default/team-a").Relations) < 3 {
		t.Fatalf("team-a relations before: %v", relations(mustEntity(t, s, "group:default/team-a")))
	}
	if err := s.DeleteLocation(ctx, l2.ID); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"component:default/billing", "component:default/search", "api:default/billing-api"} {
		if _, err := s.Entity(ctx, ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s after delete: %v", ref, err)
		}
	}
	if got := relations(mustEntity(t, s, "group:default/team-a")); !reflect.DeepEqual(got, []string{"hasMember user:default/alice"}) {
		t.Errorf("team-a relations after delete: %v", got)
	}
	if got := relations(mustEntity(t, s, "user:default/alice")); !reflect.DeepEqual(got, []string{"memberOf group:default/team-a"}) {
		t.Errorf("alice relations after delete: %v", got)
	}
	if errs, _ := s.Errors(ctx, l2.ID); len(errs) != 0 {
		t.Errorf("errors of the deleted root remain: %v", errs)
	}
	if _, err := s.Location(ctx, l2.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("location after delete: %v", err)
	}
	for _, q := range []string{
		`SELECT COUNT(*) FROM relations r LEFT JOIN entities e ON e.id = r.originating_id WHERE e.id IS NULL`,
		`SELECT COUNT(*) FROM search s LEFT JOIN entities e ON e.id = s.entity_id WHERE e.id IS NULL`,
		`SELECT COUNT(*) FROM location_files WHERE root_id = '` + l2.ID + `'`,
	} {
		var n int
		if err := s.db.QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows left (%v)", q, n, err)
		}
	}
	if c, _ := s.Count(ctx); !reflect.DeepEqual(c, map[string]int{"group": 1, "user": 1}) {
		t.Errorf("counts %v", c)
	}
	// The same target can be registered again, as a new location.
	again, created, err := s.AddLocation(ctx, "file", "/srv/components.yaml", "api")
	if err != nil || !created || again.ID == l2.ID {
		t.Errorf("re-register: %+v %v %v", again, created, err)
	}
}

// TestKeepLocationAndRef: what failed to read or process keeps its last
// good version; everything else not emitted goes.
func TestKeepLocationAndRef(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/root.yaml")
	apply(t, s, l.ID,
		put{component("in-unreadable", "team-a", "v1"), "file:/srv/unreadable.yaml"},
		put{component("broken", "team-a", "v1"), "file:/srv/mixed.yaml"},
		put{component("dropped", "team-a", "v1"), "file:/srv/mixed.yaml"},
		put{component("fine", "team-a", "v1"), "file:/srv/mixed.yaml"})
	a, _ := s.BeginApply(ctx, l.ID)
	a.KeepLocation("file:/srv/unreadable.yaml")
	a.KeepRef("Component:default/BROKEN")
	a.AddError("file:/srv/mixed.yaml", "component:default/broken", "InputError: no owner")
	a.Put(itemOf(t, component("fine", "team-a", "v2"), "file:/srv/mixed.yaml", ""))
	st, err := a.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 1 || st.Updated != 1 {
		t.Errorf("stats %+v", st)
	}
	for ref, want := range map[string]string{"component:default/in-unreadable": "v1", "component:default/broken": "v1", "component:default/fine": "v2"} {
		if got := mustEntity(t, s, ref).Metadata.Description; got != want {
			t.Errorf("%s: %q, want %q", ref, got, want)
		}
	}
	if _, err := s.Entity(ctx, "component:default/dropped"); !errors.Is(err, ErrNotFound) {
		t.Errorf("dropped: %v", err)
	}
	if b := mustEntity(t, s, "component:default/broken"); b.Status == nil || b.Status.Items[0].Message != "InputError: no owner" {
		t.Errorf("kept entity status %+v", b.Status)
	}
}

// TestFingerprints: clean files' fingerprints persist; KeepFile counts the
// file's entities unchanged; a crawl that drops a file drops its print.
func TestFingerprints(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/root.yaml")
	a, _ := s.BeginApply(ctx, l.ID)
	for _, n := range []string{"a", "b"} {
		a.Put(itemOf(t, component(n, "team-a", ""), "file:/srv/ab.yaml", ""))
	}
	a.Put(itemOf(t, component("c", "team-a", ""), "file:/srv/c.yaml", ""))
	a.SetFingerprint("file:/srv/ab.yaml", "print-ab")
	a.SetFingerprint("file:/srv/c.yaml", "print-c")
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}

	a, _ = s.BeginApply(ctx, l.ID)
	if got := a.Fingerprints(); !reflect.DeepEqual(got, map[string]string{"file:/srv/ab.yaml": "print-ab", "file:/srv/c.yaml": "print-c"}) {
		t.Errorf("fingerprints %v", got)
	}
	a.KeepFile("file:/srv/ab.yaml")
	a.KeepFile("file:/srv/ab.yaml") // twice counts once
	st, err := a.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st.Unchanged != 2 || st.Removed != 1 {
		t.Errorf("stats %+v, want a and b unchanged, c removed", st)
	}
	a, _ = s.BeginApply(ctx, l.ID)
	if got := a.Fingerprints(); !reflect.DeepEqual(got, map[string]string{"file:/srv/ab.yaml": "print-ab"}) {
		t.Errorf("fingerprints after dropping c %v", got)
	}
	a.Rollback()
}

// TestRollback: nothing of an apply that is not committed is stored, and an
// apply commits once.
func TestRollback(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/a.yaml")
	apply(t, s, l.ID, put{component("old", "team-a", ""), "file:/srv/a.yaml"})
	a, err := s.BeginApply(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Put(itemOf(t, component("new", "team-a", ""), "file:/srv/a.yaml", ""))
	a.AddError("file:/srv/a.yaml", "", "Error: x")
	a.Rollback()
	a.Rollback()
	if _, err := s.Entity(ctx, "component:default/new"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rolled back entity stored: %v", err)
	}
	mustEntity(t, s, "component:default/old")
	if errs, _ := s.Errors(ctx, ""); len(errs) != 0 {
		t.Errorf("rolled back errors stored: %v", errs)
	}
	a, _ = s.BeginApply(ctx, l.ID)
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	// A cancelled context fails the apply without storing anything.
	cctx, cancel := context.WithCancel(ctx)
	a, err = s.BeginApply(cctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Put(itemOf(t, component("cancelled", "team-a", ""), "file:/srv/a.yaml", ""))
	cancel()
	if _, err := a.Commit(); err == nil {
		t.Error("commit with a cancelled context succeeded")
	}
	if _, err := s.Entity(ctx, "component:default/cancelled"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancelled apply stored: %v", err)
	}
}

// TestBulkApply exercises the bulk stitch path (more than 5000 affected
// entities) and the index rebuild of a first load: every relation lands on
// both ends, and the indexes exist afterwards.
func TestBulkApply(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk")
	}
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/bulk.yaml")
	const groups, perGroup = 60, 100
	a, err := s.BeginApply(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	for g := 0; g < groups; g++ {
		grp := &catalog.Entity{APIVersion: catalog.APIVersionV1alpha1, Kind: "Group",
			Metadata: catalog.Metadata{Name: fmt.Sprintf("team-%02d", g), Namespace: "default"}, Spec: map[string]any{"type": "team", "children": []any{}}}
		if err := a.Put(itemOf(t, grp, "file:/srv/groups.yaml", "")); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perGroup; i++ {
			c := component(fmt.Sprintf("svc-%02d-%03d", g, i), fmt.Sprintf("team-%02d", g), "")
			if i > 0 {
				c.Spec["dependsOn"] = []any{fmt.Sprintf("component:svc-%02d-%03d", g, i-1)}
			}
			if err := a.Put(itemOf(t, c, fmt.Sprintf("file:/srv/%02d.yaml", g), "")); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := a.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != groups*(perGroup+1) {
		t.Errorf("stats %+v", st)
	}
	for _, g := range []int{0, 31, groups - 1} {
		ref := fmt.Sprintf("group:default/team-%02d", g)
		if n := len(mustEntity(t, s, ref).Relations); n != perGroup {
			t.Errorf("%s serves %d relations, want %d", ref, n, perGroup)
		}
		mid := mustEntity(t, s, fmt.Sprintf("component:default/svc-%02d-050", g))
		want := []string{
			fmt.Sprintf("dependencyOf component:default/svc-%02d-051", g),
			fmt.Sprintf("dependsOn component:default/svc-%02d-049", g),
			fmt.Sprintf("ownedBy group:default/team-%02d", g),
		}
		if got := relations(mid); !reflect.DeepEqual(got, want) {
			t.Errorf("%s relations %v, want %v", mid.Ref(), got, want)
		}
	}
	for _, ix := range bulkIndexes {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, ix.name).Scan(&n)
		if n != 1 {
			t.Errorf("index %s missing after the first load", ix.name)
		}
	}
	// An apply that emits nothing removes everything, relations and
	// filter rows too.
	a, _ = s.BeginApply(ctx, l.ID)
	st, err = a.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != groups*(perGroup+1) {
		t.Errorf("empty apply: %+v", st)
	}
	for _, table := range []string{"entities", "relations", "search"} {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
		if n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
}

// TestKeptLocationKeepsDescendants: when a Location is kept (its file
// failed), what it led to is kept too, down the parent chain; what a
// Location emitted again this crawl but no longer names still goes.
func TestKeptLocationKeepsDescendants(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/root.yaml")
	location := func(name string) *catalog.Entity {
		return &catalog.Entity{APIVersion: catalog.APIVersionV1alpha1, Kind: "Location",
			Metadata: catalog.Metadata{Name: name, Namespace: "default"}, Spec: map[string]any{"type": "file", "targets": []any{}}}
	}
	type node struct {
		e           *catalog.Entity
		key, parent string
	}
	tree := []node{
		{location("top"), "file:/srv/root.yaml", ""},
		{location("mid"), "file:/srv/mid.yaml", "location:default/top"},
		{component("leaf", "team-a", ""), "file:/srv/leaf.yaml", "location:default/mid"},
		{location("other"), "file:/srv/root2.yaml", ""},
		{component("other-leaf", "team-a", ""), "file:/srv/other-leaf.yaml", "location:default/other"},
	}
	a, _ := s.BeginApply(ctx, l.ID)
	for _, n := range tree {
		if err := a.Put(itemOf(t, n.e, n.key, n.parent)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Provenance(ctx, "component:default/leaf"); p.ParentRef != "location:default/mid" {
		t.Fatalf("leaf provenance %+v", p)
	}
	// root.yaml cannot be read; other is emitted again but names nothing.
	a, _ = s.BeginApply(ctx, l.ID)
	a.KeepLocation("file:/srv/root.yaml")
	a.Put(itemOf(t, tree[3].e, tree[3].key, tree[3].parent))
	st, err := a.Commit()
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"location:default/top", "location:default/mid", "component:default/leaf", "location:default/other"} {
		mustEntity(t, s, ref)
	}
	if _, err := s.Entity(ctx, "component:default/other-leaf"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other-leaf: %v", err)
	}
	if st.Removed != 1 {
		t.Errorf("stats %+v", st)
	}
	// The same through KeepRef: mid failed to process.
	a, _ = s.BeginApply(ctx, l.ID)
	a.Put(itemOf(t, tree[0].e, tree[0].key, tree[0].parent))
	a.KeepRef("location:default/mid")
	a.Put(itemOf(t, tree[3].e, tree[3].key, tree[3].parent))
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	mustEntity(t, s, "component:default/leaf")
	// Nothing kept: the descendants go.
	apply(t, s, l.ID, put{tree[0].e, tree[0].key})
	for _, ref := range []string{"location:default/mid", "component:default/leaf"} {
		if _, err := s.Entity(ctx, ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v", ref, err)
		}
	}
}
