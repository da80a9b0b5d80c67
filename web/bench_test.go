package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/generate"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/web"
)

// BenchmarkPages measures server time of the catalog and entity pages on
// a generated catalog (GREENROOM_BENCH_ENTITIES, default 100,000): each
// iteration is one request through the router to a recorder, cycling
// through different filters and entities so no single answer is cached.
// Reports p50/p99 per page and the largest catalog page in KB.
func BenchmarkPages(b *testing.B) {
	n := 100_000
	if s := os.Getenv("GREENROOM_BENCH_ENTITIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := generate.Write(filepath.Join(dir, "catalog"), n, 1); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	c := ingesttest.Ingest(b, dir, filepath.Join(dir, "catalog", "all.yaml"))
	st, eng := c.Store, c.Engine
	b.Logf("ingested %d entities in %v", n, time.Since(start).Round(time.Millisecond))
	h := (&web.Server{Catalog: st, Ingester: eng}).Handler()

	pick := func(kind string, limit int) []string {
		rows, _, err := st.Query(ctx, store.QueryRequest{Filter: store.Field{Key: "kind", Values: []string{kind}}, SortField: "metadata.name", Limit: limit})
		if err != nil {
			b.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			var e struct {
				Metadata struct{ Name, Namespace string }
			}
			if err := jsonUnmarshal(r.Final, &e); err != nil {
				b.Fatal(err)
			}
			out = append(out, "/catalog/"+e.Metadata.Namespace+"/"+kind+"/"+e.Metadata.Name)
		}
		return out
	}
	facets, err := st.Facets(ctx, []string{"spec.type", "relations.ownedBy", "metadata.tags"}, store.Field{Key: "kind", Values: []string{"component"}})
	if err != nil {
		b.Fatal(err)
	}
	var filtered, texts []string
	for _, f := range facets["spec.type"] {
		filtered = append(filtered, "/catalog?kind=component&type="+f.Value)
	}
	for i, f := range facets["relations.ownedBy"] {
		if i < 50 {
			filtered = append(filtered, "/catalog?kind=component&owner="+f.Value)
		}
	}
	for i, f := range facets["metadata.tags"] {
		if i < 20 {
			filtered = append(filtered, "/catalog?kind=component&lifecycle=production&tag="+f.Value+"&page=2")
			texts = append(texts, "/catalog?kind=component&q="+f.Value[:min(len(f.Value), 4)])
		}
	}

	cases := []struct {
		name string
		urls []string
	}{
		{"catalog-filter", filtered},
		{"catalog-text", texts},
		{"catalog-all-kinds", []string{"/catalog?kind=", "/catalog?kind=&page=40", "/catalog?kind=component&sort=-name"}},
		{"entity-component", pick("component", 300)},
		{"entity-api", pick("api", 100)},
		{"entity-group", pick("group", 100)},
		{"entity-user", pick("user", 100)},
		{"entity-system", pick("system", 100)},
	}
	maxKB := 0
	for _, c := range cases {
		if len(c.urls) == 0 {
			b.Fatalf("%s: nothing to request", c.name)
		}
		b.Run(c.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			var slowest string
			var slowestT time.Duration
			for i := 0; i < b.N; i++ {
				u := c.urls[i%len(c.urls)]
				req := httptest.NewRequest(http.MethodGet, u, nil)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				d := time.Since(t0)
				times = append(times, d)
				if d > slowestT && i >= len(c.urls) { // after each URL's first (cold) view
					slowest, slowestT = u, d
				}
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", u, rec.Code)
				}
				if kb := rec.Body.Len() >> 10; c.name[:7] == "catalog" && kb > maxKB {
					maxKB = kb
				}
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(ms(times[len(times)/2]), "p50-ms")
			b.ReportMetric(ms(times[len(times)*99/100]), "p99-ms")
			if slowest != "" {
				b.Logf("slowest warm view: %s in %v", slowest, slowestT)
			}
		})
	}
	b.Logf("largest catalog page: %d KB", maxKB)
	fmt.Fprintf(os.Stderr, "largest catalog page: %d KB\n", maxKB)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
