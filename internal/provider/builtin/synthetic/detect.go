package synthetic

import (
	"image"
	"image/draw"
	"math"
	"slices"

	"github.com/rollcall/rollcall/internal/provider"
)

// Detection parameters.
const (
	// detectSide is the longest side of the downscaled copy faces are
	// found on.
	detectSide = 160
	// foregroundDistance is the L1 RGB distance (0..765) from the
	// background colour above which a pixel is foreground.
	foregroundDistance = 60
	// minFaceArea is a face's smallest area, as a fraction of the frame.
	minFaceArea = 0.005
	// Plausible faces are this much taller than wide (height/width).
	minAspect, maxAspect = 0.6, 2.5
)

// frame is a decoded image plus its estimated background.
type frame struct {
	w, h int
	img  image.Image // bounds (0,0)-(w,h)
	bg   [3]float64
}

// frameOf is img as a frame, moved to the origin when it is not there.
func frameOf(img image.Image) *frame {
	b := img.Bounds()
	if b.Min != (image.Point{}) {
		rgba := toRGBA(img, b)
		rgba.Rect = image.Rect(0, 0, b.Dx(), b.Dy()) // the same pixels, at the origin
		img = rgba
	}
	return &frame{w: b.Dx(), h: b.Dy(), img: img}
}

// toRGBA copies r of img to a new RGBA image (with r's coordinates).
func toRGBA(img image.Image, r image.Rectangle) *image.RGBA {
	rgba := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(rgba, rgba.Rect, img, r.Min, draw.Src) // fast paths for YCbCr, Gray, NRGBA
	rgba.Rect = rgba.Rect.Add(r.Min)
	return rgba
}

// region is r of the frame as RGBA, converted only as far as needed.
func (fr *frame) region(r image.Rectangle) *image.RGBA {
	r = r.Intersect(image.Rect(0, 0, fr.w, fr.h))
	if rgba, ok := fr.img.(*image.RGBA); ok {
		return rgba.SubImage(r).(*image.RGBA)
	}
	return toRGBA(fr.img, r)
}

// small is a downscaled copy of a frame: RGB float pixels, area-averaged.
type small struct {
	w, h, f int // f: full-resolution pixels per small pixel, each way
	pix     []float64
}

func (fr *frame) downscale() small {
	f := max(1, (max(fr.w, fr.h)+detectSide-1)/detectSide)
	s := small{w: (fr.w + f - 1) / f, h: (fr.h + f - 1) / f, f: f}
	if ycc, ok := fr.img.(*image.YCbCr); ok {
		s.pix = downscaleYCbCr(ycc, s)
		return s
	}
	rgba := fr.region(image.Rect(0, 0, fr.w, fr.h))
	sums := make([]uint32, 3*s.w*s.h)
	for y := range fr.h {
		row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*fr.w]
		out := sums[3*(y/f)*s.w : 3*(y/f+1)*s.w]
		for x, o := 0, 0; x < fr.w; x, o = x+f, o+3 {
			var r, g, b uint32
			for i := 4 * x; i < 4*min(fr.w, x+f); i += 4 {
				r += uint32(row[i])
				g += uint32(row[i+1])
				b += uint32(row[i+2])
			}
			out[o] += r
			out[o+1] += g
			out[o+2] += b
		}
	}
	s.pix = make([]float64, len(sums))
	for i := range s.w * s.h {
		n := float64(min(f, fr.w-i%s.w*f) * min(f, fr.h-i/s.w*f))
		for c := range 3 {
			s.pix[3*i+c] = float64(sums[3*i+c]) / n
		}
	}
	return s
}

