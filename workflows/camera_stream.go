package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// SignalCameraStreamReport carries a StreamReport from the running
// StreamCamera activity to its workflow.
const SignalCameraStreamReport = "stream-report"

// maxSignalsPerRun bounds history before continue-as-new.
const maxSignalsPerRun = 500

// streamHistoryCap is the history length at which a run continues as new
// even during a session (far below Temporal's hard limit of 51,200 events;
// a session's 30-second reports reach a few thousand in its 24 hours).
const streamHistoryCap = 20000

// Stream timing.
const (
	// StreamHeartbeatTimeout is how soon a stream whose worker died is
	// started again elsewhere.
	StreamHeartbeatTimeout = 15 * time.Second
	// streamSessionLimit ends one stream session (it is opened again at
	// once), a bound Temporal needs; continue-as-new comes well before.
	streamSessionLimit = 24 * time.Hour
	streamRetryFirst   = time.Second
	streamRetryMax     = time.Minute
	// streamRetryPermanent spaces retries of failures retrying will not
	// mend (bad credentials, no such stream): a reconfigure retries at once.
	streamRetryPermanent = 5 * time.Minute
)

// streamCancelGrace is how long a cancelled stream waits before checking
// whether its camera is wanted again.
const streamCancelGrace = 3 * time.Second

// streamPlacementRetry is the wait before asking again for a slot.
const streamPlacementRetry = 10 * time.Second

// CameraStreamWorkflow is the long-running workflow of an active camera
// (ID: CameraStreamWorkflowID). It runs until cancelled — when the camera
// is deactivated or deleted — keeping the StreamCamera activity running:
// it reopens the stream after a failure with exponential backoff, marking
// the camera offline (StreamCamera marks it online at its first frame),
// restarts it on a reconfigure signal, stops it on pause and starts it on
// resume. Its counters come from the activity's report signals; it
// continues as new before its history grows large.
func CameraStreamWorkflow(ctx workflow.Context, in contract.CameraStreamWorkflowInput) error {
	if workflow.GetVersion(ctx, "stream-sampling", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return cameraStreamWaiting(ctx, in)
	}
	w := &cameraStream{in: in}
	err := w.run(ctx)
	if !temporal.IsCanceledError(err) || ctx.Err() == nil {
		return err
	}
	// Cancelled: a camera deactivated and activated again at once gets
	// this run back from the start request (it is still running while it
	// cancels). If the camera is wanted again, go on in a new run rather
	// than end and leave an active camera without a stream.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if workflow.GetVersion(dctx, "stream-cancel-recheck", workflow.DefaultVersion, 1) != 1 {
		return err
	}
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	// Give an activation that follows the deactivation a moment to be
	// written: deactivate→activate in quick succession must see "active".
	if workflow.GetVersion(dctx, "stream-cancel-grace", workflow.DefaultVersion, 1) == 1 {
		_ = workflow.Sleep(dctx, streamCancelGrace)
	}
	var wanted bool
	if werr := workflow.ExecuteActivity(dctx, a.CameraStreamWanted, in.CameraID).Get(dctx, &wanted); werr == nil && wanted {
		return workflow.NewContinueAsNewError(dctx, CameraStreamWorkflow, w.continueInput())
	}
	return err
}

// continueInput carries the run's state into the next one.
func (w *cameraStream) continueInput() contract.CameraStreamWorkflowInput {
	in := w.in
	return contract.CameraStreamWorkflowInput{
		CameraID: in.CameraID, Signals: w.status.Reconfigured, Paused: w.paused, Since: w.status.Since,
		Totals: w.totals, Failures: w.failures, Offline: w.offline, Sessions: w.session,
		SessionQueue: in.SessionQueue, PlacementTimeout: in.PlacementTimeout, SessionLimit: in.SessionLimit,
	}
}

type cameraStream struct {
	in       contract.CameraStreamWorkflowInput
	status   contract.CameraStreamStatus
	totals   contract.StreamCounters // of finished sessions
	current  contract.StreamReport   // of the running session
	session  int
	handled  int
	failures int
	lost     int // consecutive sessions whose worker was lost
	// canBetween (version stream-can-between-sessions): status reports do
	// not count toward the signal budget, and continue-as-new waits for the
	// running session to end rather than reopening the camera's stream.
	canBetween bool
	offline    bool
	paused     bool

	reconfigure, pause, resume, report workflow.ReceiveChannel
}

