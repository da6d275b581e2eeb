package builtin_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

func TestEnrollIsIdempotentOnImageID(t *testing.T) {
	e := mustEngine(t, "")
	imgs := enrollImages(facegen.NewPerson(1))
	first, err := e.Enroll(t.Context(), "ann", imgs)
	if err != nil {
		t.Fatal(err)
	}
	// A retry, with other bytes under the same IDs: nothing changes.
	retry := []provider.Image{{ID: imgs[0].ID, Data: []byte("not even an image")}, imgs[1]}
	again, err := e.Enroll(t.Context(), "ann", retry)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, []string{imgs[0].ID, imgs[1].ID, imgs[2].ID}) || !reflect.DeepEqual(again, first[:2]) {
		t.Fatalf("ids %v then %v", first, again)
	}
	if subjects, n := e.Subjects(); subjects != 1 || n != 3 {
		t.Fatalf("%d subjects, %d images; want 1, 3", subjects, n)
	}
	// Without an ID the provider ID is a hash of the bytes: stable too.
	noID := []provider.Image{{Data: imgs[0].Data}}
	a, err1 := e.Enroll(t.Context(), "ann", noID)
	b, err2 := e.Enroll(t.Context(), "ann", noID)
	if err1 != nil || err2 != nil || a[0] != b[0] || len(a[0]) != 32 {
		t.Fatalf("hash ids %v %v (%v, %v)", a, b, err1, err2)
	}
	if _, n := e.Subjects(); n != 4 {
		t.Fatalf("%d images, want 4", n)
	}
}

func TestEnrollRefusesImagesWithoutExactlyOneFace(t *testing.T) {
	two := facegen.JPEG(facegen.RenderMany(facegen.Scene{Scale: 0.4},
		[]facegen.Person{facegen.NewPerson(1), facegen.NewPerson(2)}, [][2]float64{{0.25, 0.5}, {0.75, 0.5}}), 85)
	empty := facegen.JPEG(facegen.RenderMany(facegen.Scene{}, nil, nil), 85)
	good := shot(facegen.NewPerson(3), cameraScene)
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"two faces", "found 2 faces", two},
		{"no face", "found 0 faces", empty},
		{"not an image", "not a readable", []byte("definitely not an image")},
		{"empty", "not a readable", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEngine(t, "")
			_, err := e.Enroll(t.Context(), "bob", []provider.Image{{ID: "ok", Data: good}, {ID: "bad", Data: tc.data}})
			if !errors.Is(err, provider.ErrBadImage) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "image 2") {
				t.Fatalf("err = %v, want ErrBadImage saying %q about image 2", err, tc.want)
			}
			if _, n := e.Subjects(); n != 0 {
				t.Fatalf("%d images enrolled after a failed call, want 0", n)
			}
		})
	}
}

func TestRecognizeRefusesUnreadableImages(t *testing.T) {
	e := mustEngine(t, "")
	jpg := shot(facegen.NewPerson(1), cameraScene)
	for name, data := range map[string][]byte{
		"garbage":        []byte("hello"),
		"truncated jpeg": jpg[:len(jpg)/2],
		"bomb header":    pngHeader(100_000, 100_000),
	} {
		_, err := e.Recognize(t.Context(), data)
		if !errors.Is(err, provider.ErrBadImage) || provider.Code(err) != "bad_image" {
			t.Errorf("%s: err = %v, want ErrBadImage", name, err)
		}
	}
}

