package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/store"
)

// Sampler reads a camera continuously (ffmpeg.Runner).
type Sampler interface {
	Sample(ctx context.Context, in ffmpeg.Input, o ffmpeg.SampleOptions, onFrame func(ffmpeg.Frame)) error
}

// StreamReporter tells a camera's stream workflow how its stream is doing
// (temporal.Streams signals the workflow run).
type StreamReporter interface {
	ReportStream(ctx context.Context, cameraID, runID string, r contract.StreamReport) error
}

// StreamSettings tune StreamCamera; zero fields take the defaults.
type StreamSettings struct {
	// ReportEvery is how often the stream reports its counters to its
	// workflow (and so to the status query); default 30 s.
	ReportEvery time.Duration
	// HeartbeatEvery is how often the activity heartbeats; default 2 s.
	HeartbeatEvery time.Duration
	// Watchdog fails the stream when no frame arrives for this long once
	// frames flow; default 10 s, and at least three frame intervals.
	Watchdog time.Duration
	// FirstFrame is how long a session waits for its first frame (a
	// long key-frame interval delays it); default 45 s.
	FirstFrame time.Duration
	// InFlight is the number of frames of one camera at the provider at
	// once; default 1. Frames arriving while all are busy wait in a
	// one-frame slot, the newest replacing the older (dropped).
	InFlight int
	// FrameWidth downscales frames before recognition (0: camera size).
	FrameWidth int
	// SnapshotFrames stores each frame with a face in the object store
	// and links its detections to it.
	SnapshotFrames bool
	// IOTimeout bounds each database write and Temporal call of the report
	// loop (default 5 s): a stalled dependency delays a report, never the
	// stream or its heartbeats.
	IOTimeout time.Duration
	// KeyframesBelowFPS decodes key frames only when the camera is sampled
	// at this rate or slower; default 1. Negative: never.
	KeyframesBelowFPS float64
}

func (s StreamSettings) withDefaults() StreamSettings {
	if s.ReportEvery <= 0 {
		s.ReportEvery = 30 * time.Second
	}
	if s.HeartbeatEvery <= 0 {
		s.HeartbeatEvery = 2 * time.Second
	}
	if s.Watchdog <= 0 {
		s.Watchdog = ffmpeg.DefaultWatchdog
	}
	if s.FirstFrame <= 0 {
		s.FirstFrame = ffmpeg.DefaultFirstFrame
	}
	if s.InFlight <= 0 {
		s.InFlight = 1
	}
	if s.IOTimeout <= 0 {
		s.IOTimeout = 5 * time.Second
	}
	if s.KeyframesBelowFPS == 0 {
		s.KeyframesBelowFPS = 1
	}
	return s
}

// StreamCamera runs until cancelled or until the camera's stream fails:
// FFmpeg samples the camera at its frame rate, frames go to the configured
// provider with at most InFlight at once (the rest are dropped and
// counted, so memory stays flat however slow the provider), and each face
// found becomes a detection — shown live at once, stored in batches. The
// first frame marks the camera online. A failure is an application error
// typed by its camera error class, with the last StreamReport as details.
func (a *Activities) StreamCamera(ctx context.Context, in contract.StreamCameraInput) (contract.StreamReport, error) {
	if a.Sampler == nil || a.Writer == nil {
		return contract.StreamReport{}, temporal.NewNonRetryableApplicationError("this worker cannot stream cameras: no sampler or detection writer", "WorkerMisconfigured", nil)
	}
	set := a.Stream.withDefaults()
	c, fin, err := a.loadCamera(ctx, in.CameraID, 0)
	if err != nil {
		return contract.StreamReport{}, err
	}
	if c.State != camera.StateActive {
		return contract.StreamReport{}, temporal.NewNonRetryableApplicationError("camera is "+c.State, contract.ErrTypeCameraInactive, nil)
	}
	fps := c.FPS
	if fps <= 0 {
		fps = 1
	}
	s := &stream{
		a: a, set: set, cameraID: c.ID, session: in.Session,
		slot:  make(chan ffmpeg.Frame, 1),
		runID: activity.GetInfo(ctx).WorkflowExecution.RunID,
	}
	s.keyframes = set.KeyframesBelowFPS > 0 && fps <= set.KeyframesBelowFPS
	opts := ffmpeg.SampleOptions{
		FPS: fps, KeyframesOnly: s.keyframes, Width: set.FrameWidth,
		Watchdog:   max(set.Watchdog, time.Duration(3*float64(time.Second)/fps)),
		FirstFrame: set.FirstFrame,
	}
	return s.run(ctx, fin, opts)
}

