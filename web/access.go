package web

import (
	"context"
	"net/http"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// ReadPolicy is what a request's user may read of the catalog (the same
// decision the catalog API applies): Filter goes into every query of the
// pages, Allows decides one entity.
type ReadPolicy interface {
	Filter() (store.Predicate, error)
	Allows(final []byte) bool
}

type readPolicyKey struct{}

// withReads puts the request's read policy in its context, where the
// scoped catalog finds it; it also turns the search index off for users
// whose reads are restricted, so their searches run on the catalog's own
// (filtered) text match — a hit list and its counts never show what they
// may not read.
func (s *Server) withReads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := s.Reads(r); p != nil {
			r = r.WithContext(context.WithValue(r.Context(), readPolicyKey{}, p))
		}
		next.ServeHTTP(w, r)
	})
}

func readsOf(ctx context.Context) ReadPolicy {
	p, _ := ctx.Value(readPolicyKey{}).(ReadPolicy)
	return p
}

// restricted reports whether the request's user may not read everything.
func restricted(ctx context.Context) bool {
	p := readsOf(ctx)
	if p == nil {
		return false
	}
	f, err := p.Filter()
	return err != nil || f != nil
}

// scopedCatalog is the pages' catalog seen through the request's read
// policy: every list, count and facet is filtered inside the store's
// query, a single entity the user may not read is not found.
type scopedCatalog struct{ Catalog }

func and(ctx context.Context, filter store.Predicate) (store.Predicate, error) {
	p := readsOf(ctx)
	if p == nil {
		return filter, nil
	}
	f, err := p.Filter()
	if err != nil {
		return nil, err
	}
	return store.And(filter, f), nil
}

func (c scopedCatalog) Query(ctx context.Context, req store.QueryRequest) ([]store.QueryRow, int, error) {
	f, err := and(ctx, req.Filter)
	if err != nil {
		return nil, 0, err
	}
	req.Filter = f
	return c.Catalog.Query(ctx, req)
}

func (c scopedCatalog) Facets(ctx context.Context, facets []string, filter store.Predicate) (map[string][]store.FacetValue, error) {
	f, err := and(ctx, filter)
	if err != nil {
		return nil, err
	}
	return c.Catalog.Facets(ctx, facets, f)
}

func (c scopedCatalog) ByRefs(ctx context.Context, refs []string, filter store.Predicate) ([][]byte, error) {
	f, err := and(ctx, filter)
	if err != nil {
		return nil, err
	}
	return c.Catalog.ByRefs(ctx, refs, f)
}

func (c scopedCatalog) FinalByRef(ctx context.Context, ref string) ([]byte, error) {
	final, err := c.Catalog.FinalByRef(ctx, ref)
	if err == nil {
		if p := readsOf(ctx); p != nil && !p.Allows(final) {
			return nil, store.ErrNotFound
		}
	}
	return final, err
}

// Count counts by kind what the user may read (the store's cached count
// when they may read everything).
func (c scopedCatalog) Count(ctx context.Context) (map[string]int, error) {
	if !restricted(ctx) {
		return c.Catalog.Count(ctx)
	}
	f, err := and(ctx, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Catalog.Facets(ctx, []string{"kind"}, f)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, v := range res["kind"] {
		out[v.Value] = v.Count
	}
	return out, nil
}

func (c scopedCatalog) Ancestry(ctx context.Context, ref string) ([]store.AncestryItem, error) {
	items, err := c.Catalog.Ancestry(ctx, ref)
	p := readsOf(ctx)
	if err != nil || p == nil {
		return items, err
	}
	out := items[:0:0]
	for _, it := range items {
		if p.Allows(it.Final) {
			out = append(out, it)
		}
	}
	return out, nil
}
