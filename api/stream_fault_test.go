package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// readHealthEvent reads WebSocket messages until the camera's
// camera.health event to health arrives, or fails the test after within.
func readHealthEvent(t *testing.T, c *websocket.Conn, cameraID, health string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := readEvent(t, c, "cameras", time.Until(deadline))
		data, _ := m["data"].(map[string]any)
		if m["event"] == "camera.health" && data["cameraId"] == cameraID && data["to"] == health {
			return m
		}
	}
}

// mustReadHealthEverywhere reads the camera's change to health on every
// client and checks they all received the same event.
func mustReadHealthEverywhere(t *testing.T, clients []*websocket.Conn, cameraID, health string, within time.Duration) map[string]any {
	t.Helper()
	var first []byte
	var ev map[string]any
	for i, c := range clients {
		m := readHealthEvent(t, c, cameraID, health, within)
		b, _ := json.Marshal(m)
		if i == 0 {
			first, ev = b, m
		} else if string(b) != string(first) {
			t.Fatalf("clients of two replicas received different events:\n%s\n%s", first, b)
		}
	}
	return ev
}

// A camera whose stream stops (its RTSP server goes away) is marked
// offline by its stream — row, event log, pipeline log, status and a live
// event that reaches the dashboards of both API replicas — and online
// again soon after it returns, within the stream's backoff.
func TestStreamMarksCameraOfflineAndBackOnline(t *testing.T) {
	h := newHarness(t)
	replicas := []*replica{h.mustStartReplica(), h.mustStartReplica()}
	// The worker publishes through a Redis client of its own, as its
	// process does; no hub of an API process carries its events.
	rdb, _ := testenv.Redis(t)
	h.live = live.NewHub(rdb, h.cfg.RedisPrefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	srv := testenv.StartCameraServer(t)

	var clients []*websocket.Conn
	for _, r := range replicas {
		c := dialWS(t, r.url, "Authorization", "Bearer "+viewer)
		sendWS(t, c, `{"type":"subscribe","id":"1","channels":["cameras"]}`)
		expectWS(t, c, map[string]any{"type": "ack", "id": "1"})
		clients = append(clients, c)
	}
	cam := h.mustCreateCamera(op, map[string]any{"name": "Gate", "url": srv.URL("/cam1"), "state": "active", "fps": 1})
	t.Cleanup(func() {
		if t.Failed() {
			st, err := h.streams.Status(context.Background(), cam.ID)
			t.Logf("stream status at failure: %+v (%v)", st, err)
		}
	})
	mustReadHealthEverywhere(t, clients, cam.ID, "online", 30*time.Second)
	h.waitStreamStatus(cam.ID, 10*time.Second, func(s contract.CameraStreamStatus) bool { return s.State == contract.StreamStreaming })

	srv.Stop()
	stoppedAt := time.Now()
	ev := mustReadHealthEverywhere(t, clients, cam.ID, "offline", 30*time.Second)
	t.Logf("camera server stopped → offline event on both replicas after %s: %v", time.Since(stoppedAt).Round(100*time.Millisecond), ev["data"])
	if data, _ := ev["data"].(map[string]any); data["from"] != "online" || data["message"] == "" {
		t.Errorf("offline event data %v", ev["data"])
	}
	if c := h.mustGetCamera(op, cam.ID); c.Health != "offline" {
		t.Errorf("camera health %q, want offline", c.Health)
	}
	ctx := context.Background()
	mustHealthEvent(t, h, cam.ID, "online", "offline")
	// It stays away for a few attempts: the camera is marked offline once.
	st := h.waitStreamStatus(cam.ID, 15*time.Second, func(s contract.CameraStreamStatus) bool {
		return s.State == contract.StreamReconnecting && s.Failures >= 3
	})
	if !contract.IsCameraErrorType(st.LastErrorCode) || slices.Contains(contract.PermanentCameraErrors, st.LastErrorCode) || st.RetryAt == nil {
		t.Errorf("status %+v: want a transient camera error and a retry time", st)
	}
	var failed, offline int
	if err := h.db.QueryRowContext(ctx, "SELECT count(*) FROM detection_event_logs WHERE camera_id = ? AND kind = 'stream_failed' AND level = 'error'", cam.ID).Scan(&failed); err != nil || failed != 1 {
		t.Errorf("stream_failed pipeline events: %d (%v), want 1", failed, err)
	}
	if err := h.db.QueryRowContext(ctx, "SELECT count(*) FROM camera_events WHERE camera_id = ? AND to_value = 'offline'", cam.ID).Scan(&offline); err != nil || offline != 1 {
		t.Errorf("offline camera events: %d (%v), want 1", offline, err)
	}

	srv.Start()
	startedAt := time.Now()
	mustReadHealthEverywhere(t, clients, cam.ID, "online", 40*time.Second)
	back := time.Since(startedAt)
	t.Logf("camera server back → online event on both replicas after %s (%d failures, last %q)", back.Round(100*time.Millisecond), st.Failures, st.LastErrorCode)
	if back > 30*time.Second {
		t.Errorf("online again %s after the camera returned; want within 30s", back)
	}
	if c := h.mustGetCamera(op, cam.ID); c.Health != "online" {
		t.Errorf("camera health %q, want online", c.Health)
	}
	mustHealthEvent(t, h, cam.ID, "offline", "online")
	h.waitStreamStatus(cam.ID, 5*time.Second, func(s contract.CameraStreamStatus) bool {
		return s.State == contract.StreamStreaming && s.Failures == 0 && s.Sessions >= 2
	})
}

// mustHealthEvent checks that the camera's latest event is a health
// change from → to.
func mustHealthEvent(t *testing.T, h *harness, cameraID, from, to string) {
	t.Helper()
	evs, err := store.FindCameraEvents(context.Background(), h.db, store.CameraEventFilter{CameraID: cameraID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != "health" || evs[0].FromValue != from || evs[0].ToValue != to {
		t.Fatalf("latest camera event %+v, want health %s → %s", evs, from, to)
	}
}
