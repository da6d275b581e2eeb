package samples

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/rollcall/rollcall/internal/facenet"
)

// TestPersonA: the portrait and the scene show one face each, hers, and
// the same person by Rollcall's cut; the stranger's face is not hers.
func TestPersonA(t *testing.T) {
	dir := os.Getenv("ROLLCALL_MODELS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", ".local", "models")
	}
	m, err := facenet.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	faces := func(name string, data []byte, zoom bool) ([]facenet.Detection, [][]float32) {
		src, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		img := facenet.FromImage(src)
		dets := m.Detect(img, facenet.DetectOptions{ZoomOut: zoom})
		var descs [][]float32
		for _, d := range dets {
			descs = append(descs, m.Describe(img, m.Landmarks(img, d)))
		}
		return dets, descs
	}
	portrait, scene := PersonA()
	pd, pdesc := faces("portrait", portrait, true)
	if len(pd) != 1 {
		t.Fatalf("the portrait shows %d faces, want 1", len(pd))
	}
	her := pdesc[0]
	sd, sdesc := faces("scene", scene, false)
	if len(sd) != 3 {
		t.Fatalf("the scene shows %d faces, want 3", len(sd))
	}
	for i, d := range sd {
		dist := facenet.Distance(her, sdesc[i])
		box := image.Rect(int(d.Box.X), int(d.Box.Y), int(d.Box.X+d.Box.Width), int(d.Box.Y+d.Box.Height))
		isHer := IsPersonA(box)
		t.Logf("scene face at %v (her: %v): distance %.3f to the portrait", box, isHer, dist)
		if isHer != (dist < facenet.SameDistance) {
			t.Errorf("scene face at %v: distance %.3f to her portrait, her: %v (cut %.2f)", box, dist, isHer, facenet.SameDistance)
		}
	}
	_, strangers := faces("stranger", Stranger(), false)
	if len(strangers) != 1 {
		t.Fatalf("the stranger's photo shows %d faces, want 1", len(strangers))
	}
	if d := facenet.Distance(her, strangers[0]); d < facenet.SameDistance {
		t.Errorf("the stranger is %.3f from PersonA, want ≥ %.2f", d, facenet.SameDistance)
	}
}
