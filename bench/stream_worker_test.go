package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/rueidis"
	temporalclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

// Environment of the worker process BenchmarkCameraStreams starts: the
// database it works on and the Redis key prefix of the live events.
const (
	envStreamWorkerDB     = "ROLLCALL_BENCH_STREAM_WORKER_DB"
	envStreamWorkerPrefix = "ROLLCALL_BENCH_STREAM_WORKER_PREFIX"
)

// streamWatchdog replaces the default 10 s watchdog of the worker's
// streams. The camera server holds back the frames of all its clients
// while clients join (its one shared encoder stream restarts at each
// join), and with a hundred joining the first frames come after more than
// 10 s; real cameras do not wait for each other. The watchdog costs
// nothing while frames flow, so the figures are those of the default.
const streamWatchdog = time.Minute

// streamWorkerReady is the line the worker process prints once it polls.
const streamWorkerReady = "stream worker ready"

// TestStreamWorkerProcess is not a test: it is the worker process of
// BenchmarkCameraStreams, which runs the test binary again with
// ROLLCALL_BENCH_STREAM_WORKER_DB set. It runs Rollcall's Temporal workers
// as `rollcall worker` does (no schedules), with fastProviders as the face
// provider and streamWatchdog, until its standard input closes.
func TestStreamWorkerProcess(t *testing.T) {
	dbURL := os.Getenv(envStreamWorkerDB)
	if dbURL == "" {
		t.Skip("the worker process of BenchmarkCameraStreams, which runs it")
	}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("ROLLCALL_TEST_VERBOSE") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	db, err := store.Open(ctx, dbURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{os.Getenv("ROLLCALL_REDIS_ADDR")}})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	tc, err := temporalclient.Dial(temporalclient.Options{HostPort: os.Getenv("ROLLCALL_TEMPORAL_ADDRESS"), Namespace: benchNamespace,
		Logger: tlog.NewStructuredLogger(log)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize)) // the cameras have no credentials to open
	if err != nil {
		t.Fatal(err)
	}
	prefix := os.Getenv(envStreamWorkerPrefix)
	streams := &rctemporal.Streams{Client: tc, Namespace: benchNamespace}
	writer := activities.NewDetectionWriter(db, log)
	writerCtx, stopWriter := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); writer.Run(writerCtx) }()
	acts := &activities.Activities{DB: db, Log: log, Secrets: box, FFmpeg: ffmpeg.Runner{}, Streams: streams,
		Providers: fastProviders{}, Live: live.NewHub(rdb, prefix, log), Recent: live.NewRecent(rdb, prefix, live.DefaultWindow, live.DefaultPerCamera),
		Sampler: ffmpeg.Runner{}, Reporter: streams, Writer: writer, Stream: activities.StreamSettings{Watchdog: streamWatchdog}}
	workers := rctemporal.NewWorkers(tc, rctemporal.WorkerOptions{Activities: acts, Log: log})
	for _, w := range workers {
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println(streamWorkerReady)
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, w := range workers {
		w.Stop()
	}
	stopWriter()
	<-writerDone
}

// workerProcess is a running TestStreamWorkerProcess.
type workerProcess struct {
	pid int
}

// startStreamWorker starts the worker process on the database at dbURL,
// publishing live events under the Redis prefix, and waits until it polls;
// it is stopped (its streams cancelled, its FFmpeg processes gone) when
// the benchmark ends.
func startStreamWorker(b *testing.B, dbURL, prefix string) *workerProcess {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestStreamWorkerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envStreamWorkerDB+"="+dbURL, envStreamWorkerPrefix+"="+prefix)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ready, outDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(outDone)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if lines.Text() == streamWorkerReady {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	b.Cleanup(func() {
		_ = stdin.Close() // the worker stops its streams and exits
		select {
		case <-outDone:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-outDone
		}
		_ = cmd.Wait()
	})
	select {
	case <-ready:
	case <-outDone:
		b.Fatal("the stream worker process exited before polling")
	case <-time.After(60 * time.Second):
		b.Fatal("the stream worker process did not start polling within 60s")
	}
	return &workerProcess{pid: cmd.Process.Pid}
}

// fastProvider is a face provider stand-in that finds one unknown face in
// any frame at once, so what is measured is Rollcall's pipeline.
type fastProvider struct{}

func (fastProvider) Recognize(context.Context, []byte) (provider.Result, error) {
	return provider.Result{Faces: []provider.Face{{Box: provider.Box{X: 880, Y: 420, Width: 160, Height: 200},
		DetectionConfidence: 0.98, Similarity: 0.31}}}, nil
}

func (fastProvider) Enroll(context.Context, string, []provider.Image) ([]string, error) {
	return nil, provider.ErrUnsupported
}
func (fastProvider) DeleteImage(context.Context, string, string) error {
	return provider.ErrUnsupported
}
func (fastProvider) DeleteSubject(context.Context, string) error { return provider.ErrUnsupported }
func (fastProvider) Health(context.Context) error                { return nil }
func (fastProvider) Capabilities() provider.Capabilities         { return provider.Capabilities{} }

// fastProviders configures fastProvider (activities.Providers).
type fastProviders struct{}

func (fastProviders) Current(context.Context) (provider.Provider, provider.Config, error) {
	return fastProvider{}, provider.Config{Kind: "bench", MaxInFlight: 1}, nil
}

// databaseURL is the URL of the stack's database, for another process.
func databaseURL(b *testing.B, s *stack) string {
	b.Helper()
	var name string
	if err := s.db.QueryRowContext(b.Context(), "SELECT current_database()").Scan(&name); err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(testenv.Require(b, "ROLLCALL_TEST_DATABASE_URL"))
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func discardTemporalLog() tlog.Logger { return tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)) }

// seedStreamCameras inserts n active cameras reading url at streamFPS.
func seedStreamCameras(b *testing.B, s *stack, url string, n int) []string {
	b.Helper()
	// Random IDs: a stream workflow is found by its camera's ID, and one
	// of an earlier run must not be taken up again.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	cams := make([]store.Camera, n)
	ids := make([]string, n)
	for i := range cams {
		ids[i] = benchUUID(rng)
		cams[i] = store.Camera{ID: ids[i], Name: fmt.Sprintf("Stream %03d", i), Site: "HQ", StreamURL: url, Direction: "entry",
			FPS: streamFPS, Timezone: "UTC", Tags: []string{}, State: camera.StateActive, Health: camera.HealthUnknown}
	}
	if _, err := s.db.NewInsert().Model(&cams).Exec(b.Context()); err != nil {
		b.Fatalf("seed cameras: %v", err)
	}
	return ids
}
