package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ProviderHealthWorkflowID is the ID the provider health schedule starts runs with.
const ProviderHealthWorkflowID = "provider-health"

// ProviderHealthWorkflow checks the configured provider and records its
// health and latency. A Schedule runs it every minute.
func ProviderHealthWorkflow(ctx workflow.Context) (bool, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2},
	})
	var healthy bool
	err := workflow.ExecuteActivity(ctx, a.CheckProviderHealth).Get(ctx, &healthy)
	return healthy, err
}
