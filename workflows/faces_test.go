package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/contract"
)

const faceProfileID = "5a1e0000-0000-4000-8000-000000000001"

type FaceWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestFaceWorkflows(t *testing.T) { suite.Run(t, new(FaceWorkflowSuite)) }

func (s *FaceWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(a)
}

func (s *FaceWorkflowSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *FaceWorkflowSuite) register() (contract.FaceRegistrationWorkflowResult, error) {
	s.env.ExecuteWorkflow(FaceRegistrationWorkflow, contract.FaceRegistrationWorkflowInput{ProfileID: faceProfileID})
	s.Require().True(s.env.IsWorkflowCompleted())
	var res contract.FaceRegistrationWorkflowResult
	if err := s.env.GetWorkflowError(); err != nil {
		return res, err
	}
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res, nil
}

// One photo enrolls, one is refused: the profile is active, both counted.
func (s *FaceWorkflowSuite) TestPartialImageFailure() {
	s.env.OnActivity(a.SetFaceProfileStatus, mock.Anything, faceProfileID, "registering", "").Return(nil).Once()
	s.env.OnActivity(a.EnrollPendingImages, mock.Anything, faceProfileID).Return(contract.EnrollOutcome{Enrolled: 1, Failed: 1}, nil).Once()
	s.env.OnActivity(a.FinalizeFaceProfile, mock.Anything, faceProfileID).Return("active", nil).Once()
	res, err := s.register()
	s.Require().NoError(err)
	s.Equal(contract.FaceRegistrationWorkflowResult{Status: "active", Enrolled: 1, Failed: 1}, res)
}

// The provider is down, then back: the enrolment is retried with backoff
// and the registration completes.
func (s *FaceWorkflowSuite) TestProviderDownThenBack() {
	s.env.OnActivity(a.SetFaceProfileStatus, mock.Anything, faceProfileID, "registering", "").Return(nil).Once()
	s.env.OnActivity(a.EnrollPendingImages, mock.Anything, faceProfileID).
		Return(contract.EnrollOutcome{}, temporal.NewApplicationError("provider unreachable", "provider_unreachable")).Times(3)
	s.env.OnActivity(a.EnrollPendingImages, mock.Anything, faceProfileID).Return(contract.EnrollOutcome{Enrolled: 2}, nil).Once()
	s.env.OnActivity(a.FinalizeFaceProfile, mock.Anything, faceProfileID).Return("active", nil).Once()
	start := s.env.Now()
	res, err := s.register()
	s.Require().NoError(err)
	s.env.AssertActivityNumberOfCalls(s.T(), "EnrollPendingImages", 4)
	s.Equal(2, res.Enrolled)
	s.GreaterOrEqual(s.env.Now().Sub(start), 2*time.Second+4*time.Second+8*time.Second, "retries back off")
}

// A refused API key will not pass by retrying: the profile is marked
// failed with the reason and the workflow fails.
func (s *FaceWorkflowSuite) TestUnauthorizedProviderStops() {
	s.env.OnActivity(a.SetFaceProfileStatus, mock.Anything, faceProfileID, "registering", "").Return(nil).Once()
	s.env.OnActivity(a.EnrollPendingImages, mock.Anything, faceProfileID).
		Return(contract.EnrollOutcome{}, temporal.NewNonRetryableApplicationError("provider refused the API key", "provider_unauthorized", nil)).Once()
	s.env.OnActivity(a.SetFaceProfileStatus, mock.Anything, faceProfileID, "failed", mock.MatchedBy(func(m string) bool { return len(m) > 0 })).Return(nil).Once()
	_, err := s.register()
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr))
	s.Equal("provider_unauthorized", appErr.Type())
}

// Images added while a pass runs are enrolled before the workflow ends.
func (s *FaceWorkflowSuite) TestImagesAddedDuringRegistration() {
	s.env.OnActivity(a.SetFaceProfileStatus, mock.Anything, faceProfileID, "registering", "").Return(nil).Once()
	s.env.OnActivity(a.EnrollPendingImages, mock.Anything, faceProfileID).Return(contract.EnrollOutcome{Enrolled: 1}, nil).After(time.Minute).Times(2)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalFaceImagesChanged, nil)
	}, 30*time.Second)
	s.env.OnActivity(a.FinalizeFaceProfile, mock.Anything, faceProfileID).Return("active", nil).Once()
	res, err := s.register()
	s.Require().NoError(err)
	s.env.AssertActivityNumberOfCalls(s.T(), "EnrollPendingImages", 2)
	s.Equal(2, res.Enrolled)
}

