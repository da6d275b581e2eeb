package workflows_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

// recorded lists the histories of the workflows added for attendance and
// erasure, recorded from real runs: a change that breaks their replay
// fails here.
var recorded = []struct {
	file     string
	workflow any
}{
	{"testdata/export_history.json", workflows.ExportWorkflow},
	{"testdata/attendance_close_history.json", workflows.AttendanceCloseWorkflow},
	{"testdata/face_deletion_history.json", workflows.FaceDeletionWorkflow},
	{"testdata/face_repair_history.json", workflows.FaceRepairWorkflow},
}

// engineProviders serves the in-process engine as the configured provider.
type engineProviders struct{ p provider.Provider }

func (e engineProviders) Current(context.Context) (provider.Provider, provider.Config, error) {
	return e.p, provider.Config{Kind: provider.KindBuiltin}, nil
}

func TestNewWorkflowsReplayRecordedHistories(t *testing.T) {
	for _, r := range recorded {
		t.Run(r.file, func(t *testing.T) {
			rp := worker.NewWorkflowReplayer()
			rp.RegisterWorkflow(r.workflow)
			require.NoError(t, rp.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), r.file))
		})
	}
}

// TestRecordNewWorkflowHistories rewrites the histories above from real
// runs on the stack's Temporal server. Run it only when a workflow changed
// on purpose (behind workflow.GetVersion):
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestRecordNewWorkflowHistories ./workflows/
func TestRecordNewWorkflowHistories(t *testing.T) {
	if os.Getenv("ROLLCALL_RECORD_HISTORY") != "1" {
		t.Skip("set ROLLCALL_RECORD_HISTORY=1 to record new histories")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := testenv.DB(t)
	blobs, err := blob.New(blob.Options{Endpoint: testenv.Require(t, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: os.Getenv("ROLLCALL_S3_BUCKET"), Region: "us-east-1"})
	require.NoError(t, err)
	require.NoError(t, blobs.EnsureBucket(ctx))
	c, err := client.Dial(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(t, "rollcall-test-workflows"), Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	taskQueue := "record-new-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	for _, r := range recorded {
		w.RegisterWorkflow(r.workflow)
	}
	engine, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir(), Recognizer: synthetic.New()})
	require.NoError(t, err)
	w.RegisterActivity(&activities.Activities{DB: db, Blobs: blobs, Log: slog.Default(), Providers: engineProviders{engine}})
	require.NoError(t, w.Start())
	defer w.Stop()

	// An export job of nothing, a day close, an erasure of a person with
	// no registration, a repair with nothing stuck.
	raw, _ := json.Marshal(store.ExportFilters{})
	jobID := uuid.NewString()
	require.NoError(t, store.CreateExportJob(ctx, db, &store.ExportJob{ID: jobID, Kind: store.ExportLogs, Format: "csv", Filters: raw,
		ObjectKey: "test/exports/" + jobID + ".csv", ExpiresAt: time.Now().Add(time.Hour)}))
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "H-1", Name: "History", Status: contract.FaceStatusDeleting}
	require.NoError(t, store.CreateFaceProfile(ctx, db, p))
	args := map[string][]any{
		"testdata/export_history.json":           {contract.ExportWorkflowInput{JobID: jobID}},
		"testdata/attendance_close_history.json": {contract.AttendanceCloseInput{Date: "2026-12-01"}},
		"testdata/face_deletion_history.json":    {contract.FaceDeletionWorkflowInput{ProfileID: p.ID}},
		"testdata/face_repair_history.json":      nil,
	}
	for _, r := range recorded {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskQueue + "-" + uuid.NewString(), TaskQueue: taskQueue}, r.workflow, args[r.file]...)
		require.NoError(t, err)
		require.NoError(t, run.Get(ctx, nil), r.file)
		history := &historypb.History{}
		it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			history.Events = append(history.Events, ev)
		}
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(history)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(r.file, append(b, '\n'), 0o644))
		t.Logf("wrote %s: %d events", r.file, len(history.Events))
	}
}
