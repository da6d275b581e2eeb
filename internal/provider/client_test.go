package provider_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/providertest"
)

// standIns starts each remote kind's stand-in and returns a config for it.
var standIns = []struct {
	kind  string
	start func(t *testing.T) (provider.Config, *providertest.Server)
}{
	{provider.KindCompreFace, func(t *testing.T) (provider.Config, *providertest.Server) {
		s := providertest.NewCompreFace(t, testKey)
		return provider.Config{Kind: provider.KindCompreFace, URL: s.URL, APIKey: testKey}, s.Server
	}},
	{provider.KindCodeProject, func(t *testing.T) (provider.Config, *providertest.Server) {
		s := providertest.NewDeepStack(t, testKey)
		return provider.Config{Kind: provider.KindCodeProject, URL: s.URL, APIKey: testKey}, s.Server
	}},
	{provider.KindHTTP, func(t *testing.T) (provider.Config, *providertest.Server) {
		s := providertest.NewHTTP(t, testKey)
		return provider.Config{Kind: provider.KindHTTP, URL: s.URL, APIKey: testKey}, s.Server
	}},
}

func TestSlowProviderTimesOut(t *testing.T) {
	for _, si := range standIns {
		t.Run(si.kind, func(t *testing.T) {
			cfg, srv := si.start(t)
			srv.SetDelay(5 * time.Second)
			cfg.Timeout = 300 * time.Millisecond
			p := mustNew(t, cfg)
			start := time.Now()
			_, err := p.Recognize(context.Background(), providertest.Face(1))
			wantKind(t, err, provider.ErrTimeout)
			if d := time.Since(start); d > cfg.Timeout+time.Second {
				t.Errorf("took %s, want at most Timeout+1s", d)
			}
			wantKind(t, p.Health(context.Background()), provider.ErrTimeout)
		})
	}
}

func TestClosedPortIsUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	for _, kind := range []string{provider.KindCompreFace, provider.KindCodeProject, provider.KindHTTP} {
		t.Run(kind, func(t *testing.T) {
			p := mustNew(t, provider.Config{Kind: kind, URL: url, APIKey: testKey})
			_, err := p.Recognize(context.Background(), providertest.Face(1))
			wantKind(t, err, provider.ErrUnreachable)
			wantKind(t, p.Health(context.Background()), provider.ErrUnreachable)
		})
	}
}

func TestMaxInFlightBoundsConcurrentRequests(t *testing.T) {
	for _, si := range standIns {
		t.Run(si.kind, func(t *testing.T) {
			cfg, srv := si.start(t)
			cfg.MaxInFlight = 2
			p := mustNew(t, cfg)
			srv.SetDelay(100 * time.Millisecond)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if _, err := p.Recognize(context.Background(), providertest.Face(1)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if n := srv.MaxConcurrent(); n != 2 {
				t.Errorf("%d requests at once, want 2", n)
			}
		})
	}
}

func TestWaitingForASlotRespectsTheContext(t *testing.T) {
	cfg, srv := standIns[2].start(t)
	cfg.MaxInFlight = 1
	p := mustNew(t, cfg)
	srv.SetDelay(400 * time.Millisecond)
	go func() { _, _ = p.Recognize(context.Background(), providertest.Face(1)) }()
	for srv.Calls()[providertest.EndpointRecognize] == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	wantKind(t, p.Health(ctx), provider.ErrTimeout)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("waited %s for a slot past the context's deadline", d)
	}
}

// echoServer answers every request with status and a body repeating all
// it received, headers and body (the key included), as a careless
// provider might.
func echoServer(t *testing.T, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg := fmt.Sprintf("%v %s %s", r.Header, r.URL, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"message":%q,"error":%q,"success":false,"code":10}`, msg, msg)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAPIKeyNeverInErrorMessages(t *testing.T) {
	ctx := context.Background()
	for _, status := range []int{400, 401, 404, 500} {
		srv := echoServer(t, status)
		for _, kind := range []string{provider.KindCompreFace, provider.KindCodeProject, provider.KindHTTP} {
			t.Run(fmt.Sprintf("%s/%d", kind, status), func(t *testing.T) {
				p := mustNew(t, provider.Config{Kind: kind, URL: srv.URL, APIKey: testKey})
				_, recognizeErr := p.Recognize(ctx, providertest.Face(1))
				_, enrollErr := p.Enroll(ctx, "alice", []provider.Image{img("a", providertest.Face(1))})
				for op, err := range map[string]error{
					"recognize": recognizeErr, "enroll": enrollErr, "health": p.Health(ctx),
					"delete subject": p.DeleteSubject(ctx, "alice"), "delete image": p.DeleteImage(ctx, "alice", "a"),
				} {
					if err == nil {
						if status != 404 || !strings.HasPrefix(op, "delete") {
							t.Errorf("%s: no error from a server answering %d", op, status)
						}
						continue
					}
					if strings.Contains(err.Error(), testKey) {
						t.Errorf("%s: message shows the API key: %q", op, err)
					}
					if provider.Code(err) == "" {
						t.Errorf("%s: unclassified error %v", op, err)
					}
				}
			})
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	p := mustNew(t, provider.Config{Kind: provider.KindCompreFace, URL: srv.URL, APIKey: testKey})
	wantKind(t, p.Health(context.Background()), provider.ErrProvider)
	if hits.Load() != 0 {
		t.Errorf("the redirect was followed (and the key sent elsewhere)")
	}
}

func TestOversizedAnswerIsAProviderError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"faces":[`))
		_, _ = w.Write([]byte(strings.Repeat(" ", 5<<20)))
		_, _ = w.Write([]byte(`]}`))
	}))
	defer srv.Close()
	p := mustNew(t, provider.Config{Kind: provider.KindHTTP, URL: srv.URL})
	_, err := p.Recognize(context.Background(), providertest.Face(1))
	wantKind(t, err, provider.ErrProvider)
}