func (w *cameraStream) setState(ctx workflow.Context, state string) {
	if w.status.State != state {
		w.status.State, w.status.Since = state, workflow.Now(ctx)
	}
}

func (w *cameraStream) run(ctx workflow.Context) error {
	in := w.in
	w.totals, w.failures, w.offline, w.paused, w.session = in.Totals, in.Failures, in.Offline, in.Paused, in.Sessions
	w.status = contract.CameraStreamStatus{CameraID: in.CameraID, State: contract.StreamStarting, Since: workflow.Now(ctx), Reconfigured: in.Signals}
	if in.Paused {
		w.status.State = contract.StreamPaused
	}
	if !in.Since.IsZero() {
		w.status.Since = in.Since
	}
	if err := workflow.SetQueryHandler(ctx, QueryCameraStreamStatus, func() (contract.CameraStreamStatus, error) {
		st := w.status
		// Counters, sessions and failures live in the run's own state.
		st.Counters, st.Sessions, st.Failures = w.totals.Add(w.current.Counters), w.session, w.failures
		return st, nil
	}); err != nil {
		return err
	}
	w.canBetween = workflow.GetVersion(ctx, "stream-can-between-sessions", workflow.DefaultVersion, 1) == 1
	w.reconfigure = workflow.GetSignalChannel(ctx, SignalCameraReconfigure)
	w.pause = workflow.GetSignalChannel(ctx, SignalCameraPause)
	w.resume = workflow.GetSignalChannel(ctx, SignalCameraResume)
	w.report = workflow.GetSignalChannel(ctx, SignalCameraStreamReport)

	for !w.longEnough(ctx) {
		if ctx.Err() != nil {
			return temporal.NewCanceledError("camera stream stopped")
		}
		if w.paused {
			w.setState(ctx, contract.StreamPaused)
			w.waitSignal(ctx, nil)
			continue
		}
		done, err := w.runSession(ctx)
		if done || err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, CameraStreamWorkflow, w.continueInput())
}

// longEnough reports whether the run should continue as new. Signals
// already delivered are handled first: left in their channels, they would
// be lost with this run.
func (w *cameraStream) longEnough(ctx workflow.Context) bool {
	if w.reconfigure.Len()+w.pause.Len()+w.resume.Len() > 0 {
		return false
	}
	return w.handled >= maxSignalsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

// onSignals adds the signal handlers shared by every wait to sel.
// interrupt, when not nil, is called on reconfigure and pause.
func (w *cameraStream) onSignals(ctx workflow.Context, sel workflow.Selector, interrupt func()) {
	sel.AddReceive(w.reconfigure, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		w.handled++
		w.status.Reconfigured++
		w.failures = 0 // a new configuration deserves a prompt attempt
		if interrupt != nil {
			interrupt()
		}
	})
	sel.AddReceive(w.pause, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		w.handled++
		w.paused = true
		if interrupt != nil {
			interrupt()
		}
	})
	sel.AddReceive(w.resume, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		w.handled++
		w.paused = false
	})
	sel.AddReceive(w.report, func(c workflow.ReceiveChannel, _ bool) {
		var r contract.StreamReport
		c.Receive(ctx, &r)
		if !w.canBetween {
			w.handled++
		}
		if r.Session == w.session {
			w.take(ctx, r)
		}
	})
}

// take records the running session's report.
func (w *cameraStream) take(ctx workflow.Context, r contract.StreamReport) {
	if r.Counters.FramesRead < w.current.Counters.FramesRead {
		return // an older report, delivered late
	}
	w.current = r
	w.status.LastProviderError, w.status.KeyframesOnly = r.LastProviderError, r.KeyframesOnly
	if !r.LastFrameAt.IsZero() {
		at := r.LastFrameAt
		w.status.LastFrameAt = &at
	}
	if r.Streaming() {
		w.failures, w.offline, w.lost = 0, false, 0
		w.status.RetryAt = nil
		w.setState(ctx, contract.StreamStreaming)
	}
}

// waitSignal blocks until a signal, a cancellation or (when not nil) the
// timer fires.
func (w *cameraStream) waitSignal(ctx workflow.Context, timer workflow.Future) (fired bool) {
	sel := workflow.NewSelector(ctx)
	w.onSignals(ctx, sel, nil)
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	if timer != nil {
		sel.AddFuture(timer, func(workflow.Future) { fired = true })
	}
	sel.Select(ctx)
	return fired
}
