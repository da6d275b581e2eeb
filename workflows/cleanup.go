package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// CleanupWorkflow removes data past its retention. Later data kinds
// (detections, snapshots, exports) add steps here.
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
	return res, nil
}
