package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/odoo/odootest"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

func odooConfigBody(url, key string, enabled bool) map[string]any {
	b := map[string]any{"url": url, "database": "rollcall", "login": "rollcall-bot", "enabled": enabled, "matchField": "barcode"}
	if key != "" {
		b["apiKey"] = key
	}
	return b
}

// The connection: the key is stored but never shown, dropped when the URL
// moves to another host, and the test reports each step with Odoo's reason.
func TestOdooConfigAndTest(t *testing.T) {
	h := newHarness(t)
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	_, hr := h.mustUserToken("hr", auth.RoleHR)
	srv := odootest.New(odootest.Options{})
	t.Cleanup(srv.Close)

	h.check(t, scenario{Name: "test before configuring", WantStatus: 409, WantContains: []string{`"code":"odoo-not-configured"`}},
		h.as(admin, "POST", "/api/v1/odoo/test", nil))
	h.check(t, scenario{Name: "hr may not configure", WantStatus: 403},
		h.as(hr, "PUT", "/api/v1/odoo/config", odooConfigBody(srv.URL, "test-api-key", true)))
	res := h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody(srv.URL, "test-api-key", true))
	h.check(t, scenario{Name: "configure", WantStatus: 200, WantContains: []string{`"hasApiKey":true`, `"enabled":true`, `"protocol":"auto"`}}, res)
	if strings.Contains(res.Body.String(), "test-api-key") {
		t.Fatalf("the key is shown: %s", res.Body)
	}
	res = h.as(admin, "POST", "/api/v1/odoo/test", nil)
	h.check(t, scenario{Name: "test", WantStatus: 200, WantContains: []string{`"ok":true`, `"serverVersion":"17.0"`, `"protocol":"jsonrpc"`,
		`"name":"authenticate"`, `"name":"create_attendance"`}}, res)

	// A wrong key: the test says Odoo refused it.
	h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody(srv.URL, "wrong-key", true))
	res = h.as(admin, "POST", "/api/v1/odoo/test", nil)
	h.check(t, scenario{Name: "wrong key", WantStatus: 200, WantContains: []string{`"ok":false`, `refused the login and API key`}}, res)
	if strings.Contains(res.Body.String(), "wrong-key") {
		t.Fatalf("the key is echoed: %s", res.Body)
	}
	// No access to create attendances: named.
	h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody(srv.URL, "test-api-key", true))
	srv.DenyAccess("hr.attendance", "create")
	h.check(t, scenario{Name: "no create right", WantStatus: 200, WantContains: []string{`"ok":false`, `may not create hr.attendance`}},
		h.as(admin, "POST", "/api/v1/odoo/test", nil))

	// Another host: the stored key is not sent there.
	other := odootest.New(odootest.Options{})
	t.Cleanup(other.Close)
	h.check(t, scenario{Name: "moved without key", WantStatus: 200, WantContains: []string{`"hasApiKey":false`, `"enabled":false`}},
		h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody(other.URL, "", false)))
	h.check(t, scenario{Name: "enable without key", WantStatus: 422, WantContains: []string{`body.apiKey`}},
		h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody(other.URL, "", true)))
	h.check(t, scenario{Name: "bad url", WantStatus: 422, WantContains: []string{`body.url`}},
		h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody("ftp://odoo", "k", false)))
}