// downscaleYCbCr is downscale straight from a JPEG's planes: it averages
// Y, Cb and Cr over each block and converts only the averages to RGB
// (the conversion is affine, so this is the average colour).
func downscaleYCbCr(m *image.YCbCr, s small) []float64 {
	n := s.w * s.h
	ys, cbs, crs := make([]uint32, n), make([]uint32, n), make([]uint32, n)
	yn, cn := make([]uint32, n), make([]uint32, n)
	w, h := m.Rect.Dx(), m.Rect.Dy()
	for y := range h {
		row := m.Y[y*m.YStride : y*m.YStride+w]
		out := (y / s.f) * s.w
		for bx := range s.w {
			x0, x1 := bx*s.f, min(w, bx*s.f+s.f)
			var sum uint32
			for _, v := range row[x0:x1] {
				sum += uint32(v)
			}
			ys[out+bx] += sum
			yn[out+bx] += uint32(x1 - x0)
		}
	}
	sx, sy := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		sx = 2
	case image.YCbCrSubsampleRatio420:
		sx, sy = 2, 2
	case image.YCbCrSubsampleRatio440:
		sy = 2
	case image.YCbCrSubsampleRatio411:
		sx = 4
	case image.YCbCrSubsampleRatio410:
		sx, sy = 4, 2
	}
	cw, ch := (w+sx-1)/sx, (h+sy-1)/sy
	for cy := range ch {
		cb, cr := m.Cb[cy*m.CStride:cy*m.CStride+cw], m.Cr[cy*m.CStride:cy*m.CStride+cw]
		by0, by1 := cy*sy/s.f, min(s.h-1, (cy*sy+sy-1)/s.f)
		for cx := range cw {
			// The blocks this sample's sx×sy luma pixels fall in: one,
			// unless blocks are smaller than the subsampling.
			bx0, bx1 := cx*sx/s.f, min(s.w-1, (cx*sx+sx-1)/s.f)
			for by := by0; by <= by1; by++ {
				for bx := bx0; bx <= bx1; bx++ {
					o := by*s.w + bx
					cbs[o] += uint32(cb[cx])
					crs[o] += uint32(cr[cx])
					cn[o]++
				}
			}
		}
	}
	pix := make([]float64, 3*n)
	for i := range n {
		yv := float64(ys[i]) / float64(yn[i])
		cb, cr := float64(cbs[i])/float64(cn[i])-128, float64(crs[i])/float64(cn[i])-128
		pix[3*i] = min(255, max(0, yv+1.402*cr))
		pix[3*i+1] = min(255, max(0, yv-0.344136*cb-0.714136*cr))
		pix[3*i+2] = min(255, max(0, yv+1.772*cb))
	}
	return pix
}

// background is the per-channel median of the border pixels.
func (s small) background() [3]float64 {
	var ch [3][]float64
	add := func(x, y int) {
		i := 3 * (y*s.w + x)
		for c := range 3 {
			ch[c] = append(ch[c], s.pix[i+c])
		}
	}
	for x := range s.w {
		add(x, 0)
		add(x, s.h-1)
	}
	for y := 1; y < s.h-1; y++ {
		add(0, y)
		add(s.w-1, y)
	}
	var bg [3]float64
	for c := range 3 {
		slices.Sort(ch[c])
		bg[c] = ch[c][len(ch[c])/2]
	}
	return bg
}

func distance(p []float64, bg [3]float64) float64 {
	return math.Abs(p[0]-bg[0]) + math.Abs(p[1]-bg[1]) + math.Abs(p[2]-bg[2])
}

// detection is one face found: its box at full resolution and confidence.
type detection struct {
	box        provider.Box
	confidence float64
	pixels     *image.RGBA // the frame around box: enough for refine and descriptor
}

