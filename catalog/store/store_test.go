package store

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
)

// openTest opens a store in a temp directory with a clock that advances a
// millisecond per reading, so created_at orders are deterministic.
func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var mu sync.Mutex
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	return s, path
}

// testEntities are read from testdata/entities.json: a small catalog
// whose relations cross between its entities and to ones that are missing.
func testEntities(t *testing.T) map[string]*catalog.Entity {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "entities.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []*catalog.Entity
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]*catalog.Entity{}
	for _, e := range list {
		if e.Metadata.Namespace == "" {
			e.Metadata.Namespace = catalog.DefaultNamespace
		}
		out[e.Ref().String()] = e
	}
	return out
}

// itemOf prepares an entity as the ingester does: edges from its spec,
// filter rows, and a hash of all of it.
func itemOf(t *testing.T, e *catalog.Entity, key, parent string) Item {
	t.Helper()
	e = cloneEntity(t, e)
	if e.Metadata.Annotations == nil {
		e.Metadata.Annotations = map[string]string{}
	}
	e.Metadata.Annotations[catalog.AnnotationLocation] = key
	e.Metadata.Annotations[catalog.AnnotationOriginLocation] = key
	edges, err := catalog.EmitRelations(e)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := catalog.FilterRows(e)
	if err != nil {
		t.Fatal(err)
	}
	h := sha1.New()
	h.Write(body)
	for _, ed := range edges {
		fmt.Fprintf(h, "\x00%s %s %s", ed.Source, ed.Type, ed.Target)
	}
	fmt.Fprintf(h, "\x00%s\x00%s", key, parent)
	return Item{Entity: e, Body: body, Edges: edges, Rows: rows, LocationKey: key, ParentRef: parent, Hash: hex.EncodeToString(h.Sum(nil))}
}

