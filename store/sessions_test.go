package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// mustLogin creates the first session of a new family and returns its token hash.
func mustLogin(tb testing.TB, db bun.IDB, userID string, expires time.Time) (*store.Session, string) {
	tb.Helper()
	_, hash := auth.NewRefreshToken()
	s := &store.Session{UserID: userID, TokenHash: hash, IP: "192.0.2.1", UserAgent: "test", ExpiresAt: expires}
	require.NoError(tb, store.CreateSession(context.Background(), db, s))
	require.NotEmpty(tb, s.FamilyID)
	return s, hash
}

// nextSession is the successor row RotateSession stores.
func nextSession(expires time.Time) (*store.Session, string) {
	_, hash := auth.NewRefreshToken()
	return &store.Session{TokenHash: hash, IP: "192.0.2.1", UserAgent: "test", ExpiresAt: expires}, hash
}

func mustFindSession(tb testing.TB, db bun.IDB, hash string) *store.Session {
	tb.Helper()
	s, err := store.FindSessionByHash(context.Background(), db, hash)
	require.NoError(tb, err)
	return s
}

func TestRotateSession(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	u := mustCreateUser(t, db, "alice", "viewer")
	first, firstHash := mustLogin(t, db, u.ID, now.Add(time.Hour))

	next, nextHash := nextSession(now.Add(time.Hour))
	old, err := store.RotateSession(ctx, db, firstHash, next, now)
	require.NoError(t, err)
	require.Equal(t, first.ID, old.ID)
	require.Equal(t, first.FamilyID, next.FamilyID, "the new token continues the login's family")
	require.Equal(t, u.ID, next.UserID)
	require.NotNil(t, mustFindSession(t, db, firstHash).UsedAt)

	third, _ := nextSession(now.Add(time.Hour))
	_, err = store.RotateSession(ctx, db, nextHash, third, now)
	require.NoError(t, err, "the new token rotates in turn")
}

func TestRotateSessionReuseRevokesFamily(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	u := mustCreateUser(t, db, "alice", "viewer")
	first, firstHash := mustLogin(t, db, u.ID, now.Add(time.Hour))
	_, otherHash := mustLogin(t, db, u.ID, now.Add(time.Hour)) // another device
	next, nextHash := nextSession(now.Add(time.Hour))
	_, err := store.RotateSession(ctx, db, firstHash, next, now)
	require.NoError(t, err)

	replay, _ := nextSession(now.Add(time.Hour))
	old, err := store.RotateSession(ctx, db, firstHash, replay, now) // a stolen copy of the old token
	require.ErrorIs(t, err, store.ErrSessionReused)
	require.Equal(t, first.FamilyID, old.FamilyID, "the caller learns which family to revoke elsewhere")

	for _, h := range []string{firstHash, nextHash} {
		s := mustFindSession(t, db, h)
		require.NotNil(t, s.RevokedAt, "every token of the family is revoked")
		require.Equal(t, "refresh token reuse", s.RevokedReason)
	}
	_, err = store.FindSessionByHash(ctx, db, replay.TokenHash)
	require.ErrorIs(t, err, store.ErrNotFound, "no token is issued on reuse")
	again, _ := nextSession(now.Add(time.Hour))
	_, err = store.RotateSession(ctx, db, nextHash, again, now)
	require.ErrorIs(t, err, store.ErrSessionReused, "the legitimate holder is signed out too")

	require.Nil(t, mustFindSession(t, db, otherHash).RevokedAt, "other logins of the user are untouched")
}

func TestRotateSessionConcurrentUseCountsAsReuse(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	u := mustCreateUser(t, db, "alice", "viewer")
	_, hash := mustLogin(t, db, u.ID, now.Add(time.Hour))

	errs := make([]error, 2)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range errs {
		wg.Go(func() {
			next, _ := nextSession(now.Add(time.Hour))
			start.Wait()
			_, errs[i] = store.RotateSession(ctx, db, hash, next, now)
		})
	}
	start.Done()
	wg.Wait()

	require.ElementsMatch(t, []error{nil, store.ErrSessionReused}, errs, "one token never yields two live successors")
	live, err := store.LiveFamilies(ctx, db, u.ID)
	require.NoError(t, err)
	require.Empty(t, live)
}

