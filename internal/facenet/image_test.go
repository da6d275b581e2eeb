package facenet

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// TestFromImageReadsEveryYCbCrLayout: the row-wise YCbCr conversion gives
// what the image's own At gives, for every chroma subsampling and for
// sub-images starting at odd pixels.
func TestFromImageReadsEveryYCbCrLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, ratio := range ratios {
		full := image.NewYCbCr(image.Rect(0, 0, 37, 29), ratio)
		for _, p := range [][]uint8{full.Y, full.Cb, full.Cr} {
			for i := range p {
				p[i] = uint8(rng.IntN(256))
			}
		}
		for _, r := range []image.Rectangle{full.Rect, image.Rect(3, 5, 30, 26), image.Rect(1, 1, 2, 2), image.Rect(6, 4, 37, 29)} {
			src := full.SubImage(r).(*image.YCbCr)
			got := FromImage(src)
			if got.Width != r.Dx() || got.Height != r.Dy() {
				t.Fatalf("%v %v: %dx%d", ratio, r, got.Width, got.Height)
			}
			for y := 0; y < r.Dy(); y++ {
				for x := 0; x < r.Dx(); x++ {
					want := color.RGBAModel.Convert(src.At(r.Min.X+x, r.Min.Y+y)).(color.RGBA)
					i := 3 * (y*got.Width + x)
					if g := got.Pix[i : i+3]; g[0] != want.R || g[1] != want.G || g[2] != want.B {
						t.Fatalf("%v %v: pixel (%d,%d) is %v, want %v", ratio, r, x, y, g, want)
					}
				}
			}
		}
	}
}

func BenchmarkFromImage1080p(b *testing.B) {
	src := image.NewYCbCr(image.Rect(0, 0, 1920, 1080), image.YCbCrSubsampleRatio420)
	for b.Loop() {
		FromImage(src)
	}
}
