package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
)

const snapshotCameraID = "7d3c9a4e-0000-4000-8000-000000000002"

// snapshotStart is the workflow clock's start, years from the wall clock so
// a key built from time.Now would not match.
var snapshotStart = time.Date(2031, 2, 3, 4, 5, 6, 789_000_000, time.UTC)

type CameraSnapshotWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestCameraSnapshotWorkflow(t *testing.T) { suite.Run(t, new(CameraSnapshotWorkflowSuite)) }

func (s *CameraSnapshotWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(a)
	s.env.SetStartTime(snapshotStart)
}

func (s *CameraSnapshotWorkflowSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

// wantKey is the key the workflow must use in the run an activity belongs to.
func wantKey(ctx context.Context) string {
	return blob.SnapshotKey(snapshotCameraID, snapshotStart, activity.GetInfo(ctx).WorkflowExecution.RunID)
}

func (s *CameraSnapshotWorkflowSuite) TestStoresUnderAKeyOfTheWorkflowStart() {
	var keys, want []string
	s.env.OnActivity(a.CaptureSnapshot, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in contract.SnapshotInput) (contract.SnapshotResult, error) {
			keys, want = append(keys, in.Key), append(want, wantKey(ctx))
			return contract.SnapshotResult{Key: in.Key, Size: 2048, TakenAt: snapshotStart}, nil
		}).Once()

	s.env.ExecuteWorkflow(CameraSnapshotWorkflow, contract.CameraSnapshotWorkflowInput{CameraID: snapshotCameraID})

	s.Require().NoError(s.env.GetWorkflowError())
	var res contract.SnapshotResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Require().Len(keys, 1)
	s.True(strings.HasPrefix(keys[0], "cameras/"+snapshotCameraID+"/snapshots/2031/02/03/040506.789-"), keys[0])
	s.Equal(want, keys)
	s.Equal(contract.SnapshotResult{Key: keys[0], Size: 2048, TakenAt: snapshotStart}, res)
}

func (s *CameraSnapshotWorkflowSuite) TestRetryOverwritesTheSameKey() {
	var keys, want []string
	capture := func(ctx context.Context, in contract.SnapshotInput) (contract.SnapshotResult, error) {
		keys, want = append(keys, in.Key), append(want, wantKey(ctx))
		if len(keys) < 3 {
			return contract.SnapshotResult{}, temporal.NewApplicationError("connection refused", contract.ErrTypeUnreachable)
		}
		return contract.SnapshotResult{Key: in.Key, Size: 1024}, nil
	}
	s.env.OnActivity(a.CaptureSnapshot, mock.Anything, mock.Anything).Return(capture).Times(3)

	s.env.ExecuteWorkflow(CameraSnapshotWorkflow, contract.CameraSnapshotWorkflowInput{CameraID: snapshotCameraID})

	s.Require().NoError(s.env.GetWorkflowError())
	s.Require().Len(keys, 3)
	s.Equal(want, keys, "every attempt writes the same object")
	s.GreaterOrEqual(s.env.Now().Sub(snapshotStart), 2*time.Second, "attempts back off, yet the key keeps the start time")
}

func (s *CameraSnapshotWorkflowSuite) TestAuthFailureIsNotRetried() {
	s.env.OnActivity(a.CaptureSnapshot, mock.Anything, mock.Anything).
		Return(contract.SnapshotResult{}, temporal.NewApplicationError("401 Unauthorized", contract.ErrTypeAuthFailed)).Once()

	s.env.ExecuteWorkflow(CameraSnapshotWorkflow, contract.CameraSnapshotWorkflowInput{CameraID: snapshotCameraID})

	s.Require().True(s.env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &appErr)
	s.Equal(contract.ErrTypeAuthFailed, appErr.Type())
	s.env.AssertActivityNumberOfCalls(s.T(), "CaptureSnapshot", 1)
}

func (s *CameraSnapshotWorkflowSuite) TestUnreachableFailsAfterThreeAttempts() {
	s.env.OnActivity(a.CaptureSnapshot, mock.Anything, mock.Anything).
		Return(contract.SnapshotResult{}, temporal.NewApplicationError("connection refused", contract.ErrTypeUnreachable)).Times(3)

	s.env.ExecuteWorkflow(CameraSnapshotWorkflow, contract.CameraSnapshotWorkflowInput{CameraID: snapshotCameraID})

	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &appErr)
	s.Equal(contract.ErrTypeUnreachable, appErr.Type())
}
