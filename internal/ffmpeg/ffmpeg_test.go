package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/testenv"
)

// rtspBase returns the stack's camera stand-in, e.g. rtsp://127.0.0.1:58554.
func rtspBase(tb testing.TB) string {
	tb.Helper()
	return strings.TrimSuffix(testenv.Require(tb, "ROLLCALL_TEST_RTSP_URL"), "/")
}

// freePort returns a TCP port nothing listens on.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return port
}

func mustKind(tb testing.TB, err, want error) *Error {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("err = %v (code %s), want %v", err, Code(err), want)
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("err %T is not an *ffmpeg.Error", err)
	}
	tb.Logf("%s: %q (detail %q)", Code(err), e.Msg, e.Detail)
	return e
}

func TestProbe(t *testing.T) {
	base := rtspBase(t)
	tests := []struct {
		path          string
		width, height int
	}{
		{"/cam1", 640, 480},
		{"/cam2", 1280, 720},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			info, err := Probe(context.Background(), Input{URL: base + tt.path})
			t.Logf("Probe %s took %v: %+v", tt.path, time.Since(start), info)
			if err != nil {
				t.Fatal(err)
			}
			if info.Codec != "h264" || info.Width != tt.width || info.Height != tt.height {
				t.Fatalf("got %+v, want h264 %dx%d", info, tt.width, tt.height)
			}
			if info.FPS < 9.5 || info.FPS > 10.5 {
				t.Fatalf("FPS = %v, want about 10", info.FPS)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Probe took %v, want well under 3s with fast probing", d)
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	base := rtspBase(t)
	tests := []struct {
		path          string
		width, height int
	}{
		{"/cam1", 640, 480},
		{"/cam2", 1280, 720},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			jpg, err := Snapshot(context.Background(), Input{URL: base + tt.path})
			t.Logf("Snapshot %s took %v: %d bytes", tt.path, time.Since(start), len(jpg))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(jpg, []byte{0xFF, 0xD9}) {
				t.Fatal("output is not a single JPEG (SOI…EOI)")
			}
			img, err := jpeg.Decode(bytes.NewReader(jpg))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tt.width || b.Dy() != tt.height {
				t.Fatalf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.width, tt.height)
			}
		})
	}
}

func TestSecureCamera(t *testing.T) {
	url := rtspBase(t) + "/secure"
	ctx := context.Background()

	t.Run("right password", func(t *testing.T) {
		in := Input{URL: url, Username: "camuser", Password: "campass"}
		info, err := Probe(ctx, in)
		if err != nil || info.Width != 640 {
			t.Fatalf("Probe = %+v, %v", info, err)
		}
		jpg, err := Snapshot(ctx, in)
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(jpg)); err != nil {
			t.Fatalf("decode: %v", err)
		}
	})

	t.Run("wrong password never shows in the error", func(t *testing.T) {
		const wrong = "Wr0ng-p@ss/word"
		in := Input{URL: url, Username: "camuser", Password: wrong}
		for name, call := range map[string]func() error{
			"probe":    func() error { _, err := Probe(ctx, in); return err },
			"snapshot": func() error { _, err := Snapshot(ctx, in); return err },
		} {
			err := call()
			e := mustKind(t, err, ErrAuthFailed)
			for _, s := range []string{err.Error(), e.Msg, e.Detail} {
				if strings.Contains(s, "Wr0ng") || strings.Contains(s, "camuser:") {
					t.Fatalf("%s: credentials leaked into the error: %q", name, s)
				}
			}
			if !strings.Contains(e.Detail, "401") {
				t.Fatalf("%s: Detail %q lacks FFmpeg's diagnostic", name, e.Detail)
			}
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		_, err := Probe(ctx, Input{URL: url})
		mustKind(t, err, ErrAuthFailed)
	})
}

func TestStreamErrors(t *testing.T) {
	base := rtspBase(t)
	closed := "rtsp://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/cam"
	tests := []struct {
		name string
		url  string
		want error
	}{
		{"unknown path", base + "/nope", ErrNotFound},
		{"closed port", closed, ErrUnreachable},
		{"unresolvable host", "rtsp://camera.invalid/live", ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Probe(context.Background(), Input{URL: tt.url, Timeout: 5 * time.Second})
			mustKind(t, err, tt.want)
			_, err = Snapshot(context.Background(), Input{URL: tt.url, Timeout: 5 * time.Second})
			mustKind(t, err, tt.want)
		})
	}
}

