// Package facegen draws synthetic people — flat cartoon faces fully
// determined by a seed — for Rollcall's tests, demos and benchmarks. They
// exercise the pipeline end to end; they are not photographs and say
// nothing about how a recogniser performs on real faces.
package facegen

import (
	"image/color"
	"math/rand/v2"
)

// HairStyle is the shape of a person's hair.
type HairStyle int

// Hair styles.
const (
	HairBald HairStyle = iota
	HairShort
	HairFringe
	HairLong
	HairBun
	HairMohawk
	hairStyles
)

// BeardStyle is the shape of a person's facial hair.
type BeardStyle int

// Beard styles.
const (
	BeardNone BeardStyle = iota
	BeardMoustache
	BeardGoatee
	BeardFull
	beardStyles
)

// Person is one synthetic person's appearance. Lengths are in units of half
// the head's height, measured from the head's centre (y grows downwards).
type Person struct {
	Seed      int64
	Skin      color.RGBA
	Hair      color.RGBA
	Iris      color.RGBA
	Lips      color.RGBA
	HairStyle HairStyle
	Beard     BeardStyle
	// HairLine is where the hair ends on the forehead (-1 is the crown).
	HairLine float64
	// Width is the head's width over its height.
	Width      float64
	EyeY       float64
	EyeSpacing float64 // distance of each eye from the centre line
	EyeSize    float64
	BrowGap    float64 // between the eye and its brow
	BrowWidth  float64
	BrowTilt   float64 // radians; positive raises the outer end
	NoseLength float64
	MouthY     float64
	MouthWidth float64
	MouthCurve float64 // positive smiles, negative frowns
	LipHeight  float64
	EarSize    float64
	Glasses    bool
}

var skinTones = []color.RGBA{
	{255, 226, 200, 255}, {242, 196, 162, 255}, {226, 172, 130, 255}, {200, 138, 96, 255},
	{166, 104, 70, 255}, {128, 80, 52, 255}, {96, 60, 40, 255},
}

var hairColours = []color.RGBA{
	{24, 20, 20, 255}, {66, 42, 28, 255}, {112, 72, 42, 255}, {160, 70, 30, 255},
	{218, 184, 110, 255}, {150, 150, 150, 255}, {235, 230, 220, 255}, {90, 30, 90, 255},
}

var irisColours = []color.RGBA{
	{70, 45, 25, 255}, {40, 90, 160, 255}, {60, 120, 70, 255}, {110, 110, 120, 255}, {25, 20, 15, 255},
}

// NewPerson returns the person of seed: the same seed always gives the same
// person, and different seeds give visibly different people.
func NewPerson(seed int64) Person {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed_face_0f_ca11))
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	p := Person{
		Seed:       seed,
		Skin:       lerpPalette(skinTones, r.Float64()),
		Hair:       hairColours[r.IntN(len(hairColours))],
		Iris:       irisColours[r.IntN(len(irisColours))],
		HairStyle:  HairStyle(r.IntN(int(hairStyles))),
		Width:      between(0.64, 0.86),
		EyeY:       between(-0.22, 0.02),
		EyeSpacing: between(0.2, 0.34),
		EyeSize:    between(0.055, 0.1),
		BrowGap:    between(0.06, 0.16),
		BrowWidth:  between(0.025, 0.075),
		BrowTilt:   between(-0.35, 0.35),
		NoseLength: between(0.14, 0.32),
		MouthWidth: between(0.22, 0.5),
		MouthCurve: between(-1, 1),
		LipHeight:  between(0.035, 0.09),
		EarSize:    between(0.1, 0.2),
		Glasses:    r.IntN(4) == 0,
	}
	p.MouthY = p.EyeY + p.NoseLength + between(0.18, 0.32)
	p.Lips = shade(p.Skin, between(0.55, 0.8))
	p.Lips.R = uint8(min(255, int(p.Lips.R)+40))
	switch p.HairStyle {
	case HairFringe:
		p.HairLine = between(-0.5, -0.32)
	case HairLong:
		p.HairLine = between(-0.75, -0.5)
	default:
		p.HairLine = between(-0.82, -0.55)
	}
	if r.IntN(3) == 0 {
		p.Beard = BeardStyle(1 + r.IntN(int(beardStyles)-1))
	}
	return p
}

func lerpPalette(pal []color.RGBA, t float64) color.RGBA {
	f := t * float64(len(pal)-1)
	i := min(int(f), len(pal)-2)
	f -= float64(i)
	a, b := pal[i], pal[i+1]
	mix := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*f + 0.5) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

func shade(c color.RGBA, k float64) color.RGBA {
	m := func(x uint8) uint8 { return uint8(min(255, float64(x)*k+0.5)) }
	return color.RGBA{m(c.R), m(c.G), m(c.B), 255}
}
