package api

import (
	"strconv"
	"sync"
)

// responseCache holds encoded JSON responses keyed by request, each tagged
// with the version of the data it was built from (store.CacheVersion). A
// lookup with a newer version misses, so a cached body is never served
// after the data changed — whichever replica or workflow changed it.
type responseCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]cachedBody
}

type cachedBody struct {
	version int64
	body    []byte
}

func newResponseCache(max int) *responseCache {
	return &responseCache{max: max, entries: make(map[string]cachedBody, max)}
}

// get returns the body cached for key at exactly version.
func (c *responseCache) get(key string, version int64) ([]byte, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || e.version != version {
		return nil, false
	}
	return e.body, true
}

// put stores body for key at version. When full it starts afresh: entries
// are cheap to rebuild and a full cache is mostly stale versions anyway.
func (c *responseCache) put(key string, version int64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		if _, ok := c.entries[key]; !ok {
			clear(c.entries)
		}
	}
	c.entries[key] = cachedBody{version: version, body: body}
}

// RawJSON is an operation output of pre-encoded JSON; the operation
// documents the body's schema with op.RawJSON.
type RawJSON struct {
	ContentType   string `header:"Content-Type"`
	ContentLength string `header:"Content-Length"`
	Body          []byte
}

// rawJSON wraps pre-encoded JSON; a known length spares chunked encoding.
func rawJSON(body []byte) *RawJSON {
	return &RawJSON{ContentType: "application/json", ContentLength: strconv.Itoa(len(body)), Body: body}
}
