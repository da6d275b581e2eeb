package workflows_test

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

const cleanupRetentionHistoryFile = "testdata/cleanup_retention_history.json"

// TestCleanupRetentionReplaysRecordedHistory fails when a change to
// CleanupWorkflow would break runs recorded with the retention steps.
func TestCleanupRetentionReplaysRecordedHistory(t *testing.T) {
	mustReplay(t, cleanupRetentionHistoryFile, workflows.CleanupWorkflow)
}

// TestCleanupRetentionOnStack runs CleanupWorkflow on the stack's Temporal
// server with the real activities: the first run removes the expired
// detection (and its frame), pipeline event and camera event and keeps the
// fresh ones; a second run removes nothing. With ROLLCALL_RECORD_HISTORY=1
// it rewrites testdata/cleanup_retention_history.json from the first run:
//
//	ROLLCALL_RECORD_HISTORY=1 go test -run TestCleanupRetentionOnStack ./workflows/
func TestCleanupRetentionOnStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := testenv.DB(t)
	blobs, err := blob.New(blob.Options{Endpoint: testenv.Require(t, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: os.Getenv("ROLLCALL_S3_BUCKET"), Region: "us-east-1"})
	require.NoError(t, err)
	require.NoError(t, blobs.EnsureBucket(ctx))
	now := time.Now().UTC()
	day := 24 * time.Hour
	cam := &store.Camera{ID: uuid.NewString(), Name: "Door", StreamURL: "rtsp://10.0.0.8/s", Direction: "both", FPS: 1, Timezone: "UTC",
		State: "inactive", Health: "unknown"}
	require.NoError(t, store.CreateCamera(ctx, db, cam))
	detection := func(at time.Time) store.Detection {
		key := blob.DetectionFrameKey(cam.ID, at, uuid.NewString()[:8])
		require.NoError(t, blobs.Put(ctx, key, bytes.NewReader([]byte("jpeg")), 4, "image/jpeg"))
		d := store.Detection{ID: store.NewDetectionID(), DetectedAt: at, CameraID: &cam.ID, Similarity: 0.2, DetectionConfidence: 0.9,
			SnapshotKey: key, Source: store.DetectionSourceStream}
		require.NoError(t, store.InsertDetections(ctx, db, []store.Detection{d}))
		return d
	}
	old, fresh := detection(now.Add(-45*day)), detection(now.Add(-time.Hour))
	for _, at := range []time.Time{now.Add(-45 * day), now} {
		require.NoError(t, store.InsertDetectionEvent(ctx, db, &store.DetectionEvent{OccurredAt: at, Kind: "test", Level: "info", Message: "m"}))
	}
	for _, at := range []time.Time{now.Add(-100 * day), now} {
		require.NoError(t, store.RecordCameraEvent(ctx, db, cam.ID, store.CameraEventState, "inactive", "active", "", at))
	}

	c, err := client.Dial(client.Options{
		HostPort:  testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(t, "rollcall-test-workflows"),
		Logger:    tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(t, err)
	defer c.Close()
	taskQueue := "cleanup-retention-" + randomSuffix()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.CleanupWorkflow)
	w.RegisterActivity(&activities.Activities{DB: db, Blobs: blobs, Log: slog.Default()})
	require.NoError(t, w.Start())
	defer w.Stop()

	in := contract.CleanupWorkflowInput{SessionGrace: day, DetectionRetention: 30 * day, PipelineEventRetention: 30 * day,
		CameraEventRetention: 90 * day, PartitionsAhead: 2}
	cleanup := func(id string) (client.WorkflowRun, contract.CleanupWorkflowResult) {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, workflows.CleanupWorkflow, in)
		require.NoError(t, err)
		var res contract.CleanupWorkflowResult
		require.NoError(t, run.Get(ctx, &res))
		return run, res
	}
	run, res := cleanup(taskQueue)
	require.Equal(t, int64(1), res.DetectionsDeleted)
	require.Equal(t, int64(1), res.SnapshotsDeleted)
	require.Equal(t, int64(1), res.PipelineEventsDeleted)
	require.Equal(t, int64(1), res.CameraEventsDeleted)
	_, err = blobs.Stat(ctx, old.SnapshotKey)
	require.True(t, errors.Is(err, blob.ErrNotFound), "the expired frame is gone: %v", err)
	_, err = blobs.Stat(ctx, fresh.SnapshotKey)
	require.NoError(t, err, "the fresh frame stays")
	var left int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM detections) + (SELECT count(*) FROM detection_event_logs) + (SELECT count(*) FROM camera_events)").Scan(&left))
	require.Equal(t, 3, left, "one fresh detection, pipeline event and camera event")

	_, again := cleanup(taskQueue + "-again")
	require.Equal(t, contract.CleanupWorkflowResult{}, again, "a second run is a no-op")

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
	require.NoError(t, os.WriteFile(cleanupRetentionHistoryFile, append(b, '\n'), 0o644))
	t.Logf("wrote %s: %d events", cleanupRetentionHistoryFile, len(history.Events))
}
