package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/rollcall/rollcall/internal/auth"
)

// requestInfo is per-request state shared by the middlewares and handlers.
// The router-level middleware creates it; later layers fill it in.
type requestInfo struct {
	// Log is the server's logger, for code that has only the context.
	Log       *slog.Logger
	RequestID string
	ClientIP  string
	UserAgent string
	Principal *auth.Principal
	Body      *bytes.Buffer // first maxAuditBody bytes of a mutation's body
	// Audit overrides set by handlers: the created resource's ID, or the
	// actor of an unauthenticated mutation such as login.
	AuditResourceID string
	AuditActor      string
	AuditActorID    string
	// Console marks a call made by the developer console.
	Console bool
	// bearer is the request's access token (for the console's calls).
	bearer string
	// AuditBefore and AuditAfter, when a handler sets them, are the
	// changed resource's state before and after (recorded, redacted, next
	// to the request).
	AuditBefore, AuditAfter any
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey{}).(*requestInfo)
	return i
}

const maxAuditBody = 64 << 10

// maxRequestBody caps every request body, whatever the operation says:
// Huma enforces an operation's own limit on JSON bodies but not while it
// parses a multipart form, so this cap (and the Content-Length check at
// the top of authorize) keeps an upload from filling the disk.
const maxRequestBody = 100 << 20

// requestContext assigns the request ID (honouring a well-formed
// X-Request-ID), finds the client IP and captures mutation bodies for audit.
func requestContext(proxies proxyPolicy, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := &requestInfo{
				Console:   r.Header.Get(consoleHeader) != "",
				Log:       log,
				RequestID: r.Header.Get("X-Request-ID"),
				ClientIP:  proxies.clientIP(r),
				UserAgent: truncate(r.UserAgent(), 256),
			}
			if !validRequestID(info.RequestID) {
				info.RequestID = newRequestID()
			}
			w.Header().Set("X-Request-ID", info.RequestID)
			if isMutation(r.Method) && r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
				info.Body = new(bytes.Buffer)
				r.Body = &captureBody{ReadCloser: r.Body, buf: info.Body}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		})
	}
}

type captureBody struct {
	io.ReadCloser
	buf *bytes.Buffer
}

func (c *captureBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if room := maxAuditBody - c.buf.Len(); room > 0 && n > 0 {
		c.buf.Write(p[:min(n, room)])
	}
	return n, err
}

func isMutation(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// proxyPolicy says which peers may tell the client's address in
// X-Forwarded-For: none (the default), the immediate peer whatever it is
// (ROLLCALL_TRUST_PROXY alone), or the configured proxy networks
// (ROLLCALL_TRUSTED_PROXIES).
type proxyPolicy struct {
	trustPeer bool
	trusted   []netip.Prefix
}

func newProxyPolicy(trustProxy bool, cidrs []netip.Prefix) proxyPolicy {
	return proxyPolicy{trustPeer: trustProxy && len(cidrs) == 0, trusted: cidrs}
}

func (p proxyPolicy) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, c := range p.trusted {
		if c.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the peer's address; when the peer is a trusted proxy, the
// right-most address of X-Forwarded-For (every line of it, in order) that
// is not itself a trusted proxy: what a client writes in the header sits
// to the left of what the proxies append, so it cannot win.
func (p proxyPolicy) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !(p.trustPeer || p.isTrusted(peer)) {
		return host
	}
	var hops []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := peer.Unmap()
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing further left
		}
		client = a.Unmap()
		if p.trustPeer || !p.isTrusted(client) {
			break // with trustPeer only the right-most hop is the proxy's
		}
	}
	return client.String()
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, hijack).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog logs one line per request and turns panics into a 500 problem.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if rec := recover(); rec != nil {
					if rec == http.ErrAbortHandler {
						panic(rec)
					}
					log.ErrorContext(r.Context(), "panic serving request", slog.Any("panic", rec), slog.String("stack", string(debug.Stack())))
					if sw.status == 0 {
						writeProblem(sw, r, newProblem(http.StatusInternalServerError, CodeInternal, "internal error"))
					}
				}
				info := infoFrom(r.Context())
				attrs := []slog.Attr{
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", sw.status),
					slog.Int("bytes", sw.bytes),
					slog.Duration("duration", time.Since(start)),
				}
				if info != nil {
					attrs = append(attrs, slog.String("request_id", info.RequestID), slog.String("ip", info.ClientIP))
					if info.Principal != nil {
						attrs = append(attrs, slog.String("user_id", info.Principal.UserID))
					}
				}
				level := slog.LevelInfo
				if sw.status >= 500 {
					level = slog.LevelError
				}
				log.LogAttrs(r.Context(), level, "http request", attrs...)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// cors answers preflights and adds CORS headers for the configured origins
// ("*" allows any origin, without credentials).
func cors(origins []string) func(http.Handler) http.Handler {
	any := slices.Contains(origins, "*")
	return func(next http.Handler) http.Handler {
		if len(origins) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin != "" && (any || slices.Contains(origins, origin)) {
				h := w.Header()
				h.Add("Vary", "Origin")
				if any {
					h.Set("Access-Control-Allow-Origin", "*")
				} else {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Credentials", "true")
				}
				h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Content-Disposition")
				if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
					h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
					h.Set("Access-Control-Max-Age", "600")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders sets conservative headers on every response.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
