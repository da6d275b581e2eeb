package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/contract"
)

type SystemMetricsWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestSystemMetricsWorkflow(t *testing.T) { suite.Run(t, new(SystemMetricsWorkflowSuite)) }

func (s *SystemMetricsWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(a)
	s.env.SetStartTime(cleanupStart)
}

func (s *SystemMetricsWorkflowSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *SystemMetricsWorkflowSuite) TestCollectsChecksAndPurgesPastRetention() {
	s.env.OnActivity(a.CollectSystemMetrics, mock.Anything).Return(21, nil).Once()
	s.env.OnActivity(a.CheckSystemServices, mock.Anything).Return(8, nil).Once()
	s.env.OnActivity(a.PurgeSystemMetrics, mock.Anything, at(cleanupStart.Add(-30*24*time.Hour))).Return(int64(42), nil).Once()

	s.env.ExecuteWorkflow(SystemMetricsWorkflow, contract.SystemMetricsInput{Retention: 30 * 24 * time.Hour})

	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res contract.SystemMetricsResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal(contract.SystemMetricsResult{Samples: 21, Services: 8, Purged: 42}, res)
}

func (s *SystemMetricsWorkflowSuite) TestZeroRetentionKeepsSamples() {
	s.env.OnActivity(a.CollectSystemMetrics, mock.Anything).Return(3, nil).Once()
	s.env.OnActivity(a.CheckSystemServices, mock.Anything).Return(4, nil).Once()
	s.env.OnActivity(a.PurgeSystemMetrics, mock.Anything, mock.Anything).Return(int64(1), nil).Maybe()

	s.env.ExecuteWorkflow(SystemMetricsWorkflow, contract.SystemMetricsInput{})

	s.Require().NoError(s.env.GetWorkflowError())
	s.env.AssertActivityNotCalled(s.T(), "PurgeSystemMetrics", mock.Anything, mock.Anything)
}

// A failing collection does not stop the service checks, and fails the
// run after retries (without purging).
func (s *SystemMetricsWorkflowSuite) TestCollectionFailureStillChecksServices() {
	s.env.OnActivity(a.CollectSystemMetrics, mock.Anything).Return(0, errors.New("database is down")).Times(3)
	s.env.OnActivity(a.CheckSystemServices, mock.Anything).Return(6, nil).Once()
	s.env.OnActivity(a.PurgeSystemMetrics, mock.Anything, mock.Anything).Return(int64(0), nil).Maybe()

	s.env.ExecuteWorkflow(SystemMetricsWorkflow, contract.SystemMetricsInput{Retention: time.Hour})

	s.Require().True(s.env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &appErr)
	s.Contains(appErr.Error(), "database is down")
	s.env.AssertActivityNumberOfCalls(s.T(), "CollectSystemMetrics", 3)
	s.env.AssertActivityNumberOfCalls(s.T(), "CheckSystemServices", 1)
	s.env.AssertActivityNotCalled(s.T(), "PurgeSystemMetrics", mock.Anything, mock.Anything)
}
