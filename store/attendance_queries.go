package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// AttendanceLogFilter selects attendance logs, newest first. Empty fields
// do not filter; From/To bound logged_at to [From, To).
type AttendanceLogFilter struct {
	FaceProfileID, EmployeeCode, Department, CameraID, Site string
	Source, Direction, SyncState                            string
	From, To                                                *time.Time
	IncludeDeleted                                          bool
	After                                                   *Cursor
	Limit                                                   int
}

func (f AttendanceLogFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	eq := map[string]string{"face_profile_id": f.FaceProfileID, "camera_id": f.CameraID, "site": f.Site,
		"source": f.Source, "direction": f.Direction, "sync_state": f.SyncState}
	for _, col := range []string{"face_profile_id", "camera_id", "site", "source", "direction", "sync_state"} {
		if v := eq[col]; v != "" {
			q = q.Where("? = ?", bun.Ident("attendance_log."+col), v)
		}
	}
	if f.EmployeeCode != "" {
		q = q.Where("lower(attendance_log.employee_code) = lower(?)", f.EmployeeCode)
	}
	if f.Department != "" {
		q = q.Where("lower(attendance_log.department) = lower(?)", f.Department)
	}
	if f.From != nil {
		q = q.Where("attendance_log.logged_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("attendance_log.logged_at < ?", *f.To)
	}
	if !f.IncludeDeleted {
		q = q.Where("attendance_log.deleted_at IS NULL")
	}
	return q
}

// FindAttendanceLogs returns one page of logs, newest first (logged_at,
// then id: a stable order). A cursor that is not a log's gives ErrBadCursor.
func FindAttendanceLogs(ctx context.Context, db bun.IDB, f AttendanceLogFilter) ([]AttendanceLog, error) {
	var logs []AttendanceLog
	q := f.apply(db.NewSelect().Model(&logs))
	if f.After != nil {
		if _, err := uuid.Parse(f.After.ID); err != nil || f.After.Time.IsZero() {
			return nil, ErrBadCursor
		}
		q = q.Where("(attendance_log.logged_at, attendance_log.id) < (?, ?)", f.After.Time, f.After.ID)
	}
	if err := q.Order("attendance_log.logged_at DESC", "attendance_log.id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find attendance logs: %w", err)
	}
	return logs, nil
}

// CountAttendanceLogs counts the logs a filter selects (its cursor and
// limit ignored).
func CountAttendanceLogs(ctx context.Context, db bun.IDB, f AttendanceLogFilter) (int, error) {
	n, err := f.apply(db.NewSelect().Model((*AttendanceLog)(nil))).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count attendance logs: %w", err)
	}
	return int(n), nil
}

// FindAttendanceLog returns one log (deleted ones too), or ErrNotFound.
func FindAttendanceLog(ctx context.Context, db bun.IDB, id string) (*AttendanceLog, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, fmt.Errorf("store: find attendance log: %w", ErrNotFound)
	}
	l := new(AttendanceLog)
	if err := db.NewSelect().Model(l).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find attendance log")
	}
	return l, nil
}

// AttendanceRecordFilter selects records, newest work date first. From and
// To bound the work date to [From, To] (dates, inclusive).
type AttendanceRecordFilter struct {
	FaceProfileID, EmployeeCode, Department, Site, Status string
	From, To                                              *time.Time
	After                                                 *Cursor
	Limit                                                 int
}

func (f AttendanceRecordFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.FaceProfileID != "" {
		q = q.Where("attendance_record.face_profile_id = ?", f.FaceProfileID)
	}
	if f.EmployeeCode != "" {
		q = q.Where("lower(attendance_record.employee_code) = lower(?)", f.EmployeeCode)
	}
	if f.Department != "" {
		q = q.Where("lower(attendance_record.department) = lower(?)", f.Department)
	}
	if f.Site != "" {
		q = q.Where("attendance_record.site = ?", f.Site)
	}
	if f.Status != "" {
		q = q.Where("attendance_record.status = ?", f.Status)
	}
	if f.From != nil {
		q = q.Where("attendance_record.work_date >= ?::date", f.From.Format(time.DateOnly))
	}
	if f.To != nil {
		q = q.Where("attendance_record.work_date <= ?::date", f.To.Format(time.DateOnly))
	}
	return q
}

// FindAttendanceRecords returns one page of records, newest work date
// first (then id). A cursor that is not a record's gives ErrBadCursor.
func FindAttendanceRecords(ctx context.Context, db bun.IDB, f AttendanceRecordFilter) ([]AttendanceRecord, error) {
	var recs []AttendanceRecord
	q := f.apply(db.NewSelect().Model(&recs))
	if f.After != nil {
		if _, err := uuid.Parse(f.After.ID); err != nil || f.After.Time.IsZero() {
			return nil, ErrBadCursor
		}
		q = q.Where("(attendance_record.work_date, attendance_record.id) < (?::date, ?)", f.After.Time.Format(time.DateOnly), f.After.ID)
	}
	if err := q.Order("attendance_record.work_date DESC", "attendance_record.id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find attendance records: %w", err)
	}
	return recs, nil
}

// CountAttendanceRecords counts the records a filter selects.
func CountAttendanceRecords(ctx context.Context, db bun.IDB, f AttendanceRecordFilter) (int, error) {
	n, err := f.apply(db.NewSelect().Model((*AttendanceRecord)(nil))).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count attendance records: %w", err)
	}
	return int(n), nil
}

// EachAttendanceLog calls fn for every log the filter selects, newest
// first, reading batch rows at a time by keyset, so memory does not grow
// with the number of rows. It stops at fn's first error and returns it.
func EachAttendanceLog(ctx context.Context, db bun.IDB, f AttendanceLogFilter, batch int, fn func(*AttendanceLog) error) error {
	f.Limit, f.After = batch, nil
	for {
		logs, err := FindAttendanceLogs(ctx, db, f)
		if err != nil {
			return err
		}
		for i := range logs {
			if err := fn(&logs[i]); err != nil {
				return err
			}
		}
		if len(logs) < batch {
			return nil
		}
		last := logs[len(logs)-1]
		f.After = &Cursor{Time: last.LoggedAt, ID: last.ID}
	}
}

// EachAttendanceRecord is EachAttendanceLog for records (newest work date first).
func EachAttendanceRecord(ctx context.Context, db bun.IDB, f AttendanceRecordFilter, batch int, fn func(*AttendanceRecord) error) error {
	f.Limit, f.After = batch, nil
	for {
		recs, err := FindAttendanceRecords(ctx, db, f)
		if err != nil {
			return err
		}
		for i := range recs {
			if err := fn(&recs[i]); err != nil {
				return err
			}
		}
		if len(recs) < batch {
			return nil
		}
		last := recs[len(recs)-1]
		f.After = &Cursor{Time: last.WorkDate, ID: last.ID}
	}
}
