package builtin_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

// TestFaceNetFindsUsableFaces: every detected face big and sure enough
// comes back with the detector's box and score and its descriptor; faces
// under MinFaceSize are not returned at all.
func TestFaceNetFindsUsableFaces(t *testing.T) {
	pic := fakePicture(640, 480,
		fakeFace{x: 40, y: 50, w: 120, h: 150, person: 1, score: 0.9},
		fakeFace{x: 300, y: 60, w: 80, h: 100, person: 2, green: 30, score: 0.7},
		fakeFace{x: 450, y: 70, w: 30, h: 36, person: 3, score: 0.95}, // 30 px: too small by default
		fakeFace{x: 520, y: 70, w: 90, h: 90, person: 4, score: 0.3},  // too faint
	)
	nets := &fakeNets{}
	found, err := builtin.NewFaceNet(nets, builtin.FaceNetOptions{}).Find(t.Context(), pic, "")
	if err != nil {
		t.Fatal(err)
	}
	if o := nets.lastOptions(); o != (facenet.DetectOptions{InputSize: 416, ScoreThreshold: 0.5, ZoomOut: true}) {
		t.Errorf("detect options %+v, want the defaults 416 and 0.5, zoomed out when nothing is found in a photo", o)
	}

	want := []provider.Box{{X: 40, Y: 50, Width: 120, Height: 150}, {X: 300, Y: 60, Width: 80, Height: 100}}
	if len(found) != len(want) {
		t.Fatalf("found %d faces, want %d: %+v", len(found), len(want), found)
	}
	for i, f := range found {
		if f.Box != want[i] {
			t.Errorf("face %d box %+v, want %+v", i, f.Box, want[i])
		}
		if len(f.Descriptor) != facenet.DescriptorLen || f.Descriptor[i+1] != 1 {
			t.Errorf("face %d: descriptor is not person %d's", i, i+1)
		}
	}
	if math.Abs(found[0].Confidence-0.9) > 0.01 || math.Abs(found[1].Confidence-0.7) > 0.01 {
		t.Errorf("confidences %.3f %.3f, want the detector's 0.9 and 0.7", found[0].Confidence, found[1].Confidence)
	}
	if n := nets.describes.Load(); n != 2 {
		t.Errorf("%d faces described, want 2: a face too small is not worth describing", n)
	}
	if _, err := builtin.NewFaceNet(nets, builtin.FaceNetOptions{}).Find(t.Context(), pic, "cam-1"); err != nil {
		t.Fatal(err)
	}
	if o := nets.lastOptions(); o.ZoomOut {
		t.Errorf("a camera's frame is looked at again zoomed out: %+v", o)
	}

	found, err = builtin.NewFaceNet(&fakeNets{}, builtin.FaceNetOptions{MinFaceSize: 24, ScoreThreshold: 0.2, InputSize: 608}).Find(t.Context(), pic, "")
	if err != nil || len(found) != 4 {
		t.Fatalf("with MinFaceSize 24 and threshold 0.2: %d faces (%v), want 4", len(found), err)
	}
	// MaxFaces keeps the largest faces: 120×150 and 90×90.
	found, err = builtin.NewFaceNet(&fakeNets{}, builtin.FaceNetOptions{MinFaceSize: 24, ScoreThreshold: 0.2, MaxFaces: 2}).Find(t.Context(), pic, "")
	if err != nil || len(found) != 2 || found[0].Box.Width != 120 || found[1].Box.Width != 90 {
		t.Fatalf("with MaxFaces 2: %+v (%v), want the 120 and 90 pixel faces", found, err)
	}
}

func TestFaceNetSimilarityIsTheDistanceOnALine(t *testing.T) {
	for _, tc := range []struct{ distance, similarity float64 }{
		{0, 1}, {0.25, 0.89}, {0.5, builtin.FaceNetThreshold}, {1, 0.56}, {2.2727273, 0}, {4, 0},
	} {
		if got := builtin.SimilarityFromDistance(tc.distance); math.Abs(got-tc.similarity) > 1e-6 {
			t.Errorf("SimilarityFromDistance(%v) = %v, want %v", tc.distance, got, tc.similarity)
		}
		if tc.similarity > 0 {
			if got := builtin.DistanceFromSimilarity(tc.similarity); math.Abs(got-tc.distance) > 1e-6 {
				t.Errorf("DistanceFromSimilarity(%v) = %v, want %v", tc.similarity, got, tc.distance)
			}
		}
	}
	if builtin.DefaultSimilarityThreshold != builtin.FaceNetThreshold {
		t.Errorf("the default threshold %v is not the facenet cut %v", builtin.DefaultSimilarityThreshold, builtin.FaceNetThreshold)
	}
	r := builtin.NewFaceNet(&fakeNets{}, builtin.FaceNetOptions{})
	a, b := make([]float32, facenet.DescriptorLen), make([]float32, facenet.DescriptorLen)
	b[0], b[1] = 0.3, 0.4 // distance 0.5
	if got := r.Similarity(a, b); math.Abs(got-0.78) > 1e-6 {
		t.Errorf("descriptors 0.5 apart: similarity %v, want 0.78", got)
	}
	if got := r.Similarity(a, b[:64]); got != 0 {
		t.Errorf("descriptors of different lengths: %v, want 0", got)
	}
}

