package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
)

// CameraSnapshotWorkflow captures one JPEG from the camera and stores it in
// the object store. The key is fixed before the first attempt, so a retry
// overwrites rather than duplicates.
func CameraSnapshotWorkflow(ctx workflow.Context, in contract.CameraSnapshotWorkflowInput) (contract.SnapshotResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		HeartbeatTimeout:    RequestHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: contract.PermanentCameraErrors,
		},
	})
	key := blob.SnapshotKey(in.CameraID, workflow.Now(ctx), workflow.GetInfo(ctx).WorkflowExecution.RunID)
	var res contract.SnapshotResult
	err := workflow.ExecuteActivity(ctx, a.CaptureSnapshot, contract.SnapshotInput{CameraID: in.CameraID, Key: key}).Get(ctx, &res)
	return res, err
}
