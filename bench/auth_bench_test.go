// Package bench holds Rollcall's benchmarks: real HTTP over loopback against
// the real stack (PostgreSQL, Redis), printing throughput and latency
// percentiles. Run with `make bench`.
package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

const benchSecret = "bench-secret-0123456789-abcdefghijklmnop"

// newServer starts the API on loopback over a fresh database with one user
// per role and rate limits out of the way.
func newServer(b *testing.B) (*httptest.Server, string, string) {
	b.Helper()
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
	tokens, err := auth.NewTokens(auth.TokenOptions{Algorithm: "HS256", Secret: []byte(benchSecret),
		Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience, TTL: cfg.JWT.AccessTTL})
	if err != nil {
		b.Fatal(err)
	}
	h, _, err := api.New(api.Deps{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Redis: rdb, Tokens: tokens})
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
	return srv, "bench", password
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

// report prints and records throughput and p50/p95/p99.
func (l *latencies) report(b *testing.B, name string, elapsed time.Duration) {
	slices.Sort(l.all)
	pct := func(p float64) time.Duration { return l.all[min(len(l.all)-1, int(p*float64(len(l.all))))] }
	rps := float64(len(l.all)) / elapsed.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(pct(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(0.95).Microseconds()), "p95-µs")
	b.ReportMetric(float64(pct(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s: %d requests, %.0f req/s, p50 %v, p95 %v, p99 %v", name, len(l.all), rps, pct(0.50), pct(0.95), pct(0.99))
}

// BenchmarkLogin measures POST /auth/login (argon2id verify, session
// insert, rate-limit bookkeeping) with concurrent clients.
func BenchmarkLogin(b *testing.B) {
	srv, user, pw := newServer(b)
	c := client()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	var lat latencies
	b.SetParallelism(2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var ds []time.Duration
		for pb.Next() {
			t0 := time.Now()
			res, err := c.Post(srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("login: %d", res.StatusCode)
				return
			}
			ds = append(ds, time.Since(t0))
		}
		lat.add(ds)
	})
	lat.report(b, "POST /api/v1/auth/login", time.Since(start))
}

// BenchmarkMe measures GET /auth/me (JWT verify, revocation check through
// Redis client-side cache, per-user rate limit, one user lookup) under
// concurrent load.
func BenchmarkMe(b *testing.B) {
	srv, user, pw := newServer(b)
	c := client()
	tok := login(b, c, srv.URL, user, pw)
	var lat latencies
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var ds []time.Duration
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/auth/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			res, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("me: %d", res.StatusCode)
				return
			}
			ds = append(ds, time.Since(t0))
		}
		lat.add(ds)
	})
	lat.report(b, "GET /api/v1/auth/me", time.Since(start))
}
