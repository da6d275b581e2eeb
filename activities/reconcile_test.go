package activities_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// activatingStreams plays the API activating a camera while the
// reconciler lists the running streams: the camera is made active and its
// stream started as the listing happens.
type activatingStreams struct {
	db      interface{ activate() }
	id      string
	stopped []string
}

func (s *activatingStreams) Start(context.Context, string) error { return nil }
func (s *activatingStreams) Stop(_ context.Context, id string) error {
	s.stopped = append(s.stopped, id)
	return nil
}
func (s *activatingStreams) Running(context.Context) ([]string, error) {
	s.db.activate()
	return []string{s.id}, nil
}

type activation func()

func (f activation) activate() { f() }

// TestReconcileKeepsAStreamActivatedMeanwhile: a camera activated (and its
// stream started) while the reconciler runs keeps its stream.
func TestReconcileKeepsAStreamActivatedMeanwhile(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	c := &store.Camera{ID: uuid.NewString(), Name: "Just activated", StreamURL: "rtsp://10.0.0.5/s", Direction: "both", FPS: 1,
		Timezone: "UTC", State: camera.StateInactive, Health: camera.HealthUnknown}
	if err := store.CreateCamera(ctx, db, c); err != nil {
		t.Fatal(err)
	}
	streams := &activatingStreams{id: c.ID, db: activation(func() {
		if _, err := db.ExecContext(ctx, "UPDATE cameras SET state = 'active' WHERE id = ?", c.ID); err != nil {
			t.Error(err)
		}
	})}
	acts := &activities.Activities{DB: db, Streams: streams, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := acts.ReconcileCameraStreams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(streams.stopped) != 0 || len(res.Stopped) != 0 {
		t.Fatalf("the stream of a camera activated meanwhile was stopped: %v", streams.stopped)
	}
}
