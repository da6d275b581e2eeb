package facenet

//go:noescape
func maddAVX2(o, a, b *float32, n int)

//go:noescape
func maxAVX2(o, a *float32, n int)

//go:noescape
func scaleMaxAVX2(x *float32, n int, s float32)

// madd sets o[i] += a[i]*b[i].
func madd(o, a, b []float32) {
	if len(o) == 0 {
		return
	}
	a, b = a[:len(o)], b[:len(o)]
	if Optimized() {
		maddAVX2(&o[0], &a[0], &b[0], len(o))
		return
	}
	maddGo(o, a, b)
}

// vmax sets o[i] = max(o[i], a[i]).
func vmax(o, a []float32) {
	if len(o) == 0 {
		return
	}
	a = a[:len(o)]
	if Optimized() {
		maxAVX2(&o[0], &a[0], len(o))
		return
	}
	vmaxGo(o, a)
}

// scaleMax sets x[i] = max(x[i], s·x[i]).
func scaleMax(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	if Optimized() {
		scaleMaxAVX2(&x[0], len(x), s)
		return
	}
	scaleMaxGo(x, s)
}
