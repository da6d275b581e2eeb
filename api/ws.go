package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
)

// WebSocket limits (docs/websocket.md).
const (
	wsAuthTimeout  = 2 * time.Second  // for the first-message auth
	wsPingInterval = 25 * time.Second // server pings
	// wsRecheckInterval is how often a connection re-checks that its session
	// was not signed out; if the check cannot be made the connection is
	// closed (1013, try again later), as REST answers 503.
	wsRecheckInterval = 5 * time.Second
	wsPongTimeout     = 10 * time.Second
	wsWriteTimeout    = 10 * time.Second
	wsReadLimit       = 64 << 10
	wsMaxChannels     = 50
	wsMaxIDLength     = 64
)

// wsCloseUnauthorized closes a connection whose token is missing, invalid,
// expired or signed out: reconnect with a fresh access token.
const wsCloseUnauthorized websocket.StatusCode = 4401

// Error codes of {"type":"error"} messages.
const (
	wsErrBadMessage      = "bad-message"
	wsErrBadChannel      = "bad-channel"
	wsErrForbidden       = "forbidden"
	wsErrTooManyChannels = "too-many-channels"
)

// wsIn is a message from the client.
type wsIn struct {
	Type     string   `json:"type"`
	ID       string   `json:"id"`
	Channels []string `json:"channels"`
	Token    string   `json:"token"`
}

