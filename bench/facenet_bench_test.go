package bench

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/facenet/samples"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// faceNetFrames are the benchmark's frames, cut from sample6.jpg of the
// face-api package (four people): a 640×480 and a 1920×1080 frame, and a
// 640×480 frame showing one face.
type faceNetFrames struct {
	vga, hd, one *facenet.Image
}

func loadFaceNet(b *testing.B) (*facenet.Models, faceNetFrames) {
	b.Helper()
	dir := os.Getenv("ROLLCALL_MODELS_DIR")
	if dir == "" {
		dir = filepath.Join("..", ".local", "models")
	}
	m, err := facenet.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	photo := samples.Image("sample6.jpg") // 1920×1537
	var f faceNetFrames
	f.hd = photo.Crop(image.Rect(0, 200, 1920, 1280))
	f.vga = photo.Resize(640, 512).Crop(image.Rect(0, 16, 640, 496))
	// One face: the second person from the left, at the size a 640×480
	// camera a few metres away sees a face (about 100 pixels).
	f.one = photo.Crop(image.Rect(450, 150, 1290, 780)).Resize(640, 480)
	return m, f
}

// BenchmarkFaceNet prints the built-in engine's figures with the optimised
// (AVX2/FMA) kernel and with the pure-Go one, side by side: detection of
// a 640×480 and a 1920×1080 frame (input size 416), landmarks and
// descriptor of one face, the whole pipeline on a frame with one face
// (recognitions per second on one core), and 20 cameras at 1 frame/s on
// all cores with the tracker reusing descriptors of faces that stay put.
func BenchmarkFaceNet(b *testing.B) {
	m, frames := loadFaceNet(b)
	if n := len(m.Detect(frames.one, facenet.DetectOptions{})); n != 1 {
		b.Fatalf("the one-face frame shows %d faces", n)
	}
	kernels := []bool{true}
	if facenet.Optimized() {
		kernels = append(kernels, false)
	}
	defer facenet.SetOptimized(facenet.Optimized())
	for _, optimized := range kernels {
		facenet.SetOptimized(optimized)
		name := "go"
		if facenet.Optimized() {
			name = "avx2"
		}
		b.Run(name+"/detect-640x480", func(b *testing.B) {
			for b.Loop() {
				m.Detect(frames.vga, facenet.DetectOptions{})
			}
			report(b, "detection of a 640×480 frame")
		})
		b.Run(name+"/detect-1920x1080", func(b *testing.B) {
			for b.Loop() {
				m.Detect(frames.hd, facenet.DetectOptions{})
			}
			report(b, "detection of a 1920×1080 frame")
		})
		d := m.Detect(frames.one, facenet.DetectOptions{})[0]
		b.Run(name+"/describe-face", func(b *testing.B) {
			for b.Loop() {
				m.Describe(frames.one, m.Landmarks(frames.one, d))
			}
			report(b, "landmarks and descriptor of one face")
		})
		b.Run(name+"/pipeline-one-face", func(b *testing.B) {
			jpg := frames.one.JPEG(85)
			for b.Loop() {
				src, _, err := image.Decode(bytes.NewReader(jpg))
				if err != nil {
					b.Fatal(err)
				}
				img := facenet.FromImage(src)
				for _, d := range m.Detect(img, facenet.DetectOptions{}) {
					m.Describe(img, m.Landmarks(img, d))
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(time.Second)/float64(per), "rec/s/core")
			b.Logf("whole pipeline (JPEG decode, detection, landmarks, descriptor) of a 640×480 frame with one face: %v, %.1f recognitions/s on one core", per.Round(time.Microsecond), float64(time.Second)/float64(per))
		})
	}
}

func report(b *testing.B, what string) {
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/op")
	b.ReportMetric(0, "ns/op")
	kernel := "pure Go"
	if facenet.Optimized() {
		kernel = "AVX2/FMA"
	}
	b.Logf("%s (%s kernel): %v", what, kernel, per.Round(10*time.Microsecond))
}

// BenchmarkFaceNetCameras runs the built-in provider as the live pipeline
// does: 20 cameras, each sending one 640×480 JPEG frame a second with one
// face (a face of the sample photos, with fresh sensor noise every frame),
// through the engine with tracking, on all cores, for 20 seconds. It prints
// how late the answers come, how much CPU they took (cores busy), and how
// many faces were described or reused by the tracker; then the same with
// tracking off (every face described every frame).
func BenchmarkFaceNetCameras(b *testing.B) {
	m, _ := loadFaceNet(b)
	const cameras, seconds = 20, 20
	// Each camera's face: a 640×480 view around one face of the samples,
	// in two noise variants the frames alternate between.
	var views [][2][]byte
	for _, name := range samples.Names {
		photo := samples.Image(name)
		for _, d := range m.Detect(photo, facenet.DetectOptions{}) {
			if d.Score < 0.6 || len(views) == cameras {
				continue
			}
			cx, cy := int(d.Box.X+d.Box.Width/2), int(d.Box.Y+d.Box.Height/2)
			w := int(3 * d.Box.Width)
			h := w * 3 / 4
			view := photo.Crop(image.Rect(cx-w/2, cy-h/2, cx+w/2, cy+h/2)).Resize(640, 480)
			views = append(views, [2][]byte{noisy(view, 1).JPEG(85), noisy(view, 2).JPEG(85)})
		}
	}
	for len(views) < cameras {
		views = append(views, views[len(views)%19])
	}
	for _, tracking := range []bool{true, false} {
		name := "tracking"
		o := builtin.FaceNetOptions{}
		if !tracking {
			name, o.MaxReuse = "no-tracking", -1
		}
		b.Run(name, func(b *testing.B) {
			rec := builtin.NewFaceNet(m, o)
			engine, err := builtin.NewEngine(builtin.Options{Recognizer: rec})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				var lat latencies
				var faces, late atomic.Int64
				var mu sync.Mutex
				cpu0 := cpuTime()
				start := time.Now()
				var wg sync.WaitGroup
				for c := range cameras {
					wg.Go(func() {
						ctx := provider.WithSource(b.Context(), fmt.Sprintf("camera-%d", c))
						// Staggered, as cameras are.
						next := start.Add(time.Duration(c) * time.Second / cameras)
						var ds []time.Duration
						for i := 0; i < seconds; i++ {
							time.Sleep(time.Until(next))
							t0 := time.Now()
							res, err := engine.Recognize(ctx, views[c][i%2])
							if err != nil {
								b.Error(err)
								return
							}
							d := time.Since(t0)
							ds = append(ds, d)
							faces.Add(int64(len(res.Faces)))
							if d > time.Second {
								late.Add(1)
							}
							next = next.Add(time.Second)
						}
						mu.Lock()
						lat.add(ds)
						mu.Unlock()
					})
				}
				wg.Wait()
				wall := time.Since(start)
				cores := (cpuTime() - cpu0).Seconds() / wall.Seconds()
				slices.Sort(lat.all)
				st := rec.Stats()
				b.ReportMetric(cores, "cores")
				b.ReportMetric(float64(lat.pct(0.95).Microseconds())/1000, "p95-ms")
				b.ReportMetric(0, "ns/op")
				b.Logf("%d cameras × 1 frame/s for %ds (%s, %d cores): %d frames, %d faces, answers p50 %v, p95 %v, p99 %v, %d later than the next frame; CPU %.2f cores (%.0f%% of the machine); faces described %d, reused %d",
					cameras, seconds, name, runtime.GOMAXPROCS(0), len(lat.all), faces.Load(), lat.pct(0.50).Round(time.Millisecond), lat.pct(0.95).Round(time.Millisecond), lat.pct(0.99).Round(time.Millisecond), late.Load(),
					cores, 100*cores/float64(runtime.GOMAXPROCS(0)), st.Described, st.Reused)
			}
		})
	}
}

// noisy adds sensor noise (±4 levels, deterministic per seed) to img.
func noisy(img *facenet.Image, seed uint64) *facenet.Image {
	out := &facenet.Image{Width: img.Width, Height: img.Height, Pix: make([]uint8, len(img.Pix))}
	x := seed*0x9e3779b97f4a7c15 + 1
	for i, v := range img.Pix {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out.Pix[i] = uint8(min(255, max(0, int(v)+int(x%9)-4)))
	}
	return out
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
