package facenet

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Matrix multiply for the convolutions (im2col + GEMM, NHWC): A is the
// patch matrix (m output pixels × k = kh*kw*cin), B the weights (k × n =
// cout), C the output (m × n).
//
// B is packed once into column panels of panelW columns: panel jp holds
// columns jp*panelW … jp*panelW+panelW-1 of every row p of B, row after
// row (k rows × panelW floats, contiguous), zero padded past n. A is not
// packed: the kernels read it in place (with its row stride), which
// avoids a copy of the patch matrix that costs as much as the product
// itself when n is small. Only the last, partial group of rows of an
// m-block is copied into a zero-padded scratch buffer for the assembly
// kernel, whose register tile is always tileM × panelW.
//
// Blocking (both kernels): k is cut into nearly equal blocks of at most
// kcMax (so that a B micro-panel, kc × panelW floats, stays in L1 while
// the kernel sweeps the rows of an m-block), m into blocks of mc rows
// whose A block (mc × kc) stays in L2. For each k block and m block the
// panels of B are visited in turn and, for each, every row tile of the
// m block. The first k block writes C (plus bias), the others add to it.

const (
	panelW  = 16  // columns per B panel (the register tile's width)
	tileM   = 6   // rows per register tile of the assembly kernel
	kcMax   = 256 // max rows of B (columns of A) per k block
	aBudget = 48 << 10
	// aBudget is the number of floats (192 KiB) an A block may occupy.
)

// PackedB is a k×n matrix (the network's weights, row-major) packed for MatMul.
type PackedB struct {
	k, n   int
	panels int       // ceil(n/panelW)
	data   []float32 // panels × k × panelW, 64-byte aligned
}

// PackB packs the row-major k×n matrix b (len k*n). b is not retained.
func PackB(k, n int, b []float32) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("facenet: PackB: negative size %d×%d", k, n))
	}
	if len(b) < k*n {
		panic(fmt.Sprintf("facenet: PackB: len(b) = %d, want %d×%d = %d", len(b), k, n, k*n))
	}
	np := (n + panelW - 1) / panelW
	p := &PackedB{k: k, n: n, panels: np, data: alignedFloats(np * k * panelW)}
	for jp := 0; jp < np; jp++ {
		j0 := jp * panelW
		w := min(panelW, n-j0)
		dst := p.data[jp*k*panelW : (jp+1)*k*panelW]
		for r := 0; r < k; r++ {
			copy(dst[r*panelW:r*panelW+w], b[r*n+j0:r*n+j0+w])
		}
	}
	return p
}

// alignedFloats returns a zeroed slice of n floats starting on a 64-byte
// boundary (a cache line), so that the kernels' 32-byte loads of B never
// straddle two lines. The Go heap does not move objects.
func alignedFloats(n int) []float32 {
	buf := make([]float32, n+16)
	off := 0
	if n > 0 {
		if mis := uintptr(unsafe.Pointer(&buf[0])) % 64; mis != 0 {
			off = int((64 - mis) / 4)
		}
	}
	return buf[off : off+n : off+n]
}

// K returns the number of rows of B (the inner dimension of the product).
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of B (the columns of the product).
func (p *PackedB) N() int { return p.n }

// panel returns rows p0 … p0+kc-1 of panel jp (kc × panelW floats).
func (p *PackedB) panel(jp, p0, kc int) []float32 {
	off := (jp*p.k + p0) * panelW
	return p.data[off : off+kc*panelW]
}

// MatMul sets c[i*ldc+j] = bias[j] + Σ_p a[i*lda+p]·B[p][j] for i<m, j<n (bias may be nil: 0).
// a is row-major m×k with row stride lda ≥ k. Safe for concurrent use with the same PackedB.
func MatMul(m int, a []float32, lda int, b *PackedB, bias []float32, c []float32, ldc int) {
	k, n := b.k, b.n
	switch {
	case m < 0:
		panic(fmt.Sprintf("facenet: MatMul: m = %d", m))
	case lda < k:
		panic(fmt.Sprintf("facenet: MatMul: lda = %d < k = %d", lda, k))
	case ldc < n:
		panic(fmt.Sprintf("facenet: MatMul: ldc = %d < n = %d", ldc, n))
	case bias != nil && len(bias) < n:
		panic(fmt.Sprintf("facenet: MatMul: len(bias) = %d < n = %d", len(bias), n))
	}
	if m == 0 || n == 0 {
		return
	}
	if need := (m-1)*lda + k; len(a) < need {
		panic(fmt.Sprintf("facenet: MatMul: len(a) = %d, want ≥ %d", len(a), need))
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("facenet: MatMul: len(c) = %d, want ≥ %d", len(c), need))
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if bias == nil {
				clear(row)
			} else {
				copy(row, bias[:n])
			}
		}
		return
	}
	if useAsm.Load() {
		matMulAsm(m, a, lda, b, bias, c, ldc)
	} else {
		matMulGo(m, a, lda, b, bias, c, ldc)
	}
}

// blocking returns the k block size (k cut into nearly equal blocks of
// at most kcMax) and the m block size for it (a multiple of tileM).
func blocking(k int) (kc, mc int) {
	nb := (k + kcMax - 1) / kcMax
	kc = (k + nb - 1) / nb
	mc = max(tileM, aBudget/kc/tileM*tileM)
	return kc, mc
}

var useAsm atomic.Bool

func init() { useAsm.Store(haveAsm) }

// Optimized reports whether MatMul uses the assembly kernel; SetOptimized(false) forces the
// pure-Go kernel (for benchmarks and tests comparing the two) and returns the previous setting.
// SetOptimized(true) on a CPU without AVX2+FMA keeps the Go kernel.
func Optimized() bool { return useAsm.Load() }

// SetOptimized selects the assembly kernel (on, if the CPU has it) or the
// pure-Go kernel, and returns the previous setting.
func SetOptimized(on bool) (previous bool) {
	return useAsm.Swap(on && haveAsm)
}
