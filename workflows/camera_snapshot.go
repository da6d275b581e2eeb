package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/activities"
)

// CameraSnapshotWorkflowInput names the camera to photograph.
type CameraSnapshotWorkflowInput struct {
	CameraID string
}

// SnapshotObjectKey is where a snapshot taken at t is stored: predictable,
// grouped by camera and day, unique per workflow run.
func SnapshotObjectKey(cameraID string, t time.Time, runID string) string {
	t = t.UTC()
	if len(runID) > 8 {
		runID = runID[:8]
	}
	return fmt.Sprintf("cameras/%s/snapshots/%s/%s-%s.jpg", cameraID, t.Format("2006/01/02"), t.Format("150405.000"), runID)
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
	key := SnapshotObjectKey(in.CameraID, workflow.Now(ctx), workflow.GetInfo(ctx).WorkflowExecution.RunID)
	var res activities.SnapshotResult
	err := workflow.ExecuteActivity(ctx, a.CaptureSnapshot, activities.SnapshotInput{CameraID: in.CameraID, Key: key}).Get(ctx, &res)
	return res, err
}
