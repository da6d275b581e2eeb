package builtin_test

import (
	"sync"
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// TestRecognizesEnrolledPeople is the property the reference provider
// exists for: 100 people enrolled from three photos each are recognised in
// a new camera frame at DefaultSimilarityThreshold or above, and 50 people
// never enrolled all fall below it.
func TestRecognizesEnrolledPeople(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 450 frames")
	}
	const enrolledPeople, strangers = 100, 50
	e := mustEngine(t, "")
	ctx := t.Context()

	var wg sync.WaitGroup
	images := make([][]provider.Image, enrolledPeople)
	frames := make([][]byte, enrolledPeople+strangers)
	for i := range enrolledPeople + strangers {
		wg.Go(func() {
			p := facegen.NewPerson(int64(i + 1))
			if i < enrolledPeople {
				images[i] = enrollImages(p)
			} else {
				p = facegen.NewPerson(int64(1000 + i))
			}
			frames[i] = shot(p, cameraScene)
		})
	}
	wg.Wait()
	for i, imgs := range images {
		if _, err := e.Enroll(ctx, subjectOf(int64(i+1)), imgs); err != nil {
			t.Fatalf("enroll person %d: %v", i+1, err)
		}
	}

	minSame, maxOther, maxStranger := 1.0, 0.0, 0.0
	for i, frame := range frames {
		face := mustOneFace(t, mustRecognize(t, e, frame))
		if i >= enrolledPeople {
			maxStranger = max(maxStranger, face.Similarity)
			if face.Similarity >= builtin.DefaultSimilarityThreshold {
				t.Errorf("stranger %d matched %s with similarity %.3f", 1000+i, face.Subject, face.Similarity)
			}
			continue
		}
		want := subjectOf(int64(i + 1))
		if face.Subject != want || face.Similarity < builtin.DefaultSimilarityThreshold {
			t.Errorf("person %d: recognised as %s with similarity %.3f, want %s ≥ %.2f", i+1, face.Subject, face.Similarity, want, builtin.DefaultSimilarityThreshold)
		}
		minSame = min(minSame, face.Similarity)
		// The best wrong subject: enroll the frame nowhere, ask without the right one.
		maxOther = max(maxOther, builtin.BestOther(e, frame, want))
	}
	t.Logf("threshold %.2f: same person min %.3f; other enrolled person max %.3f; never-enrolled max %.3f",
		builtin.DefaultSimilarityThreshold, minSame, maxOther, maxStranger)
}
