package revoke_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/revoke"
	"github.com/rollcall/rollcall/internal/testenv"
)

func mustIsRevoked(tb testing.TB, l *revoke.List, family string) bool {
	tb.Helper()
	revoked, err := l.IsRevoked(context.Background(), family)
	require.NoError(tb, err)
	return revoked
}

func TestRevokeMarksFamilies(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := revoke.New(rdb, prefix, 15*time.Minute)
	ctx := context.Background()

	require.False(t, mustIsRevoked(t, l, "family-a"))
	require.NoError(t, l.Revoke(ctx, "family-a", "family-b"))
	require.NoError(t, l.Revoke(ctx)) // nothing to revoke is fine

	require.True(t, mustIsRevoked(t, l, "family-a"))
	require.True(t, mustIsRevoked(t, l, "family-b"))
	require.False(t, mustIsRevoked(t, l, "family-c"))
}

func TestRevokeOutlivesAccessTokens(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ttl := 15 * time.Minute
	l := revoke.New(rdb, prefix, ttl)
	require.NoError(t, l.Revoke(context.Background(), "family-a"))

	left, err := rdb.Do(context.Background(), rdb.B().Pttl().Key(prefix+"revoked:family-a").Build()).AsInt64()
	require.NoError(t, err)
	require.Greater(t, time.Duration(left)*time.Millisecond, ttl, "a revocation is remembered longer than any access token of the family lives")
}

// TestRevokeReachesOtherReplicas: replica B has cached "not revoked" client-side;
// replica A revokes; B must see it without waiting for its cache entry to expire.
func TestRevokeReachesOtherReplicas(t *testing.T) {
	rdbA, prefix := testenv.Redis(t)
	rdbB, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(t, "ROLLCALL_REDIS_ADDR")}})
	require.NoError(t, err)
	t.Cleanup(rdbB.Close)
	replicaA := revoke.New(rdbA, prefix, 15*time.Minute)
	replicaB := revoke.New(rdbB, prefix, 15*time.Minute)
	ctx := context.Background()

	require.False(t, mustIsRevoked(t, replicaB, "family-a"))
	cached := rdbB.DoCache(ctx, rdbB.B().Get().Key(prefix+"revoked:family-a").Cache(), time.Minute)
	require.True(t, cached.IsCacheHit(), "replica B answers from its client-side cache")

	require.NoError(t, replicaA.Revoke(ctx, "family-a"))

	require.Eventually(t, func() bool { return mustIsRevoked(t, replicaB, "family-a") },
		2*time.Second, 10*time.Millisecond, "replica B still trusts a revoked session")
}
