package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// StreamSamplingSuite tests the stream workflow that samples its camera
// (version 1 of "stream-sampling"), with StreamCamera mocked.
type StreamSamplingSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	sessions []streamSession // StreamCamera calls, in order
	marks    []contract.MarkCameraStreamInput
	wanted   bool // what CameraStreamWanted answers
}

// streamSession is one StreamCamera call as the mock saw it.
type streamSession struct {
	in    contract.StreamCameraInput
	at    time.Duration // workflow time since start
	ended string        // how it ended: failed, cancelled
}

// sessionPlan tells the mock what the session of that number does.
type sessionPlan struct {
	err error         // returned at once when set
	run time.Duration // otherwise: runs this long (workflow time) unless cancelled
}

func TestStreamSampling(t *testing.T) { suite.Run(t, new(StreamSamplingSuite)) }

func (s *StreamSamplingSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(streamStart)
	s.env.RegisterActivity(a)
	s.sessions, s.marks = nil, nil
	s.wanted = false
	s.env.OnActivity(a.CameraStreamWanted, mock.Anything, mock.Anything).Return(
		func(context.Context, string) (bool, error) { return s.wanted, nil }).Maybe()
	s.env.OnActivity(a.MarkCameraStreamFailed, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.MarkCameraStreamInput) (contract.HealthChangeResult, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.marks = append(s.marks, in)
			return contract.HealthChangeResult{Changed: true, From: "online", To: "offline"}, nil
		})
}

// plan mocks StreamCamera: call n (from 1) follows plans[n-1]; later
// calls run for a day. A running session blocks on the workflow clock, so
// time skips ahead as it would on a server; cancelling it resolves it at
// once, as Temporal does.
func (s *StreamSamplingSuite) plan(plans ...sessionPlan) {
	planOf := func(n int) sessionPlan {
		if n <= len(plans) {
			return plans[n-1]
		}
		return sessionPlan{run: 24 * time.Hour}
	}
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name != "StreamCamera" {
			return
		}
		var in contract.StreamCameraInput
		s.Require().NoError(args.Get(&in))
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sessions = append(s.sessions, streamSession{in: in, at: s.env.Now().Sub(streamStart)})
	})
	s.env.SetOnActivityCanceledListener(func(info *activity.Info) {
		if info.ActivityType.Name == "StreamCamera" {
			s.ended("cancelled")
		}
	})
	calls := 0
	s.env.OnActivity(a.StreamCamera, mock.Anything, mock.Anything).AfterFn(func() time.Duration {
		s.mu.Lock()
		defer s.mu.Unlock()
		calls++
		if p := planOf(calls); p.err == nil {
			return p.run
		}
		return 0
	}).Return(func(_ context.Context, in contract.StreamCameraInput) (contract.StreamReport, error) {
		s.mu.Lock()
		p := planOf(len(s.sessions))
		s.mu.Unlock()
		if p.err != nil {
			s.ended("failed")
			return contract.StreamReport{}, p.err
		}
		s.ended("returned")
		return contract.StreamReport{Session: in.Session}, nil
	})
}

// ended records how the latest session ended, unless it already has.
func (s *StreamSamplingSuite) ended(how string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.sessions); n > 0 && s.sessions[n-1].ended == "" {
		s.sessions[n-1].ended = how
	}
}

func (s *StreamSamplingSuite) at(d time.Duration, f func()) { s.env.RegisterDelayedCallback(f, d) }

func (s *StreamSamplingSuite) signal(name string, arg any) func() {
	return func() { s.env.SignalWorkflow(name, arg) }
}

func (s *StreamSamplingSuite) status() contract.CameraStreamStatus {
	v, err := s.env.QueryWorkflow(QueryCameraStreamStatus)
	s.Require().NoError(err)
	var st contract.CameraStreamStatus
	s.Require().NoError(v.Get(&st))
	return st
}

func (s *StreamSamplingSuite) statusAt(d time.Duration, into *contract.CameraStreamStatus) {
	s.at(d, func() { *into = s.status() })
}

func (s *StreamSamplingSuite) run(in contract.CameraStreamWorkflowInput) {
	s.env.ExecuteWorkflow(CameraStreamWorkflow, in)
	s.Require().True(s.env.IsWorkflowCompleted())
}

func (s *StreamSamplingSuite) requireCanceled() {
	var canceled *temporal.CanceledError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &canceled)
}

func report(session int, read, sent, dropped, faces uint64) contract.StreamReport {
	return contract.StreamReport{Session: session, LastFrameAt: streamStart.Add(time.Minute),
		Counters: contract.StreamCounters{FramesRead: read, FramesSent: sent, FramesDropped: dropped, Faces: faces}}
}

