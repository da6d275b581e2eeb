package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/store"
)

// cameraJSON is a camera as the API returns it.
type cameraJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	URL            string   `json:"url"`
	HasCredentials bool     `json:"hasCredentials"`
	State          string   `json:"state"`
	Health         string   `json:"health"`
	Site           string   `json:"site"`
	Tags           []string `json:"tags"`
	Stream         *struct {
		Codec  string `json:"codec"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"stream"`
}

func (h *harness) mustCreateCamera(tok string, body map[string]any) cameraJSON {
	h.t.Helper()
	res := h.as(tok, "POST", "/api/v1/cameras", body)
	if res.Code != http.StatusCreated {
		h.t.Fatalf("create camera: %d %s", res.Code, res.Body)
	}
	var c cameraJSON
	if err := json.Unmarshal(res.Body.Bytes(), &c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) mustGetCamera(tok, id string) cameraJSON {
	h.t.Helper()
	res := h.as(tok, "GET", "/api/v1/cameras/"+id, nil)
	if res.Code != 200 {
		h.t.Fatalf("get camera: %d %s", res.Code, res.Body)
	}
	var c cameraJSON
	_ = json.Unmarshal(res.Body.Bytes(), &c)
	return c
}

func (h *harness) countCameras() int {
	h.t.Helper()
	n, err := h.db.NewSelect().Model((*store.Camera)(nil)).Count(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return int(n)
}

func TestCameraCRUD(t *testing.T) {
	valid := map[string]any{"name": "Lobby", "site": "HQ", "url": "rtsp://10.0.0.21:554/stream1", "direction": "entry", "fps": 2, "timezone": "Europe/Paris", "tags": []string{"Ground", "main"}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range valid {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	scenarios := []struct {
		scenario
		asViewer bool
		written  int // cameras in the database afterwards
	}{
		{scenario: scenario{Name: "create", Method: "POST", URL: "/api/v1/cameras", Body: valid, WantStatus: 201,
			WantContains: []string{`"name":"Lobby"`, `"hasCredentials":false`, `"state":"inactive"`, `"health":"unknown"`, `"tags":["ground","main"]`, `"timezone":"Europe/Paris"`}}, written: 2},
		{scenario: scenario{Name: "credentials in the URL are split out", Method: "POST", URL: "/api/v1/cameras",
			Body:       with("url", "rtsp://admin:hunter2-cam@10.0.0.22/live"),
			WantStatus: 201, WantContains: []string{`"url":"rtsp://10.0.0.22/live"`, `"hasCredentials":true`}}, written: 2},
		{scenario: scenario{Name: "viewer cannot create", Method: "POST", URL: "/api/v1/cameras", Body: valid, WantStatus: 403}, asViewer: true, written: 1},
		{scenario: scenario{Name: "duplicate name (any case)", Method: "POST", URL: "/api/v1/cameras", Body: with("name", "EXISTING"),
			WantStatus: 409, WantContains: []string{"body.name"}}, written: 1},
		{scenario: scenario{Name: "file URL", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "file:///etc/passwd"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "plain path", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "/etc/passwd"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "concat protocol", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "concat:/etc/passwd|/etc/hosts"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "subfile protocol", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "subfile:,start,0,end,0,:/etc/passwd"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "option injection", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "-i /etc/passwd"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "host that looks like an option", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "rtsp://-f/x"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "http URL", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "http://10.0.0.5/video.mjpg"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "no host", Method: "POST", URL: "/api/v1/cameras", Body: with("url", "rtsp:///stream"), WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "bad direction", Method: "POST", URL: "/api/v1/cameras", Body: with("direction", "sideways"), WantStatus: 422, WantContains: []string{"body.direction"}}, written: 1},
		{scenario: scenario{Name: "fps out of range", Method: "POST", URL: "/api/v1/cameras", Body: with("fps", 120), WantStatus: 422, WantContains: []string{"body.fps"}}, written: 1},
		{scenario: scenario{Name: "bad time zone", Method: "POST", URL: "/api/v1/cameras", Body: with("timezone", "Mars/Olympus"), WantStatus: 422, WantContains: []string{"body.timezone"}}, written: 1},
		{scenario: scenario{Name: "missing name", Method: "POST", URL: "/api/v1/cameras", Body: map[string]any{"url": "rtsp://h/x"}, WantStatus: 422, WantContains: []string{"body.name"}}, written: 1},
		{scenario: scenario{Name: "get", Method: "GET", URL: "/api/v1/cameras/{cam}", WantStatus: 200, WantContains: []string{`"name":"Existing"`}}, asViewer: true, written: 1},
		{scenario: scenario{Name: "get unknown", Method: "GET", URL: "/api/v1/cameras/00000000-0000-4000-8000-000000000000", WantStatus: 404}, written: 1},
		{scenario: scenario{Name: "update on the same host keeps the credentials", Method: "PUT", URL: "/api/v1/cameras/{cam}",
			Body:       map[string]any{"name": "Lobby renamed", "url": "rtsp://10.0.0.9:554/other", "direction": "entry", "fps": 2},
			WantStatus: 200, WantContains: []string{`"name":"Lobby renamed"`, `"hasCredentials":true`}}, written: 1},
		{scenario: scenario{Name: "update to another host drops the credentials", Method: "PUT", URL: "/api/v1/cameras/{cam}", Body: with("name", "Lobby renamed"),
			WantStatus: 200, WantContains: []string{`"name":"Lobby renamed"`, `"hasCredentials":false`}}, written: 1},
		{scenario: scenario{Name: "update clears credentials", Method: "PUT", URL: "/api/v1/cameras/{cam}", Body: with("clearCredentials", true),
			WantStatus: 200, WantContains: []string{`"hasCredentials":false`}}, written: 1},
		{scenario: scenario{Name: "update with a bad URL", Method: "PUT", URL: "/api/v1/cameras/{cam}", Body: with("url", "file:/etc/passwd"),
			WantStatus: 422, WantContains: []string{"body.url"}}, written: 1},
		{scenario: scenario{Name: "delete", Method: "DELETE", URL: "/api/v1/cameras/{cam}", WantStatus: 204}, written: 0},
		{scenario: scenario{Name: "viewer cannot delete", Method: "DELETE", URL: "/api/v1/cameras/{cam}", WantStatus: 403}, asViewer: true, written: 1},
		{scenario: scenario{Name: "bad state", Method: "PATCH", URL: "/api/v1/cameras/{cam}/state", Body: map[string]any{"state": "on"},
			WantStatus: 422, WantContains: []string{"body.state"}}, written: 1},
		{scenario: scenario{Name: "maintenance", Method: "PATCH", URL: "/api/v1/cameras/{cam}/state", Body: map[string]any{"state": "maintenance", "reason": "lens cleaning"},
			WantStatus: 200, WantContains: []string{`"state":"maintenance"`}}, written: 1},
	}
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			h := newHarness(t)
			_, op := h.mustUserToken("oscar", auth.RoleOperator)
			_, viewer := h.mustUserToken("vera", auth.RoleViewer)
			existing := h.mustCreateCamera(op, map[string]any{"name": "Existing", "url": "rtsp://cam:pw-existing@10.0.0.9/s"})
			tok := op
			if s.asViewer {
				tok = viewer
			}
			res := h.as(tok, s.Method, strings.ReplaceAll(s.URL, "{cam}", existing.ID), s.Body)
			h.check(t, s.scenario, res)
			for _, secret := range []string{"hunter2-cam", "pw-existing", "password"} {
				if strings.Contains(res.Body.String(), secret) {
					t.Fatalf("response shows a credential: %s", res.Body)
				}
			}
			if got := h.countCameras(); got != s.written {
				t.Fatalf("%d cameras stored, want %d", got, s.written)
			}
		})
	}
}

func TestCameraCredentialsEncryptedAtRest(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	c := h.mustCreateCamera(op, map[string]any{"name": "Gate", "url": "rtsp://10.0.0.30/s", "username": "gateuser", "password": "Gate-Pa55word"})
	var sealed, url string
	if err := h.db.QueryRowContext(context.Background(), "SELECT credentials, stream_url FROM cameras WHERE id = ?", c.ID).Scan(&sealed, &url); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, "Gate-Pa55word") || strings.Contains(sealed, "gateuser") || strings.Contains(url, "gateuser") {
		t.Fatalf("credentials stored in the clear: %q %q", sealed, url)
	}
	user, pass, err := camera.OpenCredentials(h.box, c.ID, sealed)
	if err != nil || user != "gateuser" || pass != "Gate-Pa55word" {
		t.Fatalf("sealed credentials do not open to what was given: %q %q %v", user, pass, err)
	}
	// Sealed to this camera: the same ciphertext does not open for another.
	if _, _, err := camera.OpenCredentials(h.box, "00000000-0000-4000-8000-000000000000", sealed); err == nil {
		t.Fatal("credentials opened under another camera's ID")
	}
	h.mustCreateCamera(op, map[string]any{"name": "Gate 2", "url": "rtsp://gate2user:Url-Pa55word@10.0.0.31/s"})
	page := h.mustAudit(admin, "?action=create-camera")
	if len(page.Items) != 2 {
		t.Fatalf("audit entries: %+v", page.Items)
	}
	for _, e := range page.Items {
		if c := string(e.Changes); strings.Contains(c, "Pa55word") || strings.Contains(c, "gate2user") {
			t.Fatalf("audit entry shows a credential: %s", c)
		}
	}
	if c := string(page.Items[0].Changes); !strings.Contains(c, `rtsp://[REDACTED]@10.0.0.31/s`) {
		t.Fatalf("URL credentials not redacted in place: %s", c)
	}

	// Sending only a new password keeps the username.
	if res := h.as(op, "PUT", "/api/v1/cameras/"+c.ID, map[string]any{"name": "Gate", "url": "rtsp://10.0.0.30/s", "password": "New-Gate-Pass"}); res.Code != 200 {
		t.Fatalf("update: %d %s", res.Code, res.Body)
	}
	_ = h.db.QueryRowContext(context.Background(), "SELECT credentials FROM cameras WHERE id = ?", c.ID).Scan(&sealed)
	if user, pass, err := camera.OpenCredentials(h.box, c.ID, sealed); err != nil || user != "gateuser" || pass != "New-Gate-Pass" {
		t.Fatalf("credentials after a password-only update: %q %q %v", user, pass, err)
	}
	for _, url := range []string{"/api/v1/cameras/" + c.ID, "/api/v1/cameras", "/api/v1/cameras/export?format=json", "/api/v1/cameras/export"} {
		if body := h.as(op, "GET", url, nil).Body.String(); strings.Contains(body, "Gate-Pa55word") || strings.Contains(body, "gateuser") {
			t.Fatalf("%s shows a credential: %s", url, body)
		}
	}
}

