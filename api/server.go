// Package api is Rollcall's HTTP API: Huma operations (one file per
// resource) on a chi router, with authentication, authorization, rate
// limits and audit applied in one place.
package api

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/singleflight"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/ratelimit"
	"github.com/rollcall/rollcall/internal/revoke"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/store"
)

// Checker reports whether one dependency is healthy.
type Checker func(ctx context.Context) error

// Deps are the API's dependencies.
type Deps struct {
	// Version is the build's version (rollcall version), reported by the
	// OpenAPI document and /health/live; empty means "dev".
	Version  string
	Config   config.Config
	Log      *slog.Logger
	DB       *bun.DB
	Redis    rueidis.Client
	Tokens   *auth.Tokens
	Temporal client.Client // starts and waits for workflows
	Streams  StreamControl // starts and stops camera stream workflows
	Blobs    Blobs
	Secrets  *secrets.Box
	// Providers gives the configured face provider.
	Providers Providers
	// OdooHTTP, when set, sends the requests to Odoo (nil: a default client).
	OdooHTTP *http.Client
	// Versions tells cache versions (store.VersionWatcher); nil reads them
	// from the database on every request.
	Versions Versions
	Checks   map[string]Checker // dependency name → health check, for /health/ready
	// Live publishes and fans out live events for GET /ws; nil answers 503 there.
	Live *live.Hub
	// Recent is the live detections view (nil: read from the database).
	Recent *live.Recent
	Now    func() time.Time
	// Collectors are served on /metrics with the API's own series (the
	// worker's counters when both run in one process).
	Collectors []prometheus.Collector
}

// StreamControl starts, stops, reconfigures, pauses, resumes and queries
// camera stream workflows (temporal.Streams).
type StreamControl interface {
	Start(ctx context.Context, cameraID string) error
	Stop(ctx context.Context, cameraID string) error
	Reconfigure(ctx context.Context, cameraID string) error
	Pause(ctx context.Context, cameraID string) error
	Resume(ctx context.Context, cameraID string) error
	// Status returns rctemporal.ErrStreamNotRunning for a camera without a
	// running stream.
	Status(ctx context.Context, cameraID string) (contract.CameraStreamStatus, error)
}

// Versions tells the current version of a cached resource.
type Versions interface {
	Version(ctx context.Context, name string) (int64, error)
}

type dbVersions struct{ db *bun.DB }

func (v dbVersions) Version(ctx context.Context, name string) (int64, error) {
	return store.CacheVersion(ctx, v.db, name)
}

// Blobs is the part of the object store the API uses.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	PresignGet(ctx context.Context, key string, expiry time.Duration, filename string) (string, error)
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// Server holds the API's dependencies; its methods are the handlers.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	db      *bun.DB
	tokens  *auth.Tokens
	limiter *ratelimit.Limiter
	// rates are the per-user ceiling and the endpoint-class limits.
	rates   *rateLimits
	revoked *revoke.List
	checks  map[string]Checker
	now     func() time.Time

	temporal client.Client
	streams  StreamControl

	cameraLists *responseCache
	versions    Versions
	version     string
	odooHTTP    *http.Client
	router      http.Handler // the whole API, for the developer console's calls
	humaAPI     huma.API
	providers   Providers
	recent      *live.Recent
	blobs       Blobs
	secrets     *secrets.Box
	policy      auth.PasswordPolicy
	// dummyHash is verified against when a login names no user, so unknown
	// users and wrong passwords take the same time.
	dummyHash string

	// live publishes events (nil: not configured).
	live *live.Hub
	// refusals folds the audit rows of unauthenticated refusals.
	refusals refusalFolder
	// wsUsers counts live WebSocket connections per user.
	wsUsers wsUserCounts

	// The last readiness answer, reused for a second.
	readyMu     sync.Mutex
	readyAt     time.Time
	readyOut    *HealthOutput
	readyFlight singleflight.Group
}

