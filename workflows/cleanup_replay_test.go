package workflows_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

const cleanupHistoryFile = "testdata/cleanup_history.json"

// TestCleanupWorkflowReplaysRecordedHistory fails when a change to
// CleanupWorkflow would break runs already started by a deployed worker.
func TestCleanupWorkflowReplaysRecordedHistory(t *testing.T) {
	mustReplay(t, cleanupHistoryFile, workflows.CleanupWorkflow)
}

// TestRecordCleanupHistory rewrites testdata/cleanup_history.json from a real
// run on the stack's Temporal server. Run it only when the workflow changed
// on purpose (behind workflow.GetVersion):
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordCleanupHistory ./workflows/
func TestRecordCleanupHistory(t *testing.T) {
	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		t.Skip("set ROLLCALL_RECORD_HISTORY=1 to record a new history")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := testenv.DB(t)
	mustSeedExpiredData(t, db)
	c, err := client.Dial(client.Options{
		HostPort:  testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(t, "rollcall-test-workflows"),
		Logger:    tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(t, err)
	defer c.Close()
	taskQueue := "record-cleanup-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.CleanupWorkflow)
	w.RegisterActivity(&activities.Activities{DB: db, Log: slog.Default()})
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskQueue, TaskQueue: taskQueue}, workflows.CleanupWorkflow,
		contract.CleanupWorkflowInput{SessionGrace: 24 * time.Hour, AuditRetention: 365 * 24 * time.Hour})
	require.NoError(t, err)
	var res contract.CleanupWorkflowResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, contract.CleanupWorkflowResult{SessionsDeleted: 1, AuditDeleted: 1}, res)

	history := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		history.Events = append(history.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(history)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cleanupHistoryFile, append(b, '\n'), 0o644))
	t.Logf("wrote %s: %d events", cleanupHistoryFile, len(history.Events))
}

// mustSeedExpiredData stores one session and one audit entry past retention.
func mustSeedExpiredData(tb testing.TB, db bun.IDB) {
	tb.Helper()
	ctx := context.Background()
	u := &store.User{Username: "alice", PasswordHash: "h", Role: string(auth.RoleViewer), IsActive: true}
	require.NoError(tb, store.CreateUser(ctx, db, u))
	_, hash := auth.NewRefreshToken()
	require.NoError(tb, store.CreateSession(ctx, db, &store.Session{UserID: u.ID, TokenHash: hash, ExpiresAt: time.Now().Add(-48 * time.Hour)}))
	require.NoError(tb, store.InsertAudit(ctx, db, &store.AuditLog{OccurredAt: time.Now().Add(-400 * 24 * time.Hour),
		Action: "update", Method: "PATCH", Path: "/api/v1/users/1", Status: 200}))
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mustReplay replays a recorded history against the given workflows and
// fails the test when the current code would not reproduce it.
func mustReplay(t *testing.T, file string, wfs ...any) {
	t.Helper()
	r := worker.NewWorkflowReplayer()
	for _, wf := range wfs {
		r.RegisterWorkflow(wf)
	}
	require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), file))
}
