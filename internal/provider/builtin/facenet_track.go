package builtin

import (
	"container/list"
	"sync"
	"time"

	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/provider"
)

// Tracking parameters: when a face of a source's new frame may take the
// descriptor of a face of its last frame instead of being described again.
const (
	// minTrackIoU is the least overlap (intersection over union) of the
	// two boxes: a face that moved by more than about a sixth of its size
	// is described again.
	minTrackIoU = 0.7
	// thumbSide is the side of the grey thumbnail of a face box compared
	// between frames.
	thumbSide = 16
	// maxThumbDiff is the largest mean absolute difference (grey levels,
	// 0..255) between the face's thumbnail now and when it was described.
	// Sensor noise and JPEG artefacts average out to 1–2 levels over
	// cells of a 40-pixel face or more; a blink, a turned head, an open
	// mouth, a change of light or another person in the box moves many
	// cells by tens of levels and the mean past 6.
	maxThumbDiff = 6.0
)

// trackedFace is a face of a source's last frame.
type trackedFace struct {
	box        provider.Box
	thumb      []uint8 // this frame's thumbnail
	anchor     []uint8 // the thumbnail of the frame it was described in
	descriptor []float32
	// describedAt is when descriptor was computed; reuses counts the
	// frames since that took it without describing.
	describedAt time.Time
	reuses      int
}

// match is the index of the unclaimed face of prev that tf can take the
// descriptor of, or -1: the one overlapping tf most, if by minTrackIoU at
// least, reused fewer than o.MaxReuse times, described less than
// o.MaxReuseAge ago, and whose thumbnail then differs from tf's now by
// less than maxThumbDiff.
func match(prev []trackedFace, claimed []bool, tf trackedFace, now time.Time, o FaceNetOptions) int {
	best, bestIoU := -1, minTrackIoU
	for i, p := range prev {
		if iou := boxIoU(p.box, tf.box); !claimed[i] && iou >= bestIoU {
			best, bestIoU = i, iou
		}
	}
	if best < 0 {
		return -1
	}
	p := prev[best]
	if p.reuses >= o.MaxReuse || now.Sub(p.describedAt) >= o.MaxReuseAge || now.Before(p.describedAt) {
		return -1
	}
	if thumbDiff(p.anchor, tf.thumb) >= maxThumbDiff {
		return -1
	}
	return best
}

// boxIoU is the area of a∩b over the area of a∪b.
func boxIoU(a, b provider.Box) float64 {
	iw := min(a.X+a.Width, b.X+b.Width) - max(a.X, b.X)
	ih := min(a.Y+a.Height, b.Y+b.Height) - max(a.Y, b.Y)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := float64(iw * ih)
	return inter / (float64(a.Width*a.Height+b.Width*b.Height) - inter)
}

// thumbnail is box of img averaged onto thumbSide×thumbSide grey cells.
func thumbnail(img *facenet.Image, box provider.Box) []uint8 {
	t := make([]uint8, thumbSide*thumbSide)
	if box.Width <= 0 || box.Height <= 0 {
		return t
	}
	for cy := range thumbSide {
		y0 := box.Y + cy*box.Height/thumbSide
		y1 := max(y0+1, box.Y+(cy+1)*box.Height/thumbSide)
		for cx := range thumbSide {
			x0 := box.X + cx*box.Width/thumbSide
			x1 := max(x0+1, box.X+(cx+1)*box.Width/thumbSide)
			var sum, n int
			for y := y0; y < min(y1, img.Height); y++ {
				row := img.Pix[3*(y*img.Width):]
				for x := x0; x < min(x1, img.Width); x++ {
					p := row[3*x : 3*x+3]
					sum += 299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])
					n++
				}
			}
			if n > 0 {
				t[cy*thumbSide+cx] = uint8(sum / (1000 * n))
			}
		}
	}
	return t
}

// thumbDiff is the mean absolute difference of two thumbnails; missing
// ones differ entirely.
func thumbDiff(a, b []uint8) float64 {
	if len(a) != thumbSide*thumbSide || len(b) != len(a) {
		return 255
	}
	var sum int
	for i := range a {
		sum += max(int(a[i])-int(b[i]), int(b[i])-int(a[i]))
	}
	return float64(sum) / float64(len(a))
}

// tracker keeps the faces of each source's last frame: at most max
// sources, each forgotten ttl after its last frame, the least recently
// seen first. A stored frame's faces are never changed, only replaced, so
// concurrent frames of one source each read a consistent last frame and
// the last to finish is the one kept.
type tracker struct {
	max int
	ttl time.Duration

	mu      sync.Mutex
	sources map[string]*list.Element // of *sourceFaces
	order   list.List                // front: most recently stored
}

type sourceFaces struct {
	source string
	faces  []trackedFace
	seen   time.Time
}

func newTracker(maxSources int, ttl time.Duration) *tracker {
	return &tracker{max: maxSources, ttl: ttl, sources: map[string]*list.Element{}}
}

// last returns the faces of source's last frame, none when it is unknown
// or was seen more than ttl before now.
func (t *tracker) last(source string, now time.Time) []trackedFace {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.sources[source]
	if !ok {
		return nil
	}
	s := el.Value.(*sourceFaces)
	if now.Sub(s.seen) > t.ttl {
		return nil
	}
	return s.faces
}

// store makes faces source's last frame, seen at now, and forgets the
// sources past ttl or beyond max.
func (t *tracker) store(source string, faces []trackedFace, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.sources[source]; ok {
		el.Value = &sourceFaces{source: source, faces: faces, seen: now}
		t.order.MoveToFront(el)
	} else {
		t.sources[source] = t.order.PushFront(&sourceFaces{source: source, faces: faces, seen: now})
	}
	for el := t.order.Back(); el != nil; el = t.order.Back() {
		s := el.Value.(*sourceFaces)
		if t.order.Len() <= t.max && now.Sub(s.seen) <= t.ttl {
			break
		}
		t.order.Remove(el)
		delete(t.sources, s.source)
	}
}

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}
