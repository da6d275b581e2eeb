package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/rollcall/rollcall/contract"
)

// Odoo employee matching: which hr.employee field a person is found by.
const (
	OdooMatchBarcode   = "barcode"           // the person's employee code
	OdooMatchIdent     = "identification_id" // the person's employee code
	OdooMatchWorkEmail = "work_email"        // the person's email
	OdooMatchOdooID    = "odoo_id"           // the Odoo employee id stored on the person
)

// OdooConfig is the Odoo connection (one row). APIKey is sealed.
type OdooConfig struct {
	bun.BaseModel `bun:"table:odoo_config"`

	ID              int16     `bun:"id,pk"`
	URL             string    `bun:"url,notnull"`
	Database        string    `bun:"database,notnull"`
	Login           string    `bun:"login,notnull"`
	APIKey          string    `bun:"api_key,notnull"`
	Protocol        string    `bun:"protocol,notnull"`
	MatchField      string    `bun:"match_field,notnull"`
	Enabled         bool      `bun:"enabled,notnull"`
	IntervalSeconds int       `bun:"interval_seconds,notnull"`
	BatchSize       int       `bun:"batch_size,notnull"`
	UpdatedAt       time.Time `bun:"updated_at,notnull"`
}

// GetOdooConfig returns the Odoo connection.
func GetOdooConfig(ctx context.Context, db bun.IDB) (*OdooConfig, error) {
	c := new(OdooConfig)
	if err := db.NewSelect().Model(c).Where("id = 1").Scan(ctx); err != nil {
		return nil, notFound(err, "odoo config")
	}
	return c, nil
}

// SaveOdooConfig writes c.
func SaveOdooConfig(ctx context.Context, db bun.IDB, c *OdooConfig) error {
	c.ID, c.UpdatedAt = 1, time.Now()
	if _, err := db.NewUpdate().Model(c).WherePK().ExcludeColumn("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: save odoo config: %w", err)
	}
	return nil
}

// OdooRun is one sync run.
type OdooRun struct {
	bun.BaseModel `bun:"table:odoo_sync_runs"`

	ID          string     `bun:"id,pk,type:uuid"`
	Trigger     string     `bun:"trigger,notnull"`
	RequestedBy *string    `bun:"requested_by,type:uuid"`
	StartedAt   time.Time  `bun:"started_at,notnull"`
	FinishedAt  *time.Time `bun:"finished_at"`
	Status      string     `bun:"status,notnull"`
	Synced      int        `bun:"synced,notnull"`
	Failed      int        `bun:"failed,notnull"`
	Skipped     int        `bun:"skipped,notnull"`
	Error       string     `bun:"error,notnull"`
	Missing     []string   `bun:"missing,array,notnull"`
	WorkflowID  string     `bun:"workflow_id,notnull"`
}

// OdooItem is what a run did to one log.
type OdooItem struct {
	bun.BaseModel `bun:"table:odoo_sync_items"`

	RunID            string    `bun:"run_id,pk,type:uuid"`
	LogID            string    `bun:"log_id,pk,type:uuid"`
	Outcome          string    `bun:"outcome,notnull"` // SyncSynced, SyncFailed, SyncSkipped
	OdooAttendanceID *int64    `bun:"odoo_attendance_id"`
	Reason           string    `bun:"reason,notnull"`
	At               time.Time `bun:"at,notnull"`
}

// StartOdooRun records a run (idempotently: a retried start keeps the row).
func StartOdooRun(ctx context.Context, db bun.IDB, r *OdooRun) error {
	if r.Status == "" {
		r.Status = contract.OdooRunRunning
	}
	if r.Missing == nil {
		r.Missing = []string{}
	}
	if _, err := db.NewInsert().Model(r).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("store: start odoo run: %w", err)
	}
	return nil
}

// FinishOdooRun records a run's end: its status and error, and its counts
// and missing employees from its items.
func FinishOdooRun(ctx context.Context, db bun.IDB, id, status, errMsg string, missing []string, at time.Time) error {
	if missing == nil {
		missing = []string{}
	}
	_, err := db.NewUpdate().Model((*OdooRun)(nil)).Where("id = ?", id).
		Set("status = ?", status).Set("error = ?", errMsg).Set("finished_at = ?", at).Set("missing = ?", pgdialect.Array(missing)).
		Set("synced = (SELECT count(*) FROM odoo_sync_items WHERE run_id = ? AND outcome = ?)", id, SyncSynced).
		Set("failed = (SELECT count(*) FROM odoo_sync_items WHERE run_id = ? AND outcome = ?)", id, SyncFailed).
		Set("skipped = (SELECT count(*) FROM odoo_sync_items WHERE run_id = ? AND outcome = ?)", id, SyncSkipped).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: finish odoo run: %w", err)
	}
	return nil
}

// FindOdooRun returns a run.
func FindOdooRun(ctx context.Context, db bun.IDB, id string) (*OdooRun, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, fmt.Errorf("store: odoo run: %w", ErrNotFound)
	}
	r := new(OdooRun)
	if err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "odoo run")
	}
	return r, nil
}

