package facegen

import (
	"image/color"
	"math"
)

type rgb [3]float64

func rgbOf(c color.RGBA) rgb      { return rgb{float64(c.R), float64(c.G), float64(c.B)} }
func (a rgb) add(b rgb) rgb       { return rgb{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a rgb) scale(k float64) rgb { return rgb{a[0] * k, a[1] * k, a[2] * k} }

var (
	eyeWhite = rgb{240, 238, 232}
	pupil    = rgb{12, 12, 14}
	frame    = rgb{28, 26, 30}
)

// painter is a Person with the values its drawing needs precomputed.
type painter struct {
	Person
	skin, hair, brow, lips, iris rgb
	cosTilt, sinTilt             float64
}

func newPainter(p Person) *painter {
	pt := &painter{Person: p, skin: rgbOf(p.Skin), hair: rgbOf(p.Hair), lips: rgbOf(p.Lips), iris: rgbOf(p.Iris),
		cosTilt: math.Cos(p.BrowTilt), sinTilt: math.Sin(p.BrowTilt)}
	pt.brow = pt.hair
	if p.HairStyle == HairBald || p.HairStyle == HairMohawk {
		pt.brow = pt.hair.scale(0.7)
	}
	return pt
}

// colourAt is p's colour at (u, v) in head units (see Person), and whether
// p covers that point at all. Later layers paint over earlier ones.
func (p *painter) colourAt(u, v float64) (c rgb, hit bool) {
	set := func(col rgb) { c, hit = col, true }
	skin, hair := p.skin, p.hair
	w := p.Width
	inHead := sq(u/w)+sq(v) <= 1

	if p.HairStyle == HairLong && sq(u/(w*1.18))+sq((v+0.05)/1.1) <= 1 && v < 0.75 {
		set(hair)
	}
	if earY := p.EyeY + 0.1; sq(math.Abs(u)-w)+sq(v-earY) <= sq(p.EarSize) {
		set(skin.scale(0.9))
	}
	if inHead {
		set(skin)
	}
	if inHead {
		switch p.Beard {
		case BeardFull:
			if v > p.MouthY-0.1 || (math.Abs(u) > w*0.78 && v > p.EyeY+0.05) {
				set(hair)
			}
		case BeardGoatee:
			if math.Abs(u) < 0.16 && v > p.MouthY+0.04 {
				set(hair)
			}
		case BeardMoustache:
			if math.Abs(u) < p.MouthWidth/2+0.04 && v > p.MouthY-0.11 && v < p.MouthY-0.04 {
				set(hair)
			}
		}
	}
	switch p.HairStyle {
	case HairShort, HairFringe, HairLong, HairBun:
		if sq(u/(w*1.07))+sq((v+0.03)/1.06) <= 1 && v < p.HairLine+0.3*sq(u/w) {
			set(hair)
		}
	}
	switch p.HairStyle {
	case HairBun:
		if sq(u)+sq(v+1.12) <= sq(0.3) {
			set(hair)
		}
	case HairMohawk:
		if math.Abs(u) < 0.13 && v > -1.3 && v < -0.35 && sq(u/w)+sq(v) <= 1.7 {
			set(hair)
		}
	}
	if !hit || v < p.EyeY-0.45 {
		return c, hit
	}
	// Nose: a shaded wedge below the eyes.
	if top := p.EyeY + 0.06; v > top && v < top+p.NoseLength && math.Abs(u) < 0.02+0.07*(v-top)/p.NoseLength {
		set(skin.scale(0.8))
	}
	// Mouth: a curved band; positive curve lowers the middle (a smile).
	if half := p.MouthWidth / 2; math.Abs(u) < half {
		mid := p.MouthY + p.MouthCurve*0.07*(1-sq(u/half))
		if math.Abs(v-mid) < p.LipHeight/2 {
			set(p.lips)
		}
	}
	for _, side := range []float64{-1, 1} {
		ex, ey := side*p.EyeSpacing, p.EyeY
		du, dv := u-ex, v-ey
		if sq(du/(p.EyeSize*1.5))+sq(dv/p.EyeSize) <= 1 {
			set(eyeWhite)
			if d := math.Hypot(du, dv); d < p.EyeSize*0.4 {
				set(pupil)
			} else if d < p.EyeSize*0.85 {
				set(p.iris)
			}
		}
		// Brow: a tilted bar above the eye.
		bu, bv := du, v-(ey-p.EyeSize-p.BrowGap)
		sin := side * p.sinTilt
		along, across := bu*p.cosTilt-bv*sin, bu*sin+bv*p.cosTilt
		if math.Abs(along) < p.EyeSize*1.6+0.03 && math.Abs(across) < p.BrowWidth/2 {
			set(p.brow)
		}
		if p.Glasses {
			gr := p.EyeSize*1.5 + 0.05
			if d := math.Hypot(du, dv); math.Abs(d-gr) < 0.025 {
				set(frame)
			}
			if math.Abs(v-ey) < 0.02 && math.Abs(u) < p.EyeSpacing-gr+0.01 {
				set(frame)
			}
		}
	}
	return c, true
}

func sq(x float64) float64 { return x * x }
