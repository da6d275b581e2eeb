package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// cameraStreamWaiting is the stream workflow of runs started before
// sampling existed (version DefaultVersion of "stream-sampling"): it only
// handles signals and the query. It stays for their replay; their next
// run, after continue-as-new, samples.
func cameraStreamWaiting(ctx workflow.Context, in contract.CameraStreamWorkflowInput) error {
	status := contract.CameraStreamStatus{CameraID: in.CameraID, State: "waiting", Since: workflow.Now(ctx), Reconfigured: in.Signals}
	if in.Paused {
		status.State = "paused"
	}
	if !in.Since.IsZero() {
		status.Since = in.Since
	}
	if err := workflow.SetQueryHandler(ctx, QueryCameraStreamStatus, func() (contract.CameraStreamStatus, error) { return status, nil }); err != nil {
		return err
	}
	reconfigure := workflow.GetSignalChannel(ctx, SignalCameraReconfigure)
	pause := workflow.GetSignalChannel(ctx, SignalCameraPause)
	resume := workflow.GetSignalChannel(ctx, SignalCameraResume)
	handled := 0
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
	return workflow.NewContinueAsNewError(ctx, CameraStreamWorkflow, contract.CameraStreamWorkflowInput{
		CameraID: in.CameraID, Signals: status.Reconfigured, Paused: status.State == contract.StreamPaused, Since: status.Since,
	})
}
