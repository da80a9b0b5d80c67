package ingest_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// crawlEnv is a store in a temp directory, a crawler, and a temp tree of
// catalog files the test writes or copies from testdata/crawl.
type crawlEnv struct {
	t       *testing.T
	ctx     context.Context
	dir     string // the catalog files
	dbPath  string
	st      *store.Store
	crawler *ingest.Crawler
}

func newCrawlEnv(t *testing.T) *crawlEnv {
	t.Helper()
	base := t.TempDir()
	e := &crawlEnv{t: t, ctx: context.Background(), dir: filepath.Join(base, "tree"), dbPath: filepath.Join(base, "catalog.db")}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(e.ctx, e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.crawler = &ingest.Crawler{Reader: &ingest.Reader{}, Workers: 4}
	return e
}

// copyFixture copies testdata/crawl/<name> into the env's tree and returns
// the copy's absolute path.
func (e *crawlEnv) copyFixture(name string) string {
	e.t.Helper()
	src := filepath.Join("testdata", "crawl", name)
	dst := filepath.Join(e.dir, name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return dst
}

// write writes a file (relative to the tree) and returns its absolute path.
func (e *crawlEnv) write(rel, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *crawlEnv) path(rel string) string { return filepath.Join(e.dir, filepath.FromSlash(rel)) }

// add registers a root location.
func (e *crawlEnv) add(typ, target string) store.Location {
	e.t.Helper()
	l, _, err := e.st.AddLocation(e.ctx, typ, target, "config")
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// crawl crawls one root location and commits.
func (e *crawlEnv) crawl(l store.Location) ingest.CrawlStats {
	e.t.Helper()
	a, err := e.st.BeginApply(e.ctx, l.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	cs, err := e.crawler.Crawl(e.ctx, catalog.LocationSpec{Type: l.Type, Target: l.Target}, a)
	if err != nil {
		e.t.Fatalf("crawl %s: %v", l.Target, err)
	}
	return cs
}

func (e *crawlEnv) entity(ref string) *catalog.Entity {
	e.t.Helper()
	ent, err := e.st.Entity(e.ctx, ref)
	if err != nil {
		e.t.Fatalf("entity %s: %v", ref, err)
	}
	return ent
}

func (e *crawlEnv) absent(ref string) {
	e.t.Helper()
	if _, err := e.st.Entity(e.ctx, ref); !errors.Is(err, store.ErrNotFound) {
		e.t.Errorf("entity %s: got err %v, want it absent", ref, err)
	}
}

func (e *crawlEnv) provenance(ref string) store.Provenance {
	e.t.Helper()
	p, err := e.st.Provenance(e.ctx, ref)
	if err != nil {
		e.t.Fatalf("provenance %s: %v", ref, err)
	}
	return p
}

func (e *crawlEnv) errors(rootID string) []store.ProcessingError {
	e.t.Helper()
	errs, err := e.st.Errors(e.ctx, rootID)
	if err != nil {
		e.t.Fatal(err)
	}
	return errs
}

// wantError fails unless one error of the root has the location and every
// one of the message fragments.
func (e *crawlEnv) wantError(rootID, location string, fragments ...string) store.ProcessingError {
	e.t.Helper()
	errs := e.errors(rootID)
	for _, pe := range errs {
		if location != "" && pe.Location != location {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(pe.Message, f) {
				ok = false
			}
		}
		if ok {
			return pe
		}
	}
	e.t.Errorf("no error at %q containing %q; errors:\n%s", location, fragments, formatErrors(errs))
	return store.ProcessingError{}
}

func (e *crawlEnv) noErrors(rootID string) {
	e.t.Helper()
	if errs := e.errors(rootID); len(errs) > 0 {
		e.t.Errorf("unexpected errors:\n%s", formatErrors(errs))
	}
}

func formatErrors(errs []store.ProcessingError) string {
	var b strings.Builder
	for _, pe := range errs {
		b.WriteString("  " + pe.Location + " [" + pe.EntityRef + "]: " + pe.Message + "\n")
	}
	return b.String()
}

// refs lists every stored entity ref.
func (e *crawlEnv) refs() []string {
	e.t.Helper()
	var out []string
	if err := e.st.EachEntity(e.ctx, func(ref string, _ []byte) error {
		out = append(out, ref)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// db opens a second connection to the store's database, to check what the
// API would query.
func (e *crawlEnv) db() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.dbPath+"?_busy_timeout=10000")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func fileRef(p string) string { return "file:" + p }

// rootRef is the ref of the generated Location entity of a root location.
func rootRef(typ, target string) string {
	return ingest.RootEntity(catalog.LocationSpec{Type: typ, Target: target}).Ref().String()
}

// hasRelation reports whether the entity serves the relation.
func hasRelation(ent *catalog.Entity, typ, target string) bool {
	for _, r := range ent.Relations {
		if r.Type == typ && r.TargetRef == target {
			return true
		}
	}
	return false
}

func relationStrings(ent *catalog.Entity) []string {
	var out []string
	for _, r := range ent.Relations {
		out = append(out, r.Type+" "+r.TargetRef)
	}
	sort.Strings(out)
	return out
}

const componentTmpl = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: %s
spec:
  type: service
  lifecycle: production
  owner: %s
`

// locationYAML is a Location entity with the given targets.
func locationYAML(name string, targets ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: " + name + "\nspec:\n  targets:\n")
	for _, t := range targets {
		b.WriteString("    - " + t + "\n")
	}
	return b.String()
}
