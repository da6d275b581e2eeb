package synthetic_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

func TestDetect(t *testing.T) {
	plain := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range plain.Pix {
		plain.Pix[i] = 180
	}
	two := facegen.RenderMany(facegen.Scene{Scale: 0.4, Noise: 0.02, NoiseSeed: 3},
		[]facegen.Person{facegen.NewPerson(1), facegen.NewPerson(2)}, [][2]float64{{0.25, 0.45}, {0.72, 0.55}})
	cases := []struct {
		name  string
		image []byte
		// want are points each face's box must contain, left to right.
		want []image.Point
	}{
		{"uniform image", facegen.JPEG(plain, 85), nil},
		{"noisy empty scene", facegen.JPEG(facegen.RenderMany(facegen.Scene{Noise: 0.04, NoiseSeed: 1}, nil, nil), 85), nil},
		{"one person", shot(facegen.NewPerson(5), cameraScene), []image.Point{{397, 230}}},
		{"two people", facegen.JPEG(two, 85), []image.Point{{160, 216}, {461, 264}}},
		{"small frame", shot(facegen.NewPerson(6), facegen.Scene{Width: 120, Height: 90, X: 0.5, Y: 0.5, Scale: 0.6}), []image.Point{{60, 45}}},
	}
	e := mustEngine(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			faces := mustRecognize(t, e, tc.image).Faces
			if len(faces) != len(tc.want) {
				t.Fatalf("found %d faces, want %d: %+v", len(faces), len(tc.want), faces)
			}
			for i, f := range faces {
				r := image.Rect(f.Box.X, f.Box.Y, f.Box.X+f.Box.Width, f.Box.Y+f.Box.Height)
				if !tc.want[i].In(r) {
					t.Errorf("face %d box %v does not contain %v", i, r, tc.want[i])
				}
				if f.DetectionConfidence < 0.6 || f.DetectionConfidence > 1 {
					t.Errorf("face %d confidence %.3f, want a face-like 0.6..1", i, f.DetectionConfidence)
				}
				if f.Subject != "" || f.Similarity != 0 {
					t.Errorf("face %d: subject %q similarity %v with nobody enrolled", i, f.Subject, f.Similarity)
				}
			}
		})
	}
}

// TestDetectBoxFitsTheHead: the box spans the head (0.4 of 480 = 192 px
// tall, plus hair) and is tight to the pixel, whatever the grid.
func TestDetectBoxFitsTheHead(t *testing.T) {
	bg := color.RGBA{90, 110, 130, 255}
	p := facegen.NewPerson(2)
	img := p.Render(facegen.Scene{X: 0.5, Y: 0.5, Scale: 0.4, Background: bg})
	want := image.Rectangle{}
	for y := range 480 {
		for x := range 640 {
			if c := img.RGBAAt(x, y); absDiff(c.R, bg.R)+absDiff(c.G, bg.G)+absDiff(c.B, bg.B) > 60 {
				want = want.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	f := mustOneFace(t, mustRecognize(t, mustEngine(t), facegen.JPEG(img, 95)))
	got := provider.Box{X: want.Min.X, Y: want.Min.Y, Width: want.Dx(), Height: want.Dy()}
	if d := absInt(f.Box.X-got.X) + absInt(f.Box.Y-got.Y) + absInt(f.Box.Width-got.Width) + absInt(f.Box.Height-got.Height); d > 12 {
		t.Fatalf("box %+v, the head's pixels span %+v", f.Box, got)
	}
}

// TestFindDescribesEveryFace: Find itself (as the engine calls it) gives
// each face a descriptor; the same face twice is similarity 1, two people less.
func TestFindDescribesEveryFace(t *testing.T) {
	r := synthetic.New()
	two := facegen.RenderMany(facegen.Scene{Scale: 0.4, Noise: 0.02, NoiseSeed: 3},
		[]facegen.Person{facegen.NewPerson(1), facegen.NewPerson(2)}, [][2]float64{{0.25, 0.45}, {0.72, 0.55}})
	found, err := r.Find(t.Context(), two, "cam-1")
	if err != nil || len(found) != 2 {
		t.Fatalf("found %d faces (%v), want 2", len(found), err)
	}
	for i, f := range found {
		if len(f.Descriptor) != synthetic.DescriptorLen {
			t.Fatalf("face %d descriptor has %d values", i, len(f.Descriptor))
		}
	}
	if s := r.Similarity(found[0].Descriptor, found[0].Descriptor); s < 0.999 {
		t.Errorf("a face with itself: %.3f, want 1", s)
	}
	if s := r.Similarity(found[0].Descriptor, found[1].Descriptor); s >= builtin.DefaultSimilarityThreshold {
		t.Errorf("two people: %.3f, want below %.2f", s, builtin.DefaultSimilarityThreshold)
	}
	if s := r.Similarity(found[0].Descriptor, found[0].Descriptor[:10]); s != 0 {
		t.Errorf("descriptors of different lengths: %.3f, want 0", s)
	}
}

func absDiff(a, b uint8) int { return absInt(int(a) - int(b)) }

func absInt(x int) int { return max(x, -x) }
