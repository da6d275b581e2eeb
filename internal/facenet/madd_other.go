//go:build !amd64

package facenet

// madd sets o[i] += a[i]*b[i].
func madd(o, a, b []float32) { maddGo(o, a, b) }

// vmax sets o[i] = max(o[i], a[i]).
func vmax(o, a []float32) { vmaxGo(o, a) }

// scaleMax sets x[i] = max(x[i], s·x[i]).
func scaleMax(x []float32, s float32) { scaleMaxGo(x, s) }
