package facegen_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
)

func TestNewPersonIsDeterministicAndVaried(t *testing.T) {
	if facegen.NewPerson(7) != facegen.NewPerson(7) {
		t.Fatal("the same seed gave two people")
	}
	seen := map[facegen.Person]bool{}
	styles := map[facegen.HairStyle]bool{}
	glasses := 0
	for seed := range int64(150) {
		p := facegen.NewPerson(seed)
		seen[p] = true
		styles[p.HairStyle] = true
		if p.Glasses {
			glasses++
		}
	}
	if len(seen) != 150 || len(styles) < 5 || glasses == 0 || glasses == 150 {
		t.Fatalf("150 seeds: %d people, %d hair styles, %d with glasses", len(seen), len(styles), glasses)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	s := facegen.Scene{X: 0.4, Y: 0.5, Scale: 0.5, Noise: 0.03, NoiseSeed: 9, Brightness: 0.9}
	a, b := facegen.NewPerson(3).Render(s), facegen.NewPerson(3).Render(s)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("same person, same scene, different pixels")
	}
	s.NoiseSeed = 10
	if bytes.Equal(a.Pix, facegen.NewPerson(3).Render(s).Pix) {
		t.Fatal("another noise seed changed nothing")
	}
}

// TestRenderPlacesTheHead checks the head's extent: centred on X, Y and
// Scale of the frame's height tall (hair may add to it).
func TestRenderPlacesTheHead(t *testing.T) {
	bg := color.RGBA{200, 200, 200, 255}
	img := facegen.NewPerson(4).Render(facegen.Scene{Width: 400, Height: 300, X: 0.25, Y: 0.5, Scale: 0.4, Background: bg})
	box := foreground(img, bg)
	if c := (box.Min.X + box.Max.X) / 2; c < 90 || c > 110 {
		t.Errorf("head centred at x=%d, want about 100 (box %v)", c, box)
	}
	if box.Dy() < 115 || box.Dy() > 190 {
		t.Errorf("head %d px tall, want 120 plus hair (box %v)", box.Dy(), box)
	}
	if img.Bounds() != image.Rect(0, 0, 400, 300) {
		t.Errorf("frame %v", img.Bounds())
	}
}

func TestRenderManyDrawsEveryone(t *testing.T) {
	bg := color.RGBA{200, 200, 200, 255}
	people := []facegen.Person{facegen.NewPerson(1), facegen.NewPerson(2)}
	img := facegen.RenderMany(facegen.Scene{Scale: 0.4, Background: bg}, people, [][2]float64{{0.25, 0.5}, {0.75, 0.5}})
	left := foreground(img.SubImage(image.Rect(0, 0, 320, 480)).(*image.RGBA), bg)
	right := foreground(img.SubImage(image.Rect(320, 0, 640, 480)).(*image.RGBA), bg)
	if left.Empty() || right.Empty() {
		t.Fatalf("left %v, right %v: want a head on each side", left, right)
	}
}

func TestJPEGDecodes(t *testing.T) {
	data := facegen.JPEG(facegen.NewPerson(1).Render(facegen.Scene{}), 80)
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() != 640 || img.Bounds().Dy() != 480 {
		t.Fatalf("decode: %v %v", err, img.Bounds())
	}
}

// foreground is the bounding box of the pixels of img unlike bg.
func foreground(img *image.RGBA, bg color.RGBA) image.Rectangle {
	var box image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) != bg {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}
