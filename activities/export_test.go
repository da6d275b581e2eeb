package activities_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// seedLogs inserts n camera logs spread over people, a minute apart.
func seedLogs(t *testing.T, db *bun.DB, people []*store.FaceProfile, n int) {
	t.Helper()
	start := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	logs := make([]store.AttendanceLog, 0, n)
	for i := range n {
		p := people[i%len(people)]
		at := start.Add(time.Duration(i) * time.Minute)
		sim := 0.8 + float64(i%10)/100
		logs = append(logs, store.AttendanceLog{ID: uuid.NewString(), FaceProfileID: &p.ID, EmployeeCode: p.EmployeeCode, Department: p.Department,
			Site: "HQ", LoggedAt: at, WorkDate: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC),
			Direction: attendance.In, Source: attendance.SourceCamera, Similarity: &sim})
	}
	for i := 0; i < len(logs); i += 1000 {
		batch := logs[i:min(i+1000, len(logs))]
		_, err := db.NewInsert().Model(&batch).Exec(context.Background())
		require.NoError(t, err)
	}
}

func newExportJob(t *testing.T, db *bun.DB, kind, format string, f store.ExportFilters) *store.ExportJob {
	t.Helper()
	raw, err := json.Marshal(f)
	require.NoError(t, err)
	id := uuid.NewString()
	j := &store.ExportJob{ID: id, Kind: kind, Format: format, Filters: raw, ObjectKey: "exports/test-" + id + "." + format,
		ExpiresAt: time.Now().Add(time.Hour)}
	require.NoError(t, store.CreateExportJob(context.Background(), db, j))
	return j
}

func readObject(t *testing.T, b *blob.Store, key string) []byte {
	t.Helper()
	r, err := b.Get(context.Background(), key)
	require.NoError(t, err)
	defer r.Close()
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return data
}

// TestRunExportLogsCSV exports 2,500 logs (more than two progress steps)
// with a filter and reads the file back: the rows are the database's, in
// its order, names included, and the job records its rows and size.
func TestRunExportLogsCSV(t *testing.T) {
	db := testenv.DB(t)
	blobs := testBlobs(t)
	ctx := context.Background()
	var people []*store.FaceProfile
	for i, name := range []string{"Nguyễn Thị Hương", "Zoë Ørsted", "=cmd|' /C calc'!A0"} {
		p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: fmt.Sprintf("E-%d", i), Name: name, Department: "Ops", Status: contract.FaceStatusActive}
		require.NoError(t, store.CreateFaceProfile(ctx, db, p))
		people = append(people, p)
	}
	other := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "X-1", Name: "Other", Department: "Sales", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, db, other))
	seedLogs(t, db, people, 2500)
	seedLogs(t, db, []*store.FaceProfile{other}, 40)

	acts := &activities.Activities{DB: db, Blobs: blobs, Log: slog.New(slog.DiscardHandler)}
	job := newExportJob(t, db, store.ExportLogs, "csv", store.ExportFilters{Department: "Ops", Timezone: "Asia/Ho_Chi_Minh"})
	res, err := acts.RunExport(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, store.ExportCompleted, res.Status)
	require.Equal(t, 2500, res.Rows)

	data := readObject(t, blobs, job.ObjectKey)
	require.EqualValues(t, len(data), res.SizeBytes)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "Time", recs[0][0])
	require.Len(t, recs, 1+2500+1, "header, rows, totals")

	want, err := store.FindAttendanceLogs(ctx, db, store.AttendanceLogFilter{Department: "Ops", Limit: 2500})
	require.NoError(t, err)
	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	names := map[string]string{}
	for _, p := range people {
		names[p.ID] = p.Name
	}
	for i, l := range want {
		row := recs[1+i]
		require.Equal(t, l.LoggedAt.In(hcm).Format("2006-01-02 15:04:05"), row[0], "row %d: time in the report's zone", i)
		require.Equal(t, l.EmployeeCode, row[2])
		name := names[*l.FaceProfileID]
		if name[0] == '=' {
			require.Equal(t, "'"+name, row[3], "a formula-like name is neutralised")
		} else {
			require.Equal(t, name, row[3])
		}
	}

	got, err := store.FindExportJob(ctx, db, job.ID)
	require.NoError(t, err)
	require.Equal(t, store.ExportCompleted, got.Status)
	require.Equal(t, 2500, got.RowsWritten)
	require.Equal(t, 2500, *got.RowsTotal)
	require.EqualValues(t, len(data), *got.SizeBytes)
	require.NotNil(t, got.FinishedAt)

	// Running a finished job again does nothing.
	again, err := acts.RunExport(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, store.ExportCompleted, again.Status)
}

