package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// probeRetryPolicy retries what may pass (unreachable, timeout) and not what
// will not (bad credentials, missing mount, unsupported codec, bad input).
var probeRetryPolicy = &temporal.RetryPolicy{
	InitialInterval:        time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        5 * time.Second,
	MaximumAttempts:        3,
	NonRetryableErrorTypes: contract.PermanentCameraErrors,
}

// CameraProbeWorkflow tests a camera's connection with ffprobe, records its
// health and stream info, and returns what it found. A camera that cannot
// be reached is an outcome (OK false with a code), not a workflow failure.
func CameraProbeWorkflow(ctx workflow.Context, in contract.CameraProbeWorkflowInput) (contract.ProbeOutcome, error) {
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		HeartbeatTimeout:    RequestHeartbeatTimeout,
		RetryPolicy:         probeRetryPolicy,
	})
	outcome, err := probe(pctx, in.CameraID)
	if err != nil {
		return outcome, err
	}
	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: contract.NonRetryable(contract.ErrTypeCameraNotFound)},
	})
	var change contract.HealthChangeResult
	if err := workflow.ExecuteActivity(rctx, a.RecordCameraProbe, in.CameraID, outcome).Get(ctx, &change); err != nil {
		return outcome, err
	}
	return outcome, nil
}

// probe runs ProbeCamera and turns a classified camera failure into an
// outcome. It fails only when the camera no longer exists or the probe
// could not run at all.
func probe(ctx workflow.Context, cameraID string) (contract.ProbeOutcome, error) {
	var outcome contract.ProbeOutcome
	err := workflow.ExecuteActivity(ctx, a.ProbeCamera, cameraID).Get(ctx, &outcome)
	if err == nil {
		return outcome, nil
	}
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case contract.ErrorType(err) == contract.ErrTypeCameraNotFound:
		return outcome, err
	case errors.As(err, &appErr) && contract.IsCameraErrorType(appErr.Type()):
		return contract.ProbeOutcome{Code: appErr.Type(), Message: appErr.Message()}, nil
	case errors.As(err, &timeoutErr):
		return contract.ProbeOutcome{Code: contract.ErrTypeTimeout, Message: "the camera did not answer in time"}, nil
	}
	return outcome, err
}
