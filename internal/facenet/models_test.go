package facenet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadNamesAMissingOrCorruptFile: a missing or altered model file is
// an error naming the file and the command that fetches the models.
func TestLoadNamesAMissingOrCorruptFile(t *testing.T) {
	src := os.Getenv("ROLLCALL_MODELS_DIR")
	if src == "" {
		src = filepath.Join("..", "..", ".local", "models")
	}
	dir := t.TempDir()
	for name := range modelFiles {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatalf("%v (the test command fetches the models; by hand: make models)", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir); err != nil {
		t.Fatalf("a copy of the models: %v", err)
	}
	bin := filepath.Join(dir, "face_landmark_68_model.bin")
	b, _ := os.ReadFile(bin)
	b[100] ^= 1
	if err := os.WriteFile(bin, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), bin) || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), "make models") {
		t.Errorf("a flipped bit: %v, want an error naming %s as corrupt and `make models`", err, bin)
	}
	manifest := filepath.Join(dir, "tiny_face_detector_model-weights_manifest.json")
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), manifest) || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "make models") {
		t.Errorf("a missing manifest: %v, want an error naming %s as missing and `make models`", err, manifest)
	}
}