// TestDecompressionBombIsRefusedBeforeDecoding: a PNG claiming
// 100000×100000 pixels is refused from its header, fast and without
// allocating the 40 GB it claims.
func TestDecompressionBombIsRefusedBeforeDecoding(t *testing.T) {
	e := mustEngine(t, "")
	bomb := pngHeader(100_000, 100_000)
	start := time.Now()
	allocs := testing.AllocsPerRun(5, func() {
		_, err := e.Recognize(t.Context(), bomb)
		if !errors.Is(err, provider.ErrBadImage) || !strings.Contains(err.Error(), "megapixels") {
			t.Fatalf("err = %v, want a megapixel refusal", err)
		}
	})
	if elapsed := time.Since(start); elapsed > time.Second || allocs > 100 {
		t.Fatalf("refusing a bomb took %v and %.0f allocations", elapsed, allocs)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, _ = e.Recognize(t.Context(), bomb)
	runtime.ReadMemStats(&m1)
	if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 1<<20 {
		t.Fatalf("refusing a bomb allocated %d bytes", grew)
	}
}

func TestRecognizeIsDeterministic(t *testing.T) {
	e := mustEngine(t, "")
	for seed := range int64(3) {
		if _, err := e.Enroll(t.Context(), subjectOf(seed), enrollImages(facegen.NewPerson(seed))); err != nil {
			t.Fatal(err)
		}
	}
	frame := shot(facegen.NewPerson(1), cameraScene)
	first := mustRecognize(t, e, frame)
	for range 3 {
		if again := mustRecognize(t, e, frame); !reflect.DeepEqual(again, first) {
			t.Fatalf("%+v then %+v", first, again)
		}
	}
	// Another engine enrolled the same way answers the same.
	other := mustEngine(t, "")
	for seed := int64(2); seed >= 0; seed-- {
		if _, err := other.Enroll(t.Context(), subjectOf(seed), enrollImages(facegen.NewPerson(seed))); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustRecognize(t, other, frame); !reflect.DeepEqual(got, first) {
		t.Fatalf("second engine: %+v, first: %+v", got, first)
	}
}

func TestDataDirKeepsEnrollmentsAcrossRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "provider")
	ann, bob := facegen.NewPerson(11), facegen.NewPerson(12)
	e := mustEngine(t, dir)
	for _, p := range []facegen.Person{ann, bob} {
		if _, err := e.Enroll(t.Context(), subjectOf(p.Seed), enrollImages(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DeleteImage(t.Context(), subjectOf(bob.Seed), subjectOf(bob.Seed)+"-img-0"); err != nil {
		t.Fatal(err)
	}
	frame := shot(ann, cameraScene)
	want := mustRecognize(t, e, frame)

	restarted := mustEngine(t, dir)
	if err := restarted.Health(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := mustRecognize(t, restarted, frame); !reflect.DeepEqual(got, want) || got.Faces[0].Subject != subjectOf(ann.Seed) {
		t.Fatalf("after restart %+v, before %+v", got, want)
	}
	if subjects, n := restarted.Subjects(); subjects != 2 || n != 5 {
		t.Fatalf("after restart %d subjects, %d images; want 2, 5", subjects, n)
	}
	if err := restarted.DeleteSubject(t.Context(), subjectOf(ann.Seed)); err != nil {
		t.Fatal(err)
	}
	if got := mustOneFace(t, mustRecognize(t, mustEngine(t, dir), frame)); got.Subject != subjectOf(bob.Seed) {
		t.Fatalf("deleted subject still matched: %+v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d files, want just the data file", len(entries))
	}
}

func TestUnreadableDataDirIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "builtin-provider.json"), []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := builtin.NewEngine(builtin.Options{DataDir: dir}); !errors.Is(err, provider.ErrProvider) {
		t.Fatalf("err = %v, want ErrProvider", err)
	}
}

func TestDeleteMissingIsNotAnError(t *testing.T) {
	e := mustEngine(t, "")
	if err := e.DeleteImage(t.Context(), "nobody", "nothing"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteSubject(t.Context(), "nobody"); err != nil {
		t.Fatal(err)
	}
	if c := e.Capabilities(); !c.IdempotentEnroll || c.ReplacesSubject {
		t.Fatalf("capabilities %+v", c)
	}
}

// pngHeader is the start of a PNG whose IHDR claims w×h RGBA pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.WriteString("\x00\x00\x00\x00IDAT\x35\xaf\x06\x1e") // an empty data chunk
	return b.Bytes()
}
