// Package recognizer gives the API and the workers the currently
// configured face provider, rebuilt when its configuration changes.
package recognizer

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/egress"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/store"
)

// Manager loads the provider configuration from the database and keeps
// one provider client per configuration.
type Manager struct {
	db        *bun.DB
	box       *secrets.Box
	inProcess provider.Provider // the built-in engine, for kind builtin without a URL
	// Egress, when set, is the policy every provider connection goes
	// through (ROLLCALL_PROVIDER_ALLOW_CIDRS).
	Egress *egress.Policy

	mu  sync.Mutex
	cfg provider.Config
	cur provider.Provider
}

// New returns a Manager; inProcess serves the builtin kind without a URL.
func New(db *bun.DB, box *secrets.Box, inProcess provider.Provider) *Manager {
	return &Manager{db: db, box: box, inProcess: inProcess}
}

// Current returns the provider of the stored configuration, and that
// configuration (API key included: never log or return it).
func (m *Manager) Current(ctx context.Context) (provider.Provider, provider.Config, error) {
	row, err := store.GetProviderConfig(ctx, m.db)
	if err != nil {
		return nil, provider.Config{}, err
	}
	cfg, err := ConfigOf(row, m.box)
	if err != nil {
		return nil, provider.Config{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil && sameConfig(m.cfg, cfg) {
		return m.cur, cfg, nil
	}
	p, err := provider.New(m.dialing(cfg), m.inProcess)
	if err != nil {
		return nil, provider.Config{}, &ConfigError{Msg: "the stored provider configuration is not usable: " + err.Error()}
	}
	m.cur, m.cfg = p, cfg
	return p, cfg, nil
}

// Build returns a provider for cfg without storing it (to test a
// configuration before saving it).
func (m *Manager) Build(cfg provider.Config) (provider.Provider, error) {
	return provider.New(m.dialing(cfg), m.inProcess)
}

// dialing gives cfg the manager's egress dialer.
func (m *Manager) dialing(cfg provider.Config) provider.Config {
	if m.Egress != nil {
		cfg.Dial = m.Egress.Dialer().DialContext
	}
	return cfg
}

// sameConfig compares two configurations, their dialers aside.
func sameConfig(a, b provider.Config) bool {
	return a.Kind == b.Kind && a.URL == b.URL && a.APIKey == b.APIKey && a.SimilarityThreshold == b.SimilarityThreshold &&
		a.DetectionThreshold == b.DetectionThreshold && a.Timeout == b.Timeout && a.MaxInFlight == b.MaxInFlight
}

// ConfigOf turns a stored configuration into a provider.Config, opening
// the sealed API key.
func ConfigOf(row *store.ProviderConfig, box *secrets.Box) (provider.Config, error) {
	cfg := provider.Config{
		Kind: row.Kind, URL: row.URL,
		SimilarityThreshold: row.SimilarityThreshold, DetectionThreshold: row.DetectionThreshold,
		Timeout: time.Duration(row.TimeoutMs) * time.Millisecond, MaxInFlight: row.MaxInFlight,
	}
	if row.APIKey != "" {
		key, err := box.Open(row.APIKey, APIKeyAAD)
		if err != nil {
			return provider.Config{}, &ConfigError{Msg: "the stored provider API key cannot be decrypted (was ROLLCALL_ENCRYPTION_KEY changed?); save the configuration with the key again"}
		}
		cfg.APIKey = string(key)
	}
	return cfg, nil
}

// APIKeyAAD binds a sealed provider API key to its use.
const APIKeyAAD = "provider-api-key"

// ConfigError says the stored provider configuration cannot be used; an
// operator fixes it with PUT /detections/provider/config. Its message
// holds no secret.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }
