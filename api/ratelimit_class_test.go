package api_test

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/testenv"
)

// replica is a second API server over the same database and the same
// Redis prefix, with a Redis connection of its own: another replica.
func (h *harness) replica() *harness {
	h.t.Helper()
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(h.t, "ROLLCALL_REDIS_ADDR")}})
	require.NoError(h.t, err)
	h.t.Cleanup(rdb.Close)
	handler, humaAPI, err := api.New(api.Deps{Config: h.cfg, Log: slog.New(slog.NewTextHandler(h.logs, nil)), DB: h.db, Redis: rdb,
		Tokens: h.tokens, Checks: h.checks, Temporal: h.temporal, Streams: h.streams, Blobs: h.blobs, Secrets: h.box,
		Providers: h.faces, Recent: h.recent})
	require.NoError(h.t, err)
	r := *h
	r.handler, r.api = handler, humaAPI
	return &r
}

func withRates(set func(r *config.ClassRates)) harnessOption {
	return func(c *config.Config, _ map[string]api.Checker) { set(&c.Rates) }
}

// perMinute is n requests a minute.
func perMinute(n int) config.RateLimit { return config.RateLimit{Limit: n, Window: time.Minute} }

// Every registered operation has a rate class, and the ones that take
// files, start exports, drive the console or sign in are in theirs.
func TestEveryOperationHasARateClass(t *testing.T) {
	h := newHarness(t)
	want := map[string]string{
		"login": "auth", "refresh-token": "auth", "logout": "auth", "get-me": "auth", "change-user-password": "auth",
		"send-frame": "uploads", "create-face": "uploads", "add-face-images": "uploads", "import-cameras": "uploads",
		"create-attendance-export": "exports", "invoke-endpoint": "console",
		"health-live": "own", "health-ready": "own",
		"list-cameras": "reads", "export-cameras": "reads", "create-camera": "writes", "delete-face-image": "writes",
	}
	known := map[string]bool{"own": true}
	for _, name := range config.RateClassNames {
		known[name] = true
	}
	seen := map[string]bool{}
	ops := 0
	for path, item := range h.api.OpenAPI().Paths {
		for method, op := range operationsOf(item) {
			ops++
			name := method + " " + path + " (" + op.OperationID + ")"
			class, _ := op.Extensions["x-rate-class"].(string)
			seen[class] = true
			switch {
			case !known[class]:
				t.Errorf("%s: no known rate class (x-rate-class=%q)", name, class)
			case want[op.OperationID] != "" && class != want[op.OperationID]:
				t.Errorf("%s: rate class %s, want %s", name, class, want[op.OperationID])
			case op.MaxBodyBytes > 1<<20 && class != "uploads": // above Huma's default: files or images
				t.Errorf("%s: takes a raised body (%d bytes) but is in class %s, not uploads", name, op.MaxBodyBytes, class)
			case strings.HasPrefix(path, "/api/v1/auth/") && class != "auth":
				t.Errorf("%s: an /auth operation in class %s", name, class)
			case publicOperations[op.OperationID] && class != "auth" && class != "own":
				t.Errorf("%s: a public operation outside the auth class is not limited per IP", name)
			case want[op.OperationID] == "" && class != "own" && op.MaxBodyBytes <= 1<<20 && !strings.HasPrefix(path, "/api/v1/auth/"):
				// The rest by method: GET reads, anything else writes.
				if wantClass := map[bool]string{true: "reads", false: "writes"}[method == http.MethodGet]; class != wantClass {
					t.Errorf("%s: class %s, want %s", name, class, wantClass)
				}
			}
		}
	}
	require.Greater(t, ops, 12)
	for id := range want {
		require.True(t, hasOperation(h.api, id), "%s is not registered (stale expectation)", id)
	}
	for _, name := range config.RateClassNames {
		require.True(t, seen[name], "no operation is in class %s", name)
	}
}