// A sync started from the API runs as a workflow, is listed with its
// counts and per-log outcomes, and a failed log can be retried.
func TestOdooSyncFromTheAPI(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withoutStreams)
	ctx := context.Background()
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	_, hr := h.mustUserToken("hr", auth.RoleHR)
	_, viewer := h.mustUserToken("viewer", auth.RoleViewer)
	srv := odootest.New(odootest.Options{})
	t.Cleanup(srv.Close)
	h.check(t, scenario{Name: "configure", WantStatus: 200},
		h.as(admin, "PUT", "/api/v1/odoo/config", odooConfigBody(srv.URL, "test-api-key", false)))

	people := map[string]string{}
	for _, code := range []string{"E-1", "E-2"} {
		p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: code, Name: "Person " + code, Status: contract.FaceStatusActive}
		if err := store.CreateFaceProfile(ctx, h.db, p); err != nil {
			t.Fatal(err)
		}
		people[code] = p.ID
	}
	srv.AddEmployee(odootest.Employee{Name: "Person E-1", Barcode: "E-1"}) // E-2 is not in Odoo
	day := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var missingLog string
	for i, l := range []struct {
		code, dir string
		at        time.Duration
	}{{"E-1", "in", 0}, {"E-1", "out", 8 * time.Hour}, {"E-2", "in", time.Hour}} {
		pid := people[l.code]
		row := &store.AttendanceLog{ID: uuid.NewString(), FaceProfileID: &pid, EmployeeCode: l.code, LoggedAt: day.Add(l.at), WorkDate: day,
			Direction: l.dir, Source: "manual", SyncState: store.SyncPending}
		if _, err := h.db.NewInsert().Model(row).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			missingLog = row.ID
		}
	}

	h.check(t, scenario{Name: "viewer may not sync", WantStatus: 403}, h.as(viewer, "POST", "/api/v1/odoo/sync", map[string]any{}))
	res := h.as(hr, "POST", "/api/v1/odoo/sync", map[string]any{})
	h.check(t, scenario{Name: "sync", WantStatus: 202, WantContains: []string{`"runId":"`, `"workflowId":"odoo-sync/`}}, res)
	runID, _ := res.json(t)["runId"].(string)
	var run map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := h.as(viewer, "GET", "/api/v1/odoo/logs/"+runID, nil)
		run = res.json(t)
		if res.Code == 200 && run["status"] != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if run["status"] != "partial" || run["synced"] != float64(2) || run["failed"] != float64(1) {
		t.Fatalf("run: %v", run)
	}
	if m, _ := run["missingEmployees"].([]any); len(m) != 1 || m[0] != "E-2" {
		t.Fatalf("missing employees: %v", run["missingEmployees"])
	}
	if len(srv.Attendances()) != 1 {
		t.Fatalf("odoo has %v", srv.Attendances())
	}
	// Ops find it in the Temporal UI by its outcome.
	d, err := h.temporal.DescribeWorkflow(ctx, "odoo-sync/"+runID, "")
	if err != nil {
		t.Fatal(err)
	}
	outcome, _ := d.TypedSearchAttributes.GetKeyword(workflows.SearchSyncOutcome)
	trigger, _ := d.TypedSearchAttributes.GetKeyword(workflows.SearchSyncTrigger)
	employees, _ := d.TypedSearchAttributes.GetKeywordList(workflows.SearchSyncEmployees)
	if outcome != "partial" || trigger != "manual" || len(employees) != 1 || employees[0] != "E-2" {
		t.Fatalf("search attributes: outcome %q trigger %q employees %v", outcome, trigger, employees)
	}
	h.check(t, scenario{Name: "status", WantStatus: 200, WantContains: []string{`"configured":true`, `"pending":0`, `"failed":1`, `"status":"partial"`}},
		h.as(viewer, "GET", "/api/v1/odoo/status", nil))
	h.check(t, scenario{Name: "runs", WantStatus: 200, WantContains: []string{`"id":"` + runID + `"`, `"trigger":"manual"`}},
		h.as(viewer, "GET", "/api/v1/odoo/logs", nil))

	// E-2 is added in Odoo; the failed log is retried.
	srv.AddEmployee(odootest.Employee{Name: "Person E-2", Barcode: "E-2"})
	h.check(t, scenario{Name: "retry an unknown log", WantStatus: 404}, h.as(hr, "POST", "/api/v1/odoo/retry/"+uuid.NewString(), nil))
	h.check(t, scenario{Name: "retry", WantStatus: 202, WantContains: []string{`"retried":1`}}, h.as(hr, "POST", "/api/v1/odoo/retry/"+missingLog, nil))
	deadline = time.Now().Add(30 * time.Second)
	for {
		l, err := store.FindAttendanceLog(ctx, h.db, missingLog)
		if err == nil && l.SyncState == store.SyncSynced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried log is %v (%v)", l.SyncState, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
