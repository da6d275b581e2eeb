package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
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

// hungProvider never answers a recognition: each call blocks until its
// context ends. It counts the calls and how many wait at once.
type hungProvider struct {
	provider.Provider
	calls, waiting, maxWaiting atomic.Int64
	source                     atomic.Value // provider.SourceFrom of the last call
}

func (p *hungProvider) Recognize(ctx context.Context, _ []byte) (provider.Result, error) {
	p.source.Store(provider.SourceFrom(ctx))
	p.calls.Add(1)
	n := p.waiting.Add(1)
	defer p.waiting.Add(-1)
	for m := p.maxWaiting.Load(); n > m && !p.maxWaiting.CompareAndSwap(m, n); m = p.maxWaiting.Load() {
	}
	<-ctx.Done()
	return provider.Result{}, ctx.Err()
}

// byteCounter counts what a real sampler delivers.
type byteCounter struct {
	activities.Sampler
	frames, bytes atomic.Uint64
}

func (c *byteCounter) Sample(ctx context.Context, in ffmpeg.Input, o ffmpeg.SampleOptions, onFrame func(ffmpeg.Frame)) error {
	return c.Sampler.Sample(ctx, in, o, func(f ffmpeg.Frame) {
		c.frames.Add(1)
		c.bytes.Add(uint64(len(f.Data)))
		onFrame(f)
	})
}

// reportLog keeps the reports a stream sends its workflow.
type reportLog struct {
	mu      sync.Mutex
	reports []contract.StreamReport
}

func (r *reportLog) ReportStream(_ context.Context, _, _ string, rep contract.StreamReport) error {
	r.mu.Lock()
	r.reports = append(r.reports, rep)
	r.mu.Unlock()
	return nil
}

// last returns the n-th report from the end (0: the latest).
func (r *reportLog) last(n int) (contract.StreamReport, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n >= len(r.reports) {
		return contract.StreamReport{}, false
	}
	return r.reports[len(r.reports)-1-n], true
}