// Erasure is retried until it succeeds; each later step runs once.
func (s *FaceWorkflowSuite) TestDeletionRetriesUntilDone() {
	s.env.OnActivity(a.WaitRegistrationClosed, mock.Anything, FaceRegistrationWorkflowID(faceProfileID)).Return(nil).Once()
	s.env.OnActivity(a.DeleteFaceSubject, mock.Anything, faceProfileID).
		Return(temporal.NewApplicationError("provider refused the API key", "provider_unauthorized")).Times(6)
	s.env.OnActivity(a.DeleteFaceSubject, mock.Anything, faceProfileID).Return(nil).Once()
	s.env.OnActivity(a.DeleteFaceObjects, mock.Anything, faceProfileID).Return(3, nil).Once()
	s.env.OnActivity(a.DeleteFaceRows, mock.Anything, faceProfileID).Return(nil).Once()
	s.env.ExecuteWorkflow(FaceDeletionWorkflow, contract.FaceDeletionWorkflowInput{ProfileID: faceProfileID})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	s.env.AssertActivityNumberOfCalls(s.T(), "DeleteFaceSubject", 7)
}

// Erasure deletes at the provider only once the registration has closed:
// an enrolment already under way could otherwise re-create the subject.
func (s *FaceWorkflowSuite) TestDeletionWaitsForTheRegistration() {
	var order []string
	s.env.OnActivity(a.WaitRegistrationClosed, mock.Anything, FaceRegistrationWorkflowID(faceProfileID)).After(10 * time.Minute).
		Return(func(context.Context, string) error { order = append(order, "registration closed"); return nil }).Once()
	s.env.OnActivity(a.DeleteFaceSubject, mock.Anything, faceProfileID).
		Return(func(context.Context, string) error { order = append(order, "subject deleted"); return nil }).Once()
	s.env.OnActivity(a.DeleteFaceObjects, mock.Anything, faceProfileID).Return(3, nil).Once()
	s.env.OnActivity(a.DeleteFaceRows, mock.Anything, faceProfileID).Return(nil).Once()
	s.env.ExecuteWorkflow(FaceDeletionWorkflow, contract.FaceDeletionWorkflowInput{ProfileID: faceProfileID})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Equal([]string{"registration closed", "subject deleted"}, order)
}

func (s *FaceWorkflowSuite) TestProviderHealth() {
	s.env.OnActivity(a.CheckProviderHealth, mock.Anything).Return(false, nil).Once()
	s.env.ExecuteWorkflow(ProviderHealthWorkflow)
	s.Require().NoError(s.env.GetWorkflowError())
	var healthy bool
	s.Require().NoError(s.env.GetWorkflowResult(&healthy))
	s.False(healthy)
}

// A photo added while the final status is being written still gets a pass.
func (s *FaceWorkflowSuite) TestImagesAddedDuringFinalize() {
	s.env.OnActivity(a.SetFaceProfileStatus, mock.Anything, faceProfileID, "registering", "").Return(nil).Once()
	s.env.OnActivity(a.EnrollPendingImages, mock.Anything, faceProfileID).Return(contract.EnrollOutcome{Enrolled: 1}, nil).Times(2)
	s.env.OnActivity(a.FinalizeFaceProfile, mock.Anything, faceProfileID).Return("active", nil).After(time.Minute).Times(2)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalFaceImagesChanged, nil)
	}, 30*time.Second)
	res, err := s.register()
	s.Require().NoError(err)
	s.Equal(2, res.Enrolled)
}

func (s *FaceWorkflowSuite) TestRepairRunsTheActivity() {
	s.env.OnActivity(a.RepairFaceProfiles, mock.Anything, 15*time.Minute).Return(contract.RepairResult{Registrations: 2}, nil).Once()
	s.env.ExecuteWorkflow(FaceRepairWorkflow)
	s.Require().NoError(s.env.GetWorkflowError())
	var res contract.RepairResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal(2, res.Registrations)
}
