package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/attendance"
)

// ShiftSchedule is a stored shift: wall-clock start and end in its
// timezone, the weekdays it starts on (0 = Sunday), grace and break.
type ShiftSchedule struct {
	bun.BaseModel `bun:"table:shift_schedules"`

	ID                string    `bun:"id,pk,type:uuid"`
	Name              string    `bun:"name,notnull"`
	StartMinute       int       `bun:"start_minute,notnull"`
	EndMinute         int       `bun:"end_minute,notnull"`
	Days              []int16   `bun:"days,array,notnull"`
	LateGraceMinutes  int       `bun:"late_grace_minutes,notnull"`
	EarlyGraceMinutes int       `bun:"early_grace_minutes,notnull"`
	BreakMinutes      int       `bun:"break_minutes,notnull"`
	Timezone          string    `bun:"timezone,notnull"`
	CreatedAt         time.Time `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt         time.Time `bun:"updated_at,notnull,default:current_timestamp"`
}

// Rules returns the shift as the attendance rules use it. A timezone the
// tz database does not know is an error (the API validates it on write).
func (s *ShiftSchedule) Rules() (*attendance.Shift, error) {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("store: shift %s: timezone %q: %w", s.ID, s.Timezone, err)
	}
	days := make([]time.Weekday, len(s.Days))
	for i, d := range s.Days {
		days[i] = time.Weekday(d)
	}
	return &attendance.Shift{
		Name: s.Name, Start: s.StartMinute, End: s.EndMinute, Days: days,
		LateGrace:  time.Duration(s.LateGraceMinutes) * time.Minute,
		EarlyGrace: time.Duration(s.EarlyGraceMinutes) * time.Minute,
		Break:      time.Duration(s.BreakMinutes) * time.Minute,
		Location:   loc,
	}, nil
}

// ShiftAssignment gives a shift to one person or to a department.
type ShiftAssignment struct {
	bun.BaseModel `bun:"table:shift_assignments"`

	ID            string    `bun:"id,pk,type:uuid"`
	ShiftID       string    `bun:"shift_id,type:uuid,notnull"`
	FaceProfileID *string   `bun:"face_profile_id,type:uuid"`
	Department    *string   `bun:"department"`
	CreatedAt     time.Time `bun:"created_at,notnull,default:current_timestamp"`
}

// CreateShift inserts a shift; a taken name gives ErrConflict.
func CreateShift(ctx context.Context, db bun.IDB, s *ShiftSchedule) error {
	if _, err := db.NewInsert().Model(s).Returning("created_at, updated_at").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create shift %q: %w", s.Name, ErrConflict)
		}
		return fmt.Errorf("store: create shift %q: %w", s.Name, err)
	}
	return nil
}

// FindShift returns a shift, or ErrNotFound.
func FindShift(ctx context.Context, db bun.IDB, id string) (*ShiftSchedule, error) {
	s := new(ShiftSchedule)
	if err := db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find shift")
	}
	return s, nil
}

// AssignShift gives a shift to a person (profileID) or a department,
// replacing the one they had.
func AssignShift(ctx context.Context, db bun.IDB, a *ShiftAssignment) error {
	q := db.NewInsert().Model(a)
	if a.FaceProfileID != nil {
		q = q.On("CONFLICT (face_profile_id) WHERE face_profile_id IS NOT NULL DO UPDATE").Set("shift_id = EXCLUDED.shift_id")
	} else {
		q = q.On("CONFLICT (lower(department)) WHERE department IS NOT NULL DO UPDATE").Set("shift_id = EXCLUDED.shift_id")
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("store: assign shift: %w", err)
	}
	return nil
}

// ShiftForPerson returns the shift that applies to a person: their own
// assignment, else their department's, else nil (no shift).
func ShiftForPerson(ctx context.Context, db bun.IDB, profileID, department string) (*ShiftSchedule, error) {
	var shifts []ShiftSchedule
	err := db.NewSelect().Model(&shifts).
		Join("JOIN shift_assignments AS a ON a.shift_id = shift_schedule.id").
		Where("a.face_profile_id = ? OR (a.department IS NOT NULL AND lower(a.department) = lower(?) AND ? <> '')", profileID, department, department).
		OrderExpr("a.face_profile_id IS NULL"). // a person's own first
		Limit(1).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: shift for %s: %w", profileID, err)
	}
	if len(shifts) == 0 {
		return nil, nil
	}
	return &shifts[0], nil
}

// FindShiftByName returns the shift with a name (any case), or ErrNotFound.
func FindShiftByName(ctx context.Context, db bun.IDB, name string) (*ShiftSchedule, error) {
	s := new(ShiftSchedule)
	if err := db.NewSelect().Model(s).Where("lower(name) = lower(?)", name).Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "find shift by name")
	}
	return s, nil
}

// ListShifts returns every shift by name (a company has a handful).
func ListShifts(ctx context.Context, db bun.IDB) ([]ShiftSchedule, error) {
	var ss []ShiftSchedule
	if err := db.NewSelect().Model(&ss).OrderExpr("lower(name), id").Limit(1000).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list shifts: %w", err)
	}
	return ss, nil
}

// UpdateShift replaces a shift's editable fields; ErrNotFound, or
// ErrConflict for a taken name.
func UpdateShift(ctx context.Context, db bun.IDB, s *ShiftSchedule) error {
	res, err := db.NewUpdate().Model(s).
		Column("name", "start_minute", "end_minute", "days", "late_grace_minutes", "early_grace_minutes", "break_minutes", "timezone").
		Set("updated_at = now()").WherePK().Returning("created_at, updated_at").Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: update shift %q: %w", s.Name, ErrConflict)
		}
		return fmt.Errorf("store: update shift: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update shift %s: %w", s.ID, ErrNotFound)
	}
	return nil
}

// DeleteShift removes a shift and its assignments (records keep their
// figures; their shift reference is cleared).
func DeleteShift(ctx context.Context, db bun.IDB, id string) error {
	res, err := db.NewDelete().Model((*ShiftSchedule)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete shift: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete shift %s: %w", id, ErrNotFound)
	}
	return nil
}

// ShiftAssignments lists a shift's assignments.
func ShiftAssignments(ctx context.Context, db bun.IDB, shiftID string) ([]ShiftAssignment, error) {
	var as []ShiftAssignment
	if err := db.NewSelect().Model(&as).Where("shift_id = ?", shiftID).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: shift assignments: %w", err)
	}
	return as, nil
}

// DeleteShiftAssignment removes one assignment of a shift; ErrNotFound.
func DeleteShiftAssignment(ctx context.Context, db bun.IDB, shiftID, id string) error {
	res, err := db.NewDelete().Model((*ShiftAssignment)(nil)).Where("id = ? AND shift_id = ?", id, shiftID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete shift assignment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete shift assignment %s: %w", id, ErrNotFound)
	}
	return nil
}