func TestRotateSessionRefusals(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	u := mustCreateUser(t, db, "alice", "viewer")
	_, expiredHash := mustLogin(t, db, u.ID, now.Add(-time.Second))

	next, _ := nextSession(now.Add(time.Hour))
	_, err := store.RotateSession(ctx, db, expiredHash, next, now)
	require.ErrorIs(t, err, store.ErrSessionExpired)
	require.Nil(t, mustFindSession(t, db, expiredHash).UsedAt)

	_, err = store.RotateSession(ctx, db, auth.HashRefreshToken("never issued"), next, now)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.FindSessionByHash(ctx, db, next.TokenHash)
	require.ErrorIs(t, err, store.ErrNotFound, "a refused refresh stores nothing")
}

func TestRevokeUserSessionsKeepsCurrentFamily(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	alice := mustCreateUser(t, db, "alice", "viewer")
	bob := mustCreateUser(t, db, "bob", "viewer")
	current, _ := mustLogin(t, db, alice.ID, now.Add(time.Hour))
	laptop, laptopHash := mustLogin(t, db, alice.ID, now.Add(time.Hour))
	phone, _ := mustLogin(t, db, alice.ID, now.Add(time.Hour))
	bobs, _ := mustLogin(t, db, bob.ID, now.Add(time.Hour))
	rotated, _ := nextSession(now.Add(time.Hour)) // the laptop family now has two rows
	_, err := store.RotateSession(ctx, db, laptopHash, rotated, now)
	require.NoError(t, err)

	revoked, err := store.RevokeUserSessions(ctx, db, alice.ID, current.FamilyID, "password changed", now)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{laptop.FamilyID, phone.FamilyID}, revoked, "each family once")

	live, err := store.LiveFamilies(ctx, db, alice.ID)
	require.NoError(t, err)
	require.Equal(t, []string{current.FamilyID}, live)
	live, err = store.LiveFamilies(ctx, db, bob.ID)
	require.NoError(t, err)
	require.Equal(t, []string{bobs.FamilyID}, live, "other users keep their sessions")

	revoked, err = store.RevokeUserSessions(ctx, db, alice.ID, "", "signed out everywhere", now)
	require.NoError(t, err)
	require.Equal(t, []string{current.FamilyID}, revoked)

	had, err := store.RevokeFamily(ctx, db, current.FamilyID, "again", now)
	require.NoError(t, err)
	require.False(t, had, "a revoked family has no live tokens left")
}

func TestDeleteExpiredSessions(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	u := mustCreateUser(t, db, "alice", "viewer")
	_, longGone := mustLogin(t, db, u.ID, now.Add(-48*time.Hour))
	_, recent := mustLogin(t, db, u.ID, now.Add(-time.Hour))
	_, live := mustLogin(t, db, u.ID, now.Add(time.Hour))

	n, err := store.DeleteExpiredSessions(ctx, db, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	_, err = store.FindSessionByHash(ctx, db, longGone)
	require.ErrorIs(t, err, store.ErrNotFound)
	mustFindSession(t, db, recent) // within the grace period: kept for reuse detection
	mustFindSession(t, db, live)
}

func TestDeleteUserRemovesSessions(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	mustCreateUser(t, db, "root", "admin")
	u := mustCreateUser(t, db, "alice", "viewer")
	_, hash := mustLogin(t, db, u.ID, time.Now().Add(time.Hour))

	require.NoError(t, store.DeleteUser(ctx, db, u.ID))

	_, err := store.FindSessionByHash(ctx, db, hash)
	require.ErrorIs(t, err, store.ErrNotFound)
}