func unreachable() error {
	return temporal.NewApplicationError("camera unreachable", contract.ErrTypeUnreachable, report(0, 0, 0, 0, 0))
}

// The status follows the running stream's reports; a report of an older
// session does not count.
func (s *StreamSamplingSuite) TestStatusFollowsReports() {
	s.plan()
	var before, after contract.CameraStreamStatus
	s.statusAt(time.Second, &before)
	s.at(time.Minute, s.signal(SignalCameraStreamReport, report(1, 60, 58, 2, 5)))
	s.at(time.Minute+time.Second, s.signal(SignalCameraStreamReport, report(7, 1000, 1000, 0, 0))) // stale
	s.statusAt(2*time.Minute, &after)
	s.at(3*time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.requireCanceled()
	s.Equal(contract.StreamStarting, before.State)
	s.Equal(1, before.Sessions)
	s.Equal(contract.StreamStreaming, after.State)
	s.Equal(contract.StreamCounters{FramesRead: 60, FramesSent: 58, FramesDropped: 2, Faces: 5}, after.Counters)
	s.Require().NotNil(after.LastFrameAt)
	s.True(streamStart.Add(time.Minute).Equal(*after.LastFrameAt))
	s.Require().Len(s.sessions, 1)
	s.Equal("cancelled", s.sessions[0].ended, "cancelling the workflow stops the stream")
	s.Equal(streamCameraID, s.sessions[0].in.CameraID)
}

// A failing stream is retried with exponential backoff; the camera is
// marked offline at every failure, and the backoff starts over once the
// stream has delivered frames.
func (s *StreamSamplingSuite) TestBackoffMarksEveryFailure() {
	s.plan(
		sessionPlan{err: unreachable()},
		sessionPlan{err: unreachable()},
		sessionPlan{err: unreachable()},
		sessionPlan{run: time.Hour}, // streams, then the camera drops again
		sessionPlan{err: unreachable()},
	)
	var reconnecting contract.CameraStreamStatus
	s.statusAt(5*time.Second, &reconnecting)
	s.at(10*time.Minute, s.signal(SignalCameraStreamReport, report(4, 600, 600, 0, 0)))
	s.at(3*time.Hour, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.requireCanceled()
	var starts []time.Duration
	for _, ss := range s.sessions {
		starts = append(starts, ss.at)
	}
	h := 7*time.Second + time.Hour // session 4 ran an hour from 7 s
	s.Equal([]time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, h, h + time.Second}, starts,
		"backoff 1 s, 2 s, 4 s; after frames flowed it starts over at 1 s")
	s.Require().Len(s.marks, 4, "every failure marks the camera")
	var attempts []int
	var waits []time.Duration
	for _, m := range s.marks {
		s.Equal(contract.ErrTypeUnreachable, m.Code)
		attempts, waits = append(attempts, m.Attempt), append(waits, m.RetryIn)
	}
	s.Equal([]int{1, 2, 3, 1}, attempts, "the second outage counts from 1 again")
	s.Equal([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, time.Second}, waits)

	s.Equal(contract.StreamReconnecting, reconnecting.State)
	s.Equal(3, reconnecting.Failures)
	s.Equal(contract.ErrTypeUnreachable, reconnecting.LastErrorCode)
	s.Equal("camera unreachable", reconnecting.LastError)
	s.Require().NotNil(reconnecting.RetryAt)
	s.True(streamStart.Add(7*time.Second).Equal(*reconnecting.RetryAt), "retry at %v", reconnecting.RetryAt)
}

// The backoff doubles up to a minute.
func (s *StreamSamplingSuite) TestBackoffIsCapped() {
	var plans []sessionPlan
	for range 9 {
		plans = append(plans, sessionPlan{err: unreachable()})
	}
	s.plan(plans...)
	s.at(2*time.Hour, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	var gaps []time.Duration
	for i := 1; i < 10; i++ {
		gaps = append(gaps, s.sessions[i].at-s.sessions[i-1].at)
	}
	s.Equal([]time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}, scale(gaps, time.Second))
}

func scale(ds []time.Duration, unit time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d / unit
	}
	return out
}

