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

// cleanupStart is the workflow clock's start, far from the wall clock so a
// cutoff computed from time.Now would not match.
var cleanupStart = time.Date(2031, 5, 6, 3, 0, 0, 0, time.UTC)

type CleanupWorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestCleanupWorkflow(t *testing.T) { suite.Run(t, new(CleanupWorkflowSuite)) }

func (s *CleanupWorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(a)
	s.env.SetStartTime(cleanupStart)
}

func (s *CleanupWorkflowSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

// at matches a cutoff argument equal to want, whatever its time zone.
func at(want time.Time) any {
	return mock.MatchedBy(func(got time.Time) bool { return got.Equal(want) })
}

func (s *CleanupWorkflowSuite) result() contract.CleanupWorkflowResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res contract.CleanupWorkflowResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

func (s *CleanupWorkflowSuite) TestPurgesWithCutoffsFromWorkflowTime() {
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, at(cleanupStart.Add(-24*time.Hour))).Return(int64(3), nil).Once()
	s.env.OnActivity(a.PurgeOldAudit, mock.Anything, at(cleanupStart.Add(-90*24*time.Hour))).Return(int64(7), nil).Once()
	s.env.OnActivity(a.PurgeExpiredExports, mock.Anything).Return(2, nil).Once()
	s.env.OnActivity(a.EnsurePartitions, mock.Anything, 0).Return(0, nil).Once()

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: 24 * time.Hour, AuditRetention: 90 * 24 * time.Hour})

	s.Equal(contract.CleanupWorkflowResult{SessionsDeleted: 3, AuditDeleted: 7, ExportsDeleted: 2}, s.result())
}

func (s *CleanupWorkflowSuite) TestZeroAuditRetentionKeepsAudit() {
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, at(cleanupStart)).Return(int64(2), nil).Once()
	s.env.OnActivity(a.PurgeOldAudit, mock.Anything, mock.Anything).Return(int64(99), nil).Maybe()
	s.env.OnActivity(a.PurgeExpiredExports, mock.Anything).Return(0, nil).Once()
	s.env.OnActivity(a.EnsurePartitions, mock.Anything, 0).Return(0, nil).Once()

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: 0, AuditRetention: 0})

	s.Equal(contract.CleanupWorkflowResult{SessionsDeleted: 2}, s.result())
	s.env.AssertActivityNotCalled(s.T(), "PurgeOldAudit", mock.Anything, mock.Anything)
}

func (s *CleanupWorkflowSuite) TestRetriesATransientFailure() {
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, mock.Anything).Return(int64(0), errors.New("connection reset")).Twice()
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, mock.Anything).Return(int64(4), nil).Once()
	s.env.OnActivity(a.PurgeOldAudit, mock.Anything, mock.Anything).Return(int64(1), nil).Once()
	s.env.OnActivity(a.PurgeExpiredExports, mock.Anything).Return(0, nil).Once()
	s.env.OnActivity(a.EnsurePartitions, mock.Anything, 0).Return(0, nil).Once()

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: time.Hour, AuditRetention: time.Hour})

	s.Equal(contract.CleanupWorkflowResult{SessionsDeleted: 4, AuditDeleted: 1}, s.result())
	s.env.AssertActivityNumberOfCalls(s.T(), "PurgeExpiredSessions", 3)
	s.GreaterOrEqual(s.env.Now().Sub(cleanupStart), 15*time.Second, "retries back off 5s then 10s")
}

