package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

type liveJSON struct {
	WindowSeconds int `json:"windowSeconds"`
	Cameras       []struct {
		CameraID   string                   `json:"cameraId"`
		Detections []contract.LiveDetection `json:"detections"`
	} `json:"cameras"`
}

func (h *harness) mustLive(tok, query string) liveJSON {
	h.t.Helper()
	res := h.as(tok, "GET", "/api/v1/detections/live"+query, nil)
	if res.Code != 200 || res.Header().Get("Content-Type") != "application/json" {
		h.t.Fatalf("live: %d %v %s", res.Code, res.Header(), res.Body)
	}
	var l liveJSON
	if err := json.Unmarshal(res.Body.Bytes(), &l); err != nil {
		h.t.Fatalf("live is not JSON: %v %s", err, res.Body)
	}
	return l
}

// A frame captured from a camera showing a registered person lands in the
// live view, labelled, and in the camera's live channel.
func TestLiveDetectionsFromCameraFrame(t *testing.T) {
	h := newHarness(t)
	rdb, _ := testenv.Redis(t)
	hub := live.NewHub(rdb, h.cfg.RedisPrefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	go func() { _ = hub.Run(hubCtx) }()
	<-hub.Ready()
	h.live = hub
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)

	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-L1", "name": "Live Person"},
		[]formFile{{"a.jpg", "image/jpeg", photo(55, 0)}, {"b.jpg", "image/jpeg", photo(55, 1)}, {"c.jpg", "image/jpeg", photo(55, 2)}})
	var person faceJSON
	_ = json.Unmarshal(h.postForm(op, "/api/v1/faces", ct, body).Body.Bytes(), &person)
	h.waitFaceStatus(op, person.ID, "active")

	pic := filepath.Join(t.TempDir(), "face.jpg")
	if err := os.WriteFile(pic, photo(55, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartCameraServer(t, "--image-mount", "/face="+pic)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Face cam", "url": srv.URL("/face")})
	events := hub.Subscribe(live.DetectionsChannel(cam.ID))

	if l := h.mustLive(viewer, ""); len(l.Cameras) != 0 {
		t.Fatalf("live view before any detection: %+v", l)
	}
	if res := h.sendFrame(op, nil, cam.ID); res.Code != 200 {
		t.Fatalf("send-frame: %d %s", res.Code, res.Body)
	}
	l := h.mustLive(viewer, "?cameraId="+cam.ID)
	if l.WindowSeconds != int(live.DefaultWindow.Seconds()) || len(l.Cameras) != 1 || len(l.Cameras[0].Detections) != 1 {
		t.Fatalf("live view: %+v", l)
	}
	d := l.Cameras[0].Detections[0]
	if !d.Known || d.FaceProfileID != person.ID || d.Name != "Live Person" || d.CameraID != cam.ID {
		t.Fatalf("live detection: %+v", d)
	}
	select {
	case m := <-events.C():
		if m.Type != "detections" || !strings.Contains(string(m.Data), person.ID) {
			t.Fatalf("live event: %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no live event on the camera's channel")
	}
}

// Without Redis the view is built from PostgreSQL, in the same shape.
func TestLiveDetectionsFallBackToDatabase(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Fallback", "url": "rtsp://10.0.0.70/s"})
	ctx := context.Background()
	old, fresh := time.Now().Add(-time.Hour), time.Now()
	for i, at := range []time.Time{old, fresh} {
		d := store.Detection{ID: []string{"33333333-0000-4000-8000-000000000001", "33333333-0000-4000-8000-000000000002"}[i],
			DetectedAt: at, CameraID: &cam.ID, Similarity: 0.4, DetectionConfidence: 0.9, BoxWidth: 80, BoxHeight: 90, Source: "stream"}
		if err := store.InsertDetections(ctx, h.db, []store.Detection{d}); err != nil {
			t.Fatal(err)
		}
	}
	down, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(t, "ROLLCALL_REDIS_ADDR")}})
	if err != nil {
		t.Fatal(err)
	}
	down.Close() // every Redis call now fails
	rdb, _ := testenv.Redis(t)
	handler, _, err := api.New(api.Deps{Config: h.cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: h.db, Redis: rdb,
		Tokens: h.tokens, Checks: h.checks, Temporal: h.temporal, Streams: h.streams, Blobs: h.blobs, Secrets: h.box,
		Providers: h.faces, Recent: live.NewRecent(down, h.cfg.RedisPrefix, live.DefaultWindow, live.DefaultPerCamera)})
	if err != nil {
		t.Fatal(err)
	}
	h.handler = handler
	l := h.mustLive(op, "")
	if len(l.Cameras) != 1 || l.Cameras[0].CameraID != cam.ID || len(l.Cameras[0].Detections) != 1 ||
		l.Cameras[0].Detections[0].ID != "33333333-0000-4000-8000-000000000002" {
		t.Fatalf("fallback view (only the fresh detection): %+v", l)
	}
}
