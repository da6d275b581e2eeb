package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

func TestCacheVersionBumpsWithEveryCameraChange(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	v0, err := store.CacheVersion(ctx, db, store.CacheCameras)
	require.NoError(t, err)
	c := &store.Camera{ID: "22222222-0000-4000-8000-000000000001", Name: "V", StreamURL: "rtsp://h/s", Direction: "both", FPS: 1, Timezone: "UTC", State: "inactive", Health: "unknown"}
	require.NoError(t, store.CreateCamera(ctx, db, c))
	v1, _ := store.CacheVersion(ctx, db, store.CacheCameras)
	_, err = store.RecordCameraHealth(ctx, db, c.ID, "online", "", nil, time.Now())
	require.NoError(t, err)
	v2, _ := store.CacheVersion(ctx, db, store.CacheCameras)
	require.NoError(t, store.DeleteCamera(ctx, db, c.ID))
	v3, _ := store.CacheVersion(ctx, db, store.CacheCameras)
	require.True(t, v0 < v1 && v1 < v2 && v2 < v3, "versions %d %d %d %d", v0, v1, v2, v3)
}

func TestVersionWatcherFollowsNotifications(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := store.NewVersionWatcher(db, slog.New(slog.NewTextHandler(io.Discard, nil)))

	// Not running yet: it reads the table.
	v0, err := w.Version(ctx, store.CacheCameras)
	require.NoError(t, err)

	require.False(t, w.Following())
	go w.Run(ctx)
	require.Eventually(t, w.Following, 3*time.Second, 5*time.Millisecond)
	c := &store.Camera{ID: "22222222-0000-4000-8000-000000000002", Name: "W", StreamURL: "rtsp://h/s", Direction: "both", FPS: 1, Timezone: "UTC", State: "inactive", Health: "unknown"}
	require.NoError(t, store.CreateCamera(ctx, db, c))
	want, err := store.CacheVersion(ctx, db, store.CacheCameras)
	require.NoError(t, err)
	require.Greater(t, want, v0)
	require.Eventually(t, func() bool {
		v, err := w.Version(ctx, store.CacheCameras)
		return err == nil && v == want
	}, 3*time.Second, 5*time.Millisecond, "the watcher learns the new version")

	// Once live it answers without asking the database: closing the pool
	// (the listener keeps its own connection) changes nothing.
	require.NoError(t, db.Close())
	v, err := w.Version(ctx, store.CacheCameras)
	require.NoError(t, err)
	require.Equal(t, want, v)
}

func TestVersionWatcherStopsPromptly(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := store.NewVersionWatcher(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	require.Eventually(t, w.Following, 3*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	require.False(t, w.Following())
}