// stream is one run of StreamCamera.
type stream struct {
	a         *Activities
	set       StreamSettings
	cameraID  string
	session   int
	runID     string
	keyframes bool

	slot chan ffmpeg.Frame // the newest frame waiting for the provider

	mu       sync.Mutex
	counters contract.StreamCounters
	lastAt   time.Time
	lastErr  string
	lastData []byte // the previous frame, to skip repeats

	stopSampler context.CancelCauseFunc // ends the current FFmpeg run

	wake chan struct{} // first frame read: report now

	provMu sync.Mutex
	prov   provider.Provider
	provAt time.Time
}

// Key-frame-only decoding is given up when, after sparseCheckAfter frames,
// more than half were repeats of the previous frame: the camera's key
// frames are sparser than the sampling rate.
const sparseCheckAfter = 10

var errSparseKeyframes = errors.New("camera key frames are sparser than the sampling rate")

// providerRefresh is how often a stream looks for a new provider
// configuration.
const providerRefresh = 5 * time.Second

// provider returns the configured provider, looked up again every
// providerRefresh so a configuration change reaches running streams.
func (s *stream) provider(ctx context.Context) (provider.Provider, error) {
	s.provMu.Lock()
	defer s.provMu.Unlock()
	if s.prov != nil && time.Since(s.provAt) < providerRefresh {
		return s.prov, nil
	}
	p, _, err := s.a.Providers.Current(ctx)
	if err != nil {
		return nil, err
	}
	s.prov, s.provAt = p, time.Now()
	return p, nil
}

func (s *stream) report() contract.StreamReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return contract.StreamReport{Session: s.session, Counters: s.counters, LastFrameAt: s.lastAt,
		LastProviderError: s.lastErr, KeyframesOnly: s.keyframes}
}

func (s *stream) run(actx context.Context, fin ffmpeg.Input, opts ffmpeg.SampleOptions) (contract.StreamReport, error) {
	ctx, cancel := context.WithCancel(actx)
	defer cancel()
	s.wake = make(chan struct{}, 1)
	var wg sync.WaitGroup
	for range s.set.InFlight {
		wg.Go(func() { s.recognizeLoop(ctx) })
	}
	wg.Go(func() { s.reportLoop(ctx) })
	if activity.IsActivity(ctx) {
		wg.Go(func() { s.heartbeatLoop(ctx) })
	}

	// A worker shutting down hands the session back before its context is
	// cancelled (worker.Options.WorkerStopTimeout): end it cleanly.
	var stopping atomic.Bool
	if activity.IsActivity(actx) {
		stopCh := activity.GetWorkerStopChannel(actx)
		wg.Go(func() {
			select {
			case <-stopCh:
				stopping.Store(true)
				cancel()
			case <-ctx.Done():
			}
		})
	}

	var err error
	for {
		sctx, stopSampler := context.WithCancelCause(ctx)
		s.mu.Lock()
		s.stopSampler = stopSampler
		s.mu.Unlock()
		readBefore := s.report().Counters.FramesRead
		err = s.a.Sampler.Sample(sctx, fin, opts, s.onFrame)
		stopSampler(nil)
		if ctx.Err() != nil {
			break
		}
		// Decoding key frames only, a camera with a long key-frame interval
		// (30 s and more) goes quiet between key frames after the first:
		// that is not a stall, decode every frame instead.
		sparse := errors.Is(context.Cause(sctx), errSparseKeyframes)
		if !sparse && opts.KeyframesOnly && errors.Is(err, ffmpeg.ErrTimeout) && s.report().Counters.FramesRead > readBefore {
			sparse = true
			s.mu.Lock()
			s.keyframes = false
			s.mu.Unlock()
		}
		if !sparse {
			break
		}
		// The camera sends key frames less often than it is sampled:
		// decode every frame instead (it costs more CPU).
		opts.KeyframesOnly = false
		r := s.report()
		s.a.pipelineEvent(ctx, s.cameraID, s.a.now().UTC(), "keyframes_sparse", "info",
			"the camera sends key frames less often than it is sampled; decoding every frame",
			map[string]any{"framesRead": r.Counters.FramesRead, "framesRepeated": r.Counters.FramesRepeated, "fps": opts.FPS})
	}
	cancel()
	wg.Wait()
	rep := s.report()
	if stopping.Load() {
		s.a.Log.Info("camera stream handed back: the worker is shutting down", slog.String("camera_id", s.cameraID))
		return rep, temporal.NewApplicationError("the worker running the stream is shutting down", contract.ErrTypeWorkerShutdown, rep)
	}
	if actx.Err() != nil {
		return rep, actx.Err() // cancelled: the workflow asked for it
	}
	s.a.Log.Warn("camera stream failed", slog.String("camera_id", s.cameraID), slog.String("error", err.Error()))
	code := ffmpeg.Code(err)
	if code == "" {
		code = contract.ErrTypeStreamFailed
	}
	return rep, temporal.NewApplicationError(err.Error(), code, rep)
}