// Two replicas with the same Redis prefix share one budget for the exact
// classes: two requests through each spend a limit of 4, and the fifth
// is refused on either.
func TestRateClassSharedAcrossReplicas(t *testing.T) {
	for _, tc := range []struct {
		class string
		set   func(*config.ClassRates)
		send  func(h *harness, tok string) response
	}{
		{"exports", func(r *config.ClassRates) { r.Exports.User = perMinute(4) }, func(h *harness, tok string) response {
			// An invalid job is refused (422) after it was counted: no workflow starts.
			return h.as(tok, "POST", "/api/v1/attendance/export", map[string]any{"kind": "nonsense"})
		}},
		{"console", func(r *config.ClassRates) { r.Console.User = perMinute(4) }, func(h *harness, tok string) response {
			return h.as(tok, "POST", "/api/v1/developer/endpoints/get-me/invoke", map[string]any{})
		}},
	} {
		t.Run(tc.class, func(t *testing.T) {
			a := newHarness(t, withRates(tc.set))
			b := a.replica()
			_, tok := a.mustUserToken("root", auth.RoleAdmin)
			for i, h := range []*harness{a, a, b, b} {
				res := tc.send(h, tok)
				require.NotEqual(t, http.StatusTooManyRequests, res.Code, "request %d: %s", i+1, res.Body)
				require.Equal(t, "4", res.Header().Get("RateLimit-Limit"), "request %d", i+1)
				require.Equal(t, strconv.Itoa(3-i), res.Header().Get("RateLimit-Remaining"), "request %d: the replicas count together", i+1)
			}
			for name, h := range map[string]*harness{"A": a, "B": b} {
				res := tc.send(h, tok)
				h.check(t, scenario{Method: "POST", URL: tc.class + " via " + name, WantStatus: http.StatusTooManyRequests,
					WantContains: []string{`"code":"rate-limited"`},
					WantHeaders:  map[string]string{"Retry-After": "*", "RateLimit-Remaining": "0", "Content-Type": "application/problem+json"}}, res)
				secs, err := strconv.Atoi(res.Header().Get("Retry-After"))
				require.NoError(t, err)
				require.InDelta(t, 60, secs, 2)
			}
			// Other classes keep their own budget.
			require.Equal(t, http.StatusOK, b.as(tok, "GET", "/api/v1/users", nil).Code)
		})
	}
}

// The per-IP limit of a class counts every user from the address.
func TestRateClassPerClientIP(t *testing.T) {
	h := newHarness(t, withRates(func(r *config.ClassRates) { r.Console.IP = perMinute(3) }))
	_, alice := h.mustUserToken("alice", auth.RoleAdmin)
	_, bob := h.mustUserToken("bob", auth.RoleAdmin)
	invoke := func(tok, ip string) response {
		return h.as(tok, "POST", "/api/v1/developer/endpoints/get-me/invoke", map[string]any{}, "RemoteAddr", ip+":40000")
	}
	const office = "198.51.100.7"
	require.Equal(t, http.StatusOK, invoke(alice, office).Code)
	require.Equal(t, http.StatusOK, invoke(alice, office).Code)
	res := invoke(bob, office)
	require.Equal(t, http.StatusOK, res.Code)
	require.Equal(t, "0", res.Header().Get("RateLimit-Remaining"), "bob's first call spends the address's last")
	h.check(t, scenario{Method: "POST", URL: "bob from the office", WantStatus: http.StatusTooManyRequests,
		WantHeaders: map[string]string{"Retry-After": "*", "RateLimit-Limit": "3"}}, invoke(bob, office))
	require.Equal(t, http.StatusOK, invoke(bob, "203.0.113.9").Code, "another address has its own budget")
}

// Sign-in is limited per client IP by the auth class, before the password
// is checked, and its answers carry the headers.
func TestRateClassAuthPerIP(t *testing.T) {
	h := newHarness(t, withRates(func(r *config.ClassRates) { r.Auth.IP = perMinute(3) }))
	_, pw := h.mustCreateUser("carol", auth.RoleViewer)
	login := func(ip string) response {
		return h.request("POST", "/api/v1/auth/login", map[string]string{"username": "carol", "password": pw}, "RemoteAddr", ip+":40000")
	}
	for i := range 3 {
		res := login("198.51.100.8")
		require.Equal(t, http.StatusOK, res.Code, "login %d", i+1)
		require.Equal(t, "3", res.Header().Get("RateLimit-Limit"))
		require.Equal(t, strconv.Itoa(2-i), res.Header().Get("RateLimit-Remaining"))
	}
	h.check(t, scenario{Method: "POST", URL: "login", WantStatus: http.StatusTooManyRequests, WantHeaders: map[string]string{"Retry-After": "*"}},
		login("198.51.100.8"))
	require.Equal(t, http.StatusOK, login("198.51.100.9").Code)
}

