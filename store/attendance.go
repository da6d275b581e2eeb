package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/attendance"
)

// Attendance sync states.
const (
	SyncPending = "pending"
	SyncSynced  = "synced"
	SyncFailed  = "failed"
	SyncSkipped = "skipped"
)

// AttendanceLog is one stored check-in or check-out.
type AttendanceLog struct {
	bun.BaseModel `bun:"table:attendance_logs"`

	ID               string     `bun:"id,pk,type:uuid"`
	FaceProfileID    *string    `bun:"face_profile_id,type:uuid"`
	EmployeeCode     string     `bun:"employee_code,notnull"`
	Department       string     `bun:"department,notnull"`
	CameraID         *string    `bun:"camera_id,type:uuid"`
	Site             string     `bun:"site,notnull"`
	LoggedAt         time.Time  `bun:"logged_at,notnull"`
	WorkDate         time.Time  `bun:"work_date,type:date,notnull"`
	Direction        string     `bun:"direction,notnull"`
	Source           string     `bun:"source,notnull"`
	DetectionID      *string    `bun:"detection_id,type:uuid"`
	Similarity       *float64   `bun:"similarity"`
	SnapshotKey      string     `bun:"snapshot_key,notnull"`
	Reason           string     `bun:"reason,notnull"`
	CreatedBy        *string    `bun:"created_by,type:uuid"`
	CreatedAt        time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	DeletedAt        *time.Time `bun:"deleted_at"`
	DeletedBy        *string    `bun:"deleted_by,type:uuid"`
	DeleteReason     string     `bun:"delete_reason,notnull"`
	SyncState        string     `bun:"sync_state,notnull,default:'pending'"`
	SyncError        string     `bun:"sync_error,notnull"`
	OdooAttendanceID *int64     `bun:"odoo_attendance_id"`
	SyncedAt         *time.Time `bun:"synced_at"`
}

// AttendanceRecord is a person's stored work day.
type AttendanceRecord struct {
	bun.BaseModel `bun:"table:attendance_records"`

	ID              string     `bun:"id,pk,type:uuid"`
	FaceProfileID   *string    `bun:"face_profile_id,type:uuid"`
	EmployeeCode    string     `bun:"employee_code,notnull"`
	Department      string     `bun:"department,notnull"`
	Site            string     `bun:"site,notnull"`
	WorkDate        time.Time  `bun:"work_date,type:date,notnull"`
	ShiftID         *string    `bun:"shift_id,type:uuid"`
	FirstIn         *time.Time `bun:"first_in"`
	LastOut         *time.Time `bun:"last_out"`
	WorkedSeconds   int        `bun:"worked_seconds,notnull"`
	BreakSeconds    int        `bun:"break_seconds,notnull"`
	LateSeconds     int        `bun:"late_seconds,notnull"`
	EarlySeconds    int        `bun:"early_seconds,notnull"`
	OvertimeSeconds int        `bun:"overtime_seconds,notnull"`
	Status          string     `bun:"status,notnull"`
	Open            bool       `bun:"open,notnull"`
	LogCount        int        `bun:"log_count,notnull"`
	Closed          bool       `bun:"closed,notnull"`
	UpdatedAt       time.Time  `bun:"updated_at,notnull,default:current_timestamp"`
}

// RecognitionInput is a recognised detection offered to attendance.
type RecognitionInput struct {
	DetectionID     string
	FaceProfileID   string
	CameraID        string
	CameraDirection string
	// Timezone is the camera's (the site's) IANA zone; a shift's own zone wins.
	Timezone    string
	Site        string
	At          time.Time
	Similarity  float64
	SnapshotKey string
}

