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

// RequestHeartbeatTimeout is the heartbeat timeout of the activities an
// API call waits for (send-frame, test-connection, snapshot): they
// heartbeat every second while they work, so a task no worker is running —
// its worker died, or Temporal handed it to a poller that was shutting
// down, which it can — is retried after this instead of after the
// activity's whole start-to-close timeout, and the caller still gets its
// answer within the API's wait.
const RequestHeartbeatTimeout = 10 * time.Second

// DetectFrameWorkflow runs one frame — uploaded, or captured now from a
// camera — through the provider and stores the detections (send-frame).
func DetectFrameWorkflow(ctx workflow.Context, in contract.DetectFrameInput) (contract.DetectFrameResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    RequestHeartbeatTimeout,
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
