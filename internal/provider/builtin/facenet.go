package builtin

import (
	"cmp"
	"context"
	"image"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/provider"
)

// FaceNetName is the facenet recognizer's name in the data file: the
// face-api release whose weights make its descriptors, and the alignment
// (facenet.Models.Describe turns faces upright; face-api does not).
const FaceNetName = "facenet/face-api-1.7.15/upright"

// FaceNetThreshold is the similarity (SimilarityFromDistance) of
// Rollcall's same-person cut, a descriptor distance of facenet.SameDistance
// (0.5), and the database's default similarity threshold.
const FaceNetThreshold = 0.78

// FaceNetDefaults of FaceNetOptions.
const (
	DefaultFaceInputSize      = 416
	DefaultFaceScoreThreshold = 0.5
	DefaultMinFaceSize        = 40
	DefaultMaxReuse           = 10
	DefaultMaxFaces           = 10
	DefaultMaxReuseAge        = 5 * time.Second
	DefaultTrackedSources     = 1024
	DefaultSourceTTL          = time.Minute
)

// FaceNets are the networks of package facenet a FaceNet runs;
// *facenet.Models is one. Implementations are safe for concurrent use.
type FaceNets interface {
	Detect(img *facenet.Image, o facenet.DetectOptions) []facenet.Detection
	Landmarks(img *facenet.Image, d facenet.Detection) facenet.Landmarks
	Describe(img *facenet.Image, lm facenet.Landmarks) []float32
}