// FindOdooRuns returns runs, newest first, after the cursor.
func FindOdooRuns(ctx context.Context, db bun.IDB, after *Cursor, limit int) ([]OdooRun, error) {
	var rs []OdooRun
	q := db.NewSelect().Model(&rs)
	if after != nil {
		if _, err := uuid.Parse(after.ID); err != nil || after.Time.IsZero() {
			return nil, ErrBadCursor
		}
		q = q.Where("(started_at, id) < (?, ?)", after.Time, after.ID)
	}
	if err := q.Order("started_at DESC", "id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find odoo runs: %w", err)
	}
	return rs, nil
}

// LastOdooRun returns the latest run (ErrNotFound: none yet).
func LastOdooRun(ctx context.Context, db bun.IDB) (*OdooRun, error) {
	r := new(OdooRun)
	if err := db.NewSelect().Model(r).Order("started_at DESC", "id DESC").Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "odoo run")
	}
	return r, nil
}

// OdooRunItems returns a run's items, by log time.
func OdooRunItems(ctx context.Context, db bun.IDB, runID string, limit int) ([]OdooItem, error) {
	var items []OdooItem
	if err := db.NewSelect().Model(&items).Where("run_id = ?", runID).Order("at", "log_id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: odoo run items: %w", err)
	}
	return items, nil
}

// OdooLog is a log to sync, with what matches its person in Odoo.
type OdooLog struct {
	AttendanceLog  `bun:",extend"`
	Email          string `bun:"email"`
	OdooEmployeeID *int   `bun:"odoo_employee_id"`
}

// OdooLogFilter selects the logs a sync run takes.
type OdooLogFilter struct {
	States   []string // SyncPending, SyncFailed
	From, To *time.Time
	PersonID string
	After    *Cursor
	Limit    int
}

// FindOdooLogs returns logs to sync (not deleted, of a known person), in
// time order, after the cursor.
func FindOdooLogs(ctx context.Context, db bun.IDB, f OdooLogFilter) ([]OdooLog, error) {
	var logs []OdooLog
	q := db.NewSelect().Model(&logs).
		ColumnExpr("attendance_log.*").ColumnExpr("fp.email, fp.odoo_employee_id").
		Join("JOIN face_profiles AS fp ON fp.id = attendance_log.face_profile_id").
		Where("attendance_log.deleted_at IS NULL").
		Where("attendance_log.sync_state IN (?)", bun.List(f.States))
	if f.From != nil {
		q = q.Where("attendance_log.logged_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("attendance_log.logged_at < ?", *f.To)
	}
	if f.PersonID != "" {
		q = q.Where("attendance_log.face_profile_id = ?", f.PersonID)
	}
	if f.After != nil {
		q = q.Where("(attendance_log.logged_at, attendance_log.id) > (?, ?)", f.After.Time, f.After.ID)
	}
	if err := q.Order("attendance_log.logged_at", "attendance_log.id").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find logs to sync: %w", err)
	}
	return logs, nil
}

// RecordOdooItems stores what a run did to logs, on the logs and as the
// run's items, in one transaction.
func RecordOdooItems(ctx context.Context, db *bun.DB, items []OdooItem) error {
	if len(items) == 0 {
		return nil
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, it := range items {
			q := tx.NewUpdate().Model((*AttendanceLog)(nil)).Where("id = ?", it.LogID).
				Set("sync_state = ?", it.Outcome).Set("sync_error = ?", it.Reason)
			if it.Outcome == SyncSynced {
				q = q.Set("odoo_attendance_id = ?", it.OdooAttendanceID).Set("synced_at = ?", it.At)
			}
			if _, err := q.Exec(ctx); err != nil {
				return fmt.Errorf("store: record odoo sync: %w", err)
			}
		}
		if _, err := tx.NewInsert().Model(&items).
			On("CONFLICT (run_id, log_id) DO UPDATE SET outcome = EXCLUDED.outcome, odoo_attendance_id = EXCLUDED.odoo_attendance_id, reason = EXCLUDED.reason, at = EXCLUDED.at").
			Exec(ctx); err != nil {
			return fmt.Errorf("store: record odoo items: %w", err)
		}
		return nil
	})
}

// RetryOdooLogs makes failed logs pending again (all of them when ids is
// empty) and returns how many.
func RetryOdooLogs(ctx context.Context, db bun.IDB, ids []string) (int, error) {
	q := db.NewUpdate().Model((*AttendanceLog)(nil)).Set("sync_state = ?", SyncPending).Set("sync_error = ''").
		Where("sync_state = ?", SyncFailed).Where("deleted_at IS NULL")
	if len(ids) > 0 {
		q = q.Where("id IN (?)", bun.List(ids))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: retry odoo logs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountOdooLogs counts logs by sync state (pending, failed).
func CountOdooLogs(ctx context.Context, db bun.IDB, state string) (int, error) {
	n, err := db.NewSelect().Model((*AttendanceLog)(nil)).Where("sync_state = ? AND deleted_at IS NULL", state).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count odoo logs: %w", err)
	}
	return int(n), nil
}
