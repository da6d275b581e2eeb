package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// Unknown faces are reviewed by sighting: a camera's unknown detections
// without a long pause form one group, listed with its best frames; a
// group with frames becomes a new person's registration photos (cut
// around each face), a group without frames cannot (422) but can be
// dismissed, and reviewed groups leave the list.
func TestUnknownFaceReview(t *testing.T) {
	h := newHarness(t)
	testenv.TemporalNamespace(t, apiNamespace)
	ctx := context.Background()
	if err := h.blobs.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	_, op := h.mustUserToken("olga", auth.RoleOperator)
	_, viewer := h.mustUserToken("vic", auth.RoleViewer)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Lobby", "url": "rtsp://192.0.2.10/stream", "state": "inactive"})
	known := h.mustCreateCamera(op, map[string]any{"name": "Dock", "url": "rtsp://192.0.2.11/stream", "state": "inactive"})

	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	insert := func(cameraID string, at time.Time, withFrame bool, variant int, isKnown bool) {
		t.Helper()
		d := store.Detection{ID: uuid.NewString(), DetectedAt: at, CameraID: &cameraID, Known: isKnown, Similarity: 0.2,
			DetectionConfidence: 0.9, Source: "stream"}
		if withFrame {
			// photo centres the head near (0.35+0.08v, 0.45+0.02v) of a
			// 640×480 frame, 0.4+0.04v of its height tall.
			v := float64(variant)
			hgt := int((0.4 + 0.04*v) * 480)
			cx, cy := int((0.35+0.08*v)*640), int((0.45+0.02*v)*480)
			d.BoxX, d.BoxY, d.BoxWidth, d.BoxHeight = cx-hgt*3/8, cy-hgt/2, hgt*3/4, hgt
			d.SnapshotKey = blob.CameraPrefix(cameraID) + "frames/" + d.ID + ".jpg"
			data := photo(42, variant)
			if err := h.blobs.Put(ctx, d.SnapshotKey, bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.db.NewInsert().Model(&d).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Sighting A: three unknown faces with frames within 20 s; a known
	// face on another camera meanwhile (not listed).
	for i := range 3 {
		insert(cam.ID, base.Add(time.Duration(i)*10*time.Second), true, i, false)
	}
	insert(known.ID, base.Add(5*time.Second), false, 0, true)
	// Sighting B, 10 minutes later: two faces, no frames kept.
	insert(cam.ID, base.Add(10*time.Minute), false, 0, false)
	insert(cam.ID, base.Add(10*time.Minute+30*time.Second), false, 0, false)

	list := func() []map[string]any {
		t.Helper()
		r := h.as(viewer, "GET", "/api/v1/detections/unknown", nil)
		if r.Code != 200 {
			t.Fatalf("list: %d %s", r.Code, r.Body)
		}
		var out []map[string]any
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	groups := list()
	if len(groups) != 2 {
		t.Fatalf("sightings %v, want 2", groups)
	}
	b, a := groups[0], groups[1]
	if b["detections"] != float64(2) || b["frames"] != float64(0) || a["detections"] != float64(3) || a["frames"] != float64(3) {
		t.Fatalf("sightings %v / %v: want the later one (2 faces, no frames) first, then 3 faces with frames", b, a)
	}
	if shots, _ := a["snapshots"].([]any); len(shots) != 3 || a["cameraName"] != "Lobby" {
		t.Errorf("sighting A: %v", a)
	}
	aID, bID := a["id"].(string), b["id"].(string)

	if r := h.as(op, "POST", "/api/v1/detections/unknown/"+bID+"/assign", map[string]any{"person": map[string]any{"employeeCode": "E-1", "name": "X"}}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("assigning a sighting without frames: %d %s, want 422", r.Code, r.Body)
	}
	if r := h.as(op, "POST", "/api/v1/detections/unknown/"+aID+"/assign", map[string]any{}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("assigning to nobody: %d, want 422", r.Code)
	}
	if r := h.as(op, "POST", "/api/v1/detections/unknown/bm90LWEtc2lnaHRpbmc/dismiss", nil); r.Code != http.StatusNotFound {
		t.Errorf("a forged sighting: %d, want 404", r.Code)
	}
	if r := h.as(viewer, "POST", "/api/v1/detections/unknown/"+bID+"/dismiss", nil); r.Code != http.StatusForbidden {
		t.Errorf("viewer dismissing: %d, want 403", r.Code)
	}
	dis := h.as(op, "POST", "/api/v1/detections/unknown/"+bID+"/dismiss", nil)
	if dis.Code != 200 || dis.json(t)["reviewed"] != float64(2) {
		t.Fatalf("dismiss: %d %s", dis.Code, dis.Body)
	}
	if r := h.as(op, "POST", "/api/v1/detections/unknown/"+bID+"/dismiss", nil); r.Code != http.StatusNotFound {
		t.Errorf("dismissing twice: %d, want 404", r.Code)
	}
	if g := list(); len(g) != 1 || g[0]["id"] != aID {
		t.Fatalf("after dismissing B: %v", g)
	}

	as := h.as(op, "POST", "/api/v1/detections/unknown/"+aID+"/assign", map[string]any{"person": map[string]any{"employeeCode": "E-77", "name": "Ana Lima"}})
	if as.Code != 200 {
		t.Fatalf("assign: %d %s", as.Code, as.Body)
	}
	res := as.json(t)
	if res["photos"] != float64(3) || res["reviewed"] != float64(3) {
		t.Errorf("assign: %v, want 3 photos from 3 frames and 3 detections reviewed", res)
	}
	face := h.as(op, "GET", "/api/v1/faces/"+res["faceProfileId"].(string), nil).json(t)
	imgs, _ := face["images"].([]any)
	if face["employeeCode"] != "E-77" || len(imgs) != 3 {
		t.Fatalf("the new person: %v", face)
	}
	for _, it := range imgs {
		im := it.(map[string]any)
		// Cut around the face, not the whole 640×480 frame.
		if w, _ := im["width"].(float64); w >= 640 || w < 96 {
			t.Errorf("photo %v: want a crop around the face", im)
		}
	}
	if g := list(); len(g) != 0 {
		t.Errorf("after assigning A: %v", g)
	}
	var reviewed int
	if err := h.db.NewSelect().Model((*store.Detection)(nil)).ColumnExpr("count(*)").Where("review <> ''").Scan(ctx, &reviewed); err != nil || reviewed != 5 {
		t.Errorf("reviewed detections %d (%v), want 5", reviewed, err)
	}
	if strings.Contains(as.Body.String(), "frames/") {
		t.Errorf("the answer leaks object keys: %s", as.Body)
	}
}
