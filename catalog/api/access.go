package api

import (
	"net/http"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// ReadPolicy is what a request's user may read of the catalog: Filter is
// ANDed into every query (lists, pages, counts, facets, by-refs), so page
// sizes, totals and cursors stay right; Allows decides one stored entity
// (by name, by uid, ancestry). A denied read makes an entity absent, as
// in Backstage.
type ReadPolicy interface {
	// Filter is nil when everything may be read.
	Filter() (store.Predicate, error)
	Allows(final []byte) bool
}

// readPolicy is the request's ReadPolicy (nil: everything).
func (s *Server) readPolicy(r *http.Request) ReadPolicy {
	if s.Reads == nil {
		return nil
	}
	return s.Reads(r)
}

// readable ANDs the user's read filter into a query's own.
func (s *Server) readable(r *http.Request, filter store.Predicate) (store.Predicate, error) {
	p := s.readPolicy(r)
	if p == nil {
		return filter, nil
	}
	f, err := p.Filter()
	if err != nil {
		return nil, err
	}
	return store.And(filter, f), nil
}

// canRead decides one stored entity.
func (s *Server) canRead(r *http.Request, final []byte) bool {
	p := s.readPolicy(r)
	return p == nil || p.Allows(final)
}
