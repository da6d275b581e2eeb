package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// maxStderr caps how much of FFmpeg's stderr is kept for classification.
const maxStderr = 64 << 10

// job is one FFmpeg or ffprobe run.
type job struct {
	bin      string
	args     []string
	password string        // scrubbed from anything FFmpeg writes
	timeout  time.Duration // whole-run bound
	maxOut   int           // stdout cap; the run fails beyond it
}

// run executes j (never through a shell) in its own process group, which is
// killed when ctx ends or j.timeout passes. It returns stdout, or an *Error
// classified from the exit status, stderr and timing.
func run(ctx context.Context, j job) ([]byte, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, j.timeout, errDeadline)
	defer cancel()
	overflow := make(chan struct{})
	stdout := &cappedBuffer{max: j.maxOut, onOverflow: func() { close(overflow); cancel() }}
	stderr := &cappedBuffer{max: maxStderr}

	cmd := exec.CommandContext(ctx, j.bin, j.args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole group: FFmpeg may have children (none today, but a
		// wrapper script or future protocol helper must not outlive the call).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second

	start := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(start)

	select {
	case <-overflow:
		return nil, newError(ErrFailed, "camera frame is too large")
	default:
	}
	diag := scrub(stderr.buf.String(), j.password)
	if runErr == nil && ctx.Err() == nil && stdout.buf.Len() > 0 {
		return stdout.buf.Bytes(), nil
	}
	return nil, classify(ctx, runErr, diag, elapsed, ioTimeout(j.timeout))
}

// errDeadline marks the end of a run's own time budget, as opposed to the
// caller's context ending.
var errDeadline = errors.New("ffmpeg: call timed out")

// classify turns a failed run into an *Error. FFmpeg's stderr wins when it
// says what happened; otherwise a run killed by its deadline, or one that
// lasted as long as FFmpeg's socket timeout (after which FFmpeg only says
// "Invalid data found" or exits 0 with no output), is a timeout.
func classify(ctx context.Context, runErr error, diag string, elapsed, ioTimeout time.Duration) *Error {
	var e *Error
	if rule, ok := classifyStderr(diag); ok {
		e = newError(rule.kind, rule.msg)
	} else if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			e = newError(ErrTimeout, "camera did not answer in time")
		} else {
			e = newError(ErrFailed, "cancelled")
		}
	} else if elapsed >= ioTimeout-ioTimeout/10 {
		e = newError(ErrTimeout, "camera did not answer in time")
	} else if errors.Is(runErr, exec.ErrNotFound) {
		e = newError(ErrFailed, "ffmpeg is not installed")
	} else if runErr == nil {
		e = newError(ErrFailed, "camera sent no frame")
	} else {
		e = newError(ErrFailed, "camera stream could not be read")
	}
	e.Detail = diag
	if err := ctx.Err(); err != nil && context.Cause(ctx) != errDeadline {
		e.cause = err
	}
	return e
}

// cappedBuffer keeps at most max bytes. Beyond that it drops the rest and,
// if onOverflow is set, calls it once (and reports a write error). The buffer
// is a field, not embedded: an embedded bytes.Buffer would lend its ReadFrom
// to io.Copy, which would then bypass Write and the cap.
type cappedBuffer struct {
	buf        bytes.Buffer
	max        int
	onOverflow func()
	overflowed bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.overflowed {
		return 0, errOverflow
	}
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:room])
		if b.onOverflow == nil {
			return len(p), nil
		}
		b.overflowed = true
		b.onOverflow()
		return 0, errOverflow
	}
	return b.buf.Write(p)
}

var errOverflow = errors.New("ffmpeg: output too large")
