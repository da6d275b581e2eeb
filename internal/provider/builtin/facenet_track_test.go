package builtin_test

import (
	"fmt"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// clock is a settable time for FaceNetOptions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var stillAnn = fakeFace{x: 200, y: 120, w: 160, h: 200, person: 1, green: 50, score: 0.9}

// tracked returns a FaceNet on fakeNets with a clock, and a function that
// finds the faces of pic from source and returns how many were described
// (not reused) by that call.
func tracked(t *testing.T, o builtin.FaceNetOptions) (*builtin.FaceNet, *clock, func(source string, pic image.Image) int) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	o.Now = c.now
	f := builtin.NewFaceNet(&fakeNets{}, o)
	return f, c, func(source string, pic image.Image) int {
		t.Helper()
		before := f.Stats().Described
		if _, err := f.Find(t.Context(), pic, source); err != nil {
			t.Fatal(err)
		}
		return int(f.Stats().Described - before)
	}
}

// TestTrackingReusesAStillFaceForMaxReuseFrames: a face that stays put is
// described once, reused for MaxReuse frames, then described again.
func TestTrackingReusesAStillFaceForMaxReuseFrames(t *testing.T) {
	f, c, find := tracked(t, builtin.FaceNetOptions{})
	pic := fakePicture(640, 480, stillAnn)
	var described []int
	for range 1 + builtin.DefaultMaxReuse + 1 {
		described = append(described, find("cam-1", pic))
		c.add(100 * time.Millisecond)
	}
	want := make([]int, len(described))
	want[0], want[len(want)-1] = 1, 1
	if fmt.Sprint(described) != fmt.Sprint(want) {
		t.Fatalf("faces described per frame %v, want %v", described, want)
	}
	if s := f.Stats(); s.Reused != uint64(builtin.DefaultMaxReuse) || s.Sources != 1 {
		t.Fatalf("stats %+v", s)
	}
	// The reused descriptor is the one described.
	found, _ := f.Find(t.Context(), pic, "cam-1")
	if found[0].Descriptor[1] != 1 || found[0].Descriptor[127] != 0.5 {
		t.Fatalf("reused descriptor is not ann's")
	}
}

func TestTrackingDescribesAgain(t *testing.T) {
	moved, changed, nudged, slid := stillAnn, stillAnn, stillAnn, stillAnn
	moved.x += 40       // IoU 120·200 / (2·160·200 − 120·200) = 0.6
	slid.x += 20        // IoU 0.78
	changed.green += 80 // she turned, blinked or the light changed
	nudged.green += 3   // sensor noise
	for _, tc := range []struct {
		name     string
		next     image.Image
		after    time.Duration
		source   string
		describe int
	}{
		{"the same face a moment later is reused", fakePicture(640, 480, stillAnn), time.Second, "cam-1", 0},
		{"a little noise is reused", fakePicture(640, 480, nudged), time.Second, "cam-1", 0},
		{"a small slide is reused", fakePicture(640, 480, slid), time.Second, "cam-1", 0},
		{"a face that moved", fakePicture(640, 480, moved), time.Second, "cam-1", 1},
		{"a face that changed", fakePicture(640, 480, changed), time.Second, "cam-1", 1},
		{"after MaxReuseAge", fakePicture(640, 480, stillAnn), builtin.DefaultMaxReuseAge, "cam-1", 1},
		{"another camera", fakePicture(640, 480, stillAnn), time.Second, "cam-2", 1},
		{"no source", fakePicture(640, 480, stillAnn), time.Second, "", 1},
		{"a source forgotten after SourceTTL", fakePicture(640, 480, stillAnn), builtin.DefaultSourceTTL + time.Second, "cam-1", 1},
		{"a second face joins", fakePicture(640, 480, stillAnn, fakeFace{x: 450, y: 100, w: 120, h: 150, person: 2, score: 0.9}), time.Second, "cam-1", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c, find := tracked(t, builtin.FaceNetOptions{MaxReuseAge: builtin.DefaultMaxReuseAge})
			if n := find("cam-1", fakePicture(640, 480, stillAnn)); n != 1 {
				t.Fatalf("first frame: %d described", n)
			}
			c.add(tc.after)
			if n := find(tc.source, tc.next); n != tc.describe {
				t.Fatalf("%d faces described, want %d", n, tc.describe)
			}
		})
	}
}

// TestTrackingKeepsBoundedSources: at most TrackedSources cameras are
// remembered, the least recently seen forgotten first.
func TestTrackingKeepsBoundedSources(t *testing.T) {
	f, _, find := tracked(t, builtin.FaceNetOptions{TrackedSources: 2})
	pic := fakePicture(640, 480, stillAnn)
	for _, cam := range []string{"cam-1", "cam-2", "cam-3"} {
		find(cam, pic)
	}
	if s := f.Stats().Sources; s != 2 {
		t.Fatalf("%d sources tracked, want 2", s)
	}
	if n := find("cam-3", pic); n != 0 {
		t.Errorf("cam-3, seen last: %d described, want reuse", n)
	}
	if n := find("cam-1", pic); n != 1 {
		t.Errorf("cam-1, forgotten: %d described, want 1", n)
	}
}

// TestTrackingIsSafeForConcurrentFrames: frames of the same cameras found
// concurrently (run with -race) each get their own people's descriptors,
// and every face is either described or reused.
func TestTrackingIsSafeForConcurrentFrames(t *testing.T) {
	f := builtin.NewFaceNet(&fakeNets{}, builtin.FaceNetOptions{})
	pics := []image.Image{
		fakePicture(320, 240, fakeFace{x: 20, y: 20, w: 100, h: 120, person: 1, score: 0.9}),
		fakePicture(320, 240, fakeFace{x: 20, y: 20, w: 100, h: 120, person: 2, score: 0.9}, fakeFace{x: 180, y: 40, w: 90, h: 110, person: 3, score: 0.9}),
	}
	const goroutines, frames = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range frames {
				k := (g + i) % len(pics)
				found, err := f.Find(t.Context(), pics[k], fmt.Sprintf("cam-%d", i%3))
				if err != nil {
					errs <- err
					return
				}
				for j, face := range found {
					if person := 1 + k + j; face.Descriptor[person] != 1 {
						errs <- fmt.Errorf("picture %d face %d: descriptor of another person", k, j)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s := f.Stats()
	if total := s.Described + s.Reused; total != goroutines*frames*3/2 {
		t.Fatalf("described %d + reused %d = %d faces, want %d", s.Described, s.Reused, total, goroutines*frames*3/2)
	}
}
