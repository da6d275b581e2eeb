package facenet

// The pure-Go kernel: what non-amd64 machines (and amd64 ones without
// AVX2+FMA) run. Same blocking as the assembly path; the register tile is
// 2 rows × 4 columns (8 scalar accumulators, 2 A and 4 B values: close to
// the 15 float registers Go has on amd64), A read in place, B from the
// packed panels. The inner loop is a leaf function (dot2x4) so that the
// register allocator only has the loop's values to place.

func matMulGo(m int, a []float32, lda int, b *PackedB, bias []float32, c []float32, ldc int) {
	k, n := b.k, b.n
	kcStep, mc := blocking(k)
	for pc := 0; pc < k; pc += kcStep {
		kc := min(kcStep, k-pc)
		first := pc == 0
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			for jp := 0; jp < b.panels; jp++ {
				j0 := jp * panelW
				w := min(panelW, n-j0)
				var bs []float32
				if first && bias != nil {
					bs = bias[j0 : j0+w]
				}
				goPanel(kc, a[ic*lda+pc:], lda, mb, b.panel(jp, pc, kc), c[ic*ldc+j0:], ldc, w, first, bs)
			}
		}
	}
}

// goPanel computes rows × w of C from rows × kc of A (row stride lda) and
// the kc × panelW panel bp: C = A·B (+ bias) if first, else C += A·B.
func goPanel(kc int, a []float32, lda, rows int, bp []float32, c []float32, ldc, w int, first bool, bias []float32) {
	bp = bp[:kc*panelW]
	i := 0
	for ; i+1 < rows; i += 2 {
		a0 := a[i*lda : i*lda+kc]
		a1 := a[(i+1)*lda : (i+1)*lda+kc]
		c0 := c[i*ldc : i*ldc+w]
		c1 := c[(i+1)*ldc : (i+1)*ldc+w]
		for j := 0; j < w; j += 4 {
			s00, s01, s02, s03, s10, s11, s12, s13 := dot2x4(a0, a1, bp[j:])
			store4(c0, j, first, bias, s00, s01, s02, s03)
			store4(c1, j, first, bias, s10, s11, s12, s13)
		}
	}
	if i < rows {
		a0 := a[i*lda : i*lda+kc]
		c0 := c[i*ldc : i*ldc+w]
		for j := 0; j < w; j += 8 {
			bq := bp[j:]
			if w-j <= 4 {
				var s0, s1, s2, s3 float32
				for p, x := range a0 {
					q := bq[p*panelW : p*panelW+4 : p*panelW+4]
					s0 += x * q[0]
					s1 += x * q[1]
					s2 += x * q[2]
					s3 += x * q[3]
				}
				store4(c0, j, first, bias, s0, s1, s2, s3)
				continue
			}
			var s0, s1, s2, s3, s4, s5, s6, s7 float32
			for p, x := range a0 {
				q := bq[p*panelW : p*panelW+8 : p*panelW+8]
				s0 += x * q[0]
				s1 += x * q[1]
				s2 += x * q[2]
				s3 += x * q[3]
				s4 += x * q[4]
				s5 += x * q[5]
				s6 += x * q[6]
				s7 += x * q[7]
			}
			store4(c0, j, first, bias, s0, s1, s2, s3)
			store4(c0, j+4, first, bias, s4, s5, s6, s7)
		}
	}
}

// store4 writes up to 4 results to row[j:] (fewer at the row's end):
// row = s + bias if first (bias nil: 0), row += s otherwise.
func store4(row []float32, j int, first bool, bias []float32, s0, s1, s2, s3 float32) {
	if j >= len(row) {
		return
	}
	if j+4 <= len(row) {
		r := row[j : j+4 : j+4]
		if !first {
			r[0] += s0
			r[1] += s1
			r[2] += s2
			r[3] += s3
		} else if bias == nil {
			r[0], r[1], r[2], r[3] = s0, s1, s2, s3
		} else {
			bs := bias[j : j+4 : j+4]
			r[0], r[1], r[2], r[3] = s0+bs[0], s1+bs[1], s2+bs[2], s3+bs[3]
		}
		return
	}
	s := [4]float32{s0, s1, s2, s3}
	for q := range row[j:] {
		switch {
		case !first:
			row[j+q] += s[q]
		case bias == nil:
			row[j+q] = s[q]
		default:
			row[j+q] = s[q] + bias[j+q]
		}
	}
}

// dot2x4 returns the 2×4 block Σ_p a0[p]·b[p*panelW+q], Σ_p a1[p]·b[p*panelW+q]
// (q < 4). A leaf function of its own: inlined into goPanel, the loop
// spilled its counter and bounds to the stack. (The Go 1.26 compiler
// still schedules the 8 products before the 8 sums and spills 3 of them
// on amd64.)
func dot2x4(a0, a1, b []float32) (s00, s01, s02, s03, s10, s11, s12, s13 float32) {
	a1 = a1[:len(a0)]
	for p, x0 := range a0 {
		x1 := a1[p]
		q := b[p*panelW : p*panelW+4 : p*panelW+4]
		b0, b1, b2, b3 := q[0], q[1], q[2], q[3]
		s00 += x0 * b0
		s01 += x0 * b1
		s02 += x0 * b2
		s03 += x0 * b3
		s10 += x1 * b0
		s11 += x1 * b1
		s12 += x1 * b2
		s13 += x1 * b3
	}
	return
}
