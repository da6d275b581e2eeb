package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
)

type sendFrameJSON struct {
	Detections []struct {
		Known         bool    `json:"known"`
		FaceProfileID string  `json:"faceProfileId"`
		Name          string  `json:"name"`
		Similarity    float64 `json:"similarity"`
	} `json:"detections"`
	ImageURL   string `json:"imageUrl"`
	WorkflowID string `json:"workflowId"`
}

func (h *harness) sendFrame(tok string, image []byte, cameraID string) response {
	h.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if cameraID != "" {
		_ = w.WriteField("cameraId", cameraID)
	}
	if image != nil {
		part, _ := w.CreateFormFile("image", "frame.jpg")
		_, _ = part.Write(image)
	}
	_ = w.Close()
	return h.postForm(tok, "/api/v1/detections/send-frame", w.FormDataContentType(), buf.Bytes())
}

func TestSendFrame(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)

	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-77", "name": "Grace Hopper"},
		[]formFile{{"a.jpg", "image/jpeg", photo(77, 0)}, {"b.jpg", "image/jpeg", photo(77, 1)}, {"c.jpg", "image/jpeg", photo(77, 2)}})
	res := h.postForm(op, "/api/v1/faces", ct, body)
	var person faceJSON
	_ = json.Unmarshal(res.Body.Bytes(), &person)
	h.waitFaceStatus(op, person.ID, "active")

	res = h.sendFrame(op, photo(77, 3), "")
	if res.Code != 200 {
		t.Fatalf("send-frame: %d %s", res.Code, res.Body)
	}
	var got sendFrameJSON
	_ = json.Unmarshal(res.Body.Bytes(), &got)
	if len(got.Detections) != 1 || !got.Detections[0].Known || got.Detections[0].FaceProfileID != person.ID || got.Detections[0].Name != "Grace Hopper" {
		t.Fatalf("known person: %+v", got)
	}
	if dl, err := http.Get(got.ImageURL); err != nil || dl.StatusCode != 200 {
		t.Fatalf("frame URL: %v %v", dl, err)
	}

	res = h.sendFrame(op, photo(4040, 1), "")
	got = sendFrameJSON{}
	_ = json.Unmarshal(res.Body.Bytes(), &got)
	if res.Code != 200 || len(got.Detections) != 1 || got.Detections[0].Known || got.Detections[0].FaceProfileID != "" {
		t.Fatalf("stranger: %d %+v", res.Code, got)
	}
	var stored, known int
	_ = h.db.QueryRowContext(context.Background(), "SELECT count(*), count(*) FILTER (WHERE known) FROM detections WHERE source = 'send-frame'").Scan(&stored, &known)
	if stored != 2 || known != 1 {
		t.Fatalf("stored detections: %d (%d known), want 2 (1 known)", stored, known)
	}

	// A frame captured from a camera.
	cam := h.mustCreateCamera(op, map[string]any{"name": "Cam 1", "url": testenv.Require(t, "ROLLCALL_TEST_RTSP_URL") + "/cam1"})
	if res := h.sendFrame(op, nil, cam.ID); res.Code != 200 {
		t.Fatalf("send-frame from a camera: %d %s", res.Code, res.Body)
	}
	evs := h.as(viewer, "GET", "/api/v1/detections/events?kind=send_frame&cameraId="+cam.ID, nil)
	h.check(t, scenario{Method: "GET", URL: "events", WantStatus: 200, WantContains: []string{`"kind":"send_frame"`, `"cameraId":"` + cam.ID + `"`}}, evs)
	all := h.as(viewer, "GET", "/api/v1/detections/events?limit=2", nil)
	h.check(t, scenario{Method: "GET", URL: "events", WantStatus: 200, WantContains: []string{`"nextCursor":"`}}, all)

	for _, tc := range []struct {
		name   string
		image  []byte
		camera string
		want   string
	}{
		{"neither", nil, "", "body.image"},
		{"both", photo(1, 0), cam.ID, "body.cameraId"},
		{"not an image", []byte("not a jpeg at all"), "", "body.image"},
		{"unknown camera", nil, "00000000-0000-4000-8000-000000000000", "not-found"},
	} {
		res := h.sendFrame(op, tc.image, tc.camera)
		if res.Code < 400 || res.Code >= 500 || !bytes.Contains(res.Body.Bytes(), []byte(tc.want)) {
			t.Errorf("%s: %d %s", tc.name, res.Code, res.Body)
		}
	}
	if res := h.sendFrame(viewer, photo(77, 3), ""); res.Code != 403 {
		t.Fatalf("viewer sends a frame: %d", res.Code)
	}

	// A provider that is not there: 502 with its class, never its key.
	_, admin := h.mustUserToken("ada", auth.RoleAdmin)
	put := map[string]any{"kind": "compreface", "url": "http://127.0.0.1:1/", "apiKey": "cf-Secret-Key-123", "similarityThreshold": 0.9,
		"detectionThreshold": 0.6, "timeoutMs": 500, "maxInFlight": 2}
	if res := h.as(admin, "PUT", "/api/v1/detections/provider/config", put); res.Code != 200 {
		t.Fatalf("provider config: %d %s", res.Code, res.Body)
	}
	res = h.sendFrame(op, photo(77, 3), "")
	if res.Code != 502 || res.json(t)["code"] != "provider-unreachable" || strings.Contains(res.Body.String(), "cf-Secret") {
		t.Fatalf("send-frame to an unreachable provider: %d %s", res.Code, res.Body)
	}
}

