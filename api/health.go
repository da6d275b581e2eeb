package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// HealthCheck is the state of one dependency.
type HealthCheck struct {
	Status    string  `json:"status" enum:"up,down" doc:"up or down"`
	LatencyMs float64 `json:"latencyMs"`
	Reason    string  `json:"reason,omitempty" doc:"Why it is down (unreachable or timeout); details are in the server log"`
}

// HealthBody is the body of the health endpoints.
type HealthBody struct {
	Status string `json:"status" enum:"ok,unavailable"`
	// Version is the running build's (liveness only).
	Version string                 `json:"version,omitempty" example:"v1.2.0"`
	Down    []string               `json:"down,omitempty" doc:"Names of the dependencies that are down"`
	Checks  map[string]HealthCheck `json:"checks,omitempty"`
}

// HealthOutput carries the status code chosen at run time.
type HealthOutput struct {
	Status int
	Body   HealthBody
}

func registerHealth(api huma.API, s *Server) {
	register(api, op{ID: "health-live", Method: http.MethodGet, Path: "/health/live", Tag: "Health", Public: true,
		Summary: "Liveness: the process is serving"},
		func(ctx context.Context, _ *struct{}) (*HealthOutput, error) {
			return &HealthOutput{Status: http.StatusOK, Body: HealthBody{Status: "ok", Version: s.version}}, nil
		})
	register(api, op{ID: "health-ready", Method: http.MethodGet, Path: "/health/ready", Tag: "Health", Public: true,
		Summary: "Readiness: PostgreSQL, Redis, MinIO and Temporal answer",
		Desc:    "503 names the dependencies that are down."},
		s.ready)
}

// readyFor is how long a readiness answer is reused: /health/ready is
// public, and each answer costs a round trip to every dependency.
const readyFor = time.Second

// ready answers from the last check when it is under readyFor old;
// concurrent callers share one check.
func (s *Server) ready(ctx context.Context, _ *struct{}) (*HealthOutput, error) {
	s.readyMu.Lock()
	if s.readyOut != nil && s.now().Sub(s.readyAt) < readyFor {
		out := s.readyOut
		s.readyMu.Unlock()
		return out, nil
	}
	s.readyMu.Unlock()
	v, _, _ := s.readyFlight.Do("ready", func() (any, error) {
		// Not the caller's context: a caller going away must not fail the
		// check the others wait for.
		out := s.checkReady(context.WithoutCancel(ctx))
		s.readyMu.Lock()
		s.readyOut, s.readyAt = out, s.now()
		s.readyMu.Unlock()
		return out, nil
	})
	return v.(*HealthOutput), nil
}

func (s *Server) checkReady(ctx context.Context) *HealthOutput {
	out := HealthBody{Status: "ok", Checks: make(map[string]HealthCheck, len(s.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range s.checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			start := time.Now()
			err := check(cctx)
			hc := HealthCheck{Status: "up", LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				hc.Status, hc.Reason = "down", "unreachable"
				if cctx.Err() != nil {
					hc.Reason = "timeout"
				}
				s.log.WarnContext(ctx, "dependency down", slog.String("dependency", name), slog.String("error", err.Error()))
			}
			mu.Lock()
			out.Checks[name] = hc
			if err != nil {
				out.Down = append(out.Down, name)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	status := http.StatusOK
	if len(out.Down) > 0 {
		slices.Sort(out.Down)
		out.Status, status = "unavailable", http.StatusServiceUnavailable
	}
	return &HealthOutput{Status: status, Body: out}
}
