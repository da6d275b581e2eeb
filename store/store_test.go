package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// migrations are the names MigrationsStatus and MigrateUp give the
// embedded migrations, in order.
var migrations = []string{"20261125000001_foundation", "20261126000001_cameras", "20261126000002_cache_versions", "20261126000003_faces", "20261126000004_detections", "20261203000001_attendance", "20261203000002_exports", "20261203000201_detection_event_dedupe", "20261204000001_odoo", "20261204000002_camera_config_events", "20261204000010_system_metrics", "20261204000020_partitions", "20261204000030_alerts", "20261204000040_unknown_review"}

func allMigrations(applied bool) map[string]bool {
	out := map[string]bool{}
	for _, m := range migrations {
		out[m] = applied
	}
	return out
}

func mustCreateUser(tb testing.TB, db bun.IDB, username, role string) *store.User {
	tb.Helper()
	u := &store.User{Username: username, Email: username + "@example.com", FullName: "User " + username,
		PasswordHash: "not-a-real-hash", Role: role, IsActive: true}
	require.NoError(tb, store.CreateUser(context.Background(), db, u))
	return u
}

func mustOpen(tb testing.TB, url string) *bun.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), url, 4)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// appliedMigrations maps each known migration to whether it is applied.
func appliedMigrations(tb testing.TB, db *bun.DB) map[string]bool {
	tb.Helper()
	ms, err := store.MigrationsStatus(context.Background(), db)
	require.NoError(tb, err)
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		out[m.Name] = m.Applied
		if m.Applied {
			require.False(tb, m.AppliedAt.IsZero(), "applied migration %s has no time", m.Name)
		}
	}
	return out
}

func tableExists(tb testing.TB, db *bun.DB, table string) bool {
	tb.Helper()
	var exists bool
	require.NoError(tb, db.QueryRowContext(context.Background(), "SELECT to_regclass(?) IS NOT NULL", table).Scan(&exists))
	return exists
}

func TestMigrateDownThenUp(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	require.Equal(t, allMigrations(true), appliedMigrations(t, db))

	// The template applied every migration as one group: down rolls it all back.
	rolled, err := store.MigrateDown(ctx, db)
	require.NoError(t, err)
	require.ElementsMatch(t, migrations, rolled)
	require.Equal(t, allMigrations(false), appliedMigrations(t, db))
	for _, table := range []string{"users", "user_sessions", "audit_logs", "roles", "cameras", "camera_events"} {
		require.False(t, tableExists(t, db, table), "%s survived the rollback", table)
	}

	applied, err := store.MigrateUp(ctx, db)
	require.NoError(t, err)
	require.Equal(t, migrations, applied)
	require.Equal(t, allMigrations(true), appliedMigrations(t, db))
	mustCreateUser(t, db, "after-roundtrip", "viewer") // the schema works again, roles included

	again, err := store.MigrateUp(ctx, db)
	require.NoError(t, err)
	require.Empty(t, again, "nothing left to apply")
}

func TestMigrateUpConcurrentlyMigratesOnce(t *testing.T) {
	url := testenv.DatabaseURL(t)
	ctx := context.Background()
	setup := mustOpen(t, url)
	_, err := store.MigrateDown(ctx, setup)
	require.NoError(t, err)
	_, err = setup.ExecContext(ctx, "DROP TABLE bun_migrations, bun_migration_locks")
	require.NoError(t, err, "make the database as fresh as a new install")

	replicas := []*bun.DB{mustOpen(t, url), mustOpen(t, url)}
	applied := make([][]string, len(replicas))
	errs := make([]error, len(replicas))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i, db := range replicas {
		wg.Go(func() {
			start.Wait()
			applied[i], errs[i] = store.MigrateUp(ctx, db)
		})
	}
	start.Done()
	wg.Wait()

	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ElementsMatch(t, [][]string{migrations, nil}, applied, "exactly one replica applies the migrations")
	require.Equal(t, allMigrations(true), appliedMigrations(t, setup))
}

func TestCursorRoundTrip(t *testing.T) {
	c := store.Cursor{Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ID: "42"}
	got, err := store.DecodeCursor(c.Encode())
	require.NoError(t, err)
	require.True(t, c.Time.Equal(got.Time))
	require.Equal(t, "42", got.ID)

	none, err := store.DecodeCursor("")
	require.NoError(t, err)
	require.Nil(t, none)

	for _, bad := range []string{"%%%", "bm90IGpzb24", store.Cursor{ID: "1"}.Encode(), store.Cursor{Time: c.Time}.Encode()} {
		_, err := store.DecodeCursor(bad)
		require.ErrorIs(t, err, store.ErrBadCursor, "cursor %q", bad)
	}
}