// TestEngineWithFaceNet: the engine enrolls and recognises with the
// facenet recognizer: one face per enrolment photo, the best match's
// similarity from the descriptors' distance.
func TestEngineWithFaceNet(t *testing.T) {
	e, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir(), Recognizer: builtin.NewFaceNet(&fakeNets{}, builtin.FaceNetOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	ann := fakeFace{x: 200, y: 100, w: 160, h: 200, person: 1, score: 0.9}
	if _, err := e.Enroll(t.Context(), "ann", []provider.Image{{ID: "a1", Data: fakePNG(640, 480, ann)}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"two faces", fakePNG(640, 480, ann, fakeFace{x: 450, y: 100, w: 100, h: 120, person: 2, score: 0.9}), "found 2 faces"},
		{"no face", fakePNG(640, 480), "found 0 faces"},
		{"a face too small", fakePNG(640, 480, fakeFace{x: 10, y: 10, w: 20, h: 20, person: 3, score: 0.9}), "found 0 faces"},
	} {
		_, err := e.Enroll(t.Context(), "bob", []provider.Image{{ID: "b1", Data: tc.data}})
		if !errors.Is(err, provider.ErrBadImage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrBadImage saying %q", tc.name, err, tc.want)
		}
	}
	other := ann
	other.x, other.green = 100, 30 // another photo of ann: 0.3 away
	res, err := e.Recognize(t.Context(), fakePNG(640, 480, other, fakeFace{x: 400, y: 100, w: 100, h: 120, person: 2, score: 0.8}))
	if err != nil || len(res.Faces) != 2 {
		t.Fatalf("recognize: %+v, %v", res, err)
	}
	if f := res.Faces[0]; f.Subject != "ann" || math.Abs(f.Similarity-0.868) > 0.001 || math.Abs(f.DetectionConfidence-0.9) > 0.01 {
		t.Errorf("ann 0.3 away: %+v, want ann at 0.868", f)
	}
	if f := res.Faces[1]; math.Abs(f.Similarity-builtin.SimilarityFromDistance(math.Sqrt2)) > 0.001 || f.Similarity >= builtin.FaceNetThreshold {
		t.Errorf("another person, √2 away: similarity %v, want %.3f (below the threshold)", f.Similarity, builtin.SimilarityFromDistance(math.Sqrt2))
	}
}

// TestDataFileOfAnotherRecognizerIsRefused: descriptors cannot be compared
// across recognizers, so an engine refuses a data file made by another,
// saying which and what to do.
func TestDataFileOfAnotherRecognizerIsRefused(t *testing.T) {
	dir := t.TempDir()
	syn := mustEngine(t, dir)
	if _, err := syn.Enroll(t.Context(), "ann", enrollImages(facegen.NewPerson(1))[:1]); err != nil {
		t.Fatal(err)
	}
	_, err := builtin.NewEngine(builtin.Options{DataDir: dir, Recognizer: builtin.NewFaceNet(&fakeNets{}, builtin.FaceNetOptions{})})
	if !errors.Is(err, provider.ErrProvider) {
		t.Fatalf("err = %v, want ErrProvider", err)
	}
	for _, want := range []string{synthetic.Name, builtin.FaceNetName, "delete it and enroll the faces again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := builtin.NewEngine(builtin.Options{DataDir: dir, Recognizer: synthetic.New()}); err != nil {
		t.Errorf("the recognizer that made it: %v", err)
	}

	// A version 1 file (the synthetic matcher's, unnamed) is refused too.
	raw, _ := json.Marshal(map[string]any{"version": 1, "images": []any{}})
	if err := os.WriteFile(filepath.Join(dir, "builtin-provider.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := builtin.NewEngine(builtin.Options{DataDir: dir, Recognizer: synthetic.New()}); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("version 1 file: %v, want a refusal", err)
	}
	if _, err := builtin.NewEngine(builtin.Options{}); !errors.Is(err, provider.ErrProvider) {
		t.Errorf("no recognizer: %v, want ErrProvider", err)
	}
}
