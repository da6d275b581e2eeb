package provider_test

import (
	"context"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/providertest"
)

// codeProjectFlavours are CodeProject.AI (failures answered with HTTP 200)
// and DeepStack (failures answered with 400, api_key checked).
var codeProjectFlavours = []struct {
	name  string
	start func(t *testing.T) *providertest.CodeProjectServer
	key   string
}{
	{"codeproject.ai", func(t *testing.T) *providertest.CodeProjectServer { return providertest.NewCodeProject(t) }, ""},
	{"deepstack", func(t *testing.T) *providertest.CodeProjectServer { return providertest.NewDeepStack(t, testKey) }, testKey},
}

func TestCodeProjectRecognize(t *testing.T) {
	tests := []struct {
		name        string
		sim, det    float64
		image       []byte
		wantSubject []string
		wantSim     float64
	}{
		{name: "known", sim: 0.8, det: 0.7, image: providertest.Face(1), wantSubject: []string{"alice"}, wantSim: 1},
		{name: "unknown", sim: 0.8, det: 0.7, image: providertest.Face(3), wantSubject: []string{""}},
		{name: "no face is zero faces", sim: 0.8, det: 0.7, image: providertest.NoFace(), wantSubject: []string{}},
		{name: "two faces", sim: 0.8, det: 0.7, image: providertest.Faces(2, 1), wantSubject: []string{"bob", "alice"}},
		{name: "similar enough", sim: 0.8, det: 0.7, image: providertest.FaceImage(1, 8, 0.95), wantSubject: []string{"alice"}, wantSim: 0.875},
		{name: "not similar enough", sim: 0.9, det: 0.7, image: providertest.FaceImage(1, 8, 0.95), wantSubject: []string{""}},
		{name: "faint face dropped", sim: 0.9, det: 0.8, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{}},
		{name: "faint face kept under a lower threshold", sim: 0.8, det: 0.6, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{"alice"}, wantSim: 1},
		// One min_confidence cuts both detection and similarity; we send
		// the lower threshold, so with SimilarityThreshold the lower one a
		// face below DetectionThreshold is kept (documented).
		{name: "similarity threshold below detection", sim: 0.6, det: 0.9, image: providertest.FaceImage(1, 0, 0.7), wantSubject: []string{"alice"}, wantSim: 1},
	}
	for _, fl := range codeProjectFlavours {
		for _, tt := range tests {
			t.Run(fl.name+"/"+tt.name, func(t *testing.T) {
				srv := fl.start(t)
				p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: fl.key, SimilarityThreshold: tt.sim, DetectionThreshold: tt.det})
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
					if f.Box.Width != 64 || f.Box.Height != 64 {
						t.Errorf("box %+v, want 64×64", f.Box)
					}
				}
			})
		}
	}
}

func TestCodeProjectRecognizeUnreadableImageIsBadImage(t *testing.T) {
	for _, fl := range codeProjectFlavours {
		t.Run(fl.name, func(t *testing.T) {
			srv := fl.start(t)
			p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: fl.key})
			_, err := p.Recognize(context.Background(), []byte("this is no image"))
			wantKind(t, err, provider.ErrBadImage)
		})
	}
}

func TestCodeProjectEnrollRegistersAllImagesAtOnce(t *testing.T) {
	for _, fl := range codeProjectFlavours {
		t.Run(fl.name, func(t *testing.T) {
			srv := fl.start(t)
			p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: fl.key, SimilarityThreshold: 0.8, DetectionThreshold: 0.7})
			ids := mustEnroll(t, p, "alice", img("img-1", providertest.Face(1)), img("", providertest.Face(1)), img("img-3", providertest.FaceImage(1, 1, 0.9)))
			if want := []string{"img-1", "alice#2", "img-3"}; !slices.Equal(ids, want) {
				t.Errorf("ids %q, want %q", ids, want)
			}
			if n := srv.Calls()[providertest.EndpointEnroll]; n != 1 {
				t.Errorf("%d register calls, want 1", n)
			}
			if got := srv.Users(); !maps.Equal(got, map[string]int{"alice": 3}) {
				t.Errorf("registrations %v, want alice from 3 images", got)
			}

			// Registering again replaces: alice is now Face(2) only.
			mustEnroll(t, p, "alice", img("img-4", providertest.Face(2)))
			if got := srv.Users(); !maps.Equal(got, map[string]int{"alice": 1}) {
				t.Errorf("registrations %v after re-registering, want alice from 1 image", got)
			}
			if got := subjectsOf(mustRecognize(t, p, providertest.Face(1))); !slices.Equal(got, []string{""}) {
				t.Errorf("Face(1) after replacement: %q, want unknown", got)
			}
			if caps := p.Capabilities(); !caps.ReplacesSubject || caps.IdempotentEnroll {
				t.Errorf("capabilities %+v, want ReplacesSubject only", caps)
			}
		})
	}
}

