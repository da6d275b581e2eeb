package activities_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// retentionFixture is a database and bucket holding data on both sides of
// the retention cutoffs.
type retentionFixture struct {
	db    *bun.DB
	blobs *blob.Store
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
	now   time.Time
	cam   string
}

func newRetentionFixture(t *testing.T) *retentionFixture {
	t.Helper()
	f := &retentionFixture{db: testenv.DB(t), blobs: testBlobs(t), now: time.Now().UTC()}
	ctx := context.Background()
	c := &store.Camera{ID: uuid.NewString(), Name: "Gate", StreamURL: "rtsp://10.0.0.7/s", Direction: "both", FPS: 1, Timezone: "UTC",
		State: "inactive", Health: "unknown"}
	require.NoError(t, store.CreateCamera(ctx, f.db, c))
	f.cam = c.ID
	// Day partitions for the days the test writes (the template database
	// may have been migrated days ago).
	_, err := store.EnsurePartitions(ctx, f.db, f.now.AddDate(0, 0, -35), 40)
	require.NoError(t, err)
	f.acts = &activities.Activities{DB: f.db, Blobs: f.blobs, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var suite testsuite.WorkflowTestSuite
	f.env = suite.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.acts)
	return f
}

// detection stores a detection at at whose frame (when snapshot) is an
// object in the bucket, and returns the detection.
func (f *retentionFixture) detection(t *testing.T, at time.Time, key string) store.Detection {
	t.Helper()
	ctx := context.Background()
	if key != "" {
		if _, err := f.blobs.Stat(ctx, key); errors.Is(err, blob.ErrNotFound) {
			require.NoError(t, f.blobs.Put(ctx, key, bytes.NewReader([]byte("jpeg")), 4, "image/jpeg"))
		}
	}
	d := store.Detection{ID: store.NewDetectionID(), DetectedAt: at, CameraID: &f.cam, Similarity: 0.3, DetectionConfidence: 0.9,
		BoxWidth: 10, BoxHeight: 10, SnapshotKey: key, Source: store.DetectionSourceStream}
	require.NoError(t, store.InsertDetections(ctx, f.db, []store.Detection{d}))
	return d
}

func (f *retentionFixture) key(at time.Time) string {
	return blob.DetectionFrameKey(f.cam, at, uuid.NewString()[:8])
}

