package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Local is a rate limiter for hot paths: it decides in memory and
// reconciles with the shared Redis counter in the background, at most once
// per flush interval. Across replicas the limit holds to within what they
// admit in one interval; a request never waits on Redis. Use the exact
// Limiter where every attempt must count (logins).
type Local struct {
	shared *Limiter
	limit  int
	window time.Duration
	flush  time.Duration
	now    func() time.Time
	// OnError, if set, hears about failed reconciliations (Redis down);
	// decisions then rest on this replica's own counts.
	OnError func(error)

	mu       sync.Mutex
	keys     map[string]*localKey
	flushing atomic.Bool // a background flush is on its way
	flushMu  sync.Mutex  // one Flush at a time, so no hit is sent twice
	last     time.Time
}

type localKey struct {
	global    int64 // the shared count at the last reconciliation, this replica's flushed hits included
	pending   int64 // hits admitted here since
	windowEnd time.Time
}

// NewLocal returns a Local of limit requests per window for each key,
// reconciling through shared every flush interval.
func NewLocal(shared *Limiter, limit int, window, flush time.Duration) *Local {
	return &Local{shared: shared, limit: limit, window: window, flush: flush, now: time.Now, keys: map[string]*localKey{}, last: time.Now()}
}

// Allow counts one request against key and reports whether it is within the limit.
func (l *Local) Allow(key string) Result {
	now := l.now()
	l.mu.Lock()
	k := l.keys[key]
	if k == nil || !now.Before(k.windowEnd) {
		k = &localKey{windowEnd: now.Add(l.window)}
		l.keys[key] = k
	}
	used := k.global + k.pending
	res := Result{Limit: l.limit, Reset: k.windowEnd.Sub(now)}
	if used < int64(l.limit) {
		k.pending++
		res.Allowed = true
		used++
	}
	res.Remaining = max(0, l.limit-int(used))
	due := now.Sub(l.last) >= l.flush
	l.mu.Unlock()
	if due && l.flushing.CompareAndSwap(false, true) {
		go func() {
			defer l.flushing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := l.Flush(ctx); err != nil && l.OnError != nil {
				l.OnError(err)
			}
		}()
	}
	return res
}

// Flush sends the hits admitted here to Redis and learns every live key's
// shared count (other replicas' hits included); keys idle past their
// window are forgotten.
func (l *Local) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	l.last = l.now()
	type job struct {
		key string
		n   int64
	}
	var jobs []job
	for key, k := range l.keys {
		if k.pending == 0 && !l.last.Before(k.windowEnd) {
			delete(l.keys, key)
			continue
		}
		jobs = append(jobs, job{key, k.pending})
	}
	l.mu.Unlock()
	var firstErr error
	for _, j := range jobs {
		res, err := l.shared.run(ctx, j.key, l.limit, l.window, j.n)
		l.mu.Lock()
		if k := l.keys[j.key]; k != nil {
			if err == nil {
				k.pending -= j.n
				k.global = int64(res.Limit - res.Remaining)
				if res.Remaining == 0 {
					k.global = max(k.global, int64(l.limit)) // over the limit somewhere: refuse here too
				}
				k.windowEnd = l.now().Add(res.Reset)
			}
		}
		l.mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}
