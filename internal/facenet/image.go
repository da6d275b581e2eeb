package facenet

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
)

// Crop returns the part of img inside r (clipped to the image), and r's
// clipped origin.
func (img *Image) Crop(r image.Rectangle) *Image {
	r = r.Intersect(image.Rect(0, 0, img.Width, img.Height))
	out := &Image{Width: r.Dx(), Height: r.Dy(), Pix: make([]uint8, 3*r.Dx()*r.Dy())}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(out.Pix[3*(y-r.Min.Y)*out.Width:], img.Pix[3*(y*img.Width+r.Min.X):3*(y*img.Width+r.Max.X)])
	}
	return out
}

// Resize scales img to w×h, averaging the source pixels each output
// pixel covers (for shrinking; enlarging repeats pixels).
func (img *Image) Resize(w, h int) *Image {
	out := &Image{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	fx, fy := float64(img.Width)/float64(w), float64(img.Height)/float64(h)
	for y := range h {
		sy0 := int(float64(y) * fy)
		sy1 := min(img.Height, max(sy0+1, int(float64(y+1)*fy)))
		for x := range w {
			sx0 := int(float64(x) * fx)
			sx1 := min(img.Width, max(sx0+1, int(float64(x+1)*fx)))
			var sum [3]int
			for sy := sy0; sy < sy1; sy++ {
				for sx := sx0; sx < sx1; sx++ {
					p := img.Pix[3*(sy*img.Width+sx):]
					sum[0], sum[1], sum[2] = sum[0]+int(p[0]), sum[1]+int(p[1]), sum[2]+int(p[2])
				}
			}
			n := (sy1 - sy0) * (sx1 - sx0)
			for c := range 3 {
				out.Pix[3*(y*w+x)+c] = uint8((sum[c] + n/2) / n)
			}
		}
	}
	return out
}

// Mirrored returns img flipped left to right.
func (img *Image) Mirrored() *Image {
	out := &Image{Width: img.Width, Height: img.Height, Pix: make([]uint8, len(img.Pix))}
	for y := range img.Height {
		for x := range img.Width {
			copy(out.Pix[3*(y*img.Width+img.Width-1-x):][:3], img.Pix[3*(y*img.Width+x):][:3])
		}
	}
	return out
}

// Brightened returns img with every channel multiplied by f (clipped).
func (img *Image) Brightened(f float64) *Image {
	out := &Image{Width: img.Width, Height: img.Height, Pix: make([]uint8, len(img.Pix))}
	for i, v := range img.Pix {
		out.Pix[i] = uint8(min(255, math.Round(float64(v)*f)))
	}
	return out
}

// RGBA returns img as an image.RGBA.
func (img *Image) RGBA() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i := range img.Width * img.Height {
		copy(out.Pix[4*i:4*i+3], img.Pix[3*i:3*i+3])
		out.Pix[4*i+3] = 255
	}
	return out
}

// JPEG encodes img at quality (1..100).
func (img *Image) JPEG(quality int) []byte {
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img.RGBA(), &jpeg.Options{Quality: quality}) // writing to memory cannot fail
	return buf.Bytes()
}
