package facenet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// The models Load reads: the files deploy/models.sh puts in the models
// directory, from the npm package modelsVersion, with their sha256.
const (
	modelsVersion = "@vladmandic/face-api@1.7.15"
	fetchCommand  = "make models"
)

var modelFiles = map[string]string{
	"tiny_face_detector_model-weights_manifest.json": "5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5",
	"tiny_face_detector_model.bin":                   "b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871",
	"face_landmark_68_model-weights_manifest.json":   "ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9",
	"face_landmark_68_model.bin":                     "4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b",
	"face_recognition_model-weights_manifest.json":   "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
	"face_recognition_model.bin":                     "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
}

// verify checks a model file against its pinned digest.
func verify(name string, data []byte) error {
	want, ok := modelFiles[name]
	if !ok {
		return fmt.Errorf("is not one of %s's model files", modelsVersion)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("is corrupt (sha256 %s, want %s)", got, want)
	}
	return nil
}
