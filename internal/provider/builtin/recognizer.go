package builtin

import (
	"context"
	"image"

	"github.com/rollcall/rollcall/internal/provider"
)

// Recognizer finds faces and describes them; the Engine keeps what is
// enrolled and matches descriptors. Implementations are safe for
// concurrent use.
type Recognizer interface {
	// Name identifies the recognizer and the meaning of its descriptors,
	// such as "facenet/face-api-1.7.15". It is stored in the data file
	// with the descriptors: descriptors made by another name are refused.
	Name() string
	// Find returns every usable face in img with its descriptor. source
	// names the stream img comes from (a camera ID) for recognizers that
	// track faces from frame to frame; "" means img stands alone.
	Find(ctx context.Context, img image.Image, source string) ([]Found, error)
	// Similarity of two of its descriptors, from 0 (unlike) to 1 (same).
	Similarity(a, b []float32) float64
}

// Found is one face a Recognizer found.
type Found struct {
	Box provider.Box
	// Confidence (0..1) is how sure the detector is this is a face.
	Confidence float64
	Descriptor []float32
}
