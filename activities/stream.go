package activities

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/telemetry"
	"github.com/rollcall/rollcall/store"
)

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
	// OfflineGrace: a failed stream marks its camera offline only once the
	// camera has delivered no frame for this long (0: at once), so a
	// stream that fails and recovers at once does not flap its health.
	OfflineGrace time.Duration
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
	if s.keyframes {
		// Decoding key frames only, FFmpeg holds the first picture of a
		// camera joined mid-GOP until it has the stream's parameters and
		// the next key frame: with a long key-frame interval that outlasts
		// any first-frame deadline. A camera that shows nothing within the
		// watchdog is read with every frame decoded instead (run).
		opts.FirstFrame = opts.Watchdog
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
		err = s.a.Sampler.Sample(sctx, fin, opts, s.onFrame)
		stopSampler(nil)
		if ctx.Err() != nil {
			break
		}
		// Decoding key frames only, a camera with a long key-frame interval
		// (30 s and more) goes quiet between key frames, or shows no first
		// picture within the watchdog: that is not a stall, decode every
		// frame instead.
		sparse := errors.Is(context.Cause(sctx), errSparseKeyframes)
		if !sparse && opts.KeyframesOnly && ffmpeg.IsNoFrame(err) {
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
		opts.KeyframesOnly, opts.FirstFrame = false, s.set.FirstFrame
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
	s.a.Telemetry.Frame(telemetry.FrameRead)
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
			s.a.Telemetry.Frame(telemetry.FrameDropped)
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
	s.a.Telemetry.Frame(telemetry.FrameSent)
	// The camera is the frame's source: the built-in provider tracks faces
	// from one frame of a camera to the next.
	found, err := prov.Recognize(provider.WithSource(ctx, s.cameraID), f.Data)
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
	rows, labels := frameFaces(found.Faces, func(int) string { return store.NewDetectionID() }, at, s.cameraID, snapshot, store.DetectionSourceStream, names)
	known := 0
	for _, l := range labels {
		if l.Known {
			known++
		}
	}
	s.count(func(c *contract.StreamCounters) { c.Faces += uint64(len(rows)); c.Known += uint64(known) })
	s.a.showLive(ctx, s.cameraID, at, rows, labels)
	s.a.Writer.Add(rows)
	if unknown := len(rows) - known; unknown > 0 {
		s.a.unknownFaces(ctx, s.cameraID, unknown, at)
	}
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
