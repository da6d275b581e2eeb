package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// partitionOf names the partition holding the detection id.
func partitionOf(tb testing.TB, db bun.IDB, table, id string) string {
	tb.Helper()
	var name string
	require.NoError(tb, db.QueryRowContext(context.Background(), "SELECT tableoid::regclass::text FROM ? WHERE id::text = ?", bun.Ident(table), id).Scan(&name))
	return name
}

func mustDetection(tb testing.TB, db bun.IDB, at time.Time) store.Detection {
	tb.Helper()
	d := store.Detection{ID: store.NewDetectionID(), DetectedAt: at, Similarity: 0.5, DetectionConfidence: 0.9, BoxWidth: 10, BoxHeight: 10,
		Source: store.DetectionSourceStream}
	require.NoError(tb, store.InsertDetections(context.Background(), db, []store.Detection{d}))
	return d
}

// TestEnsurePartitionsIsIdempotent: the first run creates yesterday through
// today+N for both tables, a second run creates nothing, and rows of a day
// that reached the DEFAULT partition before its partition existed move into
// it.
func TestEnsurePartitionsIsIdempotent(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	// Days far from the migration's window: none of them exists yet.
	now := time.Now().UTC().AddDate(0, 0, 200)
	stray := mustDetection(t, db, now.Add(-2*time.Hour))
	require.Equal(t, "detections_default", partitionOf(t, db, "detections", stray.ID))
	strayEvent := &store.DetectionEvent{OccurredAt: now.Add(24 * time.Hour), Kind: "test", Level: "info", Message: "early"}
	require.NoError(t, store.InsertDetectionEvent(ctx, db, strayEvent))
	require.Equal(t, "detection_event_logs_default", partitionOf(t, db, "detection_event_logs", strconv.FormatInt(strayEvent.ID, 10)))

	created, err := store.EnsurePartitions(ctx, db, now, 3)
	require.NoError(t, err)
	require.Equal(t, 2*(1+1+3), created, "yesterday, today and 3 days ahead, for detections and pipeline events")
	again, err := store.EnsurePartitions(ctx, db, now, 3)
	require.NoError(t, err)
	require.Zero(t, again, "a second run creates nothing")

	require.Equal(t, store.DetectionsPartitioned.PartitionName(stray.DetectedAt), partitionOf(t, db, "detections", stray.ID),
		"a row that waited in DEFAULT moves into its day's partition")
	require.Equal(t, store.PipelineEventsPartitioned.PartitionName(strayEvent.OccurredAt),
		partitionOf(t, db, "detection_event_logs", strconv.FormatInt(strayEvent.ID, 10)))
	next := &store.DetectionEvent{OccurredAt: strayEvent.OccurredAt, Kind: "test", Level: "info", Message: "after the move"}
	require.NoError(t, store.InsertDetectionEvent(ctx, db, next))
	require.Greater(t, next.ID, strayEvent.ID, "the moved partition takes new rows, IDs from the same sequence")
	parts, err := store.DayPartitions(ctx, db, store.PipelineEventsPartitioned)
	require.NoError(t, err)
	var names []string
	for _, p := range parts {
		names = append(names, p.Name)
	}
	for d := -1; d <= 3; d++ {
		require.Contains(t, names, store.PipelineEventsPartitioned.PartitionName(now.AddDate(0, 0, d)))
	}
}

// TestPagingWalksEveryPartition: keyset pages of pipeline events walk rows
// spread over day partitions and the DEFAULT partition, newest first, each
// once; detections of several days come back in (time, id) order.
func TestPagingWalksEveryPartition(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Now().UTC()
	_, err := store.EnsurePartitions(ctx, db, now, 2)
	require.NoError(t, err)
	// Today, yesterday, tomorrow (partitions) and a year ago (DEFAULT),
	// three rows each, two sharing an instant.
	var want []int64
	for _, at := range []time.Time{now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1), now, now.AddDate(0, 0, 1)} {
		for i := range 3 {
			e := &store.DetectionEvent{OccurredAt: at.Add(time.Duration(i/2) * time.Second), Kind: "test", Level: "info", Message: strconv.Itoa(i)}
			require.NoError(t, store.InsertDetectionEvent(ctx, db, e))
			want = append([]int64{e.ID}, want...)
		}
	}
	var got []int64
	var after *store.Cursor
	for range 20 {
		page, err := store.FindDetectionEvents(ctx, db, store.DetectionEventFilter{Kind: "test", After: after, Limit: 2})
		require.NoError(t, err)
		for _, e := range page {
			got = append(got, e.ID)
		}
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		after = &store.Cursor{Time: last.OccurredAt, ID: strconv.FormatInt(last.ID, 10)}
	}
	require.Equal(t, want, got)

	profile := mustPerson(t, db, "E-PART", "Ops").ID
	var ids []string
	for _, at := range []time.Time{now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1), now, now} {
		d := store.Detection{ID: store.NewDetectionID(), DetectedAt: at, FaceProfileID: &profile, Known: true, Similarity: 0.9,
			DetectionConfidence: 0.9, Source: store.DetectionSourceStream}
		require.NoError(t, store.InsertDetections(ctx, db, []store.Detection{d}))
		ids = append([]string{d.ID}, ids...)
	}
	ds, err := store.PersonDetections(ctx, db, profile, now.AddDate(-2, 0, 0), now.Add(time.Hour), 10)
	require.NoError(t, err)
	var gotIDs []string
	for _, d := range ds {
		gotIDs = append(gotIDs, d.ID)
	}
	require.Equal(t, ids, gotIDs, "newest first; UUIDv7 IDs of one instant in creation order")
}

// TestDetectionIDs: new IDs are UUIDv7s that sort by creation time, and a
// deterministic ID is the same for the same time and name, different for
// another name, and carries its time.
func TestDetectionIDs(t *testing.T) {
	a := store.NewDetectionID()
	time.Sleep(2 * time.Millisecond)
	b := store.NewDetectionID()
	require.Less(t, a, b)
	require.Equal(t, byte('7'), a[14], "version 7")

	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	space := [16]byte{1}
	x := store.DetectionIDFor(at, space, []byte("run/0"))
	require.Equal(t, x, store.DetectionIDFor(at, space, []byte("run/0")))
	require.NotEqual(t, x, store.DetectionIDFor(at, space, []byte("run/1")))
	require.Equal(t, byte('7'), x[14])
	later := store.DetectionIDFor(at.Add(time.Second), space, []byte("run/0"))
	require.Less(t, x, later, "ordered by time first")
}
