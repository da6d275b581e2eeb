package builtin

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func orientationFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "exif", "testdata", "orientation", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeTurnsPhotosUpright: every stored orientation of the photo
// decodes to the upright photo's pixels (jpegtran's turns are lossless;
// the decoder's rounding may differ by a level or two).
func TestDecodeTurnsPhotosUpright(t *testing.T) {
	want, err := decode(orientationFixture(t, "upright.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	wb := want.Bounds()
	for o := 2; o <= 8; o++ {
		got, err := decode(orientationFixture(t, fmt.Sprintf("orientation%d.jpg", o)))
		if err != nil {
			t.Fatal(err)
		}
		if got.Bounds().Size() != wb.Size() {
			t.Errorf("orientation %d: %v, want %v", o, got.Bounds().Size(), wb.Size())
			continue
		}
		gb := got.Bounds()
		worst, total := 0, 0
		for y := 0; y < wb.Dy(); y++ {
			for x := 0; x < wb.Dx(); x++ {
				r1, g1, b1, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
				r2, g2, b2, _ := got.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
				for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
					d = max(d, -d)
					worst, total = max(worst, d), total+d
				}
			}
		}
		mean := float64(total) / float64(3*wb.Dx()*wb.Dy())
		t.Logf("orientation %d: largest difference %d levels, mean %.3f", o, worst, mean)
		if worst > 8 || mean > 0.5 {
			t.Errorf("orientation %d: not the upright photo (largest difference %d, mean %.3f)", o, worst, mean)
		}
	}
}
