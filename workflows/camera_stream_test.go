package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

const streamCameraID = "7d3c9a4e-0000-4000-8000-000000000003"

// streamStart is the workflow clock's start, far from the wall clock.
var streamStart = time.Date(2031, 9, 10, 11, 0, 0, 0, time.UTC)

// CameraStreamWorkflowSuite tests the stream workflow of runs started
// before sampling existed (DefaultVersion of "stream-sampling"), kept for
// their replay: it only follows signals.
type CameraStreamWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestCameraStreamWorkflow(t *testing.T) { suite.Run(t, new(CameraStreamWorkflowSuite)) }

func (s *CameraStreamWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(streamStart)
	s.env.OnGetVersion("stream-sampling", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

// signalAt sends n signals of one name at start+d of the workflow clock.
func (s *CameraStreamWorkflowSuite) signalAt(d time.Duration, name string, n int) {
	s.env.RegisterDelayedCallback(func() {
		for range n {
			s.env.SignalWorkflow(name, nil)
		}
	}, d)
}

// statusAt queries the status at start+d into *into.
func (s *CameraStreamWorkflowSuite) statusAt(d time.Duration, into *contract.CameraStreamStatus) {
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryCameraStreamStatus)
		if s.NoError(err) {
			s.NoError(v.Get(into))
		}
	}, d)
}

// continuedWith asserts the run continued as new and returns the next run's
// input, its Since in UTC.
func (s *CameraStreamWorkflowSuite) continuedWith() contract.CameraStreamWorkflowInput {
	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	s.Require().True(workflow.IsContinueAsNewError(err), "want continue-as-new, got %v", err)
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(err, &can)
	s.Equal("CameraStreamWorkflow", can.WorkflowType.Name)
	var next contract.CameraStreamWorkflowInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	next.Since = next.Since.UTC()
	return next
}

func (s *CameraStreamWorkflowSuite) requireCanceled() {
	s.Require().True(s.env.IsWorkflowCompleted())
	var canceled *temporal.CanceledError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &canceled)
}

