package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// TestExportJobLifecycle runs a job to completion and another into a
// cancellation that arrives while it writes: the writer learns of it at its
// next progress report, and the cancelled job keeps that outcome.
func TestExportJobLifecycle(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	owner := mustCreateUser(t, db, "hr1", "hr").ID
	now := time.Now()
	done := &store.ExportJob{ID: uuid.NewString(), OwnerID: &owner, Kind: "logs", Format: "csv", Filters: []byte(`{}`), ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, store.CreateExportJob(ctx, db, done))
	ok, err := store.StartExportJob(ctx, db, done.ID, 10)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = store.ExportProgress(ctx, db, done.ID, 5)
	require.NoError(t, err)
	require.True(t, ok)
	size := int64(123)
	done.Status, done.RowsWritten, done.SizeBytes, done.ObjectKey = store.ExportCompleted, 10, &size, "exports/x.csv"
	ok, err = store.FinishExportJob(ctx, db, done)
	require.NoError(t, err)
	require.True(t, ok)

	cancelled := &store.ExportJob{ID: uuid.NewString(), OwnerID: &owner, Kind: "records", Format: "pdf", Filters: []byte(`{}`), ExpiresAt: now.Add(-time.Minute)}
	require.NoError(t, store.CreateExportJob(ctx, db, cancelled))
	_, err = store.StartExportJob(ctx, db, cancelled.ID, 10)
	require.NoError(t, err)
	ok, err = store.FinishExportJob(ctx, db, &store.ExportJob{ID: cancelled.ID, Status: store.ExportCancelled})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = store.ExportProgress(ctx, db, cancelled.ID, 5)
	require.NoError(t, err)
	require.False(t, ok, "progress on a cancelled job must tell the writer to stop")
	ok, err = store.FinishExportJob(ctx, db, &store.ExportJob{ID: cancelled.ID, Status: store.ExportCompleted})
	require.NoError(t, err)
	require.False(t, ok, "a finished job keeps its first outcome")

	got, err := store.FindExportJob(ctx, db, done.ID)
	require.NoError(t, err)
	require.Equal(t, store.ExportCompleted, got.Status)
	require.Equal(t, 10, *got.RowsTotal)
	jobs, err := store.FindExportJobs(ctx, db, owner, nil, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	expired, err := store.ExpiredExportJobs(ctx, db, now, 10)
	require.NoError(t, err)
	require.Len(t, expired, 1)
	require.Equal(t, cancelled.ID, expired[0].ID)
	require.NoError(t, store.DeleteExportJob(ctx, db, cancelled.ID))
	require.ErrorIs(t, store.DeleteExportJob(ctx, db, cancelled.ID), store.ErrNotFound)
}

// TestEachAttendanceLogVisitsEveryRowOnce iterates in batches smaller than
// the row count, with two logs sharing a timestamp across a batch edge.
func TestEachAttendanceLogVisitsEveryRowOnce(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := mustPerson(t, db, "X-1", "")
	q := mustPerson(t, db, "X-2", "")
	at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	for i := range 5 {
		for _, who := range []string{p.ID, q.ID} {
			_, err := store.AddManualLog(ctx, db, store.ManualLogInput{FaceProfileID: who, At: at.Add(time.Duration(i) * time.Hour), Direction: attendance.In, Reason: "test"})
			require.NoError(t, err)
		}
	}
	seen := map[string]int{}
	require.NoError(t, store.EachAttendanceLog(ctx, db, store.AttendanceLogFilter{}, 3, func(l *store.AttendanceLog) error {
		seen[l.ID]++
		return nil
	}))
	require.Len(t, seen, 10)
	for id, n := range seen {
		require.Equal(t, 1, n, "log %s visited %d times", id, n)
	}
}
