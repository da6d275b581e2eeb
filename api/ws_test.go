package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
)

// replica is one API process with a live hub, serving over HTTP.
type replica struct {
	url  string // ws://…/ws
	hub  *live.Hub
	stop func() // stops the hub (as at shutdown)
}

// mustStartReplica serves h's API (its database, Redis prefix and token
// keys) with a hub of its own on a Redis client of its own, as another
// process would; it becomes h.handler too, so h's helpers reach it.
func (h *harness) mustStartReplica() *replica {
	h.t.Helper()
	rdb, _ := testenv.Redis(h.t) // a client of its own; the key prefix is h's
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(rdb, h.cfg.RedisPrefix, log)
	handler, _, err := api.New(api.Deps{Config: h.cfg, Log: log, DB: h.db, Redis: rdb, Tokens: h.tokens, Checks: h.checks,
		Temporal: h.temporal, Streams: h.streams, Blobs: h.blobs, Secrets: h.box, Providers: h.faces, Live: hub,
		Recent: live.NewRecent(rdb, h.cfg.RedisPrefix, live.DefaultWindow, live.DefaultPerCamera)})
	if err != nil {
		h.t.Fatal(err)
	}
	h.handler = handler
	srv := httptest.NewServer(handler)
	h.t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("hub Run: %v", err)
		}
	})
	h.t.Cleanup(stop)
	select {
	case <-hub.Ready():
	case <-time.After(5 * time.Second):
		h.t.Fatal("hub did not subscribe to Redis")
	}
	return &replica{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", hub: hub, stop: stop}
}

// dialWS connects with the given request headers; it fails the test unless
// the upgrade succeeds.
func dialWS(t *testing.T, url string, header ...string) *websocket.Conn {
	t.Helper()
	c, res, err := tryDialWS(url, header...)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func tryDialWS(url string, header ...string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
}

func sendWS(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// readWS returns the next message as a JSON object.
func readWS(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
		t.Fatalf("not a JSON text message: %s", data)
	}
	return m
}

// expectWS reads the next message and checks the given fields.
func expectWS(t *testing.T, c *websocket.Conn, want map[string]any) map[string]any {
	t.Helper()
	m := readWS(t, c)
	for k, v := range want {
		if fmt.Sprint(m[k]) != fmt.Sprint(v) {
			t.Fatalf("message %v: %s = %v, want %v", m, k, m[k], v)
		}
	}
	return m
}

// expectClose reads until the server closes and checks the close status
// and that the reason contains reason.
func expectClose(t *testing.T, c *websocket.Conn, code websocket.StatusCode, reason string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err == nil {
			t.Logf("before close: %s", data)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		if ce.Code != code || !strings.Contains(ce.Reason, reason) {
			t.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

func mustPublishLive(t *testing.T, hub *live.Hub, channel, typ string, data any) {
	t.Helper()
	if err := hub.Publish(context.Background(), channel, live.Event{Type: typ, Data: data}); err != nil {
		t.Fatal(err)
	}
}

func TestWSAuthentication(t *testing.T) {
	h := newHarness(t)
	r := h.mustStartReplica()
	_, token := h.mustUserToken("wsviewer", auth.RoleViewer)
	subscribe := `{"type":"subscribe","channels":["cameras"],"id":"1"}`
	ack := map[string]any{"type": "ack", "id": "1", "channels": []any{"cameras"}}

	t.Run("header", func(t *testing.T) {
		c := dialWS(t, r.url, "Authorization", "Bearer "+token)
		sendWS(t, c, subscribe)
		expectWS(t, c, ack)
	})
	t.Run("query parameter", func(t *testing.T) {
		c := dialWS(t, r.url+"?access_token="+token)
		sendWS(t, c, subscribe)
		expectWS(t, c, ack)
	})
	t.Run("first message", func(t *testing.T) {
		c := dialWS(t, r.url)
		sendWS(t, c, `{"type":"auth","token":"`+token+`","id":"a"}`)
		expectWS(t, c, map[string]any{"type": "ack", "id": "a"})
		sendWS(t, c, subscribe)
		expectWS(t, c, ack)
	})
	t.Run("no message", func(t *testing.T) {
		t.Parallel() // waits out the 2 s
		c := dialWS(t, r.url)
		expectClose(t, c, 4401, "authentication timeout", 3500*time.Millisecond)
	})
	t.Run("first message is not auth", func(t *testing.T) {
		c := dialWS(t, r.url)
		sendWS(t, c, subscribe)
		expectClose(t, c, 4401, "authentication required", 5*time.Second)
	})
	t.Run("first message with a forged token", func(t *testing.T) {
		c := dialWS(t, r.url)
		sendWS(t, c, `{"type":"auth","token":"forged.token.value"}`)
		expectClose(t, c, 4401, "invalid or expired", 5*time.Second)
	})
	refused := []struct {
		name   string
		url    string
		header []string
	}{
		{"forged header", r.url, []string{"Authorization", "Bearer forged.token.value"}},
		{"not a bearer header", r.url, []string{"Authorization", "Basic " + token}},
		{"forged query parameter", r.url + "?access_token=forged.token.value", nil},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, res, err := tryDialWS(tt.url, tt.header...)
			if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("dial: %v, response %+v; want HTTP 401 before the upgrade", err, res)
			}
			if got := res.Header.Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type %q", got)
			}
		})
	}
	t.Run("signed out session", func(t *testing.T) {
		_, token := h.mustUserToken("wsleaver", auth.RoleViewer)
		dialWS(t, r.url, "Authorization", "Bearer "+token)
		if res := h.as(token, http.MethodPost, "/api/v1/auth/logout", nil); res.Code != http.StatusNoContent {
			t.Fatalf("logout: %d %s", res.Code, res.Body.String())
		}
		_, res, err := tryDialWS(r.url + "?access_token=" + token)
		if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial after logout: %v, %+v; want HTTP 401", err, res)
		}
	})
}

