package temporal_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

var quiet = slog.New(slog.DiscardHandler)

// mustClient connects to the stack's Temporal in this package's own namespace,
// so no worker of another test package takes its tasks.
func mustClient(tb testing.TB) client.Client {
	tb.Helper()
	c, err := temporal.NewClient(temporal.Options{
		Address:   testenv.Require(tb, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(tb, "rollcall-test-temporal"),
		Log:       quiet,
	})
	require.NoError(tb, err)
	tb.Cleanup(c.Close)
	return c
}

func uniqueID(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func mustDescribeSchedule(tb testing.TB, c client.Client, id string) *client.ScheduleDescription {
	tb.Helper()
	d, err := c.ScheduleClient().GetHandle(context.Background(), id).Describe(context.Background())
	require.NoError(tb, err)
	return d
}

func deleteSchedule(c client.Client, id string) {
	_ = c.ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background())
}

// pauseSchedule stops a schedule the next test run re-uses from firing.
// Deleting it would race with that run re-creating the same ID.
func pauseSchedule(c client.Client, id string) {
	_ = c.ScheduleClient().GetHandle(context.Background(), id).Pause(context.Background(), client.SchedulePauseOptions{Note: "paused by tests"})
}

func TestUpsertScheduleUpdatesInPlace(t *testing.T) {
	c := mustClient(t)
	ctx := context.Background()
	id := uniqueID("test-upsert-")
	t.Cleanup(func() { deleteSchedule(c, id) })
	s := temporal.Schedule{
		ID:         id,
		Every:      time.Hour,
		Workflow:   workflows.CleanupWorkflow,
		WorkflowID: id + "-run",
		Args:       []any{contract.CleanupWorkflowInput{SessionGrace: time.Hour}},
		TaskQueue:  "rollcall-test-unpolled",
		Note:       "test",
	}
	require.NoError(t, temporal.UpsertSchedule(ctx, c, s))

	s.Every = 2 * time.Hour
	s.Args = []any{contract.CleanupWorkflowInput{SessionGrace: 3 * time.Hour}}
	require.NoError(t, temporal.UpsertSchedule(ctx, c, s), "a second upsert with the same ID is not an error")

	d := mustDescribeSchedule(t, c, id)
	require.Len(t, d.Schedule.Spec.Intervals, 1, "the spec is replaced, not added to")
	require.Equal(t, 2*time.Hour, d.Schedule.Spec.Intervals[0].Every)
	action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok, "action is %T", d.Schedule.Action)
	require.Equal(t, "CleanupWorkflow", action.Workflow)
	require.Equal(t, id+"-run", action.ID)
	require.Equal(t, "rollcall-test-unpolled", action.TaskQueue)
	require.Equal(t, 20*time.Hour, action.WorkflowExecutionTimeout)
	require.Len(t, action.Args, 1)
	payload, ok := action.Args[0].(*commonpb.Payload)
	require.True(t, ok, "arg is %T", action.Args[0])
	var in contract.CleanupWorkflowInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(payload, &in))
	require.Equal(t, 3*time.Hour, in.SessionGrace, "the action's arguments are updated too")
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.Schedule.Policy.Overlap)
	require.Equal(t, 2*time.Hour, d.Schedule.Policy.CatchupWindow)
}

// TestUpsertScheduleResetsPolicies: a schedule created with other policies
// (by an older release, or by hand) gets Rollcall's at the next start.
func TestUpsertScheduleResetsPolicies(t *testing.T) {
	c := mustClient(t)
	ctx := context.Background()
	id := uniqueID("test-policies-")
	t.Cleanup(func() { deleteSchedule(c, id) })
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   id,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Minute}}},
		Action: &client.ScheduleWorkflowAction{ID: id + "-run", Workflow: workflows.CleanupWorkflow,
			Args: []any{contract.CleanupWorkflowInput{}}, TaskQueue: "rollcall-test-unpolled"},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, CatchupWindow: 365 * 24 * time.Hour,
	})
	require.NoError(t, err)
	require.NoError(t, temporal.UpsertSchedule(ctx, c, temporal.Schedule{ID: id, Every: time.Minute, Workflow: workflows.CleanupWorkflow,
		WorkflowID: id + "-run", Args: []any{contract.CleanupWorkflowInput{}}, TaskQueue: "rollcall-test-unpolled"}))
	d := mustDescribeSchedule(t, c, id)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.Schedule.Policy.Overlap)
	require.Equal(t, time.Minute, d.Schedule.Policy.CatchupWindow)
}

