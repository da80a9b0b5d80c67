package search_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// fixture is the demo catalog ingested into a store, and an index synced
// from it.
type fixture struct {
	dir    string
	store  *store.Store
	engine *ingest.Engine
	index  *search.Index
	syncer *search.Syncer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	root, err := demo.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := ingesttest.Ingest(t, dir, root)
	st, eng := c.Store, c.Engine
	f := &fixture{dir: dir, store: st, engine: eng}
	f.open(t)
	return f
}

func (f *fixture) open(t testing.TB) {
	t.Helper()
	ix, err := search.Open(filepath.Join(f.dir, "search"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	f.index, f.syncer = ix, search.NewSyncer(ix, f.store)
	if err := f.syncer.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) search(t *testing.T, q search.Query) *search.Result {
	t.Helper()
	r, err := f.index.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return r
}

func locations(r *search.Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Location)
	}
	return out
}

func rankOf(r *search.Result, location string) int {
	for i, h := range r.Hits {
		if h.Location == location {
			return i + 1
		}
	}
	return 0
}

func TestRanking(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		term, first string
	}{
		// An exact name beats descriptions that mention it.
		{"payment-gateway", "/catalog/default/component/payment-gateway"},
		{"orders-db", "/catalog/default/resource/orders-db"},
		// Title words beat description mentions.
		{"cart service", "/catalog/default/component/cart-service"},
		// A typo still finds it.
		{"paymnet gateway", "/catalog/default/component/payment-gateway"},
		{"recomendations", "/catalog/default/component/recommendations"},
	}
	for _, c := range cases {
		r := f.search(t, search.Query{Term: c.term})
		if len(r.Hits) == 0 || r.Hits[0].Location != c.first {
			t.Errorf("%q: first %v, want %s", c.term, locations(r), c.first)
		}
	}
	// A description mention is found, below the exact name.
	r := f.search(t, search.Query{Term: "kafka", Limit: 50})
	if rankOf(r, "/catalog/default/resource/kafka-main") == 0 || rankOf(r, "/catalog/default/component/order-events-relay") == 0 {
		t.Errorf("kafka: %v", locations(r))
	}
}

func TestPrefixPhraseAndHighlights(t *testing.T) {
	f := newFixture(t)
	r := f.search(t, search.Query{Term: "paym", Prefix: true, Limit: 8})
	if rankOf(r, "/catalog/default/component/payment-gateway") == 0 {
		t.Errorf("typeahead 'paym': %v", locations(r))
	}
	if r := f.search(t, search.Query{Term: "paym"}); r.Total != 0 {
		t.Errorf("'paym' without prefix matched %v", locations(r))
	}
	// A phrase must stand as written.
	r = f.search(t, search.Query{Term: `"design system"`})
	if rankOf(r, "/catalog/default/component/basil-ui") != 1 {
		t.Errorf("phrase: %v", locations(r))
	}
	h := r.Hits[0].Highlights["text"]
	if !strings.Contains(strings.ToLower(h), "<mark>design</mark> <mark>system</mark>") {
		t.Errorf("highlight %q", h)
	}
}

