package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

// planCatalog applies n generated entities of a few kinds, types, tags and
// mixed-case titles, enough for a page's uid window to miss selective
// filters.
func planCatalog(t *testing.T, s *Store, n int) {
	t.Helper()
	l := mustAddLocation(t, s, "/srv/plan.yaml")
	kinds := []string{"Component", "Component", "Component", "API", "Resource"}
	types := []string{"service", "website", "library", "Service"}
	var puts []put
	for i := 0; i < n; i++ {
		e := component(fmt.Sprintf("svc-%04d", i), fmt.Sprintf("team-%d", i%7), fmt.Sprintf("Payments thing %d", i%13))
		e.Kind = kinds[i%len(kinds)]
		e.Spec["type"] = types[i%len(types)]
		if i%3 == 0 {
			e.Metadata.Tags = []string{"go", fmt.Sprintf("t%d", i%5)}
		}
		if i%2 == 0 {
			e.Metadata.Title = []string{"Alpha", "alpha", "BETA"}[i%3]
		}
		if i%97 == 0 {
			e.Metadata.Name = fmt.Sprintf("rare-%04d", i)
		}
		puts = append(puts, put{e, fmt.Sprintf("file:/srv/f%d.yaml", i%50)})
	}
	apply(t, s, l.ID, puts...)
}

