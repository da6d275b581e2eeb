package ffmpeg

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSampleArgs(t *testing.T) {
	tests := []struct {
		name       string
		o          SampleOptions
		wantFilter string
		keyOnly    bool
	}{
		{"all frames", SampleOptions{FPS: 2, Quality: 5}, "fps=2", false},
		{"key frames, scaled", SampleOptions{FPS: 0.5, KeyframesOnly: true, Width: 320, Quality: 7},
			"select='if(isnan(prev_selected_t),1,gte(t-prev_selected_t,1.998)+lt(t,prev_selected_t))',scale=320:-2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := sampleArgs("rtsp://h/cam", 5*time.Second, tt.o)
			in := slices.Index(args, "-i")
			if in < 0 || args[in+1] != "rtsp://h/cam" {
				t.Fatalf("no -i <url> in %q", args)
			}
			for _, before := range [][]string{{"-protocol_whitelist", protocolWhitelist}, {"-rtsp_transport", "tcp"}, {"-timeout", "5000000"}} {
				if i := slices.Index(args, before[0]); i < 0 || i > in || args[i+1] != before[1] {
					t.Errorf("want %q before -i in %q", before, args)
				}
			}
			if i := slices.Index(args, "-skip_frame"); (i >= 0) != tt.keyOnly || i > in || i >= 0 && args[i+1] != "nokey" {
				t.Errorf("-skip_frame nokey before -i = %v, want %v: %q", i >= 0, tt.keyOnly, args)
			}
			if i := slices.Index(args, "-vf"); i < in || args[i+1] != tt.wantFilter {
				t.Errorf("want -vf %s after -i in %q", tt.wantFilter, args)
			}
			tail := strings.Join(args[in+2:], " ")
			if got := strings.Contains(tail, "-fps_mode passthrough"); got != tt.keyOnly {
				t.Errorf("-fps_mode passthrough = %v, want %v (select's frames go out as they come): %q", got, tt.keyOnly, tail)
			}
			for _, want := range []string{"-an -sn -dn", "-f image2pipe -c:v mjpeg -q:v " + strconv.Itoa(tt.o.Quality), "pipe:1"} {
				if !strings.Contains(tail, want) {
					t.Errorf("output options %q lack %q", tail, want)
				}
			}
			for _, want := range []string{"-nostdin", "-loglevel"} {
				if !slices.Contains(args, want) {
					t.Errorf("args lack %s: %q", want, args)
				}
			}
		})
	}
}

func TestSampleRefusesInvalidInputWithoutRunningFFmpeg(t *testing.T) {
	r, marker := fakeRunner(t, "")
	good := Input{URL: "rtsp://127.0.0.1:1/cam"}
	tests := []struct {
		name string
		in   Input
		o    SampleOptions
	}{
		{"file URL", Input{URL: "file:///etc/passwd"}, SampleOptions{FPS: 1}},
		{"embedded credentials", Input{URL: "rtsp://u:p@127.0.0.1/cam"}, SampleOptions{FPS: 1}},
		{"no frame rate", good, SampleOptions{}},
		{"negative frame rate", good, SampleOptions{FPS: -1}},
		{"quality out of range", good, SampleOptions{FPS: 1, Quality: 40}},
		{"tiny width", good, SampleOptions{FPS: 1, Width: 3}},
		{"watchdog shorter than two frames", good, SampleOptions{FPS: 0.1, Watchdog: 10 * time.Second}},
		{"frame limit too small", good, SampleOptions{FPS: 1, MaxFrameBytes: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Sample(context.Background(), tt.in, tt.o, func(Frame) {})
			mustKind(t, err, ErrInvalidInput)
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("a process was run for an invalid input")
			}
		})
	}
}

