package activities

// A stream session's reporting side: heartbeats, status reports to the
// workflow, pipeline events and the camera's health.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/store"
)

// heartbeatLoop heartbeats on its own: it does no I/O of its own (the SDK
// sends heartbeats in the background), so a stalled database or Temporal
// call elsewhere cannot make a healthy stream look dead.
func (s *stream) heartbeatLoop(ctx context.Context) {
	beat := time.NewTicker(s.set.HeartbeatEvery)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			activity.RecordHeartbeat(ctx, s.report())
		}
	}
}

// reportLoop reports to the workflow, logs pipeline events and marks the
// camera online at its first frame.
func (s *stream) reportLoop(ctx context.Context) {
	tell := time.NewTicker(s.set.ReportEvery)
	defer tell.Stop()
	var told contract.StreamReport
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			ictx, cancel := context.WithTimeout(ctx, s.set.IOTimeout)
			s.a.markStreamOnline(ictx, s.cameraID, true)
			cancel()
			told = s.tell(ctx, told)
		case <-tell.C:
			told = s.tell(ctx, told)
		}
	}
}

// tell reports to the workflow and logs what changed since prev as
// pipeline events: frames dropped and provider failures.
func (s *stream) tell(actx context.Context, prev contract.StreamReport) contract.StreamReport {
	r := s.report()
	ctx, cancel := context.WithTimeout(actx, s.set.IOTimeout)
	defer cancel()
	if s.a.Reporter != nil && s.runID != "" {
		if err := s.a.Reporter.ReportStream(ctx, s.cameraID, s.runID, r); err != nil && actx.Err() == nil {
			s.a.Log.Warn("stream report not delivered", slog.String("camera_id", s.cameraID), slog.String("error", err.Error()))
		}
	}
	now := s.a.now().UTC()
	if prev.Streaming() && r.LastFrameAt.After(prev.LastFrameAt) {
		// Keeps last_seen_at fresh, so the health schedule leaves a
		// streaming camera alone.
		s.a.markStreamOnline(ctx, s.cameraID, false)
	}
	if d := r.Counters.FramesDropped - prev.Counters.FramesDropped; d > 0 {
		s.a.pipelineEvent(ctx, s.cameraID, now, "frames_dropped", "warn",
			fmt.Sprintf("%d frames dropped: the provider is slower than the camera", d),
			map[string]any{"dropped": d, "sent": r.Counters.FramesSent - prev.Counters.FramesSent})
	}
	if d := r.Counters.ProviderErrors - prev.Counters.ProviderErrors; d > 0 {
		s.a.pipelineEvent(ctx, s.cameraID, now, "provider_error", "error",
			fmt.Sprintf("the provider failed on %d frames", d),
			map[string]any{"failed": d, "lastError": r.LastProviderError})
	}
	return r
}

// markStreamOnline records that the camera's stream delivers frames;
// first logs the stream's start as a pipeline event.
func (a *Activities) markStreamOnline(ctx context.Context, cameraID string, first bool) {
	now := a.now()
	ch, err := store.RecordCameraHealth(ctx, a.DB, cameraID, camera.HealthOnline, "", nil, now)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("camera health not recorded", slog.String("camera_id", cameraID), slog.String("error", err.Error()))
		}
		return
	}
	if first {
		a.pipelineEvent(ctx, cameraID, now.UTC(), "stream_started", "info", "camera stream delivers frames", nil)
	}
	if ch.Changed {
		a.healthChanged(ctx, cameraID, ch.From, ch.To, "")
		a.clear(ctx, alerts.TypeCameraOffline, cameraID, "the camera delivers frames again")
	}
}

// MarkCameraStreamFailed marks the camera offline (error for a failure
// that retrying will not mend) at every failed attempt, and logs the
// outage as a pipeline event at its first attempt (or when the health
// changed, e.g. after a probe found the camera online meanwhile).
func (a *Activities) MarkCameraStreamFailed(ctx context.Context, in contract.MarkCameraStreamInput) (contract.HealthChangeResult, error) {
	health := camera.HealthOffline
	if in.Code == contract.ErrTypeUnsupportedCodec || in.Code == contract.ErrTypeInvalidInput {
		health = camera.HealthError
	}
	now := a.now()
	if g := a.Stream.OfflineGrace; g > 0 {
		c, err := store.FindCameraByID(ctx, a.DB, in.CameraID)
		if errors.Is(err, store.ErrNotFound) {
			return contract.HealthChangeResult{}, temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)
		}
		if err != nil {
			return contract.HealthChangeResult{}, err
		}
		if c.Health == camera.HealthOnline && c.LastSeenAt != nil && now.Sub(*c.LastSeenAt) < g {
			// Frames came a moment ago: still online; the workflow marks
			// again at the next failure, past the grace.
			return contract.HealthChangeResult{From: c.Health, To: c.Health}, nil
		}
	}
	ch, err := store.RecordCameraHealth(ctx, a.DB, in.CameraID, health, in.Message, nil, now)
	if errors.Is(err, store.ErrNotFound) {
		return contract.HealthChangeResult{}, temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)
	}
	if err != nil {
		return contract.HealthChangeResult{}, err
	}
	if in.Attempt <= 1 || ch.Changed { // an outage is logged once, not per retry
		a.pipelineEvent(ctx, in.CameraID, now.UTC(), "stream_failed", "error", in.Message, map[string]any{
			"code": in.Code, "attempt": in.Attempt, "retryInMs": in.RetryIn.Milliseconds(),
		})
	}
	if ch.Changed {
		a.healthChanged(ctx, in.CameraID, ch.From, ch.To, in.Message)
		// One alert per outage: raised when the health changes (past the
		// offline grace), not at every failed attempt.
		a.raise(ctx, alerts.Spec{Type: alerts.TypeCameraOffline, SourceID: in.CameraID, Message: in.Message,
			Details: map[string]any{"code": in.Code, "health": ch.To}})
	}
	return contract.HealthChangeResult{Changed: ch.Changed, From: ch.From, To: ch.To}, nil
}

// healthChanged logs and publishes a camera's health change.
func (a *Activities) healthChanged(ctx context.Context, cameraID, from, to, message string) {
	a.Log.Info("camera health changed", slog.String("camera_id", cameraID), slog.String("from", from), slog.String("to", to))
	a.publish(ctx, live.ChannelCameras, live.Event{Type: live.EventCameraHealth, Data: map[string]string{
		"cameraId": cameraID, "from": from, "to": to, "message": message,
	}})
}

// pipelineEvent records an entry of the detection event log; the log is a
// diagnostic, so a failure to write it is only logged.
func (a *Activities) pipelineEvent(ctx context.Context, cameraID string, at time.Time, kind, level, msg string, details map[string]any) {
	ev := &store.DetectionEvent{OccurredAt: at, CameraID: &cameraID, Kind: kind, Level: level, Message: msg}
	if details != nil {
		ev.Details, _ = json.Marshal(details)
	}
	if err := store.InsertDetectionEvent(ctx, a.DB, ev); err != nil && ctx.Err() == nil {
		a.Log.Warn("detection event not recorded", slog.String("camera_id", cameraID), slog.String("kind", kind), slog.String("error", err.Error()))
	}
}
