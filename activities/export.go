package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/export"
	"github.com/rollcall/rollcall/store"
)

// exportBatch is how many rows one database round trip reads, and how
// often (in rows) progress is recorded; progressEvery bounds the time
// between two progress writes.
const (
	exportBatch   = 1000
	progressEvery = 2 * time.Second
)

// errExportCancelled stops the row loop when the job was cancelled.
var errExportCancelled = errors.New("export cancelled")

// RunExport writes an export job's report: rows stream from PostgreSQL
// through the format's writer into the object store (multipart upload of
// unknown size), so memory does not grow with the row count. Progress is
// written to the job's row (and heartbeated) every 1,000 rows or 2 s. A job
// cancelled while it runs stops at the next progress write and leaves no
// object behind.
func (a *Activities) RunExport(ctx context.Context, jobID string) (contract.ExportResult, error) {
	job, err := store.FindExportJob(ctx, a.DB, jobID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return contract.ExportResult{}, temporal.NewNonRetryableApplicationError("export job not found", contract.ErrTypeExportBadJob, err)
		}
		return contract.ExportResult{}, err
	}
	if job.Finished() {
		return contract.ExportResult{Status: job.Status, Rows: job.RowsWritten}, nil
	}
	var f store.ExportFilters
	if err := json.Unmarshal(job.Filters, &f); err != nil {
		return contract.ExportResult{}, temporal.NewNonRetryableApplicationError("export filters unreadable", contract.ErrTypeExportBadJob, err)
	}
	loc := time.UTC
	if f.Timezone != "" {
		if loc, err = time.LoadLocation(f.Timezone); err != nil {
			return contract.ExportResult{}, temporal.NewNonRetryableApplicationError("export time zone unknown", contract.ErrTypeExportBadJob, err)
		}
	}
	rep, err := newReport(job.Kind)
	if err != nil {
		return contract.ExportResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeExportBadJob, nil)
	}
	var total int
	switch job.Kind {
	case store.ExportLogs:
		total, err = store.CountAttendanceLogs(ctx, a.DB, f.Logs())
	default:
		total, err = store.CountAttendanceRecords(ctx, a.DB, f.Records())
	}
	if err != nil {
		return contract.ExportResult{}, err
	}
	if job.Format == export.FormatPDF && a.ExportPDFMaxRows > 0 && total > a.ExportPDFMaxRows {
		return contract.ExportResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%d rows are more than a PDF holds (%d); choose CSV or XLSX, or narrow the filters",
			total, a.ExportPDFMaxRows), contract.ErrTypeExportBadJob, nil)
	}
	if ok, err := store.StartExportJob(ctx, a.DB, jobID, total); err != nil {
		return contract.ExportResult{}, err
	} else if !ok {
		return contract.ExportResult{Status: store.ExportCancelled}, nil
	}
	key := job.ObjectKey
	if key == "" {
		key = blob.ExportKey(job.ID, job.Format)
	}

	// The upload reads what the writer writes.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	uploaded := make(chan error, 1)
	go func() {
		err := a.Blobs.Put(ctx, key, pr, -1, export.ContentType(job.Format))
		_ = pr.CloseWithError(err) // unblocks the writer if the upload failed
		uploaded <- err
	}()
	cw := &countingWriter{w: pw}
	meta := export.Meta{Title: rep.title, Filters: f.Summary(), Created: a.now(), Location: loc}
	w, err := export.New(job.Format, cw, rep.columns, meta)
	if err != nil {
		_ = pw.CloseWithError(err)
		<-uploaded
		return contract.ExportResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeExportBadJob, nil)
	}

	rows, lastRows, lastAt := 0, 0, a.now()
	names := newNameCache(a)
	progress := func() error {
		if rows-lastRows < exportBatch && a.now().Sub(lastAt) < progressEvery {
			return nil
		}
		lastRows, lastAt = rows, a.now()
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, rows)
		}
		ok, err := store.ExportProgress(ctx, a.DB, jobID, rows)
		if err != nil {
			return err
		}
		if !ok {
			return errExportCancelled
		}
		return nil
	}
	emit := func(cells []any) error {
		if err := w.Row(cells); err != nil {
			return err
		}
		rows++
		rep.add(cells)
		return progress()
	}
	switch job.Kind {
	case store.ExportLogs:
		err = store.EachAttendanceLog(ctx, a.DB, f.Logs(), exportBatch, func(l *store.AttendanceLog) error {
			name, err := names.get(ctx, l.FaceProfileID)
			if err != nil {
				return err
			}
			return emit(logRow(l, name))
		})
	default:
		err = store.EachAttendanceRecord(ctx, a.DB, f.Records(), exportBatch, func(r *store.AttendanceRecord) error {
			name, err := names.get(ctx, r.FaceProfileID)
			if err != nil {
				return err
			}
			return emit(recordRow(r, name))
		})
	}
	if err == nil {
		err = w.Close(rep.totals(rows))
	}
	if err != nil {
		_ = pw.CloseWithError(err)
		<-uploaded
		a.deleteExportObject(key)
		if errors.Is(err, errExportCancelled) {
			return contract.ExportResult{Status: store.ExportCancelled, Rows: rows}, nil
		}
		return contract.ExportResult{}, err
	}
	_ = pw.Close()
	if err := <-uploaded; err != nil {
		a.deleteExportObject(key)
		return contract.ExportResult{}, fmt.Errorf("export %s: upload: %w", jobID, err)
	}
	size := cw.n
	done := &store.ExportJob{ID: jobID, Status: store.ExportCompleted, RowsWritten: rows, SizeBytes: &size, ObjectKey: key}
	ok, err := store.FinishExportJob(context.WithoutCancel(ctx), a.DB, done)
	if err != nil {
		return contract.ExportResult{}, err
	}
	if !ok { // cancelled after the last row
		a.deleteExportObject(key)
		return contract.ExportResult{Status: store.ExportCancelled, Rows: rows}, nil
	}
	return contract.ExportResult{Status: store.ExportCompleted, Rows: rows, SizeBytes: size}, nil
}

