package facenet

import (
	"fmt"
	"math"
)

// landmarkNet is face-api's 68-point landmark net: four dense blocks of
// depthwise-separable convolutions over a 112×112 face, average pooling
// and a fully connected layer giving 68 (x, y) pairs relative to the input.
type landmarkNet struct {
	dense [4]denseBlock
	fc    *conv // 1×1 over the pooled 1×1×256 features: 136 outputs
}

// denseBlock: conv0 scales down by 2 (a plain convolution in the first
// block, separable after), conv1..conv3 are separable, and each takes the
// ReLU of the sum of all earlier outputs of the block.
type denseBlock struct {
	first *conv
	conv0 *sepconv
	convs [3]*sepconv
}

var faceMean = [3]float32{122.782, 117.001, 104.298}

func loadLandmarkNet(w *weights) (*landmarkNet, error) {
	n := &landmarkNet{}
	sizes := []int{3, 32, 64, 128, 256}
	var err error
	for i := range n.dense {
		prefix := fmt.Sprintf("dense%d", i)
		cin, cout := sizes[i], sizes[i+1]
		if i == 0 {
			n.dense[i].first, err = loadConv(w, prefix+"/conv0", 3, cin, cout)
		} else {
			n.dense[i].conv0, err = loadSepConv(w, prefix+"/conv0", cin, cout)
		}
		if err != nil {
			return nil, err
		}
		for j := range n.dense[i].convs {
			if n.dense[i].convs[j], err = loadSepConv(w, fmt.Sprintf("%s/conv%d", prefix, j+1), cout, cout); err != nil {
				return nil, err
			}
		}
	}
	fw, err := w.get("fc/weights", 256, 136)
	if err != nil {
		return nil, err
	}
	fb, err := w.get("fc/bias", 136)
	if err != nil {
		return nil, err
	}
	n.fc = newConv(fw, fb, 1, 256, 136)
	return n, w.unused()
}

func (b *denseBlock) forward(a *arena, x *tensor) *tensor {
	p := samePads(x.h, x.w, 3, 2)
	var out1 *tensor
	if b.first != nil {
		out1 = relu(b.first.apply(a, x, 2, p))
	} else {
		out1 = relu(b.conv0.apply(a, x, 2, p))
	}
	same := pads{1, 1, 1, 1}
	sum := a.tensor(out1.h, out1.w, out1.c)
	copy(sum.d, out1.d)
	in := out1
	for i, sc := range b.convs {
		out := sc.apply(a, in, 1, same)
		a.release(in)
		add(sum, out)
		a.release(out)
		if i == len(b.convs)-1 {
			break
		}
		in = a.tensor(sum.h, sum.w, sum.c)
		copy(in.d, sum.d)
		relu(in)
	}
	return relu(sum)
}

// forward maps a 112×112×3 normalised face to 136 values: x0, y0, x1, …
// relative to the input square.
func (n *landmarkNet) forward(a *arena, x *tensor) []float32 {
	for i := range n.dense {
		out := n.dense[i].forward(a, x)
		a.release(x)
		x = out
	}
	pooled := avgPool(a, x, 7, 2)
	a.release(x)
	out := n.fc.apply(a, pooled, 1, pads{})
	a.release(pooled)
	res := append([]float32(nil), out.d...)
	a.release(out)
	return res
}

// crop is the integer rectangle of img a face box covers, clipped to the
// image as face-api's extractFaceTensors does; ok is false if nothing is left.
func crop(img *Image, r Rect) (x, y, w, h int, ok bool) {
	cx, cy := max(r.X, 0), max(r.Y, 0)
	cw := min(r.X+r.Width-cx, float64(img.Width)-cx)
	ch := min(r.Y+r.Height-cy, float64(img.Height)-cy)
	x, y, w, h = int(math.Floor(cx)), int(math.Floor(cy)), int(math.Floor(cw)), int(math.Floor(ch))
	return x, y, w, h, w > 0 && h > 0
}

// centred samples the rectangle padded to a square, centred, as face-api's
// toBatchTensor(size, true) does, and scales it to n×n.
func centred(a *arena, img *Image, x, y, w, h, n int, mean [3]float32) *tensor {
	size := max(w, h)
	diff := size - min(w, h)
	after := int(math.Floor(float64(diff)*0.5 + 0.5)) // JavaScript's Math.round
	before := diff - after
	sm := sampler{img: img, x0: x, y0: y, w: w, h: h, size: size, mean: mean}
	if w < h {
		sm.left = before
	} else {
		sm.top = before
	}
	return sm.tensor(a, n)
}

// Landmarks locates the 68 landmarks of the face d found in img.
func (m *Models) Landmarks(img *Image, d Detection) Landmarks {
	var lm Landmarks
	x, y, w, h, ok := crop(img, d.Box)
	if !ok {
		return lm
	}
	a := getArena()
	defer putArena(a)
	out := m.landmarks.forward(a, centred(a, img, x, y, w, h, 112, faceMean))
	// face-api's postProcess: undo the centring padding in the 112 square.
	scale := 112 / float64(max(w, h))
	iw, ih := float64(w)*scale, float64(h)*scale
	var padX, padY float64
	if iw < ih {
		padX = math.Abs(iw-ih) / 2
	} else if ih < iw {
		padY = math.Abs(iw-ih) / 2
	}
	for i := range lm {
		rx := (float64(out[2*i])*112 - padX) / iw
		ry := (float64(out[2*i+1])*112 - padY) / ih
		// Relative to the crop, shifted by the detection box's (unclipped) origin.
		lm[i] = Point{X: rx*float64(w) + d.Box.X, Y: ry*float64(h) + d.Box.Y}
	}
	return lm
}

// Aligned is the square face-api cuts a face out by for the recognition
// net (its dlib alignment): sized by the mean distance from the eyes'
// centres to the mouth's centre over 0.45, placed so that the centre of
// eyes and mouth falls half-way across and 43% down. (face-api also caps
// the side at the landmark crop's size plus the offset, which only binds
// for a face at the left or top edge larger than its detection box; the
// cap is left out.)
func (lm *Landmarks) Aligned() Rect {
	leftEye, rightEye, mouth := lm.centres()
	dist := func(a, b Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }
	size := math.Floor((dist(mouth, leftEye) + dist(mouth, rightEye)) / 2 / alignScale)
	refX := (leftEye.X + rightEye.X + mouth.X) / 3
	refY := (leftEye.Y + rightEye.Y + mouth.Y) / 3
	x := math.Floor(max(0, refX-alignX*size))
	y := math.Floor(max(0, refY-alignY*size))
	return Rect{X: x, Y: y, Width: size, Height: size}
}

// face-api's alignment constants: the eye-to-mouth distance is 45% of the
// square's side, and the centre of eyes and mouth lies half-way across
// and 43% down.
const (
	alignScale = 0.45
	alignX     = 0.5
	alignY     = 0.43
)

// centres are the centres of the left eye, the right eye and the mouth.
func (lm *Landmarks) centres() (leftEye, rightEye, mouth Point) {
	centre := func(from, to int) Point {
		var c Point
		for _, p := range lm[from:to] {
			c.X += p.X
			c.Y += p.Y
		}
		n := float64(to - from)
		return Point{c.X / n, c.Y / n}
	}
	return centre(36, 42), centre(42, 48), centre(48, 68)
}
