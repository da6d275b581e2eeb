package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	temporalclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/workflows"
)

// detectionWatch is a dashboard: a WebSocket client of the API subscribed
// to every camera's detections, keeping when each arrived.
type detectionWatch struct {
	mu     sync.Mutex
	seen   []seenDetection
	latest map[string]time.Time   // camera → when its last detection arrived
	recent map[string][]time.Time // camera → its last steadyFrames frames' read times
	err    error
}

// steadyFrames is how many of a camera's last frames tell whether it
// streams steadily.
const steadyFrames = 5

type seenDetection struct {
	camera string
	at     time.Time // the frame's read time, as the event says
	recv   time.Time
}

// watchDetections connects to the stack's GET /ws, subscribes to
// "detections" and records events until the benchmark ends.
func watchDetections(b *testing.B, s *stack) *detectionWatch {
	b.Helper()
	token := login(b, client(), s.srv.URL, s.user, s.password)
	ctx, cancel := context.WithCancel(context.Background())
	dialCtx, dialed := context.WithTimeout(ctx, 10*time.Second)
	defer dialed()
	c, _, err := websocket.Dial(dialCtx, "ws"+strings.TrimPrefix(s.srv.URL, "http")+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	if err := c.Write(dialCtx, websocket.MessageText, []byte(`{"type":"subscribe","id":"1","channels":["detections"]}`)); err != nil {
		b.Fatal(err)
	}
	for {
		_, data, err := c.Read(dialCtx)
		if err != nil {
			b.Fatalf("no subscription ack: %v", err)
		}
		if bytes.Contains(data, []byte(`"ack"`)) {
			break
		}
	}
	w := &detectionWatch{latest: map[string]time.Time{}, recent: map[string][]time.Time{}}
	done := make(chan struct{})
	go func() { defer close(done); w.read(ctx, c) }()
	b.Cleanup(func() {
		cancel()
		_ = c.CloseNow()
		<-done
		if w.err != nil && ctx.Err() == nil {
			b.Errorf("WebSocket: %v", w.err)
		}
	})
	return w
}

func (w *detectionWatch) read(ctx context.Context, c *websocket.Conn) {
	for {
		_, data, err := c.Read(ctx)
		recv := time.Now()
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
		var m struct {
			Type string `json:"type"`
			Data []struct {
				CameraID string    `json:"cameraId"`
				At       time.Time `json:"at"`
			} `json:"data"`
		}
		if json.Unmarshal(data, &m) != nil || m.Type != "event" {
			continue
		}
		w.mu.Lock()
		for _, d := range m.Data {
			w.seen = append(w.seen, seenDetection{camera: d.CameraID, at: d.At, recv: recv})
			w.latest[d.CameraID] = recv
			r := append(w.recent[d.CameraID], d.At)
			w.recent[d.CameraID] = r[max(0, len(r)-steadyFrames):]
		}
		w.mu.Unlock()
	}
}

// countSeenSince counts the cameras with a detection arrived after t.
func (w *detectionWatch) countSeenSince(ids []string, t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, id := range ids {
		if w.latest[id].After(t) {
			n++
		}
	}
	return n
}

// countSteady counts the cameras streaming steadily at one frame per
// period: their last frames came at that rate, give or take 20%, neither
// falling behind nor catching up on frames that queued while FFmpeg
// waited for the CPU, and the last one is recent.
func (w *detectionWatch) countSteady(ids []string, period time.Duration) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	want := float64(period) * (steadyFrames - 1)
	n := 0
	for _, id := range ids {
		r := w.recent[id]
		if len(r) < steadyFrames || time.Since(r[len(r)-1]) > 2*period {
			continue
		}
		if span := float64(r[len(r)-1].Sub(r[0])); span >= 0.8*want && span <= 1.2*want {
			n++
		}
	}
	return n
}

// between returns, for the detections of frames read in [from, to), how
// many each camera got and every frame-to-client latency, sorted.
func (w *detectionWatch) between(ids []string, from, to time.Time) ([]int, []time.Duration) {
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	counts := make([]int, len(ids))
	var lat []time.Duration
	w.mu.Lock()
	for _, d := range w.seen {
		i, ok := index[d.camera]
		if !ok || d.at.Before(from) || !d.at.Before(to) {
			continue
		}
		counts[i]++
		lat = append(lat, d.recv.Sub(d.at))
	}
	w.mu.Unlock()
	return counts, sortedDurations(lat)
}

// sortedDurations sorts ds in place and returns it.
func sortedDurations(ds []time.Duration) []time.Duration {
	slices.Sort(ds)
	return ds
}

// userHZ is the unit of CPU times in /proc/<pid>/stat and /proc/stat.
const userHZ = 100

