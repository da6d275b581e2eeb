package exif

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func orientationFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "orientation", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOrientationIsRead: the tag is read from little- and big-endian
// EXIF (testdata/orientation: the same photo stored turned losslessly by
// jpegtran and tagged by exiftool, see its README); no tag, a PNG and
// broken EXIF read as 1.
func TestOrientationIsRead(t *testing.T) {
	if o := Orientation(orientationFixture(t, "upright.jpg")); o != 1 {
		t.Errorf("upright.jpg (no EXIF): %d, want 1", o)
	}
	for o := 2; o <= 8; o++ {
		data := orientationFixture(t, fmt.Sprintf("orientation%d.jpg", o))
		if got := Orientation(data); got != o {
			t.Errorf("orientation%d.jpg: %d", o, got)
		}
	}
	var pngData bytes.Buffer
	_ = png.Encode(&pngData, image.NewGray(image.Rect(0, 0, 4, 4)))
	data := orientationFixture(t, "orientation6.jpg")
	for name, b := range map[string][]byte{
		"png":             pngData.Bytes(),
		"empty":           nil,
		"soi only":        data[:2],
		"cut in the EXIF": data[:40],
	} {
		if o := Orientation(b); o != 1 {
			t.Errorf("%s: %d, want 1", name, o)
		}
	}
}

// FuzzOrientation: any bytes give an orientation from 1 to 8, without
// panicking or reading out of bounds.
func FuzzOrientation(f *testing.F) {
	for o := 2; o <= 8; o++ {
		f.Add(orientationFixture(f, fmt.Sprintf("orientation%d.jpg", o))[:400])
	}
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', '*', 0, 0xFF, 0xFF, 0xFF, 0x7F})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := Orientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
