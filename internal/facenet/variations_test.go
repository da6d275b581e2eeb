package facenet

import (
	"fmt"
	"image"
	"math"
	"testing"
)

// variation is an edit of a photo that keeps who is in it.
type variation struct {
	name string
	edit func(t testing.TB, img *Image, face Rect) (*Image, Rect)
}

var variations = []variation{
	{"portrait crop", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) {
		r := Rect{X: f.X - f.Width/2, Y: f.Y - f.Height/2, Width: 2 * f.Width, Height: 2 * f.Height}
		x0, y0 := max(0, int(r.X)), max(0, int(r.Y))
		out := img.Crop(image.Rect(x0, y0, int(r.X+r.Width), int(r.Y+r.Height)))
		return out, Rect{X: f.X - float64(x0), Y: f.Y - float64(y0), Width: f.Width, Height: f.Height}
	}},
	{"close-up", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) {
		// A square 1.1 times the face box, as a tightly cut ID photo.
		side := 1.1 * max(f.Width, f.Height)
		x0, y0 := max(0, int(f.X+f.Width/2-side/2)), max(0, int(f.Y+f.Height/2-side/2))
		out := img.Crop(image.Rect(x0, y0, x0+int(side), y0+int(side)))
		return out, Rect{X: f.X - float64(x0), Y: f.Y - float64(y0), Width: f.Width, Height: f.Height}
	}},
	{"half size", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) { return scaled(img, 0.5), scaleRect(f, 0.5) }},
	{"three quarters", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) { return scaled(img, 0.75), scaleRect(f, 0.75) }},
	{"jpeg q40", func(t testing.TB, img *Image, f Rect) (*Image, Rect) { return reencode(t, img, 40), f }},
	{"darker", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) { return img.Brightened(0.6), f }},
	{"brighter", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) { return img.Brightened(1.4), f }},
	{"mirrored", func(_ testing.TB, img *Image, f Rect) (*Image, Rect) {
		return img.Mirrored(), Rect{X: float64(img.Width) - f.X - f.Width, Y: f.Y, Width: f.Width, Height: f.Height}
	}},
}

// clearFace is the detection score of the faces the variation test
// compares: sample6.jpg has a weaker box (0.54) straddling two people's
// faces, which is nobody's face.
const clearFace = 0.6

// TestSamePersonAcrossVariations describes every clear face of the
// sample photos, then again in edited copies of the photo (cropped,
// scaled, re-encoded, darker, brighter, mirrored): the same face must stay
// within the same-person distance, and different faces must stay beyond
// it. The margins on either side are printed.
func TestSamePersonAcrossVariations(t *testing.T) {
	m := models(t)
	type face struct {
		label string
		desc  []float32
	}
	var faces []face
	worstSame, worstSameLabel := 0.0, ""
	perVariation := map[string]float64{}
	for _, name := range []string{"sample1.jpg", "sample2.jpg", "sample3.jpg", "sample4.jpg", "sample5.jpg", "sample6.jpg"} {
		img := readImage(t, name)
		for i, d := range m.Detect(img, DetectOptions{}) {
			if d.Score < clearFace {
				continue
			}
			label := fmt.Sprintf("%s#%d", name, i)
			desc := m.Describe(img, m.Landmarks(img, d))
			faces = append(faces, face{label, desc})
			for _, v := range variations {
				edited, box := v.edit(t, img, d.Box)
				found, ok := nearest(m.Detect(edited, DetectOptions{ZoomOut: true}), box)
				if !ok {
					t.Errorf("%s %s: the face is no longer found", label, v.name)
					continue
				}
				dist := Distance(desc, m.Describe(edited, m.Landmarks(edited, found)))
				perVariation[v.name] = max(perVariation[v.name], dist)
				if dist > worstSame {
					worstSame, worstSameLabel = dist, label+" "+v.name
				}
				if dist >= SameDistance {
					t.Errorf("%s %s: distance %.3f to the original, want < %.2f", label, v.name, dist, SameDistance)
				}
			}
		}
	}
	bestOther, bestOtherLabel := math.Inf(1), ""
	for i := range faces {
		for j := i + 1; j < len(faces); j++ {
			dist := Distance(faces[i].desc, faces[j].desc)
			if samePerson(faces[i].label, faces[j].label) {
				t.Logf("%s and %s, one person in two photos: distance %.3f, margin %.3f below %.2f", faces[i].label, faces[j].label, dist, SameDistance-dist, SameDistance)
				if dist >= SameDistance {
					t.Errorf("%s and %s: distance %.3f, want < %.2f (the same person)", faces[i].label, faces[j].label, dist, SameDistance)
				}
				continue
			}
			if dist < bestOther {
				bestOther, bestOtherLabel = dist, faces[i].label+" / "+faces[j].label
			}
			if dist < SameDistance {
				t.Errorf("%s and %s: distance %.3f, want ≥ %.2f (different people)", faces[i].label, faces[j].label, dist, SameDistance)
			}
		}
	}
	for _, v := range variations {
		t.Logf("%-14s largest distance to the original %.3f", v.name, perVariation[v.name])
	}
	t.Logf("%d faces × %d variations: largest same-person distance %.3f (%s), margin %.3f below %.2f", len(faces), len(variations), worstSame, worstSameLabel, SameDistance-worstSame, SameDistance)
	t.Logf("smallest different-person distance %.3f (%s), margin %.3f above %.2f", bestOther, bestOtherLabel, bestOther-SameDistance, SameDistance)
}

// samePeople are faces of one person in two of the sample photos: the
// woman on the right of sample1.jpg, in uniform, is the one in the middle
// of sample3.jpg (by eye; her descriptors are 0.42 apart, every other pair
// of faces at least 0.53).
var samePeople = [][2]string{{"sample1.jpg#1", "sample3.jpg#0"}}

