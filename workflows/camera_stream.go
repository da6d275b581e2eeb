package workflows

import (
	"cmp"
	"errors"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
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

// streamBackoff is the wait before attempt failures+1 of a failing stream.
func streamBackoff(failures int, code string) time.Duration {
	if slices.Contains(contract.PermanentCameraErrors, code) {
		return streamRetryPermanent
	}
	d := streamRetryFirst
	for i := 1; i < failures && d < streamRetryMax; i++ {
		d *= 2
	}
	return min(d, streamRetryMax)
}

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

// runSession runs StreamCamera once, until it fails or is interrupted,
// then waits out the backoff of a failure. done means the workflow ends
// (its camera is gone or no longer active).
func (w *cameraStream) runSession(ctx workflow.Context) (done bool, err error) {
	w.session++
	w.current = contract.StreamReport{Session: w.session}
	if w.status.State != contract.StreamReconnecting {
		w.setState(ctx, contract.StreamStarting)
	}
	actCtx, stop := workflow.WithCancel(ctx)
	actCtx = workflow.WithActivityOptions(actCtx, workflow.ActivityOptions{
		StartToCloseTimeout: cmp.Or(w.in.SessionLimit, streamSessionLimit),
		HeartbeatTimeout:    StreamHeartbeatTimeout,
		WaitForCancellation: true,
		// The workflow retries, to mark the camera offline and back off.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
		// Empty for runs started before slots existed: the workflow's queue.
		TaskQueue:              w.in.SessionQueue,
		ScheduleToStartTimeout: w.in.PlacementTimeout,
	})
	fut := workflow.ExecuteActivity(actCtx, a.StreamCamera, contract.StreamCameraInput{CameraID: w.in.CameraID, Session: w.session})
	var result contract.StreamReport
	var actErr error
	interrupted, finished := false, false
	for !finished {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(fut, func(f workflow.Future) {
			finished = true
			actErr = f.Get(ctx, &result)
		})
		w.onSignals(ctx, sel, func() {
			interrupted = true
			stop()
		})
		if !interrupted && ctx.Err() == nil {
			sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { interrupted = true })
		}
		sel.Select(ctx)
		if !interrupted && !finished && w.longEnough(ctx) &&
			(!w.canBetween || workflow.GetInfo(ctx).GetCurrentHistoryLength() > streamHistoryCap) {
			interrupted = true
			stop()
		}
	}
	stop()
	w.foldSession(result, actErr)
	if ctx.Err() != nil {
		return true, temporal.NewCanceledError("camera stream stopped")
	}
	if interrupted || actErr == nil {
		// Paused, reconfigured, or ending this run: the loop decides.
		w.setState(ctx, contract.StreamStarting)
		return false, nil
	}
	return w.failed(ctx, actErr)
}

// foldSession adds the finished session's last counters to the totals.
func (w *cameraStream) foldSession(result contract.StreamReport, err error) {
	last := w.current
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	var r contract.StreamReport
	switch {
	case err == nil && result.Session == w.session:
		last = result
	case errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&r) == nil:
	case errors.As(err, &timeoutErr) && timeoutErr.HasLastHeartbeatDetails() && timeoutErr.LastHeartbeatDetails(&r) == nil:
		// A worker that died left its counters in its last heartbeat.
	}
	if r.Session == w.session && r.Counters.FramesRead >= last.Counters.FramesRead {
		last = r
	}
	w.totals = w.totals.Add(last.Counters)
	w.current = contract.StreamReport{Session: w.session}
	if last.Streaming() {
		w.failures, w.offline, w.lost = 0, false, 0
	}
}

// failed handles a stream failure: the camera is marked offline, and the
// next attempt waits for the backoff, a reconfigure, a
// pause or a resume.
func (w *cameraStream) failed(ctx workflow.Context, err error) (done bool, _ error) {
	code, msg := "", err.Error()
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case errors.As(err, &appErr):
		code, msg = contract.NormalizeErrorType(appErr.Type()), appErr.Message()
		if code == contract.ErrTypeCameraNotFound || code == contract.ErrTypeCameraInactive {
			return true, nil // deleted or deactivated: the stream has nothing left to do
		}
	case errors.As(err, &timeoutErr) && timeoutErr.TimeoutType() == enumspb.TIMEOUT_TYPE_START_TO_CLOSE:
		return false, nil // the session's time limit: open it again at once
	case errors.As(err, &timeoutErr) && timeoutErr.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START:
		// No worker had a free stream slot: say so, and ask again (after a
		// short wait, so a full fleet is not polled in a tight loop).
		retryAt := workflow.Now(ctx).Add(streamPlacementRetry)
		w.status.LastError, w.status.LastErrorCode, w.status.RetryAt = "no stream worker had a free slot", contract.ErrTypeNoStreamSlot, &retryAt
		w.setState(ctx, contract.StreamReconnecting)
		tctx, cancelTimer := workflow.WithCancel(ctx)
		w.waitSignal(ctx, workflow.NewTimer(tctx, streamPlacementRetry))
		cancelTimer()
		return false, nil
	case errors.As(err, &timeoutErr):
		// The worker running the stream died or lost Temporal: start again
		// at once elsewhere; the camera is not at fault.
		code, msg = contract.ErrTypeWorkerLost, "the worker running the stream stopped heartbeating"
	}
	if code == contract.ErrTypeWorkerShutdown && workflow.GetVersion(ctx, "stream-worker-shutdown", workflow.DefaultVersion, 1) == 1 {
		// A worker draining for a restart handed the stream back: another
		// (or the restarted) worker takes it at once; the camera is fine.
		w.lost = 0
		return false, nil
	}
	w.failures++
	wait := streamBackoff(w.failures, code)
	if code == contract.ErrTypeWorkerLost {
		wait = 0
		// A camera whose stream kills its worker (out of memory, a decoder
		// crash) would crash-loop across the fleet: from the second loss in
		// a row, back off as for a failure.
		if workflow.GetVersion(ctx, "stream-lost-worker-backoff", workflow.DefaultVersion, 1) == 1 {
			if w.lost++; w.lost >= 2 {
				wait = streamBackoff(w.lost-1, code)
			}
		}
	} else {
		w.lost = 0
	}
	retryAt := workflow.Now(ctx).Add(wait)
	w.status.LastError, w.status.LastErrorCode, w.status.RetryAt = msg, code, &retryAt
	w.setState(ctx, contract.StreamReconnecting)
	// Version 1 marks the camera at every failure, so a health probe that
	// found it online meanwhile is corrected; before, once per outage.
	everyFailure := workflow.GetVersion(ctx, "stream-mark-every-failure", workflow.DefaultVersion, 1) == 1
	if contract.IsCameraErrorType(code) && (everyFailure || !w.offline) {
		mctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5,
				NonRetryableErrorTypes: contract.NonRetryable(contract.ErrTypeCameraNotFound)},
		})
		var ch contract.HealthChangeResult
		err := workflow.ExecuteActivity(mctx, a.MarkCameraStreamFailed, contract.MarkCameraStreamInput{
			CameraID: w.in.CameraID, Code: code, Message: msg, Attempt: w.failures, RetryIn: wait,
		}).Get(ctx, &ch)
		if contract.ErrorType(err) == contract.ErrTypeCameraNotFound {
			return true, nil
		}
		w.offline = err == nil
	}
	if wait > 0 {
		tctx, cancelTimer := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, wait)
		w.waitSignal(ctx, timer)
		cancelTimer()
	}
	return false, nil
}

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
		CameraID: in.CameraID, Signals: status.Reconfigured, Paused: status.State == "paused", Since: status.Since,
	})
}

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
