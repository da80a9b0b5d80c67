package ingest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// TestLocationGraph crawls testdata/crawl/graph: relative, ../ and glob
// targets and a nested Location. Everything reachable is stored with the
// file it came from, the root it originated at and the Location that named it.
func TestLocationGraph(t *testing.T) {
	e := newCrawlEnv(t)
	dir := e.copyFixture("graph")
	rootFile := filepath.Join(dir, "catalog-info.yaml")
	loc := e.add("file", rootFile)
	cs := e.crawl(loc)
	e.noErrors(loc.ID)

	generated := rootRef("file", rootFile)
	if !strings.HasPrefix(generated, "location:default/generated-") {
		t.Fatalf("root entity ref %s", generated)
	}
	tests := []struct {
		ref, file, parent string
	}{
		{generated, rootFile, ""},
		{"location:default/root", rootFile, generated},
		{"group:default/team-a", filepath.Join(dir, "team.yaml"), "location:default/root"},
		{"user:default/alice", filepath.Join(dir, "team.yaml"), "location:default/root"},
		{"component:default/billing", filepath.Join(dir, "services/billing/catalog-info.yaml"), "location:default/root"},
		{"api:default/billing-api", filepath.Join(dir, "services/billing/catalog-info.yaml"), "location:default/root"},
		{"component:default/search", filepath.Join(dir, "services/search/catalog-info.yaml"), "location:default/root"},
		{"component:default/deep", filepath.Join(dir, "services/deep/er/catalog-info.yaml"), "location:default/root"},
		{"location:default/nested", filepath.Join(dir, "nested/location.yaml"), "location:default/root"},
		{"system:default/platform", filepath.Join(dir, "platform/system.yaml"), "location:default/nested"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ent := e.entity(tt.ref)
			if got := ent.Metadata.Annotations[catalog.AnnotationLocation]; got != fileRef(tt.file) {
				t.Errorf("managed-by-location = %q, want %q", got, fileRef(tt.file))
			}
			if got := ent.Metadata.Annotations[catalog.AnnotationOriginLocation]; got != fileRef(rootFile) {
				t.Errorf("managed-by-origin-location = %q, want %q", got, fileRef(rootFile))
			}
			if ent.Metadata.UID == "" || ent.Metadata.Etag == "" {
				t.Errorf("uid %q etag %q: both must be set", ent.Metadata.UID, ent.Metadata.Etag)
			}
			p := e.provenance(tt.ref)
			if p.ParentRef != tt.parent {
				t.Errorf("parent_ref = %q, want %q", p.ParentRef, tt.parent)
			}
			if p.RootID != loc.ID || p.LocationKey != fileRef(tt.file) {
				t.Errorf("provenance = %+v, want root %s key %s", p, loc.ID, fileRef(tt.file))
			}
		})
	}
	if got := len(e.refs()); got != len(tests) {
		t.Errorf("%d entities stored, want %d: %v", got, len(tests), e.refs())
	}
	// root + team + 3 glob matches + nested + platform
	if cs.Files != 7 || cs.Entities != len(tests) || cs.Errors != 0 || cs.Apply.Added != len(tests) {
		t.Errorf("crawl stats %+v", cs)
	}
	root := e.entity(generated)
	if root.Spec["type"] != "file" || root.Spec["target"] != rootFile {
		t.Errorf("generated root entity spec = %v", root.Spec)
	}
}

// TestLocationCycle: a.yaml -> b.yaml -> a.yaml is an error, not a loop,
// and both files' entities are stored once.
func TestLocationCycle(t *testing.T) {
	e := newCrawlEnv(t)
	dir := e.copyFixture("cycle")
	a := filepath.Join(dir, "a.yaml")
	loc := e.add("file", a)
	cs := e.crawl(loc)
	e.wantError(loc.ID, fileRef(filepath.Join(dir, "b.yaml")), "InputError: Location cycle detected", fileRef(a))
	for _, ref := range []string{"location:default/a", "location:default/b", "component:default/from-a", "component:default/from-b"} {
		e.entity(ref)
	}
	if cs.Apply.Conflicts != 0 {
		t.Errorf("a cycle must not read a file twice: %+v", cs)
	}
	if errs := e.errors(loc.ID); len(errs) != 1 {
		t.Errorf("want exactly the cycle error:\n%s", formatErrors(errs))
	}
	// A self-referencing Location is a cycle too.
	self := e.write("self/self.yaml", locationYAML("self", "./self.yaml"))
	l2 := e.add("file", self)
	e.crawl(l2)
	e.wantError(l2.ID, fileRef(self), "Location cycle detected")
}

