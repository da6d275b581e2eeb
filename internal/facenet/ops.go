package facenet

import (
	"fmt"
	"math"
	"sync"
)

// tensor is an activation map in HWC order (one image: the networks run
// on one face or frame at a time).
type tensor struct {
	h, w, c int
	d       []float32
}

// arena hands out the buffers of one forward pass and takes them back
// when a layer's output has been used, so that after the first frame a
// pass allocates nothing: the networks' shapes do not depend on the image
// (it is scaled to the input size first).
type arena struct {
	free map[int][][]float32
}

var arenas = sync.Pool{New: func() any { return &arena{free: map[int][][]float32{}} }}

func getArena() *arena  { return arenas.Get().(*arena) }
func putArena(a *arena) { arenas.Put(a) }

// buf is a buffer of n floats with any contents.
func (a *arena) buf(n int) []float32 {
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		return b
	}
	return make([]float32, n)
}

// tensor is an h×w×c tensor with any contents.
func (a *arena) tensor(h, w, c int) *tensor {
	return &tensor{h: h, w: w, c: c, d: a.buf(h * w * c)}
}

// zeros is an h×w×c tensor of zeros.
func (a *arena) zeros(h, w, c int) *tensor {
	t := a.tensor(h, w, c)
	clear(t.d)
	return t
}

// release gives tensors' buffers back; they must not be used after.
func (a *arena) release(ts ...*tensor) {
	for _, t := range ts {
		a.free[len(t.d)] = append(a.free[len(t.d)], t.d)
	}
}

// putBuf gives a buffer from buf back.
func (a *arena) putBuf(b []float32) { a.free[len(b)] = append(a.free[len(b)], b) }

// pads are the zero rows and columns around an input: top, left, bottom, right.
type pads struct{ t, l, b, r int }

// samePads are TensorFlow's "same" pads for a k×k window at stride s over
// an h×w input: the output is ceil(in/s), the odd pixel of padding goes
// after (bottom, right).
func samePads(h, w, k, s int) pads {
	along := func(in int) (int, int) {
		out := (in + s - 1) / s
		total := max((out-1)*s+k-in, 0)
		return total / 2, total - total/2
	}
	t, b := along(h)
	l, r := along(w)
	return pads{t, l, b, r}
}

// conv is a k×k convolution with its weights packed for MatMul; the
// batch norm or scale layer that follows it in the published network is
// folded into the weights and bias at load.
type conv struct {
	k, cin, cout int
	w            *PackedB
	bias         []float32
}

// newConv packs filters of shape [k, k, cin, cout] (TensorFlow's HWIO,
// which is already im2col's row order).
func newConv(filters, bias []float32, k, cin, cout int) *conv {
	return &conv{k: k, cin: cin, cout: cout, w: PackB(k*k*cin, cout, filters), bias: bias}
}

// loadConv reads prefix/filters and prefix/bias.
func loadConv(w *weights, prefix string, k, cin, cout int) (*conv, error) {
	f, err := w.get(prefix+"/filters", k, k, cin, cout)
	if err != nil {
		return nil, err
	}
	b, err := w.get(prefix+"/bias", cout)
	if err != nil {
		return nil, err
	}
	return newConv(f, b, k, cin, cout), nil
}

// apply convolves x at stride s with pads p, through im2col and MatMul
// (a 1×1 convolution at stride 1 multiplies x itself).
func (cv *conv) apply(a *arena, x *tensor, s int, p pads) *tensor {
	if x.c != cv.cin {
		panic(fmt.Sprintf("facenet: conv over %d channels given %d", cv.cin, x.c))
	}
	oh := (x.h+p.t+p.b-cv.k)/s + 1
	ow := (x.w+p.l+p.r-cv.k)/s + 1
	out := a.tensor(oh, ow, cv.cout)
	if cv.k == 1 && s == 1 && p == (pads{}) {
		MatMul(oh*ow, x.d, x.c, cv.w, cv.bias, out.d, cv.cout)
		return out
	}
	kk := cv.k * cv.k * x.c
	// im2col a band of output rows at a time, to keep the patch matrix
	// small enough to stay in cache while it is multiplied.
	rows := max(1, min(oh, (1<<16)/max(1, ow*kk/64)))
	buf := a.buf(rows * ow * kk)
	for oy0 := 0; oy0 < oh; oy0 += rows {
		n := min(rows, oh-oy0)
		patches := buf[:n*ow*kk]
		im2col(x, patches, oy0, n, ow, cv.k, s, p)
		MatMul(n*ow, patches, kk, cv.w, cv.bias, out.d[oy0*ow*cv.cout:], cv.cout)
	}
	a.putBuf(buf)
	return out
}

