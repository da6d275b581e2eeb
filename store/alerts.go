package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Alert statuses.
const (
	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// Alert is one problem the system noticed, open until its cause clears or
// a person resolves it.
type Alert struct {
	bun.BaseModel `bun:"table:alerts"`

	ID             string          `bun:"id,pk,type:uuid,default:gen_random_uuid()"`
	Type           string          `bun:"type,notnull"`
	Severity       string          `bun:"severity,notnull"`
	SourceType     string          `bun:"source_type,notnull"`
	SourceID       string          `bun:"source_id,notnull"`
	Message        string          `bun:"message,notnull"`
	DedupeKey      string          `bun:"dedupe_key,notnull"`
	Status         string          `bun:"status,notnull"`
	Occurrences    int             `bun:"occurrences,notnull"`
	Details        json.RawMessage `bun:"details,type:jsonb,notnull"`
	FirstSeenAt    time.Time       `bun:"first_seen_at,notnull"`
	LastSeenAt     time.Time       `bun:"last_seen_at,notnull"`
	AcknowledgedBy *string         `bun:"acknowledged_by,type:uuid"`
	AcknowledgedAt *time.Time      `bun:"acknowledged_at"`
	ResolvedBy     *string         `bun:"resolved_by,type:uuid"`
	ResolvedAt     *time.Time      `bun:"resolved_at"`
	Resolution     string          `bun:"resolution,notnull"`
}

// RaiseAlert opens a for its cause (a.DedupeKey) or, when an alert for
// that cause is still open or acknowledged, counts one more occurrence on
// it (message and details take the new values). created tells which.
func RaiseAlert(ctx context.Context, db bun.IDB, a *Alert, now time.Time) (created bool, err error) {
	if len(a.Details) == 0 {
		a.Details = json.RawMessage(`{}`)
	}
	a.Status, a.Occurrences, a.FirstSeenAt, a.LastSeenAt = AlertOpen, 1, now, now
	var inserted bool
	err = db.NewRaw(`INSERT INTO alerts (type, severity, source_type, source_id, message, dedupe_key, details, first_seen_at, last_seen_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (dedupe_key) WHERE status <> 'resolved' DO UPDATE
SET occurrences = alerts.occurrences + 1, last_seen_at = EXCLUDED.last_seen_at,
    message = EXCLUDED.message, details = EXCLUDED.details, severity = EXCLUDED.severity
RETURNING id, status, occurrences, first_seen_at, last_seen_at, acknowledged_by, acknowledged_at, (xmax = 0) AS inserted`,
		a.Type, a.Severity, a.SourceType, a.SourceID, a.Message, a.DedupeKey, string(a.Details), now, now).
		Scan(ctx, &a.ID, &a.Status, &a.Occurrences, &a.FirstSeenAt, &a.LastSeenAt, &a.AcknowledgedBy, &a.AcknowledgedAt, &inserted)
	if err != nil {
		return false, fmt.Errorf("store: raise alert %s: %w", a.DedupeKey, err)
	}
	return inserted, nil
}

// ResolveAlertByKey resolves the open alert of a cause, as the system does
// when the cause clears. It returns nil when none was open.
func ResolveAlertByKey(ctx context.Context, db bun.IDB, dedupeKey, resolution string, now time.Time) (*Alert, error) {
	var a Alert
	err := db.NewUpdate().Model(&a).
		Set("status = ?", AlertResolved).Set("resolved_at = ?", now).Set("resolution = ?", resolution).
		Where("dedupe_key = ?", dedupeKey).Where("status <> ?", AlertResolved).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: resolve alert %s: %w", dedupeKey, err)
	}
	return &a, nil
}

// ErrAlertResolved is returned (wrapped) when acknowledging or resolving an
// alert that is already resolved.
var ErrAlertResolved = fmt.Errorf("store: alert already resolved: %w", ErrConflict)

// AcknowledgeAlert marks an open alert acknowledged by userID. An
// acknowledged alert stays as it is; a resolved one gives ErrAlertResolved.
func AcknowledgeAlert(ctx context.Context, db bun.IDB, id, userID string, now time.Time) (*Alert, error) {
	return changeAlert(ctx, db, id, func(q *bun.UpdateQuery, a *Alert) *bun.UpdateQuery {
		if a.Status == AlertAcknowledged {
			return nil
		}
		return q.Set("status = ?", AlertAcknowledged).Set("acknowledged_by = ?", userID).Set("acknowledged_at = ?", now)
	})
}

