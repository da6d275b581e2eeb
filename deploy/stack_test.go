// Package deploy holds no Go code: its tests exercise the local stack's
// shell scripts (deploy/lib) the way deploy/stack.sh uses them.
package deploy

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runStackLib runs script in bash after sourcing deploy/lib/common.sh with a
// state directory of the test's own, and returns its combined output.
func runStackLib(t *testing.T, script string) (string, error) {
	t.Helper()
	state := t.TempDir()
	for _, d := range []string{"log", "run", "bin"} {
		if err := os.MkdirAll(filepath.Join(state, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "-c", "set -Eeuo pipefail; source lib/common.sh; "+script)
	cmd.Env = append(os.Environ(), "ROLLCALL_STACK_DIR="+state, "STATE="+state)
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		// Whatever the script left running dies with the test.
		_ = exec.Command("bash", "-c", `for f in "$0"/run/*.pid; do [[ -s $f ]] && kill -9 "$(cat "$f")" 2>/dev/null; done; true`, state).Run()
	})
	return string(out), err
}

// slowService writes a service launcher that takes delay before it execs
// the real program, a copy of sleep named so that only the exec'd process
// matches the pattern "rollcall-slow-svc". It marks itself ready before the
// exec, so a health check can pass while the command line is still the
// launcher's - the window in which a busy machine caught the old start-up
// check, which then reported a healthy service as exited.
func slowService(t *testing.T, delay string, exitInstead bool) string {
	t.Helper()
	dir := t.TempDir()
	sleepBin, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sleepBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rollcall-slow-svc"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "#!/bin/bash\nsleep " + delay + "\n"
	if exitInstead {
		body += "exit 3\n"
	} else {
		body += "touch \"$(dirname \"$0\")/ready\"\nexec \"$(dirname \"$0\")/rollcall-slow-svc\" 60\n"
	}
	launcher := filepath.Join(dir, "launch")
	if err := os.WriteFile(launcher, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return launcher
}

func TestSpawnWaitsForSlowExec(t *testing.T) {
	launcher := slowService(t, "1.5", false)
	ready := filepath.Join(filepath.Dir(launcher), "ready")
	out, err := runStackLib(t, `spawn slow "`+launcher+`"
wait_up slow rollcall-slow-svc 20 test -f "`+ready+`"
pid=$(pid_of slow)
pid_alive "$pid" rollcall-slow-svc && echo "UP $pid"`)
	if err != nil || !strings.Contains(out, "UP ") {
		t.Fatalf("a service that takes 1.5 s to exec was not seen up: %v\n%s", err, out)
	}
}

func TestSpawnReportsAnExitDuringStartUp(t *testing.T) {
	launcher := slowService(t, "0.5", true)
	start := time.Now()
	out, err := runStackLib(t, `spawn broken "`+launcher+`"
wait_up broken rollcall-slow-svc 60 false
echo "UNEXPECTED: wait_up returned"`)
	if err == nil || !strings.Contains(out, "broken: process exited during start-up") {
		t.Fatalf("a service that exits during start-up was not reported: %v\n%s", err, out)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("the exit was noticed after %v, want at once (well before the 60 s timeout)", took)
	}
}

// TestEnsurePortFreeWaitsForAClientsLocalPort: the stack's fixed ports lie in
// the kernel's ephemeral range, and a fresh start-up once lost the camera's
// port to a client connection that happened to use it as its local port
// (GStreamer's RTSP server then said "cannot listen" and exited). The check
// before a start now waits until no socket uses the port locally.
func TestEnsurePortFreeWaitsForAClientsLocalPort(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) is not installed; stack.sh installs it")
	}
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	go func() {
		for {
			c, err := server.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	// A client whose local port is the port a service wants.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
	client, err := d.Dial("tcp", server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	const hold = 1500 * time.Millisecond
	time.AfterFunc(hold, func() {
		// Reset rather than close, so no TIME-WAIT outlives the test's hold.
		_ = client.(*net.TCPConn).SetLinger(0)
		_ = client.Close()
	})
	start := time.Now()
	out, err := runStackLib(t, fmt.Sprintf(`ensure_port_free svc %d && echo FREE`, port))
	took := time.Since(start)
	if err != nil || !strings.Contains(out, "FREE") {
		t.Fatalf("ensure_port_free did not return once the port was released: %v\n%s", err, out)
	}
	if !strings.Contains(out, "held by a client connection") || took < hold {
		t.Fatalf("ensure_port_free returned after %v without waiting for the client holding port %d:\n%s", took, port, out)
	}
}

func TestReservedIn(t *testing.T) {
	out, err := runStackLib(t, `for p in 55432 57233 57234 57235 1; do
	if reserved_in "$p" "55432,57233-57234,58554"; then echo "$p in"; else echo "$p out"; fi
done
reserved_in 80 "" && echo "empty in" || echo "empty out"`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "55432 in\n57233 in\n57234 in\n57235 out\n1 out\nempty out\n"
	if out != want {
		t.Fatalf("reserved_in:\n%s\nwant:\n%s", out, want)
	}
}