func TestRunWorkerRunsCleanup(t *testing.T) {
	c := mustClient(t)
	db := testenv.DB(t)
	ctx := context.Background()
	t.Cleanup(func() { pauseSchedule(c, temporal.ScheduleCleanup) })
	u := &store.User{Username: "alice", PasswordHash: "h", Role: string(auth.RoleViewer), IsActive: true}
	require.NoError(t, store.CreateUser(ctx, db, u))
	// Expired two hours ago: past this test's one-hour grace, but within the
	// schedule's 24 hours, so only the run this test starts removes it.
	_, expired := auth.NewRefreshToken()
	require.NoError(t, store.CreateSession(ctx, db, &store.Session{UserID: u.ID, TokenHash: expired, ExpiresAt: time.Now().Add(-2 * time.Hour)}))
	_, live := auth.NewRefreshToken()
	require.NoError(t, store.CreateSession(ctx, db, &store.Session{UserID: u.ID, TokenHash: live, ExpiresAt: time.Now().Add(time.Hour)}))

	workerCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- temporal.RunWorker(workerCtx, c, temporal.WorkerOptions{
			Activities:     &activities.Activities{DB: db, Log: quiet},
			AuditRetention: 30 * 24 * time.Hour,
			Log:            quiet,
		})
	}()

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		d, err := c.ScheduleClient().GetHandle(ctx, temporal.ScheduleCleanup).Describe(ctx)
		require.NoError(ct, err)
		require.Equal(ct, time.Hour, d.Schedule.Spec.Intervals[0].Every)
		require.Equal(ct, temporal.TaskQueueDefault, d.Schedule.Action.(*client.ScheduleWorkflowAction).TaskQueue)
	}, 10*time.Second, 100*time.Millisecond, "RunWorker puts the cleanup schedule in place")

	runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(runCtx, client.StartWorkflowOptions{ID: uniqueID("test-cleanup-"), TaskQueue: temporal.TaskQueueDefault},
		workflows.CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: time.Hour})
	require.NoError(t, err)
	var res contract.CleanupWorkflowResult
	require.NoError(t, run.Get(runCtx, &res), "the worker polls the default task queue and completes the run")
	// The template database may lack the newest days' partitions.
	require.Equal(t, contract.CleanupWorkflowResult{SessionsDeleted: 1, PartitionsCreated: res.PartitionsCreated}, res)

	_, err = store.FindSessionByHash(ctx, db, expired)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.FindSessionByHash(ctx, db, live)
	require.NoError(t, err)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err, "a cancelled worker stops cleanly")
	case <-time.After(15 * time.Second):
		t.Fatal("RunWorker did not return after its context was cancelled")
	}
}

func TestRunWorkerWaitsForTemporal(t *testing.T) {
	c, err := temporal.NewClient(temporal.Options{Address: "127.0.0.1:1", Namespace: "default", Log: quiet})
	require.NoError(t, err, "the client connects lazily")
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()

	start := time.Now()
	err = temporal.RunWorker(ctx, c, temporal.WorkerOptions{Activities: &activities.Activities{}, Log: quiet})
	require.NoError(t, err, "ending the context is a shutdown")
	require.GreaterOrEqual(t, time.Since(start), 2900*time.Millisecond,
		"while Temporal is unreachable the worker keeps retrying until it is told to stop")
	require.Error(t, temporal.CheckHealth(context.Background(), c))
}

// TestRunWorkerExitsOnFatalError: a worker whose polls fail for good (here
// its namespace is deleted under it; the SDK gives up after retrying for
// two minutes) returns an error, so the process
// exits and its supervisor restarts it, instead of staying up without
// polling.
func TestRunWorkerExitsOnFatalError(t *testing.T) {
	t.Parallel()
	addr := testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS")
	ns := testenv.TemporalNamespace(t, uniqueID("rollcall-test-fatal-"))
	c, err := temporal.NewClient(temporal.Options{Address: addr, Namespace: ns, Log: quiet})
	require.NoError(t, err)
	defer c.Close()

	var told atomic.Int32
	done := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		done <- temporal.RunWorker(ctx, c, temporal.WorkerOptions{
			Activities: &activities.Activities{Log: quiet}, Log: quiet,
			StopTimeout:  time.Second,
			OnFatalError: func(error) { told.Add(1) },
		})
	}()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		_, err := c.ScheduleClient().GetHandle(ctx, temporal.ScheduleCleanup).Describe(ctx)
		require.NoError(ct, err)
	}, 30*time.Second, 100*time.Millisecond, "the worker started (its schedules are in place)")

	_, err = c.OperatorService().DeleteNamespace(ctx, &operatorservice.DeleteNamespaceRequest{Namespace: ns})
	require.NoError(t, err)
	select {
	case err := <-done:
		require.Error(t, err, "a worker that can no longer poll ends with an error")
		require.ErrorContains(t, err, "worker failed")
		require.Positive(t, told.Load(), "the caller's OnFatalError is told too")
	case <-time.After(6 * time.Minute): // the SDK retries polls for 2 minutes first; it took 181 s here, once over 4 min
		t.Fatal("RunWorker kept running after its namespace was deleted")
	}
}
