package blob

import (
	"fmt"
	"time"
)

// Object keys. Every object Rollcall stores is named here, so the prefixes
// that deletions remove (a camera's, a face profile's) cover what the
// writers put under them. Times become UTC; the functions are pure, so
// workflow code may call them.

// CameraPrefix holds everything stored for one camera (snapshots and
// detection frames); deleting the camera removes it.
func CameraPrefix(cameraID string) string { return "cameras/" + cameraID + "/" }

// SnapshotKey is where a snapshot taken at t is stored: grouped by camera
// and day, unique per workflow run (its first 8 characters).
func SnapshotKey(cameraID string, t time.Time, runID string) string {
	t = t.UTC()
	if len(runID) > 8 {
		runID = runID[:8]
	}
	return fmt.Sprintf("%ssnapshots/%s/%s-%s.jpg", CameraPrefix(cameraID), t.Format("2006/01/02"), t.Format("150405.000"), runID)
}

// DetectionFrameKey is where the frame of a stream detection taken at t is
// kept; unique is a short random suffix chosen by the caller.
func DetectionFrameKey(cameraID string, t time.Time, unique string) string {
	return fmt.Sprintf("%sdetections/%s-%s.jpg", CameraPrefix(cameraID), t.UTC().Format("2006/01/02/150405.000"), unique)
}

// FrameKey is where a frame sent for detection (or captured for it) is
// stored; name is one request's ID, made safe for a key.
func FrameKey(t time.Time, name, ext string) string {
	return fmt.Sprintf("frames/%s/%s.%s", t.UTC().Format("2006/01/02"), SafeSegment(name), ext)
}

// FacePrefix holds a face profile's images; erasing the profile removes it.
func FacePrefix(profileID string) string { return "faces/" + profileID + "/" }

// FaceImageKey is where a face image is stored (png or jpg by its type).
func FaceImageKey(profileID, imageID, contentType string) string {
	ext := "jpg"
	if contentType == "image/png" {
		ext = "png"
	}
	return FacePrefix(profileID) + imageID + "." + ext
}

// ExportKey is where an export's file is stored.
func ExportKey(exportID, format string) string { return "exports/" + exportID + "." + format }

// SafeSegment makes s usable as one key segment: anything but letters,
// digits, '-' and '_' becomes '_'.
func SafeSegment(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '_'
		}
	}
	return string(out)
}
