package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// resultCache keeps the results of the catalog's aggregate reads (the
// total of a query's first page, facet counts) until the database changes:
// each costs a pass over every matching filter row, and UIs ask the same
// ones again and again. A change is anything committed by any connection,
// this process's or another's, as SQLite's PRAGMA data_version reports it
// on a connection kept for that purpose; so a cached result is one a query
// would return at that moment.
type resultCache struct {
	db *sql.DB

	mu      sync.Mutex
	watch   *sql.Conn // runs PRAGMA data_version; never writes
	version int64
	entries map[string]cached
	size    int // approximate bytes held
	closed  bool
	// Misses being computed: others asking the same wait for the result
	// rather than compute it too (all at once after each change).
	pending map[string]*pendingResult
}

type pendingResult struct {
	done  chan struct{}
	value any
	err   error
}

type cached struct {
	value any
	size  int
}

// resultCacheBytes bounds the cache; one result may take a quarter.
const resultCacheBytes = 32 << 20

// dataVersion returns the current data version, clearing the cache when
// it moved. ok is false when it cannot be told (then nothing is cached).
func (c *resultCache) dataVersion(ctx context.Context) (v int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, false
	}
	if c.watch == nil {
		conn, err := c.db.Conn(ctx)
		if err != nil {
			return 0, false
		}
		c.watch = conn
	}
	if err := c.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		c.watch.Close()
		c.watch = nil
		c.entries = nil
		return 0, false
	}
	if c.entries == nil || v != c.version {
		c.entries = map[string]cached{}
		c.size = 0
		c.version = v
	}
	return v, true
}

// do returns the cached result for key, or computes it once however many
// ask at the same time, caching it if the data has not changed meanwhile.
// v is the data version from dataVersion.
func (c *resultCache) do(ctx context.Context, v int64, key string, compute func() (any, int, error)) (any, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		return e.value, nil
	}
	pkey := strconv.FormatInt(v, 10) + "\x00" + key
	if p, ok := c.pending[pkey]; ok {
		c.mu.Unlock()
		select {
		case <-p.done:
			if p.err == nil {
				return p.value, nil
			}
			// Its request's failure (a cancellation, say) need not be ours.
			value, _, err := compute()
			return value, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p := &pendingResult{done: make(chan struct{})}
	if c.pending == nil {
		c.pending = map[string]*pendingResult{}
	}
	c.pending[pkey] = p
	c.mu.Unlock()

	value, size, err := compute()
	p.value, p.err = value, err
	c.mu.Lock()
	delete(c.pending, pkey)
	if err == nil {
		c.putLocked(v, key, value, size)
	}
	c.mu.Unlock()
	close(p.done)
	return value, err
}

// putLocked keeps a result computed at data version v, unless the data has
// changed since (then it may be stale already).
func (c *resultCache) putLocked(v int64, key string, value any, size int) {
	size += len(key) + 64
	if size > resultCacheBytes/4 || c.entries == nil || v != c.version {
		return
	}
	if c.size+size > resultCacheBytes {
		c.entries = map[string]cached{}
		c.size = 0
	}
	c.entries[key] = cached{value, size}
	c.size += size
}

func (c *resultCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.entries = nil
	if c.watch != nil {
		c.watch.Close()
		c.watch = nil
	}
}

// cacheKey identifies a query by its text and arguments.
func cacheKey(kind, q string, args []any) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte(0)
	b.WriteString(q)
	for _, a := range args {
		b.WriteByte(0)
		switch t := a.(type) {
		case string:
			b.WriteString(strconv.Quote(t))
		default:
			fmt.Fprintf(&b, "%T:%v", a, a)
		}
	}
	return b.String()
}

// cachedCount runs a COUNT query through the cache.
func (s *Store) cachedCount(ctx context.Context, q string, args []any) (int, error) {
	v, ok := s.results.dataVersion(ctx)
	if !ok {
		return s.count(ctx, q, args)
	}
	n, err := s.results.do(ctx, v, cacheKey("count", q, args), func() (any, int, error) {
		n, err := s.count(ctx, q, args)
		return n, 8, err
	})
	if err != nil {
		return 0, err
	}
	return n.(int), nil
}

// cachedFacet computes one facet through the cache. The values returned
// are shared: callers must copy them before any change.
func (s *Store) cachedFacet(ctx context.Context, facet string, filter Predicate, compute func() ([]FacetValue, error)) ([]FacetValue, error) {
	v, ok := s.results.dataVersion(ctx)
	if !ok {
		return compute()
	}
	var args []any
	key := cacheKey("facet", strings.ToLower(facet)+"\x00"+compile(filter, &args), args)
	vals, err := s.results.do(ctx, v, key, func() (any, int, error) {
		vals, err := compute()
		size := 24
		for _, fv := range vals {
			size += len(fv.Value) + 40
		}
		return vals, size, err
	})
	if err != nil {
		return nil, err
	}
	return vals.([]FacetValue), nil
}

// cachedTextMatches finds the entities some of whose text rows contain the
// term, as a JSON array of ids, through the cache; "" when the cache is
// unavailable (the filter then scans the rows itself).
func (s *Store) cachedTextMatches(ctx context.Context, t *textFilter) (string, error) {
	v, ok := s.results.dataVersion(ctx)
	if !ok {
		return "", nil
	}
	var args []any
	q := `SELECT DISTINCT entity_id FROM search WHERE key IN (` + t.keyList(&args) + `) AND value LIKE ? ESCAPE '\' ORDER BY entity_id`
	args = append(args, t.pattern)
	ids, err := s.results.do(ctx, v, cacheKey("text", q, args), func() (any, int, error) {
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		var b strings.Builder
		b.WriteByte('[')
		for n := 0; rows.Next(); n++ {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, 0, err
			}
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteByte(']')
		return b.String(), b.Len(), rows.Err()
	})
	if err != nil {
		return "", err
	}
	return ids.(string), nil
}
