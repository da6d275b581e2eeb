package temporal

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/workflows"
)

// WorkerOptions configure the worker.
type WorkerOptions struct {
	Activities     *activities.Activities
	AuditRetention time.Duration
	Log            *slog.Logger
	// StopTimeout is how long a stopping worker lets its activities finish
	// (camera streams hand their sessions back) before cancelling them.
	StopTimeout time.Duration
	// StreamSlots bounds the stream sessions one worker runs at once
	// (0: 100).
	StreamSlots int
	// Namespace is the client's namespace, where the worker registers the
	// search attributes of its workflows; SearchAttributes is set by
	// RunWorker once they are there.
	Namespace        string
	SearchAttributes bool
	// OnFatalError is told when a worker stops polling for good (its
	// namespace is gone, its credentials refused, …).
	OnFatalError func(error)
	// MetricsRetention keeps system metric samples this long (0: all).
	MetricsRetention time.Duration
	// Interceptors are given to the workflow workers (e.g. the workflow
	// outcome counters of internal/telemetry).
	Interceptors []interceptor.WorkerInterceptor
	// Retention is what the cleanup schedule keeps of detections, events
	// and attendance (zero: kept forever).
	Retention config.RetentionConfig
}

// DefaultWorkflowPollers is how many workflow task polls each worker keeps
// open (see NewWorkers).
const DefaultWorkflowPollers = 8

// NewWorkers registers every workflow and activity: short work on the
// default task queue, camera streams on their own queue.
func NewWorkers(c client.Client, o WorkerOptions) []worker.Worker {
	// Eight workflow pollers, not the SDK's two: the SDK splits them between
	// this queue and the worker's sticky queue, and after a few tasks of one
	// workflow its backlog hint can send every poll to the sticky queue,
	// where an empty poll waits out a long poll. With two, nobody polled
	// this queue for up to 48 s (read from test histories: a
	// test-connection's first workflow task waited 48 s with this worker
	// running), longer than an API call waits. With eight, polls already
	// waiting here stay.
	def := worker.New(c, TaskQueueDefault, worker.Options{WorkerStopTimeout: o.StopTimeout, OnFatalError: o.OnFatalError,
		Interceptors: o.Interceptors, MaxConcurrentWorkflowTaskPollers: DefaultWorkflowPollers})
	def.RegisterWorkflow(workflows.CleanupWorkflow)
	def.RegisterWorkflow(workflows.CameraProbeWorkflow)
	def.RegisterWorkflow(workflows.CameraSnapshotWorkflow)
	def.RegisterWorkflow(workflows.CameraHealthWorkflow)
	def.RegisterWorkflow(workflows.CameraReconcileWorkflow)
	def.RegisterWorkflow(workflows.FaceRegistrationWorkflow)
	def.RegisterWorkflow(workflows.FaceDeletionWorkflow)
	def.RegisterWorkflow(workflows.ProviderHealthWorkflow)
	def.RegisterWorkflow(workflows.DetectFrameWorkflow)
	def.RegisterWorkflow(workflows.ExportWorkflow)
	def.RegisterWorkflow(workflows.AttendanceCloseWorkflow)
	def.RegisterWorkflow(workflows.FaceRepairWorkflow)
	def.RegisterWorkflow(workflows.OdooSyncWorkflow)
	def.RegisterWorkflow(workflows.AlertWebhookWorkflow)
	def.RegisterWorkflow(workflows.SystemMetricsWorkflow)
	def.RegisterActivity(o.Activities)

	// Heartbeats reach Temporal at least every 2 s, so a stream notices a
	// pause, a reconfigure or a cancellation within that.
	streams := worker.New(c, TaskQueueStreams, worker.Options{MaxHeartbeatThrottleInterval: 2 * time.Second,
		WorkerStopTimeout: o.StopTimeout, OnFatalError: o.OnFatalError, Interceptors: o.Interceptors,
		MaxConcurrentWorkflowTaskPollers: DefaultWorkflowPollers})
	streams.RegisterWorkflow(workflows.CameraStreamWorkflow)
	streams.RegisterActivity(o.Activities)
	// Sessions hold a slot each for hours: a worker takes at most
	// StreamSlots of them, and a session nobody can take shows as
	// no_stream_slot instead of piling onto the first worker to poll.
	sessions := worker.New(c, TaskQueueStreamSessions, worker.Options{MaxHeartbeatThrottleInterval: 2 * time.Second,
		MaxConcurrentActivityExecutionSize: cmp.Or(o.StreamSlots, 100), WorkerStopTimeout: o.StopTimeout, OnFatalError: o.OnFatalError,
		DisableWorkflowWorker: true})
	sessions.RegisterActivity(o.Activities)
	return []worker.Worker{def, streams, sessions}
}