// FailExport ends a job as failed with a reason shown to its owner.
func (a *Activities) FailExport(ctx context.Context, jobID, reason string) error {
	if _, err := store.FinishExportJob(ctx, a.DB, &store.ExportJob{ID: jobID, Status: store.ExportFailed, Error: reason}); err != nil {
		return err
	}
	a.raise(ctx, alerts.Spec{Type: alerts.TypeExportFailed, SourceID: jobID, Message: "export failed: " + reason})
	return nil
}

// CancelExport ends a job as cancelled and removes any partial object.
func (a *Activities) CancelExport(ctx context.Context, jobID string) error {
	job, err := store.FindExportJob(ctx, a.DB, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := store.FinishExportJob(ctx, a.DB, &store.ExportJob{ID: jobID, Status: store.ExportCancelled, RowsWritten: job.RowsWritten}); err != nil {
		return err
	}
	if job.Status != store.ExportCompleted && job.ObjectKey != "" {
		return a.Blobs.Delete(ctx, job.ObjectKey)
	}
	return nil
}

// PurgeExpiredExports deletes the files and rows of exports past their
// expiry and reports how many it removed.
func (a *Activities) PurgeExpiredExports(ctx context.Context) (int, error) {
	n := 0
	for {
		jobs, err := store.ExpiredExportJobs(ctx, a.DB, a.now(), 100)
		if err != nil {
			return n, err
		}
		for _, j := range jobs {
			if j.ObjectKey != "" {
				if err := a.Blobs.Delete(ctx, j.ObjectKey); err != nil {
					return n, err
				}
			}
			if err := store.DeleteExportJob(ctx, a.DB, j.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			n++
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, n)
		}
		if len(jobs) < 100 {
			return n, nil
		}
	}
}

func (a *Activities) deleteExportObject(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Blobs.Delete(ctx, key); err != nil && a.Log != nil {
		a.Log.Warn("export: removing a partial file failed", "key", key, "err", err)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// nameCache looks people's names up once per export.
type nameCache struct {
	a     *Activities
	names map[string]string
}

func newNameCache(a *Activities) *nameCache { return &nameCache{a: a, names: map[string]string{}} }

func (c *nameCache) get(ctx context.Context, id *string) (string, error) {
	if id == nil {
		return "", nil
	}
	if n, ok := c.names[*id]; ok {
		return n, nil
	}
	m, err := store.FaceNames(ctx, c.a.DB, []string{*id})
	if err != nil {
		return "", err
	}
	c.names[*id] = m[*id].Name
	return m[*id].Name, nil
}

// report is one kind of report: its title, columns and running totals.
type report struct {
	title   string
	columns []export.Column
	add     func(cells []any)
	totals  func(rows int) []any
}

func newReport(kind string) (*report, error) {
	switch kind {
	case store.ExportRecords:
		var worked, late, overtime float64
		return &report{
			title: "Attendance records",
			columns: []export.Column{{Title: "Date", Width: 10}, {Title: "Employee code", Width: 11}, {Title: "Name", Width: 20},
				{Title: "Department", Width: 14}, {Title: "Site", Width: 10}, {Title: "First in", Width: 17}, {Title: "Last out", Width: 17},
				{Title: "Worked (h)", Width: 9}, {Title: "Break (min)", Width: 9}, {Title: "Late (min)", Width: 9},
				{Title: "Early (min)", Width: 9}, {Title: "Overtime (min)", Width: 10}, {Title: "Status", Width: 11}},
			add: func(c []any) {
				worked += c[7].(float64)
				late += float64(c[9].(int))
				overtime += float64(c[11].(int))
			},
			totals: func(rows int) []any {
				return []any{"Total", fmt.Sprintf("%d records", rows), nil, nil, nil, nil, nil, worked, nil, int(late), nil, int(overtime), nil}
			},
		}, nil
	case store.ExportLogs:
		return &report{
			title: "Attendance logs",
			columns: []export.Column{{Title: "Time", Width: 17}, {Title: "Date", Width: 10}, {Title: "Employee code", Width: 11},
				{Title: "Name", Width: 20}, {Title: "Department", Width: 14}, {Title: "Site", Width: 10}, {Title: "Direction", Width: 8},
				{Title: "Source", Width: 8}, {Title: "Similarity", Width: 8}, {Title: "Reason", Width: 18}, {Title: "Deleted", Width: 7}},
			add: func([]any) {},
			totals: func(rows int) []any {
				return []any{"Total", fmt.Sprintf("%d logs", rows), nil, nil, nil, nil, nil, nil, nil, nil, nil}
			},
		}, nil
	}
	return nil, fmt.Errorf("unknown export kind %q", kind)
}

func recordRow(r *store.AttendanceRecord, name string) []any {
	return []any{r.WorkDate.Format(time.DateOnly), r.EmployeeCode, name, r.Department, r.Site, timeOrNil(r.FirstIn), timeOrNil(r.LastOut),
		float64(r.WorkedSeconds) / 3600, r.BreakSeconds / 60, r.LateSeconds / 60, r.EarlySeconds / 60, r.OvertimeSeconds / 60, r.Status}
}

func logRow(l *store.AttendanceLog, name string) []any {
	var sim any
	if l.Similarity != nil {
		sim = *l.Similarity
	}
	return []any{l.LoggedAt, l.WorkDate.Format(time.DateOnly), l.EmployeeCode, name, l.Department, l.Site, l.Direction, l.Source,
		sim, l.Reason, l.DeletedAt != nil}
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
