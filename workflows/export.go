package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// ExportWorkflowID is the ID of an export job's workflow.
func ExportWorkflowID(jobID string) string { return "export/" + jobID }

// ExportWorkflow writes one export job's file. The job's row carries the
// progress; cancelling the workflow (DELETE of a running job) ends the job
// as cancelled and removes any partial file; a failure ends it as failed
// with a reason its owner can read.
func ExportWorkflow(ctx workflow.Context, in contract.ExportWorkflowInput) (contract.ExportResult, error) {
	run := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: []string{contract.ErrTypeExportBadJob},
		},
	})
	var res contract.ExportResult
	err := workflow.ExecuteActivity(run, a.RunExport, in.JobID).Get(run, &res)
	if err == nil {
		return res, nil
	}
	// Settle the job's row even though the workflow itself was cancelled.
	settle, _ := workflow.NewDisconnectedContext(ctx)
	settle = workflow.WithActivityOptions(settle, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
	})
	if temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled) {
		if serr := workflow.ExecuteActivity(settle, a.CancelExport, in.JobID).Get(settle, nil); serr != nil {
			workflow.GetLogger(ctx).Error("export: marking the job cancelled failed", "job", in.JobID, "err", serr)
		}
		return contract.ExportResult{Status: "cancelled"}, err
	}
	if serr := workflow.ExecuteActivity(settle, a.FailExport, in.JobID, exportFailure(err)).Get(settle, nil); serr != nil {
		workflow.GetLogger(ctx).Error("export: marking the job failed failed", "job", in.JobID, "err", serr)
	}
	return res, err
}

// exportFailure is the reason a failed export shows its owner: a class,
// never the internals of the error.
func exportFailure(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == contract.ErrTypeExportBadJob {
		return "the export request could not be read: " + app.Message()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return "the export timed out; narrow the filters or try again"
	}
	return "the export failed; try again, and tell an administrator if it keeps failing"
}
