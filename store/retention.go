package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// DeleteCameraEventsBefore deletes up to limit camera events older than
// before, oldest first, and returns how many it deleted (fewer than limit:
// none are left).
func DeleteCameraEventsBefore(ctx context.Context, db bun.IDB, before time.Time, limit int) (int64, error) {
	res, err := db.NewDelete().Model((*CameraEvent)(nil)).
		Where("id IN (?)", db.NewSelect().Model((*CameraEvent)(nil)).Column("id").
			Where("occurred_at < ?", before).Order("occurred_at ASC").Limit(int64(limit))).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete camera events: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ExpiredAttendanceLogs returns up to limit attendance logs (ID, time and
// snapshot only) written before before, oldest first.
func ExpiredAttendanceLogs(ctx context.Context, db bun.IDB, before time.Time, limit int) ([]AttendanceLog, error) {
	var logs []AttendanceLog
	err := db.NewSelect().Model(&logs).Column("id", "logged_at", "snapshot_key").
		Where("logged_at < ?", before).Order("logged_at ASC", "id ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: expired attendance logs: %w", err)
	}
	return logs, nil
}

// DeleteAttendanceLogs deletes the logs with the given IDs (their Odoo
// sync entries go with them) and returns how many it deleted.
func DeleteAttendanceLogs(ctx context.Context, db bun.IDB, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := db.NewDelete().Model((*AttendanceLog)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete attendance logs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteAttendanceRecordsBefore deletes up to limit daily records of work
// dates before the UTC date of before and returns how many it deleted.
func DeleteAttendanceRecordsBefore(ctx context.Context, db bun.IDB, before time.Time, limit int) (int64, error) {
	res, err := db.NewDelete().Model((*AttendanceRecord)(nil)).
		Where("id IN (?)", db.NewSelect().Model((*AttendanceRecord)(nil)).Column("id").
			Where("work_date < ?::date", UTCDay(before).Format(time.DateOnly)).Order("work_date ASC").Limit(int64(limit))).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete attendance records: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
