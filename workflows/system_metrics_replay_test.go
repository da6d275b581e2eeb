package workflows_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/sysmetrics"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

const systemMetricsHistoryFile = "testdata/system_metrics_history.json"

// TestSystemMetricsWorkflowReplaysRecordedHistory fails when a change to
// SystemMetricsWorkflow would break runs already started by a deployed worker.
func TestSystemMetricsWorkflowReplaysRecordedHistory(t *testing.T) {
	mustReplay(t, systemMetricsHistoryFile, workflows.SystemMetricsWorkflow)
}

// TestSystemMetricsWorkflowStoresAndPurges runs the workflow on the stack's
// Temporal with the real activities: it stores host, database and task
// queue samples under one time, records the services, and deletes samples
// past the retention. With ROLLCALL_RECORD_HISTORY=1 it rewrites
// testdata/system_metrics_history.json from the run (only when the
// workflow changed on purpose, behind workflow.GetVersion):
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestSystemMetricsWorkflowStoresAndPurges ./workflows/
func TestSystemMetricsWorkflowStoresAndPurges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := testenv.DB(t)
	namespace := testenv.TemporalNamespace(t, "rollcall-test-workflows")
	c, err := client.Dial(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"), Namespace: namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	old := time.Now().Add(-40 * 24 * time.Hour)
	require.NoError(t, store.InsertSystemMetrics(ctx, db, []store.SystemMetric{{RecordedAt: old, Name: sysmetrics.HostLoad1, Value: 7}}))

	taskQueue := "record-system-metrics-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.SystemMetricsWorkflow)
	w.RegisterActivity(&activities.Activities{DB: db, Log: slog.Default(), System: &sysmetrics.Monitor{
		DB: db, Temporal: c, Namespace: namespace, Queues: []string{taskQueue}, DataDir: t.TempDir(),
		Probes: []sysmetrics.Probe{{Name: "postgres", Kind: sysmetrics.KindDatabase, Check: db.PingContext}}}})
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskQueue, TaskQueue: taskQueue}, workflows.SystemMetricsWorkflow,
		contract.SystemMetricsInput{Retention: 30 * 24 * time.Hour})
	require.NoError(t, err)
	var res contract.SystemMetricsResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, int64(1), res.Purged)
	require.Equal(t, 2, res.Services, "postgres and the task queue")

	latest, err := store.LatestSystemMetrics(ctx, db, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	got := map[string]float64{}
	at := map[time.Time]bool{}
	for _, m := range latest {
		got[m.Name+"/"+m.Labels["queue"]] = m.Value
		at[m.RecordedAt] = true
	}
	require.Len(t, latest, res.Samples)
	require.Len(t, at, 1, "one collection, one time")
	for _, name := range []string{sysmetrics.HostCPUPercent, sysmetrics.HostMemoryTotalBytes, sysmetrics.HostDiskTotalBytes,
		sysmetrics.PostgresDatabaseBytes, sysmetrics.PostgresConnections, sysmetrics.DetectionsPerMinute} {
		require.Contains(t, got, name+"/")
	}
	require.Positive(t, got[sysmetrics.PostgresDatabaseBytes+"/"])
	require.GreaterOrEqual(t, got[sysmetrics.QueuePollers+"/"+taskQueue], 1.0, "this test's worker polls its queue")
	points, err := store.SystemMetricHistory(ctx, db, sysmetrics.HostLoad1, old.Add(-time.Hour), old.Add(time.Hour), time.Hour)
	require.NoError(t, err)
	require.Empty(t, points, "the sample past retention is gone")
	services, err := store.ListSystemServices(ctx, db)
	require.NoError(t, err)
	require.Len(t, services, 2)
	t.Logf("stored %d samples, checked %d services, purged %d; e.g. cpu %.1f%%, database %.0f bytes",
		res.Samples, res.Services, res.Purged, got[sysmetrics.HostCPUPercent+"/"], got[sysmetrics.PostgresDatabaseBytes+"/"])

	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		return
	}
	history := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		history.Events = append(history.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(history)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(systemMetricsHistoryFile, append(b, '\n'), 0o644))
	t.Logf("wrote %s: %d events", systemMetricsHistoryFile, len(history.Events))
}
