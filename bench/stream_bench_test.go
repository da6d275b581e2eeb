package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	temporalclient "go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// The cameras of BenchmarkCameraStreams: one 1080p H.264 mount of the
// camera server at 10 frames/s with a key frame every second (its GOP),
// which every camera reads, sampled at 1 frame/s — so key frames only are
// decoded.
const (
	streamFPS    = 1
	streamMount  = "/hd"
	streamMounts = `[{"path":"/hd","pattern":"ball","width":1920,"height":1080,"fps":10}]`
	// streamStartGap spaces the starts of a step's streams.
	streamStartGap = 10 * time.Millisecond
	// streamSettle bounds the wait, once every camera of a step streams,
	// for 95% of them to stream steadily: for FFmpeg to be through the
	// frames that queued while the streams started.
	streamSettle = 15 * time.Second
	// streamAttempts bounds the starts of a step whose camera server
	// stalls while its cameras join (it sometimes does with a hundred).
	streamAttempts = 3
	// sustainedShare of the wanted frame rate must reach the dashboard
	// for a step to count as sustained.
	sustainedShare = 0.9
)

// streamSteps are the camera counts BenchmarkCameraStreams tries (default
// up to 125: at 150 this 2-core machine, which also runs the camera server
// and the services, is saturated and stopping 150 streams at once can take
// longer than the wait), in
// order (ROLLCALL_BENCH_STREAM_STEPS, e.g. "10,50"); it stops after the
// first one the worker does not sustain.
func streamSteps(b *testing.B) []int {
	v := os.Getenv("ROLLCALL_BENCH_STREAM_STEPS")
	if v == "" {
		return []int{10, 50, 100, 125}
	}
	var steps []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 || (len(steps) > 0 && n <= steps[len(steps)-1]) {
			b.Fatalf("ROLLCALL_BENCH_STREAM_STEPS=%q: want increasing counts from 1 to 1000", v)
		}
		steps = append(steps, n)
	}
	return steps
}