func cloneEntity(t *testing.T, e *catalog.Entity) *catalog.Entity {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var c catalog.Entity
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func component(name, owner, description string) *catalog.Entity {
	return &catalog.Entity{
		APIVersion: catalog.APIVersionV1alpha1, Kind: "Component",
		Metadata: catalog.Metadata{Name: name, Namespace: "default", Description: description},
		Spec:     map[string]any{"type": "service", "lifecycle": "production", "owner": owner},
	}
}

// put is one entity of an apply: which file it came from.
type put struct {
	e   *catalog.Entity
	key string
}

// apply runs one apply of the root with the puts and commits.
func apply(t *testing.T, s *Store, rootID string, puts ...put) ApplyStats {
	t.Helper()
	a, err := s.BeginApply(context.Background(), rootID)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback()
	for _, p := range puts {
		if err := a.Put(itemOf(t, p.e, p.key, "")); err != nil {
			t.Fatal(err)
		}
	}
	st, err := a.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustEntity(t *testing.T, s *Store, ref string) *catalog.Entity {
	t.Helper()
	e, err := s.Entity(context.Background(), ref)
	if err != nil {
		t.Fatalf("entity %s: %v", ref, err)
	}
	return e
}

func relations(e *catalog.Entity) []string {
	var out []string
	for _, r := range e.Relations {
		out = append(out, r.Type+" "+r.TargetRef)
	}
	sort.Strings(out)
	return out
}

func mustAddLocation(t *testing.T, s *Store, target string) Location {
	t.Helper()
	l, _, err := s.AddLocation(context.Background(), "file", target, "api")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestMigrationsIdempotent: opening the same file again (even while it is
// open) applies nothing twice and keeps the data.
func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	l := mustAddLocation(t, s, "/srv/a.yaml")
	apply(t, s, l.ID, put{component("x", "team-a", ""), "file:/srv/a.yaml"})

	s2, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	defer s2.Close()
	s.Close()
	s3, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("third open: %v", err)
	}
	defer s3.Close()

	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	rows, err := s3.db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) != len(entries) {
		t.Errorf("schema_migrations %v, want one row per migration (%d)", versions, len(entries))
	}
	for i, v := range versions {
		if v != i+1 {
			t.Errorf("versions %v, want 1..%d", versions, len(entries))
			break
		}
	}
	mustEntity(t, s3, "component:default/x")
	if got, err := s3.Location(ctx, l.ID); err != nil || got.Target != "/srv/a.yaml" {
		t.Errorf("location after reopen: %+v %v", got, err)
	}
}

// TestLocations: AddLocation is idempotent; lookups by id and target;
// listing oldest first; ErrNotFound for unknown ones.
func TestLocations(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, created, err := s.AddLocation(ctx, "file", "/srv/a.yaml", "config")
	if err != nil || !created || a.ID == "" {
		t.Fatalf("add: %+v %v %v", a, created, err)
	}
	again, created, err := s.AddLocation(ctx, "file", "/srv/a.yaml", "api")
	if err != nil || created || again.ID != a.ID || again.Source != "config" {
		t.Errorf("adding again: %+v created=%v err=%v, want the existing location", again, created, err)
	}
	b, _, _ := s.AddLocation(ctx, "url", "https://example.com/catalog-info.yaml", "api")
	c, _, _ := s.AddLocation(ctx, "file", "/srv/c.yaml", "api")
	// Same target, another type: another location.
	d, created, _ := s.AddLocation(ctx, "url", "/srv/a.yaml", "api")
	if !created || d.ID == a.ID {
		t.Errorf("type is part of a location's identity: %+v", d)
	}

	got, err := s.Location(ctx, b.ID)
	if err != nil || got.Type != "url" || got.Target != "https://example.com/catalog-info.yaml" || got.Source != "api" || got.CreatedAt.IsZero() {
		t.Errorf("Location(b) = %+v, %v", got, err)
	}
	got, err = s.LocationByTarget(ctx, "file", "/srv/c.yaml")
	if err != nil || got.ID != c.ID {
		t.Errorf("LocationByTarget(c) = %+v, %v", got, err)
	}
	if _, err := s.Location(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := s.LocationByTarget(ctx, "file", "/srv/nope.yaml"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown target: %v", err)
	}
	list, err := s.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range list {
		ids = append(ids, l.ID)
	}
	if want := []string{a.ID, b.ID, c.ID, d.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Locations order %v, want %v (oldest first)", ids, want)
	}
	// A crawl stamps last_crawl_at.
	apply(t, s, a.ID)
	if got, _ := s.Location(ctx, a.ID); got.LastCrawlAt.IsZero() {
		t.Error("last crawl time not recorded")
	}
	if err := s.DeleteLocation(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting an unknown location: %v", err)
	}
}

// TestEntityQueries: Entity (any case), Count per kind, EachEntity in ref
// order, Provenance.
func TestEntityQueries(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/all.yaml")
	var puts []put
	for ref, e := range testEntities(t) {
		_ = ref
		puts = append(puts, put{e, "file:/srv/" + e.Metadata.Name + ".yaml"})
	}
	st := apply(t, s, l.ID, puts...)
	if st.Added != len(puts) {
		t.Errorf("added %d, want %d", st.Added, len(puts))
	}
	e := mustEntity(t, s, "Component:Default/Billing")
	if e.Metadata.Name != "billing" || e.Metadata.UID == "" || e.Metadata.Etag == "" {
		t.Errorf("entity by mixed-case ref: %+v", e.Metadata)
	}
	if _, err := s.Entity(ctx, "component:default/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing entity: %v", err)
	}
	counts, err := s.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, e := range testEntities(t) {
		want[strings.ToLower(e.Kind)]++
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("Count = %v, want %v", counts, want)
	}
	var refs []string
	if err := s.EachEntity(ctx, func(ref string, final []byte) error {
		var e catalog.Entity
		if err := json.Unmarshal(final, &e); err != nil {
			return err
		}
		if e.Ref().String() != ref {
			return fmt.Errorf("row %s holds %s", ref, e.Ref())
		}
		refs = append(refs, ref)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !sort.StringsAreSorted(refs) || len(refs) != len(puts) {
		t.Errorf("EachEntity order %v", refs)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.EachEntity(ctx, func(string, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachEntity does not stop on error: %v after %d", err, n)
	}
	p, err := s.Provenance(ctx, "component:default/billing")
	if err != nil || p.RootID != l.ID || p.LocationKey != "file:/srv/billing.yaml" || p.ParentRef != "" || p.Orphan {
		t.Errorf("provenance %+v %v", p, err)
	}
	if _, err := s.Provenance(ctx, "component:default/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("provenance of a missing entity: %v", err)
	}
	keys, err := s.LocationKeys(ctx, l.ID)
	if err != nil || len(keys) != len(puts) {
		t.Errorf("location keys %v %v", keys, err)
	}
}

// TestErrors: errors are per root, replaced by the root's next apply, and
// those naming an entity show in its status.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l1, l2 := mustAddLocation(t, s, "/srv/1.yaml"), mustAddLocation(t, s, "/srv/2.yaml")
	x := component("x", "team-a", "")
	apply(t, s, l1.ID, put{x, "file:/srv/1.yaml"})

	a, _ := s.BeginApply(ctx, l1.ID)
	a.Put(itemOf(t, x, "file:/srv/1.yaml", ""))
	a.AddError("file:/srv/1.yaml", "Component:default/X", "InputError: bad owner")
	a.AddError("file:/srv/other.yaml", "", "Error: YAML error")
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	b, _ := s.BeginApply(ctx, l2.ID)
	b.AddError("file:/srv/2.yaml", "", "NotFoundError: gone")
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}

	all, _ := s.Errors(ctx, "")
	e1, _ := s.Errors(ctx, l1.ID)
	e2, _ := s.Errors(ctx, l2.ID)
	if len(all) != 3 || len(e1) != 2 || len(e2) != 1 {
		t.Fatalf("errors: all %d, l1 %d, l2 %d", len(all), len(e1), len(e2))
	}
	if e1[0].EntityRef != "component:default/x" || e1[0].Location != "file:/srv/1.yaml" || e1[0].RootID != l1.ID || e1[0].CreatedAt.IsZero() {
		t.Errorf("error %+v", e1[0])
	}
	ent := mustEntity(t, s, "component:default/x")
	if ent.Status == nil || len(ent.Status.Items) != 1 {
		t.Fatalf("status %+v", ent.Status)
	}
	item := ent.Status.Items[0]
	if item.Type != "backstage.io/catalog-processing" || item.Level != "error" || item.Message != "InputError: bad owner" ||
		item.Error == nil || item.Error.Name != "InputError" || item.Error.Message != "bad owner" {
		t.Errorf("status item %+v", item)
	}
	etag := ent.Metadata.Etag

	// The next apply without errors clears them and the status.
	apply(t, s, l1.ID, put{x, "file:/srv/1.yaml"})
	if e1, _ := s.Errors(ctx, l1.ID); len(e1) != 0 {
		t.Errorf("errors not replaced: %+v", e1)
	}
	if e2, _ := s.Errors(ctx, l2.ID); len(e2) != 1 {
		t.Errorf("another root's errors were touched: %+v", e2)
	}
	ent = mustEntity(t, s, "component:default/x")
	if ent.Status != nil || ent.Metadata.Etag == etag {
		t.Errorf("status %+v etag %s (was %s)", ent.Status, ent.Metadata.Etag, etag)
	}
}

// rawDB opens a second connection to a store's database file.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
