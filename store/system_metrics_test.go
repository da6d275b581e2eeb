package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// TestSystemMetricHistoryDownsamples stores samples at known times and
// reads them back in 5-minute steps aligned on since: each step holds the
// average, minimum, maximum and count of its own samples only, label sets
// stay apart, and steps without samples are absent.
func TestSystemMetricHistoryDownsamples(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	t0 := time.Date(2031, 3, 1, 10, 2, 0, 0, time.UTC) // since: buckets start at :02, :07, :12 …
	var rows []store.SystemMetric
	add := func(minute int, value float64, labels map[string]string) {
		rows = append(rows, store.SystemMetric{RecordedAt: t0.Add(time.Duration(minute) * time.Minute), Name: "host_cpu_percent",
			Value: value, Labels: labels})
	}
	add(0, 10, nil) // bucket :02
	add(1, 20, nil)
	add(4, 60, nil)
	add(5, 5, nil)  // bucket :07
	add(15, 7, nil) // bucket :17 (:12 is empty)
	add(1, 100, map[string]string{"queue": "q"})
	add(20, 1, nil) // at until: excluded
	rows = append(rows, store.SystemMetric{RecordedAt: t0.Add(time.Minute), Name: "host_load1", Value: 999})
	require.NoError(t, store.InsertSystemMetrics(ctx, db, rows))

	points, err := store.SystemMetricHistory(ctx, db, "host_cpu_percent", t0, t0.Add(20*time.Minute), 5*time.Minute)
	require.NoError(t, err)
	type pt struct {
		at            time.Time
		queue         string
		avg, min, max float64
		count         int
	}
	var got []pt
	for _, p := range points {
		got = append(got, pt{p.At.UTC(), p.Labels["queue"], p.Avg, p.Min, p.Max, p.Count})
	}
	require.Equal(t, []pt{ // by label set as JSON text ({"queue": "q"} before {}), then time
		{t0, "q", 100, 100, 100, 1},
		{t0, "", 30, 10, 60, 3},
		{t0.Add(5 * time.Minute), "", 5, 5, 5, 1},
		{t0.Add(15 * time.Minute), "", 7, 7, 7, 1},
	}, got)
}

func TestSystemMetricsLatestAndPurge(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	now := time.Now().UTC().Truncate(time.Second)
	require.NoError(t, store.InsertSystemMetrics(ctx, db, []store.SystemMetric{
		{RecordedAt: now.Add(-40 * 24 * time.Hour), Name: "host_load1", Value: 1},
		{RecordedAt: now.Add(-2 * time.Minute), Name: "host_load1", Value: 2},
		{RecordedAt: now.Add(-time.Minute), Name: "host_load1", Value: 3},
		{RecordedAt: now.Add(-time.Minute), Name: "temporal_queue_backlog", Value: 4, Labels: map[string]string{"queue": "a"}},
		{RecordedAt: now.Add(-time.Minute), Name: "temporal_queue_backlog", Value: 5, Labels: map[string]string{"queue": "b"}},
	}))
	latest, err := store.LatestSystemMetrics(ctx, db, now.Add(-10*time.Minute))
	require.NoError(t, err)
	got := map[string]float64{}
	for _, m := range latest {
		got[m.Name+"/"+m.Labels["queue"]] = m.Value
	}
	require.Equal(t, map[string]float64{"host_load1/": 3, "temporal_queue_backlog/a": 4, "temporal_queue_backlog/b": 5}, got)

	one, err := store.LatestSystemMetric(ctx, db, "host_load1")
	require.NoError(t, err)
	require.Equal(t, 3.0, one.Value)
	_, err = store.LatestSystemMetric(ctx, db, "bucket_bytes")
	require.ErrorIs(t, err, store.ErrNotFound)

	n, err := store.PurgeSystemMetrics(ctx, db, now.Add(-30*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	points, err := store.SystemMetricHistory(ctx, db, "host_load1", now.Add(-50*24*time.Hour), now, 24*time.Hour)
	require.NoError(t, err)
	total := 0
	for _, p := range points {
		total += p.Count
	}
	require.Equal(t, 2, total, "only the old sample went")
}

// A passing check keeps the last failure and its time; a failing one
// replaces them.
func TestUpsertSystemServicesKeepsTheLastError(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	t1 := time.Date(2031, 3, 1, 10, 0, 0, 0, time.UTC)
	require.NoError(t, store.UpsertSystemServices(ctx, db, []store.SystemService{
		{Name: "redis", Kind: "cache", Status: "down", LatencyMs: 2000, CheckedAt: t1, LastError: "timeout", LastErrorAt: &t1}}))
	t2 := t1.Add(time.Minute)
	require.NoError(t, store.UpsertSystemServices(ctx, db, []store.SystemService{
		{Name: "redis", Kind: "cache", Status: "up", LatencyMs: 0.5, CheckedAt: t2},
		{Name: "workers:q", Kind: "workers", Status: "no_workers", CheckedAt: t2, Details: map[string]any{"pollers": 0}, LastError: "no worker", LastErrorAt: &t2}}))
	rows, err := store.ListSystemServices(ctx, db)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "redis", rows[0].Name)
	require.Equal(t, "up", rows[0].Status)
	require.Equal(t, 0.5, rows[0].LatencyMs)
	require.True(t, rows[0].CheckedAt.Equal(t2))
	require.Equal(t, "timeout", rows[0].LastError)
	require.NotNil(t, rows[0].LastErrorAt)
	require.True(t, rows[0].LastErrorAt.Equal(t1))
	require.Equal(t, float64(0), rows[1].Details["pollers"])
}