// New builds the HTTP handler and the Huma API (the latter for tests and
// the OpenAPI export).
func New(d Deps) (http.Handler, huma.API, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	dummy, err := auth.HashPassword(auth.GeneratePassword())
	if err != nil {
		return nil, nil, err
	}
	s := &Server{
		version:     cmp.Or(d.Version, "dev"),
		cfg:         d.Config,
		log:         d.Log,
		db:          d.DB,
		tokens:      d.Tokens,
		limiter:     ratelimit.New(d.Redis, d.Config.RedisPrefix),
		revoked:     revoke.New(d.Redis, d.Config.RedisPrefix, d.Tokens.TTL()),
		checks:      d.Checks,
		now:         d.Now,
		policy:      auth.PasswordPolicy{MinLength: d.Config.PasswordMinLength},
		dummyHash:   dummy,
		temporal:    d.Temporal,
		cameraLists: newResponseCache(512),
		versions:    d.Versions,
		providers:   d.Providers,
		recent:      d.Recent,
		streams:     d.Streams,
		blobs:       d.Blobs,
		secrets:     d.Secrets,
		live:        d.Live,
		odooHTTP:    d.OdooHTTP,
	}

	if s.versions == nil {
		s.versions = dbVersions{d.DB}
	}
	s.rates = newRateLimits(s.limiter, d.Config, d.Log)
	m := newMetrics()
	m.registry.MustRegister(d.Collectors...)
	router := chi.NewRouter()
	router.Use(refuseUnknownMethods, requestContext(newProxyPolicy(d.Config.TrustProxy, d.Config.TrustedProxies), d.Log), accessLog(d.Log), m.middleware, securityHeaders, cors(d.Config.CORSOrigins))
	metricsHandler := m.handler(d.Config.MetricsToken)
	if d.Config.MetricsAddr == "" {
		router.Handle("/metrics", metricsHandler)
	}

	installErrorHook()
	hc := huma.DefaultConfig("Rollcall API", s.version)
	hc.Info.Description = "CCTV face attendance: cameras, recognition, attendance, Odoo sync. " +
		"Authenticate with POST /api/v1/auth/login and send `Authorization: Bearer <accessToken>`. " +
		"Errors are RFC 9457 problem documents with a stable `code`."
	hc.OpenAPIPath = "/openapi"
	hc.DocsPath = "/docs"
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	}
	hc.CreateHooks = nil // no $schema links in response bodies
	hc.Transformers = append(hc.Transformers, addRequestID)
	api := humachi.New(router, hc)
	s.router, s.humaAPI = router, api

	v1 := huma.NewGroup(api, "/api/v1")
	v1.UseMiddleware(s.audit, s.authorize)

	registerHealth(api, s)
	registerAuth(v1, s)
	registerUsers(v1, s)
	registerOdoo(v1, s)
	registerSettings(v1, s)
	registerCameraEvents(v1, s)
	registerDeveloper(v1, s)
	registerSystemTemporal(v1, s)
	registerSystemHealth(v1, s)
	registerRoles(v1, s)
	registerAudit(v1, s)
	registerCameras(v1, s)
	registerCameraActions(v1, s)
	registerCameraStream(v1, s)
	registerCameraFiles(v1, s)
	registerFaces(v1, s)
	registerProviders(v1, s)
	registerWS(router, s, d.Live)
	registerDetections(v1, s)
	registerUnknownFaces(v1, s)
	registerLiveDetections(v1, s)
	registerAttendance(v1, s)
	registerAttendanceReports(v1, s)
	registerExports(v1, s)
	registerShifts(v1, s)
	registerAlerts(v1, s)
	registerNotifications(v1, s)
	registerWebhooks(v1, s)

	router.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, newProblem(http.StatusNotFound, CodeNotFound, "no such endpoint"))
	})
	router.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed on this endpoint"))
	})
	return &Handler{Handler: router, metrics: metricsHandler}, api, nil
}
