package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/ratelimit"
	"github.com/rollcall/rollcall/internal/testenv"
)

// hour is a flush interval long enough that only explicit Flush calls reconcile.
const hour = time.Hour

func TestLocalLimitsWithoutRedis(t *testing.T) {
	l := ratelimit.NewLocal(newLimiter(t), 3, time.Minute, hour)
	for i := range 3 {
		r := l.Allow("user:a")
		require.True(t, r.Allowed, "request %d", i+1)
		require.Equal(t, 2-i, r.Remaining)
	}
	r := l.Allow("user:a")
	require.False(t, r.Allowed)
	require.Positive(t, r.Reset)
	require.True(t, l.Allow("user:b").Allowed, "keys are independent")
}

// Two replicas share the limit through Redis once they reconcile.
func TestLocalSharesTheLimitAcrossReplicas(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := ratelimit.NewLocal(ratelimit.New(rdb, prefix), 3, time.Minute, hour)
	b := ratelimit.NewLocal(ratelimit.New(rdb, prefix), 3, time.Minute, hour)
	ctx := context.Background()

	require.True(t, a.Allow("user:x").Allowed)
	require.True(t, a.Allow("user:x").Allowed)
	require.NoError(t, a.Flush(ctx))
	require.True(t, b.Allow("user:x").Allowed, "b has not heard of a's hits yet")
	require.NoError(t, b.Flush(ctx))
	require.False(t, b.Allow("user:x").Allowed, "b learned the shared count (3 of 3)")
	require.NoError(t, a.Flush(ctx))
	require.False(t, a.Allow("user:x").Allowed, "a learned b's hit without sending any of its own")

	n, err := rdb.Do(ctx, rdb.B().Get().Key(prefix+"rl:user:x").Build()).AsInt64()
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "Redis holds every admitted hit, and no refused one")
}

func TestLocalReconcilesInTheBackground(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := ratelimit.NewLocal(ratelimit.New(rdb, prefix), 100, time.Minute, 10*time.Millisecond)
	for range 5 {
		require.True(t, l.Allow("user:y").Allowed)
	}
	time.Sleep(20 * time.Millisecond)
	l.Allow("user:y") // due: starts a flush
	require.Eventually(t, func() bool {
		n, err := rdb.Do(context.Background(), rdb.B().Get().Key(prefix+"rl:user:y").Build()).AsInt64()
		return err == nil && n >= 5
	}, 2*time.Second, 10*time.Millisecond)
}

func TestLocalKeepsDecidingWhenRedisIsDown(t *testing.T) {
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(t, "ROLLCALL_REDIS_ADDR")}})
	require.NoError(t, err)
	l := ratelimit.NewLocal(ratelimit.New(rdb, "rctest:down:"), 2, time.Minute, hour)
	rdb.Close() // every reconciliation now fails
	require.True(t, l.Allow("user:z").Allowed)
	require.Error(t, l.Flush(context.Background()))
	require.True(t, l.Allow("user:z").Allowed)
	require.False(t, l.Allow("user:z").Allowed, "the local count still holds the limit")
}
