package synthetic_test

import (
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

// cameraScene is a camera frame of one person, off centre.
var cameraScene = facegen.Scene{Width: 640, Height: 480, X: 0.62, Y: 0.48, Scale: 0.5, Noise: 0.03, Brightness: 0.95}

// shot is p in scene s (noise seeded by the person) as a quality-85 JPEG.
func shot(p facegen.Person, s facegen.Scene) []byte {
	s.NoiseSeed = p.Seed*7919 + int64(s.Width)*31 + int64(s.X*1000)
	return facegen.JPEG(p.Render(s), 85)
}

func mustEngine(tb testing.TB) *builtin.Engine {
	tb.Helper()
	e, err := builtin.NewEngine(builtin.Options{Recognizer: synthetic.New()})
	if err != nil {
		tb.Fatal(err)
	}
	return e
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
