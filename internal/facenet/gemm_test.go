package facenet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// kernels runs f once per available kernel (the Go one always, the
// assembly one where the CPU has it), restoring the setting afterwards.
func kernels(t testing.TB, f func(name string)) {
	t.Helper()
	prev := Optimized()
	defer SetOptimized(prev)
	SetOptimized(false)
	f("go")
	if SetOptimized(true); Optimized() {
		f("avx2")
	} else {
		t.Logf("assembly kernel not available on this machine; Go kernel only")
	}
}

func randFloats(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// naive is the reference: a triple loop in float64.
func naive(m, k, n int, a []float32, lda int, b []float32, bias []float32) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			if bias != nil {
				s = float64(bias[j])
			}
			for p := 0; p < k; p++ {
				s += float64(a[i*lda+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = s
		}
	}
	return c
}

type shape struct{ m, k, n, lda, ldc int }

func testShapes(r *rand.Rand) []shape {
	ms := []int{1, 2, 5, 6, 7, 11, 12, 13, 17, 35, 97, 251, 300}
	ks := []int{1, 3, 4, 5, 16, 27, 147, 255, 256, 257, 288, 513, 2304}
	ns := []int{1, 3, 8, 15, 16, 17, 25, 31, 32, 33, 47, 64, 128, 136}
	var out []shape
	for _, m := range ms {
		for _, k := range ks {
			n := ns[r.IntN(len(ns))]
			out = append(out, shape{m, k, n, k, n})
		}
	}
	for _, k := range ks {
		for _, n := range ns {
			m := 1 + r.IntN(40)
			out = append(out, shape{m, k, n, k + r.IntN(5), n + r.IntN(5)})
		}
	}
	for i := 0; i < 40; i++ {
		m, k, n := 1+r.IntN(400), 1+r.IntN(700), 1+r.IntN(200)
		out = append(out, shape{m, k, n, k + r.IntN(3)*7, n + r.IntN(3)*5})
	}
	// An m spanning several m blocks with a partial last tile, and k = 0.
	out = append(out, shape{2000 + 5, 27, 16, 27, 16}, shape{1300 + 1, 300, 25, 301, 26}, shape{7, 0, 20, 0, 20})
	return out
}

func TestMatMulMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := testShapes(r)
	if testing.Short() {
		shapes = shapes[:len(shapes)/3]
	}
	kernels(t, func(kern string) {
		for si, s := range shapes {
			a := randFloats(r, max(0, (s.m-1)*s.lda+s.k))
			bm := randFloats(r, s.k*s.n)
			var bias []float32
			if si%2 == 0 {
				bias = randFloats(r, s.n)
			}
			pb := PackB(s.k, s.n, bm)
			if pb.K() != s.k || pb.N() != s.n {
				t.Fatalf("PackB(%d, %d): K, N = %d, %d", s.k, s.n, pb.K(), pb.N())
			}
			c := make([]float32, (s.m-1)*s.ldc+s.n)
			for i := range c {
				c[i] = float32(math.NaN()) // stale output must be overwritten
			}
			MatMul(s.m, a, s.lda, pb, bias, c, s.ldc)
			want := naive(s.m, s.k, s.n, a, s.lda, bm, bias)
			if err := compare(s, c, want); err != nil {
				t.Fatalf("%s kernel, m=%d k=%d n=%d lda=%d ldc=%d bias=%v: %v", kern, s.m, s.k, s.n, s.lda, s.ldc, bias != nil, err)
			}
		}
	})
}

// compare checks c (stride s.ldc) against want (stride s.n), relative
// tolerance 1e-4 of the magnitude of the row's terms (sums of products of
// numbers in [-1, 1] cancel, so the tolerance is scaled by √k, floor 1).
func compare(s shape, c []float32, want []float64) error {
	scale := math.Max(1, math.Sqrt(float64(s.k)))
	for i := 0; i < s.m; i++ {
		for j := 0; j < s.n; j++ {
			got, w := float64(c[i*s.ldc+j]), want[i*s.n+j]
			if d := math.Abs(got - w); !(d <= 1e-4*math.Max(math.Abs(w), scale)) {
				return fmt.Errorf("c[%d][%d] = %v, want %v", i, j, got, w)
			}
		}
	}
	return nil
}

