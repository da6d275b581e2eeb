package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// SystemMetric is one sample of a host or service figure.
type SystemMetric struct {
	bun.BaseModel `bun:"table:system_metrics"`

	ID         int64             `bun:"id,pk,autoincrement"`
	RecordedAt time.Time         `bun:"recorded_at,notnull"`
	Name       string            `bun:"name,notnull"`
	Value      float64           `bun:"value,notnull"`
	Labels     map[string]string `bun:"labels,type:jsonb,notnull"`
}

// MetricPoint is one step of a downsampled metric history: the samples of
// one label set whose time falls in [At, At+step).
type MetricPoint struct {
	At     time.Time         `bun:"bucket"`
	Labels map[string]string `bun:"labels,type:jsonb"`
	Avg    float64           `bun:"avg"`
	Min    float64           `bun:"min"`
	Max    float64           `bun:"max"`
	Count  int               `bun:"count"`
}

// InsertSystemMetrics stores samples in one statement.
func InsertSystemMetrics(ctx context.Context, db bun.IDB, samples []SystemMetric) error {
	if len(samples) == 0 {
		return nil
	}
	for i := range samples {
		if samples[i].Labels == nil {
			samples[i].Labels = map[string]string{}
		}
	}
	if _, err := db.NewInsert().Model(&samples).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert system metrics: %w", err)
	}
	return nil
}

// SystemMetricHistory returns metric name's samples in [from, to)
// downsampled to steps of step (buckets aligned on from): average,
// minimum, maximum and count per step and label set, ordered by label set
// then time. Steps without samples are absent.
func SystemMetricHistory(ctx context.Context, db bun.IDB, name string, from, to time.Time, step time.Duration) ([]MetricPoint, error) {
	if step < time.Second {
		return nil, fmt.Errorf("store: metric history: step %s under a second", step)
	}
	interval := fmt.Sprintf("%d seconds", int64(step/time.Second))
	var out []MetricPoint
	err := db.NewSelect().TableExpr("system_metrics").
		ColumnExpr("date_bin(?::interval, recorded_at, ?) AS bucket", interval, from).
		ColumnExpr("labels").
		ColumnExpr("avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count").
		Where("name = ?", name).Where("recorded_at >= ?", from).Where("recorded_at < ?", to).
		GroupExpr("bucket, labels").
		OrderExpr("labels::text, bucket").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: metric history %s: %w", name, err)
	}
	return out, nil
}

// LatestSystemMetrics returns the latest sample of each metric and label
// set recorded at or after since (bounding the scan to recent rows).
func LatestSystemMetrics(ctx context.Context, db bun.IDB, since time.Time) ([]SystemMetric, error) {
	var out []SystemMetric
	err := db.NewSelect().Model(&out).
		DistinctOn("name, labels").
		Where("recorded_at >= ?", since).
		OrderExpr("name, labels, recorded_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: latest system metrics: %w", err)
	}
	return out, nil
}

// LatestSystemMetric returns the latest sample of metric name without
// labels, or ErrNotFound.
func LatestSystemMetric(ctx context.Context, db bun.IDB, name string) (*SystemMetric, error) {
	m := new(SystemMetric)
	err := db.NewSelect().Model(m).Where("name = ?", name).Where("labels = '{}'::jsonb").
		OrderExpr("recorded_at DESC, id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "latest metric "+name)
	}
	return m, nil
}

// PurgeSystemMetrics deletes the samples recorded before cutoff and says
// how many went.
func PurgeSystemMetrics(ctx context.Context, db bun.IDB, cutoff time.Time) (int64, error) {
	res, err := db.NewDelete().TableExpr("system_metrics").Where("recorded_at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: purge system metrics: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SystemService is the last check of one service. LastError and
// LastErrorAt keep the last failure after the service has recovered.
type SystemService struct {
	bun.BaseModel `bun:"table:system_services"`

	Name        string         `bun:"name,pk"`
	Kind        string         `bun:"kind,notnull"`
	Status      string         `bun:"status,notnull"`
	LatencyMs   float64        `bun:"latency_ms,notnull"`
	CheckedAt   time.Time      `bun:"checked_at,notnull"`
	Details     map[string]any `bun:"details,type:jsonb,notnull"`
	LastError   string         `bun:"last_error,notnull"`
	LastErrorAt *time.Time     `bun:"last_error_at"`
}

// UpsertSystemServices records checks: each row's status, latency, time
// and details replace the stored ones; its LastError and LastErrorAt do
// only when set (a passing check keeps the last failure).
func UpsertSystemServices(ctx context.Context, db bun.IDB, services []SystemService) error {
	if len(services) == 0 {
		return nil
	}
	for i := range services {
		if services[i].Details == nil {
			services[i].Details = map[string]any{}
		}
	}
	_, err := db.NewInsert().Model(&services).
		On("CONFLICT (name) DO UPDATE").
		Set("kind = EXCLUDED.kind, status = EXCLUDED.status, latency_ms = EXCLUDED.latency_ms").
		Set("checked_at = EXCLUDED.checked_at, details = EXCLUDED.details").
		Set("last_error = CASE WHEN EXCLUDED.last_error_at IS NULL THEN ?TableAlias.last_error ELSE EXCLUDED.last_error END").
		Set("last_error_at = COALESCE(EXCLUDED.last_error_at, ?TableAlias.last_error_at)").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: upsert system services: %w", err)
	}
	return nil
}

// ListSystemServices returns every recorded service by name.
func ListSystemServices(ctx context.Context, db bun.IDB) ([]SystemService, error) {
	var out []SystemService
	if err := db.NewSelect().Model(&out).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list system services: %w", err)
	}
	return out, nil
}
