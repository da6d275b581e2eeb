package workflows_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/workflows"
)

// TestLostRequestTasksAreRetriedSoon: the workflows an API call waits for
// get their answer although their activity's first task went to a poller
// that never ran it (a worker that died, or one Temporal handed the task
// to while it was shutting down). The task is retried when its heartbeat
// stops, after workflows.RequestHeartbeatTimeout, not at the end of its
// start-to-close timeout (a minute for send-frame), which is after the
// API has stopped waiting.
func TestLostRequestTasksAreRetriedSoon(t *testing.T) {
	namespace := testenv.TemporalNamespace(t, "rollcall-test-workflows")
	c, err := client.Dial(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: namespace, Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	cases := []struct {
		name     string
		workflow any
		input    any
		activity string
	}{
		{"send-frame", workflows.DetectFrameWorkflow, contract.DetectFrameInput{ImageKey: "frames/lost.jpg"}, "DetectFrame"},
		{"test-connection", workflows.CameraProbeWorkflow, contract.CameraProbeWorkflowInput{CameraID: "cam-lost"}, "ProbeCamera"},
		{"snapshot", workflows.CameraSnapshotWorkflow, contract.CameraSnapshotWorkflowInput{CameraID: "cam-lost"}, "CaptureSnapshot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			queue := "lost-task-" + randomSuffix()
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()

			// Workflows only: the one activity poller is the thief's.
			wfw := worker.New(c, queue, worker.Options{LocalActivityWorkerOnly: true})
			wfw.RegisterWorkflow(tc.workflow)
			require.NoError(t, wfw.Start())
			defer wfw.Stop()
			stolen := make(chan string, 1)
			go func() {
				res, err := c.WorkflowService().PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
					Namespace: namespace, Identity: "a worker that goes away",
					TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}})
				if err != nil {
					stolen <- "poll: " + err.Error()
					return
				}
				stolen <- res.GetActivityType().GetName()
			}()
			time.Sleep(500 * time.Millisecond) // the thief's poll is waiting

			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, tc.workflow, tc.input)
			require.NoError(t, err)
			select {
			case name := <-stolen:
				require.Equal(t, tc.activity, name, "the thief took the first task")
			case <-ctx.Done():
				t.Fatal("the thief got no task")
			}
			// A worker that does run activities comes.
			aw := worker.New(c, queue, worker.Options{DisableWorkflowWorker: true})
			aw.RegisterActivityWithOptions(func(_ context.Context, in contract.DetectFrameInput, _ string) (contract.DetectFrameResult, error) {
				return contract.DetectFrameResult{ImageKey: in.ImageKey}, nil
			}, activity.RegisterOptions{Name: "DetectFrame"})
			aw.RegisterActivityWithOptions(func(context.Context, string) (contract.ProbeOutcome, error) {
				return contract.ProbeOutcome{OK: true}, nil
			}, activity.RegisterOptions{Name: "ProbeCamera"})
			aw.RegisterActivityWithOptions(func(context.Context, string, contract.ProbeOutcome) (contract.HealthChangeResult, error) {
				return contract.HealthChangeResult{}, nil
			}, activity.RegisterOptions{Name: "RecordCameraProbe"})
			aw.RegisterActivityWithOptions(func(_ context.Context, in contract.SnapshotInput) (contract.SnapshotResult, error) {
				return contract.SnapshotResult{Key: in.Key}, nil
			}, activity.RegisterOptions{Name: "CaptureSnapshot"})
			require.NoError(t, aw.Start())
			defer aw.Stop()

			start := time.Now()
			require.NoError(t, run.Get(ctx, nil), "answered although its first task was lost")
			t.Logf("%s answered %.1fs after its task was lost", tc.name, time.Since(start).Seconds())

			// The second attempt ran, after the first's heartbeat stopped.
			it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			var retried bool
			for it.HasNext() {
				ev, err := it.Next()
				require.NoError(t, err)
				st := ev.GetActivityTaskStartedEventAttributes()
				if st == nil || st.GetAttempt() < 2 {
					continue
				}
				retried = true
				require.Equal(t, enumspb.TIMEOUT_TYPE_HEARTBEAT, st.GetLastFailure().GetTimeoutFailureInfo().GetTimeoutType(),
					"the lost attempt ended at its heartbeat timeout: %v", st.GetLastFailure())
			}
			require.True(t, retried, "the activity ran a second attempt")
		})
	}
}
