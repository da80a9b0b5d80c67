package reading

import (
	"container/list"
	"sync"
)

// etagCache keeps the last body and ETag of recently fetched URLs, bounded
// in entries and bytes; the least recently used go first.
type etagCache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	bytes      int64
	order      *list.List // of *cached, most recent at the front
	byURL      map[string]*list.Element
}

type cached struct {
	url, etag string
	data      []byte
}

func newETagCache(entries int, bytes int64) *etagCache {
	return &etagCache{maxEntries: entries, maxBytes: bytes, order: list.New(), byURL: map[string]*list.Element{}}
}

func (c *etagCache) get(url string) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byURL[url]
	if !ok {
		return cached{}, false
	}
	c.order.MoveToFront(e)
	return *e.Value.(*cached), true
}

// put stores a copy of data, so callers may change what they were given.
func (c *etagCache) put(url, etag string, data []byte) {
	if int64(len(data)) > c.maxBytes/4 {
		c.remove(url) // one huge file would evict everything else
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(url)
	e := c.order.PushFront(&cached{url: url, etag: etag, data: append([]byte(nil), data...)})
	c.byURL[url] = e
	c.bytes += int64(len(data))
	for c.order.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.removeLocked(c.order.Back().Value.(*cached).url)
	}
}

func (c *etagCache) remove(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(url)
}

func (c *etagCache) removeLocked(url string) {
	if e, ok := c.byURL[url]; ok {
		c.bytes -= int64(len(e.Value.(*cached).data))
		c.order.Remove(e)
		delete(c.byURL, url)
	}
}

func (c *etagCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
