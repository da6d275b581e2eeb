package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// UserPreferences are a user's stored choices (internal/settings checks
// them): the main ones in columns, the rest in Settings.
type UserPreferences struct {
	bun.BaseModel `bun:"table:user_preferences"`

	UserID    string          `bun:"user_id,pk,type:uuid"`
	Language  string          `bun:"language,notnull"`
	Timezone  string          `bun:"timezone,notnull"`
	Theme     string          `bun:"theme,notnull"`
	Settings  json.RawMessage `bun:"settings,type:jsonb,notnull"`
	UpdatedAt time.Time       `bun:"updated_at,notnull"`
}

// GetPreferences returns a user's stored choices (ErrNotFound: none yet).
func GetPreferences(ctx context.Context, db bun.IDB, userID string) (*UserPreferences, error) {
	p := new(UserPreferences)
	if err := db.NewSelect().Model(p).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, notFound(err, "preferences")
	}
	return p, nil
}

// SavePreferences stores a user's choices.
func SavePreferences(ctx context.Context, db bun.IDB, p *UserPreferences) error {
	p.UpdatedAt = time.Now()
	if _, err := db.NewInsert().Model(p).
		On("CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language, timezone = EXCLUDED.timezone, theme = EXCLUDED.theme, settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("store: save preferences: %w", err)
	}
	return nil
}
