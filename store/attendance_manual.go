package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
)

// ErrAlreadyDeleted is returned (wrapped) when a deleted log is deleted again.
var ErrAlreadyDeleted = fmt.Errorf("store: attendance log already deleted: %w", ErrConflict)

// ManualLogInput is a check-in or check-out entered by a person.
type ManualLogInput struct {
	FaceProfileID string
	At            time.Time
	Direction     string
	Reason        string
	UserID        string
	// Timezone counts the day when the person has no shift (the site's zone).
	Timezone string
	Site     string
}

// Correction is what a manual change did: the log it wrote or deleted and
// the person's record of that day before and after (nil: none).
type Correction struct {
	Log           *AttendanceLog
	Before, After *AttendanceRecord
}

// AddManualLog writes a manual check-in or check-out and rebuilds the
// person's day. A missing person gives ErrNotFound.
func AddManualLog(ctx context.Context, db *bun.DB, in ManualLogInput) (*Correction, error) {
	var c Correction
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockPerson(ctx, tx, in.FaceProfileID); err != nil {
			return err
		}
		pc, err := loadPerson(ctx, tx, in.FaceProfileID, in.Timezone)
		if err != nil {
			return err
		}
		wd := attendance.WorkDate(in.At, pc.loc, pc.shift)
		if c.Before, err = findRecord(ctx, tx, pc.profile.ID, wd); err != nil {
			return err
		}
		l := &AttendanceLog{
			ID: newID(), FaceProfileID: &pc.profile.ID, EmployeeCode: pc.profile.EmployeeCode, Department: pc.profile.Department,
			Site: in.Site, LoggedAt: in.At, WorkDate: dateValue(wd), Direction: in.Direction, Source: attendance.SourceManual,
			Reason: in.Reason, CreatedBy: optional(in.UserID), SyncState: SyncPending,
		}
		if _, err := tx.NewInsert().Model(l).Returning("created_at").Exec(ctx); err != nil {
			return fmt.Errorf("store: insert manual attendance log: %w", err)
		}
		c.Log = l
		c.After, err = buildDay(ctx, tx, pc, wd, in.Site, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteAttendanceLog soft-deletes a log with the reason and who did it,
// and rebuilds the person's day. A missing log gives ErrNotFound, a deleted
// one ErrAlreadyDeleted.
func DeleteAttendanceLog(ctx context.Context, db *bun.DB, id, userID, reason string) (*Correction, error) {
	var c Correction
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		l, err := FindAttendanceLog(ctx, tx, id)
		if err != nil {
			return err
		}
		if l.FaceProfileID != nil {
			if err := lockPerson(ctx, tx, *l.FaceProfileID); err != nil {
				return err
			}
		}
		// Read again under the lock: a concurrent delete may have won.
		if err := tx.NewSelect().Model(l).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "find attendance log")
		}
		if l.DeletedAt != nil {
			return fmt.Errorf("store: delete attendance log %s: %w", id, ErrAlreadyDeleted)
		}
		now := time.Now().UTC()
		l.DeletedAt, l.DeletedBy, l.DeleteReason = &now, optional(userID), reason
		if _, err := tx.NewUpdate().Model(l).Column("deleted_at", "deleted_by", "delete_reason").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: delete attendance log %s: %w", id, err)
		}
		c.Log = l
		if l.FaceProfileID == nil {
			return nil // an erased person's log: no day to rebuild
		}
		pc, err := loadPerson(ctx, tx, *l.FaceProfileID, "")
		if err != nil {
			return err
		}
		wd := dateOf(l.WorkDate)
		if c.Before, err = findRecord(ctx, tx, pc.profile.ID, wd); err != nil {
			return err
		}
		c.After, err = buildDay(ctx, tx, pc, wd, l.Site, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CloseDay closes a person's work day d: a scheduled day without a
// check-in becomes absent, a session never checked out incomplete. Running
// it again for the same day changes nothing. It returns the record (nil
// when the person has nothing to record that day).
func CloseDay(ctx context.Context, db *bun.DB, profileID string, d attendance.Date) (*AttendanceRecord, error) {
	r, _, err := CloseDayIfEnded(ctx, db, profileID, d, time.Time{})
	return r, err
}

// CloseDayIfEnded is CloseDay for a day whose window (in the person's
// shift's zone, UTC without a shift) ended by now; a zero now closes
// regardless. It reports whether the day was closed (false: not over yet).
func CloseDayIfEnded(ctx context.Context, db *bun.DB, profileID string, d attendance.Date, now time.Time) (*AttendanceRecord, bool, error) {
	var r *AttendanceRecord
	closed := false
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockPerson(ctx, tx, profileID); err != nil {
			return err
		}
		pc, err := loadPerson(ctx, tx, profileID, "")
		if err != nil {
			return err
		}
		if _, end := attendance.DayBounds(d, pc.loc, pc.shift); !now.IsZero() && now.Before(end) {
			return nil
		}
		closed = true
		r, err = buildDay(ctx, tx, pc, d, "", true)
		return err
	})
	return r, closed, err
}

// PeopleToClose returns, after afterID (ID order), up to limit profiles
// whose day d needs closing: active people, and anyone with a log that day,
// unless their record of that day is closed already.
func PeopleToClose(ctx context.Context, db bun.IDB, d attendance.Date, afterID string, limit int) ([]string, error) {
	var ids []string
	q := db.NewSelect().Model((*FaceProfile)(nil)).Column("id").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("status = ?", contract.FaceStatusActive).
				WhereOr("EXISTS (SELECT 1 FROM attendance_logs AS l WHERE l.face_profile_id = face_profile.id AND l.work_date = ?)", dateValue(d))
		}).
		Where("NOT EXISTS (SELECT 1 FROM attendance_records AS r WHERE r.face_profile_id = face_profile.id AND r.work_date = ? AND r.closed)", dateValue(d)).
		Order("id").Limit(int64(limit))
	if afterID != "" {
		q = q.Where("id > ?", afterID)
	}
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: people to close %s: %w", d, err)
	}
	return ids, nil
}

// findRecord returns a person's record of a day, or nil.
func findRecord(ctx context.Context, db bun.IDB, profileID string, d attendance.Date) (*AttendanceRecord, error) {
	r := new(AttendanceRecord)
	err := db.NewSelect().Model(r).Where("face_profile_id = ? AND work_date = ?", profileID, dateValue(d)).Scan(ctx)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: attendance record: %w", err)
	}
	return r, nil
}

// dateOf reads a stored work date.
func dateOf(t time.Time) attendance.Date {
	return attendance.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}