// im2col writes the k×k×c patch of each output pixel of rows oy0..oy0+n
// into a, one row per pixel, zeros where the patch hangs over the pads.
func im2col(x *tensor, a []float32, oy0, n, ow, k, s int, p pads) {
	c := x.c
	i := 0
	for oy := oy0; oy < oy0+n; oy++ {
		for ox := 0; ox < ow; ox++ {
			for ky := 0; ky < k; ky++ {
				iy := oy*s - p.t + ky
				row := a[i : i+k*c]
				i += k * c
				if iy < 0 || iy >= x.h {
					clear(row)
					continue
				}
				ix0 := ox*s - p.l
				if ix0 >= 0 && ix0+k <= x.w {
					src := x.d[(iy*x.w+ix0)*c : (iy*x.w+ix0+k)*c]
					// The first layers' short rows (3×3 or 7×3 floats):
					// fixed-size copies are plain moves, not memmove calls.
					switch len(src) {
					case 9:
						*(*[9]float32)(row) = *(*[9]float32)(src)
					case 21:
						*(*[21]float32)(row) = *(*[21]float32)(src)
					default:
						copy(row, src)
					}
					continue
				}
				for kx := 0; kx < k; kx++ {
					ix := ix0 + kx
					dst := row[kx*c : (kx+1)*c]
					if ix < 0 || ix >= x.w {
						clear(dst)
					} else {
						copy(dst, x.d[(iy*x.w+ix)*c:(iy*x.w+ix+1)*c])
					}
				}
			}
		}
	}
}

// dwconv is a k×k depthwise convolution (one filter per channel, no bias).
type dwconv struct {
	k, c int
	w    []float32 // [k, k, c]
}

func (d *dwconv) apply(a *arena, x *tensor, s int, p pads) *tensor {
	oh := (x.h+p.t+p.b-d.k)/s + 1
	ow := (x.w+p.l+p.r-d.k)/s + 1
	out := a.zeros(oh, ow, d.c)
	c := d.c
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			o := out.d[(oy*ow+ox)*c : (oy*ow+ox+1)*c]
			for ky := 0; ky < d.k; ky++ {
				iy := oy*s - p.t + ky
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < d.k; kx++ {
					ix := ox*s - p.l + kx
					if ix < 0 || ix >= x.w {
						continue
					}
					in := x.d[(iy*x.w+ix)*c : (iy*x.w+ix+1)*c]
					wk := d.w[(ky*d.k+kx)*c : (ky*d.k+kx+1)*c]
					madd(o, in, wk)
				}
			}
		}
	}
	return out
}

// maddGo sets o[i] += a[i]*b[i].
func maddGo(o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	for i := range o {
		o[i] += a[i] * b[i]
	}
}

// sepconv is a depthwise-separable convolution: depthwise 3×3, then a
// pointwise 1×1 convolution with bias.
type sepconv struct {
	dw *dwconv
	pw *conv
}

func loadSepConv(w *weights, prefix string, cin, cout int) (*sepconv, error) {
	dw, err := w.get(prefix+"/depthwise_filter", 3, 3, cin, 1)
	if err != nil {
		return nil, err
	}
	pw, err := w.get(prefix+"/pointwise_filter", 1, 1, cin, cout)
	if err != nil {
		return nil, err
	}
	b, err := w.get(prefix+"/bias", cout)
	if err != nil {
		return nil, err
	}
	return &sepconv{dw: &dwconv{k: 3, c: cin, w: dw}, pw: newConv(pw, b, 1, cin, cout)}, nil
}

func (sc *sepconv) apply(a *arena, x *tensor, s int, p pads) *tensor {
	dw := sc.dw.apply(a, x, s, p)
	out := sc.pw.apply(a, dw, 1, pads{})
	a.release(dw)
	return out
}

