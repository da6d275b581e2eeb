// Package ffmpeg runs ffprobe and FFmpeg against camera streams: a connection
// test (Probe) and a single JPEG frame (Snapshot).
//
// Every call re-validates the stream URL, restricts FFmpeg to the network
// protocols RTSP(S) needs, bounds its run time and output, and returns errors
// classified into a few kinds (ErrAuthFailed, ErrTimeout, …) whose messages
// never contain credentials.
package ffmpeg

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rollcall/rollcall/internal/egress"
	"github.com/rollcall/rollcall/internal/streamurl"
)

// DefaultTimeout bounds a call whose Input has no Timeout.
const DefaultTimeout = 10 * time.Second

// MaxSnapshotBytes caps the size of a snapshot JPEG.
const MaxSnapshotBytes = 16 << 20

// protocolWhitelist is every protocol FFmpeg may open for an RTSP(S) input,
// including the ones RTSP nests (TCP, UDP, RTP, TLS).
const protocolWhitelist = "rtsp,rtsps,tcp,udp,rtp,srtp,tls"

// Input names a camera stream.
type Input struct {
	// URL is the stream URL without credentials, as stored.
	URL string
	// Username and Password are the camera's RTSP credentials, if any.
	Username, Password string
	// Timeout bounds the whole call; zero means DefaultTimeout.
	Timeout time.Duration
}

// StreamInfo describes a camera's first video stream.
type StreamInfo struct {
	// Codec is FFmpeg's codec name, such as "h264" or "hevc".
	Codec string
	// Width and Height are the frame size in pixels.
	Width, Height int
	// FPS is the frame rate, or 0 when the stream does not declare one.
	FPS float64
}

// Runner runs FFmpeg binaries; its zero value uses "ffmpeg" and "ffprobe"
// from PATH.
type Runner struct {
	// FFmpeg is the ffmpeg binary; empty means "ffmpeg".
	FFmpeg string
	// FFprobe is the ffprobe binary; empty means "ffprobe".
	FFprobe string
	// Egress, when set, checks the camera's address before FFmpeg runs and
	// hands FFmpeg the checked IP instead of the name, so DNS cannot point
	// it elsewhere between the check and the dial.
	Egress *egress.Policy
}

// Probe reads the first video stream's codec, size and frame rate with the
// default Runner.
func Probe(ctx context.Context, in Input) (StreamInfo, error) {
	return Runner{}.Probe(ctx, in)
}

// Snapshot grabs one frame as a JPEG with the default Runner.
func Snapshot(ctx context.Context, in Input) ([]byte, error) {
	return Runner{}.Snapshot(ctx, in)
}

// Probe reads the first video stream's codec, size and frame rate with
// ffprobe. Its errors are *Error.
func (r Runner) Probe(ctx context.Context, in Input) (StreamInfo, error) {
	target, timeout, err := r.prepare(ctx, in)
	if err != nil {
		return StreamInfo{}, err
	}
	out, err := run(ctx, job{
		bin:      orDefault(r.FFprobe, "ffprobe"),
		args:     probeArgs(target, ioTimeout(timeout)),
		password: in.Password,
		timeout:  timeout,
		maxOut:   1 << 20,
	})
	if err != nil {
		return StreamInfo{}, err
	}
	return parseProbe(out)
}

// Snapshot grabs one frame from the stream as a JPEG of at most
// MaxSnapshotBytes. Its errors are *Error.
func (r Runner) Snapshot(ctx context.Context, in Input) ([]byte, error) {
	target, timeout, err := r.prepare(ctx, in)
	if err != nil {
		return nil, err
	}
	out, err := run(ctx, job{
		bin:      orDefault(r.FFmpeg, "ffmpeg"),
		args:     snapshotArgs(target, ioTimeout(timeout)),
		password: in.Password,
		timeout:  timeout,
		maxOut:   MaxSnapshotBytes,
	})
	if err != nil {
		return nil, err
	}
	if !isJPEG(out) {
		return nil, newError(ErrFailed, "camera sent no usable frame")
	}
	return out, nil
}

