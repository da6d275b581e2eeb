package api

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"testing"
)

// TestCropFaceTurnsPhonePhotosUpright: a face box found in a photo stored
// with an EXIF orientation (boxes are where the face is as the photo is
// shown) cuts out the same face as from the upright photo.
func TestCropFaceTurnsPhonePhotosUpright(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../internal/exif/testdata/orientation/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	box := image.Rect(98, 156, 98+262, 156+241) // her face in upright.jpg
	want := decodeCrop(t, read("upright.jpg"), box)
	for o := 2; o <= 8; o++ {
		got := decodeCrop(t, read(fmt.Sprintf("orientation%d.jpg", o)), box)
		if got.Bounds() != want.Bounds() {
			t.Errorf("orientation %d: crop %v, want %v", o, got.Bounds(), want.Bounds())
			continue
		}
		var total int
		b := want.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r1, g1, b1, _ := want.At(x, y).RGBA()
				r2, g2, b2, _ := got.At(x, y).RGBA()
				for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
					total += max(d, -d)
				}
			}
		}
		if mean := float64(total) / float64(3*b.Dx()*b.Dy()); mean > 2 {
			t.Errorf("orientation %d: the crop differs from the upright photo's by %.2f levels on average", o, mean)
		}
	}
}

func decodeCrop(t *testing.T, frame []byte, box image.Rectangle) image.Image {
	t.Helper()
	data, err := cropFace(frame, box)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
