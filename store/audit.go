package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AuditLog is one recorded mutation.
type AuditLog struct {
	bun.BaseModel `bun:"table:audit_logs"`

	ID         int64           `bun:"id,pk,autoincrement"`
	OccurredAt time.Time       `bun:"occurred_at,notnull"`
	UserID     *string         `bun:"user_id,type:uuid"`
	Username   string          `bun:"username,notnull"`
	Action     string          `bun:"action,notnull"`
	Method     string          `bun:"method,notnull"`
	Path       string          `bun:"path,notnull"`
	Resource   string          `bun:"resource,notnull"`
	ResourceID string          `bun:"resource_id,notnull"`
	Status     int             `bun:"status,notnull"`
	IP         string          `bun:"ip,notnull"`
	UserAgent  string          `bun:"user_agent,notnull"`
	RequestID  string          `bun:"request_id,notnull"`
	Changes    json.RawMessage `bun:"changes,type:jsonb,nullzero"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	UserID   string
	Resource string
	Action   string
	Since    *time.Time
	Until    *time.Time
	After    *Cursor
	Limit    int
}

// InsertAudit records an audit entry.
func InsertAudit(ctx context.Context, db bun.IDB, e *AuditLog) error {
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert audit: %w", err)
	}
	return nil
}

// FindAudit returns one page of audit entries, newest first.
func FindAudit(ctx context.Context, db bun.IDB, f AuditFilter) ([]AuditLog, error) {
	var rows []AuditLog
	q := db.NewSelect().Model(&rows)
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Resource != "" {
		q = q.Where("resource = ?", f.Resource)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	q, err := newestFirst(q, f.Since, f.Until, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find audit: %w", err)
	}
	return rows, nil
}

// DeleteAuditBefore removes audit entries older than cutoff and returns how many.
func DeleteAuditBefore(ctx context.Context, db bun.IDB, cutoff time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*AuditLog)(nil)).Where("occurred_at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete old audit: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
