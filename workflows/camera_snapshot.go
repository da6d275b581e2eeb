package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/internal/blob"
)

// CameraSnapshotWorkflowInput names the camera to photograph.
type CameraSnapshotWorkflowInput struct {
	CameraID string
}

// CameraSnapshotWorkflow captures one JPEG from the camera and stores it in
// the object store. The key is fixed before the first attempt, so a retry
// overwrites rather than duplicates.
func CameraSnapshotWorkflow(ctx workflow.Context, in CameraSnapshotWorkflowInput) (activities.SnapshotResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: activities.PermanentCameraErrors,
		},
	})
	key := blob.SnapshotKey(in.CameraID, workflow.Now(ctx), workflow.GetInfo(ctx).WorkflowExecution.RunID)
	var res activities.SnapshotResult
	err := workflow.ExecuteActivity(ctx, a.CaptureSnapshot, activities.SnapshotInput{CameraID: in.CameraID, Key: key}).Get(ctx, &res)
	return res, err
}
