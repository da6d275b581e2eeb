package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/auth"
)

// TestCameraCredentialsDoNotFollowAMovedURL: a camera's stored password
// stays with its host. Another path on the same host keeps it; another
// host, port or scheme drops it unless it is sent again; the audit log
// records the URL change, redacted, before and after.
func TestCameraCredentialsDoNotFollowAMovedURL(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Gate", "url": "rtsp://admin:p@ssw0rd@10.0.0.5/stream1"})
	require.True(t, cam.HasCredentials)

	update := func(url string, extra map[string]any) cameraJSON {
		t.Helper()
		body := map[string]any{"name": "Gate", "url": url}
		for k, v := range extra {
			body[k] = v
		}
		res := h.as(op, "PUT", "/api/v1/cameras/"+cam.ID, body)
		require.Equal(t, 200, res.Code, "%s", res.Body)
		var c cameraJSON
		require.NoError(t, json.Unmarshal(res.Body.Bytes(), &c))
		return c
	}
	require.True(t, update("rtsp://10.0.0.5:554/stream2", nil).HasCredentials, "same endpoint keeps them")
	for _, moved := range []string{"rtsp://10.0.0.99/stream2", "rtsp://10.0.0.5:8554/stream2", "rtsps://10.0.0.5/stream2"} {
		update("rtsp://10.0.0.5/stream2", map[string]any{"username": "admin", "password": "p@ssw0rd"})
		require.False(t, update(moved, nil).HasCredentials, "%s drops them", moved)
	}
	update("rtsp://10.0.0.5/stream2", map[string]any{"username": "admin", "password": "p@ssw0rd"})
	require.True(t, update("rtsp://10.0.0.77/s", map[string]any{"username": "admin", "password": "n3w@pass"}).HasCredentials, "sent again: kept")

	var changes string
	require.NoError(t, h.db.QueryRowContext(context.Background(),
		"SELECT changes::text FROM audit_logs WHERE action = 'update-camera' AND changes->'after'->>'login' = 'dropped' ORDER BY id LIMIT 1").Scan(&changes))
	require.Contains(t, changes, `"before": {"url": "rtsp://10.0.0.5/stream2", "login": "stored"}`)
	require.Contains(t, changes, `"after": {"url": "rtsp://10.0.0.99/stream2", "login": "dropped"}`)
	require.NotContains(t, changes, "ssw0rd")
	var all string
	require.NoError(t, h.db.QueryRowContext(context.Background(), "SELECT string_agg(changes::text, ' ') FROM audit_logs").Scan(&all))
	require.NotContains(t, all, "ssw0rd", "no part of the password is audited")
	require.NotContains(t, all, "n3w@pass")
}

// TestProviderKeyDoesNotFollowAMovedURL points the provider at a server
// the operator controls without sending the key: the key is dropped, so a
// provider test sends it nowhere.
func TestProviderKeyDoesNotFollowAMovedURL(t *testing.T) {
	h := newHarness(t)
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	var mu sync.Mutex
	var seen []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for _, vs := range r.Header {
			seen = append(seen, vs...)
		}
		mu.Unlock()
		http.Error(w, `{"message":"db_password=hunter2"}`, http.StatusInternalServerError)
	}))
	defer trap.Close()

	put := func(body map[string]any) map[string]any {
		t.Helper()
		base := map[string]any{"similarityThreshold": 0.9, "detectionThreshold": 0.6, "timeoutMs": 500, "maxInFlight": 2}
		for k, v := range body {
			base[k] = v
		}
		res := h.as(admin, "PUT", "/api/v1/detections/provider/config", base)
		require.Equal(t, 200, res.Code, "%s", res.Body)
		return res.json(t)
	}
	put(map[string]any{"kind": "http", "url": "http://10.20.30.40:8000/", "apiKey": "cf-Secret-Key-123"})
	require.Equal(t, true, put(map[string]any{"kind": "http", "url": "http://10.20.30.40:8000/v1"})["hasApiKey"], "same endpoint keeps the key")
	require.Equal(t, false, put(map[string]any{"kind": "http", "url": trap.URL})["hasApiKey"], "another host drops it")
	h.as(admin, "POST", "/api/v1/detections/test-provider", nil)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, seen, "the provider test reached the server")
	require.NotContains(t, strings.Join(seen, " "), "cf-Secret-Key-123")

	put(map[string]any{"kind": "http", "url": "http://10.20.30.40:8000/", "apiKey": "cf-Secret-Key-123"})
	// CompreFace needs a key: moving to it without one is refused, not
	// completed with the other provider's key.
	res := h.as(admin, "PUT", "/api/v1/detections/provider/config", map[string]any{"kind": "compreface", "url": "http://10.20.30.40:8000/",
		"similarityThreshold": 0.9, "detectionThreshold": 0.6, "timeoutMs": 500, "maxInFlight": 2})
	require.Equal(t, 422, res.Code, "%s", res.Body)
	var changes string
	require.NoError(t, h.db.QueryRowContext(context.Background(),
		"SELECT changes::text FROM audit_logs WHERE action = 'put-provider-config' AND changes->'after'->>'key' = 'dropped' LIMIT 1").Scan(&changes))
	require.Contains(t, changes, trap.URL)
}