func (f *retentionFixture) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := f.blobs.Stat(context.Background(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

func (f *retentionFixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.QueryRowContext(context.Background(), q, args...).Scan(&n))
	return n
}

func (f *retentionFixture) run(t *testing.T, fn any, in contract.RetentionInput, out any) {
	t.Helper()
	v, err := f.env.ExecuteActivity(fn, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(out))
}

// TestRetireDetectionsRemovesExactlyTheExpired: detections of whole days
// past retention go with their frames (a dropped day partition, and rows
// in the DEFAULT partition); younger ones and their frames stay, and so does
// a frame an attendance log shows. A second run removes nothing.
func TestRetireDetectionsRemovesExactlyTheExpired(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := context.Background()
	day := 24 * time.Hour
	cutoff := f.now.Add(-30 * day) // what the workflow passes for 30 days
	oldDay := store.UTCDay(f.now.Add(-33 * day)).Add(10 * time.Hour)
	ancient := f.now.AddDate(-2, 0, 0)

	// Expired: a frame with two faces, one more frame, a face without a
	// frame (a day partition), and a detection of two years ago (DEFAULT).
	shared, single, farKey := f.key(oldDay), f.key(oldDay.Add(time.Minute)), f.key(ancient)
	expired := []store.Detection{f.detection(t, oldDay, shared), f.detection(t, oldDay, shared),
		f.detection(t, oldDay.Add(time.Minute), single), f.detection(t, oldDay.Add(2*time.Minute), ""), f.detection(t, ancient, farKey)}
	require.Equal(t, "detections_default", f.scanText(t, "SELECT tableoid::regclass::text FROM detections WHERE id = ?", expired[4].ID),
		"a row far in the past lands in DEFAULT")
	// Expired, but its frame shows a check-in: the frame stays.
	checkinKey := f.key(oldDay.Add(3 * time.Minute))
	checkin := f.detection(t, oldDay.Add(3*time.Minute), checkinKey)
	log := &store.AttendanceLog{ID: uuid.NewString(), EmployeeCode: "E-1", LoggedAt: checkin.DetectedAt, WorkDate: store.UTCDay(checkin.DetectedAt),
		Direction: "in", Source: "camera", DetectionID: &checkin.ID, SnapshotKey: checkinKey}
	_, err := f.db.NewInsert().Model(log).Exec(ctx)
	require.NoError(t, err)
	// Kept: the day before the cutoff's day ends is still within 30 days
	// of part of it, so whole days only: 29 days ago and an hour ago.
	fresh := []store.Detection{f.detection(t, f.now.Add(-29*day), f.key(f.now.Add(-29*day))), f.detection(t, f.now.Add(-time.Hour), f.key(f.now.Add(-time.Hour)))}
	// In the cutoff's own day but before the cutoff: kept until the whole
	// day has passed.
	sameDay := f.detection(t, store.UTCDay(cutoff), f.key(store.UTCDay(cutoff)))

	expiredParts, err := store.ExpiredPartitions(ctx, f.db, store.DetectionsPartitioned, store.UTCDay(cutoff))
	require.NoError(t, err)
	require.NotEmpty(t, expiredParts)

	var res contract.RetentionResult
	f.run(t, f.acts.RetireDetections, contract.RetentionInput{Before: cutoff, BatchSize: 2}, &res)
	require.Equal(t, contract.RetentionResult{Rows: int64(len(expired) + 1), Objects: 3, Partitions: len(expiredParts)}, res)

	for _, d := range append(expired, checkin) {
		require.Zero(t, f.count(t, "SELECT count(*) FROM detections WHERE id = ?", d.ID), "expired detection %s at %v", d.ID, d.DetectedAt)
	}
	for _, k := range []string{shared, single, farKey} {
		require.False(t, f.exists(t, k), "expired frame %s", k)
	}
	for _, d := range append(fresh, sameDay) {
		require.Equal(t, 1, f.count(t, "SELECT count(*) FROM detections WHERE id = ?", d.ID), "kept detection at %v", d.DetectedAt)
		require.True(t, f.exists(t, d.SnapshotKey), "kept frame %s", d.SnapshotKey)
	}
	require.True(t, f.exists(t, checkinKey), "the check-in's frame stays")
	require.Equal(t, 1, f.count(t, "SELECT count(*) FROM attendance_logs WHERE detection_id = ?", checkin.ID), "the check-in outlives its detection")
	left, err := store.ExpiredPartitions(ctx, f.db, store.DetectionsPartitioned, store.UTCDay(cutoff))
	require.NoError(t, err)
	require.Empty(t, left)

	var again contract.RetentionResult
	f.run(t, f.acts.RetireDetections, contract.RetentionInput{Before: cutoff}, &again)
	require.Equal(t, contract.RetentionResult{}, again, "a second run is a no-op")
}

func (f *retentionFixture) scanText(t *testing.T, q string, args ...any) string {
	t.Helper()
	var s string
	require.NoError(t, f.db.QueryRowContext(context.Background(), q, args...).Scan(&s))
	return s
}

// TestRetireEventsAndAttendance: pipeline events of expired days (day
// partition and DEFAULT) and camera events past retention go, younger ones
// stay; attendance goes only past its own retention, with the frame of a
// log whose detections are gone. Second runs remove nothing.
func TestRetireEventsAndAttendance(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := context.Background()
	day := 24 * time.Hour
	event := func(at time.Time) int64 {
		e := &store.DetectionEvent{OccurredAt: at, CameraID: &f.cam, Kind: "test", Level: "info", Message: "m"}
		require.NoError(t, store.InsertDetectionEvent(ctx, f.db, e))
		return e.ID
	}
	expiredEvents := []int64{event(f.now.Add(-33 * day)), event(f.now.Add(-33 * day)), event(f.now.AddDate(-1, 0, 0))}
	freshEvents := []int64{event(f.now.Add(-29 * day)), event(f.now)}
	for _, at := range []time.Time{f.now.Add(-100 * day), f.now.Add(-95 * day), f.now.Add(-10 * day)} {
		require.NoError(t, store.RecordCameraEvent(ctx, f.db, f.cam, store.CameraEventHealth, "online", "offline", "", at))
	}

	var res contract.RetentionResult
	f.run(t, f.acts.RetirePipelineEvents, contract.RetentionInput{Before: f.now.Add(-30 * day), BatchSize: 2}, &res)
	require.Equal(t, int64(len(expiredEvents)), res.Rows)
	require.Zero(t, res.Objects)
	for _, id := range expiredEvents {
		require.Zero(t, f.count(t, "SELECT count(*) FROM detection_event_logs WHERE id = ?", id))
	}
	for _, id := range freshEvents {
		require.Equal(t, 1, f.count(t, "SELECT count(*) FROM detection_event_logs WHERE id = ?", id))
	}
	var again contract.RetentionResult
	f.run(t, f.acts.RetirePipelineEvents, contract.RetentionInput{Before: f.now.Add(-30 * day)}, &again)
	require.Equal(t, contract.RetentionResult{}, again, "a second run is a no-op")

	var n int64
	f.run(t, f.acts.PurgeCameraEvents, contract.RetentionInput{Before: f.now.Add(-90 * day), BatchSize: 1}, &n)
	require.Equal(t, int64(2), n)
	require.Equal(t, 1, f.count(t, "SELECT count(*) FROM camera_events WHERE camera_id = ?", f.cam))
	var none int64
	f.run(t, f.acts.PurgeCameraEvents, contract.RetentionInput{Before: f.now.Add(-90 * day)}, &none)
	require.Zero(t, none, "a second run is a no-op")

	// Attendance: a log of three years ago (its frame too), one of last
	// week (kept), and their days' records.
	oldAt, newAt := f.now.AddDate(-3, 0, 0), f.now.Add(-7*day)
	oldKey, newKey := f.key(oldAt), f.key(newAt)
	for _, x := range []struct {
		at  time.Time
		key string
	}{{oldAt, oldKey}, {newAt, newKey}} {
		require.NoError(t, f.blobs.Put(ctx, x.key, bytes.NewReader([]byte("jpeg")), 4, "image/jpeg"))
		_, err := f.db.NewInsert().Model(&store.AttendanceLog{ID: uuid.NewString(), EmployeeCode: "E-2", LoggedAt: x.at, WorkDate: store.UTCDay(x.at),
			Direction: "in", Source: "camera", SnapshotKey: x.key}).Exec(ctx)
		require.NoError(t, err)
		_, err = f.db.NewInsert().Model(&store.AttendanceRecord{ID: uuid.NewString(), EmployeeCode: "E-2", WorkDate: store.UTCDay(x.at),
			Status: "present"}).Exec(ctx)
		require.NoError(t, err)
	}
	in := contract.RetentionInput{Before: f.now.AddDate(-2, 0, 0), SnapshotsBefore: store.UTCDay(f.now.Add(-30 * day))}
	var purged contract.RetentionResult
	f.run(t, f.acts.PurgeAttendance, in, &purged)
	require.Equal(t, contract.RetentionResult{Rows: 1, Objects: 1, Records: 1}, purged)
	require.False(t, f.exists(t, oldKey))
	require.True(t, f.exists(t, newKey))
	require.Equal(t, 1, f.count(t, "SELECT count(*) FROM attendance_logs WHERE employee_code = 'E-2'"))
	require.Equal(t, 1, f.count(t, "SELECT count(*) FROM attendance_records WHERE employee_code = 'E-2'"))
	var purgedAgain contract.RetentionResult
	f.run(t, f.acts.PurgeAttendance, in, &purgedAgain)
	require.Equal(t, contract.RetentionResult{}, purgedAgain, "a second run is a no-op")
}
