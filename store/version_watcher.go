package store

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// VersionWatcher follows cache versions through PostgreSQL notifications,
// so readers learn a version without a query. While it is not connected
// (starting, or the listener connection broke) Version falls back to
// reading the table, so a reader never sees a version older than the
// committed one for longer than a notification takes to arrive.
type VersionWatcher struct {
	db  *bun.DB
	log *slog.Logger

	mu       sync.RWMutex
	live     bool
	versions map[string]int64
}

// NewVersionWatcher returns a watcher; call Run to start following.
func NewVersionWatcher(db *bun.DB, log *slog.Logger) *VersionWatcher {
	return &VersionWatcher{db: db, log: log, versions: map[string]int64{}}
}

// resync is how often the watcher re-reads every version even when
// notifications flow, bounding the damage of a silently lost one.
const resync = 30 * time.Second

// Run listens until ctx ends, reconnecting with backoff.
func (w *VersionWatcher) Run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := w.follow(ctx)
		w.setLive(false)
		if ctx.Err() != nil {
			return
		}
		w.log.Warn("cache version listener interrupted; reading versions per request meanwhile",
			slog.String("error", err.Error()), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (w *VersionWatcher) follow(ctx context.Context) error {
	ln := pgdriver.NewListener(w.db)
	defer ln.Close()
	// Closing the listener is what interrupts a pending receive.
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	if err := ln.Listen(ctx, "cache_versions"); err != nil {
		return err
	}
	// Listening first, loading second: no change can fall between them.
	if err := w.load(ctx); err != nil {
		return err
	}
	for {
		_, payload, err := ln.ReceiveTimeout(ctx, resync)
		var ne net.Error
		switch {
		case err == nil:
			w.apply(payload)
		case errors.As(err, &ne) && ne.Timeout():
			if err := w.load(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (w *VersionWatcher) load(ctx context.Context) error {
	var rows []struct {
		Name    string `bun:"name"`
		Version int64  `bun:"version"`
	}
	if err := w.db.NewSelect().Table("cache_versions").Column("name", "version").Scan(ctx, &rows); err != nil {
		return err
	}
	w.mu.Lock()
	for _, r := range rows {
		w.versions[r.Name] = max(w.versions[r.Name], r.Version)
	}
	w.live = true
	w.mu.Unlock()
	return nil
}

// apply takes a "name:version" notification; versions only move forward.
func (w *VersionWatcher) apply(payload string) {
	name, v, ok := strings.Cut(payload, ":")
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil {
		return
	}
	w.mu.Lock()
	w.versions[name] = max(w.versions[name], n)
	w.mu.Unlock()
}

func (w *VersionWatcher) setLive(live bool) {
	w.mu.Lock()
	w.live = live
	w.mu.Unlock()
}

// Version returns the current version of a cached resource.
func (w *VersionWatcher) Version(ctx context.Context, name string) (int64, error) {
	w.mu.RLock()
	v, ok := w.versions[name]
	live := w.live
	w.mu.RUnlock()
	if live && ok {
		return v, nil
	}
	return CacheVersion(ctx, w.db, name)
}
