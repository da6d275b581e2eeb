package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/internal/blob"
)

// DetectFrameWorkflowID is the ID of one send-frame request.
func DetectFrameWorkflowID(requestID string) string { return "detect-frame/" + requestID }

// DetectFrameWorkflow runs one frame — uploaded, or captured now from a
// camera — through the provider and stores the detections (send-frame).
func DetectFrameWorkflow(ctx workflow.Context, in activities.DetectFrameInput) (activities.DetectFrameResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumAttempts:    3,
			NonRetryableErrorTypes: append([]string{"provider_bad_image", "provider_unauthorized", "provider_unsupported"},
				activities.PermanentCameraErrors...),
		},
	})
	info := workflow.GetInfo(ctx)
	captureKey := blob.FrameKey(workflow.Now(ctx), info.WorkflowExecution.ID, "jpg")
	var res activities.DetectFrameResult
	err := workflow.ExecuteActivity(ctx, a.DetectFrame, in, captureKey).Get(ctx, &res)
	return res, err
}
