package builtin

// BestOther is the highest similarity between the one face in image and
// any enrolled subject other than exclude (for the accuracy test's margins).
func BestOther(e *Engine, image []byte, exclude string) float64 {
	fr, err := decode(image)
	if err != nil {
		panic(err)
	}
	faces := fr.detect()
	if len(faces) != 1 {
		panic("BestOther: want exactly one face")
	}
	desc := fr.descriptor(faces[0])
	e.mu.RLock()
	defer e.mu.RUnlock()
	best := 0.0
	for _, im := range e.images {
		if im.subject != exclude {
			best = max(best, similarity(desc, im.descriptor))
		}
	}
	return best
}