func TestWSSubscriptionsAndEvents(t *testing.T) {
	h := newHarness(t)
	r := h.mustStartReplica()
	viewer, token := h.mustUserToken("wswatcher", auth.RoleViewer)
	other, _ := h.mustCreateUser("wsother", auth.RoleViewer)
	c := dialWS(t, r.url, "Authorization", "Bearer "+token)
	cam := "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b"

	steps := []struct {
		name string
		send string
		want map[string]any
	}{
		{"subscribe", `{"type":"subscribe","id":"1","channels":["cameras","detections:` + cam + `","cameras"]}`,
			map[string]any{"type": "ack", "id": "1", "channels": []any{"cameras", "detections:" + cam}}},
		{"own notifications", `{"type":"subscribe","id":"2","channels":["notifications:` + viewer.ID + `"]}`,
			map[string]any{"type": "ack", "id": "2"}},
		{"someone else's notifications", `{"type":"subscribe","id":"3","channels":["alerts","notifications:` + other.ID + `"]}`,
			map[string]any{"type": "error", "id": "3", "code": "forbidden"}},
		{"unknown channel", `{"type":"subscribe","id":"4","channels":["audit"]}`,
			map[string]any{"type": "error", "id": "4", "code": "bad-channel"}},
		{"malformed id", `{"type":"subscribe","id":"5","channels":["detections:42"]}`,
			map[string]any{"type": "error", "id": "5", "code": "bad-channel"}},
		{"no channels", `{"type":"subscribe","id":"6","channels":[]}`,
			map[string]any{"type": "error", "id": "6", "code": "bad-message"}},
		{"bad JSON", `{"type":`, map[string]any{"type": "error", "code": "bad-message"}},
		{"unknown type", `{"type":"hello","id":"7"}`, map[string]any{"type": "error", "id": "7", "code": "bad-message"}},
		{"second auth", `{"type":"auth","token":"x","id":"8"}`, map[string]any{"type": "error", "id": "8", "code": "bad-message"}},
		{"ping", `{"type":"ping","id":"9"}`, map[string]any{"type": "pong", "id": "9"}},
	}
	for _, s := range steps {
		sendWS(t, c, s.send)
		t.Run(s.name, func(t *testing.T) { expectWS(t, c, s.want) })
	}

	// A binary frame is refused like bad JSON; the connection stays.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	expectWS(t, c, map[string]any{"type": "error", "code": "bad-message"})

	// Events of subscribed channels arrive; the forbidden "alerts" was not
	// subscribed (nothing of a refused request is), nor was "attendance".
	// Redis keeps one publisher's order, so the next event read shows what
	// was skipped.
	mustPublishLive(t, r.hub, "alerts", "alert.raised", nil)
	mustPublishLive(t, r.hub, "attendance", "attendance.logged", nil)
	mustPublishLive(t, r.hub, "cameras", "camera.health", map[string]string{"status": "offline"})
	m := expectWS(t, c, map[string]any{"type": "event", "channel": "cameras", "event": "camera.health"})
	if data, _ := m["data"].(map[string]any); data["status"] != "offline" {
		t.Errorf("data = %v", m["data"])
	}
	if at, _ := m["at"].(string); at == "" {
		t.Errorf("no time: %v", m)
	}
	mustPublishLive(t, r.hub, "detections:"+cam, "detection.created", map[string]int{"faces": 1})
	expectWS(t, c, map[string]any{"type": "event", "channel": "detections:" + cam, "event": "detection.created"})
	mustPublishLive(t, r.hub, "notifications:"+other.ID, "notification.created", nil)
	mustPublishLive(t, r.hub, "notifications:"+viewer.ID, "notification.created", "for you")
	expectWS(t, c, map[string]any{"type": "event", "channel": "notifications:" + viewer.ID, "data": "for you"})

	sendWS(t, c, `{"type":"unsubscribe","id":"u","channels":["cameras"]}`)
	expectWS(t, c, map[string]any{"type": "ack", "id": "u", "channels": []any{"cameras"}})
	mustPublishLive(t, r.hub, "cameras", "camera.health", nil)
	mustPublishLive(t, r.hub, "detections:"+cam, "detection.created", nil)
	expectWS(t, c, map[string]any{"type": "event", "channel": "detections:" + cam})

	// The client leaving ends its subscription on the server.
	_ = c.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for r.hub.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions left after the client closed", r.hub.Subscribers())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWSChannelLimit(t *testing.T) {
	h := newHarness(t)
	r := h.mustStartReplica()
	_, token := h.mustUserToken("wsgreedy", auth.RoleViewer)
	c := dialWS(t, r.url, "Authorization", "Bearer "+token)
	channels := make([]string, 51)
	for i := range channels {
		channels[i] = fmt.Sprintf("detections:00000000-0000-4000-8000-%012d", i)
	}
	req := func(id string, chs []string) string {
		b, _ := json.Marshal(map[string]any{"type": "subscribe", "id": id, "channels": chs})
		return string(b)
	}
	sendWS(t, c, req("all", channels))
	expectWS(t, c, map[string]any{"type": "error", "id": "all", "code": "bad-message"})
	sendWS(t, c, req("fifty", channels[:50]))
	expectWS(t, c, map[string]any{"type": "ack", "id": "fifty"})
	sendWS(t, c, req("again", channels[:2])) // already subscribed: no new channel
	expectWS(t, c, map[string]any{"type": "ack", "id": "again"})
	sendWS(t, c, req("one-more", channels[50:]))
	expectWS(t, c, map[string]any{"type": "error", "id": "one-more", "code": "too-many-channels"})
}

