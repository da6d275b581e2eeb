// Package providertest has stand-ins for the face providers Rollcall
// talks to — CompreFace, CodeProject.AI / DeepStack and Rollcall's own
// http protocol — as httptest servers that reproduce each API's requests,
// answers and error bodies, plus images their simple deterministic "face"
// rule reads predictably (see Face). They test protocol handling, not
// recognition.
package providertest

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Endpoint names, the keys of Server.Calls.
const (
	EndpointRecognize     = "recognize"
	EndpointEnroll        = "enroll"
	EndpointDeleteImage   = "delete_image"
	EndpointDeleteSubject = "delete_subject"
	EndpointHealth        = "health"
)

// Server is what every stand-in shares: its URL, call counters, a delay
// and injected failures. It is closed when the test ends.
type Server struct {
	// URL is the base URL to configure the provider with.
	URL string

	srv  *httptest.Server
	fail func(w http.ResponseWriter) // the stand-in's own 500 answer

	mu          sync.Mutex
	calls       map[string]int
	delay       time.Duration
	failNext    int
	inFlight    int
	maxInFlight int
}

func newServer(t testing.TB, mux *http.ServeMux, fail func(w http.ResponseWriter)) *Server {
	t.Helper()
	s := &Server{fail: fail, calls: map[string]int{}}
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down; later calls find the port closed.
func (s *Server) Close() { s.srv.Close() }

// SetDelay makes every later request wait d before it is answered (or
// until the client gives up).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// FailNext makes the next n requests fail with HTTP 500 and the
// provider's own error body.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Calls returns how many requests each endpoint received (Endpoint*
// keys), failed ones included.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// MaxConcurrent returns the most requests that were being handled at once.
func (s *Server) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// handle counts, delays and fails requests to endpoint before h answers.
func (s *Server) handle(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[endpoint]++
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		delay, fail := s.delay, s.failNext > 0
		if fail {
			s.failNext--
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		// Read the body first: only then does the server notice a client
		// that gives up, and end r.Context() (and so the delay).
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxUpload))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if fail {
			s.fail(w)
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxUpload bounds what the stand-ins read of a request.
const maxUpload = 16 << 20
