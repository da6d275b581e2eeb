// Package revoke tells every API replica which login sessions were revoked,
// so access tokens of a revoked session stop working before they expire.
package revoke

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// List records revoked session families in Redis. Lookups use rueidis
// client-side caching, so checking a token costs no round trip in the
// common case and Redis pushes invalidations when a family is revoked.
// Invalidations arrive asynchronously (within milliseconds), so the List
// also remembers its own revocations: the replica that signs a session out
// refuses its tokens from the very next request.
type List struct {
	rdb    rueidis.Client
	prefix string
	ttl    time.Duration // how long a revocation must be remembered: the access-token TTL
	local  sync.Map      // family → expiry (time.Time) of revocations made here
}

// redisTimeout bounds a lookup, so a Redis outage answers 503 at once
// instead of holding requests.
const redisTimeout = time.Second

// New returns a List; ttl is the access-token lifetime.
func New(rdb rueidis.Client, prefix string, ttl time.Duration) *List {
	return &List{rdb: rdb, prefix: prefix + "revoked:", ttl: ttl}
}

// Revoke marks the given session families revoked.
func (l *List) Revoke(ctx context.Context, families ...string) error {
	if len(families) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, 0, len(families))
	for _, f := range families {
		cmds = append(cmds, l.rdb.B().Set().Key(l.prefix+f).Value("1").Px(l.ttl+time.Minute).Build())
	}
	until := time.Now().Add(l.ttl + time.Minute)
	for _, f := range families {
		l.local.Store(f, until)
	}
	for _, r := range l.rdb.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
	}
	l.forgetExpired()
	return nil
}

// IsRevoked reports whether the session family was revoked.
func (l *List) IsRevoked(ctx context.Context, family string) (bool, error) {
	if until, ok := l.local.Load(family); ok && time.Now().Before(until.(time.Time)) {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	err := l.rdb.DoCache(ctx, l.rdb.B().Get().Key(l.prefix+family).Cache(), l.ttl).Error()
	switch {
	case rueidis.IsRedisNil(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("revoke: check: %w", err)
	}
	return true, nil
}

// forgetExpired drops local revocations whose tokens have all expired.
func (l *List) forgetExpired() {
	now := time.Now()
	l.local.Range(func(k, v any) bool {
		if now.After(v.(time.Time)) {
			l.local.Delete(k)
		}
		return true
	})
}
