package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// childEnv, set to "worker", makes the test binary run `rollcall worker`
// instead of the tests: a worker process of its own that a test can kill.
const childEnv = "ROLLCALL_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "worker" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{"worker"}, os.Getenv, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "rollcall worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// workerProcess is `rollcall worker` running in a process of its own.
type workerProcess struct {
	cmd *exec.Cmd
}

// startWorkerProcess runs the test binary as `rollcall worker` with the
// stack's environment and the given overrides; it is stopped (SIGTERM,
// then SIGKILL) when the test ends, unless the test killed it, and its
// log is shown if the test failed.
func startWorkerProcess(tb testing.TB, name string, overrides map[string]string) *workerProcess {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), name+".log")
	out, err := os.Create(logPath)
	require.NoError(tb, err)
	defer out.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=worker")
	for k, v := range overrides {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Not left polling Temporal if the test binary itself is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(tb, cmd.Start())
	w := &workerProcess{cmd: cmd}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
		if tb.Failed() {
			b, _ := os.ReadFile(logPath)
			tb.Logf("%s log:\n%s", name, lastLines(string(b), 40))
		}
	})
	return w
}

// kill ends the worker at once, as a crash or an OOM kill would.
func (w *workerProcess) kill(tb testing.TB) {
	tb.Helper()
	require.NoError(tb, w.cmd.Process.Signal(syscall.SIGKILL))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ffmpegsReading returns the PIDs of the processes whose command line
// holds url (the camera's FFmpeg).
func ffmpegsReading(tb testing.TB, url string) []int {
	tb.Helper()
	out, _ := exec.Command("pgrep", "-f", url).Output() // status 1: none
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// running reports whether pid is a process that has not exited (a zombie
// has).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// Killing the worker that runs a camera's stream (SIGKILL: no shutdown)
// and starting another moves the stream to the new worker within the
// activity's heartbeat timeout, without marking the camera offline; the
// dead worker's FFmpeg does not outlive it.
func TestStreamMovesToAnotherWorkerWhenItsWorkerIsKilled(t *testing.T) {
	testenv.Require(t, "ROLLCALL_JWT_SECRET")
	namespace := testenv.TemporalNamespace(t, "rollcall-test-cmd-streams")
	_, prefix := testenv.Redis(t)
	dbURL := testenv.DatabaseURL(t)
	db, err := store.Open(context.Background(), dbURL, 2)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	srv := testenv.StartCameraServer(t)
	ctx := context.Background()

	camURL := srv.URL("/cam1")
	cam := &store.Camera{ID: uuid.NewString(), Name: "Kill test", StreamURL: camURL, Direction: "both", FPS: 2,
		Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
	require.NoError(t, store.CreateCamera(ctx, db, cam))

	tc, err := temporal.NewClient(temporal.Options{Address: os.Getenv("ROLLCALL_TEMPORAL_ADDRESS"), Namespace: namespace, Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	streams := &temporal.Streams{Client: tc, Namespace: namespace}
	env := map[string]string{
		"ROLLCALL_DATABASE_URL":       dbURL,
		"ROLLCALL_TEMPORAL_NAMESPACE": namespace,
		"ROLLCALL_REDIS_PREFIX":       prefix,
		"ROLLCALL_PROVIDER_DATA":      t.TempDir(),
		"ROLLCALL_LOG_LEVEL":          "info",
	}

	first := startWorkerProcess(t, "worker-1", env)
	require.NoError(t, streams.Start(ctx, cam.ID))
	t.Cleanup(func() {
		// Terminated, which needs no worker; and the schedules the workers
		// keep in this namespace are paused, as in TestRunAllServesUntilCancelled.
		_ = tc.TerminateWorkflow(ctx, workflows.CameraStreamWorkflowID(cam.ID), "", "test ended")
		for _, s := range temporal.Schedules(temporal.WorkerOptions{}) {
			_ = tc.ScheduleClient().GetHandle(ctx, s.ID).Pause(ctx, client.SchedulePauseOptions{Note: "paused by tests"})
		}
	})

	waitStatus := func(within time.Duration, ok func(contract.CameraStreamStatus) bool) contract.CameraStreamStatus {
		t.Helper()
		var st contract.CameraStreamStatus
		var err error
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			if st, err = streams.Status(ctx, cam.ID); err == nil && ok(st) {
				return st
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("stream status %+v (%v)", st, err)
		return st
	}
	before := waitStatus(60*time.Second, func(st contract.CameraStreamStatus) bool {
		return st.State == contract.StreamStreaming && st.Sessions == 1
	})
	time.Sleep(2 * time.Second) // a heartbeat or so after the first frame
	ffmpegs := ffmpegsReading(t, camURL)
	require.Len(t, ffmpegs, 1, "FFmpeg processes reading the camera")

	first.kill(t)
	killedAt := time.Now()
	startWorkerProcess(t, "worker-2", env)

	// FFmpeg's output pipe has no reader left: it exits.
	require.Eventually(t, func() bool { return !running(ffmpegs[0]) }, 10*time.Second, 100*time.Millisecond,
		"the killed worker's FFmpeg (pid %d) lingers", ffmpegs[0])
	t.Logf("the killed worker's FFmpeg exited within %s", time.Since(killedAt).Round(100*time.Millisecond))

	var noticed time.Duration
	after := waitStatus(workflows.StreamHeartbeatTimeout+20*time.Second, func(st contract.CameraStreamStatus) bool {
		if st.State == contract.StreamReconnecting && noticed == 0 {
			noticed = time.Since(killedAt)
		}
		return st.State == contract.StreamStreaming && st.Sessions >= 2 && st.LastFrameAt != nil && st.LastFrameAt.After(killedAt)
	})
	resumed := after.LastFrameAt.Sub(killedAt)
	t.Logf("kill → stream reconnecting seen after %s; kill → first frame on the new worker %s (heartbeat timeout %s)",
		noticed.Round(100*time.Millisecond), resumed.Round(100*time.Millisecond), workflows.StreamHeartbeatTimeout)
	t.Logf("counters before the kill %+v, after the move %+v", before.Counters, after.Counters)
	require.LessOrEqual(t, resumed, workflows.StreamHeartbeatTimeout+10*time.Second, "the stream resumed too late")
	require.Equal(t, 2, after.Sessions)
	require.Greater(t, after.Counters.FramesRead, before.Counters.FramesRead)
	require.Equal(t, "worker_lost", after.LastErrorCode)
	require.Zero(t, after.Failures, "failures reset once frames flow")

	// The camera never looked offline, and the new session started once.
	events, err := store.FindCameraEvents(ctx, db, store.CameraEventFilter{CameraID: cam.ID, Limit: 10})
	require.NoError(t, err)
	for _, e := range events {
		require.NotEqual(t, camera.HealthOffline, e.ToValue, "a lost worker marked the camera offline: %+v", e)
	}
	c, err := store.FindCameraByID(ctx, db, cam.ID)
	require.NoError(t, err)
	require.Equal(t, camera.HealthOnline, c.Health)
	var started int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM detection_event_logs WHERE camera_id = ? AND kind = 'stream_started'", cam.ID).Scan(&started))
	require.Equal(t, 2, started, "stream_started events")
	require.Len(t, ffmpegsReading(t, camURL), 1, "FFmpeg processes reading the camera after the move")
}

// With ROLLCALL_STREAM_SLOTS=1 two workers take one camera each; the third
// camera waits visibly (no_stream_slot) instead of piling onto a worker,
// and a third worker picks it up.
func TestStreamSlotsSpreadCamerasAcrossWorkers(t *testing.T) {
	testenv.Require(t, "ROLLCALL_JWT_SECRET")
	namespace := testenv.TemporalNamespace(t, "rollcall-test-cmd-slots")
	_, prefix := testenv.Redis(t)
	dbURL := testenv.DatabaseURL(t)
	db, err := store.Open(context.Background(), dbURL, 2)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	srv := testenv.StartCameraServer(t)
	ctx := context.Background()
	var cams []*store.Camera
	for i, mount := range []string{"/cam1", "/cam2", "/cam1"} {
		c := &store.Camera{ID: uuid.NewString(), Name: "Slot " + strconv.Itoa(i), StreamURL: srv.URL(mount), Direction: "both", FPS: 1,
			Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
		require.NoError(t, store.CreateCamera(ctx, db, c))
		cams = append(cams, c)
	}
	tc, err := temporal.NewClient(temporal.Options{Address: os.Getenv("ROLLCALL_TEMPORAL_ADDRESS"), Namespace: namespace, Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	streams := &temporal.Streams{Client: tc, Namespace: namespace, PlacementTimeout: 10 * time.Second}
	env := map[string]string{
		"ROLLCALL_DATABASE_URL":       dbURL,
		"ROLLCALL_TEMPORAL_NAMESPACE": namespace,
		"ROLLCALL_REDIS_PREFIX":       prefix,
		"ROLLCALL_PROVIDER_DATA":      t.TempDir(),
		"ROLLCALL_STREAM_SLOTS":       "1",
	}
	startWorkerProcess(t, "worker-1", env)
	startWorkerProcess(t, "worker-2", env)
	t.Cleanup(func() {
		for _, c := range cams {
			_ = tc.TerminateWorkflow(ctx, workflows.CameraStreamWorkflowID(c.ID), "", "test ended")
		}
		for _, s := range temporal.Schedules(temporal.WorkerOptions{}) {
			_ = tc.ScheduleClient().GetHandle(ctx, s.ID).Pause(ctx, client.SchedulePauseOptions{Note: "paused by tests"})
		}
	})
	for _, c := range cams {
		require.NoError(t, streams.Start(ctx, c.ID))
	}
	states := func() (streaming int, noSlot int) {
		for _, c := range cams {
			st, err := streams.Status(ctx, c.ID)
			if err != nil {
				continue
			}
			if st.State == contract.StreamStreaming {
				streaming++
			}
			if st.LastErrorCode == contract.ErrTypeNoStreamSlot && st.State != contract.StreamStreaming {
				noSlot++
			}
		}
		return
	}
	require.Eventually(t, func() bool { s, n := states(); return s == 2 && n == 1 }, 60*time.Second, 250*time.Millisecond,
		"two cameras streaming, one waiting for a slot")
	startWorkerProcess(t, "worker-3", env)
	require.Eventually(t, func() bool { s, _ := states(); return s == 3 }, 60*time.Second, 250*time.Millisecond,
		"the third worker took the waiting camera")
}
