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
