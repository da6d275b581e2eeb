package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

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
