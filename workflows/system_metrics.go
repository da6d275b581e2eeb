package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// SystemMetricsWorkflowID is the ID the system metrics schedule starts runs with.
const SystemMetricsWorkflowID = "system-metrics"

// SystemMetricsWorkflow samples the host and service figures, checks every
// service (recording status, latency and last error), and purges samples
// older than the retention. A Schedule runs it every minute. Sampling and
// checking run side by side and neither stops the other; the run fails
// (with the sampling's error first) when either does, after both finished.
func SystemMetricsWorkflow(ctx workflow.Context, in contract.SystemMetricsInput) (contract.SystemMetricsResult, error) {
	// Within the minute between runs, retries included: a sample that is
	// late is worth less than the next one.
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    20 * time.Second,
		ScheduleToCloseTimeout: 50 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Second,
			MaximumAttempts:    3,
		},
	})
	var res contract.SystemMetricsResult
	collect := workflow.ExecuteActivity(ctx, a.CollectSystemMetrics)
	check := workflow.ExecuteActivity(ctx, a.CheckSystemServices)
	errCollect := collect.Get(ctx, &res.Samples)
	errCheck := check.Get(ctx, &res.Services)
	if errCollect != nil {
		return res, errCollect
	}
	if errCheck != nil {
		return res, errCheck
	}
	if in.Retention > 0 {
		cutoff := workflow.Now(ctx).Add(-in.Retention)
		if err := workflow.ExecuteActivity(ctx, a.PurgeSystemMetrics, cutoff).Get(ctx, &res.Purged); err != nil {
			return res, err
		}
	}
	return res, nil
}