func TestCodeProjectEnrollWithoutAFaceIsBadImage(t *testing.T) {
	for _, fl := range codeProjectFlavours {
		t.Run(fl.name, func(t *testing.T) {
			srv := fl.start(t)
			p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: fl.key})
			_, err := p.Enroll(context.Background(), "alice", []provider.Image{img("a", providertest.NoFace())})
			wantKind(t, err, provider.ErrBadImage)
			_, err = p.Enroll(context.Background(), "alice", []provider.Image{img("a", []byte("no image"))})
			wantKind(t, err, provider.ErrBadImage)
		})
	}
}

func TestCodeProjectEnrollIsNeverRetried(t *testing.T) {
	srv := providertest.NewCodeProject(t)
	p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL})
	srv.FailNext(1)
	_, err := p.Enroll(context.Background(), "alice", []provider.Image{img("a", providertest.Face(1))})
	wantKind(t, err, provider.ErrProvider)
	if n := srv.Calls()[providertest.EndpointEnroll]; n != 1 {
		t.Errorf("%d register calls, want 1", n)
	}
}

func TestCodeProjectRecognizeRetriesA500Once(t *testing.T) {
	srv := providertest.NewCodeProject(t)
	p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, SimilarityThreshold: 0.8, DetectionThreshold: 0.7})
	mustEnroll(t, p, "alice", img("a", providertest.Face(1)))
	srv.FailNext(1)
	if got := subjectsOf(mustRecognize(t, p, providertest.Face(1))); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("subjects %q after a retried 500", got)
	}
	if n := srv.Calls()[providertest.EndpointRecognize]; n != 2 {
		t.Errorf("%d recognize calls, want 2", n)
	}
}

func TestCodeProjectDeletes(t *testing.T) {
	ctx := context.Background()
	for _, fl := range codeProjectFlavours {
		t.Run(fl.name, func(t *testing.T) {
			srv := fl.start(t)
			p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: fl.key})
			mustEnroll(t, p, "alice", img("a", providertest.Face(1)))
			wantKind(t, p.DeleteImage(ctx, "alice", "a"), provider.ErrUnsupported)
			for range 2 { // unknown the second time: still success
				if err := p.DeleteSubject(ctx, "alice"); err != nil {
					t.Fatalf("delete subject: %v", err)
				}
			}
			if got := srv.Users(); len(got) != 0 {
				t.Errorf("registrations %v after delete", got)
			}
		})
	}
}

func TestCodeProjectHealth(t *testing.T) {
	ctx := context.Background()
	for _, fl := range codeProjectFlavours {
		t.Run(fl.name, func(t *testing.T) {
			srv := fl.start(t)
			p := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: fl.key})
			if err := p.Health(ctx); err != nil {
				t.Errorf("health: %v", err)
			}
		})
	}
	// DeepStack refuses a wrong api_key with 401.
	srv := providertest.NewDeepStack(t, testKey)
	wrong := mustNew(t, provider.Config{Kind: provider.KindCodeProject, URL: srv.URL, APIKey: "wrong-" + testKey})
	err := wrong.Health(ctx)
	wantKind(t, err, provider.ErrUnauthorized)
	_, err = wrong.Recognize(ctx, providertest.Face(1))
	wantKind(t, err, provider.ErrUnauthorized)
	_, err = wrong.Enroll(ctx, "alice", []provider.Image{img("a", providertest.Face(1))})
	wantKind(t, err, provider.ErrUnauthorized)
}
