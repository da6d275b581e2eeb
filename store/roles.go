package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// RoleRow mirrors a built-in role so users.role can reference it.
type RoleRow struct {
	bun.BaseModel `bun:"table:roles"`

	Name        string    `bun:"name,pk"`
	Description string    `bun:"description,notnull"`
	Permissions []string  `bun:"permissions,array,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull,default:current_timestamp"`
}

// UpsertRoles writes the given roles, replacing descriptions and permissions.
func UpsertRoles(ctx context.Context, db bun.IDB, roles []RoleRow) error {
	for i := range roles {
		roles[i].UpdatedAt = time.Now()
	}
	if _, err := db.NewInsert().Model(&roles).
		On("CONFLICT (name) DO UPDATE").
		Set("description = EXCLUDED.description, permissions = EXCLUDED.permissions, updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("store: upsert roles: %w", err)
	}
	return nil
}
