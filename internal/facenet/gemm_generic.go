//go:build !amd64

package facenet

// No assembly kernel on this architecture: MatMul always runs the pure-Go
// kernel and SetOptimized(true) keeps it.
const haveAsm = false

func matMulAsm(m int, a []float32, lda int, b *PackedB, bias []float32, c []float32, ldc int) {
	matMulGo(m, a, lda, b, bias, c, ldc)
}
