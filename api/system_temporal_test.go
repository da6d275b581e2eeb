package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// Pausing, triggering and unpausing a schedule through the API is
// reflected in Temporal; workflows are listed by type and status.
func TestSystemSchedules(t *testing.T) {
	h := newHarness(t)
	testenv.TemporalNamespace(t, apiNamespace)
	ctx := context.Background()
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	var cleanup rctemporal.Schedule
	for _, s := range rctemporal.Schedules(rctemporal.WorkerOptions{}) {
		if s.ID == rctemporal.ScheduleCleanup {
			cleanup = s
		}
	}
	if err := rctemporal.UpsertSchedule(ctx, h.temporal, cleanup); err != nil {
		t.Fatal(err)
	}
	handle := h.temporal.ScheduleClient().GetHandle(ctx, cleanup.ID)
	t.Cleanup(func() { _ = handle.Pause(context.Background(), client.SchedulePauseOptions{Note: "paused by tests"}) })
	if err := handle.Unpause(ctx, client.ScheduleUnpauseOptions{}); err != nil {
		t.Fatal(err)
	}

	h.check(t, scenario{Name: "list", WantStatus: 200, WantContains: []string{`"id":"rollcall-cleanup"`, `"workflow":"CleanupWorkflow"`, `"every":"1h0m0s"`, `"paused":false`}},
		h.as(viewer, "GET", "/api/v1/system/schedules", nil))
	h.check(t, scenario{Name: "viewer may not pause", WantStatus: 403}, h.as(viewer, "POST", "/api/v1/system/schedules/rollcall-cleanup/pause", map[string]any{}))
	h.check(t, scenario{Name: "unknown schedule", WantStatus: 404}, h.as(admin, "POST", "/api/v1/system/schedules/someone-elses/pause", map[string]any{}))

	h.check(t, scenario{Name: "pause", WantStatus: 200, WantContains: []string{`"paused":true`, `"note":"maintenance window"`}},
		h.as(admin, "POST", "/api/v1/system/schedules/rollcall-cleanup/pause", map[string]any{"note": "maintenance window"}))
	d, err := handle.Describe(ctx)
	if err != nil || !d.Schedule.State.Paused || d.Schedule.State.Note != "maintenance window" {
		t.Fatalf("Temporal: paused %v note %q (%v)", d.Schedule.State.Paused, d.Schedule.State.Note, err)
	}
	before := d.Info.NumActions
	h.check(t, scenario{Name: "trigger", WantStatus: 200, WantContains: []string{`"id":"rollcall-cleanup"`}},
		h.as(admin, "POST", "/api/v1/system/schedules/rollcall-cleanup/trigger", map[string]any{}))
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err = handle.Describe(ctx)
		if err == nil && d.Info.NumActions > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trigger started nothing: %d actions (%v)", d.Info.NumActions, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.check(t, scenario{Name: "unpause", WantStatus: 200, WantContains: []string{`"paused":false`}},
		h.as(admin, "POST", "/api/v1/system/schedules/rollcall-cleanup/unpause", map[string]any{}))
	if d, err := handle.Describe(ctx); err != nil || d.Schedule.State.Paused {
		t.Fatalf("Temporal: still paused (%v)", err)
	}

	// A run no worker polls stays running, and is listed by its type.
	stuck, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "test-listed-" + time.Now().Format("150405.000000"),
		TaskQueue: "rollcall-test-unpolled"}, workflows.CleanupWorkflow, contract.CleanupWorkflowInput{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.temporal.TerminateWorkflow(context.Background(), stuck.GetID(), "", "test over") })
	deadline = time.Now().Add(10 * time.Second)
	for {
		res := h.as(viewer, "GET", "/api/v1/system/workflows?type=CleanupWorkflow&status=running", nil)
		if strings.Contains(res.Body.String(), `"workflowId":"`+stuck.GetID()+`"`) && strings.Contains(res.Body.String(), `"status":"running"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running workflow is not listed: %s", res.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if body := h.as(viewer, "GET", "/api/v1/system/workflows?type=OdooSyncWorkflow&status=running", nil).Body.String(); strings.Contains(body, stuck.GetID()) {
		t.Fatalf("the type filter let another type through: %s", body)
	}
	h.check(t, scenario{Name: "failed workflows", WantStatus: 200, WantContains: []string{`"items":`}},
		h.as(viewer, "GET", "/api/v1/system/workflows?status=failed", nil))
	h.check(t, scenario{Name: "not a type of ours", WantStatus: 422, WantContains: []string{"query.type"}},
		h.as(viewer, "GET", "/api/v1/system/workflows?type=Evil'%20OR%201=1", nil))

	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	cam := h.mustCreateCamera(op, map[string]any{"name": "Idle", "url": "rtsp://10.0.0.70/s", "state": "inactive"})
	h.check(t, scenario{Name: "restart an inactive camera's stream", WantStatus: 409, WantContains: []string{"stream-not-running"}},
		h.as(op, "POST", "/api/v1/cameras/"+cam.ID+"/stream/restart", nil))
}
