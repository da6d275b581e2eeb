package builtin_test

import (
	"fmt"
	"image"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/facenet/samples"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// TestRealFacesOverHTTP: the built-in face recognition served over
// Rollcall's provider protocol (as `rollcall provider` serves it), used
// through the http client as kind builtin with a URL: a woman registered
// from photos of one picture is named in another, the two women beside
// her are not, a picture with two faces cannot register anyone, and a
// picture without a face is no face.
func TestRealFacesOverHTTP(t *testing.T) {
	engine := realEngine(t)
	srv := httptest.NewServer(builtin.NewServer(engine, "k3y", slog.New(slog.DiscardHandler)))
	defer srv.Close()
	p, err := provider.New(provider.Config{Kind: provider.KindBuiltin, URL: srv.URL, APIKey: "k3y",
		SimilarityThreshold: builtin.DefaultSimilarityThreshold, DetectionThreshold: 0.5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll(t.Context(), "her", herPhotos()); err != nil {
		t.Fatalf("enroll her three photos: %v", err)
	}
	if _, err := p.Enroll(t.Context(), "crowd", []provider.Image{{ID: "c", Data: samples.JPEG("sample3.jpg")}}); provider.Code(err) != "bad_image" {
		t.Fatalf("enroll a picture of three people: %v, want bad_image", err)
	}
	_, scene := samples.PersonA()
	res, err := p.Recognize(provider.WithSource(t.Context(), "cam-1"), scene)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Faces) != 3 {
		t.Fatalf("the scene: %d faces, want 3: %+v", len(res.Faces), res.Faces)
	}
	for _, f := range res.Faces {
		box := image.Rect(f.Box.X, f.Box.Y, f.Box.X+f.Box.Width, f.Box.Y+f.Box.Height)
		isHer := samples.IsPersonA(box)
		t.Logf("face at %v: %q, similarity %.3f", box, f.Subject, f.Similarity)
		if isHer != (f.Subject == "her") {
			t.Errorf("face at %v named %q at %.3f (her: %v)", box, f.Subject, f.Similarity, isHer)
		}
	}
	res, err = p.Recognize(t.Context(), mustRead(t, "../../facenet/testdata/nonfaces/smpte.png"))
	if err != nil || len(res.Faces) != 0 {
		t.Fatalf("SMPTE bars: %+v, %v; want no face", res.Faces, err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPhonePhotosAreRecognisedUpright: a photo stored on its side or
// mirrored with an EXIF orientation (as phones store them) is recognised
// as it is shown, with its box where it is in the upright photo.
func TestPhonePhotosAreRecognisedUpright(t *testing.T) {
	engine := realEngine(t)
	if _, err := engine.Enroll(t.Context(), "her", herPhotos()); err != nil {
		t.Fatalf("enroll her: %v", err)
	}
	upright, err := engine.Recognize(t.Context(), mustRead(t, "../../exif/testdata/orientation/upright.jpg"))
	if err != nil || len(upright.Faces) != 1 || upright.Faces[0].Subject != "her" {
		t.Fatalf("the upright photo: %+v, %v; want her", upright.Faces, err)
	}
	want := upright.Faces[0].Box
	for o := 2; o <= 8; o++ {
		res, err := engine.Recognize(t.Context(), mustRead(t, fmt.Sprintf("../../exif/testdata/orientation/orientation%d.jpg", o)))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Faces) != 1 {
			t.Errorf("orientation %d: %d faces, want 1", o, len(res.Faces))
			continue
		}
		f := res.Faces[0]
		t.Logf("orientation %d: %q at %.3f, box %+v (upright %+v)", o, f.Subject, f.Similarity, f.Box, want)
		if f.Subject != "her" {
			t.Errorf("orientation %d: %q at %.3f, want her", o, f.Subject, f.Similarity)
		}
		if d := max(abs(f.Box.X-want.X), abs(f.Box.Y-want.Y), abs(f.Box.Width-want.Width), abs(f.Box.Height-want.Height)); d > 6 {
			t.Errorf("orientation %d: box %+v, %d px from the upright photo's %+v", o, f.Box, d, want)
		}
	}
}

func abs(v int) int { return max(v, -v) }

// realEngine is the built-in provider recognising faces with the models
// the stack installed.
func realEngine(t *testing.T) *builtin.Engine {
	t.Helper()
	dir := os.Getenv("ROLLCALL_MODELS_DIR")
	if dir == "" {
		t.Fatal(`ROLLCALL_MODELS_DIR is not set: eval "$(bash deploy/stack.sh env)"`)
	}
	nets, err := facenet.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir(), Recognizer: builtin.NewFaceNet(nets, builtin.FaceNetOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	return engine
}

// herPhotos are PersonA's three registration photos.
func herPhotos() []provider.Image {
	var photos []provider.Image
	for i, data := range samples.PersonAPhotos() {
		photos = append(photos, provider.Image{ID: string(rune('a' + i)), Data: data})
	}
	return photos
}
