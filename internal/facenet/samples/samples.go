// Package samples holds the demo photos of the face-api package
// (github.com/vladmandic/face-api, MIT, version 1.7.15, demo/sample1–6.jpg):
// groups of people the facenet tests, the benchmark, the end-to-end tests
// and `make dev`'s demo camera use as real faces.
//
// One person appears in two of them: the woman on the right of sample1.jpg
// (in uniform) is the one in the middle of sample3.jpg. PersonA cuts her
// out of both.
package samples

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	"image/jpeg"

	"github.com/rollcall/rollcall/internal/facenet"
)

//go:embed sample*.jpg
var files embed.FS

// Names are the photos, sample1.jpg … sample6.jpg.
var Names = []string{"sample1.jpg", "sample2.jpg", "sample3.jpg", "sample4.jpg", "sample5.jpg", "sample6.jpg"}

// JPEG returns a photo's file; it panics on a name not in Names.
func JPEG(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("samples: %v", err))
	}
	return b
}

// Image returns a photo decoded.
func Image(name string) *facenet.Image {
	src, err := jpeg.Decode(bytes.NewReader(JPEG(name)))
	if err != nil {
		panic(fmt.Sprintf("samples: %s: %v", name, err))
	}
	return facenet.FromImage(src)
}

// PersonA returns two different photos of one woman: a 480×480 portrait
// cut from sample1.jpg (head tilted, laughing), for registration, and
// sample3.jpg, in which she stands in the middle between two others
// (smiling, lit blue), as a camera would see her. JPEG.
func PersonA() (portrait, scene []byte) {
	return PersonAPhotos()[0], JPEG("sample3.jpg")
}

// PersonAPhotos are three registration photos of PersonA, all cut from
// sample1.jpg: the portrait, her head and shoulders, and the portrait
// mirrored and brighter. JPEG, quality 90; the same bytes on every call.
func PersonAPhotos() [][]byte {
	one := Image("sample1.jpg")
	portrait := one.Crop(image.Rect(1275, 57, 1875, 657)).Resize(480, 480)
	return [][]byte{
		portrait.JPEG(90),
		one.Crop(image.Rect(1180, 0, 1920, 740)).Resize(600, 600).JPEG(90),
		portrait.Mirrored().Brightened(1.1).JPEG(90),
	}
}

// PersonAIn is where PersonA's face is in the scene (sample3.jpg).
var PersonAIn = image.Rect(1005, 253, 1329, 528)

// IsPersonA reports whether a face box found in the scene is PersonA's:
// it covers more than half of PersonAIn's width.
func IsPersonA(box image.Rectangle) bool {
	return box.Intersect(PersonAIn).Dx() > PersonAIn.Dx()/2
}

// Stranger returns sample2.jpg: one face the detector finds, of someone
// who is not PersonA.
func Stranger() []byte { return JPEG("sample2.jpg") }
