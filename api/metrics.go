package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's Prometheus series, on a registry of their own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollcall_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rollcall_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// knownMethods are the methods the API answers; anything else is refused
// by refuseUnknownMethods before it is logged or counted. Go's server
// accepts any token as a method, so a label taken from it unchecked would
// let anyone grow the metrics without bound.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// methodLabel is the method as a metrics label: one of knownMethods, or "other".
func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

// refuseUnknownMethods answers 501 to a method the API does not know,
// before anything else sees the request.
func refuseUnknownMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !knownMethods[r.Method] {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotImplemented)
			_, _ = w.Write([]byte(`{"type":"urn:rollcall:problem:method-not-allowed","title":"Not Implemented","status":501,"code":"method-not-allowed","detail":"unknown method"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// middleware counts requests by method (a fixed set) and route pattern
// (never the raw path, so IDs do not explode the label set).
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		method := methodLabel(r.Method)
		m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	})
}

// handler serves the exposition; with a token set, only to a scraper that
// presents it as a Bearer token.
func (m *metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeProblem(w, r, newProblem(http.StatusUnauthorized, CodeUnauthorized, "metrics need the configured bearer token"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Handler is the API's HTTP handler; MetricsHandler serves /metrics, for a
// separate listener (ROLLCALL_METRICS_ADDR: the API's router then has no
// /metrics).
type Handler struct {
	http.Handler
	metrics http.Handler
}

// MetricsHandler returns the /metrics handler (token-checked when a token
// is configured).
func (h *Handler) MetricsHandler() http.Handler { return h.metrics }
