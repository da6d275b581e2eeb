package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// CameraHealthWorkflow probes every active camera that is not streaming,
// records each one's health, and records changes (offline ⇄ online) as
// camera events. A Temporal Schedule runs it every minute.
func CameraHealthWorkflow(ctx workflow.Context, in contract.CameraHealthWorkflowInput) (contract.CameraHealthWorkflowResult, error) {
	if in.Concurrency <= 0 {
		in.Concurrency = 4
	}
	if in.StaleAfter <= 0 {
		in.StaleAfter = 2 * time.Minute
	}
	dbctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: contract.NonRetryable(contract.ErrTypeCameraNotFound)},
	})
	var ids []string
	if err := workflow.ExecuteActivity(dbctx, a.CamerasToProbe, workflow.Now(ctx).Add(-in.StaleAfter)).Get(ctx, &ids); err != nil {
		return contract.CameraHealthWorkflowResult{}, err
	}
	probeOpts := workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumAttempts: 2, NonRetryableErrorTypes: contract.PermanentCameraErrors,
		},
	}
	var res contract.CameraHealthWorkflowResult
	for start := 0; start < len(ids); start += in.Concurrency {
		batch := ids[start:min(start+in.Concurrency, len(ids))]
		outcomes := make([]contract.ProbeOutcome, len(batch))
		errs := make([]error, len(batch))
		wg := workflow.NewWaitGroup(ctx)
		for i, id := range batch {
			wg.Add(1)
			workflow.Go(ctx, func(gctx workflow.Context) {
				defer wg.Done()
				outcomes[i], errs[i] = probe(workflow.WithActivityOptions(gctx, probeOpts), id)
			})
		}
		wg.Wait(ctx)
		for i, id := range batch {
			if errs[i] != nil {
				// Deleted meanwhile, or the probe could not run (e.g. unreadable
				// credentials): say so, and try again next round.
				workflow.GetLogger(ctx).Warn("camera not probed", "camera_id", id, "error", errs[i])
				continue
			}
			var change contract.HealthChangeResult
			if err := workflow.ExecuteActivity(dbctx, a.RecordCameraProbe, id, outcomes[i]).Get(ctx, &change); err != nil {
				continue
			}
			res.Probed++
			if outcomes[i].OK {
				res.Online++
			} else {
				res.Offline++
			}
			if change.Changed {
				res.Changed++
			}
		}
	}
	return res, nil
}
