package builtin_test

import (
	"fmt"
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

// Scenes of the accuracy test: three enrollment photos, then a camera
// frame at a position, scale, brightness and noise none of them used.
var (
	enrollScenes = []facegen.Scene{
		{Width: 640, Height: 480, X: 0.5, Y: 0.5, Scale: 0.6, Noise: 0.01, Brightness: 1},
		{Width: 480, Height: 640, X: 0.45, Y: 0.4, Scale: 0.35, Noise: 0.02, Brightness: 0.9},
		{Width: 640, Height: 480, X: 0.3, Y: 0.55, Scale: 0.45, Noise: 0.015, Brightness: 1.1},
	}
	cameraScene = facegen.Scene{Width: 640, Height: 480, X: 0.62, Y: 0.48, Scale: 0.5, Noise: 0.03, Brightness: 0.95}
)

// shot is p in scene s (noise seeded by the person) as a quality-85 JPEG.
func shot(p facegen.Person, s facegen.Scene) []byte {
	s.NoiseSeed = p.Seed*7919 + int64(s.Width)*31 + int64(s.X*1000)
	return facegen.JPEG(p.Render(s), 85)
}

func subjectOf(seed int64) string { return fmt.Sprintf("person-%03d", seed) }

// enrollImages are the enrollment photos of p, with stable IDs.
func enrollImages(p facegen.Person) []provider.Image {
	imgs := make([]provider.Image, len(enrollScenes))
	for i, s := range enrollScenes {
		imgs[i] = provider.Image{ID: fmt.Sprintf("%s-img-%d", subjectOf(p.Seed), i), Data: shot(p, s)}
	}
	return imgs
}

func mustRecognize(tb testing.TB, p provider.Provider, img []byte) provider.Result {
	tb.Helper()
	res, err := p.Recognize(tb.Context(), img)
	if err != nil {
		tb.Fatalf("recognize: %v", err)
	}
	return res
}

func mustOneFace(tb testing.TB, res provider.Result) provider.Face {
	tb.Helper()
	if len(res.Faces) != 1 {
		tb.Fatalf("found %d faces, want 1: %+v", len(res.Faces), res.Faces)
	}
	return res.Faces[0]
}

// mustEngine is an engine with the synthetic recognizer: the tests here
// use facegen people.
func mustEngine(tb testing.TB, dataDir string) *builtin.Engine {
	tb.Helper()
	e, err := builtin.NewEngine(builtin.Options{DataDir: dataDir, Recognizer: synthetic.New()})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}
