package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AlertWebhook sends alerts to an outside URL (chat, paging), signed with
// its own secret.
type AlertWebhook struct {
	bun.BaseModel `bun:"table:alert_webhooks"`

	ID          string    `bun:"id,pk,type:uuid,default:gen_random_uuid()"`
	Name        string    `bun:"name,notnull"`
	URL         string    `bun:"url,notnull"`
	Secret      string    `bun:"secret,notnull"` // sealed (internal/secrets, SecretAAD)
	AlertTypes  []string  `bun:"alert_types,array,notnull"`
	MinSeverity string    `bun:"min_severity,notnull"`
	Enabled     bool      `bun:"enabled,notnull"`
	CreatedBy   *string   `bun:"created_by,type:uuid"`
	CreatedAt   time.Time `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt   time.Time `bun:"updated_at,notnull,default:current_timestamp"`
}

// CreateWebhook inserts w; a taken name gives ErrConflict.
func CreateWebhook(ctx context.Context, db bun.IDB, w *AlertWebhook) error {
	if w.AlertTypes == nil {
		w.AlertTypes = []string{}
	}
	if _, err := db.NewInsert().Model(w).ExcludeColumn("id").Returning("*").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create webhook %q: %w", w.Name, ErrConflict)
		}
		return fmt.Errorf("store: create webhook: %w", err)
	}
	return nil
}

// UpdateWebhook stores w's fields; a taken name gives ErrConflict.
func UpdateWebhook(ctx context.Context, db bun.IDB, w *AlertWebhook, now time.Time) error {
	if w.AlertTypes == nil {
		w.AlertTypes = []string{}
	}
	w.UpdatedAt = now
	res, err := db.NewUpdate().Model(w).WherePK().
		Column("name", "url", "secret", "alert_types", "min_severity", "enabled", "updated_at").Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: update webhook %q: %w", w.Name, ErrConflict)
		}
		return fmt.Errorf("store: update webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update webhook %s: %w", w.ID, ErrNotFound)
	}
	return nil
}

// DeleteWebhook deletes a webhook and its delivery records.
func DeleteWebhook(ctx context.Context, db bun.IDB, id string) error {
	res, err := db.NewDelete().Model((*AlertWebhook)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete webhook %s: %w", id, ErrNotFound)
	}
	return nil
}

// FindWebhook returns one webhook.
func FindWebhook(ctx context.Context, db bun.IDB, id string) (*AlertWebhook, error) {
	var w AlertWebhook
	if err := db.NewSelect().Model(&w).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find webhook "+id)
	}
	return &w, nil
}

// ListWebhooks returns every webhook by name.
func ListWebhooks(ctx context.Context, db bun.IDB) ([]AlertWebhook, error) {
	var out []AlertWebhook
	if err := db.NewSelect().Model(&out).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	return out, nil
}

// WebhooksFor returns the enabled webhooks that take alerts of alertType
// at severity (an empty type list takes every type).
func WebhooksFor(ctx context.Context, db bun.IDB, alertType string, severities []string) ([]AlertWebhook, error) {
	var out []AlertWebhook
	err := db.NewSelect().Model(&out).Where("enabled").
		Where("(cardinality(alert_types) = 0 OR ? = ANY(alert_types))", alertType).
		Where("min_severity IN (?)", bun.List(severities)).Order("name").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks for %s: %w", alertType, err)
	}
	return out, nil
}

// Webhook delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one alert event sent (or being sent) to one webhook.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`

	ID          string     `bun:"id,pk,type:uuid,default:gen_random_uuid()"`
	WebhookID   string     `bun:"webhook_id,type:uuid,notnull"`
	AlertID     *string    `bun:"alert_id,type:uuid"`
	Event       string     `bun:"event,notnull"`
	Status      string     `bun:"status,notnull"`
	Attempts    int        `bun:"attempts,notnull"`
	LastStatus  int        `bun:"last_status,notnull"`
	LastError   string     `bun:"last_error,notnull"`
	CreatedAt   time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	DeliveredAt *time.Time `bun:"delivered_at"`
}

// CreateDelivery records a delivery about to be attempted.
func CreateDelivery(ctx context.Context, db bun.IDB, d *WebhookDelivery) error {
	d.Status = DeliveryPending
	if _, err := db.NewInsert().Model(d).ExcludeColumn("id").Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("store: create webhook delivery: %w", err)
	}
	return nil
}

// RecordDeliveryAttempt counts an attempt and its outcome. A delivered or
// finally failed delivery keeps its status; a missing one (its webhook
// deleted) is ErrNotFound.
func RecordDeliveryAttempt(ctx context.Context, db bun.IDB, id, status string, httpStatus int, lastError string, now time.Time) error {
	q := db.NewUpdate().Model((*WebhookDelivery)(nil)).Where("id = ?", id).
		Set("attempts = attempts + 1").Set("status = ?", status).Set("last_status = ?", httpStatus).Set("last_error = ?", lastError)
	if status == DeliveryDelivered {
		q = q.Set("delivered_at = ?", now)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: record webhook delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: webhook delivery %s: %w", id, ErrNotFound)
	}
	return nil
}

// FailDelivery marks a pending delivery failed for good (its retries ran
// out), keeping the last error recorded if there is one. A delivery no
// longer pending, or gone, is left as it is.
func FailDelivery(ctx context.Context, db bun.IDB, id, reason string) error {
	_, err := db.NewUpdate().Model((*WebhookDelivery)(nil)).Where("id = ?", id).Where("status = ?", DeliveryPending).
		Set("status = ?", DeliveryFailed).Set("last_error = CASE WHEN last_error = '' THEN ? ELSE last_error END", reason).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: fail webhook delivery: %w", err)
	}
	return nil
}

// FindDelivery returns one delivery.
func FindDelivery(ctx context.Context, db bun.IDB, id string) (*WebhookDelivery, error) {
	var d WebhookDelivery
	if err := db.NewSelect().Model(&d).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find webhook delivery "+id)
	}
	return &d, nil
}

// FindDeliveries returns a webhook's latest deliveries, newest first.
func FindDeliveries(ctx context.Context, db bun.IDB, webhookID string, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := db.NewSelect().Model(&out).Where("webhook_id = ?", webhookID).
		Order("created_at DESC", "id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	return out, nil
}
