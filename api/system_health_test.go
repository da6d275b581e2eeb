package api_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// withDependencies gives the server the checks of the real process:
// Redis and Temporal of the stack, and MinIO at minioAddr; its task
// queues are those of namespace, where no worker polls.
func withDependencies(t *testing.T, minioAddr, namespace string) harnessOption {
	rdb, _ := testenv.Redis(t)
	tc, err := client.NewLazyClient(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"), Namespace: namespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	objects, err := blob.New(blob.Options{Endpoint: minioAddr, AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: os.Getenv("ROLLCALL_S3_BUCKET"), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return func(cfg *config.Config, checks map[string]api.Checker) {
		cfg.TemporalNamespace = namespace
		checks["redis"] = func(ctx context.Context) error { return rdb.Do(ctx, rdb.B().Ping().Build()).Error() }
		checks["minio"] = objects.Check
		checks["temporal"] = func(ctx context.Context) error { return rctemporal.CheckHealth(ctx, tc) }
	}
}

type serviceItem struct {
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	LatencyMs   float64    `json:"latencyMs"`
	Error       string     `json:"error"`
	LastError   string     `json:"lastError"`
	LastErrorAt *time.Time `json:"lastErrorAt"`
	Workers     *struct {
		Queue   string `json:"queue"`
		Pollers int    `json:"pollers"`
		Backlog int64  `json:"backlog"`
	} `json:"workers"`
}

