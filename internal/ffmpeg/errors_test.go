package ffmpeg

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestScrubRemovesCredentials(t *testing.T) {
	tests := []struct {
		name, in, password string
		want               string
	}{
		{
			name:     "userinfo in URL",
			in:       "rtsp://camuser:s3cret@10.0.0.5:554/live: Server returned 401 Unauthorized",
			password: "s3cret",
			want:     "rtsp://10.0.0.5:554/live: Server returned 401 Unauthorized",
		},
		{
			name:     "percent-encoded password",
			in:       "[rtsp @ 0x1] auth p%40ss%2Fword failed for rtsp://u:p%40ss%2Fword@h/x",
			password: "p@ss/word",
			want:     "[rtsp @ 0x1] auth *** failed for rtsp://h/x",
		},
		{
			name:     "bare password elsewhere",
			in:       "Authorization: Basic hunter2hunter2",
			password: "hunter2hunter2",
			want:     "Authorization: Basic ***",
		},
		{
			name:     "user without password",
			in:       "rtsp://admin@cam/x: Connection refused",
			password: "",
			want:     "rtsp://cam/x: Connection refused",
		},
		{
			name: "several URLs",
			in:   "tcp://a:b@h1:1 and rtsps://c:d@h2/p",
			want: "tcp://h1:1 and rtsps://h2/p",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrub(tt.in, tt.password)
			if got != tt.want {
				t.Fatalf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.password != "" && strings.Contains(got, tt.password) {
				t.Fatalf("password survived scrubbing: %q", got)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	const io = 5 * time.Second
	runErr := errors.New("exit status 1")
	tests := []struct {
		name    string
		stderr  string
		runErr  error
		elapsed time.Duration
		want    error
	}{
		{"401", "[rtsp @ 0x5] method DESCRIBE failed: 401 Unauthorized\nrtsp://h/secure: Server returned 401 Unauthorized (authorization failed)", runErr, 0, ErrAuthFailed},
		{"403", "rtsp://h/x: Server returned 403 Forbidden (access denied)", runErr, 0, ErrAuthFailed},
		{"404", "[rtsp @ 0x5] method DESCRIBE failed: 404 Not Found\nrtsp://h/nope: Server returned 404 Not Found", runErr, 0, ErrNotFound},
		{"status-like path is not a status", "[rtsp @ 0x5] method DESCRIBE failed: 404 Not Found\nrtsp://h/Unauthorized/401: Server returned 404 Not Found", runErr, 0, ErrNotFound},
		{"status-like path on a refused connection", "rtsp://h/Not%20Found: Connection refused", runErr, 0, ErrUnreachable},
		{"port 4010 is not a 401", "rtsp://h:4010/x: Connection refused", runErr, 0, ErrUnreachable},
		{"refused", "[tcp @ 0x5] Connection to tcp://127.0.0.1:1?timeout=5000000 failed: Connection refused", runErr, 0, ErrUnreachable},
		{"dns", "[tcp @ 0x5] Failed to resolve hostname cam.invalid: Name or service not known", runErr, 0, ErrUnreachable},
		{"no route", "Connection to tcp://10.1.1.1:554 failed: No route to host", runErr, 0, ErrUnreachable},
		{"net unreachable", "failed: Network is unreachable", runErr, 0, ErrUnreachable},
		{"connect timeout", "failed: Connection timed out", runErr, 0, ErrUnreachable},
		{"whitelist", "[file @ 0x5] Protocol 'file' not on whitelist 'rtsp,rtsps,tcp,udp,rtp,srtp,tls'!", runErr, 0, ErrInvalidInput},
		{"no video", "Stream map '0:v:0' matches no streams.", runErr, 0, ErrUnsupportedCodec},
		{"no decoder", "Decoder (codec hevc) not found for input stream #0:0", runErr, 0, ErrUnsupportedCodec},
		{"silent server", "rtsp://h/x: Invalid data found when processing input", runErr, io, ErrTimeout},
		{"garbage answer", "rtsp://h/x: Invalid data found when processing input", runErr, 100 * time.Millisecond, ErrFailed},
		{"exit 0 after stall", "", nil, io + time.Second, ErrTimeout},
		{"exit 0 no frame", "", nil, time.Second, ErrFailed},
		{"missing binary", "", &exec.Error{Name: "ffmpeg", Err: exec.ErrNotFound}, 0, ErrFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(context.Background(), tt.runErr, tt.stderr, tt.elapsed, io)
			if !errors.Is(e, tt.want) {
				t.Fatalf("classify(%q) = %v (%s), want %v", tt.stderr, e.Kind, e.Msg, tt.want)
			}
			if e.Detail != tt.stderr {
				t.Fatalf("Detail = %q, want the stderr", e.Detail)
			}
		})
	}
}

func TestClassifyContext(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-expired.Done()
	if e := classify(expired, errors.New("signal: killed"), "", 0, time.Second); !errors.Is(e, ErrTimeout) || !errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("expired context: got %v, want ErrTimeout wrapping DeadlineExceeded", e.Unwrap())
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if e := classify(cancelled, errors.New("signal: killed"), "", 0, time.Second); !errors.Is(e, ErrFailed) || !errors.Is(e, context.Canceled) {
		t.Fatalf("cancelled context: got %v, want ErrFailed wrapping Canceled", e.Unwrap())
	}
}

func TestCode(t *testing.T) {
	kinds := map[error]string{
		ErrUnreachable: "unreachable", ErrAuthFailed: "auth_failed", ErrNotFound: "not_found",
		ErrUnsupportedCodec: "unsupported_codec", ErrTimeout: "timeout", ErrInvalidInput: "invalid_input",
		ErrFailed: "failed", errors.New("other"): "failed",
	}
	for kind, want := range kinds {
		if got := Code(&Error{Kind: kind, Msg: "x"}); got != want {
			t.Errorf("Code(%v) = %q, want %q", kind, got, want)
		}
	}
}

func TestParseProbe(t *testing.T) {
	tests := []struct {
		name, json string
		want       StreamInfo
		wantErr    error
	}{
		{
			name: "fast probing leaves avg_frame_rate unknown",
			json: `{"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":480,"r_frame_rate":"10/1","avg_frame_rate":"0/0"}]}`,
			want: StreamInfo{Codec: "h264", Width: 640, Height: 480, FPS: 10},
		},
		{
			name: "avg_frame_rate preferred",
			json: `{"streams":[{"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,"r_frame_rate":"90000/1","avg_frame_rate":"25/1"}]}`,
			want: StreamInfo{Codec: "hevc", Width: 1920, Height: 1080, FPS: 25},
		},
		{
			name: "implausible rate is unknown",
			json: `{"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":480,"r_frame_rate":"90000/1","avg_frame_rate":"0/0"}]}`,
			want: StreamInfo{Codec: "h264", Width: 640, Height: 480, FPS: 0},
		},
		{name: "no video", json: `{"streams":[]}`, wantErr: ErrUnsupportedCodec},
		{name: "unknown codec", json: `{"streams":[{"codec_type":"video","codec_name":"none","width":0,"height":0}]}`, wantErr: ErrUnsupportedCodec},
		{name: "garbage", json: `not json`, wantErr: ErrFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProbe([]byte(tt.json))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseProbe = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// FFmpeg's stderr is kept to a bound however much it writes.
func TestStderrCap(t *testing.T) {
	b := &cappedBuffer{max: 10}
	for range 5 {
		if n, err := b.Write([]byte("0123456789abcdef")); n != 16 || err != nil {
			t.Fatalf("Write = %d, %v; want the rest silently dropped", n, err)
		}
	}
	if got := b.buf.String(); got != "0123456789" {
		t.Fatalf("kept %q", got)
	}
}
