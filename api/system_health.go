package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/sync/singleflight"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/sysmetrics"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

// System health and services: live checks of every dependency, the face
// provider, Odoo and the workers of each task queue. The metrics views
// are in system_metrics.go.

// servicesFor is how long a services answer is reused: a burst of
// dashboard requests costs one round of checks.
const servicesFor = 5 * time.Second

// serviceCheckTimeout bounds each live check.
const serviceCheckTimeout = 2 * time.Second

// WorkersBody is what Temporal says of one task queue's workers.
type WorkersBody struct {
	Queue        string     `json:"queue" example:"rollcall-default"`
	Pollers      int        `json:"pollers" doc:"Workers polling the queue (by identity)"`
	LastAccessAt *time.Time `json:"lastAccessAt,omitempty" doc:"The latest poll of any of them"`
	Backlog      int64      `json:"backlog" doc:"Approximate count of tasks waiting"`
}

// ServiceBody is one checked service.
type ServiceBody struct {
	Name      string    `json:"name" example:"postgres" doc:"postgres, redis, minio, temporal, provider:<kind>, odoo, workers:<task queue>"`
	Kind      string    `json:"kind" enum:"database,cache,object_store,workflow_engine,face_provider,odoo,workers"`
	Status    string    `json:"status" enum:"up,down,no_workers" example:"up"`
	LatencyMs float64   `json:"latencyMs" example:"1.7"`
	Error     string    `json:"error,omitempty" example:"connection refused" doc:"Why the check failed now (never a credential)"`
	CheckedAt time.Time `json:"checkedAt"`
	// LastError outlives recovery: the last failure and when it was seen.
	LastError   string       `json:"lastError,omitempty" example:"timeout"`
	LastErrorAt *time.Time   `json:"lastErrorAt,omitempty"`
	Workers     *WorkersBody `json:"workers,omitempty" doc:"For kind workers"`
}

// ServicesOutput lists the services.
type ServicesOutput struct {
	Body struct {
		Items     []ServiceBody `json:"items"`
		CheckedAt time.Time     `json:"checkedAt"`
	}
}

// SystemCheckBody is one check of GET /system/health.
type SystemCheckBody struct {
	Name      string  `json:"name" example:"redis"`
	Kind      string  `json:"kind" example:"cache"`
	Status    string  `json:"status" enum:"up,down,no_workers"`
	LatencyMs float64 `json:"latencyMs" example:"0.4"`
	Error     string  `json:"error,omitempty" example:"timeout"`
}

// SystemHealthOutput is the overall health; the status code is 503 when
// it is down.
type SystemHealthOutput struct {
	Status int
	Body   struct {
		Status    string            `json:"status" enum:"ok,degraded,down" doc:"down: PostgreSQL, Redis, MinIO or Temporal fails (503); degraded: the face provider, Odoo or a task queue's workers fail"`
		CheckedAt time.Time         `json:"checkedAt"`
		Checks    []SystemCheckBody `json:"checks"`
	}
}

// coreKinds are the dependencies without which Rollcall is down.
var coreKinds = map[string]bool{sysmetrics.KindDatabase: true, sysmetrics.KindCache: true,
	sysmetrics.KindObjectStore: true, sysmetrics.KindWorkflow: true}

// checkKinds names the kind of each readiness check.
var checkKinds = map[string]string{"postgres": sysmetrics.KindDatabase, "redis": sysmetrics.KindCache,
	"minio": sysmetrics.KindObjectStore, "temporal": sysmetrics.KindWorkflow}

// serviceChecks runs the live checks, reusing an answer under servicesFor
// old; concurrent callers share one round.
type serviceChecks struct {
	s       *Server
	monitor *sysmetrics.Monitor
	flight  singleflight.Group
	mu      sync.Mutex
	at      time.Time
	last    []ServiceBody
}

