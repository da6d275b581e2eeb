package activities

import (
	"time"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/store"
)

// frameFaces makes the faces a provider found in one frame stored
// detections and their labels — the one place a face becomes a detection,
// for camera streams and send-frame alike. ids gives each face its ID;
// names are the profiles of the frame's subjects (ProfileNames.Lookup);
// cameraID is "" for an uploaded frame.
func frameFaces(faces []provider.Face, ids func(i int) string, at time.Time, cameraID, snapshotKey, source string,
	names map[string]store.FaceProfile) ([]store.Detection, []contract.FrameDetection) {
	rows := make([]store.Detection, len(faces))
	labels := make([]contract.FrameDetection, len(faces))
	for i, f := range faces {
		d := store.Detection{ID: ids(i), DetectedAt: at, Similarity: f.Similarity, DetectionConfidence: f.DetectionConfidence,
			BoxX: f.Box.X, BoxY: f.Box.Y, BoxWidth: f.Box.Width, BoxHeight: f.Box.Height, SnapshotKey: snapshotKey, Source: source}
		if cameraID != "" {
			cam := cameraID
			d.CameraID = &cam
		}
		l := contract.FrameDetection{ID: d.ID, Similarity: f.Similarity, Confidence: f.DetectionConfidence, Box: f.Box}
		if p, ok := names[f.Subject]; ok && f.Subject != "" {
			id := p.ID
			d.FaceProfileID, d.Known = &id, true
			l.Known, l.FaceProfileID, l.EmployeeCode, l.Name = true, p.ID, p.EmployeeCode, p.Name
		}
		rows[i], labels[i] = d, l
	}
	return rows, labels
}

// subjectsOf lists the provider subjects of a frame's faces.
func subjectsOf(faces []provider.Face) []string {
	out := make([]string, 0, len(faces))
	for _, f := range faces {
		if f.Subject != "" {
			out = append(out, f.Subject)
		}
	}
	return out
}