func mustServices(t *testing.T, res response) (map[string]serviceItem, time.Time) {
	t.Helper()
	if res.Code != http.StatusOK {
		t.Fatalf("services: %d %s", res.Code, res.Body.String())
	}
	var body struct {
		Items     []serviceItem `json:"items"`
		CheckedAt time.Time     `json:"checkedAt"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	out := map[string]serviceItem{}
	for _, it := range body.Items {
		out[it.Name] = it
	}
	return out, body.CheckedAt
}

// The services view names a dependency nothing answers (MinIO at a closed
// port, Odoo at another) with its error, keeps the last error, and shows
// task queues no worker polls as no_workers; health is down (503).
func TestSystemServicesNameAStoppedDependency(t *testing.T) {
	idle := testenv.TemporalNamespace(t, "rollcall-test-sys-idle")
	h := newHarness(t, withDependencies(t, closedAddr(t), idle))
	ctx := context.Background()
	sealed, err := h.box.Seal([]byte("odoo-key"), odoo.APIKeyAAD)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := store.GetOdooConfig(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	cfg.URL, cfg.Database, cfg.Login, cfg.APIKey = "http://"+closedAddr(t), "odoo", "bot", sealed
	if err := store.SaveOdooConfig(ctx, h.db, cfg); err != nil {
		t.Fatal(err)
	}
	_, operator := h.mustUserToken("olga", auth.RoleOperator)

	services, _ := mustServices(t, h.as(operator, "GET", "/api/v1/system/services", nil))
	for _, s := range services {
		t.Logf("%-34s %-10s %8.2f ms %q", s.Name, s.Status, s.LatencyMs, s.Error)
	}
	// The MinIO client retries a refused connection until the check's
	// timeout, so MinIO's error may be either.
	refused := map[string]bool{"connection refused": true}
	for name, want := range map[string]struct {
		kind, status string
		errs         map[string]bool
	}{
		"postgres": {"database", "up", map[string]bool{"": true}},
		"redis":    {"cache", "up", map[string]bool{"": true}},
		"temporal": {"workflow_engine", "up", map[string]bool{"": true}},
		"minio":    {"object_store", "down", map[string]bool{"connection refused": true, "timeout": true}},
		"odoo":     {"odoo", "down", refused},
	} {
		got, ok := services[name]
		if !ok {
			t.Errorf("%s not listed: %v", name, services)
			continue
		}
		if got.Kind != want.kind || got.Status != want.status || !want.errs[got.Error] {
			t.Errorf("%s: %s %s %q, want %s %s %v", name, got.Kind, got.Status, got.Error, want.kind, want.status, want.errs)
		}
		if want.status == "down" && (got.LastError != got.Error || got.LastErrorAt == nil) {
			t.Errorf("%s: last error %q at %v", name, got.LastError, got.LastErrorAt)
		}
	}
	if p, ok := services["provider:builtin"]; !ok || p.Kind != "face_provider" || p.Status != "up" {
		t.Errorf("provider: %+v (listed %v)", p, ok)
	}
	for _, q := range rctemporal.TaskQueues() {
		got := services["workers:"+q]
		if got.Status != "no_workers" || got.Workers == nil || got.Workers.Pollers != 0 || got.Workers.Queue != q {
			t.Errorf("queue %s: %+v workers %+v", q, got, got.Workers)
		}
	}
	// Recorded for the dashboard and the alerting that reads the table.
	rows, err := store.ListSystemServices(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for _, r := range rows {
		recorded[r.Name] = r.Status
	}
	if recorded["minio"] != "down" || recorded["postgres"] != "up" || recorded["workers:rollcall-default"] != "no_workers" {
		t.Errorf("system_services: %v", recorded)
	}

	res := h.as(operator, "GET", "/api/v1/system/health", nil)
	h.check(t, scenario{Name: "health down", WantStatus: http.StatusServiceUnavailable,
		WantContains: []string{`"status":"down"`, `"name":"minio","kind":"object_store","status":"down"`}}, res)
}

// With every dependency up but no worker polling, health is degraded
// (200); answers are reused for a few seconds; every role may read it.
func TestSystemHealthDegradedWithoutWorkers(t *testing.T) {
	idle := testenv.TemporalNamespace(t, "rollcall-test-sys-idle")
	h := newHarness(t, withDependencies(t, testenv.Require(t, "ROLLCALL_S3_ENDPOINT"), idle))
	if err := h.blobs.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	_, hr := h.mustUserToken("hana", auth.RoleHR)

	h.check(t, scenario{Name: "degraded", WantStatus: http.StatusOK, WantContains: []string{`"status":"degraded"`,
		`"name":"minio","kind":"object_store","status":"up"`, `"name":"workers:rollcall-default","kind":"workers","status":"no_workers"`}},
		h.as(viewer, "GET", "/api/v1/system/health", nil))
	_, first := mustServices(t, h.as(hr, "GET", "/api/v1/system/services", nil))
	_, second := mustServices(t, h.as(viewer, "GET", "/api/v1/system/services", nil))
	if !first.Equal(second) {
		t.Errorf("a second request within seconds checked again (%s, then %s)", first, second)
	}
}

// History is downsampled in steps aligned on since; input is checked at
// the edge; the latest samples are listed.
func TestSystemMetricsHistory(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	now := time.Now().UTC().Truncate(time.Minute)
	since := now.Add(-30 * time.Minute)
	var rows []store.SystemMetric
	for i, v := range []float64{10, 30, 50, 70, 90, 20} { // one sample a minute from since
		rows = append(rows, store.SystemMetric{RecordedAt: since.Add(time.Duration(i) * time.Minute), Name: "host_cpu_percent", Value: v})
	}
	rows = append(rows, store.SystemMetric{RecordedAt: now.Add(-time.Minute), Name: "host_cpu_percent", Value: 42},
		store.SystemMetric{RecordedAt: now.Add(-time.Minute), Name: "temporal_queue_backlog", Value: 3, Labels: map[string]string{"queue": "rollcall-default"}})
	if err := store.InsertSystemMetrics(ctx, h.db, rows); err != nil {
		t.Fatal(err)
	}

	url := "/api/v1/system/metrics/history?metric=host_cpu_percent&step=5m&since=" + since.Format(time.RFC3339) + "&until=" + now.Format(time.RFC3339)
	res := h.as(viewer, "GET", url, nil)
	if res.Code != http.StatusOK {
		t.Fatalf("history: %d %s", res.Code, res.Body.String())
	}
	var body struct {
		Step   string `json:"step"`
		Series []struct {
			Points []struct {
				At            time.Time
				Avg, Min, Max float64
				Count         int
			} `json:"points"`
		} `json:"series"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Step != "5m0s" || len(body.Series) != 1 || len(body.Series[0].Points) != 3 {
		t.Fatalf("history: %s", res.Body.String())
	}
	p := body.Series[0].Points
	if !p[0].At.Equal(since) || p[0].Avg != 50 || p[0].Min != 10 || p[0].Max != 90 || p[0].Count != 5 {
		t.Errorf("first step: %+v", p[0])
	}
	if !p[1].At.Equal(since.Add(5*time.Minute)) || p[1].Avg != 20 || p[1].Count != 1 {
		t.Errorf("second step: %+v", p[1])
	}
	if !p[2].At.Equal(now.Add(-5*time.Minute)) || p[2].Avg != 42 {
		t.Errorf("last step: %+v", p[2])
	}

	h.check(t, scenario{Name: "latest", WantStatus: 200, WantContains: []string{`"name":"host_cpu_percent","value":42`,
		`"name":"temporal_queue_backlog","value":3,"labels":{"queue":"rollcall-default"}`}},
		h.as(viewer, "GET", "/api/v1/system/metrics", nil))

	for _, c := range []struct{ name, query, field string }{
		{"unknown metric", "metric=cpu", "query.metric"},
		{"step too short", "metric=host_load1&step=10s", "query.step"},
		{"step not a duration", "metric=host_load1&step=often", "query.step"},
		{"too many points", "metric=host_load1&step=1m&since=" + now.Add(-30*24*time.Hour).Format(time.RFC3339), "query.step"},
		{"reversed range", "metric=host_load1&since=" + now.Format(time.RFC3339) + "&until=" + since.Format(time.RFC3339), "query.until"},
	} {
		h.check(t, scenario{Name: c.name, WantStatus: http.StatusUnprocessableEntity, WantContains: []string{c.field}},
			h.as(viewer, "GET", "/api/v1/system/metrics/history?"+c.query, nil))
	}
}