// TestRunExportRecordsXLSX exports daily records and reads them back with
// excelize: one row per record with its status, and a totals line.
func TestRunExportRecordsXLSX(t *testing.T) {
	db := testenv.DB(t)
	blobs := testBlobs(t)
	ctx := context.Background()
	for i := range 3 {
		p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: fmt.Sprintf("R-%d", i), Name: "محمد " + fmt.Sprint(i), Department: "Ops", Status: contract.FaceStatusActive}
		require.NoError(t, store.CreateFaceProfile(ctx, db, p))
		for day := range 2 {
			at := time.Date(2026, 11, 2+day, 8, 30+i, 0, 0, time.UTC)
			_, _, err := store.RecordRecognition(ctx, db, attendance.DefaultRules(), store.RecognitionInput{DetectionID: uuid.NewString(),
				FaceProfileID: p.ID, CameraDirection: attendance.CameraEntry, At: at, Similarity: 0.9, Timezone: "UTC"})
			require.NoError(t, err)
		}
	}
	acts := &activities.Activities{DB: db, Blobs: blobs, Log: slog.New(slog.DiscardHandler)}
	job := newExportJob(t, db, store.ExportRecords, "xlsx", store.ExportFilters{})
	res, err := acts.RunExport(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, 6, res.Rows)

	f, err := excelize.OpenReader(bytes.NewReader(readObject(t, blobs, job.ObjectKey)))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	require.NoError(t, err)
	want, err := store.FindAttendanceRecords(ctx, db, store.AttendanceRecordFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, want, 6)
	// The sheet starts with the header; find it, then the rows follow.
	h := 0
	for h < len(rows) && (len(rows[h]) == 0 || rows[h][0] != "Date") {
		h++
	}
	require.Less(t, h, len(rows), "a header row")
	for i, r := range want {
		row := rows[h+1+i]
		require.Equal(t, r.WorkDate.Format(time.DateOnly), row[0])
		require.Equal(t, r.EmployeeCode, row[1])
		require.Equal(t, "محمد "+strings.TrimPrefix(r.EmployeeCode, "R-"), row[2], "Arabic-script names survive")
		require.Equal(t, r.Status, row[12])
	}
	require.Equal(t, "Total", rows[h+1+len(want)][0])
}

// cancellingBlobs cancels the export job once the upload has started.
type cancellingBlobs struct {
	*blob.Store
	db    *bun.DB
	jobID string
}

func (c *cancellingBlobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	buf := make([]byte, 1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	if _, err := store.FinishExportJob(ctx, c.db, &store.ExportJob{ID: c.jobID, Status: store.ExportCancelled}); err != nil {
		return err
	}
	return c.Store.Put(ctx, key, io.MultiReader(bytes.NewReader(buf), r), size, ct)
}

// TestRunExportCancelled cancels a job while its file is being written:
// the export stops at its next progress step, reports cancelled, and
// leaves no file behind.
func TestRunExportCancelled(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "C-1", Name: "C", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, db, p))
	seedLogs(t, db, []*store.FaceProfile{p}, 5000)
	job := newExportJob(t, db, store.ExportLogs, "csv", store.ExportFilters{})
	b := &cancellingBlobs{Store: testBlobs(t), db: db, jobID: job.ID}
	acts := &activities.Activities{DB: db, Blobs: b, Log: slog.New(slog.DiscardHandler)}

	res, err := acts.RunExport(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, store.ExportCancelled, res.Status)
	require.Less(t, res.Rows, 5000, "the export stopped early")
	got, err := store.FindExportJob(ctx, db, job.ID)
	require.NoError(t, err)
	require.Equal(t, store.ExportCancelled, got.Status)
	_, err = b.Stat(ctx, job.ObjectKey)
	require.True(t, errors.Is(err, blob.ErrNotFound), "no partial file: %v", err)
}

// TestPurgeExpiredExports removes an expired job's file and row and keeps
// the others.
func TestPurgeExpiredExports(t *testing.T) {
	db := testenv.DB(t)
	blobs := testBlobs(t)
	ctx := context.Background()
	old := newExportJob(t, db, store.ExportLogs, "csv", store.ExportFilters{})
	fresh := newExportJob(t, db, store.ExportLogs, "csv", store.ExportFilters{})
	require.NoError(t, blobs.Put(ctx, old.ObjectKey, bytes.NewReader([]byte("a,b\n")), 4, "text/csv"))
	_, err := db.NewUpdate().Model((*store.ExportJob)(nil)).Set("expires_at = now() - interval '1 minute'").Where("id = ?", old.ID).Exec(ctx)
	require.NoError(t, err)

	acts := &activities.Activities{DB: db, Blobs: blobs, Log: slog.New(slog.DiscardHandler)}
	n, err := acts.PurgeExpiredExports(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = store.FindExportJob(ctx, db, old.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = blobs.Stat(ctx, old.ObjectKey)
	require.ErrorIs(t, err, blob.ErrNotFound)
	_, err = store.FindExportJob(ctx, db, fresh.ID)
	require.NoError(t, err)
}

// TestCloseAttendanceDays closes a past day (absent) and leaves today,
// which has not ended, for a later run.
func TestCloseAttendanceDays(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "D-1", Name: "D", Department: "Ops", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, db, p))
	s := &store.ShiftSchedule{ID: uuid.NewString(), Name: "Day", StartMinute: 9 * 60, EndMinute: 17 * 60, Days: []int16{0, 1, 2, 3, 4, 5, 6}, Timezone: "UTC"}
	require.NoError(t, store.CreateShift(ctx, db, s))
	require.NoError(t, store.AssignShift(ctx, db, &store.ShiftAssignment{ID: uuid.NewString(), ShiftID: s.ID, FaceProfileID: &p.ID}))

	acts := &activities.Activities{DB: db}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	res, err := acts.CloseAttendanceDays(ctx, contract.CloseDaysInput{Dates: []string{"2026-12-03", "2026-12-04"}, Now: now})
	require.NoError(t, err)
	require.Equal(t, contract.CloseDaysResult{Closed: 1, Pending: 1}, res)
	recs, err := store.FindAttendanceRecords(ctx, db, store.AttendanceRecordFilter{FaceProfileID: p.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, attendance.StatusAbsent, recs[0].Status)
	require.Equal(t, "2026-12-03", recs[0].WorkDate.Format(time.DateOnly))

	res, err = acts.CloseAttendanceDays(ctx, contract.CloseDaysInput{Dates: []string{"2026-12-03"}, Now: now})
	require.NoError(t, err)
	require.Equal(t, contract.CloseDaysResult{}, res, "a closed day is not closed again")

	_, err = acts.CloseAttendanceDays(ctx, contract.CloseDaysInput{Dates: []string{"2026-13-01"}, Now: now})
	require.Error(t, err)
}
