package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
)

// Statistics groupings.
const (
	StatsByDay        = "day"
	StatsByPerson     = "person"
	StatsByDepartment = "department"
)

// StatsQuery selects the records statistics are computed over: work dates
// From..To (inclusive), optionally one department, site or person, grouped
// by day, person or department. Timezone is the zone average arrival is
// read in (default UTC).
type StatsQuery struct {
	From, To      attendance.Date
	GroupBy       string
	Department    string
	Site          string
	FaceProfileID string
	Timezone      string
}

// StatsRow is one group's figures. Attended counts days with a check-in;
// Late and EarlyLeave days with late or early minutes; AverageArrival is
// the mean first check-in as seconds after midnight (nil: no check-ins).
type StatsRow struct {
	Key               string   `bun:"key"`
	EmployeeCode      string   `bun:"employee_code"`
	Name              string   `bun:"name"`
	Days              int      `bun:"days"`
	Attended          int      `bun:"attended"`
	Late              int      `bun:"late"`
	EarlyLeave        int      `bun:"early_leave"`
	Absent            int      `bun:"absent"`
	Incomplete        int      `bun:"incomplete"`
	AverageArrival    *float64 `bun:"average_arrival"`
	WorkedSeconds     int64    `bun:"worked_seconds"`
	OvertimeSeconds   int64    `bun:"overtime_seconds"`
	LateSeconds       int64    `bun:"late_seconds"`
	AverageWorkedSecs *float64 `bun:"average_worked"`
}

// AttendanceStatistics aggregates daily records per group, in key order.
func AttendanceStatistics(ctx context.Context, db bun.IDB, q StatsQuery) ([]StatsRow, error) {
	tz := q.Timezone
	if tz == "" {
		tz = "UTC"
	}
	var key, extra, group string
	switch q.GroupBy {
	case StatsByPerson:
		key, extra, group = "r.face_profile_id::text", "max(r.employee_code) AS employee_code, coalesce(max(p.name), '') AS name", "r.face_profile_id"
	case StatsByDepartment:
		key, extra, group = "r.department", "'' AS employee_code, '' AS name", "r.department"
	case StatsByDay, "":
		key, extra, group = "to_char(r.work_date, 'YYYY-MM-DD')", "'' AS employee_code, '' AS name", "r.work_date"
	default:
		return nil, fmt.Errorf("store: statistics: unknown grouping %q", q.GroupBy)
	}
	sel := db.NewSelect().TableExpr("attendance_records AS r").
		ColumnExpr(key+" AS key").ColumnExpr(extra).
		ColumnExpr("count(*) AS days").
		ColumnExpr("count(*) FILTER (WHERE r.first_in IS NOT NULL) AS attended").
		ColumnExpr("count(*) FILTER (WHERE r.late_seconds > 0) AS late").
		ColumnExpr("count(*) FILTER (WHERE r.early_seconds > 0) AS early_leave").
		ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS absent", attendance.StatusAbsent).
		ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS incomplete", attendance.StatusIncomplete).
		ColumnExpr("avg(extract(epoch FROM (r.first_in AT TIME ZONE ?)::time)) AS average_arrival", tz).
		ColumnExpr("coalesce(sum(r.worked_seconds), 0) AS worked_seconds").
		ColumnExpr("coalesce(sum(r.overtime_seconds), 0) AS overtime_seconds").
		ColumnExpr("coalesce(sum(r.late_seconds), 0) AS late_seconds").
		ColumnExpr("avg(r.worked_seconds) FILTER (WHERE r.first_in IS NOT NULL) AS average_worked").
		Where("r.work_date BETWEEN ?::date AND ?::date", q.From.String(), q.To.String()).
		Where("r.status <> ?", attendance.StatusOff).
		GroupExpr(group).OrderExpr(group)
	if q.GroupBy == StatsByPerson {
		sel = sel.Join("LEFT JOIN face_profiles AS p ON p.id = r.face_profile_id")
	}
	if q.Department != "" {
		sel = sel.Where("lower(r.department) = lower(?)", q.Department)
	}
	if q.Site != "" {
		sel = sel.Where("r.site = ?", q.Site)
	}
	if q.FaceProfileID != "" {
		sel = sel.Where("r.face_profile_id = ?", q.FaceProfileID)
	}
	var rows []StatsRow
	if err := sel.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: attendance statistics: %w", err)
	}
	return rows, nil
}

// SiteOverview is one site's day at a glance.
type SiteOverview struct {
	Site       string `bun:"site" json:"site"`
	Scheduled  int    `bun:"scheduled" json:"scheduled"`
	Present    int    `bun:"present" json:"present"`
	Late       int    `bun:"late" json:"late"`
	EarlyLeave int    `bun:"early_leave" json:"earlyLeave"`
	Absent     int    `bun:"absent" json:"absent"`
	Incomplete int    `bun:"incomplete" json:"incomplete"`
	In         int    `bun:"in_now" json:"in" doc:"People checked in and not yet out"`
}

