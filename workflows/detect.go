package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
)

// DetectFrameWorkflowID is the ID of one send-frame request.
func DetectFrameWorkflowID(requestID string) string { return "detect-frame/" + requestID }

// DetectFrameWorkflow runs one frame — uploaded, or captured now from a
// camera — through the provider and stores the detections (send-frame).
func DetectFrameWorkflow(ctx workflow.Context, in contract.DetectFrameInput) (contract.DetectFrameResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumAttempts:    3,
			NonRetryableErrorTypes: contract.NonRetryable(append([]string{contract.ErrTypeProviderBadImage,
				contract.ErrTypeProviderUnauthorized, contract.ErrTypeProviderUnsupported}, contract.PermanentCameraErrors...)...),
		},
	})
	info := workflow.GetInfo(ctx)
	captureKey := blob.FrameKey(workflow.Now(ctx), info.WorkflowExecution.ID, "jpg")
	var res contract.DetectFrameResult
	err := workflow.ExecuteActivity(ctx, a.DetectFrame, in, captureKey).Get(ctx, &res)
	return res, err
}
