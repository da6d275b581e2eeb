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
	opUser, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	srv := testenv.StartCameraServer(t)
	// Alerts reach dashboards on "alerts" and the operator's own channel.
	alertsWS := dialWS(t, replicas[0].url, "Authorization", "Bearer "+viewer)
	sendWS(t, alertsWS, `{"type":"subscribe","id":"a","channels":["alerts"]}`)
	expectWS(t, alertsWS, map[string]any{"type": "ack", "id": "a"})
	notesWS := dialWS(t, replicas[1].url, "Authorization", "Bearer "+op)
	sendWS(t, notesWS, `{"type":"subscribe","id":"n","channels":["notifications:`+opUser.ID+`"]}`)
	expectWS(t, notesWS, map[string]any{"type": "ack", "id": "n"})

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
	// One camera_offline alert for the outage, not one per failed attempt,
	// live on "alerts" and as a notification for the operator.
	// (The test pattern's blobs also make unknown_face alerts: skipped.)
	raised := readAlertEvent(t, alertsWS, "camera_offline", 10*time.Second)
	alertData, _ := raised["data"].(map[string]any)
	if raised["event"] != "alert.raised" || alertData["type"] != "camera_offline" || alertData["sourceId"] != cam.ID {
		t.Fatalf("alerts channel: %v", raised)
	}
	alertID, _ := alertData["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		note := readEvent(t, notesWS, "notifications", time.Until(deadline))
		if nd, _ := note["data"].(map[string]any); note["event"] == "notification.created" && nd["alertId"] == alertID {
			break
		}
	}
	list := h.as(op, "GET", "/api/v1/alerts?type=camera_offline&sourceId="+cam.ID, nil)
	items, _ := list.json(t)["items"].([]any)
	if list.Code != 200 || len(items) != 1 {
		t.Fatalf("camera_offline alerts after %d failures: %d %s", st.Failures, list.Code, list.Body)
	}
	if a := items[0].(map[string]any); a["status"] != "open" || a["occurrences"] != float64(1) || a["severity"] != "critical" {
		t.Errorf("alert %v: want open, 1 occurrence, critical", a)
	}
	notes, _ := h.as(op, "GET", "/api/v1/notifications?unread=true", nil).json(t)["items"].([]any)
	if n := countWhere(notes, "alertId", alertID); n != 1 {
		t.Errorf("operator's notifications of the offline alert: %d, want 1 (%v)", n, notes)
	}
	if n := h.as(viewer, "GET", "/api/v1/notifications/unread-count", nil).json(t)["unread"]; n != float64(0) {
		t.Errorf("viewer's unread notifications: %v, want 0 (camera alerts notify admins and operators)", n)
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
	// The alert is resolved by the system as the frames return.
	resolved := readAlertEvent(t, alertsWS, "camera_offline", 10*time.Second)
	for resolved["event"] == "alert.updated" {
		resolved = readAlertEvent(t, alertsWS, "camera_offline", 10*time.Second)
	}
	if rd, _ := resolved["data"].(map[string]any); resolved["event"] != "alert.resolved" || rd["id"] != alertID || rd["resolvedBy"] != nil {
		t.Errorf("alerts channel after the camera returned: %v", resolved)
	}
	got := h.as(op, "GET", "/api/v1/alerts/"+alertID, nil).json(t)
	if got["status"] != "resolved" || got["resolution"] != "the camera delivers frames again" {
		t.Errorf("alert after the camera returned: %v", got)
	}
	h.waitStreamStatus(cam.ID, 5*time.Second, func(s contract.CameraStreamStatus) bool {
		return s.State == contract.StreamStreaming && s.Failures == 0 && s.Sessions >= 2
	})
}

// countWhere counts the JSON objects in items whose key is value.
func countWhere(items []any, key string, value any) int {
	n := 0
	for _, it := range items {
		if m, _ := it.(map[string]any); m[key] == value {
			n++
		}
	}
	return n
}

// readAlertEvent reads "alerts" events until one about an alert of typ.
func readAlertEvent(t *testing.T, c *websocket.Conn, typ string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := readEvent(t, c, "alerts", time.Until(deadline))
		if data, _ := m["data"].(map[string]any); data["type"] == typ {
			return m
		}
	}
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