// TestDiamond: a file two Locations name is read and applied once, by the
// Location that reached it first.
func TestDiamond(t *testing.T) {
	e := newCrawlEnv(t)
	dir := e.copyFixture("diamond")
	loc := e.add("file", filepath.Join(dir, "root.yaml"))
	cs := e.crawl(loc)
	e.noErrors(loc.ID)
	if cs.Apply.Conflicts != 0 {
		t.Errorf("conflicts: %+v", cs)
	}
	if cs.Files != 4 {
		t.Errorf("files read = %d, want 4 (root, left, right, shared once)", cs.Files)
	}
	if p := e.provenance("component:default/shared"); p.ParentRef != "location:default/left" {
		t.Errorf("shared parent_ref = %q, want location:default/left", p.ParentRef)
	}
	// Unchanged re-crawl: still no conflict, nothing written.
	cs = e.crawl(loc)
	e.noErrors(loc.ID)
	if cs.Apply.Changed() || cs.Apply.Conflicts != 0 {
		t.Errorf("re-crawl: %+v", cs.Apply)
	}
}

// TestRelationsStitched: every relation row is served on its source entity;
// relations to entities that do not exist stay on the source.
func TestRelationsStitched(t *testing.T) {
	e := newCrawlEnv(t)
	dir := e.copyFixture("graph")
	loc := e.add("file", filepath.Join(dir, "catalog-info.yaml"))
	e.crawl(loc)

	tests := []struct {
		ref  string
		rels []string
	}{
		{"component:default/billing", []string{
			"dependencyOf component:default/search",
			"ownedBy group:default/team-a",
			"partOf system:default/platform",
			"providesApi api:default/billing-api",
		}},
		{"api:default/billing-api", []string{
			"apiConsumedBy component:default/search",
			"apiProvidedBy component:default/billing",
			"ownedBy group:default/team-a",
		}},
		{"component:default/search", []string{
			"consumesApi api:default/billing-api",
			"dependsOn component:default/billing",
			"dependsOn resource:default/ghost-db",
			"ownedBy group:default/team-a",
		}},
		{"component:default/deep", []string{"ownedBy user:default/alice"}},
		{"group:default/team-a", []string{
			"hasMember user:default/alice",
			"ownerOf api:default/billing-api",
			"ownerOf component:default/billing",
			"ownerOf component:default/search",
			"ownerOf system:default/platform",
		}},
		{"user:default/alice", []string{"memberOf group:default/team-a", "ownerOf component:default/deep"}},
		{"system:default/platform", []string{
			"hasPart component:default/billing",
			"ownedBy group:default/team-a",
			"partOf domain:default/commerce",
		}},
		{"location:default/root", nil},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if got := relationStrings(e.entity(tt.ref)); !reflect.DeepEqual(got, tt.rels) {
				t.Errorf("relations:\n got %q\nwant %q", got, tt.rels)
			}
		})
	}
	e.absent("resource:default/ghost-db")
	e.absent("domain:default/commerce")

	// The missing domain appears later, from another root: it gets its
	// incoming relation from the system's processing.
	dom := e.write("domain.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: commerce\nspec:\n  owner: team-a\n")
	l2 := e.add("file", dom)
	e.crawl(l2)
	got := relationStrings(e.entity("domain:default/commerce"))
	if want := []string{"hasPart system:default/platform", "ownedBy group:default/team-a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("late domain relations %q, want %q", got, want)
	}
	if !hasRelation(e.entity("group:default/team-a"), "ownerOf", "domain:default/commerce") {
		t.Error("team-a does not serve ownerOf the late domain")
	}

	// Changing an owner moves the relation on both ends.
	search := filepath.Join(dir, "services/search/catalog-info.yaml")
	e.write(strings.TrimPrefix(search, e.dir+"/"), fmt.Sprintf(componentTmpl, "search", "moved", "user:default/alice"))
	e.crawl(loc)
	if hasRelation(e.entity("group:default/team-a"), "ownerOf", "component:default/search") {
		t.Error("team-a still owns search after the owner changed")
	}
	if !hasRelation(e.entity("user:default/alice"), "ownerOf", "component:default/search") {
		t.Error("alice does not own search after the owner changed")
	}
	if hasRelation(e.entity("component:default/billing"), "dependencyOf", "component:default/search") {
		t.Error("billing keeps dependencyOf after search dropped dependsOn")
	}
}

