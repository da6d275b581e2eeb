// Package testenv gives tests real services of the local stack (started by
// deploy/stack.sh): a fresh, migrated PostgreSQL database per test and a
// Redis key prefix per test.
//
// Without the stack's variables a test is skipped locally, but fails under
// CI (CI=true), so a CI run cannot pass by testing nothing.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/store"
)

// Require returns the value of an environment variable the test needs,
// skipping (locally) or failing (CI) when it is unset.
func Require(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		msg := name + " is not set: start the stack with `make test` (or eval \"$(deploy/stack.sh env)\")"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return v
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// DB returns a fresh database cloned from a migrated template, dropped when
// the test ends.
func DB(tb testing.TB) *bun.DB {
	tb.Helper()
	adminURL := Require(tb, "ROLLCALL_TEST_DATABASE_URL")
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, adminURL) })
	if templateErr != nil {
		tb.Fatalf("testenv: template database: %v", templateErr)
	}
	admin, err := store.Open(ctx, adminURL, 2)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	defer admin.Close()
	name := "rc_test_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	db, err := store.Open(ctx, withDatabase(adminURL, name), 10)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() {
		_ = db.Close()
		admin, err := store.Open(context.Background(), adminURL, 1)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db
}

// DatabaseURL returns the URL of a fresh database (as DB) for code that opens its own connections.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	db := DB(tb)
	var name string
	if err := db.QueryRowContext(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return withDatabase(os.Getenv("ROLLCALL_TEST_DATABASE_URL"), name)
}

// ensureTemplate creates (once per migration set, shared by all test
// processes) a migrated database to clone.
func ensureTemplate(ctx context.Context, adminURL string) (string, error) {
	name := "rc_tpl_" + migrationsHash()
	admin, err := store.Open(ctx, adminURL, 2)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Serialise concurrent test binaries creating the same template.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7700331)"); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7700331)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_tmp"
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	db, err := store.Open(ctx, withDatabase(adminURL, building), 2)
	if err != nil {
		return "", err
	}
	_, err = store.MigrateUp(ctx, db)
	_ = db.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(store.MigrationFiles(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(store.MigrationFiles(), path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(url, name string) string {
	base, query, _ := strings.Cut(url, "?")
	i := strings.LastIndex(base, "/")
	out := base[:i+1] + name
	if query != "" {
		out += "?" + query
	}
	return out
}

// Redis returns a client of the stack's Redis and a key prefix unique to the
// test; keys under the prefix are deleted when the test ends.
func Redis(tb testing.TB) (rueidis.Client, string) {
	tb.Helper()
	addr := Require(tb, "ROLLCALL_REDIS_ADDR")
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}})
	if err != nil {
		tb.Fatalf("testenv: redis: %v", err)
	}
	prefix := "rctest:" + randomHex(6) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, _ := c.Do(ctx, c.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
		if len(keys) > 0 {
			_ = c.Do(ctx, c.B().Del().Key(keys...).Build()).Error()
		}
		c.Close()
	})
	return c, prefix
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