// ResolveAlert resolves an alert by a person, with an optional note.
func ResolveAlert(ctx context.Context, db bun.IDB, id, userID, note string, now time.Time) (*Alert, error) {
	return changeAlert(ctx, db, id, func(q *bun.UpdateQuery, _ *Alert) *bun.UpdateQuery {
		return q.Set("status = ?", AlertResolved).Set("resolved_by = ?", userID).Set("resolved_at = ?", now).Set("resolution = ?", note)
	})
}

func changeAlert(ctx context.Context, db bun.IDB, id string, set func(*bun.UpdateQuery, *Alert) *bun.UpdateQuery) (*Alert, error) {
	var out Alert
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(&out).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "find alert "+id)
		}
		if out.Status == AlertResolved {
			return ErrAlertResolved
		}
		q := set(tx.NewUpdate().Model(&out).WherePK(), &out)
		if q == nil {
			return nil
		}
		if err := q.Returning("*").Scan(ctx); err != nil {
			return fmt.Errorf("store: update alert %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FindAlert returns one alert.
func FindAlert(ctx context.Context, db bun.IDB, id string) (*Alert, error) {
	var a Alert
	if err := db.NewSelect().Model(&a).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find alert "+id)
	}
	return &a, nil
}

// FindOpenAlert returns the open or acknowledged alert of a cause, or nil.
func FindOpenAlert(ctx context.Context, db bun.IDB, dedupeKey string) (*Alert, error) {
	var a Alert
	err := db.NewSelect().Model(&a).Where("dedupe_key = ?", dedupeKey).Where("status <> ?", AlertResolved).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: find open alert: %w", err)
	}
	return &a, nil
}

// AlertFilter selects alerts, the most recently seen first.
type AlertFilter struct {
	Statuses   []string
	Type       string
	Severity   string
	SourceType string
	SourceID   string
	Since      *time.Time // last seen at or after
	Until      *time.Time // last seen before
	After      *Cursor    // Time: last_seen_at, ID: the alert's id
	Limit      int
}

// FindAlerts returns a page of alerts.
func FindAlerts(ctx context.Context, db bun.IDB, f AlertFilter) ([]Alert, error) {
	var out []Alert
	q := db.NewSelect().Model(&out)
	if len(f.Statuses) > 0 {
		q = q.Where("status IN (?)", bun.List(f.Statuses))
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.Severity != "" {
		q = q.Where("severity = ?", f.Severity)
	}
	if f.SourceType != "" {
		q = q.Where("source_type = ?", f.SourceType)
	}
	if f.SourceID != "" {
		q = q.Where("source_id = ?", f.SourceID)
	}
	if f.Since != nil {
		q = q.Where("last_seen_at >= ?", *f.Since)
	}
	if f.Until != nil {
		q = q.Where("last_seen_at < ?", *f.Until)
	}
	if f.After != nil {
		if f.After.Time.IsZero() || !isUUIDText(f.After.ID) {
			return nil, ErrBadCursor
		}
		q = q.Where("(last_seen_at, id) < (?, ?)", f.After.Time, f.After.ID)
	}
	if err := q.Order("last_seen_at DESC", "id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: alerts: %w", err)
	}
	return out, nil
}

// CountOpenAlerts counts open and acknowledged alerts by severity.
func CountOpenAlerts(ctx context.Context, db bun.IDB) (map[string]int, error) {
	var rows []struct {
		Severity string `bun:"severity"`
		N        int    `bun:"n"`
	}
	err := db.NewSelect().Model((*Alert)(nil)).Column("severity").ColumnExpr("count(*) AS n").
		Where("status <> ?", AlertResolved).Group("severity").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: count alerts: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Severity] = r.N
	}
	return out, nil
}

// isUUIDText reports whether s looks like a UUID (so a forged cursor
// cannot make PostgreSQL fail a cast).
func isUUIDText(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
