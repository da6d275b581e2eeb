package facenet

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// haveAsm: the AVX2+FMA kernel can run (x/sys/cpu also checks that the OS
// saves the YMM registers).
var haveAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kern6x16 computes nt consecutive 6×16 tiles of C: for tile t (rows
// 6t … 6t+5 from a and c), C = A·B + bias if acc == 0, C += A·B otherwise,
// where A is 6 × kc (row stride lda floats), B the packed kc × 16 panel b
// and bias 16 floats. c's row stride is ldc floats. nt ≥ 1, kc ≥ 1.
//
//go:noescape
func kern6x16(nt, kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

// zeroBias is the bias of partial tiles (added by storeTile instead).
var zeroBias [panelW]float32

func matMulAsm(m int, a []float32, lda int, b *PackedB, bias []float32, c []float32, ldc int) {
	k, n := b.k, b.n
	kcStep, mc := blocking(k)
	s := scratchPool.Get().(*gemmScratch)
	defer scratchPool.Put(s)

	s.bias = grow(s.bias, b.panels*panelW)
	clear(s.bias)
	if bias != nil {
		copy(s.bias, bias[:n])
	}
	tile := s.tile[:]
	for pc := 0; pc < k; pc += kcStep {
		kc := min(kcStep, k-pc)
		first := pc == 0
		acc := 1
		if first {
			acc = 0
		}
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			full := mb / tileM
			rem := mb - full*tileM
			if rem > 0 {
				// The last rem rows, zero padded to a whole tile.
				s.arem = grow(s.arem, tileM*kc)
				r0 := ic + full*tileM
				for r := 0; r < rem; r++ {
					copy(s.arem[r*kc:(r+1)*kc], a[(r0+r)*lda+pc:(r0+r)*lda+pc+kc])
				}
				clear(s.arem[rem*kc:])
			}
			for jp := 0; jp < b.panels; jp++ {
				j0 := jp * panelW
				w := min(panelW, n-j0)
				bp := &b.panel(jp, pc, kc)[0]
				var bs []float32
				if bias != nil {
					bs = bias[j0 : j0+w]
				}
				if full > 0 {
					ap := &a[ic*lda+pc]
					if w == panelW {
						kern6x16(full, kc, ap, lda, bp, &c[ic*ldc+j0], ldc, &s.bias[j0], acc)
					} else {
						for t := 0; t < full; t++ {
							r := ic + t*tileM
							kern6x16(1, kc, &a[r*lda+pc], lda, bp, &tile[0], panelW, &zeroBias[0], 0)
							storeTile(c[r*ldc+j0:], ldc, tile, tileM, w, first, bs)
						}
					}
				}
				if rem > 0 {
					r := ic + full*tileM
					kern6x16(1, kc, &s.arem[0], kc, bp, &tile[0], panelW, &zeroBias[0], 0)
					storeTile(c[r*ldc+j0:], ldc, tile, rem, w, first, bs)
				}
			}
		}
	}
}

// gemmScratch is one call's scratch space (taken from a pool, so that
// concurrent calls never share it and steady state allocates nothing).
type gemmScratch struct {
	bias []float32               // bias padded to whole panels (zeros if nil)
	arem []float32               // the last rows of an m block, tileM × kc, zero padded
	tile [tileM * panelW]float32 // output of a partial tile
}

var scratchPool = sync.Pool{New: func() any { return new(gemmScratch) }}

// grow returns s[:n], reallocating if needed.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return alignedFloats(n)
	}
	return s[:n]
}

// storeTile writes a rows × w block of the partial-tile buffer t (row
// stride panelW) to c: c = t + bias on the first k block, c += t after.
func storeTile(c []float32, ldc int, t []float32, rows, w int, first bool, bias []float32) {
	for r := 0; r < rows; r++ {
		src := t[r*panelW : r*panelW+w]
		dst := c[r*ldc : r*ldc+w]
		switch {
		case !first:
			for j, v := range src {
				dst[j] += v
			}
		case bias == nil:
			copy(dst, src)
		default:
			bs := bias[:w]
			for j, v := range src {
				dst[j] = v + bs[j]
			}
		}
	}
}
