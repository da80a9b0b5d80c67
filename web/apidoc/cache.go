package apidoc

import (
	"container/list"
	"hash/maphash"
	"sync"
)

// Prepared definitions are kept for pages viewed again: parsing a big
// YAML definition takes far longer than rendering it. A Doc is never
// changed after Prepare, so one can be shared by concurrent requests.
const (
	cacheEntries = 128
	cacheBytes   = 64 << 20 // rough cost of the cached docs (see docCost)
)

var cache = newDocCache(cacheEntries, cacheBytes)

type docCache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int
	bytes      int
	order      *list.List // front: most recently used
	entries    map[uint64]*list.Element
}

// cacheEntry keeps the definition it was prepared from, to tell hash
// collisions apart.
type cacheEntry struct {
	key        uint64
	apiType    string
	definition string
	doc        *Doc
	cost       int
}

func newDocCache(maxEntries, maxBytes int) *docCache {
	return &docCache{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(), entries: map[uint64]*list.Element{}}
}

var seed = maphash.MakeSeed()

func cacheKey(apiType, definition string) uint64 {
	return maphash.String(seed, definition) ^ maphash.String(seed, apiType)*0x9e3779b97f4a7c15
}

// docCost estimates the memory of a cache entry: the definition, and the
// prepared doc, which grows with it up to the caps on what is shown.
func docCost(definition string) int {
	return 16<<10 + len(definition) + 3*min(len(definition), 1<<20)
}

// prepare returns the prepared definition, from the cache if it is there.
func (c *docCache) prepare(apiType, definition string) *Doc {
	key := cacheKey(apiType, definition)
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		if ce := e.Value.(*cacheEntry); ce.apiType == apiType && ce.definition == definition {
			c.order.MoveToFront(e)
			c.mu.Unlock()
			return ce.doc
		}
	}
	c.mu.Unlock()

	d := Prepare(apiType, definition)
	cost := docCost(definition)

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok || cost > c.maxBytes {
		return d
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, apiType: apiType, definition: definition, doc: d, cost: cost})
	c.bytes += cost
	for c.order.Len() > c.maxEntries || c.bytes > c.maxBytes {
		last := c.order.Back()
		e := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.entries, e.key)
		c.bytes -= e.cost
	}
	return d
}
