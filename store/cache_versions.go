package store

import (
	"context"

	"github.com/uptrace/bun"
)

// Cache version names (rows of cache_versions, bumped by triggers).
const CacheCameras = "cameras"

// CacheVersion returns the current version of a cached resource. It changes
// in the same transaction as any change to the resource.
func CacheVersion(ctx context.Context, db bun.IDB, name string) (int64, error) {
	var v int64
	if err := db.NewSelect().Table("cache_versions").Column("version").Where("name = ?", name).Scan(ctx, &v); err != nil {
		return 0, notFound(err, "cache version "+name)
	}
	return v, nil
}
