package activities

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/alerts"
)

// UnknownFaceAlertEvery is how often, at most, a camera's unknown faces
// count on its unknown_face alert: the alert counts sightings in batches,
// not one database write per face.
const UnknownFaceAlertEvery = time.Minute

// unknownFaceThrottle remembers, per camera, when unknown faces last
// counted on the alert.
type unknownFaceThrottle struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (t *unknownFaceThrottle) due(cameraID string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	if prev, ok := t.last[cameraID]; ok && now.Sub(prev) < UnknownFaceAlertEvery {
		return false
	}
	t.last[cameraID] = now
	return true
}

// unknownFaces notes faces nobody is registered for on a camera's
// unknown_face alert, at most once per UnknownFaceAlertEvery per camera,
// in the background so the frame loop never waits on it.
func (a *Activities) unknownFaces(ctx context.Context, cameraID string, n int, at time.Time) {
	if a.Alerts == nil || !a.unknownThrottle.due(cameraID, at) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		a.raise(ctx, alerts.Spec{Type: alerts.TypeUnknownFace, SourceID: cameraID,
			Message: fmt.Sprintf("%d face(s) nobody is registered for seen on this camera", n),
			Details: map[string]any{"lastSeenAt": at.UTC(), "faces": n}})
	}()
}

// ProviderSlowAfter is the health-check latency past which the provider is
// reported slow.
const ProviderSlowAfter = 2 * time.Second

// raise raises an alert; alerting is a side channel, so a failure is
// logged, never the activity's failure.
func (a *Activities) raise(ctx context.Context, spec alerts.Spec) {
	if a.Alerts == nil {
		return
	}
	if _, err := a.Alerts.Raise(ctx, spec); err != nil && ctx.Err() == nil {
		a.Log.Warn("alert not raised", slog.String("type", spec.Type), slog.String("source_id", spec.SourceID), slog.String("error", err.Error()))
	}
}

// clear resolves the open alert of a cause that cleared.
func (a *Activities) clear(ctx context.Context, typ, sourceID, why string) {
	if a.Alerts == nil {
		return
	}
	if _, err := a.Alerts.Clear(ctx, typ, sourceID, why); err != nil && ctx.Err() == nil {
		a.Log.Warn("alert not cleared", slog.String("type", typ), slog.String("source_id", sourceID), slog.String("error", err.Error()))
	}
}

// providerHealthAlerts raises or clears the provider's alerts after a
// health check.
func (a *Activities) providerHealthAlerts(ctx context.Context, source string, err error, took time.Duration) {
	if err != nil {
		a.raise(ctx, alerts.Spec{Type: alerts.TypeProviderDown, SourceID: source, Message: "face provider health check failed: " + err.Error()})
		return
	}
	a.clear(ctx, alerts.TypeProviderDown, source, "the provider answers its health check")
	if took > ProviderSlowAfter {
		a.raise(ctx, alerts.Spec{Type: alerts.TypeProviderSlow, SourceID: source,
			Message: fmt.Sprintf("face provider health check took %s (over %s)", took.Round(time.Millisecond), ProviderSlowAfter),
			Details: map[string]any{"latencyMs": took.Milliseconds()}})
		return
	}
	a.clear(ctx, alerts.TypeProviderSlow, source, "the provider answers in time")
}

// odooRunAlerts raises an alert for a sync run that failed or left failed
// records, and clears it when a run succeeds.
func (a *Activities) odooRunAlerts(ctx context.Context, in contract.OdooFinishInput) {
	switch in.Status {
	case contract.OdooRunSucceeded:
		a.clear(ctx, alerts.TypeOdooSyncFailed, "odoo", "a sync run succeeded")
	case contract.OdooRunFailed:
		a.raise(ctx, alerts.Spec{Type: alerts.TypeOdooSyncFailed, SourceID: "odoo",
			Message: "Odoo sync run failed: " + in.Error, Details: map[string]any{"runId": in.RunID}})
	case contract.OdooRunPartial:
		msg := "Odoo refused some attendance records; see GET /odoo/logs"
		if len(in.Missing) > 0 {
			msg = fmt.Sprintf("%d employee(s) not found in Odoo; their attendance is not synced", len(in.Missing))
		}
		a.raise(ctx, alerts.Spec{Type: alerts.TypeOdooSyncFailed, SourceID: "odoo", Message: msg,
			Details: map[string]any{"runId": in.RunID, "missing": in.Missing}})
	}
}
