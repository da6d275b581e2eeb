package activities

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/telemetry"
	"github.com/rollcall/rollcall/store"
)

// AttendanceFeeder turns the recognitions of a worker's streams into
// attendance in the background. Offer never blocks a stream: a bounded
// queue absorbs bursts and a few writers apply the rules against
// PostgreSQL (store.RecordRecognition, which logs each pass once however
// many workers see it). Most recognitions are the same pass seen again, a
// frame a second: a recognition within the cooldown of a log this worker
// already knows is settled in memory, without a query. Each new log is
// published on the attendance channel.
type AttendanceFeeder struct {
	db      *bun.DB
	rules   attendance.Rules
	live    Publisher
	log     *slog.Logger
	workers int
	queue   chan store.RecognitionInput

	mu      sync.Mutex
	known   map[string][]time.Time // person → times of logs known here, newest last
	cameras map[string]cameraFacts

	dropped, logged, settled atomic.Int64

	// Telemetry counts the logs created (nil: not counted).
	Telemetry *telemetry.Metrics
}

// knownPerPerson bounds the log times kept per person.
const knownPerPerson = 8

// NewAttendanceFeeder returns a feeder with queue places and workers
// writers; Run starts it. live may be nil.
func NewAttendanceFeeder(db *bun.DB, rules attendance.Rules, live Publisher, log *slog.Logger, queue, workers int) *AttendanceFeeder {
	return &AttendanceFeeder{db: db, rules: rules, live: live, log: log, workers: max(workers, 1),
		queue: make(chan store.RecognitionInput, max(queue, 1)), known: map[string][]time.Time{}}
}

// Offer hands a recognition over. It returns false, counting a drop, when
// the queue is full (PostgreSQL cannot keep up); the next frame of the
// same person offers the pass again.
func (f *AttendanceFeeder) Offer(in store.RecognitionInput) bool {
	rec := attendance.Recognition{PersonID: in.FaceProfileID, CameraDirection: in.CameraDirection, At: in.At, Similarity: in.Similarity}
	if d := attendance.Decide(f.rules, rec, nil); !d.Logged() && d.Skip != attendance.SkipTooSoon {
		return true // unknown face, below threshold, no direction: never attendance
	}
	if f.settledHere(in.FaceProfileID, in.At) {
		f.settled.Add(1)
		return true
	}
	select {
	case f.queue <- in:
		return true
	default:
		f.dropped.Add(1)
		return false
	}
}

// settledHere reports whether a log known here absorbs a recognition at t.
func (f *AttendanceFeeder) settledHere(person string, t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.known[person] {
		if d := t.Sub(k); d > -f.rules.Cooldown && d < f.rules.Cooldown {
			return true
		}
	}
	return false
}

func (f *AttendanceFeeder) remember(person string, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks := append(f.known[person], t)
	slices.SortFunc(ks, func(a, b time.Time) int { return a.Compare(b) })
	if len(ks) > knownPerPerson {
		ks = ks[len(ks)-knownPerPerson:]
	}
	f.known[person] = ks
}

// Run writes queued recognitions until ctx ends.
func (f *AttendanceFeeder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range f.workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case in := <-f.queue:
					f.record(ctx, in)
				}
			}
		})
	}
	wg.Wait()
}

func (f *AttendanceFeeder) record(ctx context.Context, in store.RecognitionInput) {
	if f.settledHere(in.FaceProfileID, in.At) { // a log written since it was queued
		f.settled.Add(1)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l, d, err := store.RecordRecognition(wctx, f.db, f.rules, in)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("attendance: recognition not recorded", slog.String("detection_id", in.DetectionID), slog.String("error", err.Error()))
		}
		return
	}
	switch {
	case l != nil:
		f.logged.Add(1)
		f.Telemetry.AttendanceLogCreated(l.Direction)
		f.remember(in.FaceProfileID, l.LoggedAt)
		if f.live != nil {
			if err := f.live.Publish(wctx, live.ChannelAttendance, live.Event{Type: attendance.EventLogCreated, Data: l.View()}); err != nil {
				f.log.Warn("attendance: publish failed", slog.String("error", err.Error()))
			}
		}
	case d.Skip == attendance.SkipCooldown && !d.Near.IsZero():
		f.remember(in.FaceProfileID, d.Near)
	}
}

// cameraFacts are what attendance needs of a camera.
type cameraFacts struct {
	direction, timezone, site string
	until                     time.Time
}

// cameraFor returns a camera's direction, zone and site, remembered for
// 30 s so a stream's frames cost no query (false: the camera is gone).
func (f *AttendanceFeeder) cameraFor(ctx context.Context, id string) (cameraFacts, bool) {
	now := time.Now()
	f.mu.Lock()
	c, ok := f.cameras[id]
	f.mu.Unlock()
	if ok && now.Before(c.until) {
		return c, c.direction != ""
	}
	cam, err := store.FindCameraByID(ctx, f.db, id)
	if err != nil {
		c = cameraFacts{until: now.Add(30 * time.Second)}
	} else {
		c = cameraFacts{direction: cam.Direction, timezone: cam.Timezone, site: cam.Site, until: now.Add(30 * time.Second)}
	}
	f.mu.Lock()
	if f.cameras == nil {
		f.cameras = map[string]cameraFacts{}
	}
	f.cameras[id] = c
	f.mu.Unlock()
	return c, c.direction != ""
}

// OfferDetections offers the known faces of stored detections (a
// DetectionWriter's OnWritten hook): each with its camera's direction,
// zone and site. Detections without a camera or a person are skipped.
func (f *AttendanceFeeder) OfferDetections(ctx context.Context, ds []store.Detection) {
	for i := range ds {
		d := &ds[i]
		if !d.Known || d.FaceProfileID == nil || d.CameraID == nil {
			continue
		}
		cam, ok := f.cameraFor(ctx, *d.CameraID)
		if !ok {
			continue
		}
		f.Offer(store.RecognitionInput{DetectionID: d.ID, FaceProfileID: *d.FaceProfileID, CameraID: *d.CameraID,
			CameraDirection: cam.direction, Timezone: cam.timezone, Site: cam.site, At: d.DetectedAt,
			Similarity: d.Similarity, SnapshotKey: d.SnapshotKey})
	}
}
