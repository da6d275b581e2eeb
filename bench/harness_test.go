// Package bench holds Rollcall's benchmarks: real HTTP over loopback against
// the real stack (PostgreSQL, Redis), printing throughput and latency
// percentiles. Run with `make bench`.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/uptrace/bun"
	temporalclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

const benchSecret = "bench-secret-0123456789-abcdefghijklmnop"

// stack is the API on loopback over a fresh database, with the handles a
// benchmark needs to seed it.
type stack struct {
	srv            *httptest.Server
	db             *bun.DB
	box            *secrets.Box
	recent         *live.Recent
	user, password string
	// redisPrefix is the stack's Redis key prefix, under which live
	// events reach the API's hub (withLiveHub).
	redisPrefix string
}

// stackOption changes what newStack serves.
type stackOption func(*stackSetup)

type stackSetup struct {
	liveHub bool
}

// withLiveHub gives the API a live hub, running until the benchmark ends,
// so GET /ws serves the events any process publishes through Redis under
// the stack's prefix.
func withLiveHub(s *stackSetup) { s.liveHub = true }

// benchNamespace is the Temporal namespace of the benchmarks' (lazy, never
// dialled by the benchmarked endpoints) Temporal client.
const benchNamespace = "rollcall-bench"

// newStack starts the API on loopback over a fresh database with one
// operator and rate limits out of the way. Temporal and MinIO clients are
// built as in production but contacted only by endpoints that need them.
func newStack(b *testing.B, opts ...stackOption) *stack {
	b.Helper()
	var setup stackSetup
	for _, o := range opts {
		o(&setup)
	}
	db := testenv.DB(b)
	rdb, prefix := testenv.Redis(b)
	cfg, err := config.LoadFrom(func(k string) string {
		switch k {
		case "ROLLCALL_JWT_SECRET":
			return benchSecret
		case "ROLLCALL_ENCRYPTION_KEY":
			return "mryhsrYzwDhnWg8R3iFouxnQojvCv8t+ADCm5JiMXPA="
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg.RedisPrefix = prefix
	cfg.LoginRateIP.Limit, cfg.LoginRateAccount.Limit, cfg.APIRateUser.Limit = 1<<30, 1<<30, 1<<30
	for _, name := range config.RateClassNames {
		c := cfg.Rates.Class(name)
		c.User.Limit, c.IP.Limit = 1<<30, 1<<30
	}
	tokens, err := auth.NewTokens(auth.TokenOptions{Algorithm: "HS256", Secret: []byte(benchSecret),
		Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience, TTL: cfg.JWT.AccessTTL})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc, err := temporalclient.NewLazyClient(temporalclient.Options{HostPort: testenv.Require(b, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: benchNamespace, Logger: tlog.NewStructuredLogger(log)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tc.Close)
	blobs, err := blob.New(blob.Options{Endpoint: testenv.Require(b, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: os.Getenv("ROLLCALL_S3_BUCKET"), Region: "us-east-1"})
	if err != nil {
		b.Fatal(err)
	}
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		b.Fatal(err)
	}
	// As `rollcall serve` runs it: cache versions followed by notification.
	versions := store.NewVersionWatcher(db, log)
	vctx, stopVersions := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() { versions.Run(vctx); close(watching) }()
	b.Cleanup(func() { stopVersions(); <-watching }) // before the database is dropped
	recent := live.NewRecent(rdb, prefix, live.DefaultWindow, live.DefaultPerCamera)
	var hub *live.Hub
	if setup.liveHub {
		hub = startHub(b, rdb, prefix, log)
	}
	h, _, err := api.New(api.Deps{Config: cfg, Log: log, DB: db, Redis: rdb, Tokens: tokens,
		Temporal: tc, Streams: &rctemporal.Streams{Client: tc, Namespace: benchNamespace}, Blobs: blobs, Secrets: box, Versions: versions, Recent: recent,
		Live: hub})
	if err != nil {
		b.Fatal(err)
	}
	const password = "bench-password-123"
	hash, _ := auth.HashPassword(password)
	if err := store.CreateUser(b.Context(), db, &store.User{Username: "bench", PasswordHash: hash, Role: "operator", IsActive: true}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return &stack{srv: srv, db: db, box: box, recent: recent, user: "bench", password: password, redisPrefix: prefix}
}

// startHub runs a live hub until the benchmark ends and waits until it
// listens to Redis.
func startHub(b *testing.B, rdb rueidis.Client, prefix string, log *slog.Logger) *live.Hub {
	b.Helper()
	hub := live.NewHub(rdb, prefix, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		b.Fatal("live hub did not subscribe to Redis")
	}
	return hub
}

// newServer is newStack for benchmarks that need only the URL and a login.
func newServer(b *testing.B) (*httptest.Server, string, string) {
	b.Helper()
	s := newStack(b)
	return s.srv, s.user, s.password
}

func client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 10 * time.Second}
}

func login(b *testing.B, c *http.Client, url, user, password string) string {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	res, err := c.Post(url+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("login: %d", res.StatusCode)
	}
	var tp struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tp); err != nil {
		b.Fatal(err)
	}
	return tp.AccessToken
}

// latencies collects per-request durations from parallel goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(ds []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, ds...)
	l.mu.Unlock()
}

// pct returns the p-quantile (0..1) of the sorted latencies.
func (l *latencies) pct(p float64) time.Duration {
	if len(l.all) == 0 {
		return 0
	}
	return l.all[min(len(l.all)-1, int(p*float64(len(l.all))))]
}

// report prints and records throughput and p50/p95/p99.
func (l *latencies) report(b *testing.B, name string, elapsed time.Duration) {
	slices.Sort(l.all)
	rps := float64(len(l.all)) / elapsed.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(l.pct(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.pct(0.95).Microseconds()), "p95-µs")
	b.ReportMetric(float64(l.pct(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s: %d requests, %.0f req/s, p50 %v, p95 %v, p99 %v", name, len(l.all), rps, l.pct(0.50), l.pct(0.95), l.pct(0.99))
}
