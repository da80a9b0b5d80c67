package web

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

func TestMostCommonMatchesSorting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := r.IntN(400)
		var vals []store.FacetValue
		for i := range n {
			vals = append(vals, store.FacetValue{Value: fmt.Sprintf("v%04d", i), Count: r.IntN(20)})
		}
		k := 1 + r.IntN(120)
		want := slices.Clone(vals)
		slices.SortStableFunc(want, func(a, b store.FacetValue) int { return b.Count - a.Count })
		want = want[:min(k, len(want))]
		got := mostCommon(vals, k)
		key := func(v []store.FacetValue) []string {
			var out []string
			for _, x := range v {
				out = append(out, x.Value)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(key(got), key(want)) {
			t.Fatalf("round %d (n=%d k=%d): got %v, want %v", round, n, k, key(got), key(want))
		}
	}
}

func TestOptionsKeepSelected(t *testing.T) {
	var vals []store.FacetValue
	for i := range 300 {
		vals = append(vals, store.FacetValue{Value: fmt.Sprintf("team-%03d", i), Count: 300 - i})
	}
	opts := options(vals, "team-299", nil)
	if len(opts) != maxOptions {
		t.Fatalf("%d options", len(opts))
	}
	if !slices.ContainsFunc(opts, func(o option) bool { return o.Value == "team-299" }) {
		t.Error("the selected value fell off the list")
	}
	if !slices.IsSortedFunc(opts, func(a, b option) int { return strings.Compare(a.Value, b.Value) }) {
		t.Error("options not in alphabetical order")
	}
}

func TestCatalogQueryRoundTrip(t *testing.T) {
	for _, raw := range []string{
		"kind=component",
		"kind=&q=pay",
		"kind=api&type=openapi&owner=team-a&lifecycle=production&namespace=ops&tag=go&sort=-type&page=3&size=50",
	} {
		v, _ := url.ParseQuery(raw)
		q := parseCatalogQuery(v)
		again := parseCatalogQuery(q.values())
		if again != q {
			t.Errorf("%s: %+v became %+v", raw, q, again)
		}
	}
	// Defaults: components, sorted by name; unsortable columns fall back.
	q := parseCatalogQuery(url.Values{"sort": {"-owner"}})
	if q.Kind != "component" || q.Sort != "owner" || !q.Desc {
		t.Errorf("defaults: %+v", q)
	}
	q = parseCatalogQuery(url.Values{"kind": {"group"}, "sort": {"owner"}, "size": {"100000"}, "page": {"-2"}})
	if q.Sort != "name" || q.Size != maxPageSize || q.Page != 1 {
		t.Errorf("bounds: %+v", q)
	}
}
