package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/facenet/samples"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/testenv"
)

// mustDemoImages runs `rollcall demo-images DIR` into a new directory and
// returns it.
func mustDemoImages(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "demo")
	if err := run(context.Background(), []string{"demo-images", dir}, func(string) string { return "" }, io.Discard); err != nil {
		tb.Fatalf("rollcall demo-images: %v", err)
	}
	return dir
}

func mustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// The point of the demo: once its three enrolment photos are enrolled, the
// built-in provider (the real face recognition) names the demo person in
// the camera still, a different photo of her, above the default
// threshold, and leaves the two other people in the shot unknown.
func TestDemoPersonIsRecognisedInTheCameraStill(t *testing.T) {
	dir := mustDemoImages(t)
	var profile demoProfile
	if err := json.Unmarshal(mustReadFile(t, filepath.Join(dir, "person.json")), &profile); err != nil {
		t.Fatal(err)
	}
	if profile != (demoProfile{EmployeeCode: "DEMO-001", Name: "Demo Person", Department: "Demo"}) {
		t.Fatalf("person.json = %+v", profile)
	}

	nets, err := facenet.Load(testenv.Require(t, "ROLLCALL_MODELS_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := builtin.NewEngine(builtin.Options{Recognizer: builtin.NewFaceNet(nets, builtin.FaceNetOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	still := mustReadFile(t, filepath.Join(dir, "camera.jpg"))
	var photos []provider.Image
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("enrol-%d.jpg", i)
		data := mustReadFile(t, filepath.Join(dir, name))
		if bytes.Equal(data, still) {
			t.Fatalf("%s is the camera still", name)
		}
		photos = append(photos, provider.Image{ID: name, Data: data})
	}
	if _, err := engine.Enroll(t.Context(), profile.EmployeeCode, photos); err != nil {
		t.Fatalf("enroll the demo photos: %v", err)
	}

	res, err := engine.Recognize(t.Context(), still)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Faces) != 3 {
		t.Fatalf("camera.jpg: %d faces, want 3: %+v", len(res.Faces), res.Faces)
	}
	for _, f := range res.Faces {
		box := image.Rect(f.Box.X, f.Box.Y, f.Box.X+f.Box.Width, f.Box.Y+f.Box.Height)
		her := samples.IsPersonA(box)
		t.Logf("camera.jpg: face at %v, best match %s at similarity %.3f (the demo person: %v)", box, f.Subject, f.Similarity, her)
		switch {
		case her && (f.Subject != profile.EmployeeCode || f.Similarity < builtin.DefaultSimilarityThreshold):
			t.Errorf("the demo person: %s with similarity %.3f, want %s ≥ %.2f", f.Subject, f.Similarity, profile.EmployeeCode, builtin.DefaultSimilarityThreshold)
		case !her && f.Similarity >= builtin.DefaultSimilarityThreshold:
			t.Errorf("someone else at %v matched the demo person with similarity %.3f", box, f.Similarity)
		}
	}
}

// Every run writes the same bytes, so the camera still and the registered
// photos of one checkout always belong together.
func TestDemoImagesAreDeterministic(t *testing.T) {
	a, b := mustDemoImages(t), mustDemoImages(t)
	want := []string{".", "camera.jpg", "enrol-1.jpg", "enrol-2.jpg", "enrol-3.jpg", "person.json"}
	var got []string
	err := filepath.WalkDir(a, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a, path)
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for _, name := range want[1:] {
		if !bytes.Equal(mustReadFile(t, filepath.Join(a, name)), mustReadFile(t, filepath.Join(b, name))) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	// Writing over an existing directory replaces the files with the same bytes.
	before := mustReadFile(t, filepath.Join(a, "camera.jpg"))
	if err := run(context.Background(), []string{"demo-images", a}, func(string) string { return "" }, io.Discard); err != nil {
		t.Fatalf("second run into the same directory: %v", err)
	}
	if !bytes.Equal(before, mustReadFile(t, filepath.Join(a, "camera.jpg"))) {
		t.Error("camera.jpg changed when written again")
	}
}

func TestDemoImagesWantsOneDirectory(t *testing.T) {
	for _, args := range [][]string{{"demo-images"}, {"demo-images", "a", "b"}} {
		var u usageError
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard); !errors.As(err, &u) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}
