package providertest

import (
	"math"
	"testing"
)

func mustSee(t *testing.T, data []byte) []seenFace {
	t.Helper()
	faces, ok := analyze(data)
	if !ok {
		t.Fatal("image did not decode")
	}
	return faces
}

func TestDrawnFacesReadAsDocumented(t *testing.T) {
	one := mustSee(t, Face(1))
	if len(one) != 1 {
		t.Fatalf("Face(1): %d faces, want 1", len(one))
	}
	if got := one[0].box; got.Dx() != faceSide || got.Dy() != faceSide || got.Min.X != margin || got.Min.Y != margin {
		t.Errorf("Face(1) box = %v, want 64×64 at (16,16)", got)
	}
	if p := one[0].probability; math.Abs(p-0.95) > 0.01 {
		t.Errorf("Face(1) probability = %.3f, want about 0.95", p)
	}
	if s := similarity(one[0].feature, mustSee(t, Face(1))[0].feature); s != 1 {
		t.Errorf("Face(1) against itself = %.3f, want 1", s)
	}
	for n := 2; n < 12; n++ {
		if s := similarity(one[0].feature, mustSee(t, Face(n))[0].feature); s < 0.3 || s > 0.7 {
			t.Errorf("Face(1) against Face(%d) = %.3f, want about 0.5", n, s)
		}
	}
	variant := mustSee(t, FaceImage(1, 8, 0.7))[0]
	if s := similarity(one[0].feature, variant.feature); math.Abs(s-(1-8.0/64)) > 0.02 {
		t.Errorf("8 flips: similarity %.3f, want about %.3f", s, 1-8.0/64)
	}
	if math.Abs(variant.probability-0.7) > 0.01 {
		t.Errorf("confidence 0.7 read as %.3f", variant.probability)
	}
	if got := mustSee(t, NoFace()); len(got) != 0 {
		t.Errorf("NoFace: %d faces", len(got))
	}
	if got := mustSee(t, Faces(1, 2, 3)); len(got) != 3 {
		t.Errorf("Faces(1, 2, 3): %d faces", len(got))
	}
	if _, ok := analyze([]byte("not an image")); ok {
		t.Error("text decoded as an image")
	}
}