func TestMatMulStaysInBlock(t *testing.T) {
	const sentinel = float32(-12345.5)
	r := rand.New(rand.NewPCG(3, 4))
	kernels(t, func(kern string) {
		for _, s := range []shape{
			{1, 27, 16, 27, 19}, {7, 27, 17, 30, 21}, {13, 300, 25, 300, 40},
			{6, 5, 16, 5, 17}, {23, 64, 136, 70, 140}, {100, 2304, 33, 2310, 48},
		} {
			a := randFloats(r, s.m*s.lda) // padding of a's rows filled too
			bm := randFloats(r, s.k*s.n)
			pb := PackB(s.k, s.n, bm)
			// c has a margin of a whole row before and after the block, and
			// every row's padding (columns n … ldc-1).
			const margin = 64
			buf := make([]float32, margin+s.m*s.ldc+margin)
			for i := range buf {
				buf[i] = sentinel
			}
			c := buf[margin : margin+(s.m-1)*s.ldc+s.n]
			MatMul(s.m, a, s.lda, pb, randFloats(r, s.n), c, s.ldc)
			for i, v := range buf {
				off := i - margin
				inside := off >= 0 && off/s.ldc < s.m && off%s.ldc < s.n
				if !inside && v != sentinel {
					t.Fatalf("%s kernel, m=%d k=%d n=%d ldc=%d: wrote buf[%d] (offset %d) outside the block", kern, s.m, s.k, s.n, s.ldc, i, off)
				}
				if inside && v == sentinel {
					t.Fatalf("%s kernel: c offset %d not written", kern, off)
				}
			}
		}
	})
}

func TestMatMulConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const k, n = 147, 25
	pb := PackB(k, n, randFloats(r, k*n))
	bias := randFloats(r, n)
	ms := []int{1, 7, 50, 301, 1000}
	inputs := make([][]float32, len(ms))
	for i, m := range ms {
		inputs[i] = randFloats(r, m*k)
	}
	kernels(t, func(kern string) {
		want := make([][]float32, len(ms))
		for i, m := range ms {
			want[i] = make([]float32, m*n)
			MatMul(m, inputs[i], k, pb, bias, want[i], n)
		}
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for iter := 0; iter < 10; iter++ {
					i := (g + iter) % len(ms)
					c := make([]float32, ms[i]*n)
					MatMul(ms[i], inputs[i], k, pb, bias, c, n)
					for j := range c {
						if c[j] != want[i][j] {
							errs <- fmt.Sprintf("%s kernel, goroutine %d, m=%d: c[%d] = %v, want %v", kern, g, ms[i], j, c[j], want[i][j])
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

func TestSetOptimized(t *testing.T) {
	prev := SetOptimized(false)
	defer SetOptimized(prev)
	if Optimized() {
		t.Fatal("Optimized() after SetOptimized(false)")
	}
	if p := SetOptimized(true); p {
		t.Fatal("SetOptimized(true) returned true after SetOptimized(false)")
	}
	if Optimized() != haveAsm {
		t.Fatalf("Optimized() = %v after SetOptimized(true), want %v (CPU support)", Optimized(), haveAsm)
	}
}

func TestMatMulSteadyStateAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const m, k, n = 37, 300, 25
	pb := PackB(k, n, randFloats(r, k*n))
	a, c, bias := randFloats(r, m*k), make([]float32, m*n), randFloats(r, n)
	kernels(t, func(kern string) {
		MatMul(m, a, k, pb, bias, c, n)
		if got := testing.AllocsPerRun(20, func() { MatMul(m, a, k, pb, bias, c, n) }); got > 0 {
			t.Errorf("%s kernel: %v allocations per call", kern, got)
		}
	})
}

func BenchmarkMatMul(b *testing.B) {
	shapes := []struct{ m, k, n int }{
		{171396, 27, 16}, {1225, 288, 32}, {289, 576, 64}, {64, 1152, 128}, {42849, 16, 32},
	}
	kernels(b, func(kern string) {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%s/m=%d,k=%d,n=%d", kern, s.m, s.k, s.n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(9, 10))
				a := randFloats(r, s.m*s.k)
				pb := PackB(s.k, s.n, randFloats(r, s.k*s.n))
				bias := randFloats(r, s.n)
				c := make([]float32, s.m*s.n)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					MatMul(s.m, a, s.k, pb, bias, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.k) * float64(s.n) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	})
}