// RecordRecognition turns a recognition into an attendance log when the
// rules say so, and rebuilds the person's day. It runs under a lock per
// person, so concurrent workers seeing the same person at the same instant
// log once; a detection already logged is not logged again. It returns the
// new log (nil when none) and the rules' decision.
func RecordRecognition(ctx context.Context, db *bun.DB, rules attendance.Rules, in RecognitionInput) (*AttendanceLog, attendance.Decision, error) {
	rec := attendance.Recognition{DetectionID: in.DetectionID, PersonID: in.FaceProfileID, CameraID: in.CameraID,
		CameraDirection: in.CameraDirection, At: in.At, Similarity: in.Similarity}
	if d := attendance.Decide(rules, rec, nil); !d.Logged() && d.Skip != attendance.SkipTooSoon {
		return nil, d, nil // unknown, below threshold, no direction: no need to look
	}
	var created *AttendanceLog
	var decision attendance.Decision
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockPerson(ctx, tx, in.FaceProfileID); err != nil {
			return err
		}
		if in.DetectionID != "" {
			n, err := tx.NewSelect().Model((*AttendanceLog)(nil)).Where("detection_id = ?", in.DetectionID).Count(ctx)
			if err != nil {
				return fmt.Errorf("store: attendance: %w", err)
			}
			if n > 0 {
				decision = attendance.Decision{Skip: attendance.SkipCooldown}
				return nil
			}
		}
		pc, err := loadPerson(ctx, tx, in.FaceProfileID, in.Timezone)
		if err != nil {
			return err
		}
		p := pc.profile
		wd := attendance.WorkDate(in.At, pc.loc, pc.shift)
		from, to := attendance.DayBounds(wd, pc.loc, pc.shift)
		nearby, err := personLogs(ctx, tx, in.FaceProfileID, minTime(from, in.At.Add(-rules.Cooldown)), maxTime(to, in.At.Add(rules.Cooldown)))
		if err != nil {
			return err
		}
		decision = attendance.Decide(rules, rec, nearby)
		if !decision.Logged() {
			return nil
		}
		sim := in.Similarity
		l := &AttendanceLog{
			ID: newID(), FaceProfileID: &p.ID, EmployeeCode: p.EmployeeCode, Department: p.Department,
			CameraID: optional(in.CameraID), Site: in.Site, LoggedAt: in.At, WorkDate: dateValue(wd),
			Direction: decision.Direction, Source: attendance.SourceCamera, DetectionID: optional(in.DetectionID),
			Similarity: &sim, SnapshotKey: in.SnapshotKey, SyncState: SyncPending,
		}
		if _, err := tx.NewInsert().Model(l).On("CONFLICT (detection_id) DO NOTHING").Returning("created_at").Exec(ctx); err != nil {
			return fmt.Errorf("store: insert attendance log: %w", err)
		}
		created = l
		return rebuildDay(ctx, tx, pc, wd, in.Site)
	})
	if err != nil {
		return nil, attendance.Decision{}, err
	}
	return created, decision, nil
}

// lockPerson takes the transaction's lock on one person's attendance.
func lockPerson(ctx context.Context, tx bun.Tx, profileID string) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('attendance:' || ?, 0))", profileID); err != nil {
		return fmt.Errorf("store: lock attendance of %s: %w", profileID, err)
	}
	return nil
}

// person is what attendance needs of a person: the profile, their shift
// (nil: none) and the zone their days are counted in.
type person struct {
	profile *FaceProfile
	shift   *attendance.Shift
	shiftID *string
	loc     *time.Location
}

// loadPerson loads a person and their shift; days are counted in the
// shift's zone, else in tz, else in UTC.
func loadPerson(ctx context.Context, db bun.IDB, profileID, tz string) (*person, error) {
	p, err := FindFaceProfile(ctx, db, profileID)
	if err != nil {
		return nil, err
	}
	pc := &person{profile: p, loc: time.UTC}
	if l, err := time.LoadLocation(tz); err == nil && tz != "" {
		pc.loc = l
	}
	stored, err := ShiftForPerson(ctx, db, p.ID, p.Department)
	if err != nil || stored == nil {
		return pc, err
	}
	if pc.shift, err = stored.Rules(); err != nil {
		return nil, err
	}
	pc.shiftID, pc.loc = &stored.ID, pc.shift.Location
	return pc, nil
}

// personLogs returns a person's live logs in [from, to), oldest first.
func personLogs(ctx context.Context, db bun.IDB, profileID string, from, to time.Time) ([]attendance.Log, error) {
	var rows []AttendanceLog
	err := db.NewSelect().Model(&rows).Column("id", "logged_at", "direction", "source").
		Where("face_profile_id = ? AND deleted_at IS NULL AND logged_at >= ? AND logged_at < ?", profileID, from, to).
		Order("logged_at", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: attendance logs of %s: %w", profileID, err)
	}
	out := make([]attendance.Log, len(rows))
	for i, r := range rows {
		out[i] = attendance.Log{ID: r.ID, PersonID: profileID, At: r.LoggedAt, Direction: r.Direction, Source: r.Source}
	}
	return out, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dateValue is a work date as stored (midnight UTC of that calendar day).
func dateValue(d attendance.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// View returns the log as clients see it.
func (l *AttendanceLog) View() attendance.LogView {
	v := attendance.LogView{
		ID: l.ID, EmployeeCode: l.EmployeeCode, Department: l.Department, Site: l.Site, LoggedAt: l.LoggedAt,
		WorkDate: l.WorkDate.Format(time.DateOnly), Direction: l.Direction, Source: l.Source, Similarity: l.Similarity,
		Reason: l.Reason, DeletedAt: l.DeletedAt, DeleteReason: l.DeleteReason, SyncState: l.SyncState, SyncError: l.SyncError,
	}
	for dst, src := range map[*string]*string{&v.FaceProfileID: l.FaceProfileID, &v.CameraID: l.CameraID, &v.DetectionID: l.DetectionID, &v.CreatedBy: l.CreatedBy} {
		if src != nil {
			*dst = *src
		}
	}
	return v
}
