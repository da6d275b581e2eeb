package provider_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/providertest"
)

func newCompreFace(t *testing.T, cfg provider.Config) (provider.Provider, *providertest.CompreFaceServer) {
	t.Helper()
	srv := providertest.NewCompreFace(t, testKey)
	cfg.Kind, cfg.URL = provider.KindCompreFace, srv.URL
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	return mustNew(t, cfg), srv
}

func TestCompreFaceRecognize(t *testing.T) {
	tests := []struct {
		name        string
		sim, det    float64
		image       []byte
		wantSubject []string
		wantSim     float64 // of the first face, when wanted
	}{
		{name: "known", sim: 0.8, det: 0.8, image: providertest.Face(1), wantSubject: []string{"alice"}, wantSim: 1},
		{name: "unknown keeps its similarity", sim: 0.8, det: 0.8, image: providertest.Face(3), wantSubject: []string{""}},
		{name: "no face is zero faces", sim: 0.8, det: 0.8, image: providertest.NoFace(), wantSubject: []string{}},
		{name: "two faces", sim: 0.8, det: 0.8, image: providertest.Faces(2, 1), wantSubject: []string{"bob", "alice"}},
		{name: "similar enough", sim: 0.8, det: 0.8, image: providertest.FaceImage(1, 8, 0.95), wantSubject: []string{"alice"}, wantSim: 0.875},
		{name: "not similar enough", sim: 0.9, det: 0.8, image: providertest.FaceImage(1, 8, 0.95), wantSubject: []string{""}, wantSim: 0.875},
		{name: "faint face dropped", sim: 0.8, det: 0.8, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{}},
		{name: "faint face kept under a lower threshold", sim: 0.8, det: 0.6, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{"alice"}, wantSim: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newCompreFace(t, provider.Config{SimilarityThreshold: tt.sim, DetectionThreshold: tt.det})
			mustEnroll(t, p, "alice", img("a1", providertest.Face(1)))
			mustEnroll(t, p, "bob", img("b1", providertest.Face(2)))
			faces := mustRecognize(t, p, tt.image)
			if got := subjectsOf(faces); !slices.Equal(got, tt.wantSubject) {
				t.Fatalf("subjects %q, want %q", got, tt.wantSubject)
			}
			if tt.wantSim > 0 && math.Abs(faces[0].Similarity-tt.wantSim) > 0.02 {
				t.Errorf("similarity %.3f, want about %.3f", faces[0].Similarity, tt.wantSim)
			}
			for _, f := range faces {
				if f.Subject == "" && (f.Similarity <= 0 || f.Similarity >= tt.sim) {
					t.Errorf("unknown face similarity %.3f, want its best similarity below %.2f", f.Similarity, tt.sim)
				}
				if f.Box.Width != 64 || f.Box.Height != 64 || f.DetectionConfidence < tt.det {
					t.Errorf("face %+v: want a 64×64 box detected with at least %.2f", f, tt.det)
				}
			}
		})
	}
}

