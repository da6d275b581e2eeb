package main

import (
	"errors"

	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// loadFaceNets loads the face-api networks from dir (engine facenet). Its
// error names the missing or corrupt file and says to run `make models`.
// Until package facenet can load its weights it always fails; then its
// body becomes `return facenet.Load(dir)`.
var loadFaceNets = func(dir string) (builtin.FaceNets, error) {
	return nil, errors.New("facenet: models not available yet")
}