func (s *CameraStreamWorkflowSuite) TestStatusFollowsSignalsUntilCanceled() {
	var started, reconfigured, paused, resumed contract.CameraStreamStatus
	s.statusAt(time.Second, &started)
	s.signalAt(time.Minute, SignalCameraReconfigure, 2)
	s.statusAt(2*time.Minute, &reconfigured)
	s.signalAt(3*time.Minute, SignalCameraPause, 1)
	s.statusAt(4*time.Minute, &paused)
	s.signalAt(5*time.Minute, SignalCameraResume, 1)
	s.statusAt(6*time.Minute, &resumed)
	s.env.RegisterDelayedCallback(s.env.CancelWorkflow, 7*time.Minute)

	s.env.ExecuteWorkflow(CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.requireCanceled()
	for _, tc := range []struct {
		name         string
		got          contract.CameraStreamStatus
		state        string
		since        time.Time
		reconfigured int
	}{
		{"started", started, "waiting", streamStart, 0},
		{"reconfigured twice", reconfigured, "waiting", streamStart, 2},
		{"paused", paused, "paused", streamStart.Add(3 * time.Minute), 2},
		{"resumed", resumed, "waiting", streamStart.Add(5 * time.Minute), 2},
	} {
		s.Equal(streamCameraID, tc.got.CameraID, tc.name)
		s.Equal(tc.state, tc.got.State, tc.name)
		s.True(tc.since.Equal(tc.got.Since), "%s: since %v, want %v", tc.name, tc.got.Since, tc.since)
		s.Equal(tc.reconfigured, tc.got.Reconfigured, tc.name)
	}
}

func (s *CameraStreamWorkflowSuite) TestCancelWhilePausedEndsAsCanceled() {
	s.signalAt(time.Minute, SignalCameraPause, 1)
	s.env.RegisterDelayedCallback(s.env.CancelWorkflow, time.Hour)

	s.env.ExecuteWorkflow(CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	s.requireCanceled()
	s.True(s.env.Now().Equal(streamStart.Add(time.Hour)), "runs until canceled, not before: ended at %v", s.env.Now())
}

func (s *CameraStreamWorkflowSuite) TestContinuesAsNewCarryingTheReconfigureCount() {
	var first contract.CameraStreamStatus
	s.statusAt(time.Second, &first)
	s.signalAt(time.Minute, SignalCameraReconfigure, maxSignalsPerRun)

	s.env.ExecuteWorkflow(CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: streamCameraID, Signals: 7})

	s.Equal(7, first.Reconfigured, "a continued run starts from the count it was given")
	next := s.continuedWith()
	s.Equal(streamCameraID, next.CameraID)
	s.Equal(7+maxSignalsPerRun, next.Signals)
	s.False(next.Paused)
	s.Equal(streamStart, next.Since, "still waiting since the run started")
}

func (s *CameraStreamWorkflowSuite) TestPauseOutlivesContinueAsNew() {
	s.signalAt(time.Minute, SignalCameraPause, 1)
	s.signalAt(2*time.Minute, SignalCameraReconfigure, maxSignalsPerRun-1)

	s.env.ExecuteWorkflow(CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	next := s.continuedWith()
	s.Equal(contract.CameraStreamWorkflowInput{CameraID: streamCameraID, Signals: maxSignalsPerRun - 1, Paused: true, Since: streamStart.Add(time.Minute)}, next)
}

func (s *CameraStreamWorkflowSuite) TestContinuedRunStartsPaused() {
	var st contract.CameraStreamStatus
	s.statusAt(time.Second, &st)
	s.env.RegisterDelayedCallback(s.env.CancelWorkflow, time.Minute)

	pausedAt := streamStart.Add(-time.Hour)
	s.env.ExecuteWorkflow(CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: streamCameraID, Signals: 3, Paused: true, Since: pausedAt})

	s.requireCanceled()
	s.Equal("paused", st.State)
	s.True(pausedAt.Equal(st.Since), "paused since the previous run's pause, not %v", st.Since)
	s.Equal(3, st.Reconfigured)
}

// TestSignalsBeyondTheLimitAreNotLost: signals delivered in the same
// workflow task as the one that reaches the limit are handled before the
// run continues as new, not dropped with it.
func (s *CameraStreamWorkflowSuite) TestSignalsBeyondTheLimitAreNotLost() {
	s.env.RegisterDelayedCallback(func() {
		for range maxSignalsPerRun + 2 {
			s.env.SignalWorkflowSkippingWorkflowTask(SignalCameraReconfigure, nil)
		}
		s.env.SignalWorkflow(SignalCameraPause, nil) // delivers the batch in one workflow task
	}, time.Minute)

	s.env.ExecuteWorkflow(CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: streamCameraID})

	next := s.continuedWith()
	s.Equal(contract.CameraStreamWorkflowInput{CameraID: streamCameraID, Signals: maxSignalsPerRun + 2, Paused: true, Since: streamStart.Add(time.Minute)}, next)
}

func TestCameraReconcileWorkflow(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	for _, tc := range []struct {
		name     string
		failures []error // errors of the first attempts; unless wantErr the next attempt succeeds
		wantErr  bool
	}{
		{"returns the reconciliation", nil, false},
		{"retries a transient failure", []error{errors.New("temporal unavailable")}, false},
		{"fails after three attempts", []error{errors.New("a"), errors.New("b"), errors.New("c")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := ts.NewTestWorkflowEnvironment()
			env.RegisterActivity(a)
			want := contract.ReconcileResult{Started: []string{"c1", "c2"}, Stopped: []string{"c9"}}
			for _, err := range tc.failures {
				env.OnActivity(a.ReconcileCameraStreams, mock.Anything).Return(contract.ReconcileResult{}, err).Once()
			}
			if !tc.wantErr {
				env.OnActivity(a.ReconcileCameraStreams, mock.Anything).Return(want, nil).Once()
			}

			env.ExecuteWorkflow(CameraReconcileWorkflow)

			require.True(t, env.IsWorkflowCompleted())
			env.AssertExpectations(t)
			if tc.wantErr {
				env.AssertActivityNumberOfCalls(t, "ReconcileCameraStreams", 3)
				require.Error(t, env.GetWorkflowError())
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var got contract.ReconcileResult
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.Equal(t, want, got)
		})
	}
}
