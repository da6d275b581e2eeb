package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

func (h *harness) alertService() *alerts.Service {
	return &alerts.Service{DB: h.db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Temporal: h.temporal, TaskQueue: rctemporal.TaskQueueDefault}
}

// An alert's life through the API: the same cause raised twice is one
// alert with two occurrences; acknowledging and resolving are for
// operators (a viewer gets 403); a resolved alert cannot be resolved
// again; the cause raised again afterwards opens a new alert.
func TestAlertLifecycle(t *testing.T) {
	h := newHarness(t)
	_, op := h.mustUserToken("olga", auth.RoleOperator)
	_, viewer := h.mustUserToken("vic", auth.RoleViewer)
	svc := h.alertService()
	ctx := context.Background()

	first, err := svc.Raise(ctx, alerts.Spec{Type: alerts.TypeProviderDown, SourceID: "compreface", Message: "connection refused"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Raise(ctx, alerts.Spec{Type: alerts.TypeProviderDown, SourceID: "compreface", Message: "timeout"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Occurrences != 2 {
		t.Fatalf("raised twice: ids %s %s, occurrences %d; want one alert with 2", first.ID, again.ID, again.Occurrences)
	}
	if _, err := svc.Raise(ctx, alerts.Spec{Type: "no_such_type", SourceID: "x", Message: "m"}); err == nil {
		t.Error("an unknown alert type was raised")
	}
	list := h.as(viewer, "GET", "/api/v1/alerts?status=open", nil)
	body := list.json(t)
	items, _ := body["items"].([]any)
	if list.Code != 200 || len(items) != 1 {
		t.Fatalf("open alerts: %d %s", list.Code, list.Body)
	}
	if a := items[0].(map[string]any); a["message"] != "timeout" || a["occurrences"] != float64(2) {
		t.Errorf("alert %v: want the last message and 2 occurrences", a)
	}
	if open, _ := body["open"].(map[string]any); open["critical"] != float64(1) {
		t.Errorf("open counts %v", body["open"])
	}
	if r := h.as(viewer, "POST", "/api/v1/alerts/"+first.ID+"/acknowledge", nil); r.Code != http.StatusForbidden {
		t.Errorf("viewer acknowledging: %d, want 403", r.Code)
	}
	ack := h.as(op, "POST", "/api/v1/alerts/"+first.ID+"/acknowledge", nil)
	if a := ack.json(t); ack.Code != 200 || a["status"] != "acknowledged" || a["acknowledgedBy"] == nil {
		t.Fatalf("acknowledge: %d %s", ack.Code, ack.Body)
	}
	// Another occurrence keeps it acknowledged.
	if a, _ := svc.Raise(ctx, alerts.Spec{Type: alerts.TypeProviderDown, SourceID: "compreface", Message: "timeout"}); a.Status != "acknowledged" || a.Occurrences != 3 {
		t.Errorf("raised while acknowledged: %+v", a)
	}
	if r := h.as(op, "GET", "/api/v1/alerts?status=open", nil); len(r.json(t)["items"].([]any)) != 0 {
		t.Errorf("the acknowledged alert is still listed as open: %s", r.Body)
	}
	res := h.as(op, "POST", "/api/v1/alerts/"+first.ID+"/resolve", map[string]any{"note": "provider restarted"})
	if a := res.json(t); res.Code != 200 || a["status"] != "resolved" || a["resolution"] != "provider restarted" || a["resolvedBy"] == nil {
		t.Fatalf("resolve: %d %s", res.Code, res.Body)
	}
	if r := h.as(op, "POST", "/api/v1/alerts/"+first.ID+"/resolve", nil); r.Code != http.StatusConflict {
		t.Errorf("resolving twice: %d, want 409", r.Code)
	}
	if r := h.as(op, "POST", "/api/v1/alerts/"+first.ID+"/acknowledge", nil); r.Code != http.StatusConflict {
		t.Errorf("acknowledging a resolved alert: %d, want 409", r.Code)
	}
	next, err := svc.Raise(ctx, alerts.Spec{Type: alerts.TypeProviderDown, SourceID: "compreface", Message: "down again"})
	if err != nil || next.ID == first.ID || next.Occurrences != 1 {
		t.Fatalf("the cause after resolution: %+v %v; want a new alert", next, err)
	}
	// The system clears it when the cause clears.
	cleared, err := svc.Clear(ctx, alerts.TypeProviderDown, "compreface", "the provider answers its health check")
	if err != nil || cleared == nil || cleared.ID != next.ID || cleared.ResolvedBy != nil {
		t.Fatalf("clear: %+v %v", cleared, err)
	}
	if again, err := svc.Clear(ctx, alerts.TypeProviderDown, "compreface", "x"); err != nil || again != nil {
		t.Errorf("clearing a cleared cause: %+v %v; want nothing", again, err)
	}
	if r := h.as(op, "GET", "/api/v1/alerts/00000000-0000-4000-8000-000000000000", nil); r.Code != http.StatusNotFound {
		t.Errorf("missing alert: %d", r.Code)
	}
	if r := h.as(op, "GET", "/api/v1/alerts?cursor=bm9wZQ", nil); r.Code != http.StatusUnprocessableEntity && r.Code != http.StatusBadRequest {
		t.Errorf("forged cursor: %d", r.Code)
	}
	// Paging walks all three alerts (two resolved, none open) once.
	seen := map[string]bool{}
	cursor := ""
	for range 5 {
		r := h.as(op, "GET", "/api/v1/alerts?limit=1"+cursor, nil).json(t)
		for _, it := range r["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		next, _ := r["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if len(seen) != 2 {
		t.Errorf("paging saw %d alerts, want 2", len(seen))
	}
}

// Notifications are per user: made from alerts for the roles that handle
// them, or sent by an admin to users and roles; each user reads and marks
// only their own.
func TestNotifications(t *testing.T) {
	h := newHarness(t)
	_, admin := h.mustUserToken("ada", auth.RoleAdmin)
	opUser, op := h.mustUserToken("otto", auth.RoleOperator)
	_, hr := h.mustUserToken("hanna", auth.RoleHR)
	ctx := context.Background()
	if _, err := h.alertService().Raise(ctx, alerts.Spec{Type: alerts.TypeExportFailed, SourceID: "job-1", Message: "disk full"}); err != nil {
		t.Fatal(err)
	}
	// Export failures notify admins and HR, not operators.
	for who, want := range map[string]float64{admin: 1, hr: 1, op: 0} {
		if n := h.as(who, "GET", "/api/v1/notifications/unread-count", nil).json(t)["unread"]; n != want {
			t.Errorf("unread %v, want %v", n, want)
		}
	}
	send := h.as(admin, "POST", "/api/v1/notifications", map[string]any{"roles": []string{"operator"}, "userIds": []string{opUser.ID},
		"title": "Maintenance at 22:00", "body": "cameras off for an hour", "severity": "warning"})
	if send.Code != http.StatusCreated || send.json(t)["notified"] != float64(1) {
		t.Fatalf("send: %d %s (want the operator notified once)", send.Code, send.Body)
	}
	if r := h.as(op, "POST", "/api/v1/notifications", map[string]any{"roles": []string{"hr"}, "title": "x"}); r.Code != http.StatusForbidden {
		t.Errorf("operator sending: %d, want 403", r.Code)
	}
	if r := h.as(admin, "POST", "/api/v1/notifications", map[string]any{"roles": []string{"janitor"}, "title": "x"}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("unknown role: %d %s, want 422", r.Code, r.Body)
	}
	if r := h.as(admin, "POST", "/api/v1/notifications", map[string]any{"title": "x"}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("nobody named: %d, want 422", r.Code)
	}
	list := h.as(op, "GET", "/api/v1/notifications", nil).json(t)
	items := list["items"].([]any)
	if len(items) != 1 || list["unread"] != float64(1) {
		t.Fatalf("operator's notifications: %v", list)
	}
	n := items[0].(map[string]any)
	if n["kind"] != "direct" || n["title"] != "Maintenance at 22:00" || n["severity"] != "warning" || n["senderId"] == nil {
		t.Errorf("notification %v", n)
	}
	id := n["id"].(string)
	if r := h.as(hr, "POST", "/api/v1/notifications/"+id+"/read", nil); r.Code != http.StatusNotFound {
		t.Errorf("reading another user's notification: %d, want 404", r.Code)
	}
	read := h.as(op, "POST", "/api/v1/notifications/"+id+"/read", nil)
	if read.Code != 200 || read.json(t)["readAt"] == nil {
		t.Fatalf("read: %d %s", read.Code, read.Body)
	}
	if n := h.as(op, "GET", "/api/v1/notifications/unread-count", nil).json(t)["unread"]; n != float64(0) {
		t.Errorf("unread after reading: %v", n)
	}
	all := h.as(hr, "POST", "/api/v1/notifications/read-all", nil)
	if all.Code != 200 || all.json(t)["marked"] != float64(1) {
		t.Errorf("read-all: %d %s", all.Code, all.Body)
	}
	if r := h.as(hr, "GET", "/api/v1/notifications?unread=true", nil).json(t); len(r["items"].([]any)) != 0 {
		t.Errorf("hr's unread after read-all: %v", r)
	}
}

// receiver is a webhook endpoint that answers with the given statuses in
// turn (then 200) and keeps what it received.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []received
	srv      *httptest.Server
}

type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: b, at: time.Now()})
		code := http.StatusOK
		if len(r.statuses) > 0 {
			code, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(t *testing.T, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("webhook receiver got %d requests in %s, want %d", len(r.got), within, n)
	return nil
}

// A new alert reaches the webhooks that take its type, as a signed POST;
// a receiver that fails (503) gets the same body again after a backoff,
// and the delivery is recorded with its attempts; a receiver that refuses
// (410) is not retried; a webhook for other types hears nothing.
func TestAlertWebhookDeliveries(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withoutStreams)
	_, admin := h.mustUserToken("ada", auth.RoleAdmin)
	_, op := h.mustUserToken("otto", auth.RoleOperator)
	flaky := newReceiver(t, http.StatusServiceUnavailable)
	refusing := newReceiver(t, http.StatusGone)
	other := newReceiver(t)
	const secret = "a-webhook-secret-0123456789"
	create := func(name, url string, types []string) string {
		t.Helper()
		r := h.as(admin, "POST", "/api/v1/alert-webhooks", map[string]any{"name": name, "url": url, "secret": secret, "alertTypes": types})
		if r.Code != http.StatusCreated {
			t.Fatalf("create webhook %s: %d %s", name, r.Code, r.Body)
		}
		b := r.json(t)
		if _, leaked := b["secret"]; leaked {
			t.Fatalf("the webhook's secret is returned: %s", r.Body)
		}
		return b["id"].(string)
	}
	flakyID := create("pager", flaky.srv.URL+"/hook", []string{alerts.TypeCameraOffline})
	refusingID := create("gone", refusing.srv.URL, nil)
	create("odoo-only", other.srv.URL, []string{alerts.TypeOdooSyncFailed})

	if r := h.as(op, "GET", "/api/v1/alert-webhooks", nil); r.Code != http.StatusForbidden {
		t.Errorf("operator listing webhooks: %d, want 403", r.Code)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "url": "ftp://example.com/", "secret": secret},
		{"name": "x", "url": "https://user:pw@example.com/", "secret": secret},
		{"name": "x", "url": "https://example.com/"},
		{"name": "x", "url": "https://example.com/", "secret": secret, "alertTypes": []string{"nope"}},
		{"name": "pager", "url": "https://example.com/", "secret": secret},
	} {
		if r := h.as(admin, "POST", "/api/v1/alert-webhooks", bad); r.Code != http.StatusUnprocessableEntity && r.Code != http.StatusConflict {
			t.Errorf("create %v: %d %s, want 422 (409 for a taken name)", bad, r.Code, r.Body)
		}
	}
	// A new destination needs a new secret.
	if r := h.as(admin, "PUT", "/api/v1/alert-webhooks/"+flakyID, map[string]any{"name": "pager", "url": "https://elsewhere.example.com/"}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("moving a webhook without its secret: %d %s, want 422", r.Code, r.Body)
	}

	start := time.Now()
	a, err := h.alertService().Raise(context.Background(), alerts.Spec{Type: alerts.TypeCameraOffline, SourceID: "cam-7", Message: "no frame for 30s"})
	if err != nil {
		t.Fatal(err)
	}
	got := flaky.wait(t, 2, 40*time.Second)
	if string(got[0].body) != string(got[1].body) {
		t.Errorf("the retry sent another body:\n%s\n%s", got[0].body, got[1].body)
	}
	if gap := got[1].at.Sub(got[0].at); gap < 4*time.Second {
		t.Errorf("retried after %s, want a backoff (5 s)", gap)
	}
	for i, g := range got {
		if !alerts.Verify([]byte(secret), g.header.Get(alerts.SignatureHeader), g.body, time.Now(), 5*time.Minute) {
			t.Errorf("attempt %d: signature %q does not verify", i+1, g.header.Get(alerts.SignatureHeader))
		}
		if alerts.Verify([]byte("another-secret-0123456789"), g.header.Get(alerts.SignatureHeader), g.body, time.Now(), 5*time.Minute) {
			t.Errorf("attempt %d: verifies with another secret", i+1)
		}
		if g.header.Get("X-Rollcall-Event") != alerts.EventRaised || g.header.Get("Content-Type") != "application/json" {
			t.Errorf("attempt %d headers %v", i+1, g.header)
		}
	}
	var p alerts.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil || p.Event != alerts.EventRaised || p.Alert == nil || p.Alert.ID != a.ID || p.Alert.Type != alerts.TypeCameraOffline {
		t.Fatalf("payload %s (%v)", got[0].body, err)
	}
	t.Logf("delivered on attempt 2, %s after the alert", got[1].at.Sub(start).Round(100*time.Millisecond))

	deliveries := func(id string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := h.as(admin, "GET", "/api/v1/alert-webhooks/"+id+"/deliveries", nil).json(t)
			items, _ := r["items"].([]any)
			if len(items) == 1 {
				if d := items[0].(map[string]any); d["status"] != "pending" || time.Now().After(deadline) {
					return d
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries of %s: %v", id, r)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if d := deliveries(flakyID); d["status"] != "delivered" || d["attempts"] != float64(2) || d["lastStatus"] != float64(200) {
		t.Errorf("flaky receiver's delivery %v: want delivered on the 2nd attempt", d)
	}
	refusing.wait(t, 1, 10*time.Second)
	if d := deliveries(refusingID); d["status"] != "failed" || d["attempts"] != float64(1) || d["lastStatus"] != float64(410) {
		t.Errorf("refusing receiver's delivery %v: want failed after 1 attempt", d)
	}
	time.Sleep(6 * time.Second) // past the first retry's backoff
	if n := len(refusing.wait(t, 1, time.Second)); n != 1 {
		t.Errorf("the refusing receiver was tried %d times, want 1", n)
	}
	other.mu.Lock()
	if len(other.got) != 0 {
		t.Errorf("a webhook for odoo_sync_failed got a camera alert")
	}
	other.mu.Unlock()

	// The test button sends a signed alert.test.
	tr := h.as(admin, "POST", "/api/v1/alert-webhooks/"+flakyID+"/test", nil)
	if tr.Code != http.StatusAccepted {
		t.Fatalf("test: %d %s", tr.Code, tr.Body)
	}
	got = flaky.wait(t, 3, 20*time.Second)
	if got[2].header.Get("X-Rollcall-Event") != alerts.EventTest || !alerts.Verify([]byte(secret), got[2].header.Get(alerts.SignatureHeader), got[2].body, time.Now(), time.Minute) {
		t.Errorf("test delivery headers %v", got[2].header)
	}
	if r := h.as(admin, "DELETE", "/api/v1/alert-webhooks/"+refusingID, nil); r.Code != http.StatusNoContent {
		t.Errorf("delete: %d", r.Code)
	}
	if r := h.as(admin, "GET", "/api/v1/alert-webhooks/"+refusingID, nil); r.Code != http.StatusNotFound {
		t.Errorf("deleted webhook: %d", r.Code)
	}
}

// A task queue nobody polls raises task_queue_no_workers after the grace;
// a worker polling it clears the alert.
func TestQueueWatch(t *testing.T) {
	h := newHarness(t)
	ns := testenv.TemporalNamespace(t, apiNamespace)
	queue := "rollcall-test-watch-" + uuid.NewString()[:8]
	svc := h.alertService()
	w := &alerts.QueueWatch{Alerts: svc, Temporal: h.temporal, Namespace: ns, Queues: []string{queue}, Grace: time.Nanosecond}
	ctx := context.Background()
	w.Check(ctx) // starts the grace
	time.Sleep(10 * time.Millisecond)
	w.Check(ctx)
	_, op := h.mustUserToken("otto", auth.RoleOperator)
	r := h.as(op, "GET", "/api/v1/alerts?type=task_queue_no_workers&sourceId="+queue, nil).json(t)
	items, _ := r["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["status"] != "open" {
		t.Fatalf("no-worker alerts for %s: %v", queue, r)
	}
	wk := worker.New(h.temporal, queue, worker.Options{})
	wk.RegisterWorkflowWithOptions(func(workflow.Context) error { return nil }, workflow.RegisterOptions{Name: "noop"})
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	defer wk.Stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.Check(ctx)
		a := h.as(op, "GET", "/api/v1/alerts/"+items[0].(map[string]any)["id"].(string), nil).json(t)
		if a["status"] == "resolved" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert not cleared with a worker polling: %v", a)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
