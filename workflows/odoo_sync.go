package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// OdooSyncWorkflowID names a sync run started from the API.
func OdooSyncWorkflowID(runID string) string { return "odoo-sync/" + runID }

// OdooSyncScheduledWorkflowID is the ID of the scheduled runs.
const OdooSyncScheduledWorkflowID = "odoo-sync-scheduled"

// Search attributes of sync runs (registered by the worker and the dev
// stack), so the Temporal UI filters runs by trigger, outcome and employee:
// e.g. RollcallSyncOutcome = "partial".
var (
	SearchSyncTrigger   = temporal.NewSearchAttributeKeyKeyword("RollcallSyncTrigger")
	SearchSyncOutcome   = temporal.NewSearchAttributeKeyKeyword("RollcallSyncOutcome")
	SearchSyncEmployees = temporal.NewSearchAttributeKeyKeywordList("RollcallSyncEmployees")
)

// OdooSearchAttributes lists the sync's search attributes.
func OdooSearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{SearchSyncTrigger, SearchSyncOutcome, SearchSyncEmployees}
}

// odooBatchesPerRun bounds a run's history: a longer run goes on as new.
const odooBatchesPerRun = 500

// odooBatchRetry retries a batch while Odoo is down or busy: quickly at
// first, then every 5 minutes, for up to a day. Refused credentials and a
// missing configuration are not retried.
var odooBatchRetry = &temporal.RetryPolicy{
	InitialInterval:        2 * time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        5 * time.Minute,
	MaximumAttempts:        400, // past the day's ScheduleToClose; bounded for clarity
	NonRetryableErrorTypes: []string{contract.ErrTypeOdooAuth, contract.ErrTypeOdooNotConfigured},
}

// OdooSyncWorkflow pushes attendance logs to Odoo HR in batches, in time
// order, recording the run and what it did to each log (store.OdooRun). A
// Schedule starts it every minute; a scheduled run does nothing unless the
// sync is enabled and its interval has passed. The API starts runs on
// demand (a date range, a person, only failed records).
func OdooSyncWorkflow(ctx workflow.Context, in contract.OdooSyncInput) (contract.OdooSyncResult, error) {
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	res := contract.OdooSyncResult{RunID: in.RunID, OdooRunTotals: in.Totals}
	if in.After == nil { // the first run of the chain
		var start contract.OdooRunStart
		if err := workflow.ExecuteActivity(short, a.BeginOdooRun, in).Get(ctx, &start); err != nil {
			return res, err
		}
		if start.Skip {
			return res, nil
		}
		in.RunID, res.RunID = start.RunID, start.RunID
		if in.SearchAttributes {
			upd := []temporal.SearchAttributeUpdate{SearchSyncTrigger.ValueSet(in.Trigger), SearchSyncOutcome.ValueSet("running")}
			if err := workflow.UpsertTypedSearchAttributes(ctx, upd...); err != nil {
				return res, err
			}
		}
	}
	batch := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    10 * time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            odooBatchRetry,
	})
	after := in.After
	for n := 0; ; n++ {
		if n == odooBatchesPerRun {
			next := in
			next.After, next.Totals = after, res.OdooRunTotals
			return res, workflow.NewContinueAsNewError(ctx, OdooSyncWorkflow, next)
		}
		var b contract.OdooBatchResult
		err := workflow.ExecuteActivity(batch, a.SyncOdooBatch, contract.OdooBatchInput{RunID: in.RunID, OnlyFailed: in.OnlyFailed,
			PersonID: in.PersonID, From: in.From, To: in.To, After: after}).Get(ctx, &b)
		if err != nil {
			res.Status = contract.OdooRunFailed
			if in.SearchAttributes {
				_ = workflow.UpsertTypedSearchAttributes(ctx, SearchSyncOutcome.ValueSet(contract.OdooRunFailed))
			}
			msg := err.Error()
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) {
				msg = appErr.Message()
			}
			_ = workflow.ExecuteActivity(short, a.FinishOdooRun, contract.OdooFinishInput{RunID: in.RunID, Status: contract.OdooRunFailed,
				Error: msg, Missing: res.Missing}).Get(ctx, nil)
			return res, err
		}
		res.Synced += b.Synced
		res.Failed += b.Failed
		res.Skipped += b.Skipped
		for _, m := range b.Missing {
			if !slices.Contains(res.Missing, m) {
				res.Missing = append(res.Missing, m)
			}
		}
		for _, e := range b.FailedEmployees {
			if !slices.Contains(res.FailedEmployees, e) {
				res.FailedEmployees = append(res.FailedEmployees, e)
			}
		}
		if b.Next == nil {
			break
		}
		after = b.Next
	}
	res.Status = contract.OdooRunSucceeded
	if res.Failed > 0 {
		res.Status = contract.OdooRunPartial
	}
	if in.SearchAttributes {
		upd := []temporal.SearchAttributeUpdate{SearchSyncOutcome.ValueSet(res.Status)}
		if len(res.FailedEmployees) > 0 {
			upd = append(upd, SearchSyncEmployees.ValueSet(res.FailedEmployees))
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, upd...); err != nil {
			return res, err
		}
	}
	err := workflow.ExecuteActivity(short, a.FinishOdooRun, contract.OdooFinishInput{RunID: in.RunID, Status: res.Status, Missing: res.Missing}).Get(ctx, nil)
	return res, err
}
