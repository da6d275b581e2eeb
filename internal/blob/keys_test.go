package blob

import (
	"strings"
	"testing"
	"time"
)

func TestSnapshotKey(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name  string
		at    time.Time
		runID string
		want  string
	}{
		{"UTC", time.Date(2031, 2, 3, 4, 5, 6, 789_000_000, time.UTC), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
			"cameras/c1/snapshots/2031/02/03/040506.789-0f1e2d3c.jpg"},
		{"local time becomes the UTC day", time.Date(2031, 2, 4, 0, 30, 0, 0, paris), "abcdef0123",
			"cameras/c1/snapshots/2031/02/03/233000.000-abcdef01.jpg"},
		{"short run ID kept whole", time.Date(2031, 12, 31, 23, 59, 59, 0, time.UTC), "run1",
			"cameras/c1/snapshots/2031/12/31/235959.000-run1.jpg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SnapshotKey("c1", tc.at, tc.runID); got != tc.want {
				t.Errorf("SnapshotKey = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestKeysStayUnderTheirPrefix: deleting a camera removes its prefix, and
// erasing a face profile removes its own, so what is stored for them must
// be under it (and not under another camera's whose ID starts the same).
func TestKeysStayUnderTheirPrefix(t *testing.T) {
	at := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, tc := range []struct{ key, prefix, other string }{
		{SnapshotKey("c1", at, "run-1"), CameraPrefix("c1"), CameraPrefix("c")},
		{DetectionFrameKey("c1", at, "ab12cd34"), CameraPrefix("c1"), CameraPrefix("c")},
		{FaceImageKey("p1", "i1", "image/png"), FacePrefix("p1"), FacePrefix("p")},
		{FaceImageKey("p1", "i2", "image/jpeg"), FacePrefix("p1"), FacePrefix("p")},
	} {
		if !strings.HasPrefix(tc.key, tc.prefix) || strings.HasPrefix(tc.key, tc.other) {
			t.Errorf("%q: want under %q and not under %q", tc.key, tc.prefix, tc.other)
		}
	}
	if got := FaceImageKey("p1", "i1", "image/png"); got != "faces/p1/i1.png" {
		t.Errorf("FaceImageKey = %q", got)
	}
	if got := DetectionFrameKey("c1", at.In(time.FixedZone("X", 3600)), "ab"); got != "cameras/c1/detections/2031/02/03/040506.000-ab.jpg" {
		t.Errorf("DetectionFrameKey = %q", got)
	}
	if got := FrameKey(at, "detect-frame/9f0e", "jpg"); got != "frames/2031/02/03/detect-frame_9f0e.jpg" {
		t.Errorf("FrameKey = %q", got)
	}
	if got := ExportKey("e1", "xlsx"); got != "exports/e1.xlsx" {
		t.Errorf("ExportKey = %q", got)
	}
}
