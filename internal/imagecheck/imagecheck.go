// Package imagecheck validates uploaded images at the edge: real JPEG or
// PNG by content (not by name or declared type), within size and dimension
// limits, decoded only after the header proves the dimensions are sane, so
// a decompression bomb is refused before it allocates.
package imagecheck

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
)

// Limits bound an acceptable image.
type Limits struct {
	MaxBytes  int
	MaxWidth  int
	MaxHeight int
	MaxPixels int
	MinWidth  int
	MinHeight int
	// MaxDecodedBytes bounds the memory the decoded picture takes, which
	// depends on its colour model as well as its size (a 16-bit PNG takes
	// 8 bytes a pixel).
	MaxDecodedBytes int
}

// DefaultLimits suit face photos: up to 8 MiB, 6000 px a side, 24 Mpx, at
// least 64 px a side, and 96 MiB decoded (24 Mpx at 4 bytes a pixel).
var DefaultLimits = Limits{MaxBytes: 8 << 20, MaxWidth: 6000, MaxHeight: 6000, MaxPixels: 24_000_000, MinWidth: 64, MinHeight: 64,
	MaxDecodedBytes: 96 << 20}

// decoding bounds the images decoded at once, so concurrent uploads take
// at most DecodeSlots × MaxDecodedBytes.
var decoding = make(chan struct{}, max(2, runtime.NumCPU()))

// DecodeSlots is how many images may be decoded at once.
func DecodeSlots() int { return cap(decoding) }

// bytesPerPixel is what a decoded pixel of a colour model takes.
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.YCbCrModel:
		return 3
	}
	return 4 // RGBA, NRGBA, CMYK, paletted (expanded by some decoders)
}

// ErrInvalid is wrapped by every refusal; the message says why.
var ErrInvalid = errors.New("invalid image")

// Info describes an accepted image.
type Info struct {
	ContentType   string // image/jpeg or image/png
	Width, Height int
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Check validates data against l and returns what it is.
func Check(data []byte, l Limits) (Info, error) {
	if len(data) == 0 {
		return Info{}, invalid("empty file")
	}
	if len(data) > l.MaxBytes {
		return Info{}, invalid("larger than %d bytes", l.MaxBytes)
	}
	var info Info
	var decode func([]byte) (image.Image, error)
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		info.ContentType = "image/jpeg"
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		info.ContentType = "image/png"
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	default:
		return Info{}, invalid("not a JPEG or PNG image (by content)")
	}
	var cfg image.Config
	var err error
	if info.ContentType == "image/jpeg" {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return Info{}, invalid("unreadable %s header", info.ContentType)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	switch {
	case cfg.Width > l.MaxWidth || cfg.Height > l.MaxHeight:
		return Info{}, invalid("%dx%d is larger than %dx%d", cfg.Width, cfg.Height, l.MaxWidth, l.MaxHeight)
	case cfg.Width*cfg.Height > l.MaxPixels:
		return Info{}, invalid("%dx%d is more than %d pixels", cfg.Width, cfg.Height, l.MaxPixels)
	case cfg.Width < l.MinWidth || cfg.Height < l.MinHeight:
		return Info{}, invalid("%dx%d is smaller than %dx%d", cfg.Width, cfg.Height, l.MinWidth, l.MinHeight)
	case l.MaxDecodedBytes > 0 && cfg.Width*cfg.Height*bytesPerPixel(cfg.ColorModel) > l.MaxDecodedBytes:
		return Info{}, invalid("%dx%d at this colour depth decodes to more than %d MiB", cfg.Width, cfg.Height, l.MaxDecodedBytes>>20)
	}
	decoding <- struct{}{}
	defer func() { <-decoding }()
	if _, err := decode(data); err != nil {
		return Info{}, invalid("corrupt %s data", info.ContentType)
	}
	return info, nil
}
