package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/activities"
)

// DetectFrameWorkflowID is the ID of one send-frame request.
func DetectFrameWorkflowID(requestID string) string { return "detect-frame/" + requestID }

// FrameObjectKey is where a frame sent for detection (or captured for it)
// is stored.
func FrameObjectKey(t time.Time, requestID, ext string) string {
	return fmt.Sprintf("frames/%s/%s.%s", t.UTC().Format("2006/01/02"), requestID, ext)
}

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
	captureKey := FrameObjectKey(workflow.Now(ctx), sanitizeID(info.WorkflowExecution.ID), "jpg")
	var res activities.DetectFrameResult
	err := workflow.ExecuteActivity(ctx, a.DetectFrame, in, captureKey).Get(ctx, &res)
	return res, err
}

// sanitizeID makes a workflow ID usable as an object key segment.
func sanitizeID(id string) string {
	out := []byte(id)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '_'
		}
	}
	return string(out)
}
