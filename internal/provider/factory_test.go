package provider_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/provider"
)

func TestNewValidatesTheConfig(t *testing.T) {
	valid := provider.Config{Kind: provider.KindHTTP, URL: "http://provider:8080", SimilarityThreshold: 0.8, DetectionThreshold: 0.7, Timeout: time.Second, MaxInFlight: 4}
	tests := []struct {
		name      string
		change    func(*provider.Config)
		wantField string // "" for a valid config
	}{
		{"valid", func(*provider.Config) {}, ""},
		{"zero timeout and in-flight take defaults", func(c *provider.Config) { c.Timeout, c.MaxInFlight = 0, 0 }, ""},
		{"https with a path", func(c *provider.Config) { c.URL = "https://ai.example.com/compreface/" }, ""},
		{"unknown kind", func(c *provider.Config) { c.Kind = "rekognition" }, "Kind"},
		{"empty kind", func(c *provider.Config) { c.Kind = "" }, "Kind"},
		{"missing URL", func(c *provider.Config) { c.URL = "" }, "URL"},
		{"relative URL", func(c *provider.Config) { c.URL = "provider:8080" }, "URL"},
		{"ftp URL", func(c *provider.Config) { c.URL = "ftp://provider" }, "URL"},
		{"URL without host", func(c *provider.Config) { c.URL = "http://" }, "URL"},
		{"URL with credentials", func(c *provider.Config) { c.URL = "http://user:pw@provider" }, "URL"},
		{"URL with a query", func(c *provider.Config) { c.URL = "http://provider/?key=x" }, "URL"},
		{"similarity above 1", func(c *provider.Config) { c.SimilarityThreshold = 1.5 }, "SimilarityThreshold"},
		{"similarity NaN", func(c *provider.Config) { c.SimilarityThreshold = math.NaN() }, "SimilarityThreshold"},
		{"detection below 0", func(c *provider.Config) { c.DetectionThreshold = -0.1 }, "DetectionThreshold"},
		{"negative timeout", func(c *provider.Config) { c.Timeout = -time.Second }, "Timeout"},
		{"in-flight above 64", func(c *provider.Config) { c.MaxInFlight = 65 }, "MaxInFlight"},
		{"negative in-flight", func(c *provider.Config) { c.MaxInFlight = -1 }, "MaxInFlight"},
		{"key with a newline", func(c *provider.Config) { c.APIKey = "abc\nX-Evil: 1" }, "APIKey"},
		{"compreface without key", func(c *provider.Config) { c.Kind = provider.KindCompreFace }, "APIKey"},
		{"codeproject without key", func(c *provider.Config) { c.Kind = provider.KindCodeProject }, ""},
		{"builtin with URL", func(c *provider.Config) { c.Kind = provider.KindBuiltin }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			_, err := provider.New(cfg, nil)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantField) {
				t.Fatalf("New: %v, want an error naming %s", err, tt.wantField)
			}
			if cfg.APIKey != "" && strings.Contains(err.Error(), cfg.APIKey) {
				t.Errorf("error shows the API key: %v", err)
			}
		})
	}
}

// fakeEngine stands in for the in-process builtin engine: it returns raw
// best subjects and similarities, and counts concurrent calls.
type fakeEngine struct {
	faces []provider.Face
	err   error
	delay time.Duration

	inFlight, maxInFlight atomic.Int32
	source                atomic.Value // provider.SourceFrom of the last Recognize
}

func (e *fakeEngine) Recognize(ctx context.Context, _ []byte) (provider.Result, error) {
	e.source.Store(provider.SourceFrom(ctx))
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	for {
		m := e.maxInFlight.Load()
		if n <= m || e.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(e.delay):
	case <-ctx.Done():
		return provider.Result{}, ctx.Err()
	}
	return provider.Result{Faces: slices.Clone(e.faces)}, e.err
}
func (e *fakeEngine) Enroll(context.Context, string, []provider.Image) ([]string, error) {
	return nil, e.err
}
func (e *fakeEngine) DeleteImage(context.Context, string, string) error { return e.err }
func (e *fakeEngine) DeleteSubject(context.Context, string) error       { return e.err }
func (e *fakeEngine) Health(context.Context) error                      { return e.err }
func (e *fakeEngine) Capabilities() provider.Capabilities {
	return provider.Capabilities{IdempotentEnroll: true}
}

func TestInProcessBuiltinGetsTheSameThresholds(t *testing.T) {
	engine := &fakeEngine{faces: []provider.Face{
		{DetectionConfidence: 0.95, Subject: "alice", Similarity: 0.9},
		{DetectionConfidence: 0.95, Subject: "bob", Similarity: 0.7},   // too dissimilar: unknown
		{DetectionConfidence: 0.5, Subject: "carol", Similarity: 0.99}, // too faint: dropped
	}}
	p, err := provider.New(provider.Config{Kind: provider.KindBuiltin, SimilarityThreshold: 0.8, DetectionThreshold: 0.6}, engine)
	if err != nil {
		t.Fatal(err)
	}
	faces := mustRecognize(t, p, nil)
	if got := subjectsOf(faces); !slices.Equal(got, []string{"alice", ""}) {
		t.Errorf("subjects %q, want [alice, unknown]", got)
	}
	if len(faces) == 2 && faces[1].Similarity != 0.7 {
		t.Errorf("unknown face lost its similarity: %+v", faces[1])
	}
	if !p.Capabilities().IdempotentEnroll {
		t.Error("capabilities not the engine's")
	}
}

func TestInProcessBuiltinBoundsCallsAndClassifiesErrors(t *testing.T) {
	engine := &fakeEngine{delay: 30 * time.Millisecond}
	p, err := provider.New(provider.Config{Kind: provider.KindBuiltin, MaxInFlight: 3}, engine)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { _, _ = p.Recognize(context.Background(), nil) })
	}
	wg.Wait()
	if n := engine.maxInFlight.Load(); n != 3 {
		t.Errorf("%d calls at once, want 3", n)
	}

	engine.err = errors.New("engine exploded")
	wantKind(t, p.Health(context.Background()), provider.ErrProvider)
	engine.err = &provider.Error{Kind: provider.ErrBadImage, Msg: "builtin: not an image"}
	_, err = p.Recognize(context.Background(), nil)
	wantKind(t, err, provider.ErrBadImage)

	engine.err, engine.delay = nil, time.Second
	slow, _ := provider.New(provider.Config{Kind: provider.KindBuiltin, Timeout: 50 * time.Millisecond}, engine)
	_, err = slow.Recognize(context.Background(), nil)
	wantKind(t, err, provider.ErrTimeout)
}

func TestInProcessBuiltinNeedsAnEngine(t *testing.T) {
	if _, err := provider.New(provider.Config{Kind: provider.KindBuiltin}, nil); err == nil {
		t.Fatal("builtin without URL nor engine accepted")
	}
}
