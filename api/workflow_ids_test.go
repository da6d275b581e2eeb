package api_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/auth"
)

// TestClientRequestIDsDoNotNameWorkflows: two callers sending the same
// X-Request-ID get runs of their own (workflow IDs and stored frames are
// the server's), never the other caller's result.
func TestClientRequestIDsDoNotNameWorkflows(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withoutStreams)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, op2 := h.mustUserToken("olga", auth.RoleOperator)
	const shared = "shared-request-id-1234"

	frame := func(tok string, img []byte) sendFrameJSON {
		t.Helper()
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		part, _ := w.CreateFormFile("image", "frame.jpg")
		_, _ = part.Write(img)
		_ = w.Close()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/detections/send-frame", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-ID", shared)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		require.Equal(t, 200, rec.Code, "%s", rec.Body)
		var out sendFrameJSON
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	a, b := frame(op, photo(11, 0)), frame(op2, photo(12, 0))
	require.NotEqual(t, a.WorkflowID, b.WorkflowID)
	require.NotContains(t, a.WorkflowID, shared)
	require.NotEqual(t, strings.Split(a.ImageURL, "?")[0], strings.Split(b.ImageURL, "?")[0], "each frame is stored under its own key")

	cam := h.mustCreateCamera(op, map[string]any{"name": "Nowhere", "url": "rtsp://127.0.0.1:1/none"})
	probe := func(tok string) string {
		t.Helper()
		res := h.as(tok, "POST", "/api/v1/cameras/"+cam.ID+"/test-connection", nil, "X-Request-ID", shared)
		require.Equal(t, 200, res.Code, "%s", res.Body)
		return res.json(t)["workflowId"].(string)
	}
	p1, p2 := probe(op), probe(op2)
	require.NotEqual(t, p1, p2)
	require.NotContains(t, p1, shared)
}
