package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/facenet/samples"
	"github.com/rollcall/rollcall/internal/testenv"
)

// writePhoto stores a picture for the camera server to loop.
func writePhoto(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readEvent reads WebSocket messages until an event on channel (or on one
// of its "channel:<id>" children) arrives, or fails the test after within.
func readEvent(t *testing.T, c *websocket.Conn, channel string, within time.Duration) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("no %s event within %s: %v", channel, within, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if ch, _ := m["channel"].(string); m["type"] == "event" && (ch == channel || strings.HasPrefix(ch, channel+":")) {
			return m
		}
	}
}

// waitStreamStatus polls the stream workflow's status until ok says so.
func (h *harness) waitStreamStatus(cameraID string, within time.Duration, ok func(contract.CameraStreamStatus) bool) contract.CameraStreamStatus {
	h.t.Helper()
	deadline := time.Now().Add(within)
	var st contract.CameraStreamStatus
	var err error
	for time.Now().Before(deadline) {
		if st, err = h.streams.Status(context.Background(), cameraID); err == nil && ok(st) {
			return st
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.t.Fatalf("stream of %s: status %+v (%v)", cameraID, st, err)
	return st
}

// Activating a camera that shows a registered person makes Rollcall sample
// it, recognise the person and show them live; a camera showing a stranger
// yields unknown detections only; deactivating stops the stream. With the
// built-in provider's real face recognition: the person is registered
// from three photos cut from one picture of her (face-api's sample1.jpg)
// and the camera loops a different picture (sample3.jpg), in which two
// other women stand beside her.
func TestLiveRecognitionEndToEnd(t *testing.T) {
	h := newHarnessWith(t, realFaces(t))
	hubReplica := h.mustStartReplica() // the API process the dashboard talks to
	h.live = hubReplica.hub            // the worker publishes through Redis too
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)

	var files []formFile
	for i, photo := range samples.PersonAPhotos() {
		files = append(files, formFile{fmt.Sprintf("%c.jpg", 'a'+i), "image/jpeg", photo})
	}
	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-77", "name": "Grace Hopper"}, files)
	var person faceJSON
	_ = json.Unmarshal(h.postForm(op, "/api/v1/faces", ct, body).Body.Bytes(), &person)
	h.waitFaceStatus(op, person.ID, "active")

	_, scene := samples.PersonA()
	srv := testenv.StartCameraServer(t,
		"--image-mount", "/known="+writePhoto(t, "known.jpg", scene)+"@1280x900",
		"--image-mount", "/stranger="+writePhoto(t, "stranger.jpg", samples.Stranger())+"@1280x912")

	ws := dialWS(t, hubReplica.url, "Authorization", "Bearer "+viewer)
	sendWS(t, ws, `{"type":"subscribe","id":"1","channels":["detections","cameras"]}`)
	expectWS(t, ws, map[string]any{"type": "ack", "id": "1"})

	start := time.Now()
	cam := h.mustCreateCamera(op, map[string]any{"name": "Lobby", "url": srv.URL("/known"), "state": "active", "fps": 2})

	t.Cleanup(func() {
		if t.Failed() {
			st, err := h.streams.Status(context.Background(), cam.ID)
			t.Logf("stream status at failure: %+v (%v)", st, err)
		}
	})
	// Each frame's faces come in one event: hers, named, and the two
	// others, unknown. (The detector may miss a face in some frame; the
	// first event naming her is awaited.)
	deadline := time.Now().Add(40 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("no live event named the registered person")
		}
		ev := readEvent(t, ws, "detections", time.Until(deadline))
		if ev["channel"] != "detections:"+cam.ID {
			t.Fatalf("event on %v", ev["channel"])
		}
		var shown []contract.LiveDetection
		raw, _ := json.Marshal(ev["data"])
		_ = json.Unmarshal(raw, &shown)
		var named, unknown int
		for _, d := range shown {
			switch {
			case d.Known && d.FaceProfileID == person.ID && d.Name == "Grace Hopper" && d.CameraID == cam.ID:
				named++
			case !d.Known && d.FaceProfileID == "":
				unknown++
			default:
				t.Fatalf("live event: a detection is neither her nor unknown: %s", raw)
			}
		}
		if named > 1 || len(shown) > 3 {
			t.Fatalf("live event: %d faces, %d named her, want at most 3 and 1: %s", len(shown), named, raw)
		}
		if named == 1 {
			t.Logf("first live detection naming her %s after activation, with %d unknown faces beside her", time.Since(start).Round(time.Millisecond), unknown)
			break
		}
	}

	view := h.mustLive(viewer, "?cameraId="+cam.ID)
	if len(view.Cameras) != 1 || !slices.ContainsFunc(view.Cameras[0].Detections, func(d contract.LiveDetection) bool { return d.FaceProfileID == person.ID }) {
		t.Fatalf("live view: %+v", view)
	}

	st := h.waitStreamStatus(cam.ID, 10*time.Second, func(s contract.CameraStreamStatus) bool {
		return s.State == contract.StreamStreaming && s.Counters.Known > 0
	})
	if st.Counters.FramesRead < st.Counters.FramesSent || st.LastFrameAt == nil || st.Sessions != 1 {
		t.Fatalf("status: %+v", st)
	}
	if c := h.mustGetCamera(op, cam.ID); c.Health != "online" {
		t.Fatalf("camera health %q, want online", c.Health)
	}

	// Someone nobody registered.
	stranger := h.mustCreateCamera(op, map[string]any{"name": "Back door", "url": srv.URL("/stranger"), "state": "active", "fps": 2})
	h.waitStreamStatus(stranger.ID, 30*time.Second, func(s contract.CameraStreamStatus) bool { return s.Counters.Faces >= 2 })
	ctx := context.Background()
	deadline = time.Now().Add(5 * time.Second)
	var faces, known int
	for faces < 2 && time.Now().Before(deadline) {
		if err := h.db.QueryRowContext(ctx, "SELECT count(*), count(*) FILTER (WHERE known OR face_profile_id IS NOT NULL) FROM detections WHERE camera_id = ? AND source = 'stream'", stranger.ID).Scan(&faces, &known); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if faces < 2 || known != 0 {
		t.Fatalf("stranger camera: %d detections stored, %d known; want ≥2, 0 known", faces, known)
	}
	if err := h.db.QueryRowContext(ctx, "SELECT count(*) FILTER (WHERE face_profile_id = ?) FROM detections WHERE camera_id = ?", person.ID, cam.ID).Scan(&known); err != nil || known == 0 {
		t.Fatalf("known camera: %d stored detections of the person (%v)", known, err)
	}

	// Operators pause and resume the stream; viewers see its state.
	var stream struct {
		Running bool                         `json:"running"`
		Status  *contract.CameraStreamStatus `json:"status"`
	}
	res := h.as(viewer, "GET", "/api/v1/cameras/"+cam.ID+"/stream", nil)
	_ = json.Unmarshal(res.Body.Bytes(), &stream)
	if res.Code != 200 || !stream.Running || stream.Status == nil || stream.Status.State != contract.StreamStreaming || stream.Status.Counters.Known == 0 {
		t.Fatalf("stream: %d %s", res.Code, res.Body)
	}
	if res := h.as(op, "POST", "/api/v1/cameras/"+cam.ID+"/stream/pause", nil); res.Code != 202 {
		t.Fatalf("pause: %d %s", res.Code, res.Body)
	}
	h.waitStreamStatus(cam.ID, 10*time.Second, func(s contract.CameraStreamStatus) bool { return s.State == contract.StreamPaused })
	if res := h.as(op, "POST", "/api/v1/cameras/"+cam.ID+"/stream/resume", nil); res.Code != 202 {
		t.Fatalf("resume: %d %s", res.Code, res.Body)
	}
	h.waitStreamStatus(cam.ID, 15*time.Second, func(s contract.CameraStreamStatus) bool {
		return s.State == contract.StreamStreaming && s.Sessions == 2
	})

	// Deactivating stops the stream cleanly.
	if res := h.as(op, "PATCH", "/api/v1/cameras/"+cam.ID+"/state", map[string]any{"state": "inactive"}); res.Code != 200 {
		t.Fatalf("deactivate: %d %s", res.Code, res.Body)
	}
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
	var started int
	_ = h.db.QueryRowContext(ctx, "SELECT count(*) FROM detection_event_logs WHERE camera_id = ? AND kind = 'stream_started'", cam.ID).Scan(&started)
	if started != 2 {
		t.Fatalf("stream_started events: %d, want 2 (before the pause and after)", started)
	}
	res = h.as(viewer, "GET", "/api/v1/cameras/"+cam.ID+"/stream", nil)
	stream.Running, stream.Status = true, nil
	_ = json.Unmarshal(res.Body.Bytes(), &stream)
	if res.Code != 200 || stream.Running || stream.Status != nil {
		t.Fatalf("stream of an inactive camera: %d %s", res.Code, res.Body)
	}
	if res := h.as(op, "POST", "/api/v1/cameras/"+cam.ID+"/stream/pause", nil); res.Code != 409 || res.json(t)["code"] != "stream-not-running" {
		t.Fatalf("pause of an inactive camera: %d %s", res.Code, res.Body)
	}
}

// With ROLLCALL_DETECTION_SNAPSHOTS, each frame with a face is stored and
// its detections link to it; the frames go with their camera.
func TestStreamStoresFrameSnapshots(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withSnapshotFrames)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	srv := testenv.StartCameraServer(t, "--image-mount", "/someone="+writePhoto(t, "someone.jpg", photo(4141, 2)))
	cam := h.mustCreateCamera(op, map[string]any{"name": "Gate", "url": srv.URL("/someone"), "state": "active", "fps": 2})

	ctx := context.Background()
	var key string
	deadline := time.Now().Add(30 * time.Second)
	for key == "" && time.Now().Before(deadline) {
		_ = h.db.QueryRowContext(ctx, "SELECT snapshot_key FROM detections WHERE camera_id = ? AND snapshot_key <> '' LIMIT 1", cam.ID).Scan(&key)
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.HasPrefix(key, "cameras/"+cam.ID+"/detections/") {
		t.Fatalf("no detection linked to a stored frame (key %q)", key)
	}
	obj, err := h.blobs.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := io.ReadAll(obj)
	_ = obj.Close()
	if _, err := jpeg.Decode(bytes.NewReader(frame)); err != nil {
		t.Fatalf("stored frame is not a JPEG: %v", err)
	}

	if res := h.as(op, "DELETE", "/api/v1/cameras/"+cam.ID, nil); res.Code != 204 {
		t.Fatalf("delete: %d %s", res.Code, res.Body)
	}
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
	if obj, err := h.blobs.Get(ctx, key); err == nil {
		_, err = io.ReadAll(obj)
		_ = obj.Close()
		if err == nil {
			t.Fatalf("%s survived its camera", key)
		}
	}
}