// Schedules returns the schedules the worker keeps in place.
func Schedules(o WorkerOptions) []Schedule {
	return []Schedule{
		{
			ID:         ScheduleCleanup,
			Every:      time.Hour,
			Workflow:   workflows.CleanupWorkflow,
			WorkflowID: workflows.CleanupWorkflowID,
			Args:       []any{cleanupInput(o)},
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: purge expired sessions, audit entries, exports, detections with their frames, pipeline and camera events (and attendance when set) past retention; keep the coming days' partitions ready",
		},
		{
			ID:         ScheduleCameraHealth,
			Every:      time.Minute,
			Workflow:   workflows.CameraHealthWorkflow,
			WorkflowID: workflows.CameraHealthWorkflowID,
			Args:       []any{contract.CameraHealthWorkflowInput{StaleAfter: 2 * time.Minute, Concurrency: 4}},
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: probe active cameras that are not streaming; record online/offline changes",
		},
		{
			ID:         ScheduleProviderHealth,
			Every:      time.Minute,
			Workflow:   workflows.ProviderHealthWorkflow,
			WorkflowID: workflows.ProviderHealthWorkflowID,
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: check the configured face provider and record its health and latency",
		},
		{
			ID:         ScheduleCameraReconcile,
			Every:      time.Minute,
			Workflow:   workflows.CameraReconcileWorkflow,
			WorkflowID: workflows.CameraReconcileWorkflowID,
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: keep a stream workflow running for every active camera, and none for the others",
		},
		{
			ID:         ScheduleAttendanceClose,
			Every:      time.Hour,
			Workflow:   workflows.AttendanceCloseWorkflow,
			WorkflowID: workflows.AttendanceCloseWorkflowID,
			Args:       []any{contract.AttendanceCloseInput{}},
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: close ended work days (absent with no check-in, incomplete with no check-out)",
		},
		{
			ID:         ScheduleFaceRepair,
			Every:      5 * time.Minute,
			Workflow:   workflows.FaceRepairWorkflow,
			WorkflowID: workflows.FaceRepairWorkflowID,
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: restart the workflow of face profiles stuck registering or deleting",
		},
		{
			ID:         ScheduleOdooSync,
			Every:      time.Minute,
			Workflow:   workflows.OdooSyncWorkflow,
			WorkflowID: workflows.OdooSyncScheduledWorkflowID,
			Args:       []any{contract.OdooSyncInput{Trigger: contract.OdooTriggerSchedule, SearchAttributes: o.SearchAttributes}},
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: push attendance to Odoo HR when the sync is enabled and its interval has passed (PUT /api/v1/odoo/config)",
		},
		{
			ID:         ScheduleSystemMetrics,
			Every:      time.Minute,
			Workflow:   workflows.SystemMetricsWorkflow,
			WorkflowID: workflows.SystemMetricsWorkflowID,
			Args:       []any{contract.SystemMetricsInput{Retention: o.MetricsRetention}},
			TaskQueue:  TaskQueueDefault,
			Note:       "Rollcall: sample host and service figures, check every service, purge samples past retention",
		},
	}
}

// RunWorker upserts the schedules and runs the workers until ctx ends.
// While Temporal cannot be reached it keeps retrying with backoff (so
// `rollcall all` keeps serving the API meanwhile). It returns nil when ctx
// ends: that is a shutdown, whether or not the worker got to start.
func RunWorker(ctx context.Context, c client.Client, o WorkerOptions) error {
	backoff := time.Second
	for {
		err := upsertSchedules(ctx, c, o)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		o.Log.Warn("Temporal not ready; retrying", slog.Duration("in", backoff), slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			o.Log.Warn("shut down before Temporal was reachable; the worker never started")
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	// Temporal answers: register the search attributes, and let the
	// scheduled sync record them once they are there.
	if o.Namespace != "" {
		if err := EnsureSearchAttributes(ctx, c, o.Namespace); err != nil {
			o.Log.Warn("search attributes not registered; sync runs are not filterable by trigger and outcome in the Temporal UI",
				slog.String("namespace", o.Namespace), slog.String("error", err.Error()))
		} else if o.SearchAttributes = true; upsertSchedules(ctx, c, o) != nil {
			o.Log.Warn("schedules not updated with search attributes; retried at the next start")
		}
	}
	// A worker that stops polling for good ends the process (its
	// supervisor restarts it) rather than idle without work.
	fatal := make(chan error, 1)
	report := o.OnFatalError
	o.OnFatalError = func(err error) {
		if report != nil {
			report(err)
		}
		select {
		case fatal <- err:
		default:
		}
	}
	workers := NewWorkers(c, o)
	for i, w := range workers {
		if err := w.Start(); err != nil {
			for _, started := range workers[:i] {
				started.Stop()
			}
			return fmt.Errorf("temporal: start worker: %w", err)
		}
	}
	o.Log.Info("worker polling", slog.String("task_queues", TaskQueueDefault+","+TaskQueueStreams+","+TaskQueueStreamSessions))
	var err error
	select {
	case <-ctx.Done():
		o.Log.Info("worker draining", slog.Duration("timeout", o.StopTimeout))
	case err = <-fatal:
		o.Log.Error("worker stopped polling; exiting", slog.String("error", err.Error()))
		err = fmt.Errorf("temporal: worker failed: %w", err)
	}
	for _, w := range workers {
		w.Stop()
	}
	return err
}

func upsertSchedules(ctx context.Context, c client.Client, o WorkerOptions) error {
	for _, s := range Schedules(o) {
		if err := UpsertSchedule(ctx, c, s); err != nil {
			return err
		}
		o.Log.Info("schedule in place", slog.String("schedule", s.ID), slog.Duration("every", s.Every))
	}
	return nil
}
