package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// startCamera runs the RTSP stand-in on port with one 320x240 mount, /c, and
// returns a func that kills it.
func startCamera(t *testing.T, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "../../deploy/rtsp/camera_server.py",
		"--port", strconv.Itoa(port), "--no-default-mounts",
		"--mounts-json", `[{"path":"/c","pattern":"ball","width":320,"height":240,"fps":10}]`)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start camera server: %v", err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("camera server output:\n%s", log.String())
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitProbe probes url until it succeeds or 15 s pass.
func waitProbe(t *testing.T, url string) StreamInfo {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := Probe(context.Background(), Input{URL: url, Timeout: 3 * time.Second})
		if err == nil {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("camera at %s never came up: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A camera that goes away reads as unreachable, and works again when it
// comes back on the same address.
func TestCameraGoesAwayAndReturns(t *testing.T) {
	rtspBase(t) // the stand-in's packages are part of the stack
	port := freePort(t)
	url := "rtsp://127.0.0.1:" + strconv.Itoa(port) + "/c"

	stop := startCamera(t, port)
	if info := waitProbe(t, url); info.Width != 320 || info.Height != 240 {
		t.Fatalf("got %+v, want 320x240", info)
	}

	stop()
	_, err := Snapshot(context.Background(), Input{URL: url, Timeout: 3 * time.Second})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("after the camera stopped: err = %v, want ErrUnreachable", err)
	}

	startCamera(t, port)
	if info := waitProbe(t, url); info.Width != 320 {
		t.Fatalf("after restart got %+v", info)
	}
}
