package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/generate"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// benchmarkIngest measures a first ingest of a generated catalog of n
// entities into an empty SQLite store, and then a re-ingest of the same,
// unchanged catalog (which must write nothing).
func benchmarkIngest(b *testing.B, n int) {
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := generate.Write(dir, n, 1); err != nil {
		b.Fatal(err)
	}
	root := catalog.LocationSpec{Type: "file", Target: filepath.Join(dir, "all.yaml")}
	crawler := &ingest.Crawler{Reader: &ingest.Reader{}}
	b.Run("first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("c%d.db", i)))
			if err != nil {
				b.Fatal(err)
			}
			loc, _, err := st.AddLocation(ctx, root.Type, root.Target, "config")
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.StartTimer()
			a, err := st.BeginApply(ctx, loc.ID)
			if err != nil {
				b.Fatal(err)
			}
			cs, err := crawler.Crawl(ctx, root, a)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if cs.Apply.Added != n+2 || cs.Errors != 0 {
				b.Fatalf("crawl: %+v", cs)
			}
			st.Close()
		}
		b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "entities/s")
	})
	b.Run("unchanged", func(b *testing.B) {
		st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "c.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		loc, _, _ := st.AddLocation(ctx, root.Type, root.Target, "config")
		a, _ := st.BeginApply(ctx, loc.ID)
		if _, err := crawler.Crawl(ctx, root, a); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			a, err := st.BeginApply(ctx, loc.ID)
			if err != nil {
				b.Fatal(err)
			}
			cs, err := crawler.Crawl(ctx, root, a)
			if err != nil {
				b.Fatal(err)
			}
			if cs.Apply.Changed() {
				b.Fatalf("re-ingest of an unchanged catalog wrote: %+v", cs.Apply)
			}
		}
	})
}

func BenchmarkIngest10k(b *testing.B)  { benchmarkIngest(b, 10_000) }
func BenchmarkIngest100k(b *testing.B) { benchmarkIngest(b, 100_000) }
