package workflows

import (
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/contract"
)

const probeCameraID = "7d3c9a4e-0000-4000-8000-000000000001"

type CameraProbeWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestCameraProbeWorkflow(t *testing.T) { suite.Run(t, new(CameraProbeWorkflowSuite)) }

func (s *CameraProbeWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(a)
}

func (s *CameraProbeWorkflowSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

// outcome runs the workflow and returns the outcome it completed with.
func (s *CameraProbeWorkflowSuite) outcome() contract.ProbeOutcome {
	s.env.ExecuteWorkflow(CameraProbeWorkflow, contract.CameraProbeWorkflowInput{CameraID: probeCameraID})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var out contract.ProbeOutcome
	s.Require().NoError(s.env.GetWorkflowResult(&out))
	return out
}

// expectRecorded expects the probe's outcome to be stored as the camera's health once.
func (s *CameraProbeWorkflowSuite) expectRecorded(want contract.ProbeOutcome) {
	s.env.OnActivity(a.RecordCameraProbe, mock.Anything, probeCameraID, want).
		Return(contract.HealthChangeResult{Changed: true, From: "unknown", To: "online"}, nil).Once()
}

func (s *CameraProbeWorkflowSuite) TestReachableCameraReportsItsStream() {
	info := contract.ProbeOutcome{OK: true, Codec: "h264", Width: 1280, Height: 720, FPS: 25, LatencyMs: 140}
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).Return(info, nil).Once()
	s.expectRecorded(info)

	s.Equal(info, s.outcome())
}

func (s *CameraProbeWorkflowSuite) TestUnreachableCameraIsRetriedUntilItAnswers() {
	info := contract.ProbeOutcome{OK: true, Codec: "h264", Width: 640, Height: 480, FPS: 10}
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).
		Return(contract.ProbeOutcome{}, temporal.NewApplicationError("connection refused", contract.ErrTypeUnreachable)).Twice()
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).Return(info, nil).Once()
	s.expectRecorded(info)

	s.Equal(info, s.outcome())
	s.env.AssertActivityNumberOfCalls(s.T(), "ProbeCamera", 3)
}

func (s *CameraProbeWorkflowSuite) TestUnreachableCameraIsRecordedOfflineAfterThreeAttempts() {
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).
		Return(contract.ProbeOutcome{}, temporal.NewApplicationError("connection refused", contract.ErrTypeUnreachable))
	want := contract.ProbeOutcome{Code: contract.ErrTypeUnreachable, Message: "connection refused"}
	s.expectRecorded(want)

	s.Equal(want, s.outcome(), "an unreachable camera is an outcome, not a failed workflow")
	s.env.AssertActivityNumberOfCalls(s.T(), "ProbeCamera", 3)
}

// TestPermanentFailuresAreNotRetried covers both ways an activity may report
// a permanent failure: marked non-retryable itself, or only typed (then the
// retry policy's NonRetryableErrorTypes alone must stop the retries).
func (s *CameraProbeWorkflowSuite) TestPermanentFailuresAreNotRetried() {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"non-retryable auth_failed", temporal.NewNonRetryableApplicationError("401 Unauthorized", contract.ErrTypeAuthFailed, nil)},
		{"retryable auth_failed", temporal.NewApplicationError("401 Unauthorized", contract.ErrTypeAuthFailed)},
		{"retryable not_found", temporal.NewApplicationError("404 Not Found", contract.ErrTypeStreamNotFound)},
		{"retryable unsupported_codec", temporal.NewApplicationError("codec mjpeg", contract.ErrTypeUnsupportedCodec)},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			var appErr *temporal.ApplicationError
			s.Require().ErrorAs(tc.err, &appErr)
			want := contract.ProbeOutcome{Code: appErr.Type(), Message: appErr.Message()}
			s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).Return(contract.ProbeOutcome{}, tc.err)
			s.expectRecorded(want)

			s.Equal(want, s.outcome())
			s.env.AssertActivityNumberOfCalls(s.T(), "ProbeCamera", 1)
			s.env.AssertExpectations(s.T())
		})
	}
}

// TestTimeoutIsAnOutcome: a probe that runs past its StartToCloseTimeout on
// every attempt ends as the "timeout" outcome, recorded like any other.
func (s *CameraProbeWorkflowSuite) TestTimeoutIsAnOutcome() {
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).
		Return(contract.ProbeOutcome{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil))
	want := contract.ProbeOutcome{Code: contract.ErrTypeTimeout, Message: "the camera did not answer in time"}
	s.expectRecorded(want)

	s.Equal(want, s.outcome())
	s.env.AssertActivityNumberOfCalls(s.T(), "ProbeCamera", 3)
}

func (s *CameraProbeWorkflowSuite) TestDeletedCameraFailsWithoutRecording() {
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).
		Return(contract.ProbeOutcome{}, temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)).Once()

	s.env.ExecuteWorkflow(CameraProbeWorkflow, contract.CameraProbeWorkflowInput{CameraID: probeCameraID})

	s.Require().True(s.env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &appErr)
	s.Equal(contract.ErrTypeCameraNotFound, appErr.Type())
	s.env.AssertActivityNotCalled(s.T(), "RecordCameraProbe", mock.Anything, mock.Anything, mock.Anything)
}

func (s *CameraProbeWorkflowSuite) TestUnreadableCredentialsFailTheWorkflow() {
	s.env.OnActivity(a.ProbeCamera, mock.Anything, probeCameraID).
		Return(contract.ProbeOutcome{}, temporal.NewNonRetryableApplicationError("stored camera credentials cannot be decrypted", contract.ErrTypeCredentials, nil)).Once()

	s.env.ExecuteWorkflow(CameraProbeWorkflow, contract.CameraProbeWorkflowInput{CameraID: probeCameraID})

	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &appErr)
	s.Equal(contract.ErrTypeCredentials, appErr.Type(), "Rollcall's own failure is not blamed on the camera")
	s.env.AssertActivityNotCalled(s.T(), "RecordCameraProbe", mock.Anything, mock.Anything, mock.Anything)
}