func (s *CleanupWorkflowSuite) TestRetentionStepsGetCutoffsAndReportCounts() {
	day := 24 * time.Hour
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, mock.Anything).Return(int64(0), nil).Once()
	s.env.OnActivity(a.PurgeExpiredExports, mock.Anything).Return(0, nil).Once()
	s.env.OnActivity(a.EnsurePartitions, mock.Anything, 3).Return(4, nil).Once()
	s.env.OnActivity(a.RetireDetections, mock.Anything, contract.RetentionInput{Before: cleanupStart.Add(-30 * day)}).
		Return(contract.RetentionResult{Rows: 100, Objects: 40, Partitions: 2}, nil).Once()
	s.env.OnActivity(a.RetirePipelineEvents, mock.Anything, contract.RetentionInput{Before: cleanupStart.Add(-10 * day)}).
		Return(contract.RetentionResult{Rows: 7, Partitions: 1}, nil).Once()
	s.env.OnActivity(a.PurgeCameraEvents, mock.Anything, contract.RetentionInput{Before: cleanupStart.Add(-90 * day)}).Return(int64(5), nil).Once()
	// The frames of purged logs go once their day's detections are gone:
	// before the start (UTC midnight) of the detection cutoff's day.
	s.env.OnActivity(a.PurgeAttendance, mock.Anything, contract.RetentionInput{Before: cleanupStart.Add(-400 * day),
		SnapshotsBefore: time.Date(2031, 4, 6, 0, 0, 0, 0, time.UTC)}).Return(contract.RetentionResult{Rows: 3, Records: 2}, nil).Once()

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: time.Hour, DetectionRetention: 30 * day,
		PipelineEventRetention: 10 * day, CameraEventRetention: 90 * day, AttendanceRetention: 400 * day, PartitionsAhead: 3})

	s.Equal(contract.CleanupWorkflowResult{PartitionsCreated: 4, DetectionsDeleted: 100, SnapshotsDeleted: 40, PartitionsDropped: 3,
		PipelineEventsDeleted: 7, CameraEventsDeleted: 5, AttendanceLogsDeleted: 3, AttendanceRecordsDeleted: 2}, s.result())
}

func (s *CleanupWorkflowSuite) TestZeroRetentionsKeepEverything() {
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, mock.Anything).Return(int64(0), nil).Once()
	s.env.OnActivity(a.PurgeExpiredExports, mock.Anything).Return(0, nil).Once()
	s.env.OnActivity(a.EnsurePartitions, mock.Anything, 0).Return(0, nil).Once()

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: time.Hour})

	s.Equal(contract.CleanupWorkflowResult{}, s.result())
	for _, name := range []string{"RetireDetections", "RetirePipelineEvents", "PurgeCameraEvents", "PurgeAttendance"} {
		s.env.AssertActivityNotCalled(s.T(), name, mock.Anything, mock.Anything)
	}
}

func (s *CleanupWorkflowSuite) TestFailsAfterRetriesRunOut() {
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, mock.Anything).Return(int64(0), errors.New("database is down")).Times(5)

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: time.Hour, AuditRetention: time.Hour})

	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	var actErr *temporal.ActivityError
	s.Require().ErrorAs(err, &actErr)
	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(err, &appErr)
	s.Contains(appErr.Error(), "database is down")
	s.env.AssertActivityNumberOfCalls(s.T(), "PurgeExpiredSessions", 5)
	s.env.AssertActivityNotCalled(s.T(), "PurgeOldAudit", mock.Anything, mock.Anything)
}

func (s *CleanupWorkflowSuite) TestAuditFailureFailsTheRun() {
	s.env.OnActivity(a.PurgeExpiredSessions, mock.Anything, mock.Anything).Return(int64(1), nil).Once()
	s.env.OnActivity(a.PurgeOldAudit, mock.Anything, mock.Anything).
		Return(int64(0), temporal.NewNonRetryableApplicationError("bad cutoff", "InvalidInput", nil)).Once()

	s.env.ExecuteWorkflow(CleanupWorkflow, contract.CleanupWorkflowInput{SessionGrace: time.Hour, AuditRetention: time.Hour})

	var appErr *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &appErr)
	s.Equal("InvalidInput", appErr.Type())
	s.env.AssertActivityNumberOfCalls(s.T(), "PurgeOldAudit", 1) // non-retryable: no second attempt
}