// TestQueryPlans: pages walked through the uid window, the sort of a
// selective filter's matches, counts and facets agree with plain queries
// over the entities.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	planCatalog(t, s, 3000)

	preds := map[string]Predicate{
		"none":      nil,
		"kind":      Field{Key: "kind", Values: []string{"Component"}},
		"rare":      Field{Key: "metadata.name", Prefix: "RARE-"},
		"exists":    Field{Key: "metadata.tags"},
		"in":        Field{Key: "spec.type", Values: []string{"website", "LIBRARY"}},
		"and":       All{Field{Key: "kind", Values: []string{"api"}}, Field{Key: "metadata.tags", Values: []string{"go"}}},
		"or":        Any{Field{Key: "kind", Values: []string{"resource"}}, Field{Key: "metadata.name", Values: []string{"svc-0001"}}},
		"not":       Not{P: Field{Key: "kind", Values: []string{"component"}}},
		"relation":  Field{Key: "relations.ownedBy", Values: []string{"group:default/team-3"}},
		"none-in":   Field{Key: "kind", Values: []string{}},
		"selective": All{Field{Key: "metadata.tags.t1"}, Field{Key: "kind", Values: []string{"component"}}, Field{Key: "metadata.name", Prefix: "rare"}},
		"fewer":     All{Field{Key: "metadata.tags.t1"}, Field{Key: "kind", Values: []string{"component"}}},
	}
	texts := []string{"", "rare", "PAYMENTS THING 1"}
	for name, p := range preds {
		for _, term := range texts {
			t.Run(name+"/"+term, func(t *testing.T) {
				var args []any
				cond := compile(p, &args)
				if term != "" {
					cond += " AND e.id IN (SELECT entity_id FROM search WHERE key IN ('metadata.name', 'metadata.description') AND value LIKE ?)"
					args = append(args, "%"+strings.ToLower(term)+"%")
				}
				want, err := queryStrings(ctx, s.db, "SELECT e.uid FROM entities e WHERE "+cond+" ORDER BY e.uid", args...)
				if err != nil {
					t.Fatal(err)
				}
				req := QueryRequest{Filter: p, TextTerm: strings.ToLower(term), TextFields: []string{"metadata.name", "metadata.description"}, CountTotal: true}
				for _, limit := range []int{7, 500} {
					req.Limit, req.After = limit, nil
					var got []string
					for page := 0; ; page++ {
						rows, total, err := s.Query(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						if page == 0 && total != len(want) {
							t.Errorf("limit %d: total %d, want %d", limit, total, len(want))
						}
						more := len(rows) > limit
						if more {
							rows = rows[:limit]
						}
						for _, r := range rows {
							got = append(got, r.UID)
						}
						if !more {
							break
						}
						uid := rows[len(rows)-1].UID
						req.After, req.CountTotal = []*string{&uid}, false
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("limit %d: %d uids, want %d (first %v, want %v)", limit, len(got), len(want), head(got), head(want))
					}
					req.CountTotal = true
				}
				// Backwards from the end, and an offset.
				if len(want) > 3 {
					last := want[len(want)-1]
					rows, _, err := s.Query(ctx, QueryRequest{Filter: p, TextTerm: req.TextTerm, TextFields: req.TextFields, Limit: 3, After: []*string{&last}, Backwards: true})
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, r := range rows {
						got = append(got, r.UID)
					}
					if w := []string{want[len(want)-2], want[len(want)-3], want[len(want)-4]}; !reflect.DeepEqual(got, w) {
						t.Errorf("backwards: %v, want %v", got, w)
					}
					rows, _, err = s.Query(ctx, QueryRequest{Filter: p, TextTerm: req.TextTerm, TextFields: req.TextFields, Limit: 2, Offset: 2})
					if err != nil {
						t.Fatal(err)
					}
					if len(rows) < 2 || rows[0].UID != want[2] || rows[1].UID != want[3] {
						t.Errorf("offset 2: %v, want %v", rows, want[2:4])
					}
				}
				// Everything, streamed.
				var all []string
				if _, err := s.QueryEach(ctx, QueryRequest{Filter: p, TextTerm: req.TextTerm, TextFields: req.TextFields, Limit: -1}, func(r QueryRow) error {
					all = append(all, r.UID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(all, want) && !(len(all) == 0 && len(want) == 0) {
					t.Errorf("stream: %d uids, want %d", len(all), len(want))
				}
			})
		}
		t.Run(name+"/facets", func(t *testing.T) {
			for _, key := range []string{"spec.type", "metadata.title", "kind", "metadata.tags", "metadata.name"} {
				var args []any
				cond := compile(p, &args)
				rows, err := s.db.QueryContext(ctx, `SELECT COALESCE(s.original_value, s.value) AS v, COUNT(*) FROM search s
					WHERE s.key = ? AND s.value IS NOT NULL AND s.entity_id IN (SELECT e.id FROM entities e WHERE `+cond+`)
					GROUP BY v ORDER BY v`, append([]any{key}, args...)...)
				if err != nil {
					t.Fatal(err)
				}
				want := []FacetValue{}
				for rows.Next() {
					var fv FacetValue
					rows.Scan(&fv.Value, &fv.Count)
					want = append(want, fv)
				}
				rows.Close()
				for i := 0; i < 2; i++ { // computed, then cached
					got, err := s.Facets(ctx, []string{key}, p)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got[key], want) {
						t.Errorf("facet %s: %v, want %v", key, head2(got[key]), head2(want))
					}
				}
			}
		})
	}
}

func head(s []string) []string {
	return s[:min(len(s), 3)]
}

func head2(s []FacetValue) []FacetValue {
	return s[:min(len(s), 5)]
}

// TestResultCacheInvalidation: cached totals and facets change as soon as
// the data does, whether this store or another connection wrote it.
func TestResultCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	l := mustAddLocation(t, s, "/srv/all.yaml")
	counts := func(s *Store) (int, []FacetValue) {
		t.Helper()
		_, total, err := s.Query(ctx, QueryRequest{Filter: Field{Key: "kind", Values: []string{"component"}}, CountTotal: true, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.Facets(ctx, []string{"spec.owner"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return total, f["spec.owner"]
	}
	apply(t, s, l.ID, put{component("a", "team-a", ""), "file:/srv/a.yaml"})
	for i := 0; i < 2; i++ {
		if n, f := counts(s); n != 1 || !reflect.DeepEqual(f, []FacetValue{{"team-a", 1}}) {
			t.Fatalf("before: %d %v", n, f)
		}
	}
	apply(t, s, l.ID, put{component("a", "team-a", ""), "file:/srv/a.yaml"}, put{component("b", "Team-B", ""), "file:/srv/b.yaml"})
	if n, f := counts(s); n != 2 || !reflect.DeepEqual(f, []FacetValue{{"Team-B", 1}, {"team-a", 1}}) {
		t.Fatalf("after an apply: %d %v", n, f)
	}
	// Another store on the same file (another process, say) writes.
	other, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a, err := other.BeginApply(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*catalog.Entity{component("a", "team-a", ""), component("b", "Team-B", ""), component("c", "team-a", "")} {
		if err := a.Put(itemOf(t, e, "file:/srv/"+e.Metadata.Name+".yaml", "")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, f := counts(s); n != 3 || !reflect.DeepEqual(f, []FacetValue{{"Team-B", 1}, {"team-a", 2}}) {
		t.Fatalf("after another store's apply: %d %v", n, f)
	}
	// And a raw write through a plain connection.
	if _, err := rawDB(t, path).Exec(`DELETE FROM search WHERE key = 'spec.owner' AND value = 'team-b'`); err != nil {
		t.Fatal(err)
	}
	if _, f := counts(s); !reflect.DeepEqual(f, []FacetValue{{"team-a", 2}}) {
		t.Fatalf("after a raw write: %v", f)
	}
}

// TestResultCacheConcurrent: many readers while the data changes get
// totals that existed at some point, and the last ones the final total.
func TestResultCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	l := mustAddLocation(t, s, "/srv/all.yaml")
	var puts []put
	apply(t, s, l.ID)
	done := make(chan struct{})
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				_, total, err := s.Query(ctx, QueryRequest{Filter: Field{Key: "kind", Values: []string{"component"}}, CountTotal: true, Limit: 1})
				if err == nil {
					_, err = s.Facets(ctx, []string{"kind"}, nil)
				}
				if err == nil && (total < 0 || total > 20) {
					err = fmt.Errorf("total %d", total)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		puts = append(puts, put{component(fmt.Sprintf("c%d", i), "team", ""), fmt.Sprintf("file:/srv/c%d.yaml", i)})
		apply(t, s, l.ID, puts...)
	}
	close(done)
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	_, total, err := s.Query(ctx, QueryRequest{Filter: Field{Key: "kind", Values: []string{"component"}}, CountTotal: true, Limit: 1})
	f, _ := s.Facets(ctx, []string{"kind"}, nil)
	if err != nil || total != 20 || !reflect.DeepEqual(f["kind"], []FacetValue{{"Component", 20}}) {
		t.Fatalf("final: %d %v %v", total, f, err)
	}
}