// Every answer under /api/v1 carries the RateLimit-* headers of its
// tightest window, for every class; the health endpoints have none.
func TestRateHeadersOnEveryClass(t *testing.T) {
	h := newHarness(t, withRates(func(r *config.ClassRates) {
		r.Auth.User, r.Reads.User, r.Writes.User = perMinute(50), perMinute(70), perMinute(60)
		r.Uploads.User, r.Exports.User, r.Console.User = perMinute(40), perMinute(20), perMinute(30)
	}))
	_, tok := h.mustUserToken("root", auth.RoleAdmin)
	for _, tc := range []struct {
		class, method, url string
		body               any
		limit              string
	}{
		{"auth", "GET", "/api/v1/auth/me", nil, "50"},
		{"reads", "GET", "/api/v1/cameras", nil, "70"},
		{"writes", "PUT", "/api/v1/settings/preferences", map[string]any{"language": "en"}, "60"},
		{"uploads", "POST", "/api/v1/faces", "{}", "40"},
		{"exports", "POST", "/api/v1/attendance/export", map[string]any{"kind": "nonsense"}, "20"},
		{"console", "POST", "/api/v1/developer/endpoints/get-me/invoke", map[string]any{}, "30"},
	} {
		res := h.as(tok, tc.method, tc.url, tc.body)
		require.NotEqual(t, http.StatusTooManyRequests, res.Code, tc.class)
		require.Equal(t, tc.limit, res.Header().Get("RateLimit-Limit"), "%s (%d %s)", tc.class, res.Code, res.Body)
		require.NotEmpty(t, res.Header().Get("RateLimit-Remaining"), tc.class)
		reset, err := strconv.Atoi(res.Header().Get("RateLimit-Reset"))
		require.NoError(t, err, tc.class)
		require.True(t, reset >= 1 && reset <= 60, "%s: RateLimit-Reset %d", tc.class, reset)
	}
	res := h.request("GET", "/api/v1/cameras", nil)
	require.Equal(t, http.StatusUnauthorized, res.Code)
	require.Equal(t, strconv.Itoa(h.cfg.UnauthRateIP.Limit), res.Header().Get("RateLimit-Limit"), "a 401 answers with the unauthenticated limit's window")
	res = h.request("GET", "/health/live", nil)
	require.Equal(t, http.StatusOK, res.Code)
	require.Empty(t, res.Header().Get("RateLimit-Limit"), "the health endpoints keep their own rules")
}

// ROLLCALL_API_RATE_USER stays an overall ceiling: it is the tightest
// window when it is lower than the class limits.
func TestAPIRateUserIsTheCeiling(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
		c.APIRateUser = perMinute(3)
		c.Rates.Reads.User, c.Rates.Writes.User = perMinute(100), perMinute(100)
	})
	_, tok := h.mustUserToken("root", auth.RoleAdmin)
	require.Equal(t, http.StatusOK, h.as(tok, "GET", "/api/v1/cameras", nil).Code)
	require.Equal(t, http.StatusOK, h.as(tok, "GET", "/api/v1/users", nil).Code)
	res := h.as(tok, "PUT", "/api/v1/settings/preferences", map[string]any{"language": "en"})
	require.Equal(t, "3", res.Header().Get("RateLimit-Limit"), "%d %s", res.Code, res.Body)
	require.Equal(t, "0", res.Header().Get("RateLimit-Remaining"))
	require.Equal(t, http.StatusTooManyRequests, h.as(tok, "GET", "/api/v1/cameras", nil).Code, "reads and writes share the ceiling")
}
