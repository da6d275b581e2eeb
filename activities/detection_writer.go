package activities

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/telemetry"
	"github.com/rollcall/rollcall/store"
)

// DetectionWriter stores the detections of every camera stream of a worker
// in batches: one INSERT per flush, whatever the number of cameras.
type DetectionWriter struct {
	db  *bun.DB
	log *slog.Logger

	// FlushEvery and MaxBatch bound how long a detection waits and how
	// many go in one statement; MaxPending bounds the rows kept while the
	// database is down (the oldest are dropped beyond it).
	FlushEvery time.Duration
	MaxBatch   int
	MaxPending int
	// Blobs, when set, removes the stored frames of detections whose
	// camera was deleted before they were written: its deletion removed
	// the camera's objects already, and nothing would find these.
	Blobs interface {
		Delete(ctx context.Context, key string) error
	}
	// OnWritten, when set, is told of every batch once it is stored (the
	// attendance feeder); it must not block.
	OnWritten func(ctx context.Context, rows []store.Detection)
	// Telemetry counts the stored detections (nil: not counted).
	Telemetry *telemetry.Metrics

	mu      sync.Mutex
	pending []store.Detection
	kick    chan struct{}
	dropped uint64
	written uint64
}

// NewDetectionWriter returns a writer; Run must be running for it to write.
func NewDetectionWriter(db *bun.DB, log *slog.Logger) *DetectionWriter {
	return &DetectionWriter{db: db, log: log, FlushEvery: 250 * time.Millisecond, MaxBatch: 500, MaxPending: 20000,
		kick: make(chan struct{}, 1)}
}

// Add queues detections for the next flush; it never blocks on the database.
func (w *DetectionWriter) Add(rows []store.Detection) {
	if len(rows) == 0 {
		return
	}
	w.mu.Lock()
	w.pending = append(w.pending, rows...)
	if over := len(w.pending) - w.MaxPending; over > 0 {
		w.pending = w.pending[over:]
		w.dropped += uint64(over)
	}
	full := len(w.pending) >= w.MaxBatch
	w.mu.Unlock()
	if full {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// Stats returns the number of detections written and dropped so far.
func (w *DetectionWriter) Stats() (written, dropped uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written, w.dropped
}

// Run flushes until ctx ends, then flushes what is left (with a short
// grace period of its own).
func (w *DetectionWriter) Run(ctx context.Context) {
	t := time.NewTicker(w.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			for w.Flush(final) > 0 && final.Err() == nil {
			}
			cancel()
			return
		case <-t.C:
		case <-w.kick:
		}
		for w.Flush(ctx) >= w.MaxBatch {
		}
	}
}

// Flush writes one batch and returns its size (0 when nothing was
// pending or the write failed; failed rows stay pending).
func (w *DetectionWriter) Flush(ctx context.Context) int {
	w.mu.Lock()
	n := min(len(w.pending), w.MaxBatch)
	batch := make([]store.Detection, n)
	copy(batch, w.pending[:n])
	w.mu.Unlock()
	if n == 0 {
		return 0
	}
	if err := w.insert(ctx, batch); err != nil {
		if ctx.Err() == nil {
			w.log.Warn("detections not stored yet", slog.Int("rows", n), slog.String("error", err.Error()))
		}
		return 0
	}
	w.mu.Lock()
	// Rows added meanwhile were appended after the batch; rows dropped
	// meanwhile came off the front, so find where the batch ends.
	w.pending = w.pending[cutAfter(w.pending, batch[n-1].ID):]
	w.written += uint64(n)
	w.mu.Unlock()
	known := 0
	for _, d := range batch {
		if d.Known {
			known++
		}
	}
	w.Telemetry.DetectionsStored(true, known)
	w.Telemetry.DetectionsStored(false, n-known)
	if w.OnWritten != nil {
		w.OnWritten(ctx, batch)
	}
	return n
}

func cutAfter(rows []store.Detection, lastID string) int {
	for i := range rows {
		if rows[i].ID == lastID {
			return i + 1
		}
	}
	return 0 // the batch's rows were all dropped meanwhile
}

// insert writes a batch. A camera deleted or a profile erased since its
// faces were recognised fails the batch (a reference to a missing row):
// then those references are removed, as their deletion does to stored
// detections, and the batch is written again. The common case costs one
// statement.
func (w *DetectionWriter) insert(ctx context.Context, batch []store.Detection) error {
	err := store.InsertDetections(ctx, w.db, batch)
	if !errors.Is(err, store.ErrMissingReference) {
		return err
	}
	if err := w.unlinkGone(ctx, batch); err != nil {
		return err
	}
	return store.InsertDetections(ctx, w.db, batch)
}

// unlinkGone unlinks the batch's detections from cameras and profiles that
// no longer exist.
func (w *DetectionWriter) unlinkGone(ctx context.Context, batch []store.Detection) error {
	var ids, cams []string
	for _, d := range batch {
		if d.FaceProfileID != nil {
			ids = append(ids, *d.FaceProfileID)
		}
		if d.CameraID != nil {
			cams = append(cams, *d.CameraID)
		}
	}
	if len(cams) > 0 {
		exist, err := store.ExistingCameraIDs(ctx, w.db, cams)
		if err != nil {
			return err
		}
		for i := range batch {
			if c := batch[i].CameraID; c != nil && !exist[*c] {
				batch[i].CameraID = nil
				w.dropFrame(ctx, &batch[i])
			}
		}
	}
	if len(ids) > 0 {
		exist, err := store.FaceNames(ctx, w.db, ids)
		if err != nil {
			return err
		}
		for i := range batch {
			if p := batch[i].FaceProfileID; p != nil {
				if _, ok := exist[*p]; !ok {
					batch[i].FaceProfileID, batch[i].Known = nil, false
				}
			}
		}
	}
	return nil
}

// dropFrame removes the stored frame of a deleted camera's detection.
func (w *DetectionWriter) dropFrame(ctx context.Context, d *store.Detection) {
	if w.Blobs == nil || d.SnapshotKey == "" {
		return
	}
	if err := w.Blobs.Delete(ctx, d.SnapshotKey); err != nil {
		w.log.Warn("frame of a deleted camera not removed", slog.String("key", d.SnapshotKey), slog.String("error", err.Error()))
		return
	}
	d.SnapshotKey = ""
}
