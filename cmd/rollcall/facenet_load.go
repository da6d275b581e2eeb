package main

import (
	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// loadFaceNets loads the face-api networks from dir (engine facenet). Its
// error names the missing or corrupt file and says to run `make models`.
// A variable, so that tests can count the loads.
var loadFaceNets = func(dir string) (builtin.FaceNets, error) {
	return facenet.Load(dir)
}
