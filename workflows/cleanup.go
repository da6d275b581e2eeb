package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// CleanupWorkflowInput sets the retention of each kind of data.
type CleanupWorkflowInput struct {
	// SessionGrace keeps expired sessions this long (reuse detection still
	// recognises a recently expired token family).
	SessionGrace   time.Duration
	AuditRetention time.Duration
}

// CleanupWorkflowResult counts what was removed.
type CleanupWorkflowResult struct {
	SessionsDeleted int64
	AuditDeleted    int64
	ExportsDeleted  int
}

// CleanupWorkflow removes data past its retention. Later data kinds
// (detections, snapshots, exports) add steps here.
func CleanupWorkflow(ctx workflow.Context, in CleanupWorkflowInput) (CleanupWorkflowResult, error) {
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
	var res CleanupWorkflowResult
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
	return res, nil
}