func TestCameraListFiltersAndPages(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	for i := range 9 {
		site := []string{"HQ", "Depot", "Annex"}[i%3]
		state := []string{"inactive", "maintenance", "inactive"}[i%3]
		h.mustCreateCamera(op, map[string]any{"name": fmt.Sprintf("Cam %02d", i), "site": site, "url": fmt.Sprintf("rtsp://10.0.1.%d/s", i),
			"direction": []string{"entry", "exit", "both"}[i%3], "state": state, "tags": []string{fmt.Sprintf("floor%d", i%2)}})
	}
	type page struct {
		Items      []cameraJSON `json:"items"`
		NextCursor string       `json:"nextCursor"`
		Total      int          `json:"total"`
	}
	get := func(q string) page {
		res := h.as(op, "GET", "/api/v1/cameras"+q, nil)
		if res.Code != 200 {
			t.Fatalf("list %s: %d %s", q, res.Code, res.Body)
		}
		var p page
		_ = json.Unmarshal(res.Body.Bytes(), &p)
		return p
	}
	for q, want := range map[string]int{"?site=HQ": 3, "?state=maintenance": 3, "?direction=exit": 3, "?tag=floor1": 4, "?q=cam%200": 9, "?q=cam%2007": 1, "?health=unknown": 9, "?site=HQ&direction=entry": 3, "?site=Nowhere": 0} {
		if p := get(q); p.Total != want || len(p.Items) != want {
			t.Errorf("list%s: total %d items %d, want %d", q, p.Total, len(p.Items), want)
		}
	}
	for _, sort := range []string{"name", "-name", "createdAt", "-createdAt"} {
		var names []string
		q := "?limit=4&sort=" + sort
		for {
			p := get(q)
			for _, c := range p.Items {
				names = append(names, c.Name)
			}
			if p.NextCursor == "" {
				break
			}
			q = "?limit=4&sort=" + sort + "&cursor=" + p.NextCursor
		}
		if len(names) != 9 {
			t.Fatalf("sort %s: paged through %d cameras: %v", sort, len(names), names)
		}
		first, last := "Cam 00", "Cam 08"
		if strings.HasPrefix(sort, "-") {
			first, last = last, first
		}
		if names[0] != first || names[8] != last {
			t.Errorf("sort %s: order %v", sort, names)
		}
	}
	if res := h.as(op, "GET", "/api/v1/cameras?sort=color", nil); res.Code != 422 {
		t.Errorf("unknown sort: %d", res.Code)
	}

	res := h.as(op, "GET", "/api/v1/cameras/summary", nil)
	h.check(t, scenario{Method: "GET", URL: "summary", WantStatus: 200, WantContains: []string{
		`"total":9`, `{"key":"inactive","count":6}`, `{"key":"maintenance","count":3}`, `{"key":"unknown","count":9}`, `{"key":"HQ","count":3}`}}, res)
}

// Cached list answers never outlive a change, wherever it comes from: here
// a workflow's health update straight in the database.
func TestCameraListCacheInvalidation(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Porch", "url": "rtsp://10.0.0.60/s"})
	list := func() string { return h.as(op, "GET", "/api/v1/cameras?q=porch", nil).Body.String() }
	first := list()
	if !strings.Contains(first, `"health":"unknown"`) || list() != first {
		t.Fatalf("list: %s", first)
	}
	if _, err := store.RecordCameraHealth(context.Background(), h.db, cam.ID, "online", "", &store.StreamInfo{Codec: "h264", Width: 640, Height: 480}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := list(); !strings.Contains(got, `"health":"online"`) || !strings.Contains(got, `"codec":"h264"`) {
		t.Fatalf("stale list after a health change: %s", got)
	}
	if _, err := h.db.ExecContext(context.Background(), "DELETE FROM cameras"); err != nil {
		t.Fatal(err)
	}
	if got := list(); strings.Contains(got, "Porch") {
		t.Fatalf("stale list after a delete: %s", got)
	}
}
