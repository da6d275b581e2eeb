// Package activities holds the side effects Rollcall's workflows call:
// database, FFmpeg, providers, MinIO, Odoo. Activities are methods on one
// Activities struct whose fields are its dependencies.
package activities

import (
	"log/slog"

	"github.com/uptrace/bun"
)

// Activities carries the dependencies of every activity.
type Activities struct {
	DB  *bun.DB
	Log *slog.Logger
}