// maxPool takes the maximum of each k×k window at stride s; padded
// positions do not count.
func maxPool(a *arena, x *tensor, k, s int, p pads) *tensor {
	oh := (x.h+p.t+p.b-k)/s + 1
	ow := (x.w+p.l+p.r-k)/s + 1
	out := a.tensor(oh, ow, x.c)
	c := x.c
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			o := out.d[(oy*ow+ox)*c : (oy*ow+ox+1)*c]
			first := true
			for ky := 0; ky < k; ky++ {
				iy := oy*s - p.t + ky
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < k; kx++ {
					ix := ox*s - p.l + kx
					if ix < 0 || ix >= x.w {
						continue
					}
					in := x.d[(iy*x.w+ix)*c : (iy*x.w+ix+1)*c]
					if first {
						copy(o, in)
						first = false
						continue
					}
					vmax(o, in)
				}
			}
		}
	}
	return out
}

// avgPool averages each k×k window at stride s, without padding.
func avgPool(a *arena, x *tensor, k, s int) *tensor {
	oh := (x.h-k)/s + 1
	ow := (x.w-k)/s + 1
	out := a.zeros(oh, ow, x.c)
	c := x.c
	n := float32(k * k)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			o := out.d[(oy*ow+ox)*c : (oy*ow+ox+1)*c]
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					iy, ix := oy*s+ky, ox*s+kx
					in := x.d[(iy*x.w+ix)*c : (iy*x.w+ix+1)*c]
					o := o[:len(in)]
					for i, v := range in {
						o[i] += v
					}
				}
			}
			for i := range o {
				o[i] /= n
			}
		}
	}
	return out
}

func relu(x *tensor) *tensor {
	scaleMax(x.d, 0)
	return x
}

// leaky is the detector's leaky ReLU, slope 0.1 below zero.
func leaky(x *tensor) *tensor {
	scaleMax(x.d, 0.1)
	return x
}

func vmaxGo(o, a []float32) {
	a = a[:len(o)]
	for i, v := range a {
		if v > o[i] {
			o[i] = v
		}
	}
}

func scaleMaxGo(x []float32, s float32) {
	for i, v := range x {
		if w := v * s; w > v {
			x[i] = w
		}
	}
}

// add sets x += y and returns x.
func add(x, y *tensor) *tensor {
	for i, v := range y.d[:len(x.d)] {
		x.d[i] += v
	}
	return x
}

// sampler reads an image as the networks' preprocessing sees it: the
// rectangle (x0, y0, w, h) of img, placed at (left, top) in a size×size
// square of zeros, scaled to n×n by TensorFlow's bilinear resize
// (align_corners and half_pixel_centers false), minus mean, over 255.
type sampler struct {
	img             *Image
	x0, y0, w, h    int
	left, top, size int
	mean            [3]float32
}

func (sm sampler) tensor(a *arena, n int) *tensor {
	out := a.tensor(n, n, 3)
	scale := float64(sm.size) / float64(n)
	at := func(y, x int) (float32, float32, float32) {
		y -= sm.top
		x -= sm.left
		if y < 0 || y >= sm.h || x < 0 || x >= sm.w {
			return 0, 0, 0
		}
		p := sm.img.Pix[3*((sm.y0+y)*sm.img.Width+sm.x0+x):]
		return float32(p[0]), float32(p[1]), float32(p[2])
	}
	for oy := 0; oy < n; oy++ {
		fy := float64(oy) * scale
		y0 := int(math.Floor(fy))
		y1 := min(y0+1, sm.size-1)
		dy := float32(fy - float64(y0))
		for ox := 0; ox < n; ox++ {
			fx := float64(ox) * scale
			x0 := int(math.Floor(fx))
			x1 := min(x0+1, sm.size-1)
			dx := float32(fx - float64(x0))
			tlr, tlg, tlb := at(y0, x0)
			trr, trg, trb := at(y0, x1)
			blr, blg, blb := at(y1, x0)
			brr, brg, brb := at(y1, x1)
			v := [3]float32{
				lerp2(tlr, trr, blr, brr, dx, dy),
				lerp2(tlg, trg, blg, brg, dx, dy),
				lerp2(tlb, trb, blb, brb, dx, dy),
			}
			o := out.d[(oy*n+ox)*3:]
			for c := range 3 {
				o[c] = (v[c] - sm.mean[c]) / 255
			}
		}
	}
	return out
}

func lerp2(tl, tr, bl, br, dx, dy float32) float32 {
	top := tl + (tr-tl)*dx
	bottom := bl + (br-bl)*dx
	return top + (bottom-top)*dy
}
