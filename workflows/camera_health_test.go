package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/contract"
)

// healthStart is the workflow clock's start, far from the wall clock.
var healthStart = time.Date(2031, 7, 8, 9, 10, 0, 0, time.UTC)

var (
	onlineOutcome    = contract.ProbeOutcome{OK: true, Codec: "h264", Width: 1920, Height: 1080, FPS: 15}
	errUnreachable   = temporal.NewApplicationError("connection refused", contract.ErrTypeUnreachable)
	errCameraDeleted = temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)
)

type CameraHealthWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestCameraHealthWorkflow(t *testing.T) { suite.Run(t, new(CameraHealthWorkflowSuite)) }

func (s *CameraHealthWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(a)
	s.env.SetStartTime(healthStart)
}

func (s *CameraHealthWorkflowSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *CameraHealthWorkflowSuite) run(in contract.CameraHealthWorkflowInput) contract.CameraHealthWorkflowResult {
	s.env.ExecuteWorkflow(CameraHealthWorkflow, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res contract.CameraHealthWorkflowResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

// expectRecorded expects one camera's outcome to be stored once, answering changed.
func (s *CameraHealthWorkflowSuite) expectRecorded(id string, o contract.ProbeOutcome, changed bool) {
	s.env.OnActivity(a.RecordCameraProbe, mock.Anything, id, o).Return(contract.HealthChangeResult{Changed: changed}, nil).Once()
}

func (s *CameraHealthWorkflowSuite) TestRecordsEveryCameraAndCountsTheRound() {
	s.env.OnActivity(a.CamerasToProbe, mock.Anything, at(healthStart.Add(-5*time.Minute))).
		Return([]string{"c1", "c2", "c3", "c4", "c5"}, nil).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c1").Return(onlineOutcome, nil).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c2").Return(onlineOutcome, nil).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c3").Return(contract.ProbeOutcome{}, errUnreachable).Twice()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c4").
		Return(contract.ProbeOutcome{}, temporal.NewApplicationError("401 Unauthorized", contract.ErrTypeAuthFailed)).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c5").
		Return(contract.ProbeOutcome{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil)).Twice()
	// c1 came back online, c3 and c4 went offline, c2 and c5 kept their health.
	s.expectRecorded("c1", onlineOutcome, true)
	s.expectRecorded("c2", onlineOutcome, false)
	s.expectRecorded("c3", contract.ProbeOutcome{Code: contract.ErrTypeUnreachable, Message: "connection refused"}, true)
	s.expectRecorded("c4", contract.ProbeOutcome{Code: contract.ErrTypeAuthFailed, Message: "401 Unauthorized"}, true)
	s.expectRecorded("c5", contract.ProbeOutcome{Code: contract.ErrTypeTimeout, Message: "the camera did not answer in time"}, false)

	res := s.run(contract.CameraHealthWorkflowInput{StaleAfter: 5 * time.Minute, Concurrency: 2})

	s.Equal(contract.CameraHealthWorkflowResult{Probed: 5, Online: 2, Offline: 3, Changed: 3}, res)
}

// TestConcurrencyBoundsProbesInFlight: every probe takes 10s of workflow
// time, so the round lasts 10s per batch of Concurrency cameras.
func (s *CameraHealthWorkflowSuite) TestConcurrencyBoundsProbesInFlight() {
	for _, tc := range []struct {
		name string
		in   contract.CameraHealthWorkflowInput
		// cutoff is how long before the start a camera must not have been seen.
		cutoff, rounds time.Duration
	}{
		{"two at a time", contract.CameraHealthWorkflowInput{StaleAfter: time.Minute, Concurrency: 2}, time.Minute, 3},
		{"defaults: four at a time, stale after 2m", contract.CameraHealthWorkflowInput{}, 2 * time.Minute, 2},
		{"five at a time", contract.CameraHealthWorkflowInput{StaleAfter: time.Minute, Concurrency: 5}, time.Minute, 1},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			ids := []string{"c1", "c2", "c3", "c4", "c5"}
			s.env.OnActivity(a.CamerasToProbe, mock.Anything, at(healthStart.Add(-tc.cutoff))).Return(ids, nil).Once()
			for _, id := range ids {
				s.env.OnActivity(a.ProbeCamera, mock.Anything, id).After(10*time.Second).Return(onlineOutcome, nil).Once()
				s.expectRecorded(id, onlineOutcome, false)
			}

			res := s.run(tc.in)

			s.Equal(contract.CameraHealthWorkflowResult{Probed: 5, Online: 5}, res)
			s.Equal(tc.rounds*10*time.Second, s.env.Now().Sub(healthStart))
			s.env.AssertExpectations(s.T())
		})
	}
}

func (s *CameraHealthWorkflowSuite) TestSkipsACameraDeletedDuringTheRound() {
	s.env.OnActivity(a.CamerasToProbe, mock.Anything, mock.Anything).Return([]string{"c1", "gone", "c3"}, nil).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c1").Return(onlineOutcome, nil).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "gone").Return(contract.ProbeOutcome{}, errCameraDeleted).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, "c3").Return(onlineOutcome, nil).Once()
	s.expectRecorded("c1", onlineOutcome, false)
	s.expectRecorded("c3", onlineOutcome, false)

	res := s.run(contract.CameraHealthWorkflowInput{StaleAfter: time.Minute, Concurrency: 2})

	s.Equal(contract.CameraHealthWorkflowResult{Probed: 2, Online: 2}, res)
	s.env.AssertActivityNotCalled(s.T(), "RecordCameraProbe", mock.Anything, "gone", mock.Anything)
}

func (s *CameraHealthWorkflowSuite) TestSkipsACameraDeletedBeforeItsHealthIsRecorded() {
	s.env.OnActivity(a.CamerasToProbe, mock.Anything, mock.Anything).Return([]string{"c1", "gone"}, nil).Once()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, mock.Anything).Return(onlineOutcome, nil).Twice()
	s.expectRecorded("c1", onlineOutcome, true)
	s.env.OnActivity(a.RecordCameraProbe, mock.Anything, "gone", onlineOutcome).Return(contract.HealthChangeResult{}, errCameraDeleted).Once()

	res := s.run(contract.CameraHealthWorkflowInput{StaleAfter: time.Minute, Concurrency: 2})

	s.Equal(contract.CameraHealthWorkflowResult{Probed: 1, Online: 1, Changed: 1}, res)
}

func (s *CameraHealthWorkflowSuite) TestNothingStaleProbesNothing() {
	s.env.OnActivity(a.CamerasToProbe, mock.Anything, mock.Anything).Return([]string(nil), nil).Once()

	s.Equal(contract.CameraHealthWorkflowResult{}, s.run(contract.CameraHealthWorkflowInput{}))
	s.env.AssertActivityNotCalled(s.T(), "ProbeCamera", mock.Anything, mock.Anything)
}
