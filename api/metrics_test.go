package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/config"
)

// TestUnknownMethodsDoNotGrowMetrics sends requests with made-up and huge
// method names (Go's server accepts any token): each is refused with 501
// before it is logged or counted, and /metrics does not grow.
func TestUnknownMethodsDoNotGrowMetrics(t *testing.T) {
	h := newHarness(t)
	h.request("GET", "/health/live", nil)
	before := h.request("GET", "/metrics", nil).Body.Len()

	for i := range 200 {
		method := strings.Repeat("X", 8<<10) + strings.Repeat("Y", i%26+1)
		req := httptest.NewRequest("GET", "/health/live", nil)
		req.Method = method
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusNotImplemented, rec.Code)
	}
	for _, m := range []string{"PROPFIND", "TRACE", "CONNECT", "BREW"} {
		req := httptest.NewRequest("GET", "/api/v1/cameras", nil)
		req.Method = m
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusNotImplemented, rec.Code, m)
	}
	body := h.request("GET", "/metrics", nil).Body.String()
	require.NotContains(t, body, "XXXX")
	require.NotContains(t, body, "PROPFIND")
	// The only new series are those of the two /metrics scrapes themselves.
	require.Less(t, len(body)-before, 4<<10, "metrics grew by %d bytes", len(body)-before)
	require.Equal(t, 200, h.request("GET", "/health/live", nil).Code, "known methods still work")
}

// TestMetricsOnASeparateListener: with ROLLCALL_METRICS_ADDR the API's
// router has no /metrics; the handler for the other listener serves it.
func TestMetricsOnASeparateListener(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) { c.MetricsAddr = "127.0.0.1:0" })
	require.Equal(t, http.StatusNotFound, h.request("GET", "/metrics", nil).Code)
	rec := httptest.NewRecorder()
	h.handler.(*api.Handler).MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	require.Contains(t, rec.Body.String(), "go_goroutines")
}
