package search_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/generate"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/search"
)

// BenchmarkSearch builds the index from a store holding a generated
// catalog (GREENROOM_BENCH_ENTITIES, default 100,000) and measures
// queries: one and two words, typos, typeahead prefixes, and the same
// with every facet counted. Reports p50/p99 per case, the build time and
// the index's size on disk.
func BenchmarkSearch(b *testing.B) {
	n := 100_000
	if s := os.Getenv("GREENROOM_BENCH_ENTITIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := generate.Write(filepath.Join(dir, "catalog"), n, 1); err != nil {
		b.Fatal(err)
	}
	st := ingesttest.Ingest(b, dir, filepath.Join(dir, "catalog", "all.yaml")).Store
	ix, err := search.Open(filepath.Join(dir, "search"))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	start := time.Now()
	if err := search.NewSyncer(ix, st).Sync(ctx); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	count, _ := ix.Count()
	size := ix.SizeOnDisk()
	msg := fmt.Sprintf("index of %d documents built from the store in %v; %.0f MiB on disk", count, build.Round(time.Millisecond), float64(size)/(1<<20))
	b.Log(msg)
	fmt.Fprintln(os.Stderr, msg)

	one := []string{"payments", "gateway", "ledger", "orders", "inventory", "checkout", "fraud", "scheduler", "identity", "warehouse"}
	two := []string{"payments gateway", "orders worker", "search indexer", "billing ledger", "inventory sync", "fraud engine", "cart cache", "tax exporter"}
	typos := []string{"paymnets", "invetory", "shiping", "recomendations", "subscriptons"}
	prefixes := []string{"pay", "ord", "inv", "chec", "ledg", "fra", "sea", "bil"}
	cases := []struct {
		name   string
		terms  []string
		prefix bool
		facets bool
	}{
		{"one-word", one, false, false},
		{"two-words", two, false, false},
		{"typo", typos, false, false},
		{"typeahead", prefixes, true, false},
		{"one-word+facets", one, false, true},
		{"two-words+facets", two, false, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				q := search.Query{Term: c.terms[i%len(c.terms)], Prefix: c.prefix, Limit: 25}
				if c.prefix {
					q.Limit = 8
				}
				if c.facets {
					q.Facets, q.FacetSize = search.Facets, 10
				}
				t0 := time.Now()
				r, err := ix.Search(ctx, q)
				times = append(times, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if r.Total == 0 {
					b.Fatalf("%q found nothing", q.Term)
				}
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
