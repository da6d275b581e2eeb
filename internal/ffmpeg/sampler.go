package ffmpeg

import (
	"context"
	"errors"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults for SampleOptions' zero fields.
const (
	// DefaultSampleQuality is the JPEG quality (mjpeg -q:v) of sampled frames.
	DefaultSampleQuality = 5
	// DefaultWatchdog is how long Sample waits for a frame before failing.
	DefaultWatchdog = 10 * time.Second
	// DefaultFirstFrame is how long Sample waits for the first frame: a
	// client joining mid-GOP decodes nothing until the next key frame, and
	// "smart" codecs (H.264+/H.265+) send one every 30 s or less often.
	DefaultFirstFrame = 45 * time.Second
	// DefaultMaxFrameBytes caps one sampled JPEG.
	DefaultMaxFrameBytes = 8 << 20
)

// exitGrace is how long FFmpeg may take to exit after closing its output
// before it is killed.
const exitGrace = 2 * time.Second

// SampleOptions configures Sample.
type SampleOptions struct {
	// FPS is the number of frames per second wanted, such as 1; required.
	FPS float64
	// KeyframesOnly decodes key frames only (-skip_frame nokey), which costs
	// far less CPU; use it only when FPS is at most the camera's key-frame
	// rate, or the same picture is delivered several times.
	KeyframesOnly bool
	// Width downscales frames to this width, keeping the aspect ratio;
	// 0 keeps the camera's size.
	Width int
	// Quality is the JPEG quality as mjpeg's -q:v, from 2 (best) to 31;
	// 0 means DefaultSampleQuality.
	Quality int
	// Watchdog fails the stream when no frame arrives for this long once
	// frames flow; 0 means DefaultWatchdog. It must span at least two frame
	// intervals.
	Watchdog time.Duration
	// FirstFrame is the deadline of the first frame (at least Watchdog);
	// 0 means DefaultFirstFrame.
	FirstFrame time.Duration
	// MaxFrameBytes caps one JPEG; 0 means DefaultMaxFrameBytes.
	MaxFrameBytes int
	// Stats, when not nil, receives the run's statistics as Sample returns.
	Stats *SampleStats
}

// Frame is one sampled JPEG.
type Frame struct {
	// Data is the JPEG, SOI through EOI; the callback owns it and may keep it.
	Data []byte
	// At is when the frame was read from FFmpeg.
	At time.Time
	// Seq numbers the run's frames from 1.
	Seq uint64
}

// SampleStats describes one run of Sample.
type SampleStats struct {
	// Frames and Bytes count the frames delivered and their total size.
	Frames, Bytes uint64
	// LastFrame is when the last frame was read; zero if none was.
	LastFrame time.Time
	// Wall is how long FFmpeg ran.
	Wall time.Duration
	// CPU is the user plus system CPU time FFmpeg used.
	CPU time.Duration
}

// Sample samples frames with the default Runner; see Runner.Sample.
func Sample(ctx context.Context, in Input, o SampleOptions, onFrame func(Frame)) error {
	return Runner{}.Sample(ctx, in, o, onFrame)
}

// Sample runs FFmpeg on the camera until ctx ends or the stream fails,
// calling onFrame for each JPEG, synchronously from the caller's goroutine.
// onFrame must not block for long: the watchdog pauses meanwhile, and FFmpeg
// stalls once its output pipe is full.
//
// in.Timeout (default DefaultTimeout) sets FFmpeg's socket timeout, as for
// Snapshot, and bounds the wait for the first frame together with the
// watchdog (whichever is longer); it does not bound the run.
//
// Sample always returns a non-nil error: ctx's error when ctx ends, otherwise
// an *Error — ErrTimeout when the watchdog fires or FFmpeg's socket times out,
// ErrUnreachable, ErrAuthFailed, ErrNotFound, ErrUnsupportedCodec or
// ErrInvalidInput when FFmpeg says so, and ErrFailed for anything else,
// including FFmpeg exiting with status 0 because the stream was lost.
func (r Runner) Sample(ctx context.Context, in Input, o SampleOptions, onFrame func(Frame)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	if onFrame == nil {
		return newError(ErrInvalidInput, "no frame callback")
	}
	target, timeout, err := r.prepare(ctx, in)
	if err != nil {
		return err
	}
	s := &sampler{
		bin:        orDefault(r.FFmpeg, "ffmpeg"),
		args:       sampleArgs(target, ioTimeout(timeout), o),
		password:   in.Password,
		opts:       o,
		firstFrame: max(o.Watchdog, timeout, o.FirstFrame),
		ioTimeout:  ioTimeout(timeout),
		onFrame:    onFrame,
	}
	return s.run(ctx)
}

// withDefaults fills o's zero fields and checks the rest.
func (o SampleOptions) withDefaults() (SampleOptions, error) {
	if o.Quality == 0 {
		o.Quality = DefaultSampleQuality
	}
	if o.Watchdog == 0 {
		o.Watchdog = DefaultWatchdog
	}
	if o.FirstFrame == 0 {
		o.FirstFrame = DefaultFirstFrame
	}
	if o.MaxFrameBytes == 0 {
		o.MaxFrameBytes = DefaultMaxFrameBytes
	}
	switch {
	case math.IsNaN(o.FPS) || o.FPS <= 0 || o.FPS > 120:
		return o, newError(ErrInvalidInput, "frame rate must be above 0 and at most 120")
	case o.Width != 0 && (o.Width < 16 || o.Width > 7680):
		return o, newError(ErrInvalidInput, "frame width must be 0 or from 16 to 7680")
	case o.Quality < 2 || o.Quality > 31:
		return o, newError(ErrInvalidInput, "JPEG quality must be from 2 to 31")
	case o.MaxFrameBytes < 1024:
		return o, newError(ErrInvalidInput, "frame size limit must be at least 1 KiB")
	case o.Watchdog.Seconds()*o.FPS < 2:
		return o, newError(ErrInvalidInput, "watchdog must span at least two frame intervals")
	}
	return o, nil
}

// sampleArgs is FFmpeg's argv for Sample: the usual input options, key
// frames only if asked, the first video stream alone, rate and size
// filters, and each JPEG flushed to stdout as soon as it is encoded.
func sampleArgs(target string, ioTimeout time.Duration, o SampleOptions) []string {
	// The stream's own timestamps drive the rate filter. A stream whose
	// timestamps jump back (a relay or NVR restarting them when another
	// client joins) makes it wait until they catch up, and the watchdog
	// restarts the read; -use_wallclock_as_timestamps 1 avoids that but
	// cost half again as much FFmpeg CPU at 100 cameras (make bench).
	args := append([]string{"-nostdin"}, inputArgs(ioTimeout)...)
	if o.KeyframesOnly {
		// One decoding thread: frame threads each hold a frame back, and
		// with key frames alone that is a key frame per thread (with a
		// 30 s key-frame interval, minutes before the first picture).
		args = append(args, "-threads", "1", "-skip_frame", "nokey")
	}
	filter := "fps=" + strconv.FormatFloat(o.FPS, 'f', -1, 64)
	var output []string
	if o.KeyframesOnly {
		// The fps filter holds each frame until the next one shows which
		// time slot it fills: with key frames alone, a camera with a 30 s
		// key-frame interval would send its first picture a whole interval
		// late (60 s after joining mid-GOP). select passes each key frame
		// as soon as it is decoded, at most one per interval (a little
		// under, so frames exactly one interval apart all pass), and
		// one whose timestamp jumped back; its output is sent as it comes.
		interval := strconv.FormatFloat(0.999/o.FPS, 'f', -1, 64)
		filter = "select='if(isnan(prev_selected_t),1,gte(t-prev_selected_t," + interval + ")+lt(t,prev_selected_t))'"
		output = []string{"-fps_mode", "passthrough"}
	}
	if o.Width > 0 {
		filter += ",scale=" + strconv.Itoa(o.Width) + ":-2"
	}
	args = append(args,
		"-i", target,
		"-map", "0:v:0",
		"-an", "-sn", "-dn",
		"-vf", filter)
	return append(append(args, output...),
		"-f", "image2pipe",
		"-c:v", "mjpeg",
		"-q:v", strconv.Itoa(o.Quality),
		"-flush_packets", "1",
		"pipe:1",
	)
}

// Causes of ending a sampling run early, recorded on its context.
var (
	errNoFrame   = errors.New("ffmpeg: watchdog: no frame")
	errExitHang  = errors.New("ffmpeg: closed its output but did not exit")
	errCallPanic = errors.New("ffmpeg: frame callback panicked")
)

// sampler is one run of Sample.
type sampler struct {
	bin        string
	args       []string
	password   string
	opts       SampleOptions
	firstFrame time.Duration // watchdog for the first frame
	ioTimeout  time.Duration // FFmpeg's socket timeout
	onFrame    func(Frame)
	stats      SampleStats
}

// run starts FFmpeg in its own process group, which is killed when ctx
// ends, the watchdog fires or the output is unusable, and delivers frames
// until FFmpeg's output ends.
func (s *sampler) run(ctx context.Context) error {
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	cmd := exec.CommandContext(runCtx, s.bin, s.args...)
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return newError(ErrFailed, "could not start ffmpeg")
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return classify(ctx, err, "", 0, s.ioTimeout)
	}
	waited := false
	defer func() {
		if !waited { // onFrame panicked: do not leave FFmpeg behind
			stop(errCallPanic)
			_ = cmd.Wait()
		}
	}()

	armed := s.firstFrame
	watchdog := time.AfterFunc(armed, func() { stop(errNoFrame) })
	defer watchdog.Stop()
	readErr := s.deliver(newJPEGReader(stdout, s.opts.MaxFrameBytes), watchdog, &armed)
	if errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) {
		// FFmpeg closed its output, so it is exiting: let it, to keep its
		// exit status and last words.
		watchdog.Stop()
		grace := time.AfterFunc(exitGrace, func() { stop(errExitHang) })
		defer grace.Stop()
	} else {
		stop(readErr)
	}
	waitErr := cmd.Wait()
	waited = true

	s.stats.Wall = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		s.stats.CPU = ps.UserTime() + ps.SystemTime()
		if ps.Success() {
			waitErr = nil // a cancellation after FFmpeg exited is not its failure
		}
	}
	if s.opts.Stats != nil {
		*s.opts.Stats = s.stats
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.failure(context.Cause(runCtx), waitErr, stderr.String(), armed)
}