// procStat is what /proc/<pid>/stat tells of a process.
type procStat struct {
	ppid         int
	comm         string
	self, reaped time.Duration // CPU time of its threads; of its waited-for children
}

func readProcStat(pid int) (procStat, bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	s := string(raw)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return procStat{}, false
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
	tick := time.Second / userHZ
	return procStat{ppid: int(n(1)), comm: s[open+1 : end],
		self: time.Duration(n(11)+n(12)) * tick, reaped: time.Duration(n(13)+n(14)) * tick}, true
}

// cpuSample is the CPU time used so far by each party of the benchmark.
type cpuSample struct {
	at                     time.Time
	worker, workerReaped   time.Duration
	ffmpeg                 map[int]time.Duration // the worker's running FFmpeg children
	camera, bench, service time.Duration
	busy, total            uint64 // the machine's, in ticks (/proc/stat)
}

// sampleCPU reads the CPU time of the worker process and its FFmpeg
// children, the camera server, this process (API, hub, WebSocket client),
// the stack's services (Temporal, PostgreSQL, Redis) and the machine.
func sampleCPU(workerPID, cameraPID int) cpuSample {
	s := cpuSample{at: time.Now(), ffmpeg: map[int]time.Duration{}}
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProcStat(pid)
		switch {
		case !ok:
		case pid == workerPID:
			s.worker, s.workerReaped = p.self, p.reaped
		case p.ppid == workerPID && p.comm == "ffmpeg":
			s.ffmpeg[pid] = p.self
		case pid == cameraPID:
			s.camera = p.self
		case pid == self:
			s.bench = p.self
		case p.comm == "temporal" || p.comm == "postgres" || p.comm == "redis-server":
			s.service += p.self
		}
	}
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(raw), "\n")
		for i, f := range strings.Fields(line)[1:] {
			v, _ := strconv.ParseUint(f, 10, 64)
			if i < 8 { // user nice system idle iowait irq softirq steal (guest time is in user)
				s.total += v
				if i != 3 && i != 4 {
					s.busy += v
				}
			}
		}
	}
	return s
}

// cpuUse is CPU used over a window, in percent of one core.
type cpuUse struct {
	worker, ffmpeg, camera, bench, services, busy float64
}

// other is what the rest of the machine used (other programs, the kernel).
func (c cpuUse) other() float64 {
	return max(0, c.busy-c.worker-c.ffmpeg-c.camera-c.bench-c.services)
}

// until returns the use between s and a later sample.
func (s cpuSample) until(later cpuSample) cpuUse {
	wall := later.at.Sub(s.at).Seconds()
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall }
	var ff time.Duration
	for pid, t := range later.ffmpeg {
		ff += t - s.ffmpeg[pid] // a process started in the window counts from 0
	}
	ff += later.workerReaped - s.workerReaped // processes that ended in the window
	u := cpuUse{worker: pct(later.worker - s.worker), ffmpeg: pct(ff), camera: pct(later.camera - s.camera),
		bench: pct(later.bench - s.bench), services: pct(later.service - s.service)}
	if dt := later.total - s.total; dt > 0 {
		u.busy = 100 * float64(runtime.NumCPU()) * float64(later.busy-s.busy) / float64(dt)
	}
	return u
}

// cameraServerPID finds the camera server this process started on port.
func cameraServerPID(port int) int {
	entries, _ := os.ReadDir("/proc")
	want := []byte("camera_server.py\x00--port\x00" + strconv.Itoa(port) + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProcStat(pid); !ok || p.ppid != os.Getpid() {
			continue
		}
		if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmdline, want) {
			return pid
		}
	}
	return 0
}

// streamReports returns the last heartbeat of each camera's running
// StreamCamera activity (streams between sessions have none).
func streamReports(ctx context.Context, tc temporalclient.Client, ids []string) map[string]contract.StreamReport {
	type found struct {
		id string
		r  contract.StreamReport
	}
	results := make(chan found, len(ids))
	work := make(chan string)
	for range 8 {
		go func() {
			for id := range work {
				d, err := tc.DescribeWorkflow(ctx, workflows.CameraStreamWorkflowID(id), "")
				if err != nil || d.RawResponse == nil {
					results <- found{}
					continue
				}
				var r found
				for _, pa := range d.RawResponse.GetPendingActivities() {
					var rep contract.StreamReport
					if pa.GetActivityType().GetName() == "StreamCamera" && pa.GetHeartbeatDetails() != nil &&
						converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &rep) == nil {
						r = found{id: id, r: rep}
					}
				}
				results <- r
			}
		}()
	}
	go func() {
		for _, id := range ids {
			work <- id
		}
		close(work)
	}()
	out := make(map[string]contract.StreamReport, len(ids))
	for range ids {
		if r := <-results; r.id != "" {
			out[r.id] = r.r
		}
	}
	return out
}