// prepare validates in and returns the URL to hand FFmpeg (credentials
// included) and the call's timeout.
func (r Runner) prepare(ctx context.Context, in Input) (target string, timeout time.Duration, err error) {
	p, err := streamurl.Parse(in.URL)
	if err != nil {
		return "", 0, newError(ErrInvalidInput, "stream URL "+err.Error())
	}
	if p.Username != "" || p.Password != "" {
		return "", 0, newError(ErrInvalidInput, "stream URL must not embed credentials")
	}
	u := p.URL
	if r.Egress != nil {
		if u, err = r.pinHost(ctx, p.URL); err != nil {
			return "", 0, err
		}
	}
	target, err = streamurl.WithCredentials(u, in.Username, in.Password)
	if err != nil {
		return "", 0, newError(ErrInvalidInput, "stream URL is not valid")
	}
	timeout = in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return target, timeout, nil
}

// pinHost resolves the URL's host, checks the address against the egress
// policy and returns the URL with the host replaced by that address.
func (r Runner) pinHost(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", newError(ErrInvalidInput, "stream URL is not valid")
	}
	port := 554
	if u.Scheme == "rtsps" {
		port = 322
	}
	if ps := u.Port(); ps != "" {
		if port, err = strconv.Atoi(ps); err != nil {
			return "", newError(ErrInvalidInput, "stream URL port is not valid")
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ip, err := r.Egress.Resolve(rctx, u.Hostname(), port)
	switch {
	case errors.Is(err, egress.ErrRefused):
		return "", &Error{Kind: ErrRefused, Msg: "the camera's address is not allowed: " + strings.TrimPrefix(err.Error(), egress.ErrRefused.Error()+": ")}
	case err != nil:
		return "", newError(ErrUnreachable, "the camera's host name could not be resolved")
	}
	u.Host = net.JoinHostPort(ip.String(), strconv.Itoa(port))
	return u.String(), nil
}

// ioTimeout is FFmpeg's own socket timeout for a call bounded by timeout:
// half of it, so a silent camera makes FFmpeg give up (and say so) before
// the call's deadline kills it.
func ioTimeout(timeout time.Duration) time.Duration {
	return max(timeout/2, 200*time.Millisecond)
}

// inputArgs are the options that precede "-i": protocol restriction, TCP
// transport, socket timeout (without it a stalled camera hangs FFmpeg) and
// fast probing.
func inputArgs(ioTimeout time.Duration) []string {
	return []string{
		"-hide_banner", "-loglevel", "error",
		"-protocol_whitelist", protocolWhitelist,
		"-rtsp_transport", "tcp",
		"-timeout", strconv.FormatInt(ioTimeout.Microseconds(), 10),
		"-analyzeduration", "500000",
		"-probesize", "32768",
	}
}

func probeArgs(target string, ioTimeout time.Duration) []string {
	return append(inputArgs(ioTimeout),
		"-select_streams", "v",
		"-show_entries", "stream=codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate",
		"-of", "json",
		"-i", target,
	)
}

func snapshotArgs(target string, ioTimeout time.Duration) []string {
	return append(append([]string{"-nostdin"}, inputArgs(ioTimeout)...),
		"-i", target,
		"-map", "0:v:0",
		"-frames:v", "1",
		"-f", "image2pipe",
		"-c:v", "mjpeg",
		"-q:v", "3",
		"pipe:1",
	)
}

type probeOutput struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
	} `json:"streams"`
}

// parseProbe reads ffprobe's JSON. With fast probing avg_frame_rate is often
// "0/0"; r_frame_rate (from the stream's timing info) is used then.
func parseProbe(out []byte) (StreamInfo, error) {
	var po probeOutput
	if err := json.Unmarshal(out, &po); err != nil {
		return StreamInfo{}, newError(ErrFailed, "could not read the stream description")
	}
	for _, s := range po.Streams {
		if s.CodecType != "video" {
			continue
		}
		if s.CodecName == "" || s.CodecName == "none" || s.Width <= 0 || s.Height <= 0 {
			return StreamInfo{}, newError(ErrUnsupportedCodec, "stream uses a video codec that cannot be decoded")
		}
		fps := parseRate(s.AvgFrameRate)
		if fps == 0 {
			fps = parseRate(s.RFrameRate)
		}
		return StreamInfo{Codec: s.CodecName, Width: s.Width, Height: s.Height, FPS: fps}, nil
	}
	return StreamInfo{}, newError(ErrUnsupportedCodec, "stream has no video")
}

// parseRate parses "num/den"; it returns 0 for an unknown or implausible rate.
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0
	}
	if fps := n / d; fps <= 1000 {
		return fps
	}
	return 0
}

func isJPEG(b []byte) bool {
	return len(b) >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[len(b)-2] == 0xFF && b[len(b)-1] == 0xD9
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
