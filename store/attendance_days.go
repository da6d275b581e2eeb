package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/attendance"
)

// rebuildDay recomputes a person's record of work date wd from their live
// logs of that day (the record keeps its closed flag), and removes the
// record when nothing is left to record. Callers hold the person's lock.
func rebuildDay(ctx context.Context, tx bun.Tx, pc *person, wd attendance.Date, site string) error {
	_, err := buildDay(ctx, tx, pc, wd, site, false)
	return err
}

// buildDay is rebuildDay, closing the day when close is set, and returns
// the saved record (nil when none).
func buildDay(ctx context.Context, tx bun.Tx, pc *person, wd attendance.Date, site string, close bool) (*AttendanceRecord, error) {
	var existing AttendanceRecord
	err := tx.NewSelect().Model(&existing).Where("face_profile_id = ? AND work_date = ?", pc.profile.ID, dateValue(wd)).Scan(ctx)
	found := err == nil
	if err != nil && !isNoRows(err) {
		return nil, fmt.Errorf("store: attendance record: %w", err)
	}
	closed := close || (found && existing.Closed)
	var rows []AttendanceLog
	if err := tx.NewSelect().Model(&rows).Column("id", "logged_at", "direction", "source", "site").
		Where("face_profile_id = ? AND work_date = ? AND deleted_at IS NULL", pc.profile.ID, dateValue(wd)).
		Order("logged_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: attendance logs of %s on %s: %w", pc.profile.ID, wd, err)
	}
	logs := make([]attendance.Log, len(rows))
	for i, r := range rows {
		logs[i] = attendance.Log{ID: r.ID, At: r.LoggedAt, Direction: r.Direction, Source: r.Source}
		if site == "" {
			site = r.Site
		}
	}
	if site == "" && found {
		site = existing.Site
	}
	built, ok := attendance.BuildRecord(wd, logs, pc.shift, closed)
	if !ok {
		if found {
			if _, err := tx.NewDelete().Model((*AttendanceRecord)(nil)).Where("id = ?", existing.ID).Exec(ctx); err != nil {
				return nil, fmt.Errorf("store: remove attendance record: %w", err)
			}
		}
		return nil, nil
	}
	r := recordRow(pc, built, site)
	r.Closed = closed
	if found {
		r.ID = existing.ID
	}
	return r, upsertRecord(ctx, tx, r)
}

// recordRow is the stored form of a built record.
func recordRow(pc *person, b attendance.Record, site string) *AttendanceRecord {
	id := pc.profile.ID
	r := &AttendanceRecord{
		ID: newID(), FaceProfileID: &id, EmployeeCode: pc.profile.EmployeeCode, Department: pc.profile.Department,
		Site: site, WorkDate: dateValue(b.Date), ShiftID: pc.shiftID,
		WorkedSeconds: seconds(b.Worked), BreakSeconds: seconds(b.Breaks), LateSeconds: seconds(b.Late),
		EarlySeconds: seconds(b.Early), OvertimeSeconds: seconds(b.Overtime),
		Status: b.Status, Open: b.Open, LogCount: b.Logs, UpdatedAt: time.Now(),
	}
	if !b.FirstIn.IsZero() {
		t := b.FirstIn
		r.FirstIn = &t
	}
	if !b.LastOut.IsZero() {
		t := b.LastOut
		r.LastOut = &t
	}
	return r
}

func upsertRecord(ctx context.Context, db bun.IDB, r *AttendanceRecord) error {
	_, err := db.NewInsert().Model(r).
		On("CONFLICT (face_profile_id, work_date) DO UPDATE").
		Set("employee_code = EXCLUDED.employee_code, department = EXCLUDED.department, site = EXCLUDED.site").
		Set("shift_id = EXCLUDED.shift_id, first_in = EXCLUDED.first_in, last_out = EXCLUDED.last_out").
		Set("worked_seconds = EXCLUDED.worked_seconds, break_seconds = EXCLUDED.break_seconds").
		Set("late_seconds = EXCLUDED.late_seconds, early_seconds = EXCLUDED.early_seconds, overtime_seconds = EXCLUDED.overtime_seconds").
		Set("status = EXCLUDED.status, open = EXCLUDED.open, log_count = EXCLUDED.log_count, closed = EXCLUDED.closed, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: save attendance record: %w", err)
	}
	return nil
}

func seconds(d time.Duration) int { return int(d / time.Second) }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
