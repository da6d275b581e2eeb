package workflows_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

const (
	// cameraStreamHistoryFile is a run from before sampling (DefaultVersion
	// of "stream-sampling"); cameraStreamSamplingHistoryFile one of version 1.
	cameraStreamHistoryFile         = "testdata/camera_stream_history.json"
	cameraStreamSamplingHistoryFile = "testdata/camera_stream_sampling_history.json"
	// cameraStreamMarkingHistoryFile adds "stream-mark-every-failure" 1.
	cameraStreamMarkingHistoryFile = "testdata/camera_stream_marking_history.json"
	cameraProbeHistoryFile         = "testdata/camera_probe_history.json"
)

// TestCameraWorkflowsReplayRecordedHistories fails when a change to a
// camera workflow would break runs already started by a deployed worker.
func TestCameraWorkflowsReplayRecordedHistories(t *testing.T) {
	for _, tc := range []struct {
		file     string
		workflow any
	}{
		{cameraStreamHistoryFile, workflows.CameraStreamWorkflow},
		{cameraStreamSamplingHistoryFile, workflows.CameraStreamWorkflow},
		{cameraStreamMarkingHistoryFile, workflows.CameraStreamWorkflow},
		{cameraProbeHistoryFile, workflows.CameraProbeWorkflow},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(tc.workflow)

			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), tc.file))
		})
	}
}

// TestRecordCameraStreamHistory writes
// testdata/camera_stream_marking_history.json (the newest version; older
// recordings stay, for runs started by older workers) from a real run on the
// stack's Temporal server, with stand-ins for the stream activities: two
// sessions failing (camera marked offline twice, backoff), a third one
// streaming and reporting, a reconfigure, a pause, a resume and a cancel.
// Run it only when the workflow changed on purpose (behind
// workflow.GetVersion):
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordCameraStreamHistory ./workflows/
func TestRecordCameraStreamHistory(t *testing.T) {
	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		t.Skip("set ROLLCALL_RECORD_HISTORY=1 to record a new history")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := mustDialRecorder(t)
	taskQueue := "record-camera-stream-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{MaxHeartbeatThrottleInterval: 100 * time.Millisecond})
	w.RegisterWorkflow(workflows.CameraStreamWorkflow)
	w.RegisterActivityWithOptions(func(ctx context.Context, in contract.StreamCameraInput) (contract.StreamReport, error) {
		if in.Session <= 2 {
			return contract.StreamReport{}, temporal.NewApplicationError("camera unreachable", contract.ErrTypeUnreachable, contract.StreamReport{Session: in.Session})
		}
		info := activity.GetInfo(ctx)
		r := contract.StreamReport{Session: in.Session, LastFrameAt: time.Now().UTC(), Counters: contract.StreamCounters{FramesRead: 5, FramesSent: 4, FramesDropped: 1, Faces: 2, Known: 1}}
		if err := c.SignalWorkflow(ctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, workflows.SignalCameraStreamReport, r); err != nil {
			return r, err
		}
		for {
			activity.RecordHeartbeat(ctx, r)
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}, activity.RegisterOptions{Name: "StreamCamera"})
	w.RegisterActivityWithOptions(func(context.Context, contract.MarkCameraStreamInput) (contract.HealthChangeResult, error) {
		return contract.HealthChangeResult{Changed: true, From: "unknown", To: "offline"}, nil
	}, activity.RegisterOptions{Name: "MarkCameraStreamFailed"})
	require.NoError(t, w.Start())
	defer w.Stop()

	cameraID := uuid.NewString()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.CameraStreamWorkflowID(cameraID) + "-" + taskQueue, TaskQueue: taskQueue},
		workflows.CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: cameraID})
	require.NoError(t, err)
	signal := func(name string) {
		t.Helper()
		require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), name, nil))
	}
	mustReachStatus(t, c, run, func(st contract.CameraStreamStatus) bool {
		return st.State == contract.StreamStreaming && st.Sessions == 3
	})
	signal(workflows.SignalCameraReconfigure)
	mustReachStatus(t, c, run, func(st contract.CameraStreamStatus) bool {
		return st.State == contract.StreamStreaming && st.Sessions == 4
	})
	signal(workflows.SignalCameraPause)
	mustReachStatus(t, c, run, func(st contract.CameraStreamStatus) bool { return st.State == contract.StreamPaused })
	signal(workflows.SignalCameraResume)
	mustReachStatus(t, c, run, func(st contract.CameraStreamStatus) bool {
		return st.State == contract.StreamStreaming && st.Sessions == 5
	})
	require.NoError(t, c.CancelWorkflow(ctx, run.GetID(), run.GetRunID()))
	var canceled *temporal.CanceledError
	require.ErrorAs(t, run.Get(ctx, nil), &canceled)

	mustWriteHistory(t, c, run, cameraStreamMarkingHistoryFile)
}