// streamWindow is how long each step is measured once all its cameras
// stream (ROLLCALL_BENCH_STREAM_WINDOW, default 15s).
func streamWindow(b *testing.B) time.Duration {
	v := os.Getenv("ROLLCALL_BENCH_STREAM_WINDOW")
	if v == "" {
		return 15 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 5*time.Second || d > 5*time.Minute {
		b.Fatalf("ROLLCALL_BENCH_STREAM_WINDOW=%q: want 5s to 5m", v)
	}
	return d
}

// BenchmarkCameraStreams measures how many 1080p cameras sampled at
// 1 frame/s one worker process sustains on this machine, what CPU each
// costs, and how long a frame takes from FFmpeg to a dashboard.
//
// The worker is a process of its own (TestStreamWorkerProcess): Rollcall's
// Temporal workers as `rollcall worker` runs them, with a provider
// stand-in that finds one face in every frame at once. A step starts a
// CameraStreamWorkflow for each of its cameras (as the reconcile schedule
// would), waits until every camera's detections reach a WebSocket client
// of the API's live hub and come at the cameras' rate, then measures for
// a window: the frames delivered to that client per camera (a frame
// counts when its detection event arrives) and their latency, the
// streams' own counters from their heartbeats, and from /proc the CPU
// time of the worker, its FFmpeg children and everything else on the
// machine. Each step runs once (b.N is not used), as in BenchmarkCameras,
// and the ramp stops at the first step not sustained.
//
// All cameras read one mount of the camera server, whose shared stream
// has ways real cameras do not: it restarts its timestamps whenever a
// client joins, which stalls the clients already there for as long as
// they have been reading (FFmpeg's fps filter waits for the timestamps to
// catch up); it holds back every client's frames while clients join; and
// clients joining while its first one sets it up, or sometimes a hundred
// joining a busy machine, stall it for good.
// So a step stops the previous step's streams, restarts the camera server
// and starts its first camera, then the others in quick succession, and
// starts again if the camera server stalls meanwhile; and the
// worker's watchdog is raised (streamWatchdog).
func BenchmarkCameraStreams(b *testing.B) {
	steps, window := streamSteps(b), streamWindow(b)
	s := newStack(b, withLiveHub)
	camServer := testenv.StartCameraServer(b, "--no-default-mounts", "--mounts-json", streamMounts)
	ns := testenv.TemporalNamespace(b, benchNamespace)
	tc, err := temporalclient.Dial(temporalclient.Options{HostPort: testenv.Require(b, "ROLLCALL_TEMPORAL_ADDRESS"), Namespace: ns,
		Logger: discardTemporalLog()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tc.Close)
	total := 0
	for _, n := range steps {
		total += n
	}
	// Cameras enough for steps started again (streamAttempts).
	ids := seedStreamCameras(b, s, camServer.URL(streamMount), streamAttempts*total)
	// ids[:used] have had a stream workflow, terminated after the worker
	// stopped.
	used := 0
	b.Cleanup(func() {
		for _, id := range ids[:used] {
			_ = tc.TerminateWorkflow(context.Background(), workflows.CameraStreamWorkflowID(id), "", "benchmark over")
		}
	})
	worker := startStreamWorker(b, databaseURL(b, s), s.redisPrefix)
	watch := watchDetections(b, s)
	env := &streamEnv{tc: tc, streams: &rctemporal.Streams{Client: tc, Namespace: ns}, watch: watch,
		workerPID: worker.pid, camServer: camServer, window: window}

	var done []*streamStep
	var running []string
	for _, n := range steps {
		var st *streamStep
		b.Run(fmt.Sprintf("cameras=%d", n), func(b *testing.B) {
			for attempt := 1; st == nil; attempt++ {
				env.stop(b, running)
				env.restartCameraServer()
				running, used = ids[used:used+n], used+n
				env.start(b, running)
				st = env.measure(b, running)
				st.attempts = attempt
				if st.stalled && attempt < streamAttempts && used+n <= len(ids) {
					b.Logf("the camera server stalled while %d cameras joined; starting the step again", n)
					st = nil
				}
			}
			st.report(b)
		})
		if st == nil {
			break
		}
		done = append(done, st)
		if st.stalled || !st.sustained() {
			break
		}
	}
	if len(done) > 0 {
		printStreamSteps(done, window)
	}
}

// streamEnv is what a step of BenchmarkCameraStreams works with.
type streamEnv struct {
	tc                   temporalclient.Client
	streams              *rctemporal.Streams
	watch                *detectionWatch
	camServer            *testenv.CameraServer
	workerPID, cameraPID int
	window               time.Duration
}

// stop cancels the streams of ids and waits until the worker has no FFmpeg
// process left.
func (e *streamEnv) stop(b *testing.B, ids []string) {
	b.Helper()
	for _, id := range ids {
		if err := e.streams.Stop(b.Context(), id); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(sampleCPU(e.workerPID, 0).ffmpeg) > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("the worker still runs %d FFmpeg processes 60s after its streams were stopped", len(sampleCPU(e.workerPID, 0).ffmpeg))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// restartCameraServer starts the camera server afresh for a step, so
// that no state of the previous step's clients is left in it.
func (e *streamEnv) restartCameraServer() {
	e.camServer.Stop()
	e.camServer.Start()
	e.cameraPID = cameraServerPID(e.camServer.Port)
}

// start starts the streams of ids, streamStartGap apart, once the first
// one streams: clients joining the camera server's shared stream while its
// first client sets it up can stall it for good.
func (e *streamEnv) start(b *testing.B, ids []string) {
	b.Helper()
	since := time.Now()
	for i, id := range ids {
		if err := e.streams.Start(b.Context(), id); err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			time.Sleep(streamStartGap)
			continue
		}
		for e.watch.countSeenSince(ids[:1], since) == 0 {
			if time.Since(since) > 30*time.Second {
				b.Fatal("the first camera of the step did not stream within 30s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// measure waits until the cameras of ids stream, and stream steadily,
// then measures them for one window. It gives up early, marking the step
// stalled, when the camera server stops working before they all stream.
func (e *streamEnv) measure(b *testing.B, ids []string) *streamStep {
	b.Helper()
	st := &streamStep{cameras: len(ids), window: e.window}
	since := time.Now()
	deadline := since.Add(30*time.Second + time.Duration(len(ids))*100*time.Millisecond)
	served, servedAt := time.Duration(0), since // the camera server's CPU time, and when it last grew
	for {
		st.streaming = e.watch.countSeenSince(ids, since)
		if st.streaming == len(ids) || time.Now().After(deadline) {
			break
		}
		if p, _ := readProcStat(e.cameraPID); p.self > served {
			served, servedAt = p.self, time.Now()
		} else if time.Since(servedAt) > 3*time.Second {
			st.stalled = true
			return st
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st.streaming < len(ids) {
		b.Logf("%d of %d cameras streaming after %v; measuring anyway", st.streaming, len(ids), time.Since(since).Round(time.Second))
	}
	// Once FFmpeg is through the frames that queued while the streams
	// started, frames come at the camera's rate.
	period := time.Second / streamFPS
	deadline = time.Now().Add(streamSettle)
	for e.watch.countSteady(ids, period) < (st.streaming*95+99)/100 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	st.steady = e.watch.countSteady(ids, period)
	time.Sleep(period)

	before := streamReports(b.Context(), e.tc, ids)
	t0, cpu0 := time.Now(), sampleCPU(e.workerPID, e.cameraPID)
	time.Sleep(e.window)
	cpu1 := sampleCPU(e.workerPID, e.cameraPID)
	after := streamReports(b.Context(), e.tc, ids)

	st.cpu = cpu0.until(cpu1)
	// Frames read in exactly one window: the cameras share one encoder,
	// so their frames come in step, and a window a little longer would
	// count one more frame for all of them.
	st.delivered, st.latency = e.watch.between(ids, t0, t0.Add(e.window))
	for _, id := range ids {
		r0, ok0 := before[id]
		r1, ok1 := after[id]
		if !ok0 || !ok1 {
			continue
		}
		st.reported++
		if r1.Session != r0.Session {
			st.restarts += r1.Session - r0.Session
			r0 = contract.StreamReport{} // the new session counted from 0
		}
		c0, c1 := r0.Counters, r1.Counters
		st.counters = st.counters.Add(contract.StreamCounters{FramesRead: c1.FramesRead - c0.FramesRead,
			FramesSent: c1.FramesSent - c0.FramesSent, FramesDropped: c1.FramesDropped - c0.FramesDropped,
			FramesRepeated: c1.FramesRepeated - c0.FramesRepeated, ProviderErrors: c1.ProviderErrors - c0.ProviderErrors})
	}
	return st
}
