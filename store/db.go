// Package store is Rollcall's PostgreSQL persistence: Bun models, queries (one
// file per aggregate) and embedded SQL migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned (wrapped) when a write breaks a uniqueness rule.
var ErrConflict = errors.New("store: conflict")

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, dsn string, maxConns int) (*bun.DB, error) {
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithApplicationName("rollcall")))
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// migrationLockKey is the pg_advisory_lock key that serialises migrators
// across processes (any 64-bit constant unique to Rollcall).
const migrationLockKey = 0x726f6c6c63616c6c // "rollcall"

func newMigrator(db *bun.DB) (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrationFiles); err != nil {
		return nil, fmt.Errorf("store: discover migrations: %w", err)
	}
	return migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// withMigrationLock runs fn while holding a session-level advisory lock, so
// concurrent starts of several replicas migrate once; the lock is released
// by PostgreSQL even if this process dies.
func withMigrationLock(ctx context.Context, db *bun.DB, fn func() error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migration lock connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", int64(migrationLockKey)); err != nil {
		return fmt.Errorf("store: take migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", int64(migrationLockKey))
	}()
	return fn()
}

// MigrateUp applies every pending migration and returns their names.
func MigrateUp(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	var applied []string
	err = withMigrationLock(ctx, db, func() error {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("store: init migrations: %w", err)
		}
		group, err := m.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		for _, mig := range group.Migrations {
			applied = append(applied, mig.Name+"_"+mig.Comment)
		}
		return nil
	})
	return applied, err
}

// MigrateDown rolls back the last group of migrations and returns their names.
func MigrateDown(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	var rolled []string
	err = withMigrationLock(ctx, db, func() error {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("store: init migrations: %w", err)
		}
		group, err := m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("store: rollback: %w", err)
		}
		for _, mig := range group.Migrations {
			rolled = append(rolled, mig.Name+"_"+mig.Comment)
		}
		return nil
	})
	return rolled, err
}

// MigrationStatus describes one known migration.
type MigrationStatus struct {
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// MigrationsStatus lists every embedded migration and whether it is applied.
func MigrationsStatus(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	m, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("store: init migrations: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, len(ms))
	for i, mig := range ms {
		out[i] = MigrationStatus{Name: mig.Name + "_" + mig.Comment, Applied: mig.IsApplied(), AppliedAt: mig.MigratedAt}
	}
	return out, nil
}

// ErrMissingReference: a row refers to one that does not exist (a camera
// or face profile deleted meanwhile).
var ErrMissingReference = errors.New("refers to a row that no longer exists")

// isForeignKeyViolation reports whether err is PostgreSQL's
// foreign_key_violation.
func isForeignKeyViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23503"
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

// notFound maps sql.ErrNoRows to ErrNotFound with context.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// Logger returns a query hook that logs slow or failed queries through slog.
func Logger(log *slog.Logger, slow time.Duration) bun.QueryHook {
	return &queryLogger{log: log, slow: slow}
}

type queryLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func (h *queryLogger) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *queryLogger) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	d := time.Since(e.StartTime)
	switch {
	case e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows):
		h.log.LogAttrs(ctx, slog.LevelWarn, "query failed", slog.String("op", e.Operation()), slog.Duration("duration", d), slog.String("error", e.Err.Error()))
	case d >= h.slow:
		h.log.LogAttrs(ctx, slog.LevelWarn, "slow query", slog.String("op", e.Operation()), slog.Duration("duration", d))
	}
}

// MigrationFiles returns the embedded migration files (tests hash them).
func MigrationFiles() fs.FS { return migrationFiles }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
