package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
)

func odooBatch(synced, failed int, next *contract.OdooCursor, missing ...string) contract.OdooBatchResult {
	return contract.OdooBatchResult{OdooRunTotals: contract.OdooRunTotals{Synced: synced, Failed: failed, Missing: missing}, Next: next}
}

// A run goes batch by batch until one finds nothing, then records its
// totals; an employee missing in several batches is reported once.
func TestOdooSyncRunsBatchesInOrder(t *testing.T) {
	env := newExportEnv(t)
	c1 := &contract.OdooCursor{At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), ID: "l1"}
	c2 := &contract.OdooCursor{At: time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), ID: "l2"}
	env.OnActivity(a.BeginOdooRun, mock.Anything, mock.Anything).Return(contract.OdooRunStart{RunID: "run-1"}, nil).Once()
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.MatchedBy(func(in contract.OdooBatchInput) bool { return in.After == nil && in.RunID == "run-1" })).
		Return(odooBatch(3, 1, c1, "E-9"), nil).Once()
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.MatchedBy(func(in contract.OdooBatchInput) bool { return in.After != nil && in.After.ID == "l1" })).
		Return(odooBatch(2, 1, c2, "E-9"), nil).Once()
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.MatchedBy(func(in contract.OdooBatchInput) bool { return in.After != nil && in.After.ID == "l2" })).
		Return(odooBatch(0, 0, nil), nil).Once()
	env.OnActivity(a.FinishOdooRun, mock.Anything, contract.OdooFinishInput{RunID: "run-1", Status: "partial", Missing: []string{"E-9"}}).Return(nil).Once()
	env.ExecuteWorkflow(OdooSyncWorkflow, contract.OdooSyncInput{RunID: "run-1", Trigger: "manual"})
	require.NoError(t, env.GetWorkflowError())
	var res contract.OdooSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 5, res.Synced)
	require.Equal(t, 2, res.Failed)
	require.Equal(t, "partial", res.Status)
}

// A scheduled run that is not due (or the sync disabled) does nothing.
func TestOdooSyncSkipsWhenNotDue(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.BeginOdooRun, mock.Anything, mock.Anything).Return(contract.OdooRunStart{Skip: true}, nil).Once()
	env.ExecuteWorkflow(OdooSyncWorkflow, contract.OdooSyncInput{Trigger: "schedule"})
	require.NoError(t, env.GetWorkflowError())
	env.AssertActivityNotCalled(t, "SyncOdooBatch", mock.Anything, mock.Anything)
}

// Odoo down for an hour: the batch is retried with growing waits capped at
// five minutes (no storm: about twenty attempts in the hour), then the run
// goes on; nothing is marked failed for it.
func TestOdooSyncBacksOffWhileOdooIsDown(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.BeginOdooRun, mock.Anything, mock.Anything).Return(contract.OdooRunStart{RunID: "run-2"}, nil).Once()
	down := temporal.NewApplicationError("odoo: connection refused", contract.ErrTypeOdooUnavailable)
	var attempts []time.Time
	var start time.Time
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.MatchedBy(func(in contract.OdooBatchInput) bool { return in.After == nil })).
		Return(func(context.Context, contract.OdooBatchInput) (contract.OdooBatchResult, error) {
			now := env.Now()
			if start.IsZero() {
				start = now
			}
			attempts = append(attempts, now)
			if now.Sub(start) < time.Hour {
				return contract.OdooBatchResult{}, down
			}
			return odooBatch(4, 0, &contract.OdooCursor{ID: "l4"}), nil
		})
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.MatchedBy(func(in contract.OdooBatchInput) bool { return in.After != nil })).
		Return(odooBatch(0, 0, nil), nil).Once()
	env.OnActivity(a.FinishOdooRun, mock.Anything, contract.OdooFinishInput{RunID: "run-2", Status: "succeeded"}).Return(nil).Once()
	env.ExecuteWorkflow(OdooSyncWorkflow, contract.OdooSyncInput{RunID: "run-2", Trigger: "manual"})
	require.NoError(t, env.GetWorkflowError())
	var res contract.OdooSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 4, res.Synced)
	require.Less(t, len(attempts), 30, "attempts in an hour of outage")
	for i := 1; i < len(attempts); i++ {
		wait := attempts[i].Sub(attempts[i-1])
		require.LessOrEqual(t, wait, 5*time.Minute+time.Second, "waits are capped")
		if i >= 2 && wait < 5*time.Minute {
			require.Greater(t, wait, attempts[i-1].Sub(attempts[i-2]), "waits grow until the cap")
		}
	}
}

// Refused credentials end the run at once, recorded with Odoo's reason:
// no storm of retries.
func TestOdooSyncStopsOnRefusedCredentials(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.BeginOdooRun, mock.Anything, mock.Anything).Return(contract.OdooRunStart{RunID: "run-3"}, nil).Once()
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.Anything).
		Return(contract.OdooBatchResult{}, temporal.NewNonRetryableApplicationError("odoo: common.authenticate: Odoo refused the login and API key", contract.ErrTypeOdooAuth, nil)).Once()
	env.OnActivity(a.FinishOdooRun, mock.Anything, contract.OdooFinishInput{RunID: "run-3", Status: "failed",
		Error: "odoo: common.authenticate: Odoo refused the login and API key"}).Return(nil).Once()
	env.ExecuteWorkflow(OdooSyncWorkflow, contract.OdooSyncInput{RunID: "run-3", Trigger: "manual"})
	require.Error(t, env.GetWorkflowError())
}

// Retrying failed records asks the batches for failed logs only.
func TestOdooSyncRetriesFailedOnly(t *testing.T) {
	env := newExportEnv(t)
	env.OnActivity(a.BeginOdooRun, mock.Anything, mock.Anything).Return(contract.OdooRunStart{RunID: "run-4"}, nil).Once()
	env.OnActivity(a.SyncOdooBatch, mock.Anything, mock.MatchedBy(func(in contract.OdooBatchInput) bool { return in.OnlyFailed && in.PersonID == "p-1" })).
		Return(odooBatch(1, 0, nil), nil).Once()
	env.OnActivity(a.FinishOdooRun, mock.Anything, mock.Anything).Return(nil).Once()
	env.ExecuteWorkflow(OdooSyncWorkflow, contract.OdooSyncInput{RunID: "run-4", Trigger: "retry", OnlyFailed: true, PersonID: "p-1"})
	require.NoError(t, env.GetWorkflowError())
}
