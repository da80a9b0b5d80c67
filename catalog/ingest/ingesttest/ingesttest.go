// Package ingesttest sets up catalogs for tests elsewhere: descriptor
// files on disk, ingested once into a SQLite store by a real engine.
package ingesttest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Catalog is a store and the engine that filled it.
type Catalog struct {
	Store  *store.Store
	Engine *ingest.Engine
}

// Ingest opens a SQLite store in dir (catalog.db), registers the root
// files as config locations and crawls them once. Every kind is allowed;
// url locations are read from loopback test servers only (LoopbackFetcher)
// and git ones cloned into dir/git.
func Ingest(t testing.TB, dir string, roots ...string) *Catalog {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := &ingest.Engine{
		Store: st,
		Crawler: &ingest.Crawler{
			Reader: &ingest.Reader{Fetcher: LoopbackFetcher{}, GitDir: filepath.Join(dir, "git")},
			Rules:  catalog.AllowAll(),
		},
	}
	var locs []catalog.LocationSpec
	for _, r := range roots {
		locs = append(locs, catalog.LocationSpec{Type: "file", Target: r})
	}
	if err := eng.SyncConfigLocations(ctx, locs); err != nil {
		t.Fatal(err)
	}
	if err := eng.CrawlAll(ctx); err != nil {
		t.Fatal(err)
	}
	return &Catalog{Store: st, Engine: eng}
}