// TestPlaceholders: $text, $json and $yaml resolve relative to the file;
// one that leaves the location's root is an error and rejects the entity.
func TestPlaceholders(t *testing.T) {
	e := newCrawlEnv(t)
	dir := e.copyFixture("placeholders")
	if err := os.WriteFile(filepath.Join(e.dir, "outside.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "outside.txt"), []byte("inside the work tree"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("relative", func(t *testing.T) {
		loc := e.add("file", filepath.Join(dir, "catalog-info.yaml"))
		e.crawl(loc)
		e.noErrors(loc.ID)
		ent := e.entity("component:default/with-placeholders")
		if ent.Metadata.Description != "Text read from docs/description.txt" {
			t.Errorf("$text: description = %q", ent.Metadata.Description)
		}
		wantInfo := map[string]any{"port": float64(8080), "tags": []any{"a", "b"}}
		if !reflect.DeepEqual(ent.Spec["info"], wantInfo) {
			t.Errorf("$json: spec.info = %#v", ent.Spec["info"])
		}
		wantExtra := map[string]any{"replicas": float64(3), "zones": []any{"eu", "us"}}
		if !reflect.DeepEqual(ent.Spec["extra"], wantExtra) {
			t.Errorf("$yaml: spec.extra = %#v", ent.Spec["extra"])
		}
	})

	escape := filepath.Join(dir, "sub/dir/escape.yaml")
	t.Run("outside the root", func(t *testing.T) {
		// No git work tree: the root is the file's own directory.
		loc := e.add("file", escape)
		cs := e.crawl(loc)
		e.wantError(loc.ID, fileRef(escape), "Placeholder $text", "../../outside.txt")
		e.absent("component:default/escape")
		if cs.Errors != 1 {
			t.Errorf("crawl errors = %d, want 1", cs.Errors)
		}
	})

	t.Run("inside a git work tree", func(t *testing.T) {
		// With a .git directory at the fixture's top, the work tree is the
		// root and ../../outside.txt stays inside it.
		if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(filepath.Join(dir, ".git"))
		loc, _ := e.st.LocationByTarget(e.ctx, "file", escape)
		e.crawl(loc)
		e.noErrors(loc.ID)
		if got := e.entity("component:default/escape").Spec["secret"]; got != "inside the work tree" {
			t.Errorf("spec.secret = %v", got)
		}
		// Three levels up leaves the work tree.
		e.write(strings.TrimPrefix(escape, e.dir+"/"), strings.Replace(mustRead(t, escape), "../../outside.txt", "../../../outside.txt", 1))
		e.crawl(loc)
		e.wantError(loc.ID, fileRef(escape), "Placeholder $text", "outside")
		// The last good version is kept, with the error in its status.
		ent := e.entity("component:default/escape")
		if ent.Spec["secret"] != "inside the work tree" || ent.Status == nil || len(ent.Status.Items) == 0 {
			t.Errorf("kept entity: spec.secret %v, status %+v", ent.Spec["secret"], ent.Status)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		p := e.write("ph/missing.yaml", strings.Replace(fmt.Sprintf(componentTmpl, "ph-missing", "x", "team-a"), "description: x", "description:\n    $text: ./nope.txt", 1))
		loc := e.add("file", p)
		e.crawl(loc)
		e.wantError(loc.ID, fileRef(p), "Placeholder $text could not read location ./nope.txt")
		e.absent("component:default/ph-missing")
	})
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConflicts: two roots, or two files of one root, emitting the same
// entity: the first claimant keeps it; the other gets a ConflictError.
func TestConflicts(t *testing.T) {
	t.Run("two roots", func(t *testing.T) {
		e := newCrawlEnv(t)
		first := e.write("first.yaml", fmt.Sprintf(componentTmpl, "x", "from first", "team-a"))
		second := e.write("second.yaml", fmt.Sprintf(componentTmpl, "x", "from second", "team-b")+"---\n"+fmt.Sprintf(componentTmpl, "y", "only in second", "team-b"))
		l1, l2 := e.add("file", first), e.add("file", second)
		e.crawl(l1)
		cs := e.crawl(l2)
		if cs.Apply.Conflicts != 1 {
			t.Errorf("conflicts = %d, want 1", cs.Apply.Conflicts)
		}
		e.noErrors(l1.ID)
		e.wantError(l2.ID, fileRef(second), "ConflictError", "component:default/x", fileRef(first))
		x := e.entity("component:default/x")
		if x.Metadata.Annotations[catalog.AnnotationLocation] != fileRef(first) || x.Metadata.Description != "from first" {
			t.Errorf("x is managed by %s (%q), want the first root's", x.Metadata.Annotations[catalog.AnnotationLocation], x.Metadata.Description)
		}
		if hasRelation(e.entity("component:default/x"), "ownedBy", "group:default/team-b") {
			t.Error("the losing claimant's relations are served")
		}
		e.entity("component:default/y")
		// Re-crawls keep the same winner.
		e.crawl(l2)
		e.crawl(l1)
		e.wantError(l2.ID, fileRef(second), "ConflictError")
		if p := e.provenance("component:default/x"); p.RootID != l1.ID {
			t.Errorf("x moved to root %s", p.RootID)
		}
		// Once the first root lets go, the second claims it on its next crawl.
		e.write("first.yaml", fmt.Sprintf(componentTmpl, "z", "renamed", "team-a"))
		e.crawl(l1)
		e.absent("component:default/x")
		e.crawl(l2)
		e.noErrors(l2.ID)
		if x := e.entity("component:default/x"); x.Metadata.Description != "from second" {
			t.Errorf("x after the first root dropped it: %q", x.Metadata.Description)
		}
	})
	t.Run("one crawl", func(t *testing.T) {
		e := newCrawlEnv(t)
		e.write("a.yaml", fmt.Sprintf(componentTmpl, "x", "from a", "team-a"))
		b := e.write("b.yaml", fmt.Sprintf(componentTmpl, "x", "from b", "team-a"))
		root := e.write("root.yaml", locationYAML("root", "./a.yaml", "./b.yaml"))
		l := e.add("file", root)
		cs := e.crawl(l)
		if cs.Apply.Conflicts != 1 {
			t.Errorf("conflicts = %d, want 1", cs.Apply.Conflicts)
		}
		e.wantError(l.ID, fileRef(b), "ConflictError", "component:default/x")
		if x := e.entity("component:default/x"); x.Metadata.Annotations[catalog.AnnotationLocation] != fileRef(e.path("a.yaml")) {
			t.Errorf("x managed by %s, want a.yaml", x.Metadata.Annotations[catalog.AnnotationLocation])
		}
		// The conflict is reported on every crawl, not hidden by the
		// unchanged-file shortcut.
		e.crawl(l)
		e.wantError(l.ID, fileRef(b), "ConflictError")
	})
}

// TestOrphans: an entity no longer emitted is deleted, or kept and marked
// orphan, as the store's OrphanStrategy says.
func TestOrphans(t *testing.T) {
	group := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n---\n"
	two := group + fmt.Sprintf(componentTmpl, "stays", "s", "team-a") + "---\n" + fmt.Sprintf(componentTmpl, "goes", "g", "team-a")
	one := group + fmt.Sprintf(componentTmpl, "stays", "s", "team-a")
	orphanRows := func(e *crawlEnv) map[string]string {
		rows, err := e.db().QueryContext(e.ctx, `SELECT e.ref, s.value FROM search s JOIN entities e ON e.id = s.entity_id WHERE s.key = 'metadata.annotations.backstage.io/orphan'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var ref, v string
			if err := rows.Scan(&ref, &v); err != nil {
				t.Fatal(err)
			}
			out[ref] = v
		}
		return out
	}

	t.Run("delete", func(t *testing.T) {
		e := newCrawlEnv(t)
		p := e.write("c.yaml", two)
		l := e.add("file", p)
		e.crawl(l)
		e.entity("component:default/goes")
		e.write("c.yaml", one)
		cs := e.crawl(l)
		if cs.Apply.Removed != 1 {
			t.Errorf("removed = %d, want 1", cs.Apply.Removed)
		}
		e.absent("component:default/goes")
		e.entity("component:default/stays")
		if hasRelation(e.entity("group:default/team-a"), "ownerOf", "component:default/goes") {
			t.Error("a deleted entity's relation is still served")
		}
		if got := orphanRows(e); len(got) != 0 {
			t.Errorf("orphan rows %v", got)
		}
	})
	t.Run("keep", func(t *testing.T) {
		e := newCrawlEnv(t)
		e.st.OrphanStrategy = "keep"
		p := e.write("c.yaml", two)
		l := e.add("file", p)
		e.crawl(l)
		before := e.entity("component:default/goes")
		e.write("c.yaml", one)
		cs := e.crawl(l)
		if cs.Apply.Orphaned != 1 || cs.Apply.Removed != 0 {
			t.Errorf("apply %+v, want 1 orphaned", cs.Apply)
		}
		goes := e.entity("component:default/goes")
		if goes.Metadata.Annotations[catalog.AnnotationOrphan] != "true" {
			t.Errorf("annotations %v, want the orphan mark", goes.Metadata.Annotations)
		}
		if goes.Metadata.UID != before.Metadata.UID || goes.Metadata.Etag == before.Metadata.Etag {
			t.Errorf("orphaning: uid %s->%s etag %s->%s", before.Metadata.UID, goes.Metadata.UID, before.Metadata.Etag, goes.Metadata.Etag)
		}
		if !e.provenance("component:default/goes").Orphan {
			t.Error("provenance does not say orphan")
		}
		if got := orphanRows(e); !reflect.DeepEqual(got, map[string]string{"component:default/goes": "true"}) {
			t.Errorf("orphan filter rows %v", got)
		}
		if _, ok := e.entity("component:default/stays").Metadata.Annotations[catalog.AnnotationOrphan]; ok {
			t.Error("stays is marked orphan")
		}
		// A second crawl keeps the mark without writing.
		cs = e.crawl(l)
		if cs.Apply.Changed() {
			t.Errorf("second crawl of an orphan wrote: %+v", cs.Apply)
		}
		// Re-adding the entity removes the mark and its filter row.
		e.write("c.yaml", two)
		e.crawl(l)
		goes = e.entity("component:default/goes")
		if _, ok := goes.Metadata.Annotations[catalog.AnnotationOrphan]; ok {
			t.Errorf("re-added entity still orphan: %v", goes.Metadata.Annotations)
		}
		if e.provenance("component:default/goes").Orphan {
			t.Error("provenance still says orphan")
		}
		if got := orphanRows(e); len(got) != 0 {
			t.Errorf("orphan rows after re-adding: %v", got)
		}
		if goes.Metadata.UID != before.Metadata.UID {
			t.Error("re-adding an orphan changed its uid")
		}
	})
}

// TestDeleteLocation removes everything a root emitted and the relations
// it gave other roots' entities.
func TestDeleteLocation(t *testing.T) {
	e := newCrawlEnv(t)
	groups := e.write("groups.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n")
	dir := e.copyFixture("graph")
	rootFile := filepath.Join(dir, "catalog-info.yaml")
	// graph/team.yaml also emits team-a: drop it from the graph so the
	// group is owned by the groups root only.
	os.Remove(filepath.Join(dir, "team.yaml"))
	e.write("graph/catalog-info.yaml", locationYAML("root", "./services/**/catalog-info.yaml", "./nested/location.yaml"))
	lg := e.add("file", groups)
	lc := e.add("file", rootFile)
	e.crawl(lg)
	e.crawl(lc)
	if !hasRelation(e.entity("group:default/team-a"), "ownerOf", "component:default/billing") {
		t.Fatal("team-a does not own billing before the delete")
	}
	if err := e.st.DeleteLocation(e.ctx, lc.ID); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{rootRef("file", rootFile), "location:default/root", "component:default/billing", "api:default/billing-api", "system:default/platform", "location:default/nested"} {
		e.absent(ref)
	}
	team := e.entity("group:default/team-a")
	if len(team.Relations) != 0 {
		t.Errorf("team-a keeps relations of the deleted root: %v", relationStrings(team))
	}
	if _, err := e.st.Location(e.ctx, lc.ID); err != store.ErrNotFound {
		t.Errorf("deleted location: %v", err)
	}
	if err := e.st.DeleteLocation(e.ctx, lc.ID); err != store.ErrNotFound {
		t.Errorf("deleting twice: %v", err)
	}
	got := e.refs()
	want := []string{"group:default/team-a", rootRef("file", groups)}
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
}

// TestCatalogRules: with Backstage's default rules a file with a User
// fails, and Components and APIs from other files are stored.
func TestCatalogRules(t *testing.T) {
	e := newCrawlEnv(t)
	e.crawler.Rules = catalog.DefaultRules()
	dir := e.copyFixture("rules")
	rootFile := filepath.Join(dir, "catalog-info.yaml")
	l := e.add("file", rootFile)
	e.crawl(l)
	e.wantError(l.ID, fileRef(filepath.Join(dir, "users.yaml")), "NotAllowedError", "user:default/bob", fileRef(rootFile))
	e.entity("component:default/allowed")
	e.entity("api:default/allowed-api")
	e.entity("location:default/rules")
	e.absent("user:default/bob")
	if errs := e.errors(l.ID); len(errs) != 1 {
		t.Errorf("errors:\n%s", formatErrors(errs))
	}
	// A file that mixes allowed and disallowed kinds fails as a whole.
	e.write("rules/components.yaml", mustRead(t, filepath.Join(dir, "components.yaml"))+"---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: g\nspec:\n  type: team\n  children: []\n")
	e.crawl(l)
	e.wantError(l.ID, fileRef(filepath.Join(dir, "components.yaml")), "NotAllowedError", "group:default/g")
	e.absent("group:default/g")
	// ... and its entities keep their last good version.
	e.entity("component:default/allowed")
}

// TestUIDAndEtag: uids survive re-crawls; etags change exactly when the
// served entity does.
func TestUIDAndEtag(t *testing.T) {
	e := newCrawlEnv(t)
	p := e.write("c.yaml", fmt.Sprintf(componentTmpl, "svc", "v1", "team-a")+"---\n"+fmt.Sprintf(componentTmpl, "other", "o", "team-a"))
	l := e.add("file", p)
	e.crawl(l)
	v1, other1 := e.entity("component:default/svc"), e.entity("component:default/other")

	e.crawl(l)
	v1b := e.entity("component:default/svc")
	if v1b.Metadata.UID != v1.Metadata.UID || v1b.Metadata.Etag != v1.Metadata.Etag {
		t.Errorf("unchanged re-crawl: uid %s->%s etag %s->%s", v1.Metadata.UID, v1b.Metadata.UID, v1.Metadata.Etag, v1b.Metadata.Etag)
	}

	e.write("c.yaml", fmt.Sprintf(componentTmpl, "svc", "v2", "team-a")+"---\n"+fmt.Sprintf(componentTmpl, "other", "o", "team-a"))
	e.crawl(l)
	v2, other2 := e.entity("component:default/svc"), e.entity("component:default/other")
	if v2.Metadata.UID != v1.Metadata.UID {
		t.Errorf("uid changed on edit: %s -> %s", v1.Metadata.UID, v2.Metadata.UID)
	}
	if v2.Metadata.Etag == v1.Metadata.Etag {
		t.Error("etag unchanged after the description changed")
	}
	if other2.Metadata.Etag != other1.Metadata.Etag {
		t.Error("the untouched entity's etag changed")
	}

	// A new relation from elsewhere changes the etag too.
	dep := e.write("dep.yaml", strings.Replace(fmt.Sprintf(componentTmpl, "dep", "d", "team-a"), "spec:\n", "spec:\n  dependsOn: [component:default/svc]\n", 1))
	l2 := e.add("file", dep)
	e.crawl(l2)
	v3 := e.entity("component:default/svc")
	if !hasRelation(v3, "dependencyOf", "component:default/dep") {
		t.Fatalf("svc relations %v", relationStrings(v3))
	}
	if v3.Metadata.Etag == v2.Metadata.Etag || v3.Metadata.UID != v1.Metadata.UID {
		t.Errorf("new relation: etag %s -> %s, uid %s", v2.Metadata.Etag, v3.Metadata.Etag, v3.Metadata.UID)
	}
	// The author's own uid and etag are ignored.
	e.write("c.yaml", strings.Replace(fmt.Sprintf(componentTmpl, "svc", "v2", "team-a"), "metadata:\n", "metadata:\n  uid: mine\n  etag: mine\n", 1))
	e.crawl(l)
	if v4 := e.entity("component:default/svc"); v4.Metadata.UID != v1.Metadata.UID || v4.Metadata.Etag == "mine" {
		t.Errorf("author uid/etag: %s %s", v4.Metadata.UID, v4.Metadata.Etag)
	}
	// Two entities never share a uid.
	if other2.Metadata.UID == v1.Metadata.UID {
		t.Error("two entities share a uid")
	}
}

// TestIncremental: an unchanged tree writes nothing; editing one file
// changes only its entities.
func TestIncremental(t *testing.T) {
	e := newCrawlEnv(t)
	dir := e.copyFixture("graph")
	l := e.add("file", filepath.Join(dir, "catalog-info.yaml"))
	first := e.crawl(l)
	total := first.Apply.Added

	cs := e.crawl(l)
	if cs.Apply.Changed() || cs.Apply.Unchanged != total || cs.Apply.Added+cs.Apply.Updated+cs.Apply.Removed != 0 {
		t.Errorf("unchanged re-crawl: %+v, want %d unchanged", cs.Apply, total)
	}

	// One file changes: only its entity is updated.
	e.write("graph/services/deep/er/catalog-info.yaml", fmt.Sprintf(componentTmpl, "deep", "edited", "user:default/alice"))
	cs = e.crawl(l)
	if cs.Apply.Updated != 1 || cs.Apply.Added != 0 || cs.Apply.Removed != 0 || cs.Apply.Unchanged != total-1 {
		t.Errorf("one edit: %+v, want 1 updated and %d unchanged", cs.Apply, total-1)
	}
	if d := e.entity("component:default/deep").Metadata.Description; d != "edited" {
		t.Errorf("description %q", d)
	}

	// A new file under the glob: one added.
	e.write("graph/services/new/catalog-info.yaml", fmt.Sprintf(componentTmpl, "new", "n", "team-a"))
	cs = e.crawl(l)
	if cs.Apply.Added != 1 || cs.Apply.Updated != 0 || cs.Apply.Removed != 0 {
		t.Errorf("new file: %+v", cs.Apply)
	}
	// The file goes away: one removed, and team-a no longer owns it.
	os.RemoveAll(e.path("graph/services/new"))
	cs = e.crawl(l)
	if cs.Apply.Removed != 1 || cs.Apply.Added != 0 || cs.Apply.Updated != 0 {
		t.Errorf("removed file: %+v", cs.Apply)
	}
	if hasRelation(e.entity("group:default/team-a"), "ownerOf", "component:default/new") {
		t.Error("team-a still owns the removed component")
	}
	cs = e.crawl(l)
	if cs.Apply.Changed() {
		t.Errorf("settled re-crawl wrote: %+v", cs.Apply)
	}
}