// A failure retrying will not mend waits five minutes, unless the camera
// is reconfigured, which retries at once.
func (s *StreamSamplingSuite) TestPermanentFailureWaitsForReconfigure() {
	authFailed := temporal.NewNonRetryableApplicationError("camera refused the credentials", contract.ErrTypeAuthFailed, nil)
	s.plan(sessionPlan{err: authFailed}, sessionPlan{err: authFailed})
	s.at(7*time.Minute, s.signal(SignalCameraReconfigure, nil))
	s.at(time.Hour, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.Require().Len(s.sessions, 3)
	s.Equal([]time.Duration{0, 5 * time.Minute, 7 * time.Minute}, []time.Duration{s.sessions[0].at, s.sessions[1].at, s.sessions[2].at},
		"five minutes between permanent failures; a reconfigure retries at once")
	s.Require().Len(s.marks, 2)
	s.Equal(contract.ErrTypeAuthFailed, s.marks[1].Code)
}

// Reconfigure restarts the stream; pause stops it until resume.
func (s *StreamSamplingSuite) TestReconfigurePauseResume() {
	s.plan()
	var paused, resumed contract.CameraStreamStatus
	s.at(time.Minute, s.signal(SignalCameraReconfigure, nil))
	s.at(2*time.Minute, s.signal(SignalCameraPause, nil))
	s.statusAt(3*time.Minute, &paused)
	s.at(4*time.Minute, s.signal(SignalCameraResume, nil))
	s.at(5*time.Minute, s.signal(SignalCameraStreamReport, report(3, 10, 10, 0, 1)))
	s.statusAt(6*time.Minute, &resumed)
	s.at(7*time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.requireCanceled()
	s.Require().Len(s.sessions, 3)
	for i, want := range []struct {
		at    time.Duration
		ended string
	}{{0, "cancelled"}, {time.Minute, "cancelled"}, {4 * time.Minute, "cancelled"}} {
		s.Equal(want.at, s.sessions[i].at, "session %d", i+1)
		s.Equal(want.ended, s.sessions[i].ended, "session %d", i+1)
		s.Equal(i+1, s.sessions[i].in.Session)
	}
	s.Equal(contract.StreamPaused, paused.State)
	s.True(streamStart.Add(2 * time.Minute).Equal(paused.Since))
	s.Equal(1, paused.Reconfigured)
	s.Equal(contract.StreamStreaming, resumed.State)
	s.Equal(uint64(10), resumed.Counters.FramesRead)
	s.Empty(s.marks, "nothing failed")
}

// A stream whose camera was deactivated or deleted ends the workflow.
func (s *StreamSamplingSuite) TestStopsWhenCameraIsGone() {
	for _, typ := range []string{contract.ErrTypeCameraInactive, contract.ErrTypeCameraNotFound} {
		s.Run(typ, func() {
			s.SetupTest()
			s.plan(sessionPlan{err: temporal.NewNonRetryableApplicationError("gone", typ, nil)})

			s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

			s.NoError(s.env.GetWorkflowError())
			s.Len(s.sessions, 1)
			s.Empty(s.marks)
		})
	}
}

// A worker that stops heartbeating is not the camera's fault: the stream
// starts again at once, without marking the camera offline.
func (s *StreamSamplingSuite) TestWorkerLostRestartsAtOnce() {
	s.plan(sessionPlan{err: temporal.NewHeartbeatTimeoutError()})
	s.at(time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.Require().Len(s.sessions, 2)
	s.Equal(time.Duration(0), s.sessions[1].at)
	s.Empty(s.marks)
}

// A camera whose stream keeps killing its worker does not crash-loop the
// fleet: the first loss restarts at once, later ones in a row back off.
func (s *StreamSamplingSuite) TestWorkerLostTwiceBacksOff() {
	s.plan(
		sessionPlan{err: temporal.NewHeartbeatTimeoutError()},
		sessionPlan{err: temporal.NewHeartbeatTimeoutError()},
		sessionPlan{err: temporal.NewHeartbeatTimeoutError()},
	)
	s.at(time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.Require().Len(s.sessions, 4)
	var starts []time.Duration
	for _, ss := range s.sessions {
		starts = append(starts, ss.at)
	}
	s.Equal([]time.Duration{0, 0, time.Second, 3 * time.Second}, starts, "at once, then 1 s, then 2 s")
	s.Empty(s.marks, "a lost worker is not the camera's failure")
}

// A camera deactivated and at once activated again gets the run being
// cancelled back from its start request: that run goes on in a new one
// instead of ending with the camera active and no stream.
func (s *StreamSamplingSuite) TestCancelledButWantedAgainContinues() {
	s.plan()
	s.wanted = true
	s.at(time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
}

// A session no worker has a free slot for within the placement timeout is
// visible (no_stream_slot) and asked for again, without marking the camera.
func (s *StreamSamplingSuite) TestNoStreamSlotIsVisible() {
	s.plan(sessionPlan{err: temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)})
	var waiting contract.CameraStreamStatus
	s.statusAt(5*time.Second, &waiting)
	s.at(time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID, SessionQueue: "sessions", PlacementTimeout: 2 * time.Minute})

	s.Require().Len(s.sessions, 2)
	s.Equal(10*time.Second, s.sessions[1].at, "asked for again after 10 s")
	s.Equal(contract.StreamReconnecting, waiting.State)
	s.Equal(contract.ErrTypeNoStreamSlot, waiting.LastErrorCode)
	s.Equal(0, waiting.Failures, "not the camera's failure")
	s.Empty(s.marks)
}

// A worker shutting down hands its sessions back: the stream restarts at
// once and the camera counts no failure.
func (s *StreamSamplingSuite) TestWorkerShutdownIsNotAFailure() {
	shutdown := temporal.NewApplicationError("the worker running the stream is shutting down", contract.ErrTypeWorkerShutdown, report(1, 10, 10, 0, 0))
	s.plan(sessionPlan{err: shutdown}, sessionPlan{err: shutdown})
	var after contract.CameraStreamStatus
	s.statusAt(30*time.Second, &after)
	s.at(time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.Require().Len(s.sessions, 3)
	s.Equal(time.Duration(0), s.sessions[2].at, "no backoff")
	s.Empty(s.marks, "the camera is not marked offline")
	s.Equal(0, after.Failures)
	s.Empty(after.LastErrorCode)
}

// Status reports do not count toward the signal budget: a stream
// reporting for hours keeps its session (and its FFmpeg) instead of being
// reopened by continue-as-new.
func (s *StreamSamplingSuite) TestReportsDoNotReopenTheStream() {
	s.plan()
	s.at(time.Minute, func() {
		for i := range 2 * maxSignalsPerRun {
			s.env.SignalWorkflow(SignalCameraStreamReport, report(1, uint64(i+1), uint64(i+1), 0, 0))
		}
	})
	var st contract.CameraStreamStatus
	s.statusAt(2*time.Hour, &st)
	s.at(3*time.Hour, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.requireCanceled()
	s.Require().Len(s.sessions, 1, "one session throughout")
	s.Equal(uint64(2*maxSignalsPerRun), st.Counters.FramesRead)
}

// The run continues as new after maxSignalsPerRun control signals,
// carrying its totals, sessions, pause and reconfigure count.
func (s *StreamSamplingSuite) TestContinuesAsNewCarryingItsState() {
	s.plan()
	s.at(time.Minute, func() {
		for i := range maxSignalsPerRun - 1 {
			s.env.SignalWorkflow(SignalCameraStreamReport, report(10, uint64(i+1), uint64(i+1), 0, 0))
			s.env.SignalWorkflow(SignalCameraResume, nil) // resuming a running stream changes nothing but counts
		}
	})
	s.at(2*time.Minute, s.signal(SignalCameraReconfigure, nil))

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID, Signals: 4, Totals: contract.StreamCounters{FramesRead: 1000}, Sessions: 9})

	s.Require().Len(s.sessions, 1, "the reconfigure reaches the limit: the stream stops, the next run opens it")
	s.Equal(10, s.sessions[0].in.Session)
	s.Require().True(workflow.IsContinueAsNewError(s.env.GetWorkflowError()), "want continue-as-new, got %v", s.env.GetWorkflowError())
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	var next contract.CameraStreamWorkflowInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Equal(streamCameraID, next.CameraID)
	s.Equal(5, next.Signals)
	s.Equal(10, next.Sessions)
	s.Equal(uint64(1000+maxSignalsPerRun-1), next.Totals.FramesRead)
	s.False(next.Paused)
}

// A continued run picks up where the previous one stopped.
func (s *StreamSamplingSuite) TestContinuedRunStartsFromItsInput() {
	s.plan()
	var st contract.CameraStreamStatus
	s.statusAt(time.Second, &st)
	s.at(time.Minute, s.env.CancelWorkflow)

	s.run(contract.CameraStreamWorkflowInput{CameraID: streamCameraID, Signals: 3, Paused: true, Since: streamStart.Add(-time.Hour),
		Totals: contract.StreamCounters{FramesRead: 77}, Sessions: 5})

	s.requireCanceled()
	s.Empty(s.sessions, "a paused camera is not streamed")
	s.Equal(contract.StreamPaused, st.State)
	s.True(streamStart.Add(-time.Hour).Equal(st.Since))
	s.Equal(uint64(77), st.Counters.FramesRead)
	s.Equal(3, st.Reconfigured)
	s.Equal(5, st.Sessions)
}
