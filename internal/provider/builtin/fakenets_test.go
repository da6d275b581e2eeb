package builtin_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/rollcall/rollcall/internal/facenet"
)

// fakeFace is a face of a fakeNets picture: a filled rectangle whose red
// names the person (40 + 20·person), whose green is how this photo of
// them differs (descriptor distance green/100) and whose blue is the
// detector's score (blue/255).
type fakeFace struct {
	x, y, w, h int
	person     int // 0..9
	green      uint8
	score      float64
}

// fakePicture is a w×h black picture of faces.
func fakePicture(w, h int, faces ...fakeFace) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	for _, f := range faces {
		c := color.RGBA{uint8(40 + 20*f.person), f.green, uint8(f.score * 255), 255}
		for y := f.y; y < f.y+f.h; y++ {
			for x := f.x; x < f.x+f.w; x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	return img
}

func fakePNG(w, h int, faces ...fakeFace) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, fakePicture(w, h, faces...)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// fakeNets stands in for *facenet.Models on fakePicture pictures: Detect
// finds each person's rectangle, Landmarks puts every point at its
// centre, Describe makes a descriptor of the person (one-hot) and of the
// green there (last value, green/100). It counts the calls.
type fakeNets struct {
	detects, landmarks, describes atomic.Int64

	mu   sync.Mutex
	opts facenet.DetectOptions // of the last Detect
}

func (n *fakeNets) Detect(img *facenet.Image, o facenet.DetectOptions) []facenet.Detection {
	n.detects.Add(1)
	n.mu.Lock()
	n.opts = o
	n.mu.Unlock()
	type span struct{ x0, y0, x1, y1, blue int }
	boxes := map[uint8]*span{}
	for y := range img.Height {
		for x := range img.Width {
			p := img.Pix[3*(y*img.Width+x):]
			if p[0] == 0 {
				continue
			}
			b, ok := boxes[p[0]]
			if !ok {
				b = &span{x, y, x, y, int(p[2])}
				boxes[p[0]] = b
			}
			b.x0, b.y0, b.x1, b.y1 = min(b.x0, x), min(b.y0, y), max(b.x1, x), max(b.y1, y)
		}
	}
	var out []facenet.Detection
	for _, b := range boxes {
		score := float64(b.blue) / 255
		if score < o.ScoreThreshold {
			continue
		}
		out = append(out, facenet.Detection{Score: score,
			Box: facenet.Rect{X: float64(b.x0), Y: float64(b.y0), Width: float64(b.x1 - b.x0 + 1), Height: float64(b.y1 - b.y0 + 1)}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Box.X < out[j].Box.X })
	return out
}

func (n *fakeNets) Landmarks(_ *facenet.Image, d facenet.Detection) facenet.Landmarks {
	n.landmarks.Add(1)
	var lm facenet.Landmarks
	for i := range lm {
		lm[i] = facenet.Point{X: d.Box.X + d.Box.Width/2, Y: d.Box.Y + d.Box.Height/2}
	}
	return lm
}

func (n *fakeNets) Describe(img *facenet.Image, lm facenet.Landmarks) []float32 {
	n.describes.Add(1)
	p := img.Pix[3*(int(lm[0].Y)*img.Width+int(lm[0].X)):]
	d := make([]float32, facenet.DescriptorLen)
	d[(int(p[0])-40)/20] = 1
	d[facenet.DescriptorLen-1] = float32(p[1]) / 100
	return d
}

func (n *fakeNets) lastOptions() facenet.DetectOptions {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.opts
}
