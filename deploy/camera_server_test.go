package deploy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// startCameraServer runs deploy/rtsp/camera_server.py on a free port and
// returns its base URL, a channel closed when it exits, and its log (read
// only once it has exited or been killed).
func startCameraServer(t *testing.T) (string, <-chan struct{}, *bytes.Buffer) {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')").Run(); err != nil {
		t.Skipf("%s cannot load GstRtspServer (deploy/stack.sh install adds it): %v", python, err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (deploy/stack.sh install adds it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(python, "-u", "rtsp/camera_server.py", "--port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("camera server did not listen: %s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("rtsp://127.0.0.1:%d", port), exited, &log
}

// TestCameraServerServesClientsThatComeAndGo: tests share the stand-in's
// mounts, so a reader must not notice other clients joining and leaving.
// Before, GStreamer 1.22 aborted the whole server when a client met a shared
// media in mid-teardown (gst_rtsp_media_get_rates: assertion failed), and
// each joining client's "Range: npt=0-" seeked the shared pipeline back to 0,
// so every reader's timestamps jumped back and a 1 fps sampler got 2 frames
// in 10 s.
func TestCameraServerServesClientsThatComeAndGo(t *testing.T) {
	base, exited, log := startCameraServer(t)
	url := base + "/cam2"
	// The reader reads 10 s of video; a loaded machine may take a while
	// to start it.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	var churnFailures []string
	var mu sync.Mutex
	for range 3 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				hold := fmt.Sprintf("0.%d", 3+i%6)
				out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
					"-rtsp_transport", "tcp", "-i", url, "-t", hold, "-f", "null", "-").CombinedOutput()
				if err != nil && ctx.Err() == nil {
					mu.Lock()
					churnFailures = append(churnFailures, fmt.Sprintf("%v: %s", err, out))
					mu.Unlock()
				}
			}
		})
	}

	// One reader stays for 10 s and reports each frame's timestamp.
	reader := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-rtsp_transport", "tcp",
		"-i", url, "-t", "10", "-vf", "showinfo", "-f", "null", "-")
	out, err := reader.CombinedOutput()
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("reader: %v\n%s\nserver log:\n%s", err, tail(out), log.String())
	}
	select {
	case <-exited:
		t.Fatalf("camera server exited while clients came and went:\n%s", log.String())
	default:
	}
	pts := regexp.MustCompile(`pts_time:([0-9.]+)`)
	var frames, backwards int
	prev := -1.0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := pts.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		if v < prev {
			backwards++
		}
		prev = v
		frames++
	}
	if backwards > 0 || frames < 80 {
		t.Fatalf("reader got %d frames in 10 s at 10 fps, timestamps went back %d times", frames, backwards)
	}
	if len(churnFailures) > 0 {
		t.Fatalf("%d of the coming-and-going clients failed, first: %s", len(churnFailures), churnFailures[0])
	}
	t.Logf("reader: %d frames in 10 s, timestamps monotonic, while 3 clients came and went", frames)
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}