// TestWSTwoReplicas runs two API processes on one Redis prefix: an event
// published by either reaches clients of both.
func TestWSTwoReplicas(t *testing.T) {
	h := newHarness(t)
	a := h.mustStartReplica()
	b := h.mustStartReplica()
	_, token := h.mustUserToken("wsdual", auth.RoleViewer)
	onA := dialWS(t, a.url, "Authorization", "Bearer "+token)
	onB := dialWS(t, b.url+"?access_token="+token)
	for _, c := range []*websocket.Conn{onA, onB} {
		sendWS(t, c, `{"type":"subscribe","id":"1","channels":["detections"]}`)
		expectWS(t, c, map[string]any{"type": "ack", "id": "1"})
	}
	cam := "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b"
	mustPublishLive(t, a.hub, "detections:"+cam, "detection.created", map[string]string{"camera": cam})
	mustPublishLive(t, b.hub, "detections", "detection.created", map[string]string{"camera": "any"})
	for name, c := range map[string]*websocket.Conn{"replica A": onA, "replica B": onB} {
		first := expectWS(t, c, map[string]any{"type": "event", "channel": "detections:" + cam})
		second := expectWS(t, c, map[string]any{"type": "event", "channel": "detections"})
		if first["at"] == nil || second["data"] == nil {
			t.Errorf("%s: incomplete events %v %v", name, first, second)
		}
	}

	// A replica shutting down closes its connections with "going away";
	// the other replica keeps serving.
	a.stop()
	expectClose(t, onA, websocket.StatusGoingAway, "shutting down", 5*time.Second)
	mustPublishLive(t, b.hub, "detections", "detection.created", nil)
	expectWS(t, onB, map[string]any{"type": "event", "channel": "detections"})
}

