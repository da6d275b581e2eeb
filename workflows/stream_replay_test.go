package workflows_test

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/workflows"
)

const streamFaultsHistoryFile = "testdata/camera_stream_faults_history.json"

// TestStreamFaultsReplay replays a recorded stream run that lost its
// worker (heartbeat timeout), lost it again (backoff), failed on the
// camera (marked), ran, and continued as new after its control signals,
// between sessions.
func TestStreamFaultsReplay(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(workflows.CameraStreamWorkflow)
	require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), streamFaultsHistoryFile))
}

// TestRecordStreamFaultsHistory records that run on the stack's Temporal
// with stand-in activities (no camera needed):
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordStreamFaultsHistory ./workflows/
func TestRecordStreamFaultsHistory(t *testing.T) {
	ctx, c, w, taskQueue := streamRecorder(t, "record-stream-", 3*time.Minute)
	var calls atomic.Int32
	w.RegisterActivityWithOptions(func(ctx context.Context, in contract.StreamCameraInput) (contract.StreamReport, error) {
		switch calls.Add(1) {
		case 1, 2: // the worker "dies": no heartbeat until the timeout
			<-ctx.Done()
			return contract.StreamReport{}, ctx.Err()
		case 3:
			return contract.StreamReport{}, temporal.NewApplicationError("camera unreachable", contract.ErrTypeUnreachable)
		default: // streams until cancelled by continue-as-new
			for {
				activity.RecordHeartbeat(ctx, contract.StreamReport{Session: in.Session})
				select {
				case <-ctx.Done():
					return contract.StreamReport{Session: in.Session}, ctx.Err()
				case <-time.After(time.Second):
				}
			}
		}
	}, activity.RegisterOptions{Name: "StreamCamera"})
	w.RegisterActivityWithOptions(func(context.Context, contract.MarkCameraStreamInput) (contract.HealthChangeResult, error) {
		return contract.HealthChangeResult{Changed: true, From: "online", To: "offline"}, nil
	}, activity.RegisterOptions{Name: "MarkCameraStreamFailed"})
	require.NoError(t, w.Start())
	defer w.Stop()

	id := taskQueue
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, workflows.CameraStreamWorkflow,
		contract.CameraStreamWorkflowInput{CameraID: "7d3c9a4e-0000-4000-8000-0000000000aa"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return calls.Load() >= 4 }, 90*time.Second, 200*time.Millisecond, "four sessions")
	// Control signals up to the budget; the last, a reconfigure, ends the
	// session, and the run continues as new between sessions.
	for range 499 {
		require.NoError(t, c.SignalWorkflow(ctx, id, run.GetRunID(), workflows.SignalCameraResume, nil))
	}
	require.NoError(t, c.SignalWorkflow(ctx, id, run.GetRunID(), workflows.SignalCameraReconfigure, nil))
	// (run.Get would follow the chain into the next run.)
	require.Eventually(t, func() bool {
		d, err := c.DescribeWorkflow(ctx, id, run.GetRunID())
		return err == nil && d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
	}, 30*time.Second, 200*time.Millisecond, "the run continued as new")
	history := fetchHistory(t, c, id, run.GetRunID())
	last := history.Events[len(history.Events)-1].GetEventType()
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, last)
	writeHistory(t, streamFaultsHistoryFile, history)
	_ = c.TerminateWorkflow(context.Background(), id, "", "recorded")
}

const streamSessionLimitHistoryFile = "testdata/camera_stream_session_limit_history.json"

// TestStreamSessionLimitReplay replays a recorded stream whose sessions
// reached their time limit twice (24 hours in production; the recording
// sets a few seconds): each time the stream was opened again at once,
// without marking the camera or counting a failure.
func TestStreamSessionLimitReplay(t *testing.T) {
	b, err := os.ReadFile(streamSessionLimitHistoryFile)
	require.NoError(t, err)
	history := &historypb.History{}
	require.NoError(t, protojson.Unmarshal(b, history))
	limits, scheduled := 0, 0
	for _, ev := range history.Events {
		if a := ev.GetActivityTaskTimedOutEventAttributes(); a != nil &&
			a.GetFailure().GetTimeoutFailureInfo().GetTimeoutType() == enumspb.TIMEOUT_TYPE_START_TO_CLOSE {
			limits++
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			require.Equal(t, "StreamCamera", a.GetActivityType().GetName(), "a session limit is not a camera failure: nothing is marked")
			scheduled++
		}
	}
	require.GreaterOrEqual(t, limits, 2, "the history covers sessions ending at their time limit")
	require.Greater(t, scheduled, limits, "each session that reached its limit was opened again")

	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(workflows.CameraStreamWorkflow)
	require.NoError(t, r.ReplayWorkflowHistory(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), history))
}

// TestRecordStreamSessionLimitHistory records that run with a 3-second
// session limit and a stand-in stream that heartbeats until it is stopped:
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordStreamSessionLimitHistory ./workflows/
func TestRecordStreamSessionLimitHistory(t *testing.T) {
	ctx, c, w, taskQueue := streamRecorder(t, "record-stream-limit-", 2*time.Minute)
	var calls atomic.Int32
	w.RegisterActivityWithOptions(func(ctx context.Context, in contract.StreamCameraInput) (contract.StreamReport, error) {
		calls.Add(1)
		for {
			activity.RecordHeartbeat(ctx, contract.StreamReport{Session: in.Session})
			select {
			case <-ctx.Done():
				return contract.StreamReport{Session: in.Session}, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}, activity.RegisterOptions{Name: "StreamCamera"})
	w.RegisterActivityWithOptions(func(context.Context, contract.MarkCameraStreamInput) (contract.HealthChangeResult, error) {
		t.Error("a session that reached its time limit marked the camera")
		return contract.HealthChangeResult{}, nil
	}, activity.RegisterOptions{Name: "MarkCameraStreamFailed"})
	require.NoError(t, w.Start())
	defer w.Stop()

	id := taskQueue
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, workflows.CameraStreamWorkflow,
		contract.CameraStreamWorkflowInput{CameraID: "7d3c9a4e-0000-4000-8000-0000000000ab", SessionLimit: 3 * time.Second})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return calls.Load() >= 3 }, time.Minute, 200*time.Millisecond, "three sessions")
	time.Sleep(time.Second) // the third session's start reaches the history
	writeHistory(t, streamSessionLimitHistoryFile, fetchHistory(t, c, id, run.GetRunID()))
	_ = c.TerminateWorkflow(context.Background(), id, "", "recorded")
}

// streamRecorder skips unless ROLLCALL_RECORD_HISTORY=1; otherwise it
// returns a client of the stack's Temporal and a worker (not started) of a
// fresh task queue with CameraStreamWorkflow registered, for a test that
// records a stream history; ctx ends after within.
func streamRecorder(t *testing.T, prefix string, within time.Duration) (context.Context, client.Client, worker.Worker, string) {
	t.Helper()
	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		t.Skip("set ROLLCALL_RECORD_HISTORY=1 to record a new history")
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	t.Cleanup(cancel)
	c, err := client.Dial(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(t, "rollcall-test-workflows"), Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	taskQueue := prefix + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.CameraStreamWorkflow)
	return ctx, c, w, taskQueue
}

func fetchHistory(t *testing.T, c client.Client, id, runID string) *historypb.History {
	t.Helper()
	history := &historypb.History{}
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		history.Events = append(history.Events, ev)
	}
	return history
}

func writeHistory(t *testing.T, file string, history *historypb.History) {
	t.Helper()
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(history)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, append(b, '\n'), 0o644))
	t.Logf("wrote %s: %d events", file, len(history.Events))
}
