package activities_test

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// TestStreamWithLongKeyframeInterval joins, mid-GOP, a camera that sends a
// key frame every 30 s (a "smart codec" setting): the first frame may take
// up to the key-frame interval, so the session waits for it instead of
// failing after the 10 s watchdog; once frames flow, decoding key frames
// only would go quiet for 30 s at a time, so the stream decodes every
// frame and keeps delivering.
func TestStreamWithLongKeyframeInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute")
	}
	db := testenv.DB(t)
	srv := testenv.StartCameraServer(t, "--no-default-mounts", "--mounts-json",
		`[{"path": "/smart", "pattern": "ball", "width": 320, "height": 240, "fps": 10, "gop": 300}]`)
	url := srv.URL("/smart")

	// Another client has had the (shared) stream open for 8 s: we join
	// about 22 s before the next key frame.
	viewer := exec.Command("ffmpeg", "-nostdin", "-loglevel", "quiet", "-rtsp_transport", "tcp", "-i", url, "-f", "null", "-")
	viewer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := viewer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-viewer.Process.Pid, syscall.SIGKILL); _ = viewer.Wait() })
	time.Sleep(8 * time.Second)

	ctx := context.Background()
	cam := &store.Camera{ID: uuid.NewString(), Name: "Smart codec", StreamURL: url, Direction: camera.DirectionBoth, FPS: 1,
		Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
	if err := store.CreateCamera(ctx, db, cam); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sampler := &byteCounter{Sampler: ffmpeg.Runner{}}
	reports := &reportLog{}
	acts := &activities.Activities{DB: db, Log: log, Providers: fixedProviders{noFaces{}}, Sampler: sampler, Reporter: reports,
		Writer: activities.NewDetectionWriter(db, log),
		Stream: activities.StreamSettings{ReportEvery: time.Second, HeartbeatEvery: 500 * time.Millisecond}}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: runCtx})
	env.RegisterActivity(acts)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := env.ExecuteActivity(acts.StreamCamera, contract.StreamCameraInput{CameraID: cam.ID, Session: 1})
		done <- err
	}()

	waitFrames := func(n uint64, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for sampler.frames.Load() < n {
			select {
			case err := <-done:
				t.Fatalf("the stream ended after %v with %d frames: %v", time.Since(start).Round(time.Second), sampler.frames.Load(), err)
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d frames after %v, want %d", sampler.frames.Load(), time.Since(start).Round(time.Second), n)
			}
		}
	}
	waitFrames(1, 40*time.Second)
	first := time.Since(start)
	t.Logf("first frame after %v (joined mid-GOP)", first.Round(100*time.Millisecond))
	// Then it keeps streaming: decoding every frame after the next key
	// frame, at the camera's 1 fps.
	waitFrames(sampler.frames.Load()+10, 50*time.Second)
	if r, ok := reports.last(0); !ok || r.KeyframesOnly {
		t.Fatalf("report %+v: want every frame decoded", r)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not stop")
	}
}
