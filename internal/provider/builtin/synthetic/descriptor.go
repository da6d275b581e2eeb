package synthetic

import (
	"image"
	"math"
)

// Descriptor parameters. Changing any of them changes what a descriptor
// means: change Name so stored ones are refused, not misread.
const (
	grid = 24
	// DescriptorLen is the length of a face descriptor: four grid×grid
	// planes (red, green, blue, silhouette).
	DescriptorLen = 4 * grid * grid
	// cropMargin widens the face box on every side, as a fraction of it,
	// so the outline of the head lies inside the grid.
	cropMargin = 0.06
	// Cells whose L1 distance from the background is below maskLow are
	// background, above maskHigh face, linearly in between.
	maskLow, maskHigh = 30.0, 90.0
)

// descriptor describes detected face d of fr (whose background fr.detect
// estimated) as a unit vector of DescriptorLen.
//
// The box, widened by cropMargin, is area-averaged onto a grid×grid RGB
// grid. Each cell gets a weight w (0..1: how unlike the background it is).
// The colour planes hold w·(cell − mean), the mean taken over the face
// cells, so the background's colour drops out, then high-passed (see
// highpass); the silhouette plane holds w − mean(w). Each plane is scaled
// to norm ½, so a uniform brightness or contrast change of the whole frame
// cancels and the whole vector has norm 1.
func (fr *frame) descriptor(d detection) []float32 {
	box, r := d.box, d.pixels.Rect
	mx, my := cropMargin*float64(box.Width), cropMargin*float64(box.Height)
	x0, x1 := max(float64(r.Min.X), float64(box.X)-mx), min(float64(r.Max.X), float64(box.X+box.Width)+mx)
	y0, y1 := max(float64(r.Min.Y), float64(box.Y)-my), min(float64(r.Max.Y), float64(box.Y+box.Height)+my)
	cells := resample(d.pixels, x0, y0, x1, y1)

	var weight [grid * grid]float64
	var mean [3]float64
	var total float64
	for i := range weight {
		c := cells[3*i : 3*i+3]
		w := (distance(c, fr.bg) - maskLow) / (maskHigh - maskLow)
		w = min(1, max(0, w))
		weight[i] = w
		total += w
		for k := range 3 {
			mean[k] += w * c[k]
		}
	}
	desc := make([]float32, DescriptorLen)
	if total == 0 {
		return desc
	}
	var planes [4][grid * grid]float64
	for i, w := range weight {
		for k := range 3 {
			planes[k][i] = w * (cells[3*i+k] - mean[k]/total)
		}
		planes[3][i] = w - total/float64(len(weight))
	}
	for k := range 3 {
		planes[k] = highpass(planes[k])
	}
	for k, plane := range planes {
		var norm float64
		for _, v := range plane {
			norm += v * v
		}
		if norm == 0 {
			continue
		}
		scale := 0.5 / math.Sqrt(norm)
		for i, v := range plane {
			desc[k*grid*grid+i] = float32(v * scale)
		}
	}
	return desc
}

// resample area-averages the rectangle [x0,x1)×[y0,y1) of img (fractional
// pixel coordinates, inside img) onto grid×grid RGB cells, weighting each
// source pixel by how much of it falls in the cell.
func resample(img *image.RGBA, x0, y0, x1, y1 float64) []float64 {
	xw := spans(x0, x1)
	yw := spans(y0, y1)
	rows := make([]float64, 3*grid) // one source row summed into columns
	cells := make([]float64, 3*grid*grid)
	next := 0 // first span of yw not yet applied
	for y := int(y0); y < int(math.Ceil(y1)) && y < img.Rect.Max.Y; y++ {
		clear(rows)
		for _, s := range xw {
			p := img.Pix[img.PixOffset(s.src, y):]
			rows[3*s.cell] += s.w * float64(p[0])
			rows[3*s.cell+1] += s.w * float64(p[1])
			rows[3*s.cell+2] += s.w * float64(p[2])
		}
		for ; next < len(yw) && yw[next].src == y; next++ {
			s := yw[next]
			out := cells[3*grid*s.cell:]
			for i, v := range rows {
				out[i] += s.w * v
			}
		}
	}
	area := (x1 - x0) * (y1 - y0) / (grid * grid)
	for i := range cells {
		cells[i] /= area
	}
	return cells
}

// span is how much (w, in pixels) of source pixel src falls in grid cell cell.
type span struct {
	src, cell int
	w         float64
}

// spans splits [lo, hi) into grid equal cells and lists each source
// pixel's overlap with each cell, in source order.
func spans(lo, hi float64) []span {
	step := (hi - lo) / grid
	var out []span
	for p := int(lo); float64(p) < hi; p++ {
		a, b := max(lo, float64(p)), min(hi, float64(p+1))
		for c := max(0, int((a-lo)/step)); c < grid; c++ {
			ca, cb := lo+float64(c)*step, lo+float64(c+1)*step
			if ca >= b {
				break
			}
			if ov := min(b, cb) - max(a, ca); ov > 0 {
				out = append(out, span{src: p, cell: c, w: ov})
			}
		}
	}
	return out
}

// similarityRange is the cosine distance that maps to similarity 0.
const similarityRange = 0.2

// similarity of two descriptors is their cosine distance d = 1 − cos θ
// (cos θ a dot product, both being unit vectors) mapped linearly onto 0..1:
// max(0, 1 − d/similarityRange). The same picture scores 1, the same
// facegen person in another shot about 0.9, and a different person
// usually below 0.65; every face shares so much layout with every other
// (an oval on a plain background) that raw cosines bunch up above 0.8,
// and the mapping spreads that range over 0..1.
func similarity(a, b []float32) float64 {
	var dot float32
	for i := range a {
		dot += a[i] * b[i]
	}
	return max(0, 1-(1-float64(dot))/similarityRange)
}

// highpass subtracts from each cell the mean of the 5×5 cells around it,
// keeping the features (eyes, brows, mouth, hairline) and dropping the
// smooth layout every face shares.
func highpass(p [grid * grid]float64) [grid * grid]float64 {
	var out [grid * grid]float64
	for y := range grid {
		for x := range grid {
			var sum, n float64
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					xx, yy := x+dx, y+dy
					if xx >= 0 && yy >= 0 && xx < grid && yy < grid {
						sum += p[yy*grid+xx]
						n++
					}
				}
			}
			out[y*grid+x] = p[y*grid+x] - sum/n
		}
	}
	return out
}
