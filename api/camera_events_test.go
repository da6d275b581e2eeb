package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/auth"
)

func TestCameraEvents(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Gate", "url": "rtsp://10.0.0.50/s", "state": "inactive"})
	base := "/api/v1/cameras/" + cam.ID
	if res := h.as(op, "PUT", base, map[string]any{"name": "Gate 2", "url": "rtsp://10.0.0.50/s", "direction": "entry", "fps": 2}); res.Code != 200 {
		t.Fatalf("update: %d %s", res.Code, res.Body)
	}
	if res := h.as(op, "PATCH", base+"/state", map[string]any{"state": "maintenance"}); res.Code != 200 {
		t.Fatalf("state: %d %s", res.Code, res.Body)
	}

	res := h.as(viewer, "GET", base+"/events", nil)
	h.check(t, scenario{Name: "all", WantStatus: 200, WantContains: []string{`"kind":"config"`, `"message":"changed: name, direction, fps"`,
		`"kind":"state"`, `"from":"inactive"`, `"to":"maintenance"`}}, res)
	items, _ := res.json(t)["items"].([]any)
	if first, _ := items[0].(map[string]any); first["kind"] != "state" {
		t.Fatalf("newest first: %v", items)
	}
	h.check(t, scenario{Name: "kind", WantStatus: 200, WantContains: []string{`"kind":"config"`}},
		h.as(viewer, "GET", base+"/events?kind=config", nil))
	if body := h.as(viewer, "GET", base+"/events?kind=health", nil).json(t); len(body["items"].([]any)) != 0 {
		t.Fatalf("health events of a camera never checked: %v", body)
	}
	page1 := h.as(viewer, "GET", base+"/events?limit=1", nil).json(t)
	next, _ := page1["nextCursor"].(string)
	if next == "" || len(page1["items"].([]any)) != 1 {
		t.Fatalf("page 1: %v", page1)
	}
	h.check(t, scenario{Name: "page 2", WantStatus: 200, WantContains: []string{`"kind":"config"`}},
		h.as(viewer, "GET", base+"/events?limit=1&cursor="+next, nil))
	h.check(t, scenario{Name: "bad cursor", WantStatus: 422, WantContains: []string{"query.cursor"}},
		h.as(viewer, "GET", base+"/events?cursor=nope", nil))
	h.check(t, scenario{Name: "reversed range", WantStatus: 422, WantContains: []string{"query.until"}},
		h.as(viewer, "GET", base+"/events?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", nil))
	h.check(t, scenario{Name: "unknown camera", WantStatus: 404}, h.as(viewer, "GET", "/api/v1/cameras/"+uuid.NewString()+"/events", nil))
}
