// Package ratelimit is a fixed-window rate limiter stored in Redis, shared by
// every API replica.
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// hitScript adds ARGV[2] (0 to only read) to a window counter and returns
// the count and the window's remaining milliseconds. The hit that creates
// the counter sets the window's expiry.
var hitScript = rueidis.NewLuaScript(`
local n
local add = tonumber(ARGV[2])
if add > 0 then
  n = redis.call("INCRBY", KEYS[1], add)
  if n == add then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
else
  n = tonumber(redis.call("GET", KEYS[1]) or "0")
end
local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[1]) end
return {n, ttl}
`)

// Limiter counts requests per key in fixed windows.
type Limiter struct {
	rdb    rueidis.Client
	prefix string
}

// New returns a Limiter whose keys start with prefix.
func New(rdb rueidis.Client, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix + "rl:"}
}

// Result is the state of one key's window after a call.
type Result struct {
	Allowed   bool
	Count     int // requests counted in the window, this one included
	Limit     int
	Remaining int
	Reset     time.Duration // until the window ends
}

// Hit counts one request against key and reports whether it is within limit.
func (l *Limiter) Hit(ctx context.Context, key string, limit int, window time.Duration) (Result, error) {
	return l.run(ctx, key, limit, window, 1)
}

// Peek reports the state of key without counting a request. Allowed is false
// once limit requests have been counted in the window.
func (l *Limiter) Peek(ctx context.Context, key string, limit int, window time.Duration) (Result, error) {
	r, err := l.run(ctx, key, limit, window, 0)
	if err == nil && r.Remaining == 0 {
		r.Allowed = false
	}
	return r, err
}

// Count returns the requests counted against key in its current window.
func (l *Limiter) Count(ctx context.Context, key string) (int, error) {
	r, err := l.run(ctx, key, 1<<30, time.Minute, 0)
	if err != nil {
		return 0, err
	}
	return r.Limit - r.Remaining, nil
}

// ResetPrefix forgets the windows of every key starting with prefix (a
// literal: glob characters in it are escaped) and returns how many.
func (l *Limiter) ResetPrefix(ctx context.Context, prefix string) (int, error) {
	pattern := l.prefix + globEscape(prefix) + "*"
	n := 0
	cursor := uint64(0)
	for {
		e, err := l.rdb.Do(ctx, l.rdb.B().Scan().Cursor(cursor).Match(pattern).Count(500).Build()).AsScanEntry()
		if err != nil {
			return n, fmt.Errorf("ratelimit: reset prefix: %w", err)
		}
		if len(e.Elements) > 0 {
			if err := l.rdb.Do(ctx, l.rdb.B().Del().Key(e.Elements...).Build()).Error(); err != nil {
				return n, fmt.Errorf("ratelimit: reset prefix: %w", err)
			}
			n += len(e.Elements)
		}
		if cursor = e.Cursor; cursor == 0 {
			return n, nil
		}
	}
}

// globEscape escapes Redis glob characters.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// undoScript takes one request back from a window counter, never below zero.
var undoScript = rueidis.NewLuaScript(`
local n = tonumber(redis.call("GET", KEYS[1]) or "0")
if n > 0 then redis.call("DECR", KEYS[1]) end
return 0
`)

// Undo takes back one request counted against key (one that turned out
// not to count, e.g. a sign-in that succeeded), keeping the window's end.
func (l *Limiter) Undo(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := undoScript.Exec(ctx, l.rdb, []string{l.prefix + key}, nil).Error(); err != nil {
		return fmt.Errorf("ratelimit: undo: %w", err)
	}
	return nil
}

// Reset forgets key's window.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.rdb.Do(ctx, l.rdb.B().Del().Key(l.prefix+key).Build()).Error(); err != nil {
		return fmt.Errorf("ratelimit: reset: %w", err)
	}
	return nil
}

// Spec is one limit to count a request against: Limit requests per Window on Key.
type Spec struct {
	Key    string
	Limit  int
	Window time.Duration
}

// HitAll counts one request against every spec in a single round trip
// (the scripts are pipelined) and returns their results in order. Each
// key is counted even when another is over its limit. An error means no
// decision could be made (Redis unreachable or slow).
func (l *Limiter) HitAll(ctx context.Context, specs ...Spec) ([]Result, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second) // a Redis outage must not hold requests
	defer cancel()
	execs := make([]rueidis.LuaExec, len(specs))
	for i, s := range specs {
		execs[i] = rueidis.LuaExec{Keys: []string{l.prefix + s.Key}, Args: []string{strconv.FormatInt(s.Window.Milliseconds(), 10), "1"}}
	}
	out := make([]Result, len(specs))
	for i, r := range hitScript.ExecMulti(ctx, l.rdb, execs...) {
		res, err := result(r, specs[i].Limit)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

func (l *Limiter) run(ctx context.Context, key string, limit int, window time.Duration, add int64) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second) // a Redis outage must not hold requests
	defer cancel()
	return result(hitScript.Exec(ctx, l.rdb, []string{l.prefix + key}, []string{strconv.FormatInt(window.Milliseconds(), 10), strconv.FormatInt(add, 10)}), limit)
}

// result reads hitScript's reply.
func result(r rueidis.RedisResult, limit int) (Result, error) {
	vals, err := r.ToArray()
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: %w", err)
	}
	if len(vals) != 2 {
		return Result{}, fmt.Errorf("ratelimit: unexpected reply of %d values", len(vals))
	}
	n, err1 := vals[0].AsInt64()
	ttl, err2 := vals[1].AsInt64()
	if err1 != nil || err2 != nil {
		return Result{}, fmt.Errorf("ratelimit: unexpected reply")
	}
	return Result{
		Allowed:   n <= int64(limit),
		Count:     int(n),
		Limit:     limit,
		Remaining: max(0, limit-int(n)),
		Reset:     time.Duration(ttl) * time.Millisecond,
	}, nil
}