// FaceNetOptions tune a FaceNet. Zero values take the defaults.
type FaceNetOptions struct {
	// InputSize is the detector's input side (multiple of 32, default 416).
	InputSize int
	// ScoreThreshold is the weakest detection kept (0..1, default 0.5).
	ScoreThreshold float64
	// MinFaceSize is the shortest side, in pixels, of a face box worth
	// recognising (default 40): smaller faces are not returned at all,
	// neither as known nor as unknown, because their descriptors are too
	// poor to match and would only raise false alerts.
	MinFaceSize int
	// MaxReuse is how many consecutive frames a tracked face's descriptor
	// is reused before the face is described again (default 10; negative:
	// never reused).
	MaxReuse int
	// MaxFaces bounds the faces recognised in one picture (default 10):
	// the largest are kept, so a crowd cannot make one frame cost seconds.
	MaxFaces int
	// MaxReuseAge is how long a descriptor is reused at most (default 5s).
	MaxReuseAge time.Duration
	// TrackedSources bounds the sources tracked at once (default 1024);
	// the least recently seen is forgotten first.
	TrackedSources int
	// SourceTTL forgets a source not seen for this long (default 1m).
	SourceTTL time.Duration
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

func (o FaceNetOptions) withDefaults() FaceNetOptions {
	if o.InputSize == 0 {
		o.InputSize = DefaultFaceInputSize
	}
	if o.ScoreThreshold == 0 {
		o.ScoreThreshold = DefaultFaceScoreThreshold
	}
	if o.MinFaceSize == 0 {
		o.MinFaceSize = DefaultMinFaceSize
	}
	if o.MaxReuse == 0 {
		o.MaxReuse = DefaultMaxReuse
	}
	if o.MaxFaces == 0 {
		o.MaxFaces = DefaultMaxFaces
	}
	if o.MaxReuseAge == 0 {
		o.MaxReuseAge = DefaultMaxReuseAge
	}
	if o.TrackedSources == 0 {
		o.TrackedSources = DefaultTrackedSources
	}
	if o.SourceTTL == 0 {
		o.SourceTTL = DefaultSourceTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// FaceNet is the Recognizer of real faces: face-api's tiny face detector,
// 68-point landmarks and 128-d descriptors, run by FaceNets. Within one
// source (camera) it tracks faces from frame to frame and reuses the
// descriptor of a face that has not moved or changed (see tracker), which
// spares the two costly networks on a still scene. Safe for concurrent use.
type FaceNet struct {
	nets  FaceNets
	o     FaceNetOptions
	track *tracker

	described, reused atomic.Uint64
}

var _ Recognizer = (*FaceNet)(nil)

// NewFaceNet returns the facenet recognizer running nets.
func NewFaceNet(nets FaceNets, o FaceNetOptions) *FaceNet {
	o = o.withDefaults()
	return &FaceNet{nets: nets, o: o, track: newTracker(o.TrackedSources, o.SourceTTL)}
}

// FaceNetStats count a FaceNet's work since it was made.
type FaceNetStats struct {
	// Described faces ran the landmark and descriptor networks; Reused
	// faces took a tracked face's descriptor instead.
	Described, Reused uint64
	// Sources is how many sources are tracked now.
	Sources int
}

// Stats returns the counters.
func (f *FaceNet) Stats() FaceNetStats {
	return FaceNetStats{Described: f.described.Load(), Reused: f.reused.Load(), Sources: f.track.len()}
}

// Name is FaceNetName.
func (f *FaceNet) Name() string { return FaceNetName }

// Similarity is SimilarityFromDistance of the descriptors' Euclidean
// distance; descriptors of different lengths score 0.
func (f *FaceNet) Similarity(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	return SimilarityFromDistance(facenet.Distance(a, b))
}

// SimilarityFromDistance maps a descriptor distance d to a similarity:
// max(0, 1 − d·0.22/0.5), the straight line through (0, 1) and
// (facenet.SameDistance, FaceNetThreshold), so the cut at distance 0.5 is
// the threshold 0.78 (face-api's looser 0.6 would be 0.736).
func SimilarityFromDistance(d float64) float64 {
	return max(0, 1-d*(1-FaceNetThreshold)/facenet.SameDistance)
}

// DistanceFromSimilarity is the inverse of SimilarityFromDistance (for
// similarities above 0).
func DistanceFromSimilarity(s float64) float64 {
	return (1 - s) * facenet.SameDistance / (1 - FaceNetThreshold)
}

// Find detects the faces of img at least MinFaceSize big and describes
// each, reusing the descriptor of a face tracked in source's last frame
// when it qualifies (see tracker).
func (f *FaceNet) Find(ctx context.Context, img image.Image, source string) ([]Found, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rgb := facenet.FromImage(img)
	// A picture that is not a camera's frame (a registration photo) may
	// be a close-up, which the detector often misses unless zoomed out.
	dets := f.nets.Detect(rgb, facenet.DetectOptions{InputSize: f.o.InputSize, ScoreThreshold: f.o.ScoreThreshold, ZoomOut: source == ""})
	now := f.o.Now()
	var prev []trackedFace
	if source != "" {
		prev = f.track.last(source, now)
	}
	dets = slices.DeleteFunc(dets, func(d facenet.Detection) bool {
		box := boxOf(d.Box, rgb.Width, rgb.Height)
		return min(box.Width, box.Height) < f.o.MinFaceSize
	})
	if len(dets) > f.o.MaxFaces {
		slices.SortStableFunc(dets, func(a, b facenet.Detection) int {
			return cmp.Compare(b.Box.Width*b.Box.Height, a.Box.Width*a.Box.Height)
		})
		dets = dets[:f.o.MaxFaces]
	}
	claimed := make([]bool, len(prev))
	found := make([]Found, 0, len(dets))
	next := make([]trackedFace, 0, len(dets))
	for _, d := range dets {
		box := boxOf(d.Box, rgb.Width, rgb.Height)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tf := trackedFace{box: box}
		if source != "" {
			tf.thumb = thumbnail(rgb, box)
		}
		if i := match(prev, claimed, tf, now, f.o); i >= 0 {
			claimed[i] = true
			p := prev[i]
			tf.descriptor, tf.anchor, tf.describedAt, tf.reuses = p.descriptor, p.anchor, p.describedAt, p.reuses+1
			f.reused.Add(1)
		} else {
			tf.descriptor = f.nets.Describe(rgb, f.nets.Landmarks(rgb, d))
			tf.anchor, tf.describedAt = tf.thumb, now
			f.described.Add(1)
		}
		found = append(found, Found{Box: box, Confidence: d.Score, Descriptor: tf.descriptor})
		next = append(next, tf)
	}
	if source != "" {
		f.track.store(source, next, now)
	}
	return found, nil
}

// boxOf rounds r to whole pixels inside a w×h image.
func boxOf(r facenet.Rect, w, h int) provider.Box {
	x0 := min(w, max(0, int(math.Round(r.X))))
	y0 := min(h, max(0, int(math.Round(r.Y))))
	x1 := min(w, max(x0, int(math.Round(r.X+r.Width))))
	y1 := min(h, max(y0, int(math.Round(r.Y+r.Height))))
	return provider.Box{X: x0, Y: y0, Width: x1 - x0, Height: y1 - y0}
}
