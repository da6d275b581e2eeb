package imagecheck_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/imagecheck"
)

func encode(t *testing.T, w, h int, format string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeaderOnly is a PNG whose IHDR claims w×h: valid magic and header,
// no pixel data — what a decompression bomb looks like before inflation.
func pngHeaderOnly(w, h uint32) []byte { return pngHeaderDepth(w, h, 8) }

// pngHeaderDepth is pngHeaderOnly for an RGB PNG of the given bit depth.
func pngHeaderDepth(w, h uint32, depth byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, 2 // RGB
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestCheckAccepts(t *testing.T) {
	for _, f := range []string{"jpeg", "png"} {
		info, err := imagecheck.Check(encode(t, 320, 240, f), imagecheck.DefaultLimits)
		if err != nil || info.Width != 320 || info.Height != 240 || info.ContentType != "image/"+f {
			t.Fatalf("%s: %+v %v", f, info, err)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	good := encode(t, 320, 240, "jpeg")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"text with an image name", []byte("hello, I am definitely a jpeg"), "not a JPEG or PNG"},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00"), "not a JPEG or PNG"},
		{"truncated JPEG", good[:len(good)/2], "corrupt"},
		{"JPEG magic only", []byte{0xFF, 0xD8, 0xFF, 0xE0}, "header"},
		{"huge-dimension PNG (bomb)", pngHeaderOnly(100000, 100000), "larger than"},
		{"too many pixels", pngHeaderOnly(5999, 5999), "pixels"},
		{"too small", encode(t, 32, 32, "png"), "smaller than"},
		{"too many bytes", append(bytes.Clone(good), make([]byte, 9<<20)...), "larger than"},
		// Within 24 Mpx, but 16 bits a channel decodes to ~191 MB.
		{"16-bit PNG within the pixel limit", pngHeaderDepth(4890, 4890, 16), "decodes to more than"},
		// The same size at 8 bits passes that check (and fails on its
		// missing pixel data).
		{"8-bit PNG of the same size", pngHeaderDepth(4890, 4890, 8), "corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := imagecheck.Check(tc.data, imagecheck.DefaultLimits)
			if !errors.Is(err, imagecheck.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}
