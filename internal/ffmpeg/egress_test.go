package ffmpeg

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/egress"
)

// TestEgressRefusedWithoutRunningFFmpeg: a camera URL the policy refuses
// (by address, however it is written) never reaches FFmpeg, and the error
// is classified egress_refused, with no latency or reachability to learn.
func TestEgressRefusedWithoutRunningFFmpeg(t *testing.T) {
	r, marker := fakeRunner(t, "")
	r.Egress = egress.New("camera", nil, []string{"10.1.1.1:6379"})
	for _, u := range []string{"rtsp://127.0.0.1:6379/", "rtsp://169.254.169.254:80/", "rtsp://[::1]:8080/", "rtsp://2130706433/",
		"rtsp://localhost/x", "rtsp://10.1.1.1:6379/"} {
		in := Input{URL: u, Timeout: time.Second}
		_, perr := r.Probe(context.Background(), in)
		_, serr := r.Snapshot(context.Background(), in)
		xerr := r.Sample(context.Background(), in, SampleOptions{FPS: 1}, func(Frame) {})
		for _, err := range []error{perr, serr, xerr} {
			if !errors.Is(err, ErrRefused) || Code(err) != "egress_refused" {
				t.Errorf("%s: %v (code %s), want egress_refused", u, err, Code(err))
			}
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("FFmpeg ran for a refused address")
	}
}

// TestEgressPinsTheCheckedAddress: FFmpeg receives the address that was
// checked, not the name (which DNS could answer differently a moment later).
func TestEgressPinsTheCheckedAddress(t *testing.T) {
	r, _ := fakeRunner(t, `echo "$@" > "$(dirname "$0")/args"; exit 1`)
	r.Egress = egress.New("camera", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, nil)
	_, _ = r.Probe(context.Background(), Input{URL: "rtsp://localhost:8554/stream", Username: "u", Password: "p", Timeout: time.Second})
	args, err := os.ReadFile(filepath.Join(filepath.Dir(r.FFprobe), "args"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(args), "localhost") || !(strings.Contains(string(args), "@127.0.0.1:8554/stream") || strings.Contains(string(args), "@[::1]:8554/stream")) {
		t.Fatalf("FFmpeg was given %q", args)
	}
}
