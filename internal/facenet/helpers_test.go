package facenet

import (
	"bytes"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	testModelsOnce sync.Once
	testModels     *Models
	testModelsErr  error
)

// models loads the networks from ROLLCALL_MODELS_DIR, or the repository's
// .local/models, where `make models` puts them.
func models(t testing.TB) *Models {
	t.Helper()
	testModelsOnce.Do(func() {
		dir := os.Getenv("ROLLCALL_MODELS_DIR")
		if dir == "" {
			dir = filepath.Join("..", "..", ".local", "models")
		}
		testModels, testModelsErr = Load(dir)
	})
	if testModelsErr != nil {
		t.Fatalf("%v (the test command fetches them; by hand: make models)", testModelsErr)
	}
	return testModels
}

func readImage(t testing.TB, name string) *Image {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return decodeImage(t, data)
}

func decodeImage(t testing.TB, data []byte) *Image {
	t.Helper()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return FromImage(src)
}

func reencode(t testing.TB, img *Image, quality int) *Image {
	t.Helper()
	return decodeImage(t, img.JPEG(quality))
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
