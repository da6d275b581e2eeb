package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/ratelimit"
	"github.com/rollcall/rollcall/internal/testenv"
)

func newLimiter(tb testing.TB) *ratelimit.Limiter {
	tb.Helper()
	rdb, prefix := testenv.Redis(tb)
	return ratelimit.New(rdb, prefix)
}

func mustHit(tb testing.TB, l *ratelimit.Limiter, key string, limit int, window time.Duration) ratelimit.Result {
	tb.Helper()
	r, err := l.Hit(context.Background(), key, limit, window)
	require.NoError(tb, err)
	return r
}

func TestLimiterAllowsLimitThenRefuses(t *testing.T) {
	l := newLimiter(t)
	const limit, window = 3, time.Minute

	for i := range limit {
		r := mustHit(t, l, "login:ip:10.0.0.1", limit, window)
		require.True(t, r.Allowed, "request %d", i+1)
		require.Equal(t, limit, r.Limit)
		require.Equal(t, limit-i-1, r.Remaining)
	}
	r := mustHit(t, l, "login:ip:10.0.0.1", limit, window)
	require.False(t, r.Allowed, "request limit+1 is refused")
	require.Zero(t, r.Remaining)
	require.Positive(t, r.Reset)
	require.LessOrEqual(t, r.Reset, window)
}

func TestLimiterPeekDoesNotCount(t *testing.T) {
	l := newLimiter(t)
	ctx := context.Background()

	for range 5 {
		r, err := l.Peek(ctx, "k", 2, time.Minute)
		require.NoError(t, err)
		require.True(t, r.Allowed)
		require.Equal(t, 2, r.Remaining)
	}
	mustHit(t, l, "k", 2, time.Minute)
	r, err := l.Peek(ctx, "k", 2, time.Minute)
	require.NoError(t, err)
	require.True(t, r.Allowed)
	require.Equal(t, 1, r.Remaining)

	mustHit(t, l, "k", 2, time.Minute)
	r, err = l.Peek(ctx, "k", 2, time.Minute)
	require.NoError(t, err)
	require.False(t, r.Allowed, "Peek reports a spent window as not allowed")
	require.Positive(t, r.Reset)
}

func TestLimiterReset(t *testing.T) {
	l := newLimiter(t)
	mustHit(t, l, "k", 1, time.Minute)
	require.False(t, mustHit(t, l, "k", 1, time.Minute).Allowed)

	require.NoError(t, l.Reset(context.Background(), "k"))

	r := mustHit(t, l, "k", 1, time.Minute)
	require.True(t, r.Allowed, "a reset key starts a new window")
}

func TestLimiterKeysAreIndependent(t *testing.T) {
	l := newLimiter(t)
	mustHit(t, l, "user:a", 1, time.Minute)
	require.False(t, mustHit(t, l, "user:a", 1, time.Minute).Allowed)

	require.True(t, mustHit(t, l, "user:b", 1, time.Minute).Allowed)
}

func TestLimiterPrefixesSeparateLimiters(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a, b := ratelimit.New(rdb, prefix+"a:"), ratelimit.New(rdb, prefix+"b:")
	mustHit(t, a, "k", 1, time.Minute)

	require.True(t, mustHit(t, b, "k", 1, time.Minute).Allowed)
}

func TestLimiterWindowExpires(t *testing.T) {
	l := newLimiter(t)
	const window = 300 * time.Millisecond
	mustHit(t, l, "k", 1, window)
	refused := mustHit(t, l, "k", 1, window)
	require.False(t, refused.Allowed)
	require.LessOrEqual(t, refused.Reset, window)

	time.Sleep(window + 100*time.Millisecond)

	r := mustHit(t, l, "k", 1, window)
	require.True(t, r.Allowed, "a new window begins after the old one ends")
	require.Zero(t, r.Remaining)
}

func TestLimiterCountAndUndo(t *testing.T) {
	l := newLimiter(t)
	ctx := context.Background()
	const limit, window = 2, time.Minute
	for i := range 3 {
		r := mustHit(t, l, "login:acct", limit, window)
		require.Equal(t, i+1, r.Count, "Count is the hit's own number, past the limit too")
	}
	require.NoError(t, l.Undo(ctx, "login:acct"))
	r := mustHit(t, l, "login:acct", limit, window)
	require.Equal(t, 3, r.Count, "Undo took one back")
	require.Positive(t, r.Reset)

	require.NoError(t, l.Undo(ctx, "login:never-hit"))
	require.NoError(t, l.Undo(ctx, "login:never-hit"))
	require.Equal(t, 1, mustHit(t, l, "login:never-hit", limit, window).Count, "Undo never goes below zero")
}

func TestLimiterHitAllCountsEveryKeyInOneCall(t *testing.T) {
	l := newLimiter(t)
	ctx := context.Background()
	specs := []ratelimit.Spec{{Key: "user:a", Limit: 2, Window: time.Minute}, {Key: "ip:1", Limit: 3, Window: time.Minute}}
	for i := range 2 {
		rs, err := l.HitAll(ctx, specs...)
		require.NoError(t, err)
		require.Len(t, rs, 2)
		require.True(t, rs[0].Allowed && rs[1].Allowed, "hit %d", i+1)
		require.Equal(t, 1-i, rs[0].Remaining)
		require.Equal(t, 2-i, rs[1].Remaining)
	}
	rs, err := l.HitAll(ctx, specs...)
	require.NoError(t, err)
	require.False(t, rs[0].Allowed, "the user key is spent")
	require.True(t, rs[1].Allowed, "the IP key still counts and admits")
	require.Equal(t, 3, mustHit(t, l, "ip:1", 4, time.Minute).Count-1, "the IP key counted all three")
	require.Positive(t, rs[0].Reset)
}