func TestCompreFaceRecognizeUnreadableImageIsBadImage(t *testing.T) {
	p, _ := newCompreFace(t, provider.Config{SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	_, err := p.Recognize(context.Background(), []byte("this is no image"))
	wantKind(t, err, provider.ErrBadImage)
}

func TestCompreFaceEnrollsOneCallPerImage(t *testing.T) {
	p, srv := newCompreFace(t, provider.Config{SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	ids := mustEnroll(t, p, "alice", img("a1", providertest.Face(1)), img("a2", providertest.FaceImage(1, 2, 0.9)), img("a3", providertest.FaceImage(1, 4, 0.9)))
	if n := srv.Calls()[providertest.EndpointEnroll]; n != 3 {
		t.Errorf("%d enroll calls, want 3", n)
	}
	if n := srv.Subjects()["alice"]; n != 3 {
		t.Errorf("alice has %d examples, want 3", n)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 3 || len(ids[0]) != 36 {
		t.Errorf("image ids %q, want three distinct CompreFace UUIDs", ids)
	}
	if caps := p.Capabilities(); caps.ReplacesSubject || caps.IdempotentEnroll {
		t.Errorf("capabilities %+v, want neither", caps)
	}
}

func TestCompreFaceEnrollFailureAddsNothing(t *testing.T) {
	p, srv := newCompreFace(t, provider.Config{SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	_, err := p.Enroll(context.Background(), "alice", []provider.Image{img("a1", providertest.Face(1)), img("a2", providertest.NoFace())})
	wantKind(t, err, provider.ErrBadImage)
	if !strings.Contains(err.Error(), "image 2 of 2") {
		t.Errorf("error %q does not say which image", err)
	}
	if n := srv.Subjects()["alice"]; n != 0 {
		t.Errorf("alice kept %d examples after a failed enroll, want 0", n)
	}
}

func TestCompreFaceEnrollIsNeverRetried(t *testing.T) {
	p, srv := newCompreFace(t, provider.Config{SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	srv.FailNext(1)
	_, err := p.Enroll(context.Background(), "alice", []provider.Image{img("a1", providertest.Face(1))})
	wantKind(t, err, provider.ErrProvider)
	if n := srv.Calls()[providertest.EndpointEnroll]; n != 1 {
		t.Errorf("%d enroll calls, want 1 (no retry)", n)
	}
}

func TestCompreFaceRecognizeRetriesA500Once(t *testing.T) {
	p, srv := newCompreFace(t, provider.Config{SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	mustEnroll(t, p, "alice", img("a1", providertest.Face(1)))
	srv.FailNext(1)
	if got := subjectsOf(mustRecognize(t, p, providertest.Face(1))); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("subjects %q after a retried 500", got)
	}
	if n := srv.Calls()[providertest.EndpointRecognize]; n != 2 {
		t.Errorf("%d recognize calls, want 2", n)
	}
	srv.FailNext(2)
	_, err := p.Recognize(context.Background(), providertest.Face(1))
	wantKind(t, err, provider.ErrProvider)
}

func TestCompreFaceDeletes(t *testing.T) {
	ctx := context.Background()
	p, srv := newCompreFace(t, provider.Config{SimilarityThreshold: 0.8, DetectionThreshold: 0.8})
	ids := mustEnroll(t, p, "alice", img("a1", providertest.Face(1)), img("a2", providertest.Face(1)))
	for range 2 { // the second time the image is missing: still success
		if err := p.DeleteImage(ctx, "alice", ids[0]); err != nil {
			t.Fatalf("delete image: %v", err)
		}
	}
	if n := srv.Subjects()["alice"]; n != 1 {
		t.Errorf("alice has %d examples, want 1", n)
	}
	for range 2 {
		if err := p.DeleteSubject(ctx, "alice"); err != nil {
			t.Fatalf("delete subject: %v", err)
		}
	}
	if got := mustRecognize(t, p, providertest.Face(1)); len(got) != 1 || got[0].Subject != "" {
		t.Errorf("after deleting alice, recognized %+v", got)
	}
}

func TestCompreFaceWrongKeyIsUnauthorized(t *testing.T) {
	ctx := context.Background()
	srv := providertest.NewCompreFace(t, testKey)
	good := mustNew(t, provider.Config{Kind: provider.KindCompreFace, URL: srv.URL, APIKey: testKey})
	if err := good.Health(ctx); err != nil {
		t.Fatalf("health with the right key: %v", err)
	}
	// CompreFace answers an unknown key with 404 code 10 and repeats the
	// key in its message: not "subject not found", and not to be shown.
	wrongKey := "f1d2c3b4-a596-4877-8899-aabbccddeeff"
	for _, key := range []string{wrongKey, "not-a-uuid"} {
		p := mustNew(t, provider.Config{Kind: provider.KindCompreFace, URL: srv.URL, APIKey: key})
		for name, err := range map[string]error{
			"health":         p.Health(ctx),
			"delete subject": p.DeleteSubject(ctx, "alice"),
			"delete image":   p.DeleteImage(ctx, "alice", testKey),
		} {
			if !errorsIsUnauthorized(err) {
				t.Errorf("%s with key %q: %v, want unauthorized", name, key, err)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Errorf("%s: message shows the key: %q", name, err)
			}
		}
		_, err := p.Recognize(ctx, providertest.Face(1))
		if !errorsIsUnauthorized(err) {
			t.Errorf("recognize with key %q: %v, want unauthorized", key, err)
		}
	}
}
