package activities_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// Detections of a camera deleted, or of a person erased, after their frame
// was read are stored unlinked, as the deletion leaves stored ones; they
// never fail the batch of the other cameras.
func TestDetectionWriterUnlinksDeletedRows(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	w := activities.NewDetectionWriter(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	blobs := testBlobs(t)
	w.Blobs = blobs
	cams := make([]string, 2)
	for i := range cams {
		c := &store.Camera{ID: uuid.NewString(), Name: "Cam " + string(rune('A'+i)), StreamURL: "rtsp://10.0.0.1/" + string(rune('a'+i)),
			Direction: camera.DirectionBoth, FPS: 1, Timezone: "UTC", State: camera.StateActive, Health: camera.HealthUnknown}
		if err := store.CreateCamera(ctx, db, c); err != nil {
			t.Fatal(err)
		}
		cams[i] = c.ID
	}
	people := make([]string, 2)
	for i := range people {
		p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "E-" + string(rune('1'+i)), Name: "P", Status: contract.FaceStatusActive}
		if err := store.CreateFaceProfile(ctx, db, p); err != nil {
			t.Fatal(err)
		}
		people[i] = p.ID
	}
	at := time.Now().UTC()
	row := func(cam, person string) store.Detection {
		d := store.Detection{ID: uuid.NewString(), DetectedAt: at, CameraID: &cam, Source: store.DetectionSourceStream}
		if person != "" {
			d.FaceProfileID, d.Known = &person, true
		}
		return d
	}
	// Both cameras' detections come with a stored frame.
	rows := []store.Detection{row(cams[0], people[0]), row(cams[1], people[1]), row(cams[0], "")}
	for i := range rows {
		rows[i].SnapshotKey = "cameras/" + *rows[i].CameraID + "/detections/" + rows[i].ID + ".jpg"
		if err := blobs.Put(ctx, rows[i].SnapshotKey, strings.NewReader("jpeg"), 4, "image/jpeg"); err != nil {
			t.Fatal(err)
		}
	}
	w.Add(rows)
	if err := store.DeleteCamera(ctx, db, cams[1]); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteFaceProfile(ctx, db, people[0]); err != nil {
		t.Fatal(err)
	}

	if n := w.Flush(ctx); n != 3 {
		t.Fatalf("flushed %d rows, want 3", n)
	}
	if written, dropped := w.Stats(); written != 3 || dropped != 0 {
		t.Fatalf("written %d, dropped %d", written, dropped)
	}
	var stored []store.Detection
	if err := db.NewSelect().Model(&stored).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var unlinkedCamera, unlinkedPerson, known int
	for _, d := range stored {
		if d.CameraID == nil {
			unlinkedCamera++
			// The deleted camera's frame went with it.
			if d.SnapshotKey != "" || objectExists(ctx, blobs, rows[1].SnapshotKey) {
				t.Errorf("frame of a deleted camera kept: %q", d.SnapshotKey)
			}
		} else if d.SnapshotKey == "" || !objectExists(ctx, blobs, d.SnapshotKey) {
			t.Errorf("frame %q of a camera lost", d.SnapshotKey)
		}
		if d.FaceProfileID == nil && d.CameraID != nil && *d.CameraID == cams[0] {
			unlinkedPerson++
		}
		if d.Known {
			known++
			if d.FaceProfileID == nil || *d.FaceProfileID != people[1] {
				t.Errorf("known detection of %v", d.FaceProfileID)
			}
		}
	}
	if len(stored) != 3 || unlinkedCamera != 1 || unlinkedPerson != 2 || known != 1 {
		t.Fatalf("%d rows: %d without camera, %d of camera A without person, %d known", len(stored), unlinkedCamera, unlinkedPerson, known)
	}
	if n := w.Flush(ctx); n != 0 {
		t.Fatalf("a second flush wrote %d rows", n)
	}
}

// While the database refuses writes, rows wait (up to MaxPending, the
// oldest dropped beyond) and are written once it accepts them again.
func TestDetectionWriterKeepsRowsUntilWritten(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	w := activities.NewDetectionWriter(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.MaxPending = 5
	if _, err := db.ExecContext(ctx, "ALTER TABLE detections ADD CONSTRAINT refuse_all CHECK (false) NOT VALID"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 7 {
		d := store.Detection{ID: uuid.NewString(), DetectedAt: time.Now().UTC(), Source: store.DetectionSourceStream}
		ids = append(ids, d.ID)
		w.Add([]store.Detection{d})
	}
	if n := w.Flush(ctx); n != 0 {
		t.Fatalf("flushed %d rows into a refusing table", n)
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE detections DROP CONSTRAINT refuse_all"); err != nil {
		t.Fatal(err)
	}
	if n := w.Flush(ctx); n != 5 {
		t.Fatalf("flushed %d rows, want the 5 newest", n)
	}
	var stored []string
	if err := db.NewSelect().Model((*store.Detection)(nil)).Column("id").Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if written, dropped := w.Stats(); written != 5 || dropped != 2 || len(stored) != 5 {
		t.Fatalf("written %d, dropped %d, stored %d", written, dropped, len(stored))
	}
	for _, id := range ids[:2] {
		for _, s := range stored {
			if s == id {
				t.Fatalf("the oldest row %s was kept", id)
			}
		}
	}
}

func objectExists(ctx context.Context, blobs *blob.Store, key string) bool {
	r, err := blobs.Get(ctx, key)
	if err != nil {
		return false
	}
	defer r.Close()
	_, err = io.ReadAll(r)
	return err == nil
}