// A server that accepts the connection and never answers: FFmpeg's socket
// timeout must end the call, classified as a timeout, within the budget.
func TestSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	url := "rtsp://" + l.Addr().String() + "/cam"
	const budget = 3 * time.Second
	for name, call := range map[string]func(Input) error{
		"probe":    func(in Input) error { _, err := Probe(context.Background(), in); return err },
		"snapshot": func(in Input) error { _, err := Snapshot(context.Background(), in); return err },
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call(Input{URL: url, Timeout: budget})
			elapsed := time.Since(start)
			t.Logf("gave up after %v", elapsed)
			mustKind(t, err, ErrTimeout)
			if elapsed > budget+2*time.Second {
				t.Fatalf("took %v, want at most %v", elapsed, budget+2*time.Second)
			}
		})
	}
}

// fakeRunner returns a Runner whose binaries are a script that records that
// it ran, and the marker file it creates.
func fakeRunner(t *testing.T, body string) (Runner, string) {
	t.Helper()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	script := filepath.Join(dir, "fake-ffmpeg")
	src := "#!/bin/sh\ntouch '" + marker + "'\n" + body + "\n"
	if err := os.WriteFile(script, []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	return Runner{FFmpeg: script, FFprobe: script}, marker
}

func TestRefusesInvalidInputWithoutRunningFFmpeg(t *testing.T) {
	r, marker := fakeRunner(t, "")
	tests := []struct {
		name string
		in   Input
	}{
		{"file URL", Input{URL: "file:///etc/passwd"}},
		{"bare path", Input{URL: "/etc/passwd"}},
		{"concat protocol", Input{URL: "concat:a|b"}},
		{"subfile protocol", Input{URL: "subfile:,start,0,end,0,:/etc/passwd"}},
		{"option injection", Input{URL: "-i /etc/passwd"}},
		{"option as host", Input{URL: "rtsp://-host/x"}},
		{"http", Input{URL: "http://x/y"}},
		{"empty", Input{URL: ""}},
		{"embedded credentials", Input{URL: "rtsp://camuser:campass@127.0.0.1:58554/secure"}},
		{"embedded user", Input{URL: "rtsp://admin@127.0.0.1:58554/secure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Probe(context.Background(), tt.in)
			e := mustKind(t, err, ErrInvalidInput)
			if strings.Contains(e.Msg, "campass") {
				t.Fatalf("message leaks the password: %q", e.Msg)
			}
			_, err = r.Snapshot(context.Background(), tt.in)
			mustKind(t, err, ErrInvalidInput)
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("a process was run for an invalid input")
			}
		})
	}
}

// Defence in depth: even if a file URL got past validation, the protocol
// whitelist makes FFmpeg itself refuse to open it.
func TestProtocolWhitelistRefusesFiles(t *testing.T) {
	tests := []struct {
		name string
		j    job
	}{
		{"ffmpeg", job{bin: "ffmpeg", args: snapshotArgs("file:/etc/passwd", time.Second), timeout: 5 * time.Second, maxOut: MaxSnapshotBytes}},
		{"ffprobe", job{bin: "ffprobe", args: probeArgs("file:/etc/passwd", time.Second), timeout: 5 * time.Second, maxOut: 1 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(context.Background(), tt.j)
			e := mustKind(t, err, ErrInvalidInput)
			if !strings.Contains(e.Detail, "Protocol 'file' not on whitelist") {
				t.Fatalf("Detail = %q, want FFmpeg's whitelist refusal", e.Detail)
			}
			if len(out) != 0 {
				t.Fatalf("got %d bytes of output", len(out))
			}
		})
	}
}

// The call's deadline kills FFmpeg's whole process group, children included.
func TestDeadlineKillsProcessGroup(t *testing.T) {
	r, _ := fakeRunner(t, `sleep 60 & echo $! > "$(dirname "$0")/child"; wait`)
	start := time.Now()
	_, err := r.Probe(context.Background(), Input{URL: "rtsp://127.0.0.1:1/cam", Timeout: time.Second})
	elapsed := time.Since(start)
	mustKind(t, err, ErrTimeout)
	if elapsed > 3*time.Second {
		t.Fatalf("took %v, want about 1s", elapsed)
	}
	pidText, err := os.ReadFile(filepath.Join(filepath.Dir(r.FFprobe), "child"))
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidText))
	deadline := time.Now().Add(2 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return // gone, or a zombie awaiting its reaper
		}
		if time.Now().After(deadline) {
			t.Fatalf("child process %s outlived the call: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Snapshot(ctx, Input{URL: rtspBase(t) + "/cam1"})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one wrapping context.Canceled", err)
	}
}

// Output beyond the cap ends the run instead of filling memory.
func TestOutputCap(t *testing.T) {
	r, _ := fakeRunner(t, `head -c 4194304 /dev/zero`)
	_, err := run(context.Background(), job{bin: r.FFmpeg, timeout: 5 * time.Second, maxOut: 1 << 20})
	e := mustKind(t, err, ErrFailed)
	if !strings.Contains(e.Msg, "too large") {
		t.Fatalf("Msg = %q, want it to say the output was too large", e.Msg)
	}
}