// deliver reads frames and hands them to onFrame until the output ends or
// fails, re-arming the watchdog after each; armed tracks its duration.
func (s *sampler) deliver(frames *jpegReader, watchdog *time.Timer, armed *time.Duration) error {
	for {
		data, err := frames.Next()
		if err != nil {
			return err
		}
		watchdog.Stop()
		now := time.Now()
		s.stats.Frames++
		s.stats.Bytes += uint64(len(data))
		s.stats.LastFrame = now
		s.onFrame(Frame{Data: data, At: now, Seq: s.stats.Frames})
		*armed = s.opts.Watchdog
		watchdog.Reset(*armed)
	}
}

// IsNoFrame reports whether err is a sampling run ended by its watchdog:
// the camera answered but no frame came in time.
func IsNoFrame(err error) bool {
	var e *Error
	return errors.As(err, &e) && strings.HasPrefix(e.Msg, noFrameMsg)
}

const noFrameMsg = "no frame for "

// failure classifies the end of a run that ctx did not end. cause is why
// the run's context ended, if it did; waitErr is FFmpeg's exit error, nil
// for status 0.
func (s *sampler) failure(cause, waitErr error, stderr string, armed time.Duration) *Error {
	diag := scrub(lastLines(stderr, maxDetail), s.password)
	var e *Error
	switch cause {
	case errNoFrame:
		e = newError(ErrTimeout, noFrameMsg+armed.String())
	case errFrameTooLarge:
		e = newError(ErrFailed, "camera frame is too large")
	case errNotJPEG:
		e = newError(ErrFailed, "ffmpeg wrote malformed JPEG data")
	default:
		since := s.stats.Wall
		if !s.stats.LastFrame.IsZero() {
			since = time.Since(s.stats.LastFrame)
		}
		e = classify(context.Background(), waitErr, diag, since, s.ioTimeout)
		if s.stats.Frames > 0 {
			switch {
			case errors.Is(e, ErrTimeout):
				e.Msg = "camera stopped sending frames"
			case errors.Is(e, ErrFailed) && waitErr == nil:
				e.Msg = "camera stream ended"
			}
		}
	}
	e.Detail = diag
	return e
}
