package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/techdocs"
)

// openSearch opens the search index in the data directory and its feeder
// from the catalog store. A missing index, or one of an older mapping, is
// created empty (Fresh): the first Sync fills it.
func openSearch(a *app) (*search.Index, *search.Syncer, error) {
	ix, err := search.Open(filepath.Join(a.cfg.DataDir, "search"))
	if err != nil {
		return nil, nil, err
	}
	sy := search.NewSyncer(ix, a.store)
	sy.Log = a.log
	return ix, sy, nil
}

// cmdReindex rebuilds the search index from the catalog store.
func cmdReindex(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, _, code := startCommand(ctx, "reindex", args, stderr)
	if a == nil {
		return code
	}
	defer a.close()
	ix, sy, err := openSearch(a)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom reindex: %v\n", err)
		return 1
	}
	defer ix.Close()
	start := time.Now()
	if err := ix.Reset(); err != nil {
		fmt.Fprintf(stderr, "greenroom reindex: %v\n", err)
		return 1
	}
	if err := sy.Sync(ctx); err != nil {
		fmt.Fprintf(stderr, "greenroom reindex: %v\n", err)
		return 1
	}
	docs := a.docs()
	if err := (&techdocs.Indexer{Service: docs, Index: ix, Catalog: a.store, Log: a.log}).Sync(ctx); err != nil {
		fmt.Fprintf(stderr, "greenroom reindex: docs: %v\n", err)
		return 1
	}
	n, _ := ix.Count()
	fmt.Fprintf(stdout, "%d documents indexed in %s, %.1f MiB on disk\n", n, time.Since(start).Round(time.Millisecond), float64(ix.SizeOnDisk())/(1<<20))
	return 0
}
