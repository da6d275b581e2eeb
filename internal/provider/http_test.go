package provider_test

import (
	"context"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/providertest"
)

func newHTTP(t *testing.T, cfg provider.Config) (provider.Provider, *providertest.HTTPServer) {
	t.Helper()
	srv := providertest.NewHTTP(t, testKey)
	cfg.Kind, cfg.URL, cfg.APIKey = provider.KindHTTP, srv.URL, testKey
	return mustNew(t, cfg), srv
}

func TestHTTPRecognizeAppliesThresholdsOnTheClient(t *testing.T) {
	tests := []struct {
		name        string
		sim, det    float64
		image       []byte
		wantSubject []string
		wantSim     float64
	}{
		{name: "known", sim: 0.8, det: 0.8, image: providertest.Face(1), wantSubject: []string{"alice"}, wantSim: 1},
		{name: "unknown", sim: 0.8, det: 0.8, image: providertest.Face(3), wantSubject: []string{""}},
		{name: "no face", sim: 0.8, det: 0.8, image: providertest.NoFace(), wantSubject: []string{}},
		{name: "two faces", sim: 0.8, det: 0.8, image: providertest.Faces(2, 1), wantSubject: []string{"bob", "alice"}},
		{name: "not similar enough", sim: 0.9, det: 0.8, image: providertest.FaceImage(1, 8, 0.95), wantSubject: []string{""}, wantSim: 0.875},
		{name: "faint face dropped", sim: 0.8, det: 0.8, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{}},
		{name: "faint face kept", sim: 0.8, det: 0.6, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{"alice"}, wantSim: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newHTTP(t, provider.Config{SimilarityThreshold: tt.sim, DetectionThreshold: tt.det})
			mustEnroll(t, p, "alice", img("a1", providertest.Face(1)))
			mustEnroll(t, p, "bob", img("b1", providertest.Face(2)))
			faces := mustRecognize(t, p, tt.image)
			if got := subjectsOf(faces); !slices.Equal(got, tt.wantSubject) {
				t.Fatalf("subjects %q, want %q", got, tt.wantSubject)
			}
			if tt.wantSim > 0 && math.Abs(faces[0].Similarity-tt.wantSim) > 0.02 {
				t.Errorf("similarity %.3f, want about %.3f", faces[0].Similarity, tt.wantSim)
			}
		})
	}
}

func TestHTTPEnrollIsIdempotentOnImageID(t *testing.T) {
	p, srv := newHTTP(t, provider.Config{})
	// A subject and an image ID that need escaping reach the server intact.
	subject, id := "team a/alice", "img 1?x"
	for range 2 {
		if ids := mustEnroll(t, p, subject, img(id, providertest.Face(1))); ids[0] != id {
			t.Fatalf("ids %q, want %q", ids, id)
		}
	}
	if got := srv.Subjects(); !maps.EqualFunc(got, map[string][]string{subject: {id}}, slices.Equal) {
		t.Errorf("server holds %v, want one image", got)
	}
	if caps := p.Capabilities(); !caps.IdempotentEnroll || caps.ReplacesSubject {
		t.Errorf("capabilities %+v, want IdempotentEnroll only", caps)
	}
	// Being idempotent, enrollment is retried after a 500.
	srv.FailNext(1)
	mustEnroll(t, p, subject, img("img-2", providertest.Face(1)))
	if n := srv.Calls()[providertest.EndpointEnroll]; n != 4 {
		t.Errorf("%d enroll calls, want 4 (2 + a failed one + its retry)", n)
	}
}

func TestHTTPEnrollErrors(t *testing.T) {
	p, _ := newHTTP(t, provider.Config{})
	_, err := p.Enroll(context.Background(), "alice", []provider.Image{img("a", []byte("no image"))})
	wantKind(t, err, provider.ErrBadImage)
	_, err = p.Enroll(context.Background(), "alice", []provider.Image{img("a", providertest.NoFace())})
	wantKind(t, err, provider.ErrBadImage)
	_, err = p.Recognize(context.Background(), []byte("no image"))
	wantKind(t, err, provider.ErrBadImage)
}

func TestHTTPDeletes(t *testing.T) {
	ctx := context.Background()
	p, srv := newHTTP(t, provider.Config{})
	mustEnroll(t, p, "alice", img("a1", providertest.Face(1)), img("a2", providertest.Face(1)))
	for range 2 { // 404 the second time: still success
		if err := p.DeleteImage(ctx, "alice", "a1"); err != nil {
			t.Fatalf("delete image: %v", err)
		}
	}
	if got := srv.Subjects()["alice"]; !slices.Equal(got, []string{"a2"}) {
		t.Errorf("alice's images %q, want [a2]", got)
	}
	for range 2 {
		if err := p.DeleteSubject(ctx, "alice"); err != nil {
			t.Fatalf("delete subject: %v", err)
		}
	}
	if got := srv.Subjects(); len(got) != 0 {
		t.Errorf("server holds %v after delete", got)
	}
}

func TestHTTPHealthAndKey(t *testing.T) {
	ctx := context.Background()
	p, srv := newHTTP(t, provider.Config{})
	if err := p.Health(ctx); err != nil {
		t.Fatalf("health: %v", err)
	}
	for _, key := range []string{"", "wrong"} {
		wrong := mustNew(t, provider.Config{Kind: provider.KindHTTP, URL: srv.URL, APIKey: key})
		wantKind(t, wrong.Health(ctx), provider.ErrUnauthorized)
		wantKind(t, wrong.DeleteSubject(ctx, "alice"), provider.ErrUnauthorized)
		_, err := wrong.Recognize(ctx, providertest.Face(1))
		wantKind(t, err, provider.ErrUnauthorized)
	}
}

func TestHTTPHealthWantsStatusOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"starting"}`))
	}))
	defer srv.Close()
	p := mustNew(t, provider.Config{Kind: provider.KindHTTP, URL: srv.URL})
	wantKind(t, p.Health(context.Background()), provider.ErrProvider)
}

func TestBuiltinWithURLSpeaksTheHTTPProtocol(t *testing.T) {
	srv := providertest.NewHTTP(t, "")
	p := mustNew(t, provider.Config{Kind: provider.KindBuiltin, URL: srv.URL, SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	mustEnroll(t, p, "alice", img("a1", providertest.Face(1)))
	if got := subjectsOf(mustRecognize(t, p, providertest.Face(1))); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("subjects %q", got)
	}
}
