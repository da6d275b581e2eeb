package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

func TestFindAudit(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", "admin").ID
	bob := mustCreateUser(t, db, "bob", "operator").ID
	t0 := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	entries := []struct {
		at       time.Duration
		user     string
		action   string
		resource string
	}{
		{0, alice, "create", "users"},
		{time.Minute, bob, "update", "cameras"},
		{time.Minute, alice, "delete", "users"}, // same instant as the previous one
		{2 * time.Minute, bob, "create", "cameras"},
		{3 * time.Minute, alice, "update", "users"},
	}
	ids := make([]int64, len(entries))
	for i, e := range entries {
		row := &store.AuditLog{OccurredAt: t0.Add(e.at), UserID: &e.user, Username: "x", Action: e.action,
			Method: "POST", Path: "/api/v1/" + e.resource, Resource: e.resource, Status: 200}
		require.NoError(t, store.InsertAudit(ctx, db, row))
		ids[i] = row.ID
	}
	since, until := t0.Add(time.Minute), t0.Add(3*time.Minute)

	tests := []struct {
		name   string
		filter store.AuditFilter
		want   []int // indexes of entries, newest first
	}{
		{"all newest first, ties by id", store.AuditFilter{}, []int{4, 3, 2, 1, 0}},
		{"by user", store.AuditFilter{UserID: alice}, []int{4, 2, 0}},
		{"by resource", store.AuditFilter{Resource: "cameras"}, []int{3, 1}},
		{"by action", store.AuditFilter{Action: "create"}, []int{3, 0}},
		{"since inclusive, until exclusive", store.AuditFilter{Since: &since, Until: &until}, []int{3, 2, 1}},
		{"user and action", store.AuditFilter{UserID: bob, Action: "update"}, []int{1}},
		{"no match", store.AuditFilter{Resource: "faces"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.filter
			f.Limit = 50
			rows, err := store.FindAudit(ctx, db, f)
			require.NoError(t, err)
			var want, got []int64
			for _, i := range tt.want {
				want = append(want, ids[i])
			}
			for _, r := range rows {
				got = append(got, r.ID)
			}
			require.Equal(t, want, got)
		})
	}

	t.Run("cursor pages", func(t *testing.T) {
		var got []int64
		var after *store.Cursor
		for page := 0; ; page++ {
			require.Less(t, page, 5, "pagination does not end")
			rows, err := store.FindAudit(ctx, db, store.AuditFilter{After: after, Limit: 2})
			require.NoError(t, err)
			if len(rows) == 0 {
				break
			}
			for _, r := range rows {
				got = append(got, r.ID)
			}
			last := rows[len(rows)-1]
			after = &store.Cursor{Time: last.OccurredAt, ID: strconv.FormatInt(last.ID, 10)}
		}
		require.Equal(t, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}, got, "the tie at one instant splits across pages without loss")
	})

	t.Run("cursor of another resource", func(t *testing.T) {
		_, err := store.FindAudit(ctx, db, store.AuditFilter{After: &store.Cursor{Time: t0, ID: "not-a-number"}, Limit: 2})
		require.ErrorIs(t, err, store.ErrBadCursor)
	})
}

func TestAuditOutlivesItsUser(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	mustCreateUser(t, db, "root", "admin")
	u := mustCreateUser(t, db, "alice", "viewer")
	require.NoError(t, store.InsertAudit(ctx, db, &store.AuditLog{OccurredAt: time.Now(), UserID: &u.ID, Username: "alice",
		Action: "login", Method: "POST", Path: "/api/v1/auth/login", Status: 200}))

	require.NoError(t, store.DeleteUser(ctx, db, u.ID))

	rows, err := store.FindAudit(ctx, db, store.AuditFilter{UserID: u.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "alice", rows[0].Username)
}

func TestDeleteAuditBefore(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	for _, age := range []time.Duration{400 * 24 * time.Hour, 366 * 24 * time.Hour, 364 * 24 * time.Hour, time.Hour} {
		require.NoError(t, store.InsertAudit(ctx, db, &store.AuditLog{OccurredAt: now.Add(-age), Action: "update",
			Method: "PATCH", Path: "/api/v1/cameras/1", Status: 200}))
	}

	n, err := store.DeleteAuditBefore(ctx, db, now.Add(-365*24*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	rows, err := store.FindAudit(ctx, db, store.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	for _, r := range rows {
		require.True(t, r.OccurredAt.After(now.Add(-365*24*time.Hour)), "kept %v", r.OccurredAt)
	}
}
