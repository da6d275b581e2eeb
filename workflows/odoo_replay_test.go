package workflows_test

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/workflows"
)

const odooSyncHistoryFile = "testdata/odoo_sync_history.json"

// TestOdooSyncReplay replays a recorded sync run: a batch retried while
// Odoo was down, two batches, and the run's end.
func TestOdooSyncReplay(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(workflows.OdooSyncWorkflow)
	require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), odooSyncHistoryFile))
}

// TestRecordOdooSyncHistory records that run with stand-in activities:
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordOdooSyncHistory ./workflows/
func TestRecordOdooSyncHistory(t *testing.T) {
	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		t.Skip("set ROLLCALL_RECORD_HISTORY=1 to record a new history")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(t, "rollcall-test-workflows"), Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	taskQueue := "record-odoo-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.OdooSyncWorkflow)
	w.RegisterActivityWithOptions(func(_ context.Context, in contract.OdooSyncInput) (contract.OdooRunStart, error) {
		return contract.OdooRunStart{RunID: in.RunID}, nil
	}, activity.RegisterOptions{Name: "BeginOdooRun"})
	var calls atomic.Int32
	w.RegisterActivityWithOptions(func(_ context.Context, in contract.OdooBatchInput) (contract.OdooBatchResult, error) {
		switch calls.Add(1) {
		case 1:
			return contract.OdooBatchResult{}, temporal.NewApplicationError("odoo: connection refused", contract.ErrTypeOdooUnavailable)
		case 2:
			return contract.OdooBatchResult{OdooRunTotals: contract.OdooRunTotals{Synced: 3, Failed: 1, Missing: []string{"E-9"}},
				Next: &contract.OdooCursor{At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), ID: "9a0e8d0c-0000-4000-8000-000000000001"}}, nil
		}
		return contract.OdooBatchResult{}, nil
	}, activity.RegisterOptions{Name: "SyncOdooBatch"})
	w.RegisterActivityWithOptions(func(context.Context, contract.OdooFinishInput) error { return nil }, activity.RegisterOptions{Name: "FinishOdooRun"})
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskQueue, TaskQueue: taskQueue}, workflows.OdooSyncWorkflow,
		contract.OdooSyncInput{RunID: "5b6c7d8e-0000-4000-8000-000000000001", Trigger: "manual"})
	require.NoError(t, err)
	var res contract.OdooSyncResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, "partial", res.Status)
	writeHistory(t, odooSyncHistoryFile, fetchHistory(t, c, taskQueue, run.GetRunID()))
}
