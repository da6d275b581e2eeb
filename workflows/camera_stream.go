package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/activities"
)

// CameraStreamWorkflowInput names the camera whose stream runs.
type CameraStreamWorkflowInput struct {
	CameraID string
	// Signals counts signals handled by earlier runs (continue-as-new).
	Signals int
	// Paused and Since carry the previous run's state across
	// continue-as-new; a zero Since means the start of this run.
	Paused bool
	Since  time.Time
}

// CameraStreamStatus answers the status query.
type CameraStreamStatus struct {
	CameraID     string    `json:"cameraId"`
	State        string    `json:"state"` // waiting, paused
	Since        time.Time `json:"since"`
	Reconfigured int       `json:"reconfigured"`
}

// maxSignalsPerRun bounds history before continue-as-new.
const maxSignalsPerRun = 500

// CameraStreamWorkflow is the long-running workflow of an active camera
// (ID: CameraStreamWorkflowID). It runs until cancelled — when the camera
// is deactivated or deleted — and handles reconfigure, pause and resume
// signals and the status query.
//
// Frame sampling and recognition are not part of it yet: they join as a
// heartbeating activity with live recognition. Today it keeps the
// "active camera ⇔ running stream workflow" invariant observable in the
// Temporal UI, which the reconciler maintains.
func CameraStreamWorkflow(ctx workflow.Context, in CameraStreamWorkflowInput) error {
	status := CameraStreamStatus{CameraID: in.CameraID, State: "waiting", Since: workflow.Now(ctx), Reconfigured: in.Signals}
	if in.Paused {
		status.State = "paused"
	}
	if !in.Since.IsZero() {
		status.Since = in.Since
	}
	if err := workflow.SetQueryHandler(ctx, QueryCameraStreamStatus, func() (CameraStreamStatus, error) { return status, nil }); err != nil {
		return err
	}
	reconfigure := workflow.GetSignalChannel(ctx, SignalCameraReconfigure)
	pause := workflow.GetSignalChannel(ctx, SignalCameraPause)
	resume := workflow.GetSignalChannel(ctx, SignalCameraResume)
	handled := 0
	// Past the limit, signals already delivered are still handled: left in
	// their channels, they would be lost with this run.
	for handled < maxSignalsPerRun || reconfigure.Len()+pause.Len()+resume.Len() > 0 {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(reconfigure, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			status.Reconfigured++
		})
		sel.AddReceive(pause, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			status.State, status.Since = "paused", workflow.Now(ctx)
		})
		sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			status.State, status.Since = "waiting", workflow.Now(ctx)
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		if ctx.Err() != nil {
			return temporal.NewCanceledError("camera stream stopped")
		}
		handled++
	}
	return workflow.NewContinueAsNewError(ctx, CameraStreamWorkflow, CameraStreamWorkflowInput{
		CameraID: in.CameraID, Signals: status.Reconfigured, Paused: status.State == "paused", Since: status.Since,
	})
}

// CameraReconcileWorkflow makes "active camera ⇔ running stream workflow"
// true: it starts the streams of active cameras that lack one and stops
// streams whose camera is no longer active. A Schedule runs it every minute.
func CameraReconcileWorkflow(ctx workflow.Context) (activities.ReconcileResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var res activities.ReconcileResult
	err := workflow.ExecuteActivity(ctx, a.ReconcileCameraStreams).Get(ctx, &res)
	return res, err
}