// onlyReader hides a reader's length, as a chunked upload does.
type onlyReader struct{ io.Reader }

// TestUploadCapAppliesToChunkedBodies: an operation's body limit holds for
// a body that declares no length (chunked), not only for Content-Length.
func TestUploadCapAppliesToChunkedBodies(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile("image", "frame.jpg")
	_, _ = part.Write(photo(77, 3))
	_, _ = part.Write(make([]byte, 20<<20)) // 20 MiB: over send-frame's 8 MiB cap, under the global 100 MiB
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/detections/send-frame", onlyReader{&buf})
	req.ContentLength = -1
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+op)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 20 MiB upload: %d %s, want 413", rec.Code, rec.Body)
	}
}

// TestSendFrameRecordsAttendance: with attendance=true a sent frame checks
// the recognised person in (once: a second frame within the cooldown adds
// nothing), with the direction given for an uploaded image.
func TestSendFrameRecordsAttendance(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withoutStreams)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-55", "name": "Ada Lovelace"},
		[]formFile{{"a.jpg", "image/jpeg", photo(55, 0)}, {"b.jpg", "image/jpeg", photo(55, 1)}, {"c.jpg", "image/jpeg", photo(55, 2)}})
	var person faceJSON
	_ = json.Unmarshal(h.postForm(op, "/api/v1/faces", ct, body).Body.Bytes(), &person)
	h.waitFaceStatus(op, person.ID, "active")

	send := func(img []byte) map[string]any {
		t.Helper()
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.WriteField("attendance", "true")
		_ = w.WriteField("direction", "entry")
		part, _ := w.CreateFormFile("image", "frame.jpg")
		_, _ = part.Write(img)
		_ = w.Close()
		res := h.postForm(op, "/api/v1/detections/send-frame", w.FormDataContentType(), buf.Bytes())
		if res.Code != 200 {
			t.Fatalf("send-frame: %d %s", res.Code, res.Body)
		}
		return res.json(t)
	}
	first := send(photo(55, 3))
	logs, _ := first["attendance"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["faceProfileId"] != person.ID || logs[0].(map[string]any)["direction"] != "in" {
		t.Fatalf("attendance of the first frame: %v", first["attendance"])
	}
	second := send(photo(55, 4))
	if logs, _ := second["attendance"].([]any); len(logs) != 0 {
		t.Fatalf("a second frame within the cooldown logged again: %v", logs)
	}
	var n int
	if err := h.db.QueryRowContext(context.Background(), "SELECT count(*) FROM attendance_logs WHERE face_profile_id = ?", person.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d attendance logs (%v), want 1", n, err)
	}
}
