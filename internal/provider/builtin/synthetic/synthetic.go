// Package synthetic is a builtin.Recognizer for tests and demos with the
// synthetic people of package facegen only. It is not face recognition.
//
// A "face" is any oval-ish blob that stands out from a plain backdrop, and
// two faces are similar when their colour layouts on a coarse grid are; it
// tells facegen people apart and will confuse real people with one
// another, with posters and with coats on chairs. Rollcall refuses it in
// production (ROLLCALL_BUILTIN_ENGINE=synthetic).
package synthetic

import (
	"context"
	"image"

	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// Name is the recognizer's name in the builtin data file; change it when
// the descriptor changes.
const Name = "synthetic/1"

// Recognizer finds and describes facegen faces. It is stateless and safe
// for concurrent use.
type Recognizer struct{}

var _ builtin.Recognizer = Recognizer{}

// New returns the synthetic recognizer.
func New() Recognizer { return Recognizer{} }

// Name is Name.
func (Recognizer) Name() string { return Name }

// Find returns the face-like blobs of img, left to right, each with its
// descriptor. It ignores source: there is nothing to track.
func (Recognizer) Find(ctx context.Context, img image.Image, _ string) ([]builtin.Found, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fr := frameOf(img)
	dets := fr.detect()
	found := make([]builtin.Found, len(dets))
	for i, d := range dets {
		found[i] = builtin.Found{Box: d.box, Confidence: d.confidence, Descriptor: fr.descriptor(d)}
	}
	return found, nil
}

// Similarity is the cosine similarity of two descriptors, spread over
// 0..1 (see similarity); descriptors of different lengths score 0.
func (Recognizer) Similarity(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	return similarity(a, b)
}
