package builtin

import "context"

// BestOther is the highest similarity between the one face in image and
// any enrolled subject other than exclude (for the accuracy test's margins).
func BestOther(e *Engine, image []byte, exclude string) float64 {
	img, err := decode(image)
	if err != nil {
		panic(err)
	}
	faces, err := e.rec.Find(context.Background(), img, "")
	if err != nil || len(faces) != 1 {
		panic("BestOther: want exactly one face")
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	best := 0.0
	for _, im := range e.images {
		if im.subject != exclude {
			best = max(best, e.rec.Similarity(faces[0].Descriptor, im.descriptor))
		}
	}
	return best
}