// TestWSClosesWhenSignedOut: a connection whose session is signed out is
// closed within the 5 s re-check.
func TestWSClosesWhenSignedOut(t *testing.T) {
	h := newHarness(t)
	r := h.mustStartReplica()
	_, token := h.mustUserToken("wsleaver", auth.RoleViewer)
	c := dialWS(t, r.url, "Authorization", "Bearer "+token)
	sendWS(t, c, `{"type":"ping"}`)
	expectWS(t, c, map[string]any{"type": "pong"})
	if res := h.as(token, http.MethodPost, "/api/v1/auth/logout", nil); res.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", res.Code)
	}
	expectClose(t, c, 4401, "signed out", 7*time.Second)
}

// TestWSPerUserCap: one user's connections are capped
// (ROLLCALL_WS_PER_USER): past it the upgrade is refused (429), or a
// first-message login is closed with 1008; closing one frees a place.
func TestWSPerUserCap(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) { c.WSPerUser = 2 })
	r := h.mustStartReplica()
	_, token := h.mustUserToken("wsmany", auth.RoleViewer)
	first := dialWS(t, r.url, "Authorization", "Bearer "+token)
	second := dialWS(t, r.url, "Authorization", "Bearer "+token)
	for _, c := range []*websocket.Conn{first, second} {
		sendWS(t, c, `{"type":"ping"}`)
		expectWS(t, c, map[string]any{"type": "pong"})
	}
	_, res, err := tryDialWS(r.url, "Authorization", "Bearer "+token)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection: %v, %+v; want HTTP 429", err, res)
	}
	late := dialWS(t, r.url)
	sendWS(t, late, `{"type":"auth","token":"`+token+`"}`)
	expectClose(t, late, websocket.StatusPolicyViolation, "too many", 5*time.Second)

	_ = first.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := tryDialWS(r.url, "Authorization", "Bearer "+token)
		if err == nil {
			_ = c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection did not free its place: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWSClosesWhenTokenExpires(t *testing.T) {
	h := newHarness(t)
	r := h.mustStartReplica()
	u, _ := h.mustCreateUser("wsshort", auth.RoleViewer)
	short, err := auth.NewTokens(auth.TokenOptions{Algorithm: "HS256", Secret: []byte(testSecret),
		Issuer: h.cfg.JWT.Issuer, Audience: h.cfg.JWT.Audience, TTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	token, err := short.Issue(u.ID, u.Username, auth.RoleViewer, "short-session")
	if err != nil {
		t.Fatal(err)
	}
	c := dialWS(t, r.url, "Authorization", "Bearer "+token)
	sendWS(t, c, `{"type":"ping"}`)
	expectWS(t, c, map[string]any{"type": "pong"})
	expectClose(t, c, 4401, "token expired", 5*time.Second)
}

func TestWSOrigins(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) { c.CORSOrigins = []string{"https://dash.example"} })
	r := h.mustStartReplica()
	_, token := h.mustUserToken("wsbrowser", auth.RoleViewer)
	tests := []struct {
		origin string
		want   int
	}{
		{"https://dash.example", http.StatusSwitchingProtocols},
		{"https://evil.example", http.StatusForbidden},
		{"http://dash.example", http.StatusForbidden}, // scheme is part of the origin
		{"", http.StatusSwitchingProtocols},           // not a browser
	}
	for _, tt := range tests {
		header := []string{"Authorization", "Bearer " + token}
		if tt.origin != "" {
			header = append(header, "Origin", tt.origin)
		}
		c, res, _ := tryDialWS(r.url, header...)
		if c != nil {
			_ = c.CloseNow()
		}
		if res == nil || res.StatusCode != tt.want {
			t.Errorf("origin %q: response %+v, want %d", tt.origin, res, tt.want)
		}
	}
}

func TestWSWithoutHub(t *testing.T) {
	h := newHarness(t)
	res := h.request(http.MethodGet, "/ws", nil)
	if res.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET /ws without a hub: %d, want 503", res.Code)
	}
}