// detect finds the face-like foreground blobs of fr and sets fr.bg.
// Faces are returned left to right (then top to bottom).
func (fr *frame) detect() []detection {
	s := fr.downscale()
	fr.bg = s.background()
	fg := make([]bool, s.w*s.h)
	for i := range fg {
		fg[i] = distance(s.pix[3*i:3*i+3], fr.bg) > foregroundDistance
	}
	minArea := max(4, int(math.Ceil(minFaceArea*float64(s.w*s.h))))
	var faces []detection
	seen := make([]bool, len(fg))
	var queue []int
	for start := range fg {
		if !fg[start] || seen[start] {
			continue
		}
		// Flood the 8-connected component from start.
		seen[start] = true
		queue = append(queue[:0], start)
		x0, y0, x1, y1 := s.w, s.h, -1, -1
		for k := 0; k < len(queue); k++ {
			i := queue[k]
			x, y := i%s.w, i/s.w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= s.w || ny >= s.h {
						continue
					}
					if j := ny*s.w + nx; fg[j] && !seen[j] {
						seen[j] = true
						queue = append(queue, j)
					}
				}
			}
		}
		area, bw, bh := len(queue), x1-x0+1, y1-y0+1
		aspect := float64(bh) / float64(bw)
		if area < minArea || aspect < minAspect || aspect > maxAspect {
			continue
		}
		coarse := image.Rect(x0*s.f, y0*s.f, (x1+1)*s.f, (y1+1)*s.f)
		pixels := fr.region(image.Rect(coarse.Min.X-coarse.Dx()/8, coarse.Min.Y-coarse.Dy()/8,
			coarse.Max.X+coarse.Dx()/8, coarse.Max.Y+coarse.Dy()/8).Inset(-s.f - 1))
		faces = append(faces, detection{box: fr.refine(pixels, coarse, s.f), pixels: pixels,
			confidence: confidence(float64(area)/float64(bw*bh), aspect)})
	}
	slices.SortFunc(faces, func(a, b detection) int {
		if a.box.X != b.box.X {
			return a.box.X - b.box.X
		}
		return a.box.Y - b.box.Y
	})
	return faces
}

// confidence scores how face-like a blob is: a head fills about π/4 of
// its box (an ellipse; ears, hair and buns move it a little) and is 1 to
// 1.5 times as tall as it is wide. It is fill·shape, where
//
//	fill  = 1 − max(0, |fillRatio − π/4| − 0.1) / 0.4
//	shape = 1 − max(0, |ln(aspect / 1.22)| − ln 1.25) / ln 2.5
//
// (each at least 0): 1 for a head-shaped blob, about 0.71 for a solid
// rectangle of a head's proportions, less for lines and smears.
func confidence(fillRatio, aspect float64) float64 {
	fill := max(0, 1-max(0, math.Abs(fillRatio-math.Pi/4)-0.1)/0.4)
	shape := max(0, 1-max(0, math.Abs(math.Log(aspect/1.22))-math.Log(1.25))/math.Log(2.5))
	return math.Round(fill*shape*1000) / 1000
}

// refine tightens a coarse box (in full-resolution pixels, accurate to f;
// pixels covers it widened by f)
// to the rows and columns of the full-resolution image where at least 4% of
// the pixels are foreground, so the box does not jitter with the
// downscaling grid.
func (fr *frame) refine(pixels *image.RGBA, coarse image.Rectangle, f int) provider.Box {
	r := coarse.Inset(-f).Intersect(pixels.Rect)
	rows, cols := make([]int, r.Dy()), make([]int, r.Dx())
	bg := [3]int{int(math.Round(fr.bg[0])), int(math.Round(fr.bg[1])), int(math.Round(fr.bg[2]))}
	abs := func(v int) int { return max(v, -v) }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := pixels.Pix[pixels.PixOffset(r.Min.X, y):pixels.PixOffset(r.Max.X, y)]
		for x := 0; x+3 < len(row); x += 4 {
			if abs(int(row[x])-bg[0])+abs(int(row[x+1])-bg[1])+abs(int(row[x+2])-bg[2]) > foregroundDistance {
				rows[y-r.Min.Y]++
				cols[x/4]++
			}
		}
	}
	span := func(counts []int, need int) (int, int) {
		lo, hi := 0, len(counts)
		for lo < hi && counts[lo] < need {
			lo++
		}
		for hi > lo && counts[hi-1] < need {
			hi--
		}
		return lo, hi
	}
	ylo, yhi := span(rows, max(2, coarse.Dx()/25))
	xlo, xhi := span(cols, max(2, coarse.Dy()/25))
	if yhi <= ylo || xhi <= xlo {
		return provider.Box{X: coarse.Min.X, Y: coarse.Min.Y, Width: coarse.Dx(), Height: coarse.Dy()}
	}
	return provider.Box{X: r.Min.X + xlo, Y: r.Min.Y + ylo, Width: xhi - xlo, Height: yhi - ylo}
}
