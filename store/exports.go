package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Export job statuses.
const (
	ExportQueued    = "queued"
	ExportRunning   = "running"
	ExportCompleted = "completed"
	ExportFailed    = "failed"
	ExportCancelled = "cancelled"
)

// ExportJob is one requested report file.
type ExportJob struct {
	bun.BaseModel `bun:"table:export_jobs"`

	ID          string          `bun:"id,pk,type:uuid"`
	OwnerID     *string         `bun:"owner_id,type:uuid"`
	Kind        string          `bun:"kind,notnull"`
	Format      string          `bun:"format,notnull"`
	Filters     json.RawMessage `bun:"filters,type:jsonb,notnull"`
	Status      string          `bun:"status,notnull"`
	RowsTotal   *int            `bun:"rows_total"`
	RowsWritten int             `bun:"rows_written,notnull"`
	SizeBytes   *int64          `bun:"size_bytes"`
	ObjectKey   string          `bun:"object_key,notnull"`
	Error       string          `bun:"error,notnull"`
	CreatedAt   time.Time       `bun:"created_at,notnull,default:current_timestamp"`
	StartedAt   *time.Time      `bun:"started_at"`
	FinishedAt  *time.Time      `bun:"finished_at"`
	ExpiresAt   time.Time       `bun:"expires_at,notnull"`
}

// Finished reports whether the job has ended, one way or another.
func (j *ExportJob) Finished() bool {
	return j.Status == ExportCompleted || j.Status == ExportFailed || j.Status == ExportCancelled
}

// CreateExportJob inserts a queued job.
func CreateExportJob(ctx context.Context, db bun.IDB, j *ExportJob) error {
	j.Status = ExportQueued
	if _, err := db.NewInsert().Model(j).Returning("created_at").Exec(ctx); err != nil {
		return fmt.Errorf("store: create export job: %w", err)
	}
	return nil
}

// FindExportJob returns a job, or ErrNotFound.
func FindExportJob(ctx context.Context, db bun.IDB, id string) (*ExportJob, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, fmt.Errorf("store: find export job: %w", ErrNotFound)
	}
	j := new(ExportJob)
	if err := db.NewSelect().Model(j).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find export job")
	}
	return j, nil
}

// FindExportJobs returns one page of an owner's jobs (all owners when
// ownerID is empty), newest first.
func FindExportJobs(ctx context.Context, db bun.IDB, ownerID string, after *Cursor, limit int) ([]ExportJob, error) {
	var jobs []ExportJob
	q := db.NewSelect().Model(&jobs)
	if ownerID != "" {
		q = q.Where("owner_id = ?", ownerID)
	}
	if after != nil {
		if _, err := uuid.Parse(after.ID); err != nil || after.Time.IsZero() {
			return nil, ErrBadCursor
		}
		q = q.Where("(created_at, id) < (?, ?)", after.Time, after.ID)
	}
	if err := q.Order("created_at DESC", "id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find export jobs: %w", err)
	}
	return jobs, nil
}

// StartExportJob marks a queued job running with its row count. It
// reports false when the job is no longer queued or running (cancelled).
func StartExportJob(ctx context.Context, db bun.IDB, id string, total int) (bool, error) {
	res, err := db.NewUpdate().Model((*ExportJob)(nil)).Where("id = ? AND status IN ('queued', 'running')", id).
		Set("status = 'running', rows_total = ?, rows_written = 0, started_at = coalesce(started_at, now())", total).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: start export job %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ExportProgress records the rows written so far; false when the job is
// no longer running (cancelled meanwhile).
func ExportProgress(ctx context.Context, db bun.IDB, id string, written int) (bool, error) {
	res, err := db.NewUpdate().Model((*ExportJob)(nil)).Where("id = ? AND status = 'running'", id).
		Set("rows_written = ?", written).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: export progress %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishExportJob ends a running or queued job as completed (with its
// object, size and rows), failed (with a reason) or cancelled. A job that
// has already ended keeps its first outcome; false then.
func FinishExportJob(ctx context.Context, db bun.IDB, j *ExportJob) (bool, error) {
	res, err := db.NewUpdate().Model(j).Column("status", "rows_written", "size_bytes", "object_key", "error").
		Set("finished_at = now()").
		Where("id = ? AND status IN ('queued', 'running')", j.ID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: finish export job %s: %w", j.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteExportJob removes a job's row; ErrNotFound when there is none.
func DeleteExportJob(ctx context.Context, db bun.IDB, id string) error {
	res, err := db.NewDelete().Model((*ExportJob)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete export job %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete export job %s: %w", id, ErrNotFound)
	}
	return nil
}

// ExpiredExportJobs returns up to limit jobs past their expiry, oldest first.
func ExpiredExportJobs(ctx context.Context, db bun.IDB, now time.Time, limit int) ([]ExportJob, error) {
	var jobs []ExportJob
	if err := db.NewSelect().Model(&jobs).Where("expires_at <= ?", now).Order("expires_at").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: expired export jobs: %w", err)
	}
	return jobs, nil
}

// Export kinds: what a report lists.
const (
	ExportRecords = "records"
	ExportLogs    = "logs"
)

// ExportFilters is what an export was asked for, kept in its job's row:
// the list filters, and the zone the report shows times in.
type ExportFilters struct {
	FaceProfileID  string     `json:"faceProfileId,omitempty"`
	EmployeeCode   string     `json:"employeeCode,omitempty"`
	Department     string     `json:"department,omitempty"`
	CameraID       string     `json:"cameraId,omitempty"`
	Site           string     `json:"site,omitempty"`
	Status         string     `json:"status,omitempty"`
	Source         string     `json:"source,omitempty"`
	Direction      string     `json:"direction,omitempty"`
	From           *time.Time `json:"from,omitempty"`
	To             *time.Time `json:"to,omitempty"`
	IncludeDeleted bool       `json:"includeDeleted,omitempty"`
	Timezone       string     `json:"timezone,omitempty"`
}

// Logs returns the filters as a log query.
func (f ExportFilters) Logs() AttendanceLogFilter {
	return AttendanceLogFilter{FaceProfileID: f.FaceProfileID, EmployeeCode: f.EmployeeCode, Department: f.Department,
		CameraID: f.CameraID, Site: f.Site, Source: f.Source, Direction: f.Direction, From: f.From, To: f.To,
		IncludeDeleted: f.IncludeDeleted}
}

// Records returns the filters as a record query.
func (f ExportFilters) Records() AttendanceRecordFilter {
	return AttendanceRecordFilter{FaceProfileID: f.FaceProfileID, EmployeeCode: f.EmployeeCode, Department: f.Department,
		Site: f.Site, Status: f.Status, From: f.From, To: f.To}
}

// Summary is the filters as report lines ("Department: Ops"), in a fixed order.
func (f ExportFilters) Summary() []string {
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, k+": "+v)
		}
	}
	add("Person", f.FaceProfileID)
	add("Employee code", f.EmployeeCode)
	add("Department", f.Department)
	add("Camera", f.CameraID)
	add("Site", f.Site)
	add("Status", f.Status)
	add("Source", f.Source)
	add("Direction", f.Direction)
	if f.From != nil {
		add("From", f.From.UTC().Format(time.RFC3339))
	}
	if f.To != nil {
		add("To", f.To.UTC().Format(time.RFC3339))
	}
	if f.IncludeDeleted {
		add("Deleted logs", "included")
	}
	add("Time zone", f.Timezone)
	return out
}