func TestFacetsAndFilters(t *testing.T) {
	f := newFixture(t)
	counts, err := f.store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := f.search(t, search.Query{Facets: search.Facets, FacetSize: 50})
	total := 0
	for _, n := range counts {
		total += n
	}
	if r.Total != total {
		t.Errorf("empty term matched %d of %d", r.Total, total)
	}
	kinds := map[string]int{}
	for _, v := range r.Facets[search.FacetKind] {
		kinds[v.Value] = v.Count
	}
	for k, n := range counts {
		if kinds[k] != n {
			t.Errorf("kind facet %s = %d, store has %d", k, kinds[k], n)
		}
	}
	// Filters narrow, facets count what matches.
	r = f.search(t, search.Query{Term: "service", Filters: map[string][]string{search.FacetKind: {"Component"}, search.FacetLifecycle: {"production"}},
		Facets: []string{search.FacetKind, search.FacetLifecycle}, Limit: 100})
	if r.Total == 0 {
		t.Fatal("no production components for 'service'")
	}
	for _, h := range r.Hits {
		if h.Kind != "Component" || h.Lifecycle != "production" {
			t.Errorf("filtered hit %s: %s/%s", h.Location, h.Kind, h.Lifecycle)
		}
	}
	if fk := r.Facets[search.FacetKind]; len(fk) != 1 || fk[0].Count != r.Total {
		t.Errorf("kind facet under filter: %+v (total %d)", fk, r.Total)
	}
	r = f.search(t, search.Query{Filters: map[string][]string{search.FacetOwner: {"team-platform"}, search.FacetTags: {"go"}}, Limit: 100})
	if len(r.Hits) == 0 {
		t.Fatal("owner+tag filter: no hits")
	}
	for _, h := range r.Hits {
		if h.Owner != "team-platform" || !contains(h.Tags, "go") {
			t.Errorf("owner+tag filter: %s owner %s tags %v", h.Location, h.Owner, h.Tags)
		}
	}
	// The system facet counts what its filter selects.
	r = f.search(t, search.Query{Facets: []string{search.FacetSystem}, Limit: 1})
	sys := r.Facets[search.FacetSystem]
	if len(sys) == 0 {
		t.Fatal("system facet: no values")
	}
	r = f.search(t, search.Query{Filters: map[string][]string{search.FacetSystem: {sys[0].Value}}, Limit: 1})
	if r.Total != sys[0].Count {
		t.Errorf("system %s: facet counts %d, filter finds %d", sys[0].Value, sys[0].Count, r.Total)
	}
	if _, err := f.index.Search(context.Background(), search.Query{Filters: map[string][]string{"nope": {"x"}}}); err == nil {
		t.Error("unknown filter accepted")
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

// Whatever people type: an answer or a clear error, never a failure.
func TestHostileTerms(t *testing.T) {
	f := newFixture(t)
	for _, term := range []string{"", " ", `"`, `"unbalanced`, "a:b", "name:payment-gateway", "*", "pay*", "~", "payment~2",
		"(", "[)", "{}", "+-!", `\`, "AND OR NOT", "<script>", "💳", strings.Repeat("x", 100)} {
		if _, err := f.index.Search(context.Background(), search.Query{Term: term, Prefix: true, Facets: search.Facets}); err != nil {
			t.Errorf("%q: %v", term, err)
		}
	}
	if r := f.search(t, search.Query{Term: "payment:gateway*"}); rankOf(r, "/catalog/default/component/payment-gateway") != 1 {
		t.Errorf("query syntax is not text: %v", locations(r))
	}
	if _, err := f.index.Search(context.Background(), search.Query{Term: strings.Repeat("x", 101)}); err != search.ErrTermTooLong {
		t.Errorf("101 characters: %v", err)
	}
	r := f.search(t, search.Query{Term: "<script>alert(1)</script> payment"})
	for _, h := range r.Hits {
		for _, s := range h.Highlights {
			if strings.Contains(s, "<script") {
				t.Errorf("highlight not escaped: %q", s)
			}
		}
	}
}

// A changed, added or removed entity is searchable as such after one
// Sync; the demo's watcher-driven flow is the same.
func TestIncrementalUpdates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	file := filepath.Join(f.dir, "catalog", "components", "payments.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "title: Payment gateway", "title: Zanzibar checkout bridge", 1)
	edited += "\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: quokka-ledger\n  description: Keeps the quokka accounts.\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-payments\n"
	edited = strings.Replace(edited, "name: fraud-scoring", "name: fraud-scoring-renamed", 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := f.engine.CrawlAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.syncer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("crawl + index sync: %v", time.Since(start))
	if r := f.search(t, search.Query{Term: "zanzibar"}); rankOf(r, "/catalog/default/component/payment-gateway") != 1 {
		t.Errorf("changed title not found: %v", locations(r))
	}
	if r := f.search(t, search.Query{Term: "quokka"}); rankOf(r, "/catalog/default/component/quokka-ledger") != 1 {
		t.Errorf("added entity not found: %v", locations(r))
	}
	if r := f.search(t, search.Query{Term: "fraud-scoring"}); rankOf(r, "/catalog/default/component/fraud-scoring") != 0 || rankOf(r, "/catalog/default/component/fraud-scoring-renamed") != 1 {
		t.Errorf("removed entity still found: %v", locations(r))
	}
	// The change log was consumed (its newest entry stays, to keep seqs growing).
	if ch, err := f.store.Changes(ctx, 0, 10); err != nil || len(ch) > 1 {
		t.Errorf("change log after sync: %v %v", ch, err)
	}
}

// The index is rebuilt from the store when it is missing or of another
// mapping version, and survives a restart without a rebuild.
func TestRebuild(t *testing.T) {
	f := newFixture(t)
	before := f.search(t, search.Query{Term: "payment"}).Total
	f.index.Close()
	// Reopened: not fresh, same answers.
	f.open(t)
	if f.index.Fresh {
		t.Error("a current index was rebuilt")
	}
	if got := f.search(t, search.Query{Term: "payment"}).Total; got != before {
		t.Errorf("after reopen %d, before %d", got, before)
	}
	f.index.Close()
	// Missing: rebuilt.
	if err := os.RemoveAll(filepath.Join(f.dir, "search")); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if got := f.search(t, search.Query{Term: "payment"}).Total; got != before {
		t.Errorf("after rebuild %d, before %d", got, before)
	}
	// Corrupt: rebuilt, not an error.
	f.index.Close()
	if err := os.WriteFile(filepath.Join(f.dir, "search", "index_meta.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if !f.index.Fresh && f.search(t, search.Query{Term: "payment"}).Total != before {
		t.Error("corrupt index neither rebuilt nor readable")
	}
	if n, _ := f.index.Count(); n == 0 {
		t.Error("empty index after rebuild")
	}
}

// Changes made while the index is closed (server down, `greenroom ingest`
// run meanwhile) are caught up from the store's log on the next start,
// without a rebuild.
func TestCatchUpAfterRestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.index.Close()
	file := filepath.Join(f.dir, "catalog", "components", "payments.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "title: Payment gateway", "title: Wombat payments bridge", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.CrawlAll(ctx); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if f.index.Fresh {
		t.Error("reopening rebuilt the index")
	}
	if r := f.search(t, search.Query{Term: "wombat"}); rankOf(r, "/catalog/default/component/payment-gateway") != 1 {
		t.Errorf("change made while closed not indexed: %v", locations(r))
	}
}

// Another process holding the index (a running server) is reported, and
// its index is left alone.
func TestIndexInUse(t *testing.T) {
	f := newFixture(t)
	if _, err := search.Open(filepath.Join(f.dir, "search")); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	if n, _ := f.index.Count(); n == 0 {
		t.Error("the open index lost its documents")
	}
}

// Run follows the store: what a crawl changes becomes searchable without
// anyone calling Sync. (The time it takes is logged; the assertion is
// only that it happens.)
func TestRunFollowsTheStore(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.syncer.Run(ctx, 250*time.Millisecond)
	file := filepath.Join(f.dir, "catalog", "components", "payments.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "title: Payment gateway", "title: Platypus payments bridge", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := f.engine.CrawlAll(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		if r := f.search(t, search.Query{Term: "platypus"}); r.Total > 0 {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the change never became searchable")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("searchable %v after the crawl started", time.Since(start).Round(time.Millisecond))
}