// AttendanceOverview returns, per site, the records of work date d.
func AttendanceOverview(ctx context.Context, db bun.IDB, d attendance.Date) ([]SiteOverview, error) {
	var out []SiteOverview
	err := db.NewSelect().TableExpr("attendance_records AS r").
		ColumnExpr("r.site").
		ColumnExpr("count(*) FILTER (WHERE r.status <> ?) AS scheduled", attendance.StatusOff).
		ColumnExpr("count(*) FILTER (WHERE r.first_in IS NOT NULL) AS present").
		ColumnExpr("count(*) FILTER (WHERE r.late_seconds > 0) AS late").
		ColumnExpr("count(*) FILTER (WHERE r.early_seconds > 0) AS early_leave").
		ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS absent", attendance.StatusAbsent).
		ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS incomplete", attendance.StatusIncomplete).
		ColumnExpr("count(*) FILTER (WHERE r.open) AS in_now").
		Where("r.work_date = ?::date", d.String()).
		GroupExpr("r.site").OrderExpr("r.site").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: attendance overview: %w", err)
	}
	return out, nil
}

// Summary is the system at a glance.
type Summary struct {
	CamerasOnline  int `json:"camerasOnline"`
	CamerasOffline int `json:"camerasOffline" doc:"Active cameras not online (offline, error or not yet checked)"`
	CamerasActive  int `json:"camerasActive"`
	CamerasTotal   int `json:"camerasTotal"`
	PeopleActive   int `json:"peopleRegistered" doc:"Face profiles registered and active"`
	PresentToday   int `json:"presentToday" doc:"People with a check-in on today's work date"`
	DetectionsDay  int `json:"detectionsToday" doc:"Detections since midnight"`
	PendingSync    int `json:"pendingSync" doc:"Attendance logs not yet synced to HR"`
}

// SystemSummary counts the summary's figures; today is the work date and
// midnight the start of the day detections are counted from.
func SystemSummary(ctx context.Context, db bun.IDB, today attendance.Date, midnight time.Time) (Summary, error) {
	var s Summary
	err := db.NewSelect().ColumnExpr("(SELECT count(*) FROM cameras WHERE state = 'active' AND health = 'online') AS cameras_online").
		ColumnExpr("(SELECT count(*) FROM cameras WHERE state = 'active' AND health <> 'online') AS cameras_offline").
		ColumnExpr("(SELECT count(*) FROM cameras WHERE state = 'active') AS cameras_active").
		ColumnExpr("(SELECT count(*) FROM cameras) AS cameras_total").
		ColumnExpr("(SELECT count(*) FROM face_profiles WHERE status = ?) AS people_active", contract.FaceStatusActive).
		ColumnExpr("(SELECT count(*) FROM attendance_records WHERE work_date = ?::date AND first_in IS NOT NULL) AS present_today", today.String()).
		ColumnExpr("(SELECT count(*) FROM detections WHERE detected_at >= ?) AS detections_day", midnight).
		ColumnExpr("(SELECT count(*) FROM attendance_logs WHERE sync_state IN ('pending', 'failed') AND deleted_at IS NULL) AS pending_sync").
		Scan(ctx, &s.CamerasOnline, &s.CamerasOffline, &s.CamerasActive, &s.CamerasTotal, &s.PeopleActive, &s.PresentToday, &s.DetectionsDay, &s.PendingSync)
	if err != nil {
		return s, fmt.Errorf("store: system summary: %w", err)
	}
	return s, nil
}

// PersonDetections returns a person's detections in [from, to), newest
// first, at most limit.
func PersonDetections(ctx context.Context, db bun.IDB, profileID string, from, to time.Time, limit int) ([]Detection, error) {
	var ds []Detection
	err := db.NewSelect().Model(&ds).Where("face_profile_id = ?", profileID).
		Where("detected_at >= ? AND detected_at < ?", from, to).
		Order("detected_at DESC", "id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: person detections: %w", err)
	}
	return ds, nil
}

// FindUnsyncedLogs returns one page of logs not yet synced to HR (pending
// or failed, not deleted), oldest first, after the cursor.
func FindUnsyncedLogs(ctx context.Context, db bun.IDB, after *Cursor, limit int) ([]AttendanceLog, error) {
	var logs []AttendanceLog
	q := db.NewSelect().Model(&logs).Where("sync_state IN (?, ?) AND deleted_at IS NULL", SyncPending, SyncFailed)
	if after != nil {
		if _, err := uuid.Parse(after.ID); err != nil || after.Time.IsZero() {
			return nil, ErrBadCursor
		}
		q = q.Where("(logged_at, id) > (?, ?)", after.Time, after.ID)
	}
	if err := q.Order("logged_at", "id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find unsynced logs: %w", err)
	}
	return logs, nil
}

// CountUnsyncedLogs counts the logs FindUnsyncedLogs pages through.
func CountUnsyncedLogs(ctx context.Context, db bun.IDB) (int, error) {
	n, err := db.NewSelect().Model((*AttendanceLog)(nil)).Where("sync_state IN (?, ?) AND deleted_at IS NULL", SyncPending, SyncFailed).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count unsynced logs: %w", err)
	}
	return int(n), nil
}

// FindFaceProfileByCode returns the profile with an employee code (any
// case), or ErrNotFound.
func FindFaceProfileByCode(ctx context.Context, db bun.IDB, code string) (*FaceProfile, error) {
	p := new(FaceProfile)
	if err := db.NewSelect().Model(p).Where("lower(employee_code) = lower(?)", code).Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "find face profile by code")
	}
	return p, nil
}
