package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// CameraReconcileWorkflow makes "active camera ⇔ running stream workflow"
// true: it starts the streams of active cameras that lack one and stops
// streams whose camera is no longer active. A Schedule runs it every minute.
func CameraReconcileWorkflow(ctx workflow.Context) (contract.ReconcileResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var res contract.ReconcileResult
	err := workflow.ExecuteActivity(ctx, a.ReconcileCameraStreams).Get(ctx, &res)
	return res, err
}
