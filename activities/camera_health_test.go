package activities_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// A stream that fails right after delivering frames leaves its camera
// online until the grace has passed without frames; then the next failure
// marks it offline. Probes never mark an active camera.
func TestActiveCameraHealthFollowsItsStream(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now()
	a := &activities.Activities{DB: db, Log: slog.New(slog.DiscardHandler), Stream: activities.StreamSettings{OfflineGrace: 30 * time.Second},
		Now: func() time.Time { return now }}
	c := &store.Camera{ID: uuid.NewString(), Name: "Hall", StreamURL: "rtsp://10.0.0.9/s", Direction: "entry", FPS: 1, State: "active", Health: "online"}
	require.NoError(t, store.CreateCamera(ctx, db, c))
	seen := now.Add(-5 * time.Second)
	_, err := db.NewUpdate().Model(c).Set("last_seen_at = ?", seen).Set("health = 'online'").WherePK().Exec(ctx)
	require.NoError(t, err)

	fail := contract.MarkCameraStreamInput{CameraID: c.ID, Code: contract.ErrTypeUnreachable, Message: "connection refused", Attempt: 1}
	res, err := a.MarkCameraStreamFailed(ctx, fail)
	require.NoError(t, err)
	require.False(t, res.Changed, "frames 5 s ago: still online")

	// A probe that fails (or succeeds) does not decide an active camera's health.
	res, err = a.RecordCameraProbe(ctx, c.ID, contract.ProbeOutcome{OK: false, Code: contract.ErrTypeUnreachable, Message: "refused"})
	require.NoError(t, err)
	require.False(t, res.Changed)

	now = now.Add(time.Minute)
	fail.Attempt = 2
	res, err = a.MarkCameraStreamFailed(ctx, fail)
	require.NoError(t, err)
	require.True(t, res.Changed)
	require.Equal(t, "offline", res.To)
}