// noisePicture is a JPEG of random pixels: it compresses badly, so every
// frame sampled from it is large and keeping frames would show in the heap.
func noisePicture(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 960, 720))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "noise.jpg")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// processesWith returns the PIDs of live processes whose command line
// contains s (pgrep -f).
func processesWith(t *testing.T, s string) []int {
	t.Helper()
	out, err := exec.Command("pgrep", "-f", s).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: none
		t.Fatalf("pgrep: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// A provider that stops answering does not stall a camera's stream or
// grow its memory: the stream keeps reading frames, at most InFlight wait
// at the provider, the rest are dropped, counted and logged as pipeline
// events, the heap stays flat; cancelling the stream ends every goroutine
// it started and its FFmpeg.
func TestStreamWithHungProviderDropsFramesAndStaysFlat(t *testing.T) {
	db := testenv.DB(t)
	srv := testenv.StartCameraServer(t, "--image-mount", "/noise="+noisePicture(t))
	ctx := context.Background()
	url := srv.URL("/noise")
	cam := &store.Camera{ID: uuid.NewString(), Name: "Hung provider", StreamURL: url, Direction: "both", FPS: 5,
		Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
	if err := store.CreateCamera(ctx, db, cam); err != nil {
		t.Fatal(err)
	}
	var logTo io.Writer = io.Discard
	if os.Getenv("ROLLCALL_TEST_VERBOSE") != "" {
		logTo = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logTo, nil))
	const inFlight = 2
	hung := &hungProvider{}
	sampler := &byteCounter{Sampler: ffmpeg.Runner{}}
	reports := &reportLog{}
	acts := &activities.Activities{DB: db, Log: log, Providers: fixedProviders{hung}, Sampler: sampler, Reporter: reports,
		Writer: activities.NewDetectionWriter(db, log),
		Stream: activities.StreamSettings{ReportEvery: time.Second, HeartbeatEvery: 500 * time.Millisecond, InFlight: inFlight}}

	goroutinesBefore := runtime.NumGoroutine()
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

	// Once frames flow, the heap holds what a stream holds at steady state;
	// five seconds later it must hold no more.
	deadline := time.Now().Add(20 * time.Second)
	for sampler.frames.Load() == 0 {
		select {
		case err := <-done:
			t.Fatalf("stream ended before its first frame: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no frame within 20s")
		}
	}
	time.Sleep(3 * time.Second)
	// Each frame goes to the provider named as its camera's, for face tracking.
	if src, _ := hung.source.Load().(string); src != cam.ID {
		t.Errorf("the provider was told the frame's source is %q, want the camera %s", src, cam.ID)
	}
	heapAt3, bytesAt3 := heapInUse(), sampler.bytes.Load()
	time.Sleep(5 * time.Second)
	heapAt8, bytesAt8 := heapInUse(), sampler.bytes.Load()
	read := bytesAt8 - bytesAt3
	growth := int64(heapAt8) - int64(heapAt3)
	t.Logf("heap in use %.1f MiB after 3s, %.1f MiB after 8s (%+.2f MiB) while %.1f MiB of frames (%d frames in all, %.0f KiB each) were read",
		mib(heapAt3), mib(heapAt8), float64(growth)/(1<<20), mib(read), sampler.frames.Load(), float64(bytesAt8)/float64(sampler.frames.Load())/1024)
	if read < 4<<20 {
		t.Fatalf("only %.1f MiB of frames read in 5s: too little to tell a flat heap from a leak", mib(read))
	}
	if growth > 2<<20 {
		t.Errorf("heap grew by %.1f MiB in 5s while the provider hung; want < 2 MiB", float64(growth)/(1<<20))
	}

	ffmpegs := processesWith(t, url)
	if len(ffmpegs) != 1 {
		t.Errorf("FFmpeg processes reading %s: %v, want one", url, ffmpegs)
	}
	calls := hung.calls.Load() // a frame taken as the stream stops may still be tried
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a cancelled stream returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end within 10s of its cancellation")
	}

	last, ok := reports.last(0)
	if !ok {
		t.Fatal("the stream sent no report")
	}
	c := last.Counters
	t.Logf("last report: %+v", c)
	if c.FramesSent != inFlight || calls != inFlight || hung.maxWaiting.Load() != inFlight {
		t.Errorf("%d frames sent, %d provider calls, %d at once; want %d each (InFlight)", c.FramesSent, calls, hung.maxWaiting.Load(), inFlight)
	}
	// A read frame is sent, dropped, or waiting in the one-frame slot (a
	// report may also catch one frame between its read and its drop).
	if c.FramesDropped == 0 || c.FramesRead < c.FramesSent+c.FramesDropped || c.FramesRead-c.FramesSent-c.FramesDropped > 2 {
		t.Errorf("frames read %d, sent %d, dropped %d: want read ≈ sent + dropped, dropped > 0", c.FramesRead, c.FramesSent, c.FramesDropped)
	}
	if c.ProviderErrors != 0 || last.LastProviderError != "" {
		t.Errorf("a provider that is only slow counted as failing: %d errors (%q)", c.ProviderErrors, last.LastProviderError)
	}

	// Every report logged the frames dropped since the previous one.
	rows, err := db.QueryContext(ctx, "SELECT details FROM detection_event_logs WHERE camera_id = ? AND kind = 'frames_dropped' AND level = 'warn'", cam.ID)
	if err != nil {
		t.Fatal(err)
	}
	var events int
	var logged uint64
	for rows.Next() {
		var raw []byte
		var d struct{ Dropped uint64 }
		if err := rows.Scan(&raw); err != nil || json.Unmarshal(raw, &d) != nil {
			t.Fatalf("frames_dropped details %s: %v", raw, err)
		}
		events++
		logged += d.Dropped
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The last report's event may have been cut short by the cancellation.
	prev, _ := reports.last(1)
	if events == 0 || logged > c.FramesDropped || logged < prev.Counters.FramesDropped {
		t.Errorf("%d frames_dropped events logging %d frames; reports said %d then %d", events, logged, prev.Counters.FramesDropped, c.FramesDropped)
	}

	// Nothing the stream started outlives it.
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutinesBefore {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the stream ended, %d before:\n%s", n, goroutinesBefore, buf[:runtime.Stack(buf, true)])
	}
	for _, pid := range ffmpegs {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("FFmpeg %d still runs after the stream ended", pid)
		}
	}
	if left := processesWith(t, url); len(left) > 0 {
		t.Errorf("FFmpeg processes reading %s after the stream ended: %v", url, left)
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestStreamHandsBackOnWorkerShutdown: when its worker starts shutting
// down, a stream ends its session with worker_shutdown (which the workflow
// does not count against the camera) instead of being cut off as failed.
func TestStreamHandsBackOnWorkerShutdown(t *testing.T) {
	db := testenv.DB(t)
	srv := testenv.StartCameraServer(t, "--image-mount", "/noise="+noisePicture(t))
	ctx := context.Background()
	cam := &store.Camera{ID: uuid.NewString(), Name: "Shutdown", StreamURL: srv.URL("/noise"), Direction: "both", FPS: 2,
		Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
	if err := store.CreateCamera(ctx, db, cam); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sampler := &byteCounter{Sampler: ffmpeg.Runner{}}
	acts := &activities.Activities{DB: db, Log: log, Providers: fixedProviders{&hungProvider{}}, Sampler: sampler, Reporter: &reportLog{},
		Writer: activities.NewDetectionWriter(db, log),
		Stream: activities.StreamSettings{ReportEvery: time.Second, HeartbeatEvery: 500 * time.Millisecond, InFlight: 1}}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	stop := make(chan struct{})
	env.SetWorkerStopChannel(stop)
	env.RegisterActivity(acts)
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(acts.StreamCamera, contract.StreamCameraInput{CameraID: cam.ID, Session: 1})
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for sampler.frames.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if sampler.frames.Load() == 0 {
		t.Fatal("no frame within 20s")
	}
	close(stop)
	select {
	case err := <-done:
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeWorkerShutdown {
			t.Fatalf("session ended with %v, want %s", err, contract.ErrTypeWorkerShutdown)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not hand its session back within 10s of the worker stopping")
	}
}
