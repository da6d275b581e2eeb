package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/rollcall/rollcall/internal/sysmetrics"
	"github.com/rollcall/rollcall/store"
)

// monitor is the configured system monitor, or one that measures the host
// and the database only.
func (a *Activities) monitor() *sysmetrics.Monitor {
	if a.System != nil {
		return a.System
	}
	return &sysmetrics.Monitor{DB: a.DB, Now: a.Now}
}

// CollectSystemMetrics samples the host and service figures and stores
// them under one time; it returns how many were stored. A figure that
// cannot be read is logged and left out (the others are still worth
// storing); only a failure to store them fails the activity.
func (a *Activities) CollectSystemMetrics(ctx context.Context) (int, error) {
	samples, err := a.monitor().Collect(ctx)
	if err != nil {
		a.Log.Warn("some system figures not read", slog.String("error", err.Error()))
	}
	at := a.now().UTC()
	rows := make([]store.SystemMetric, len(samples))
	for i, s := range samples {
		rows[i] = store.SystemMetric{RecordedAt: at, Name: s.Name, Value: s.Value, Labels: s.Labels}
	}
	if err := store.InsertSystemMetrics(ctx, a.DB, rows); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// CheckSystemServices checks every service and records each one's status,
// latency and last error in system_services; it returns how many were
// checked.
func (a *Activities) CheckSystemServices(ctx context.Context) (int, error) {
	checked := a.monitor().CheckServices(ctx)
	if err := store.UpsertSystemServices(ctx, a.DB, sysmetrics.Rows(checked)); err != nil {
		return 0, err
	}
	return len(checked), nil
}

// PurgeSystemMetrics deletes the samples recorded before cutoff.
func (a *Activities) PurgeSystemMetrics(ctx context.Context, cutoff time.Time) (int64, error) {
	return store.PurgeSystemMetrics(ctx, a.DB, cutoff)
}
