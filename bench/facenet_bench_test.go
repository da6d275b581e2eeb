package bench

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/facenet/samples"
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
				src, _, err := image.Decode(bytesReader(jpg))
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

var _ = fmt.Sprintf
var _ = runtime.NumCPU
var _ sync.Mutex
var _ atomic.Int64

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
