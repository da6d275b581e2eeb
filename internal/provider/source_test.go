package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/providertest"
)

func TestValidSource(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", true},
		{"cam_1.entrance:main", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"cam 1", false},
		{"cam/1", false},
		{"cam\n1", false},
		{"kaméra", false},
		{"cam;DROP", false},
	} {
		if got := provider.ValidSource(tc.id); got != tc.want {
			t.Errorf("ValidSource(%q) = %v, want %v", tc.id, got, tc.want)
		}
		want := ""
		if tc.want {
			want = tc.id
		}
		if got := provider.SourceFrom(provider.WithSource(context.Background(), tc.id)); got != want {
			t.Errorf("WithSource(%q) carries %q, want %q", tc.id, got, want)
		}
	}
	if got := provider.SourceFrom(context.Background()); got != "" {
		t.Errorf("no source: %q", got)
	}
}

// TestHTTPSendsTheSource: the http adapter names the frame's source in
// X-Rollcall-Source, and sends no such header without one.
func TestHTTPSendsTheSource(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, strings.Join(r.Header.Values(provider.SourceHeader), ","))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"faces":[]}`))
	}))
	defer srv.Close()
	for _, kind := range []string{provider.KindHTTP, provider.KindBuiltin} {
		got = nil
		p := mustNew(t, provider.Config{Kind: kind, URL: srv.URL})
		for _, ctx := range []context.Context{provider.WithSource(t.Context(), "cam-7"), t.Context()} {
			if _, err := p.Recognize(ctx, providertest.NoFace()); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != 2 || got[0] != "cam-7" || got[1] != "" {
			t.Fatalf("%s: %s headers %q, want [cam-7, none]", kind, provider.SourceHeader, got)
		}
	}
}

// TestInProcessPassesTheSource: the in-process builtin gets the caller's
// source through its timeout and slot wrapper.
func TestInProcessPassesTheSource(t *testing.T) {
	engine := &fakeEngine{}
	p, err := provider.New(provider.Config{Kind: provider.KindBuiltin}, engine)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Recognize(provider.WithSource(t.Context(), "cam-9"), nil); err != nil {
		t.Fatal(err)
	}
	if src, _ := engine.source.Load().(string); src != "cam-9" {
		t.Fatalf("engine saw source %q, want cam-9", src)
	}
}
