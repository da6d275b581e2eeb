package ffmpeg

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// mustJPEG encodes a w×h picture of noise (whose entropy-coded data is full
// of stuffed 0xFF bytes) as a JPEG.
func mustJPEG(tb testing.TB, w, h int, seed uint64) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.UintN(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// withComment inserts a COM segment holding an EOI-like FF D9 right after
// jpg's SOI: only a parser that skips segments by length gets it right.
func withComment(jpg []byte) []byte {
	com := []byte{0xFF, 0xFE, 0x00, 0x08, 'x', 0xFF, 0xD9, 0xFF, 0xD9, 'y'}
	return append(append(append([]byte{}, jpg[:2]...), com...), jpg[2:]...)
}

// progressiveLike is a hand-made frame with two scans, a table segment
// between them, stuffed bytes, restart markers and fill bytes.
var progressiveLike = []byte{
	0xFF, 0xD8,
	0xFF, 0xC4, 0x00, 0x04, 0xFF, 0xD9, // DHT whose payload looks like EOI
	0xFF, 0xDA, 0x00, 0x03, 0x01,
	0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD7, 0x78,
	0xFF, 0xC4, 0x00, 0x02,
	0xFF, 0xDA, 0x00, 0x02,
	0x9A, 0xFF, 0x00,
	0xFF, 0xFF, 0xD9,
}

// chunkReader returns reads of random sizes from 1 to 1000 bytes.
type chunkReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	n := 1 + c.rng.IntN(1000)
	return c.r.Read(p[:min(n, len(p))])
}

// readAll splits r until it fails and returns the frames and the error.
func readAll(r io.Reader, maxFrame int) ([][]byte, error) {
	jr := newJPEGReader(r, maxFrame)
	var frames [][]byte
	for {
		f, err := jr.Next()
		if err != nil {
			return frames, err
		}
		frames = append(frames, f)
	}
}

func TestJPEGReaderSplitsFrames(t *testing.T) {
	small, large := mustJPEG(t, 64, 48, 1), mustJPEG(t, 640, 480, 2)
	frames := [][]byte{small, large, withComment(mustJPEG(t, 33, 17, 3)), progressiveLike, large}
	junk := [][]byte{nil, []byte("garbage"), {0xFF}, {0xFF, 0xFF, 0x00, 0xD9}, nil}
	var stream []byte
	for i, f := range frames {
		stream = append(append(stream, junk[i]...), f...)
	}
	stream = append(stream, "trailing junk"...)

	readers := map[string]func() io.Reader{
		"whole":     func() io.Reader { return bytes.NewReader(stream) },
		"one byte":  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"halves":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"data+EOF":  func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
		"random 1":  func() io.Reader { return &chunkReader{bytes.NewReader(stream), rand.New(rand.NewPCG(1, 2))} },
		"random 42": func() io.Reader { return &chunkReader{bytes.NewReader(stream), rand.New(rand.NewPCG(42, 2))} },
	}
	for name, newReader := range readers {
		t.Run(name, func(t *testing.T) {
			got, err := readAll(newReader(), 1<<20)
			if err != io.EOF {
				t.Fatalf("err = %v, want io.EOF after the last frame", err)
			}
			if len(got) != len(frames) {
				t.Fatalf("got %d frames, want %d", len(got), len(frames))
			}
			for i := range frames {
				if !bytes.Equal(got[i], frames[i]) {
					t.Fatalf("frame %d: got %d bytes, want the %d bytes written", i, len(got[i]), len(frames[i]))
				}
			}
			for _, i := range []int{0, 1, 2} {
				if _, err := jpeg.Decode(bytes.NewReader(got[i])); err != nil {
					t.Fatalf("frame %d does not decode: %v", i, err)
				}
			}
		})
	}
}

// A stream cut inside a frame yields the frames before it, then
// io.ErrUnexpectedEOF, wherever the cut falls.
func TestJPEGReaderTruncatedFrame(t *testing.T) {
	first, last := mustJPEG(t, 64, 48, 4), mustJPEG(t, 64, 48, 5)
	sos := bytes.Index(last, []byte{0xFF, 0xDA})
	cuts := map[string]int{
		"after SOI":         2,
		"inside a header":   5,
		"inside SOS header": sos + 3,
		"inside scan data":  len(last) - 100,
		"before EOI code":   len(last) - 1,
	}
	for name, cut := range cuts {
		t.Run(name, func(t *testing.T) {
			stream := append(append([]byte{}, first...), last[:cut]...)
			got, err := readAll(iotest.OneByteReader(bytes.NewReader(stream)), 1<<20)
			if err != io.ErrUnexpectedEOF {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			if len(got) != 1 || !bytes.Equal(got[0], first) {
				t.Fatalf("got %d frames, want only the complete first one", len(got))
			}
		})
	}
}

// An oversized frame fails without the buffer ever growing past the limit.
func TestJPEGReaderLimits(t *testing.T) {
	jpg := mustJPEG(t, 320, 240, 6)
	tests := []struct {
		name   string
		stream []byte
		limit  int
		want   error
	}{
		{"frame over the limit", jpg, len(jpg) - 1, errFrameTooLarge},
		{"frame at the limit", jpg, len(jpg), io.EOF},
		{"junk over the limit", bytes.Repeat([]byte("x"), 5000), 4096, errNotJPEG},
		{"junk under the limit", bytes.Repeat([]byte("x"), 4000), 4096, io.EOF},
		{"SOI inside a frame", append([]byte{0xFF, 0xD8}, jpg...), 1 << 20, errNotJPEG},
		{"segment length below 2", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01}, 1 << 20, errNotJPEG},
		{"no marker after a segment", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x12}, 1 << 20, errNotJPEG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jr := newJPEGReader(bytes.NewReader(tt.stream), tt.limit)
			var err error
			for err == nil {
				_, err = jr.Next()
				if cap(jr.frame) > tt.limit {
					t.Fatalf("buffer grew to %d bytes, limit %d", cap(jr.frame), tt.limit)
				}
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// Whatever the input, the reader returns only whole frames within the limit
// and never panics.
func FuzzJPEGReader(f *testing.F) {
	f.Add(mustJPEG(f, 16, 16, 7))
	f.Add(progressiveLike)
	f.Add(withComment(mustJPEG(f, 8, 8, 8)))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, stream []byte) {
		const limit = 4096
		frames, _ := readAll(bytes.NewReader(stream), limit)
		for _, fr := range frames {
			if len(fr) > limit || !isJPEG(fr) {
				t.Fatalf("bad frame of %d bytes: % x", len(fr), fr[:min(len(fr), 16)])
			}
		}
	})
}