// wsOut is a message to the client; its type says which fields it has.
type wsOut struct {
	Type     string          `json:"type"`
	ID       string          `json:"id,omitempty"`
	Channels []string        `json:"channels,omitempty"`
	Code     string          `json:"code,omitempty"`
	Message  string          `json:"message,omitempty"`
	Channel  string          `json:"channel,omitempty"`
	Event    string          `json:"event,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	At       *time.Time      `json:"at,omitempty"`
}

// wsHandler serves GET /ws: live events over a WebSocket (docs/websocket.md).
// It is a plain chi route, not a Huma operation, and authenticates itself.
type wsHandler struct {
	s      *Server
	hub    *live.Hub
	accept *websocket.AcceptOptions
}

func registerWS(router chi.Router, s *Server, hub *live.Hub) {
	accept := &websocket.AcceptOptions{OriginPatterns: s.cfg.CORSOrigins}
	if slices.Contains(s.cfg.CORSOrigins, "*") {
		accept = &websocket.AcceptOptions{InsecureSkipVerify: true}
	}
	router.Get("/ws", (&wsHandler{s: s, hub: hub, accept: accept}).ServeHTTP)
}

// ServeHTTP authenticates the request (Authorization header or
// access_token query parameter; without either, a first "auth" message),
// upgrades it and serves the connection until it ends.
func (h *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.hub == nil {
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "live updates are not configured"))
		return
	}
	token := r.URL.Query().Get("access_token")
	if r.Header.Get("Authorization") != "" {
		var ok bool
		if token, ok = bearerToken(r.Header.Get("Authorization")); !ok {
			h.refuse(w, r, newProblem(http.StatusUnauthorized, CodeUnauthorized, "send Authorization: Bearer <access token>"))
			return
		}
	}
	var p *auth.Principal
	var expires time.Time
	if token != "" {
		var problem *Problem
		if p, expires, problem = h.s.verifyAccessToken(r.Context(), token); problem != nil {
			h.refuse(w, r, problem)
			return
		}
	}
	if p != nil && h.s.wsUsers.count(p.UserID) >= h.s.cfg.WSPerUser {
		writeProblem(w, r, newProblem(http.StatusTooManyRequests, CodeRateLimited, "too many live connections for this user"))
		return
	}
	c, err := websocket.Accept(w, r, h.accept)
	if err != nil {
		h.s.log.DebugContext(r.Context(), "websocket upgrade refused", slog.String("error", err.Error()))
		return
	}
	defer c.CloseNow() //nolint:errcheck // already closed on the normal paths
	c.SetReadLimit(wsReadLimit)
	ctx := context.WithoutCancel(r.Context()) // the connection ends on its own terms (serve)
	if p == nil {
		if p, expires = h.authenticateFirstMessage(ctx, c); p == nil {
			return
		}
	}
	if info := infoFrom(r.Context()); info != nil {
		info.Principal = p
	}
	if !h.s.wsUsers.take(p.UserID, h.s.cfg.WSPerUser) {
		_ = c.Close(websocket.StatusPolicyViolation, "too many live connections for this user")
		return
	}
	defer h.s.wsUsers.release(p.UserID)
	conn := &wsConn{h: h, c: c, p: p, sub: h.hub.Subscribe(), channels: make(map[string]bool)}
	defer conn.sub.Close()
	conn.serve(ctx, expires)
}

func (h *wsHandler) refuse(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Status == http.StatusUnauthorized {
		p.headers = http.Header{"WWW-Authenticate": {`Bearer realm="rollcall"`}}
	}
	writeProblem(w, r, p)
}

// authenticateFirstMessage waits wsAuthTimeout for {"type":"auth","token":…};
// on failure it closes the connection and returns a nil principal.
func (h *wsHandler) authenticateFirstMessage(ctx context.Context, c *websocket.Conn) (*auth.Principal, time.Time) {
	// A timer closes with a proper close frame; a context deadline on Read
	// would drop the TCP connection without one.
	timer := time.AfterFunc(wsAuthTimeout, func() { _ = c.Close(wsCloseUnauthorized, "authentication timeout") })
	defer timer.Stop()
	typ, data, err := c.Read(ctx)
	if err != nil || !timer.Stop() {
		return nil, time.Time{}
	}
	var m wsIn
	if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil || m.Type != "auth" || m.Token == "" {
		_ = c.Close(wsCloseUnauthorized, `authentication required: send {"type":"auth","token":"<access token>"}`)
		return nil, time.Time{}
	}
	p, expires, problem := h.s.verifyAccessToken(ctx, m.Token)
	if problem != nil {
		code := wsCloseUnauthorized
		if problem.Status != http.StatusUnauthorized {
			code = websocket.StatusTryAgainLater
		}
		_ = c.Close(code, problem.Detail)
		return nil, time.Time{}
	}
	out, _ := json.Marshal(wsOut{Type: "ack", ID: truncate(m.ID, wsMaxIDLength)})
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	if c.Write(wctx, websocket.MessageText, out) != nil {
		return nil, time.Time{}
	}
	return p, expires
}

// wsConn is one authenticated connection.
type wsConn struct {
	h        *wsHandler
	c        *websocket.Conn
	p        *auth.Principal
	sub      *live.Subscription
	channels map[string]bool // owned by serve's goroutine
}

// serve runs the connection: one goroutine reads client messages, this one
// handles them and writes everything (so an ack precedes the events of its
// channels), a third pings. It returns once the connection is closed and
// its goroutines have ended.
func (wc *wsConn) serve(ctx context.Context, expires time.Time) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		_ = wc.c.CloseNow()
		wg.Wait()
	}()
	in := make(chan []byte)
	readErr := make(chan error, 1)
	wg.Go(func() { readErr <- wc.read(ctx, in) })
	pingErr := make(chan error, 1)
	ping := time.NewTicker(wsPingInterval)
	defer ping.Stop()
	recheck := time.NewTicker(wsRecheckInterval)
	defer recheck.Stop()
	expiry := time.NewTimer(time.Until(expires))
	defer expiry.Stop()
	log := wc.h.s.log.With(slog.String("user_id", wc.p.UserID))

	for {
		select {
		case data := <-in:
			if err := wc.handle(ctx, data); err != nil {
				return
			}
		case m, ok := <-wc.sub.C():
			if !ok {
				wc.closeFor(wc.sub.Err(), log)
				return
			}
			at := m.At
			if wc.write(ctx, wsOut{Type: "event", Channel: m.Channel, Event: m.Type, Data: m.Data, At: &at}) != nil {
				return
			}
		case err := <-readErr:
			log.DebugContext(ctx, "websocket closed by client", slog.String("error", err.Error()))
			return
		case err := <-pingErr:
			log.InfoContext(ctx, "websocket dead: no pong", slog.String("error", err.Error()))
			return
		case <-recheck.C:
			if revoked, err := wc.h.s.revoked.IsRevoked(ctx, wc.p.SessionID); err != nil {
				// Fail closed, as REST does: the session may have been signed out.
				log.WarnContext(ctx, "websocket session check failed; closing", slog.String("error", err.Error()))
				_ = wc.c.Close(websocket.StatusTryAgainLater, "session check unavailable")
				return
			} else if revoked {
				_ = wc.c.Close(wsCloseUnauthorized, "session has been signed out")
				return
			}
		case <-ping.C:
			wg.Go(func() {
				pctx, cancel := context.WithTimeout(ctx, wsPongTimeout)
				defer cancel()
				if err := wc.c.Ping(pctx); err != nil {
					select {
					case pingErr <- err:
					default:
					}
				}
			})
		case <-expiry.C:
			_ = wc.c.Close(wsCloseUnauthorized, "token expired")
			return
		}
	}
}

// read passes the client's messages to serve until the connection fails.
func (wc *wsConn) read(ctx context.Context, in chan<- []byte) error {
	for {
		typ, data, err := wc.c.Read(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			data = nil // answered as a bad message
		}
		select {
		case in <- data:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// handle answers one client message; an error means the connection failed.
func (wc *wsConn) handle(ctx context.Context, data []byte) error {
	var m wsIn
	if err := json.Unmarshal(data, &m); err != nil || data == nil {
		return wc.fail(ctx, "", wsErrBadMessage, "messages are JSON objects in text frames")
	}
	if len(m.ID) > wsMaxIDLength {
		return wc.fail(ctx, "", wsErrBadMessage, "id is longer than 64 characters")
	}
	switch m.Type {
	case "ping":
		return wc.write(ctx, wsOut{Type: "pong", ID: m.ID})
	case "subscribe":
		return wc.subscribe(ctx, m)
	case "unsubscribe":
		return wc.unsubscribe(ctx, m)
	case "auth":
		return wc.fail(ctx, m.ID, wsErrBadMessage, "already authenticated")
	}
	return wc.fail(ctx, m.ID, wsErrBadMessage, "unknown message type; use subscribe, unsubscribe or ping")
}

// subscribe adds all the requested channels or, if any is refused, none.
func (wc *wsConn) subscribe(ctx context.Context, m wsIn) error {
	channels, code, problem := requestedChannels(m)
	if code != "" {
		return wc.fail(ctx, m.ID, code, problem)
	}
	added := 0
	for _, ch := range channels {
		if !live.CanSubscribe(wc.p, ch) {
			return wc.fail(ctx, m.ID, wsErrForbidden, "you may not subscribe to "+ch)
		}
		if !wc.channels[ch] {
			added++
		}
	}
	if len(wc.channels)+added > wsMaxChannels {
		return wc.fail(ctx, m.ID, wsErrTooManyChannels, "a connection may subscribe to at most 50 channels")
	}
	wc.sub.Subscribe(channels...)
	for _, ch := range channels {
		wc.channels[ch] = true
	}
	return wc.write(ctx, wsOut{Type: "ack", ID: m.ID, Channels: channels})
}

func (wc *wsConn) unsubscribe(ctx context.Context, m wsIn) error {
	channels, code, problem := requestedChannels(m)
	if code != "" {
		return wc.fail(ctx, m.ID, code, problem)
	}
	wc.sub.Unsubscribe(channels...)
	for _, ch := range channels {
		delete(wc.channels, ch)
	}
	return wc.write(ctx, wsOut{Type: "ack", ID: m.ID, Channels: channels})
}

// requestedChannels returns the request's channels without duplicates, or
// an error code and message when the list is empty, too long or names an
// invalid channel.
func requestedChannels(m wsIn) (channels []string, code, message string) {
	if len(m.Channels) == 0 || len(m.Channels) > wsMaxChannels {
		return nil, wsErrBadMessage, "channels must list 1 to 50 channel names"
	}
	for _, ch := range m.Channels {
		if !live.ValidChannel(ch) {
			return nil, wsErrBadChannel, "no such channel: " + truncate(ch, 80)
		}
		if !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	return channels, "", ""
}

func (wc *wsConn) fail(ctx context.Context, id, code, message string) error {
	return wc.write(ctx, wsOut{Type: "error", ID: id, Code: code, Message: message})
}

// write sends one message within wsWriteTimeout; a client that cannot take
// it in time is disconnected.
func (wc *wsConn) write(ctx context.Context, m wsOut) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return wc.c.Write(ctx, websocket.MessageText, b)
}

// closeFor closes the connection once its subscription has ended.
func (wc *wsConn) closeFor(err error, log *slog.Logger) {
	switch {
	case errors.Is(err, live.ErrSlowConsumer):
		log.Warn("websocket closed: slow consumer")
		_ = wc.c.Close(websocket.StatusTryAgainLater, "slow consumer")
	case errors.Is(err, live.ErrHubStopped):
		_ = wc.c.Close(websocket.StatusGoingAway, "server shutting down")
	default:
		_ = wc.c.Close(websocket.StatusInternalError, "internal error")
	}
}

// wsUserCounts counts each user's live connections (on this replica).
type wsUserCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts a connection of user unless it already has limit.
func (c *wsUserCounts) take(user string, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[user] >= limit {
		return false
	}
	c.n[user]++
	return true
}

func (c *wsUserCounts) release(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[user]--; c.n[user] <= 0 {
		delete(c.n, user)
	}
}

func (c *wsUserCounts) count(user string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[user]
}
