package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// CleanupWorkflow removes data past its retention: sessions, audit,
// exports, then detections with their frames, pipeline and camera events
// and attendance (docs/operations.md, Retention).
func CleanupWorkflow(ctx workflow.Context, in contract.CleanupWorkflowInput) (contract.CleanupWorkflowResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    5,
		},
	})
	now := workflow.Now(ctx)
	var res contract.CleanupWorkflowResult
	if err := workflow.ExecuteActivity(ctx, a.PurgeExpiredSessions, now.Add(-in.SessionGrace)).Get(ctx, &res.SessionsDeleted); err != nil {
		return res, err
	}
	if in.AuditRetention > 0 {
		if err := workflow.ExecuteActivity(ctx, a.PurgeOldAudit, now.Add(-in.AuditRetention)).Get(ctx, &res.AuditDeleted); err != nil {
			return res, err
		}
	}
	// Expired export files and their jobs (added later: runs recorded before
	// it replay without the step).
	if workflow.GetVersion(ctx, "cleanup-exports", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(ctx, a.PurgeExpiredExports).Get(ctx, &res.ExportsDeleted); err != nil {
			return res, err
		}
	}
	// Detections with their frames, pipeline events, camera events and
	// (when a retention is set) attendance (added later: runs recorded
	// before it replay without the steps).
	if workflow.GetVersion(ctx, "cleanup-retention", workflow.DefaultVersion, 1) == 1 {
		if err := retention(ctx, in, now, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// retention runs the retention steps: partitions for the coming days
// first, then each kind whose retention is set. The activities delete in
// batches and heartbeat, resuming where a failed attempt stopped.
func retention(ctx workflow.Context, in contract.CleanupWorkflowInput, now time.Time, res *contract.CleanupWorkflowResult) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    5,
		},
	})
	if err := workflow.ExecuteActivity(ctx, a.EnsurePartitions, in.PartitionsAhead).Get(ctx, &res.PartitionsCreated); err != nil {
		return err
	}
	if in.DetectionRetention > 0 {
		var r contract.RetentionResult
		if err := workflow.ExecuteActivity(ctx, a.RetireDetections, contract.RetentionInput{Before: now.Add(-in.DetectionRetention)}).Get(ctx, &r); err != nil {
			return err
		}
		res.DetectionsDeleted, res.SnapshotsDeleted, res.PartitionsDropped = r.Rows, r.Objects, res.PartitionsDropped+r.Partitions
	}
	if in.PipelineEventRetention > 0 {
		var r contract.RetentionResult
		if err := workflow.ExecuteActivity(ctx, a.RetirePipelineEvents, contract.RetentionInput{Before: now.Add(-in.PipelineEventRetention)}).Get(ctx, &r); err != nil {
			return err
		}
		res.PipelineEventsDeleted, res.PartitionsDropped = r.Rows, res.PartitionsDropped+r.Partitions
	}
	if in.CameraEventRetention > 0 {
		if err := workflow.ExecuteActivity(ctx, a.PurgeCameraEvents, contract.RetentionInput{Before: now.Add(-in.CameraEventRetention)}).Get(ctx, &res.CameraEventsDeleted); err != nil {
			return err
		}
	}
	if in.AttendanceRetention > 0 {
		// A log's frame outlives its detection; it goes with the log once
		// the detections of its day are gone too.
		rin := contract.RetentionInput{Before: now.Add(-in.AttendanceRetention)}
		if in.DetectionRetention > 0 {
			rin.SnapshotsBefore = now.Add(-in.DetectionRetention).UTC().Truncate(24 * time.Hour)
		}
		var r contract.RetentionResult
		if err := workflow.ExecuteActivity(ctx, a.PurgeAttendance, rin).Get(ctx, &r); err != nil {
			return err
		}
		res.AttendanceLogsDeleted, res.AttendanceRecordsDeleted = r.Rows, r.Records
	}
	return nil
}
