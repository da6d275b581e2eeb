package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/contract"
)

func newExportEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivity(a)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

func TestExportWorkflowCompletes(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.RunExport, mock.Anything, "job-1").Return(contract.ExportResult{Status: "completed", Rows: 10, SizeBytes: 99}, nil).Once()
	env.ExecuteWorkflow(ExportWorkflow, contract.ExportWorkflowInput{JobID: "job-1"})
	require.NoError(t, env.GetWorkflowError())
	var res contract.ExportResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 10, res.Rows)
	env.AssertActivityNotCalled(t, "FailExport", mock.Anything, mock.Anything, mock.Anything)
}

// A transient failure is retried; when attempts run out the job is marked
// failed with a reason that names no internals.
func TestExportWorkflowFailureMarksTheJob(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.RunExport, mock.Anything, "job-2").Return(contract.ExportResult{}, errors.New("pq: password authentication failed for user rollcall")).Times(3)
	env.OnActivity(a.FailExport, mock.Anything, "job-2", mock.MatchedBy(func(reason string) bool {
		return reason != "" && !strings.Contains(reason, "password") && !strings.Contains(reason, "pq:")
	})).Return(nil).Once()
	env.ExecuteWorkflow(ExportWorkflow, contract.ExportWorkflowInput{JobID: "job-2"})
	require.Error(t, env.GetWorkflowError())
}

// A bad request is not retried and its reason is shown.
func TestExportWorkflowBadJobNotRetried(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.RunExport, mock.Anything, "job-3").
		Return(contract.ExportResult{}, temporal.NewNonRetryableApplicationError("export time zone unknown", contract.ErrTypeExportBadJob, nil)).Once()
	env.OnActivity(a.FailExport, mock.Anything, "job-3", "the export request could not be read: export time zone unknown").Return(nil).Once()
	env.ExecuteWorkflow(ExportWorkflow, contract.ExportWorkflowInput{JobID: "job-3"})
	require.Error(t, env.GetWorkflowError())
}

// Cancelling the workflow (DELETE of a running job) marks the job
// cancelled even though the workflow's own context is done.
func TestExportWorkflowCancelled(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.RunExport, mock.Anything, "job-4").After(time.Hour).Return(contract.ExportResult{}, nil).Maybe()
	env.OnActivity(a.CancelExport, mock.Anything, "job-4").Return(nil).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(ExportWorkflow, contract.ExportWorkflowInput{JobID: "job-4"})
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "%v", env.GetWorkflowError())
}

func TestAttendanceCloseWorkflowDates(t *testing.T) {
	env := newExportEnv(t)
	start := time.Date(2026, 12, 4, 0, 30, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.OnActivity(a.CloseAttendanceDays, mock.Anything, mock.MatchedBy(func(in contract.CloseDaysInput) bool {
		return in.Now.Equal(start) && len(in.Dates) == 4 && in.Dates[0] == "2026-12-01" && in.Dates[3] == "2026-12-04"
	})).Return(contract.CloseDaysResult{Closed: 5}, nil).Once()
	env.ExecuteWorkflow(AttendanceCloseWorkflow, contract.AttendanceCloseInput{})
	require.NoError(t, env.GetWorkflowError())
	var res contract.CloseDaysResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 5, res.Closed)
}

func TestAttendanceCloseWorkflowOneDate(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.CloseAttendanceDays, mock.Anything, mock.MatchedBy(func(in contract.CloseDaysInput) bool {
		return len(in.Dates) == 1 && in.Dates[0] == "2026-10-31"
	})).Return(contract.CloseDaysResult{Closed: 1}, nil).Once()
	env.ExecuteWorkflow(AttendanceCloseWorkflow, contract.AttendanceCloseInput{Date: "2026-10-31"})
	require.NoError(t, env.GetWorkflowError())
}
