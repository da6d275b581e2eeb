package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// CameraServer is an RTSP camera stand-in (deploy/rtsp/camera_server.py) of
// a test's own, on a port of its own, that the test can stop and start
// again to play a camera going offline and coming back.
type CameraServer struct {
	tb   testing.TB
	Port int
	args []string
	cmd  *exec.Cmd
}

// StartCameraServer starts a camera server serving the default mounts
// (/cam1, /cam2, /secure), plus any given by args (e.g. "--image-mount",
// "/face=/tmp/face.jpg"), on a free loopback port; it is stopped when the
// test ends.
func StartCameraServer(tb testing.TB, args ...string) *CameraServer {
	tb.Helper()
	Require(tb, "ROLLCALL_TEST_RTSP_URL")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &CameraServer{tb: tb, Port: port, args: args}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// URL is the RTSP URL of a mount of this server, e.g. URL("/cam1").
func (s *CameraServer) URL(mount string) string {
	return "rtsp://127.0.0.1:" + strconv.Itoa(s.Port) + mount
}

// Start (re)starts the server and waits until it accepts connections.
func (s *CameraServer) Start() {
	s.tb.Helper()
	if s.cmd != nil {
		return
	}
	script := filepath.Join(repoRoot(s.tb), "deploy", "rtsp", "camera_server.py")
	cmd := exec.Command("/usr/bin/python3", append([]string{script, "--port", strconv.Itoa(s.Port)}, s.args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // no orphan when a test binary is killed
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("testenv: start camera server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.tb.Fatalf("testenv: camera server did not listen on %d", s.Port)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server; its port then refuses connections.
func (s *CameraServer) Stop() {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// repoRoot finds the module root (the directory holding go.mod).
func repoRoot(tb testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testenv: go.mod not found above the test's directory")
		}
		dir = parent
	}
}