func registerSystemHealth(api huma.API, s *Server) {
	m := &sysmetrics.Monitor{DB: s.db, Temporal: s.temporal, Namespace: s.cfg.TemporalNamespace, Queues: rctemporal.TaskQueues(),
		OdooHTTP: s.odooHTTP, Timeout: serviceCheckTimeout, Now: s.now}
	if s.providers != nil {
		m.Provider = s.providers
	}
	if s.secrets != nil {
		m.Secrets = s.secrets
	}
	for _, name := range []string{"postgres", "redis", "minio", "temporal"} {
		if check, ok := s.checks[name]; ok {
			m.Probes = append(m.Probes, sysmetrics.Probe{Name: name, Kind: checkKinds[name], Check: check})
		}
	}
	c := &serviceChecks{s: s, monitor: m}
	register(api, op{ID: "get-system-health", Method: http.MethodGet, Path: "/system/health", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "Overall health: ok, degraded or down, with each check's latency and error",
		Desc:    "503 when PostgreSQL, Redis, MinIO or Temporal is down; degraded (200) when only the face provider, Odoo or a task queue's workers are."},
		c.health)
	register(api, op{ID: "list-system-services", Method: http.MethodGet, Path: "/system/services", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "Every service Rollcall uses, checked live: status, latency, last error and when, workers per task queue",
		Desc:    "Checks run in parallel, each within 2 s; an answer is reused for 5 s."},
		c.list)
	registerSystemMetrics(api, s)
}

func (c *serviceChecks) list(ctx context.Context, _ *struct{}) (*ServicesOutput, error) {
	items, at := c.current(ctx)
	out := &ServicesOutput{}
	out.Body.Items, out.Body.CheckedAt = items, at
	return out, nil
}

func (c *serviceChecks) health(ctx context.Context, _ *struct{}) (*SystemHealthOutput, error) {
	items, at := c.current(ctx)
	out := &SystemHealthOutput{Status: http.StatusOK}
	out.Body.Status, out.Body.CheckedAt, out.Body.Checks = "ok", at, make([]SystemCheckBody, 0, len(items))
	for _, it := range items {
		out.Body.Checks = append(out.Body.Checks, SystemCheckBody{Name: it.Name, Kind: it.Kind, Status: it.Status,
			LatencyMs: it.LatencyMs, Error: it.Error})
		switch {
		case it.Status == sysmetrics.StatusUp:
		case coreKinds[it.Kind]:
			out.Body.Status, out.Status = "down", http.StatusServiceUnavailable
		case out.Body.Status == "ok":
			out.Body.Status = "degraded"
		}
	}
	return out, nil
}

// current returns the last checks when under servicesFor old, otherwise
// runs them (once for concurrent callers).
func (c *serviceChecks) current(ctx context.Context) ([]ServiceBody, time.Time) {
	c.mu.Lock()
	if c.last != nil && c.s.now().Sub(c.at) < servicesFor {
		items, at := c.last, c.at
		c.mu.Unlock()
		return items, at
	}
	c.mu.Unlock()
	v, _, _ := c.flight.Do("services", func() (any, error) {
		// Not the caller's context: a caller going away must not fail the
		// round the others wait for.
		items := c.check(context.WithoutCancel(ctx))
		c.mu.Lock()
		c.last, c.at = items, c.s.now()
		c.mu.Unlock()
		return items, nil
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return v.([]ServiceBody), c.at
}

// check runs every check, records them in system_services and returns
// them with each one's last stored error. The record is best effort: with
// PostgreSQL down, the live results are answered alone.
func (c *serviceChecks) check(ctx context.Context) []ServiceBody {
	checked := c.monitor.CheckServices(ctx)
	stored := map[string]store.SystemService{}
	wctx, cancel := context.WithTimeout(ctx, serviceCheckTimeout)
	defer cancel()
	if err := store.UpsertSystemServices(wctx, c.s.db, sysmetrics.Rows(checked)); err != nil {
		c.s.log.WarnContext(ctx, "service checks not recorded", slog.String("error", err.Error()))
	} else if rows, err := store.ListSystemServices(wctx, c.s.db); err == nil {
		for _, r := range rows {
			stored[r.Name] = r
		}
	}
	items := make([]ServiceBody, len(checked))
	for i, ch := range checked {
		b := ServiceBody{Name: ch.Name, Kind: ch.Kind, Status: ch.Status, LatencyMs: float64(ch.Latency.Microseconds()) / 1000,
			Error: ch.Error, CheckedAt: ch.CheckedAt}
		if r, ok := stored[ch.Name]; ok && r.LastErrorAt != nil {
			b.LastError, b.LastErrorAt = r.LastError, r.LastErrorAt
		} else if ch.Status != sysmetrics.StatusUp {
			at := ch.CheckedAt
			b.LastError, b.LastErrorAt = ch.Error, &at
		}
		if q := ch.Queue; q != nil {
			b.Workers = &WorkersBody{Queue: q.Queue, Pollers: q.Pollers, LastAccessAt: q.LastAccess, Backlog: q.Backlog}
		}
		items[i] = b
	}
	return items
}
