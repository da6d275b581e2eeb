package activities

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/store"
)

const (
	defaultCameraProbeTimeout  = 10 * time.Second
	defaultCameraSnapshotLimit = 15 * time.Second
)

// cameraInput loads a camera and its decrypted credentials for FFmpeg.
func (a *Activities) cameraInput(ctx context.Context, cameraID string, timeout time.Duration) (ffmpeg.Input, error) {
	_, in, err := a.loadCamera(ctx, cameraID, timeout)
	return in, err
}

// loadCamera loads a camera and its FFmpeg input (credentials decrypted).
// A missing camera or unreadable credentials are non-retryable errors.
func (a *Activities) loadCamera(ctx context.Context, cameraID string, timeout time.Duration) (*store.Camera, ffmpeg.Input, error) {
	c, err := store.FindCameraByID(ctx, a.DB, cameraID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ffmpeg.Input{}, temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)
	}
	if err != nil {
		return nil, ffmpeg.Input{}, err
	}
	user, pass, err := camera.OpenCredentials(a.Secrets, c.ID, c.Credentials)
	if err != nil {
		// Never wrap the cause: it may hold key material details.
		return nil, ffmpeg.Input{}, temporal.NewNonRetryableApplicationError("stored camera credentials cannot be decrypted (was ROLLCALL_ENCRYPTION_KEY changed?)", contract.ErrTypeCredentials, nil)
	}
	return c, ffmpeg.Input{URL: c.StreamURL, Username: user, Password: pass, Timeout: timeout}, nil
}

// ProbeCamera runs ffprobe on the camera and returns its stream info. A
// camera failure is an application error typed by its class.
func (a *Activities) ProbeCamera(ctx context.Context, cameraID string) (contract.ProbeOutcome, error) {
	defer keepAlive(ctx)()
	in, err := a.cameraInput(ctx, cameraID, defaultCameraProbeTimeout)
	if err != nil {
		return contract.ProbeOutcome{}, err
	}
	start := time.Now()
	info, err := a.FFmpeg.Probe(ctx, in)
	if err != nil {
		return contract.ProbeOutcome{}, cameraError(err)
	}
	return contract.ProbeOutcome{OK: true, Codec: info.Codec, Width: info.Width, Height: info.Height, FPS: info.FPS,
		LatencyMs: time.Since(start).Milliseconds()}, nil
}

// RecordCameraProbe stores a probe's outcome as the camera's health and
// records a camera event when the health changed.
//
// Only cameras that are not active are marked: an active camera's health
// follows its stream.
func (a *Activities) RecordCameraProbe(ctx context.Context, cameraID string, o contract.ProbeOutcome) (contract.HealthChangeResult, error) {
	health, lastErr := camera.HealthOnline, ""
	var info *store.StreamInfo
	if o.OK {
		info = &store.StreamInfo{Codec: o.Codec, Width: o.Width, Height: o.Height, FPS: o.FPS}
	} else {
		health, lastErr = camera.HealthOffline, o.Message
		if o.Code == contract.ErrTypeUnsupportedCodec || o.Code == contract.ErrTypeInvalidInput {
			health = camera.HealthError
		}
	}
	c, err := store.FindCameraByID(ctx, a.DB, cameraID)
	if errors.Is(err, store.ErrNotFound) {
		return contract.HealthChangeResult{}, temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)
	}
	if err != nil {
		return contract.HealthChangeResult{}, err
	}
	if c.State == camera.StateActive {
		// An active camera's health is its stream's (frames, or none): a
		// probe answering does not make it online.
		return contract.HealthChangeResult{From: c.Health, To: c.Health}, nil
	}
	ch, err := store.RecordCameraHealth(ctx, a.DB, cameraID, health, lastErr, info, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return contract.HealthChangeResult{}, temporal.NewNonRetryableApplicationError("camera no longer exists", contract.ErrTypeCameraNotFound, nil)
	}
	if err != nil {
		return contract.HealthChangeResult{}, err
	}
	if ch.Changed {
		a.healthChanged(ctx, cameraID, ch.From, ch.To, lastErr)
	}
	return contract.HealthChangeResult{Changed: ch.Changed, From: ch.From, To: ch.To}, nil
}

// CaptureSnapshot takes one JPEG from the camera and stores it under in.Key.
func (a *Activities) CaptureSnapshot(ctx context.Context, in contract.SnapshotInput) (contract.SnapshotResult, error) {
	defer keepAlive(ctx)()
	fin, err := a.cameraInput(ctx, in.CameraID, defaultCameraSnapshotLimit)
	if err != nil {
		return contract.SnapshotResult{}, err
	}
	jpeg, err := a.FFmpeg.Snapshot(ctx, fin)
	if err != nil {
		return contract.SnapshotResult{}, cameraError(err)
	}
	if err := a.Blobs.Put(ctx, in.Key, bytes.NewReader(jpeg), int64(len(jpeg)), "image/jpeg"); err != nil {
		return contract.SnapshotResult{}, err
	}
	return contract.SnapshotResult{Key: in.Key, Size: int64(len(jpeg)), TakenAt: a.now().UTC()}, nil
}

// CamerasToProbe lists the active cameras not seen since staleBefore.
func (a *Activities) CamerasToProbe(ctx context.Context, staleBefore time.Time) ([]string, error) {
	return store.CamerasToProbe(ctx, a.DB, staleBefore)
}

// CameraStreamWanted reports whether the camera exists and is active (its
// stream should run).
func (a *Activities) CameraStreamWanted(ctx context.Context, cameraID string) (bool, error) {
	c, err := store.FindCameraByID(ctx, a.DB, cameraID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.State == camera.StateActive, nil
}

// ReconcileCameraStreams starts the stream workflow of every active camera
// that has none, and stops every stream whose camera is not active.
func (a *Activities) ReconcileCameraStreams(ctx context.Context) (contract.ReconcileResult, error) {
	// Running streams first, then the cameras: a camera activated between
	// the two reads is then seen active (its new stream is kept), where the
	// other order would see its stream without the activation and stop it.
	running, err := a.Streams.Running(ctx)
	if err != nil {
		return contract.ReconcileResult{}, err
	}
	active, err := store.ActiveCameraIDs(ctx, a.DB)
	if err != nil {
		return contract.ReconcileResult{}, err
	}
	var res contract.ReconcileResult
	for _, id := range active {
		if !slices.Contains(running, id) {
			if err := a.Streams.Start(ctx, id); err != nil {
				return res, err
			}
			res.Started = append(res.Started, id)
		}
	}
	for _, id := range running {
		if !slices.Contains(active, id) {
			// Read the camera once more right before stopping its stream.
			if c, err := store.FindCameraByID(ctx, a.DB, id); err == nil && c.State == camera.StateActive {
				continue
			}
			if err := a.Streams.Stop(ctx, id); err != nil {
				return res, err
			}
			res.Stopped = append(res.Stopped, id)
		}
	}
	if len(res.Started)+len(res.Stopped) > 0 {
		a.Log.Info("camera streams reconciled", slog.Int("started", len(res.Started)), slog.Int("stopped", len(res.Stopped)))
	}
	return res, nil
}
