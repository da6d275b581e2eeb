package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ProviderConfig is the active detection provider's configuration and its
// last health check. APIKey is sealed.
type ProviderConfig struct {
	bun.BaseModel `bun:"table:detection_provider_configs"`

	ID                  int16      `bun:"id,pk"`
	Kind                string     `bun:"kind,notnull"`
	URL                 string     `bun:"url,notnull"`
	APIKey              string     `bun:"api_key,notnull"`
	SimilarityThreshold float64    `bun:"similarity_threshold,notnull"`
	DetectionThreshold  float64    `bun:"detection_threshold,notnull"`
	TimeoutMs           int        `bun:"timeout_ms,notnull"`
	MaxInFlight         int        `bun:"max_in_flight,notnull"`
	Health              string     `bun:"health,notnull"`
	HealthError         string     `bun:"health_error,notnull"`
	HealthLatencyMs     *int       `bun:"health_latency_ms"`
	HealthCheckedAt     *time.Time `bun:"health_checked_at"`
	UpdatedAt           time.Time  `bun:"updated_at,notnull"`
}

// GetProviderConfig returns the active provider configuration.
func GetProviderConfig(ctx context.Context, db bun.IDB) (*ProviderConfig, error) {
	c := new(ProviderConfig)
	if err := db.NewSelect().Model(c).Where("id = 1").Scan(ctx); err != nil {
		return nil, notFound(err, "provider config")
	}
	return c, nil
}

// SaveProviderConfig writes the configurable fields of c; its health is
// reset to unknown until the next check.
func SaveProviderConfig(ctx context.Context, db bun.IDB, c *ProviderConfig) error {
	c.ID, c.UpdatedAt, c.Health, c.HealthError = 1, time.Now(), "unknown", ""
	c.HealthLatencyMs, c.HealthCheckedAt = nil, nil
	if _, err := db.NewUpdate().Model(c).WherePK().
		Column("kind", "url", "api_key", "similarity_threshold", "detection_threshold", "timeout_ms", "max_in_flight",
			"health", "health_error", "health_latency_ms", "health_checked_at", "updated_at").
		Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("store: save provider config: %w", err)
	}
	return nil
}

// RecordProviderHealth stores the outcome of a provider health check.
func RecordProviderHealth(ctx context.Context, db bun.IDB, healthy bool, errMsg string, latency time.Duration, at time.Time) error {
	health := "up"
	if !healthy {
		health = "down"
	}
	ms := int(latency.Milliseconds())
	if _, err := db.NewUpdate().Model((*ProviderConfig)(nil)).Where("id = 1").
		Set("health = ?", health).Set("health_error = ?", errMsg).
		Set("health_latency_ms = ?", ms).Set("health_checked_at = ?", at).Exec(ctx); err != nil {
		return fmt.Errorf("store: record provider health: %w", err)
	}
	return nil
}