// FFmpeg's ways of ending, played by a script: each is an error of the
// right kind, quickly, with the frames before it delivered.
func TestSampleEndings(t *testing.T) {
	big := mustJPEG(t, 320, 240, 10)
	tests := []struct {
		name       string
		script     string // run with $d holding frame.jpg
		o          SampleOptions
		password   string
		want       error
		wantMsg    string
		wantFrames int
	}{
		{"exit 0 after frames", `cat "$d/frame.jpg" "$d/frame.jpg"`, SampleOptions{FPS: 10}, "", ErrFailed, "camera stream ended", 2},
		{"exit 0 before a frame", `exit 0`, SampleOptions{FPS: 10}, "", ErrFailed, "camera sent no frame", 0},
		{"silent after a frame", `cat "$d/frame.jpg"; exec sleep 60`, SampleOptions{FPS: 10, Watchdog: 500 * time.Millisecond}, "", ErrTimeout, "no frame for 500ms", 1},
		{"never a frame", `exec sleep 60`, SampleOptions{FPS: 10, Watchdog: 500 * time.Millisecond, FirstFrame: time.Second}, "", ErrTimeout, "no frame for 1s", 0},
		// A long key-frame interval: the first frame comes after more than
		// the watchdog, within the first-frame deadline; then the watchdog
		// applies again.
		{"late first frame", `sleep 1.2; cat "$d/frame.jpg"; exec sleep 60`, SampleOptions{FPS: 10, Watchdog: 500 * time.Millisecond, FirstFrame: 2 * time.Second},
			"", ErrTimeout, "no frame for 500ms", 1},
		{"oversized frame", `cat "$d/frame.jpg"; exec sleep 60`, SampleOptions{FPS: 10, MaxFrameBytes: 2048}, "", ErrFailed, "too large", 0},
		{"malformed output", `printf 'junk\377\330\377\001junk'; exec sleep 60`, SampleOptions{FPS: 10}, "", ErrFailed, "malformed", 0},
		{"refused credentials", `cat "$d/frame.jpg"; echo "rtsp://camuser:s3cret@h/x: Server returned 401 Unauthorized" >&2; exit 1`,
			SampleOptions{FPS: 10}, "s3cret", ErrAuthFailed, "refused the credentials", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := fakeRunner(t, `d=$(dirname "$0"); `+tt.script)
			if err := os.WriteFile(filepath.Join(filepath.Dir(r.FFmpeg), "frame.jpg"), big, 0o644); err != nil {
				t.Fatal(err)
			}
			in := Input{URL: "rtsp://127.0.0.1:1/cam", Username: "camuser", Password: tt.password, Timeout: time.Second}
			frames := 0
			start := time.Now()
			err := r.Sample(context.Background(), in, tt.o, func(f Frame) {
				frames++
				if !isJPEG(f.Data) || f.Seq != uint64(frames) {
					t.Errorf("frame %d: seq %d, %d bytes, JPEG %v", frames, f.Seq, len(f.Data), isJPEG(f.Data))
				}
			})
			elapsed := time.Since(start)
			e := mustKind(t, err, tt.want)
			if !strings.Contains(e.Msg, tt.wantMsg) {
				t.Errorf("Msg = %q, want it to contain %q", e.Msg, tt.wantMsg)
			}
			if frames != tt.wantFrames {
				t.Errorf("got %d frames, want %d", frames, tt.wantFrames)
			}
			if elapsed > 3*time.Second {
				t.Errorf("took %v, want the end noticed within the watchdog", elapsed)
			}
			if tt.password != "" && strings.Contains(e.Detail, tt.password) {
				t.Errorf("Detail leaks the password: %q", e.Detail)
			}
		})
	}
}

// The stats say what was delivered and what FFmpeg cost.
func TestSampleStats(t *testing.T) {
	r, _ := fakeRunner(t, `d=$(dirname "$0"); cat "$d/frame.jpg" "$d/frame.jpg" "$d/frame.jpg"`)
	jpg := mustJPEG(t, 64, 48, 11)
	if err := os.WriteFile(filepath.Join(filepath.Dir(r.FFmpeg), "frame.jpg"), jpg, 0o644); err != nil {
		t.Fatal(err)
	}
	var st SampleStats
	var last Frame
	err := r.Sample(context.Background(), Input{URL: "rtsp://127.0.0.1:1/cam"}, SampleOptions{FPS: 1, Stats: &st}, func(f Frame) { last = f })
	mustKind(t, err, ErrFailed)
	if st.Frames != 3 || st.Bytes != uint64(3*len(jpg)) || !st.LastFrame.Equal(last.At) || st.Wall <= 0 {
		t.Fatalf("stats = %+v, want 3 frames of %d bytes, last at %v", st, len(jpg), last.At)
	}
}

// A panicking callback leaves no FFmpeg behind.
func TestSamplePanickingCallback(t *testing.T) {
	r, _ := fakeRunner(t, `d=$(dirname "$0"); echo $$ > "$d/pgid"; cat "$d/frame.jpg"; exec sleep 60`)
	dir := filepath.Dir(r.FFmpeg)
	if err := os.WriteFile(filepath.Join(dir, "frame.jpg"), mustJPEG(t, 16, 16, 12), 0o644); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the callback's panic was swallowed")
			}
		}()
		_ = r.Sample(context.Background(), Input{URL: "rtsp://127.0.0.1:1/cam"}, SampleOptions{FPS: 1}, func(Frame) { panic("boom") })
	}()
	pgid, err := os.ReadFile(filepath.Join(dir, "pgid"))
	if err != nil {
		t.Fatal(err)
	}
	if live := groupMembers(t, strings.TrimSpace(string(pgid))); len(live) > 0 {
		t.Fatalf("process group outlived the run: %v", live)
	}
}

// A long-running FFmpeg's stderr keeps its last lines, whole.
func TestTailBufferKeepsLastLines(t *testing.T) {
	b := &tailBuffer{max: 100}
	for i := range 50 {
		_, _ = b.Write([]byte("rtsp://camuser:campass@host/cam line " + strconv.Itoa(i) + "\n"))
	}
	_, _ = b.Write([]byte("final: 401 Unauthorized\n"))
	s := b.String()
	if !strings.HasSuffix(s, "final: 401 Unauthorized\n") || !strings.HasPrefix(s, "rtsp://") || len(s) > 200 {
		t.Fatalf("kept %q", s)
	}
	if got := lastLines(s, 40); got != "final: 401 Unauthorized\n" {
		t.Fatalf("lastLines = %q", got)
	}
}

// mustNotLeakGoroutines fails the test if, shortly after it ends, more
// goroutines run than when it began.
func mustNotLeakGoroutines(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before+1 {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				tb.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// groupMembers lists the live (not zombie) processes of process group pgid.
func groupMembers(tb testing.TB, pgid string) []string {
	tb.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		tb.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		s := string(b)
		// Fields after the command name: state ppid pgrp …
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[2] == pgid && f[0] != "Z" {
			live = append(live, path)
		}
	}
	return live
}