// TestRecordCameraProbeHistory rewrites testdata/camera_probe_history.json
// from a real probe, with Rollcall's activities, of the stack's RTSP camera
// stand-in. Run it only when the workflow changed on purpose:
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordCameraProbeHistory ./workflows/
func TestRecordCameraProbeHistory(t *testing.T) {
	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		t.Skip("set ROLLCALL_RECORD_HISTORY=1 to record a new history")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rtsp := testenv.Require(t, "ROLLCALL_TEST_RTSP_URL")
	db := testenv.DB(t)
	cam := &store.Camera{ID: uuid.NewString(), Name: "Replay camera", StreamURL: rtsp + "/cam1", Direction: camera.DirectionBoth,
		FPS: 1, Timezone: "UTC", State: camera.StateInactive, Health: camera.HealthUnknown}
	require.NoError(t, store.CreateCamera(ctx, db, cam))
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	require.NoError(t, err)

	c := mustDialRecorder(t)
	taskQueue := "record-camera-probe-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.CameraProbeWorkflow)
	w.RegisterActivity(&activities.Activities{DB: db, Log: slog.New(slog.DiscardHandler), Secrets: box, FFmpeg: ffmpeg.Runner{}})
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.CameraProbeWorkflowID(cam.ID, taskQueue), TaskQueue: taskQueue},
		workflows.CameraProbeWorkflow, contract.CameraProbeWorkflowInput{CameraID: cam.ID})
	require.NoError(t, err)
	var out contract.ProbeOutcome
	require.NoError(t, run.Get(ctx, &out))
	require.True(t, out.OK, "probe of %s: %+v", cam.StreamURL, out)
	require.Equal(t, "h264", out.Codec)
	got, err := store.FindCameraByID(ctx, db, cam.ID)
	require.NoError(t, err)
	require.Equal(t, camera.HealthOnline, got.Health, "the probe recorded the camera's health")

	mustWriteHistory(t, c, run, cameraProbeHistoryFile)
}

// mustDialRecorder connects to the stack's Temporal, in this package's namespace.
func mustDialRecorder(tb testing.TB) client.Client {
	tb.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  testenv.Require(tb, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(tb, "rollcall-test-workflows"),
		Logger:    tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(tb, err)
	tb.Cleanup(c.Close)
	return c
}

// mustReachStatus waits until the stream workflow's status satisfies ok,
// so the signals before it are in its history.
func mustReachStatus(tb testing.TB, c client.Client, run client.WorkflowRun, ok func(contract.CameraStreamStatus) bool) {
	tb.Helper()
	var st contract.CameraStreamStatus
	for range 100 {
		v, err := c.QueryWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.QueryCameraStreamStatus)
		require.NoError(tb, err)
		require.NoError(tb, v.Get(&st))
		if ok(st) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("stream status %+v never reached", st)
}

// mustWriteHistory stores the full history of a finished run as JSON.
func mustWriteHistory(tb testing.TB, c client.Client, run client.WorkflowRun, file string) {
	tb.Helper()
	history := &historypb.History{}
	it := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(tb, err)
		history.Events = append(history.Events, ev)
	}
	if len(history.Events) == 0 {
		tb.Fatal(errors.New("empty history"))
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(history)
	require.NoError(tb, err)
	require.NoError(tb, os.WriteFile(file, append(b, '\n'), 0o644))
	tb.Logf("wrote %s: %d events", file, len(history.Events))
}
