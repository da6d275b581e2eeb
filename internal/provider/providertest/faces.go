package providertest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"

	// Decoders the stand-ins accept.
	_ "image/gif"
	_ "image/jpeg"
)

// The stand-ins "see" faces by a small deterministic rule, not by
// recognition: they test protocol handling.
//
//   - The background is the colour of the top-left pixel. A pixel is
//     foreground when a channel differs from it by more than 16.
//   - Each run of columns holding foreground, between fully background
//     columns, is one face; its box bounds the foreground of those columns.
//     A uniform image has no face.
//   - A face's detection probability is 0.5 + 0.5·d/255, d the largest
//     channel difference from the background inside the box.
//   - A face's features are its box's luminance averaged over an 8×8 grid
//     and stretched to 0..1; the similarity of two faces is 1 minus the
//     mean absolute difference of their features.
//
// Face, FaceImage and Faces draw images this rule reads predictably.

const (
	tolerance = 16
	grid      = 8
	cell      = 8           // pixels a grid cell in drawn faces
	faceSide  = grid * cell // 64: a drawn face's box side
	margin    = 16          // background around a drawn face
	imageSide = faceSide + 2*margin
)

// feature is a face's 8×8 luminance pattern, stretched to 0..1.
type feature [grid * grid]float64

// seenFace is one face the rule found.
type seenFace struct {
	box         image.Rectangle
	probability float64
	feature     feature
}

func similarity(a, b feature) float64 {
	d := 0.0
	for i := range a {
		d += math.Abs(a[i] - b[i])
	}
	return 1 - d/float64(len(a))
}

func mean(fs []feature) feature {
	var m feature
	for _, f := range fs {
		for i := range m {
			m[i] += f[i] / float64(len(fs))
		}
	}
	return m
}

// analyze decodes data and returns the faces it shows; ok is false when
// data is not a PNG, JPEG or GIF image.
func analyze(data []byte) (faces []seenFace, ok bool) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Min.Y)
	diff := func(x, y int) int { return channelDiff(img.At(x, y), bg) }

	foreground := make([]bool, b.Dx())
	for x := b.Min.X; x < b.Max.X; x++ {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if diff(x, y) > tolerance {
				foreground[x-b.Min.X] = true
				break
			}
		}
	}
	for x0 := 0; x0 < len(foreground); {
		if !foreground[x0] {
			x0++
			continue
		}
		x1 := x0
		for x1 < len(foreground) && foreground[x1] {
			x1++
		}
		// Min.Y and Max.Y start inverted and close in on the foreground.
		box := image.Rectangle{Min: image.Pt(b.Min.X+x0, b.Max.Y), Max: image.Pt(b.Min.X+x1, b.Min.Y)}
		maxDiff := 0
		for x := box.Min.X; x < box.Max.X; x++ {
			for y := b.Min.Y; y < b.Max.Y; y++ {
				if d := diff(x, y); d > tolerance {
					box.Min.Y, box.Max.Y = min(box.Min.Y, y), max(box.Max.Y, y+1)
					maxDiff = max(maxDiff, d)
				}
			}
		}
		faces = append(faces, seenFace{
			box:         box,
			probability: 0.5 + 0.5*float64(maxDiff)/255,
			feature:     features(img, box),
		})
		x0 = x1
	}
	return faces, true
}

func features(img image.Image, box image.Rectangle) feature {
	var f feature
	w, h := box.Dx(), box.Dy()
	for gy := range grid {
		for gx := range grid {
			x0, x1 := box.Min.X+gx*w/grid, box.Min.X+max((gx+1)*w/grid, gx*w/grid+1)
			y0, y1 := box.Min.Y+gy*h/grid, box.Min.Y+max((gy+1)*h/grid, gy*h/grid+1)
			sum, n := 0.0, 0
			for y := y0; y < min(y1, box.Max.Y); y++ {
				for x := x0; x < min(x1, box.Max.X); x++ {
					sum += luminance(img.At(x, y))
					n++
				}
			}
			if n > 0 {
				f[gy*grid+gx] = sum / float64(n)
			}
		}
	}
	lo, hi := f[0], f[0]
	for _, v := range f {
		lo, hi = min(lo, v), max(hi, v)
	}
	for i := range f {
		if hi-lo < 1e-9 {
			f[i] = 0.5
		} else {
			f[i] = (f[i] - lo) / (hi - lo)
		}
	}
	return f
}

func channelDiff(a, b color.Color) int {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) int { return int(math.Abs(float64(x>>8) - float64(y>>8))) }
	return max(d(ar, br), d(ag, bg), d(ab, bb))
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(b>>8)) / 255
}

// Face returns a PNG showing face n: one face of 64×64 px, detected with
// probability about 0.95, whose similarity to any other face m ≠ n is
// about 0.5 and to itself 1.
func Face(n int) []byte { return FaceImage(n, 0, 0.95) }

// FaceImage returns a PNG showing face n with flips of its 64 cells
// inverted (its similarity to Face(n) is then 1 − flips/64) and detected
// with probability confidence, which should lie in 0.6..1.
func FaceImage(n, flips int, confidence float64) []byte {
	img := newCanvas(1)
	drawFace(img, 0, n, flips, confidence)
	return encode(img)
}

// Faces returns a PNG showing faces ns side by side, each as Face draws it.
func Faces(ns ...int) []byte {
	img := newCanvas(len(ns))
	for i, n := range ns {
		drawFace(img, i, n, 0, 0.95)
	}
	return encode(img)
}

// NoFace returns a uniform grey PNG: an image without a face.
func NoFace() []byte {
	img := newCanvas(1)
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	return encode(img)
}

func newCanvas(faces int) *image.Gray {
	return image.NewGray(image.Rect(0, 0, margin+faces*(faceSide+margin), imageSide))
}

// drawFace draws face n at slot i: a grid of cells, each bright or half as
// bright by n's pattern, on the black background.
func drawFace(img *image.Gray, slot, n, flips int, confidence float64) {
	hi := uint8(math.Round(math.Min(1, math.Max(0.5, confidence)-0.5) * 2 * 255))
	lo := hi / 2
	pattern := facePattern(n)
	for i := range min(flips, len(pattern)) {
		pattern[(i*37)%len(pattern)] = !pattern[(i*37)%len(pattern)] // spread flips over the face
	}
	x0 := margin + slot*(faceSide+margin)
	for c, bright := range pattern {
		v := lo
		if bright {
			v = hi
		}
		cx, cy := x0+(c%grid)*cell, margin+(c/grid)*cell
		for y := cy; y < cy+cell; y++ {
			for x := cx; x < cx+cell; x++ {
				img.SetGray(x, y, color.Gray{Y: v})
			}
		}
	}
}

// facePattern is n's deterministic cell pattern, with both kinds of cell.
func facePattern(n int) [grid * grid]bool {
	r := rand.New(rand.NewPCG(uint64(n), 0x9e3779b97f4a7c15))
	var p [grid * grid]bool
	for i := range p {
		p[i] = r.IntN(2) == 1
	}
	p[0], p[1] = true, false
	return p
}

func encode(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // cannot happen for an in-memory image
	}
	return buf.Bytes()
}
