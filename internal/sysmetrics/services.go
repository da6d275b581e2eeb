package sysmetrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
)

// Probe is one named dependency check.
type Probe struct {
	Name  string
	Kind  string
	Check func(ctx context.Context) error
}

// ProviderSource gives the configured face provider (recognizer.Manager).
type ProviderSource interface {
	Current(ctx context.Context) (provider.Provider, provider.Config, error)
}

// ObjectUsage counts a bucket's objects and bytes (blob.Store).
type ObjectUsage interface {
	Usage(ctx context.Context, maxObjects int) (objects, bytes int64, capped bool, err error)
}

// StreamStatuses lists the running camera streams and queries their
// counters (temporal.Streams).
type StreamStatuses interface {
	Running(ctx context.Context) ([]string, error)
	Status(ctx context.Context, cameraID string) (contract.CameraStreamStatus, error)
}

// Monitor checks Rollcall's services and collects its figures. Nil
// dependencies are skipped.
type Monitor struct {
	DB      *bun.DB
	Redis   rueidis.Client
	Objects ObjectUsage
	// Temporal, Namespace and Queues: the task queues whose workers and
	// backlog are reported.
	Temporal  client.Client
	Namespace string
	Queues    []string
	Streams   StreamStatuses
	// DataDir is the directory whose file system's use is reported
	// (empty: the working directory).
	DataDir string
	// MaxObjects caps the bucket listing (0: DefaultMaxObjects).
	MaxObjects int
	// Probes are the dependency checks (PostgreSQL, Redis, MinIO,
	// Temporal), in the order they are reported.
	Probes   []Probe
	Provider ProviderSource
	// Secrets opens the stored Odoo key; OdooHTTP sends Odoo's requests
	// (nil: a default client).
	Secrets  odoo.Opener
	OdooHTTP *http.Client
	// Timeout bounds each check (0: 3 s).
	Timeout time.Duration
	Now     func() time.Time
}

func (m *Monitor) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Monitor) timeout() time.Duration {
	if m.Timeout > 0 {
		return m.Timeout
	}
	return 3 * time.Second
}

// CheckServices checks every service at once, each within the timeout:
// the probes, the face provider, Odoo when configured, and the workers of
// each task queue. The result is in a stable order (probes, provider,
// Odoo, queues).
func (m *Monitor) CheckServices(ctx context.Context) []ServiceStatus {
	probes := append([]Probe(nil), m.Probes...)
	if m.Provider != nil {
		probes = append(probes, m.providerProbe(ctx))
	}
	if p, ok := m.odooProbe(ctx); ok {
		probes = append(probes, p)
	}
	out := make([]ServiceStatus, len(probes)+len(m.Queues))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() { out[i] = m.run(ctx, p) })
	}
	if m.Temporal != nil {
		for i, q := range m.Queues {
			wg.Go(func() { out[len(probes)+i] = m.checkQueue(ctx, q) })
		}
	} else {
		out = out[:len(probes)]
	}
	wg.Wait()
	return out
}

func (m *Monitor) run(ctx context.Context, p Probe) ServiceStatus {
	cctx, cancel := context.WithTimeout(ctx, m.timeout())
	defer cancel()
	start := time.Now()
	err := p.Check(cctx)
	s := ServiceStatus{Name: p.Name, Kind: p.Kind, Status: StatusUp, Latency: time.Since(start), CheckedAt: m.now()}
	if err != nil {
		s.Status, s.Error = StatusDown, ErrorText(cctx, err)
	}
	return s
}

func (m *Monitor) checkQueue(ctx context.Context, queue string) ServiceStatus {
	cctx, cancel := context.WithTimeout(ctx, m.timeout())
	defer cancel()
	start := time.Now()
	q, err := DescribeQueue(cctx, m.Temporal.WorkflowService(), m.Namespace, queue)
	s := ServiceStatus{Name: "workers:" + queue, Kind: KindWorkers, Latency: time.Since(start), CheckedAt: m.now(), Queue: &q}
	if err != nil {
		s.Status, s.Error, s.Queue = StatusDown, ErrorText(cctx, err), nil
		return s
	}
	s.Status = queueStatus(q)
	if s.Status == StatusNoWorkers {
		s.Error = "no worker polls this task queue"
	}
	return s
}

// providerProbe checks the configured face provider; its name carries its
// kind (provider:builtin, provider:compreface, …).
func (m *Monitor) providerProbe(ctx context.Context) Probe {
	p, cfg, err := m.Provider.Current(ctx)
	name := "provider"
	if err == nil && cfg.Kind != "" {
		name += ":" + string(cfg.Kind)
	}
	return Probe{Name: name, Kind: KindProvider, Check: func(ctx context.Context) error {
		if err != nil {
			return fmt.Errorf("provider configuration: %w", err)
		}
		return p.Health(ctx)
	}}
}

// odooProbe checks Odoo's server version when a connection is stored.
func (m *Monitor) odooProbe(ctx context.Context) (Probe, bool) {
	if m.DB == nil {
		return Probe{}, false
	}
	cfg, err := store.GetOdooConfig(ctx, m.DB)
	if err != nil || cfg.URL == "" {
		return Probe{}, false
	}
	return Probe{Name: "odoo", Kind: KindOdoo, Check: func(ctx context.Context) error {
		c, err := odoo.NewFromSealed(odoo.Config{URL: cfg.URL, Database: cfg.Database, Login: cfg.Login, APIKey: cfg.APIKey,
			Protocol: cfg.Protocol, Timeout: m.timeout(), HTTP: m.OdooHTTP}, m.Secrets)
		if err != nil {
			return err
		}
		_, err = c.ServerVersion(ctx)
		return err
	}}, true
}

// ErrorText is a check's error as shown to operators: the kind of failure
// for the common ones (timeout, connection refused), otherwise the error
// with any URL credentials redacted, cut to 300 bytes.
func ErrorText(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	msg := urlsafe.Redact(err.Error())
	if strings.Contains(msg, "connection refused") {
		return "connection refused"
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
