package facegen

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// DefaultBackground is the backdrop used when a Scene leaves Background
// unset: a slate blue unlike any skin or hair colour.
var DefaultBackground = color.RGBA{60, 100, 125, 255}

// Scene is how a frame is shot. Zero Width, Height, Scale and Brightness
// take the defaults 640, 480, 0.5 and 1; a zero Background is
// DefaultBackground.
type Scene struct {
	Width, Height int
	// X, Y are the face's centre as a fraction (0..1) of the frame.
	X, Y float64
	// Scale is the head's height as a fraction of the frame's height.
	Scale float64
	// Brightness multiplies every pixel (a darker or brighter camera).
	Brightness float64
	// Noise is the standard deviation of per-pixel Gaussian noise, as a
	// fraction of full scale (0.02 is mild sensor noise).
	Noise     float64
	NoiseSeed int64
	// Background is the plain backdrop's colour.
	Background color.RGBA
}

func (s Scene) withDefaults() Scene {
	if s.Width <= 0 {
		s.Width = 640
	}
	if s.Height <= 0 {
		s.Height = 480
	}
	if s.Scale <= 0 {
		s.Scale = 0.5
	}
	if s.Brightness <= 0 {
		s.Brightness = 1
	}
	if s.Background.A == 0 {
		s.Background = DefaultBackground
	}
	return s
}

// Render draws p alone in scene s.
func (p Person) Render(s Scene) *image.RGBA {
	return RenderMany(s, []Person{p}, [][2]float64{{s.X, s.Y}})
}

// RenderMany draws people[i] centred at positions[i] (fractions of the
// frame, as Scene.X and Scene.Y, which it ignores), all at scene.Scale.
func RenderMany(s Scene, people []Person, positions [][2]float64) *image.RGBA {
	s = s.withDefaults()
	img := image.NewRGBA(image.Rect(0, 0, s.Width, s.Height))
	bg := rgbOf(s.Background)
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = s.Background.R, s.Background.G, s.Background.B, 255
	}
	for i, p := range people {
		if i < len(positions) {
			p.draw(img, positions[i][0]*float64(s.Width), positions[i][1]*float64(s.Height), s.Scale*float64(s.Height)/2, bg)
		}
	}
	finish(img, s)
	return img
}

// draw paints p with its head centred at (cx, cy) and half-height r
// pixels. Pixels whose colour differs from a neighbour's are 3×3
// supersampled, so edges blend as a camera would see them.
func (p Person) draw(img *image.RGBA, cx, cy, r float64, bg rgb) {
	pt := newPainter(p)
	b := img.Bounds()
	x0, x1 := max(b.Min.X, int(cx-1.5*r)), min(b.Max.X, int(cx+1.5*r)+1)
	y0, y1 := max(b.Min.Y, int(cy-1.5*r)), min(b.Max.Y, int(cy+1.2*r)+1)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	w, h := x1-x0, y1-y0
	centre := make([]rgb, w*h)
	for y := range h {
		for x := range w {
			c, ok := pt.colourAt((float64(x0+x)+0.5-cx)/r, (float64(y0+y)+0.5-cy)/r)
			if !ok {
				c = bg
			}
			centre[y*w+x] = c
		}
	}
	const ss = 3
	for y := range h {
		for x := range w {
			c := centre[y*w+x]
			edge := (x > 0 && centre[y*w+x-1] != c) || (x+1 < w && centre[y*w+x+1] != c) ||
				(y > 0 && centre[(y-1)*w+x] != c) || (y+1 < h && centre[(y+1)*w+x] != c)
			if edge {
				var sum rgb
				for sy := range ss {
					for sx := range ss {
						u := (float64(x0+x) + (float64(sx)+0.5)/ss - cx) / r
						v := (float64(y0+y) + (float64(sy)+0.5)/ss - cy) / r
						s, ok := pt.colourAt(u, v)
						if !ok {
							s = bg
						}
						sum = sum.add(s)
					}
				}
				c = sum.scale(1.0 / (ss * ss))
			} else if c == bg {
				continue
			}
			i := img.PixOffset(x0+x, y0+y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(c[0]+0.5), uint8(c[1]+0.5), uint8(c[2]+0.5)
		}
	}
}

// finish applies the scene's brightness and noise to every pixel.
func finish(img *image.RGBA, s Scene) {
	if s.Brightness == 1 && s.Noise == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(s.NoiseSeed), 0x0f_5ee_d0_2015e))
	// Gaussian samples drawn from a table of 65536, four per random word:
	// cheaper than NormFloat64 per pixel and just as noisy to the eye.
	var table []float64
	if s.Noise > 0 {
		table = make([]float64, 1<<16)
		for i := range table {
			table[i] = rng.NormFloat64() * s.Noise * 255
		}
	}
	var bits uint64
	for i := 0; i < len(img.Pix); i += 4 {
		if table != nil {
			bits = rng.Uint64()
		}
		for c := range 3 {
			v := float64(img.Pix[i+c]) * s.Brightness
			if table != nil {
				v += table[bits&0xffff]
				bits >>= 16
			}
			img.Pix[i+c] = uint8(math.Round(min(255, max(0, v))))
		}
	}
}

// JPEG encodes img at quality (1..100).
func JPEG(img image.Image, quality int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		panic("facegen: jpeg encode: " + err.Error()) // writing to memory cannot fail
	}
	return buf.Bytes()
}
