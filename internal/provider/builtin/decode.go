package builtin

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // decoders: the formats cameras and uploads use
	_ "image/jpeg"
	_ "image/png"

	"github.com/rollcall/rollcall/internal/exif"
	"github.com/rollcall/rollcall/internal/provider"
)

// MaxPixels bounds a decodable image (40 megapixels); the header is
// checked before any pixel is allocated.
const MaxPixels = 40_000_000

// decode reads data as JPEG, PNG or GIF, refusing images over MaxPixels
// before decoding them, and turns a JPEG as its EXIF orientation says, so
// faces and boxes are found in the picture as people see it. Errors are
// provider.ErrBadImage.
func decode(data []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, badImage("image is not a readable JPEG, PNG or GIF: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, badImage("image is %d×%d; at most %d megapixels are accepted", cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, badImage("image is not a readable JPEG, PNG or GIF: %v", err)
	}
	if format == "jpeg" {
		img = exif.Upright(img, exif.Orientation(data))
	}
	return img, nil
}

func badImage(format string, args ...any) error {
	return &provider.Error{Kind: provider.ErrBadImage, Msg: "builtin: " + fmt.Sprintf(format, args...)}
}
