package api_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/config"
)

func TestHealth(t *testing.T) {
	h := newHarness(t, func(_ *config.Config, checks map[string]api.Checker) {
		checks["redis"] = func(context.Context) error { return nil }
	})
	h.check(t, scenario{Method: "GET", URL: "/health/live", WantStatus: 200, WantContains: []string{`"status":"ok"`, `"version":"dev"`}},
		h.request("GET", "/health/live", nil))
	h.check(t, scenario{Method: "GET", URL: "/health/ready", WantStatus: 200,
		WantContains: []string{`"postgres":{"status":"up"`, `"redis":{"status":"up"`}},
		h.request("GET", "/health/ready", nil))

	h.checks["minio"] = func(context.Context) error { return errDown }
	h.checks["temporal"] = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	time.Sleep(1100 * time.Millisecond) // past the reuse of the last answer
	res := h.request("GET", "/health/ready", nil)
	h.check(t, scenario{Method: "GET", URL: "/health/ready", WantStatus: 503,
		WantContains: []string{`"down":["minio","temporal"]`, `"reason":"unreachable"`, `"reason":"timeout"`}}, res)
	if got := res.Body.String(); strings.Contains(got, "connection refused") {
		t.Fatalf("readiness leaks error details: %s", got)
	}
}

// TestReadinessIsReused: /health/ready is public; many calls within a
// second cost one round of dependency checks.
func TestReadinessIsReused(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, func(_ *config.Config, checks map[string]api.Checker) {
		checks["postgres"] = func(context.Context) error { calls.Add(1); time.Sleep(50 * time.Millisecond); return nil }
	})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if res := h.request("GET", "/health/ready", nil); res.Code != 200 {
				t.Errorf("ready: %d", res.Code)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("50 concurrent readiness calls ran the checks %d times, want 1", n)
	}
	time.Sleep(1100 * time.Millisecond)
	h.request("GET", "/health/ready", nil)
	if n := calls.Load(); n != 2 {
		t.Fatalf("after a second the checks ran %d times in all, want 2", n)
	}
}

func TestErrorsAreProblems(t *testing.T) {
	h := newHarness(t)
	for _, s := range []scenario{
		{Method: "GET", URL: "/api/v1/nope", WantStatus: 404, WantContains: []string{`"code":"not-found"`, `"requestId":"`}},
		{Method: "GET", URL: "/openapi.json", WantStatus: 200, WantContains: []string{`"openapi":"3.1`, `"x-permission":"users:manage"`}},
		{Method: "GET", URL: "/docs", WantStatus: 200},
	} {
		res := h.request(s.Method, s.URL, nil, "X-Request-ID", "given-id-1")
		h.check(t, s, res)
		if got := res.Header().Get("X-Request-ID"); got != "given-id-1" {
			t.Errorf("%s: X-Request-ID %q not echoed", s.URL, got)
		}
	}
	if res := h.request("GET", "/health/live", nil, "X-Request-ID", "bad id with spaces"); res.Header().Get("X-Request-ID") == "bad id with spaces" {
		t.Error("a malformed request ID was trusted")
	}
	res := h.request("POST", "/api/v1/auth/login", nil)
	if ct := res.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("problem content type %q", ct)
	}
}
