package temporal

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/workflows"
)

// WorkerOptions configure the worker.
type WorkerOptions struct {
	Activities     *activities.Activities
	AuditRetention time.Duration
	Log            *slog.Logger
}

// NewWorker registers every workflow and activity on the default task queue.
func NewWorker(c client.Client, o WorkerOptions) worker.Worker {
	w := worker.New(c, TaskQueueDefault, worker.Options{})
	w.RegisterWorkflow(workflows.CleanupWorkflow)
	w.RegisterActivity(o.Activities)
	return w
}

// Schedules returns the schedules the worker keeps in place.
func Schedules(o WorkerOptions) []Schedule {
	return []Schedule{{
		ID:         ScheduleCleanup,
		Every:      time.Hour,
		Workflow:   workflows.CleanupWorkflow,
		WorkflowID: workflows.CleanupWorkflowID,
		Args:       []any{workflows.CleanupWorkflowInput{SessionGrace: 24 * time.Hour, AuditRetention: o.AuditRetention}},
		TaskQueue:  TaskQueueDefault,
		Note:       "Rollcall: purge expired sessions and audit entries past retention",
	}}
}

// RunWorker upserts the schedules and runs the worker until ctx ends.
func RunWorker(ctx context.Context, c client.Client, o WorkerOptions) error {
	for _, s := range Schedules(o) {
		if err := UpsertSchedule(ctx, c, s); err != nil {
			return err
		}
		o.Log.Info("schedule in place", slog.String("schedule", s.ID), slog.Duration("every", s.Every))
	}
	w := NewWorker(c, o)
	if err := w.Start(); err != nil {
		return fmt.Errorf("temporal: start worker: %w", err)
	}
	o.Log.Info("worker polling", slog.String("task_queue", TaskQueueDefault))
	<-ctx.Done()
	w.Stop()
	return nil
}
