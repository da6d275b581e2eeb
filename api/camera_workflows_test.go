package api_test

import (
	"context"
	"encoding/json"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

type connectionJSON struct {
	OK     bool   `json:"ok"`
	Code   string `json:"code"`
	Msg    string `json:"message"`
	Health string `json:"health"`
	Stream *struct {
		Codec  string `json:"codec"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"stream"`
	WorkflowID string `json:"workflowId"`
}

func (h *harness) mustTestConnection(tok, id string) connectionJSON {
	h.t.Helper()
	res := h.as(tok, "POST", "/api/v1/cameras/"+id+"/test-connection", nil)
	if res.Code != 200 {
		h.t.Fatalf("test-connection: %d %s", res.Code, res.Body)
	}
	var c connectionJSON
	_ = json.Unmarshal(res.Body.Bytes(), &c)
	return c
}

func TestCameraTestConnection(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	rtsp := testenv.Require(t, "ROLLCALL_TEST_RTSP_URL")
	_, op := h.mustUserToken("oscar", auth.RoleOperator)

	cam1 := h.mustCreateCamera(op, map[string]any{"name": "Cam 1", "url": rtsp + "/cam1"})
	got := h.mustTestConnection(op, cam1.ID)
	if !got.OK || got.Stream == nil || got.Stream.Codec != "h264" || got.Stream.Width != 640 || got.Stream.Height != 480 || got.Health != "online" {
		t.Fatalf("cam1: %+v %+v", got, got.Stream)
	}
	if !strings.HasPrefix(got.WorkflowID, "camera-probe/"+cam1.ID+"/") {
		t.Fatalf("workflow ID %q", got.WorkflowID)
	}
	if c := h.mustGetCamera(op, cam1.ID); c.Health != "online" || c.Stream == nil || c.Stream.Width != 640 {
		t.Fatalf("camera after the test: %+v", c)
	}

	for _, tc := range []struct {
		name, url, user, pass string
		wantOK                bool
		wantCode              string
	}{
		{"secure mount, right password", rtsp + "/secure", "camuser", "campass", true, ""},
		{"secure mount, wrong password", rtsp + "/secure", "camuser", "Wrong-Pass-77", false, "auth_failed"},
		{"secure mount, no password", rtsp + "/secure", "", "", false, "auth_failed"},
		{"missing mount", rtsp + "/nope", "", "", false, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.mustCreateCamera(op, map[string]any{"name": tc.name, "url": tc.url, "username": tc.user, "password": tc.pass})
			got := h.mustTestConnection(op, c.ID)
			if got.OK != tc.wantOK || got.Code != tc.wantCode {
				t.Fatalf("got ok=%v code=%q message=%q", got.OK, got.Code, got.Msg)
			}
			if strings.Contains(got.Msg, "Wrong-Pass-77") {
				t.Fatalf("message shows the password: %q", got.Msg)
			}
			wantHealth := "online"
			if !tc.wantOK {
				wantHealth = "offline"
			}
			if got.Health != wantHealth {
				t.Fatalf("health %q, want %q", got.Health, wantHealth)
			}
		})
	}
}

func TestCameraSnapshot(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	rtsp := testenv.Require(t, "ROLLCALL_TEST_RTSP_URL")
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Cam 2", "url": rtsp + "/cam2"})

	res := h.as(op, "POST", "/api/v1/cameras/"+cam.ID+"/snapshot", nil)
	if res.Code != 200 {
		t.Fatalf("snapshot: %d %s", res.Code, res.Body)
	}
	var snap struct {
		Key       string `json:"key"`
		URL       string `json:"url"`
		SizeBytes int64  `json:"sizeBytes"`
	}
	_ = json.Unmarshal(res.Body.Bytes(), &snap)
	if !strings.HasPrefix(snap.Key, "cameras/"+cam.ID+"/snapshots/") || !strings.HasSuffix(snap.Key, ".jpg") {
		t.Fatalf("key %q", snap.Key)
	}
	dl, err := http.Get(snap.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	if dl.StatusCode != 200 {
		t.Fatalf("presigned URL: %d", dl.StatusCode)
	}
	img, err := jpeg.Decode(dl.Body)
	if err != nil {
		t.Fatalf("snapshot is not a JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 720 {
		t.Fatalf("snapshot is %dx%d, want 1280x720", b.Dx(), b.Dy())
	}

	// A camera that refuses us: 502 with a code, nothing stored.
	bad := h.mustCreateCamera(op, map[string]any{"name": "Locked", "url": rtsp + "/secure", "username": "camuser", "password": "nope-nope-1"})
	res = h.as(op, "POST", "/api/v1/cameras/"+bad.ID+"/snapshot", nil)
	h.check(t, scenario{Method: "POST", URL: "snapshot", WantStatus: 502, WantContains: []string{`"code":"camera-auth-failed"`}}, res)
	if strings.Contains(res.Body.String(), "nope-nope-1") {
		t.Fatalf("problem shows the password: %s", res.Body)
	}

	// Deleting the camera removes its snapshots.
	if res := h.as(op, "DELETE", "/api/v1/cameras/"+cam.ID, nil); res.Code != 204 {
		t.Fatalf("delete: %d", res.Code)
	}
	if _, err := h.blobs.Stat(context.Background(), snap.Key); err == nil {
		t.Fatal("snapshot survived its camera")
	}
}

func (h *harness) streamStatus(cameraID string) enumspb.WorkflowExecutionStatus {
	h.t.Helper()
	d, err := h.temporal.DescribeWorkflow(context.Background(), workflows.CameraStreamWorkflowID(cameraID), "")
	if err != nil {
		return enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
	}
	return d.RawResponse.GetWorkflowExecutionInfo().GetStatus()
}

func (h *harness) waitStream(cameraID string, want enumspb.WorkflowExecutionStatus) {
	h.t.Helper()
	// A cancelled stream first hands back its session (the worker hears of
	// the cancellation at its next heartbeat) and waits streamCancelGrace
	// before it ends: seconds, more on a loaded machine.
	deadline := time.Now().Add(30 * time.Second)
	for h.streamStatus(cameraID) != want {
		if time.Now().After(deadline) {
			h.t.Fatalf("stream of %s is %v, want %v", cameraID, h.streamStatus(cameraID), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCameraStateDrivesStreamWorkflow(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Door", "url": "rtsp://10.0.0.40/s", "state": "active"})
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)

	// Reconfiguring a running stream signals it.
	if res := h.as(op, "PUT", "/api/v1/cameras/"+cam.ID, map[string]any{"name": "Door", "url": "rtsp://10.0.0.41/s", "fps": 2}); res.Code != 200 {
		t.Fatalf("update: %d %s", res.Code, res.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := h.temporal.QueryWorkflow(context.Background(), workflows.CameraStreamWorkflowID(cam.ID), "", workflows.QueryCameraStreamStatus)
		var st contract.CameraStreamStatus
		if err == nil && v.Get(&st) == nil && st.Reconfigured == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream never saw the reconfigure signal: %v %+v", err, st)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if res := h.as(op, "PATCH", "/api/v1/cameras/"+cam.ID+"/state", map[string]any{"state": "inactive"}); res.Code != 200 {
		t.Fatalf("deactivate: %d %s", res.Code, res.Body)
	}
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
	if res := h.as(op, "PATCH", "/api/v1/cameras/"+cam.ID+"/state", map[string]any{"state": "active"}); res.Code != 200 {
		t.Fatalf("reactivate: %d", res.Code)
	}
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
	if res := h.as(op, "DELETE", "/api/v1/cameras/"+cam.ID, nil); res.Code != 204 {
		t.Fatalf("delete: %d", res.Code)
	}
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)

	events, err := store.FindCameraEvents(context.Background(), h.db, store.CameraEventFilter{CameraID: cam.ID, Limit: 10})
	if err != nil || len(events) != 0 {
		t.Fatalf("events of a deleted camera remain: %v %v", events, err)
	}
}

// The reconciler repairs what the API could not do: a camera made active
// (or inactive) behind its back gets (or loses) its stream.
func TestCameraReconciler(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	ctx := context.Background()
	active := &store.Camera{ID: "11111111-0000-4000-8000-000000000001", Name: "Active behind the API", StreamURL: "rtsp://10.0.0.50/s",
		Direction: "both", FPS: 1, Timezone: "UTC", State: "active", Health: "unknown"}
	if err := store.CreateCamera(ctx, h.db, active); err != nil {
		t.Fatal(err)
	}
	reconcile := func() contract.ReconcileResult {
		run, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "test-reconcile-" + time.Now().Format("150405.000000"),
			TaskQueue: rctemporal.TaskQueueDefault}, workflows.CameraReconcileWorkflow)
		if err != nil {
			t.Fatal(err)
		}
		var res contract.ReconcileResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := reconcile()
	if !contains(res.Started, active.ID) {
		t.Fatalf("reconciler did not start the active camera's stream: %+v", res)
	}
	h.waitStream(active.ID, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
	// Running twice changes nothing for it (visibility may lag a moment).
	time.Sleep(1500 * time.Millisecond)
	if res := reconcile(); contains(res.Started, active.ID) || contains(res.Stopped, active.ID) {
		t.Fatalf("second reconciliation touched a correct stream: %+v", res)
	}
	if _, _, err := store.SetCameraState(ctx, h.db, active.ID, "inactive", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	if res := reconcile(); !contains(res.Stopped, active.ID) {
		t.Fatalf("reconciler did not stop the inactive camera's stream: %+v", res)
	}
	h.waitStream(active.ID, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
}

// CameraHealthWorkflow marks an inactive camera whose server went away
// offline, and online again when it returns, recording both changes; an
// active camera is never probed (its stream decides its health, so one
// that answers probes but sends no frames does not flap).
func TestCameraHealthWorkflowOfflineAndBack(t *testing.T) {
	h := newHarness(t)
	rdb, _ := testenv.Redis(t)
	hub := live.NewHub(rdb, h.cfg.RedisPrefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	go func() { _ = hub.Run(hubCtx) }()
	<-hub.Ready()
	liveEvents := hub.Subscribe("cameras")
	h.live = hub
	h.startWorker(withoutStreams)
	srv := testenv.StartCameraServer(t)
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Flaky", "url": srv.URL("/cam1"), "state": "inactive"})
	ctx := context.Background()
	check := func(want string) contract.CameraHealthWorkflowResult {
		t.Helper()
		// As if it had not been checked for five minutes.
		if _, err := h.db.ExecContext(ctx, "UPDATE cameras SET last_checked_at = now() - interval '5 minutes' WHERE last_checked_at IS NOT NULL"); err != nil {
			t.Fatal(err)
		}
		run, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "test-health-" + time.Now().Format("150405.000000"),
			TaskQueue: rctemporal.TaskQueueDefault}, workflows.CameraHealthWorkflow,
			contract.CameraHealthWorkflowInput{StaleAfter: 2 * time.Minute, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		var res contract.CameraHealthWorkflowResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		if c := h.mustGetCamera(op, cam.ID); c.Health != want {
			t.Fatalf("health %q, want %q (%+v)", c.Health, want, res)
		}
		return res
	}
	check("online")
	srv.Stop()
	if res := check("offline"); res.Changed < 1 {
		t.Fatalf("change not counted: %+v", res)
	}
	srv.Start()
	check("online")

	// A camera checked a moment ago is not probed again, and an active one
	// never is.
	if _, err := h.db.ExecContext(ctx, "UPDATE cameras SET last_checked_at = now()"); err != nil {
		t.Fatal(err)
	}
	active := h.mustCreateCamera(op, map[string]any{"name": "Streams", "url": srv.URL("/cam2"), "state": "maintenance"})
	if _, err := h.db.ExecContext(ctx, "UPDATE cameras SET state = 'active', health = 'offline', last_checked_at = NULL WHERE id = ?", active.ID); err != nil {
		t.Fatal(err)
	}
	run, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "test-health-fresh-" + time.Now().Format("150405.000000"),
		TaskQueue: rctemporal.TaskQueueDefault}, workflows.CameraHealthWorkflow, contract.CameraHealthWorkflowInput{StaleAfter: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var fresh contract.CameraHealthWorkflowResult
	if err := run.Get(ctx, &fresh); err != nil || fresh.Probed != 0 {
		t.Fatalf("a fresh or active camera was probed: %+v %v", fresh, err)
	}
	if c := h.mustGetCamera(op, active.ID); c.Health != "offline" {
		t.Fatalf("the active camera's health is %q: a probe set it", c.Health)
	}

	events, err := store.FindCameraEvents(ctx, h.db, store.CameraEventFilter{CameraID: cam.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var health []string
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == "health" {
			health = append(health, events[i].FromValue+"→"+events[i].ToValue)
		}
	}
	if strings.Join(health, ",") != "unknown→online,online→offline,offline→online" {
		t.Fatalf("health events: %v", health)
	}
	// Each change was also published live on the cameras channel.
	var published []string
	for len(published) < 3 {
		select {
		case m := <-liveEvents.C():
			var d struct{ CameraID, From, To string }
			_ = json.Unmarshal(m.Data, &d)
			if m.Type == "camera.health" && d.CameraID == cam.ID {
				published = append(published, d.From+"→"+d.To)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("live health events: %v", published)
		}
	}
	if strings.Join(published, ",") != "unknown→online,online→offline,offline→online" {
		t.Fatalf("live health events: %v", published)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestQuickDeactivateActivateKeepsAStream: deactivating and at once
// activating a camera (the start request gets back the run being
// cancelled) still leaves the active camera with a running stream.
func TestQuickDeactivateActivateKeepsAStream(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Flip", "url": "rtsp://10.0.0.41/s", "state": "active"})
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
	for range 3 {
		for _, state := range []string{"inactive", "active"} {
			if res := h.as(op, "PATCH", "/api/v1/cameras/"+cam.ID+"/state", map[string]any{"state": state}); res.Code != 200 {
				t.Fatalf("%s: %d %s", state, res.Code, res.Body)
			}
		}
	}
	// Whatever the interleaving, a few seconds later the stream runs.
	time.Sleep(3 * time.Second)
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
	time.Sleep(2 * time.Second)
	h.waitStream(cam.ID, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
}
