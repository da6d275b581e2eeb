package activities_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// sparseKeyframeCamera stands for a camera whose key frames come every few
// seconds: decoding key frames only, FFmpeg's rate filter repeats the same
// picture; decoding every frame, each picture differs.
type sparseKeyframeCamera struct {
	mu    sync.Mutex
	calls []ffmpeg.SampleOptions
}

func (c *sparseKeyframeCamera) Sample(ctx context.Context, _ ffmpeg.Input, o ffmpeg.SampleOptions, onFrame func(ffmpeg.Frame)) error {
	c.mu.Lock()
	c.calls = append(c.calls, o)
	c.mu.Unlock()
	for seq := uint64(1); ; seq++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		picture := seq / 5 // a new key frame every fifth sampled frame
		if !o.KeyframesOnly {
			picture = seq
		}
		onFrame(ffmpeg.Frame{Data: fmt.Appendf(nil, "jpeg %d", picture), At: time.Now(), Seq: seq})
	}
}

func (c *sparseKeyframeCamera) options() []ffmpeg.SampleOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ffmpeg.SampleOptions(nil), c.calls...)
}

type noFaces struct{ provider.Provider }

func (noFaces) Recognize(context.Context, []byte) (provider.Result, error) {
	return provider.Result{}, nil
}

// A camera sampled at 1 fps starts with key-frame-only decoding; when most
// frames turn out to repeat, the stream decodes every frame instead, says
// so in its report and logs it, and does not send the repeats.
func TestStreamLeavesKeyframeDecodingWhenKeyframesAreSparse(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	cam := &store.Camera{ID: uuid.NewString(), Name: "Sparse", StreamURL: "rtsp://10.0.0.9/live", Direction: camera.DirectionBoth, FPS: 1,
		Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
	if err := store.CreateCamera(ctx, db, cam); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sampler := &sparseKeyframeCamera{}
	reports := &reportLog{}
	acts := &activities.Activities{DB: db, Log: log, Providers: fixedProviders{noFaces{}}, Sampler: sampler, Reporter: reports,
		Writer: activities.NewDetectionWriter(db, log),
		Stream: activities.StreamSettings{ReportEvery: 50 * time.Millisecond, HeartbeatEvery: 50 * time.Millisecond}}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: runCtx})
	env.RegisterActivity(acts)
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(acts.StreamCamera, contract.StreamCameraInput{CameraID: cam.ID, Session: 1})
		done <- err
	}()

	deadline := time.Now().Add(10 * time.Second)
	for len(sampler.options()) < 2 || func() bool { r, ok := reports.last(0); return !ok || r.KeyframesOnly }() {
		if time.Now().After(deadline) {
			t.Fatalf("still sampling key frames only: %+v", sampler.options())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not stop")
	}

	opts := sampler.options()
	if len(opts) != 2 || !opts[0].KeyframesOnly || opts[1].KeyframesOnly || opts[1].FPS != 1 {
		t.Fatalf("sampler runs: %+v, want key frames only, then every frame", opts)
	}
	r, _ := reports.last(0)
	c := r.Counters
	// At most one frame waits in the slot and one is being recognised.
	if accounted := c.FramesSent + c.FramesDropped + c.FramesRepeated; c.FramesRepeated < 5 || accounted > c.FramesRead || c.FramesRead-accounted > 2 {
		t.Fatalf("counters %+v: repeats must be counted and not sent", c)
	}
	var events int
	if err := db.NewSelect().Model((*store.DetectionEvent)(nil)).Where("camera_id = ? AND kind = 'keyframes_sparse'", cam.ID).
		ColumnExpr("count(*)").Scan(ctx, &events); err != nil || events != 1 {
		t.Fatalf("keyframes_sparse events: %d (%v)", events, err)
	}
}

// stalledReporter stands for a Temporal that does not answer: every report
// hangs until its caller gives up.
type stalledReporter struct{ calls atomic.Int32 }

func (r *stalledReporter) ReportStream(ctx context.Context, _, _ string, _ contract.StreamReport) error {
	r.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// TestHeartbeatsDoNotWaitOnReports: with reports to the workflow hanging
// (Temporal or the database stalled), the stream keeps heartbeating, and
// each hung call is abandoned after its deadline rather than holding the
// report loop.
func TestHeartbeatsDoNotWaitOnReports(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	cam := &store.Camera{ID: uuid.NewString(), Name: "Stalled reports", StreamURL: "rtsp://10.0.0.9/live", Direction: camera.DirectionBoth, FPS: 5,
		Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
	if err := store.CreateCamera(ctx, db, cam); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reporter := &stalledReporter{}
	acts := &activities.Activities{DB: db, Log: log, Providers: fixedProviders{noFaces{}}, Sampler: &sparseKeyframeCamera{}, Reporter: reporter,
		Writer: activities.NewDetectionWriter(db, log),
		Stream: activities.StreamSettings{ReportEvery: 100 * time.Millisecond, HeartbeatEvery: 100 * time.Millisecond, KeyframesBelowFPS: -1,
			IOTimeout: 200 * time.Millisecond}}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: runCtx})
	var beats atomic.Int32
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
	env.RegisterActivity(acts)
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(acts.StreamCamera, contract.StreamCameraInput{CameraID: cam.ID, Session: 1})
		done <- err
	}()
	time.Sleep(3 * time.Second)
	n, reports := beats.Load(), reporter.calls.Load()
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("stream did not stop")
	}
	// The SDK throttles what reaches the server; at least one got there
	// while every report hung.
	if n < 1 {
		t.Fatal("no heartbeat while reports hung")
	}
	// Each hung report is abandoned after 200 ms, so reports keep being
	// attempted (a loop held by the first would have made one).
	if reports < 5 {
		t.Fatalf("%d report attempts in 3 s, want one every ~300 ms", reports)
	}
}