// onFrame runs on the sampler's goroutine: it must not block.
func (s *stream) onFrame(f ffmpeg.Frame) {
	s.mu.Lock()
	s.counters.FramesRead++
	s.lastAt = f.At
	repeated := s.keyframes && bytes.Equal(f.Data, s.lastData)
	if repeated {
		s.counters.FramesRepeated++
	} else {
		s.lastData = f.Data
	}
	first := s.counters.FramesRead == 1
	var switchDecoding context.CancelCauseFunc
	if s.keyframes && s.counters.FramesRead >= sparseCheckAfter && 2*s.counters.FramesRepeated > s.counters.FramesRead {
		s.keyframes, switchDecoding = false, s.stopSampler
	}
	s.mu.Unlock()
	if switchDecoding != nil {
		switchDecoding(errSparseKeyframes)
	}
	if first {
		s.wake <- struct{}{} // buffered, and sent once
	}
	if repeated {
		return
	}
	for {
		select {
		case s.slot <- f:
			return
		default:
		}
		// The slot holds an older frame nobody has taken: replace it.
		select {
		case <-s.slot:
			s.count(func(c *contract.StreamCounters) { c.FramesDropped++ })
		default:
		}
	}
}

func (s *stream) count(f func(*contract.StreamCounters)) {
	s.mu.Lock()
	f(&s.counters)
	s.mu.Unlock()
}

// recognizeLoop sends frames from the slot to the provider until ctx ends.
func (s *stream) recognizeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-s.slot:
			if ctx.Err() != nil {
				return // select picks at random when both are ready
			}
			s.recognize(ctx, f)
		}
	}
}

func (s *stream) recognize(ctx context.Context, f ffmpeg.Frame) {
	prov, err := s.provider(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.providerFailed("provider configuration: " + err.Error())
		}
		return
	}
	s.count(func(c *contract.StreamCounters) { c.FramesSent++ })
	found, err := prov.Recognize(ctx, f.Data)
	if err != nil {
		if ctx.Err() == nil {
			s.providerFailed(err.Error())
		}
		return
	}
	if len(found.Faces) == 0 {
		return
	}
	at := f.At.UTC()
	snapshot := ""
	if s.set.SnapshotFrames {
		key := blob.DetectionFrameKey(s.cameraID, at, uuid.NewString()[:8])
		if err := s.a.Blobs.Put(ctx, key, bytes.NewReader(f.Data), int64(len(f.Data)), "image/jpeg"); err != nil {
			s.a.Log.Warn("detection snapshot not stored", slog.String("camera_id", s.cameraID), slog.String("error", err.Error()))
		} else {
			snapshot = key
		}
	}
	names, err := s.a.profileNames().Lookup(ctx, subjectsOf(found.Faces))
	if err != nil && ctx.Err() == nil {
		s.a.Log.Warn("face profiles not looked up", slog.String("camera_id", s.cameraID), slog.String("error", err.Error()))
	}
	rows, labels := frameFaces(found.Faces, func(int) string { return uuid.NewString() }, at, s.cameraID, snapshot, store.DetectionSourceStream, names)
	known := 0
	for _, l := range labels {
		if l.Known {
			known++
		}
	}
	s.count(func(c *contract.StreamCounters) { c.Faces += uint64(len(rows)); c.Known += uint64(known) })
	s.a.showLive(ctx, s.cameraID, at, rows, labels)
	s.a.Writer.Add(rows)
}

func (s *stream) providerFailed(msg string) {
	s.mu.Lock()
	s.counters.ProviderErrors++
	first := s.lastErr == ""
	s.lastErr = msg
	s.mu.Unlock()
	if first {
		s.a.Log.Warn("provider failed on a camera frame", slog.String("camera_id", s.cameraID), slog.String("error", msg))
	}
}

// reportLoop heartbeats, reports to the workflow, logs pipeline events and
// marks the camera online at its first frame.

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
