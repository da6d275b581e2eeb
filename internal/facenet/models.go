package facenet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Models are the three networks, loaded once and safe for concurrent use.
type Models struct {
	detector    *detector
	landmarks   *landmarkNet
	recognition *recognitionNet
}

// Load reads the networks' weights from dir. A missing, corrupt or
// unexpected file is an error naming it and the command that fetches the
// models.
func Load(dir string) (*Models, error) {
	read := func(path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("facenet: model file %s is missing: run `%s` to fetch %s", path, fetchCommand, modelsVersion)
		}
		if err != nil {
			return nil, fmt.Errorf("facenet: read model file %s: %v", path, err)
		}
		if err := verify(filepath.Base(path), b); err != nil {
			return nil, fmt.Errorf("facenet: model file %s %v: run `%s` to fetch %s again", path, err, fetchCommand, modelsVersion)
		}
		return b, nil
	}
	m := &Models{}
	for _, net := range []struct {
		name string
		load func(*weights) error
	}{
		{"tiny_face_detector_model", func(w *weights) (err error) { m.detector, err = loadDetector(w); return }},
		{"face_landmark_68_model", func(w *weights) (err error) { m.landmarks, err = loadLandmarkNet(w); return }},
		{"face_recognition_model", func(w *weights) (err error) { m.recognition, err = loadRecognitionNet(w); return }},
	} {
		w, err := readWeights(dir, net.name, read)
		if err != nil {
			return nil, err
		}
		if err := net.load(w); err != nil {
			return nil, fmt.Errorf("facenet: %v (is %s from %s?)", err, dir, modelsVersion)
		}
	}
	return m, nil
}
