package facenet

import (
	"fmt"
	"math"
	"slices"
)

// detector is face-api's tiny face detector: a plain 3×3 convolution and
// five depthwise-separable ones with leaky ReLUs and max pooling, then a
// 1×1 convolution predicting, on a 13×13 grid (at input size 416), five
// anchor boxes per cell: x, y, width, height and a face score.
type detector struct {
	conv0 *conv
	sep   [5]*sepconv // conv1..conv5
	conv8 *conv
}

// The detector's anchors (in grid cells), mean colour and the overlap
// above which a weaker box is suppressed.
var (
	anchors      = [5][2]float64{{1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061}, {4.266906, 5.178857}, {9.041765, 10.66308}}
	detectorMean = [3]float32{117.001, 114.697, 97.404}
)

const detectorIOU = 0.4

func loadDetector(w *weights) (*detector, error) {
	d := &detector{}
	var err error
	if d.conv0, err = loadConv(w, "conv0", 3, 3, 16); err != nil {
		return nil, err
	}
	sizes := []int{16, 32, 64, 128, 256, 512}
	for i := range d.sep {
		if d.sep[i], err = loadSepConv(w, fmt.Sprintf("conv%d", i+1), sizes[i], sizes[i+1]); err != nil {
			return nil, err
		}
	}
	if d.conv8, err = loadConv(w, "conv8", 1, 512, 5*len(anchors)); err != nil {
		return nil, err
	}
	return d, w.unused()
}

// forward runs the network on an n×n×3 normalised input; the output is
// (n/32)×(n/32)×25.
func (d *detector) forward(a *arena, x *tensor) *tensor {
	// The leaky ReLU is monotonic, so it commutes with max pooling: it is
	// applied after the pool, on a quarter of the values.
	c := d.conv0.apply(a, x, 1, pads{})
	out := leaky(maxPool(a, c, 2, 2, samePads(c.h, c.w, 2, 2)))
	a.release(c)
	for i, sc := range d.sep {
		c := sc.apply(a, out, 1, pads{1, 1, 1, 1})
		a.release(out)
		if i < 4 {
			out = leaky(maxPool(a, c, 2, 2, samePads(c.h, c.w, 2, 2)))
		} else {
			out = leaky(maxPool(a, c, 2, 1, samePads(c.h, c.w, 2, 1)))
		}
		a.release(c)
	}
	res := d.conv8.apply(a, out, 1, pads{})
	a.release(out)
	return res
}

// Detect finds the faces in img. The image is padded at the bottom or
// right to a square and scaled to the input size, as face-api does.
func (m *Models) Detect(img *Image, o DetectOptions) []Detection {
	if o.InputSize == 0 {
		o.InputSize = 416
	}
	if o.ScoreThreshold == 0 {
		o.ScoreThreshold = 0.5
	}
	if img.Width == 0 || img.Height == 0 {
		return nil
	}
	a := getArena()
	defer putArena(a)
	size := max(img.Width, img.Height)
	in := sampler{img: img, w: img.Width, h: img.Height, size: size, mean: detectorMean}.tensor(a, o.InputSize)
	out := m.detector.forward(a, in)
	a.release(in)
	found := decodeBoxes(out, img.Width, img.Height, o)
	a.release(out)
	if !o.ZoomOut {
		return found
	}
	// The detector misses many faces that fill most of the picture (a
	// close-up portrait): look again at the picture in the middle of a
	// black square larger than it, at each of zoomOuts until a face is
	// found.
	for _, k := range zoomOuts {
		if len(found) > 0 {
			break
		}
		square := int(k * float64(size))
		sm := sampler{img: img, w: img.Width, h: img.Height, size: square, left: (square - img.Width) / 2, top: (square - img.Height) / 2, mean: detectorMean}
		in = sm.tensor(a, o.InputSize)
		out = m.detector.forward(a, in)
		a.release(in)
		found = decodeBoxes(out, square, square, o)
		a.release(out)
		for i := range found {
			found[i].Box.X -= float64(sm.left)
			found[i].Box.Y -= float64(sm.top)
		}
	}
	return found
}

// zoomOuts are the sizes, relative to the picture, of the black squares a
// zoomed-out look puts it in: on the sample faces cut out as portraits
// with margins of 10% to 100%, 7–17 of 19 are found at first look, 16–19
// with a square twice the size, 19 with these three in turn
// (TestZoomOutFindsCloseUps).
var zoomOuts = []float64{1.5, 2, 3}

// decodeBoxes turns the detector's grid into boxes in image pixels,
// keeping those scoring above the threshold, then suppresses overlaps.
func decodeBoxes(out *tensor, width, height int, o DetectOptions) []Detection {
	// The part of the input the image fills, as face-api rounds it.
	scale := float64(o.InputSize) / float64(max(width, height))
	rw, rh := math.Round(float64(width)*scale), math.Round(float64(height)*scale)
	inputSize := max(rw, rh)
	fx, fy := inputSize/rw, inputSize/rh
	cells := float64(out.h)
	var found []Detection
	for row := 0; row < out.h; row++ {
		for col := 0; col < out.w; col++ {
			v := out.d[(row*out.w+col)*out.c:]
			for a, anchor := range anchors {
				p := v[5*a : 5*a+5]
				score := sigmoid(float64(p[4]))
				if score <= o.ScoreThreshold {
					continue
				}
				cx := (float64(col) + sigmoid(float64(p[0]))) / cells * fx
				cy := (float64(row) + sigmoid(float64(p[1]))) / cells * fy
				w := math.Exp(float64(p[2])) * anchor[0] / cells * fx
				h := math.Exp(float64(p[3])) * anchor[1] / cells * fy
				found = append(found, Detection{
					Box:   Rect{X: (cx - w/2) * float64(width), Y: (cy - h/2) * float64(height), Width: w * float64(width), Height: h * float64(height)},
					Score: score,
				})
			}
		}
	}
	return nonMaxSuppression(found, detectorIOU)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// nonMaxSuppression keeps the best-scoring box and drops every other that
// overlaps it by more than iou, then repeats with the rest.
func nonMaxSuppression(found []Detection, iou float64) []Detection {
	slices.SortStableFunc(found, func(a, b Detection) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	var keep []Detection
	for len(found) > 0 {
		best := found[0]
		keep = append(keep, best)
		found = slices.DeleteFunc(found[1:], func(d Detection) bool { return overlap(best.Box, d.Box) > iou })
	}
	return keep
}

// overlap is the intersection over union of two boxes.
func overlap(a, b Rect) float64 {
	w := max(0, min(a.X+a.Width, b.X+b.Width)-max(a.X, b.X))
	h := max(0, min(a.Y+a.Height, b.Y+b.Height)-max(a.Y, b.Y))
	inter := w * h
	return inter / (a.Width*a.Height + b.Width*b.Height - inter)
}