func samePerson(a, b string) bool {
	for _, p := range samePeople {
		if (p[0] == a && p[1] == b) || (p[0] == b && p[1] == a) {
			return true
		}
	}
	return false
}

// nearest is the detection whose box overlaps want most.
func nearest(dets []Detection, want Rect) (Detection, bool) {
	best, bestIOU := Detection{}, 0.3
	for _, d := range dets {
		if o := overlap(d.Box, want); o > bestIOU {
			best, bestIOU = d, o
		}
	}
	return best, bestIOU > 0.3
}

// scaled resizes img by f.
func scaled(img *Image, f float64) *Image {
	return img.Resize(int(float64(img.Width)*f), int(float64(img.Height)*f))
}

func scaleRect(r Rect, f float64) Rect {
	return Rect{X: r.X * f, Y: r.Y * f, Width: r.Width * f, Height: r.Height * f}
}

// TestUprightBeatsFaceAPICrop: Describe turns faces upright, face-api's
// crop (DescribeFaceAPI) does not. On the sample photos the upright
// descriptors keep a face and its mirror image closer, and the one person
// photographed twice closer, than face-api's; the figures are printed
// (docs/providers.md quotes them).
func TestUprightBeatsFaceAPICrop(t *testing.T) {
	m := models(t)
	type face struct {
		label          string
		upright, crop  []float32
		mirrorU, mirrC float64
	}
	var faces []face
	for _, name := range []string{"sample1.jpg", "sample2.jpg", "sample3.jpg", "sample4.jpg", "sample5.jpg", "sample6.jpg"} {
		img := readImage(t, name)
		mirror := img.Mirrored()
		for i, d := range m.Detect(img, DetectOptions{}) {
			if d.Score < clearFace {
				continue
			}
			lm := m.Landmarks(img, d)
			f := face{label: fmt.Sprintf("%s#%d", name, i), upright: m.Describe(img, lm), crop: m.DescribeFaceAPI(img, lm)}
			box := Rect{X: float64(img.Width) - d.Box.X - d.Box.Width, Y: d.Box.Y, Width: d.Box.Width, Height: d.Box.Height}
			if md, ok := nearest(m.Detect(mirror, DetectOptions{}), box); ok {
				mlm := m.Landmarks(mirror, md)
				f.mirrorU = Distance(f.upright, m.Describe(mirror, mlm))
				f.mirrC = Distance(f.crop, m.DescribeFaceAPI(mirror, mlm))
			}
			faces = append(faces, f)
		}
	}
	var mirrorU, mirrorC, pairU, pairC float64
	var closeU, closeC, pairs int
	for i, f := range faces {
		mirrorU, mirrorC = max(mirrorU, f.mirrorU), max(mirrorC, f.mirrC)
		for _, g := range faces[i+1:] {
			u, c := Distance(f.upright, g.upright), Distance(f.crop, g.crop)
			if samePerson(f.label, g.label) {
				pairU, pairC = u, c
				continue
			}
			pairs++
			if u < 0.6 {
				closeU++
			}
			if c < 0.6 {
				closeC++
			}
		}
	}
	t.Logf("a face and its mirror image, largest distance: upright %.3f, face-api's crop %.3f", mirrorU, mirrorC)
	t.Logf("one person in two photos: upright %.3f, face-api's crop %.3f", pairU, pairC)
	t.Logf("pairs of different people closer than face-api's 0.6 cut: upright %d, face-api's crop %d, of %d", closeU, closeC, pairs)
	if mirrorU >= mirrorC || pairU == 0 || pairU >= pairC {
		t.Errorf("turning faces upright does not keep one person closer: mirror %.3f vs %.3f, two photos %.3f vs %.3f", mirrorU, mirrorC, pairU, pairC)
	}
}

// TestZoomOutFindsCloseUps: the detector misses many faces that fill the
// picture; the zoomed-out looks find them. Every clear face of the samples
// is cut out as a portrait: a square 1.1, 1.5 and 2 times the face box.
func TestZoomOutFindsCloseUps(t *testing.T) {
	m := models(t)
	for _, margin := range []float64{1.1, 1.5, 2} {
		var faces, plain, zoomed int
		for _, name := range []string{"sample1.jpg", "sample2.jpg", "sample3.jpg", "sample4.jpg", "sample5.jpg", "sample6.jpg"} {
			img := readImage(t, name)
			for _, d := range m.Detect(img, DetectOptions{}) {
				if d.Score < clearFace {
					continue
				}
				side := margin * max(d.Box.Width, d.Box.Height)
				cx, cy := d.Box.X+d.Box.Width/2, d.Box.Y+d.Box.Height/2
				x0, y0 := max(0, int(cx-side/2)), max(0, int(cy-side/2))
				portrait := img.Crop(image.Rect(x0, y0, int(cx+side/2), int(cy+side/2)))
				want := Rect{X: d.Box.X - float64(x0), Y: d.Box.Y - float64(y0), Width: d.Box.Width, Height: d.Box.Height}
				faces++
				if _, ok := nearest(m.Detect(portrait, DetectOptions{}), want); ok {
					plain++
				}
				if _, ok := nearest(m.Detect(portrait, DetectOptions{ZoomOut: true}), want); ok {
					zoomed++
				}
			}
		}
		t.Logf("%d portraits with margins ×%.1f: %d faces found at first look, %d with the zoomed-out looks", faces, margin, plain, zoomed)
		if zoomed < plain || zoomed < faces-1 {
			t.Errorf("margins ×%.1f: zooming out found %d of %d portraits' faces (%d without)", margin, zoomed, faces, plain)
		}
	}
}
