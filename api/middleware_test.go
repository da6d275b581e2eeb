package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
)

func TestAPIRateLimitPerUser(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
		c.APIRateUser = config.RateLimit{Limit: 3, Window: time.Minute}
	})
	_, alice := h.mustUserToken("alice", auth.RoleViewer)
	_, bob := h.mustUserToken("bob", auth.RoleViewer)
	for i := range 3 {
		res := h.as(alice, "GET", "/api/v1/auth/me", nil)
		if res.Code != 200 {
			t.Fatalf("request %d: %d", i+1, res.Code)
		}
		if got := res.Header().Get("RateLimit-Remaining"); got != string(rune('2'-i)) {
			t.Fatalf("request %d: RateLimit-Remaining %q", i+1, got)
		}
	}
	res := h.as(alice, "GET", "/api/v1/auth/me", nil)
	h.check(t, scenario{Method: "GET", URL: "me", WantStatus: 429, WantContains: []string{`"code":"rate-limited"`},
		WantHeaders: map[string]string{"Retry-After": "*", "RateLimit-Limit": "3", "RateLimit-Remaining": "0"}}, res)
	if res := h.as(bob, "GET", "/api/v1/auth/me", nil); res.Code != 200 {
		t.Fatalf("another user is limited too: %d", res.Code)
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	h := newHarness(t)
	_, tok := h.mustUserToken("root", auth.RoleAdmin)
	_ = h.db.Close() // every query now fails inside the handler
	res := h.as(tok, "GET", "/api/v1/users", nil)
	h.check(t, scenario{Method: "GET", URL: "/api/v1/users", WantStatus: 500,
		WantContains: []string{`"code":"internal-error"`, `"detail":"internal error"`, `"requestId":"`}}, res)
	for _, leak := range []string{"sql", "database", "closed", "store:"} {
		if strings.Contains(strings.ToLower(res.Body.String()), leak) {
			t.Fatalf("500 leaks %q: %s", leak, res.Body)
		}
	}
	// The cause goes to the server's own logger, with the request ID.
	var body struct{ RequestID string }
	_ = json.Unmarshal(res.Body.Bytes(), &body)
	logs := h.logs.String()
	if !strings.Contains(logs, "internal error") || !strings.Contains(logs, "request_id="+body.RequestID) || !strings.Contains(logs, "closed") {
		t.Fatalf("the internal error is not in the server's log with request ID %q:\n%s", body.RequestID, logs)
	}
}

func TestOversizedBodyRefused(t *testing.T) {
	h := newHarness(t)
	big := `{"username":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`
	res := h.request("POST", "/api/v1/auth/login", big)
	if res.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB login body: %d, want 413", res.Code)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
		c.CORSOrigins = []string{"https://dashboard.example.com"}
	})
	res := h.request("OPTIONS", "/api/v1/users", nil, "Origin", "https://dashboard.example.com", "Access-Control-Request-Method", "POST")
	if res.Code != http.StatusNoContent || res.Header().Get("Access-Control-Allow-Origin") != "https://dashboard.example.com" ||
		!strings.Contains(res.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight from an allowed origin: %d %v", res.Code, res.Header())
	}
	res = h.request("OPTIONS", "/api/v1/users", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	if res.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin allowed: %v", res.Header())
	}
	res = h.request("GET", "/health/live", nil, "Origin", "https://dashboard.example.com")
	if res.Header().Get("Access-Control-Allow-Origin") != "https://dashboard.example.com" {
		t.Fatalf("simple request lacks CORS headers: %v", res.Header())
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	h.request("GET", "/health/live", nil)
	h.request("GET", "/api/v1/users/00000000-0000-4000-8000-000000000000", nil)
	res := h.request("GET", "/metrics", nil)
	body := res.Body.String()
	for _, want := range []string{
		`rollcall_http_requests_total{method="GET",route="/health/live",status="200"} 1`,
		`rollcall_http_requests_total{method="GET",route="/api/v1/users/{id}",status="401"} 1`,
		`rollcall_http_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) { c.MetricsToken = "scrape-me-0123" })
	if res := h.request("GET", "/metrics", nil); res.Code != 401 {
		t.Fatalf("metrics without the token: %d", res.Code)
	}
	if res := h.request("GET", "/metrics", nil, "Authorization", "Bearer wrong"); res.Code != 401 {
		t.Fatalf("metrics with a wrong token: %d", res.Code)
	}
	if res := h.request("GET", "/metrics", nil, "Authorization", "Bearer scrape-me-0123"); res.Code != 200 || !strings.Contains(res.Body.String(), "go_goroutines") {
		t.Fatalf("metrics with the token: %d", res.Code)
	}
}

// A 422 never echoes a whole body or a secret field back to the client.
func TestValidationDoesNotEchoSecrets(t *testing.T) {
	h := newHarness(t)
	res := h.request("POST", "/api/v1/auth/login", map[string]string{"username": "a", "password": "Echo-Me-Not-42", "extra": "x"})
	if res.Code != 422 || strings.Contains(res.Body.String(), "Echo-Me-Not-42") {
		t.Fatalf("%d %s", res.Code, res.Body)
	}
}
