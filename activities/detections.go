package activities

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/live"
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

// showLive puts a camera's new detections in the live view and publishes
// them on its channel. Dashboards are a convenience: failures are logged.
func (a *Activities) showLive(ctx context.Context, cameraID string, at time.Time, rows []store.Detection, labels []contract.FrameDetection) {
	if len(rows) == 0 {
		return
	}
	items := make([][]byte, len(rows))
	shown := make([]contract.LiveDetection, len(rows))
	for i := range rows {
		shown[i] = rows[i].Live(labels[i].EmployeeCode, labels[i].Name)
		items[i], _ = json.Marshal(shown[i])
	}
	if a.Recent != nil {
		if err := a.Recent.Add(ctx, cameraID, at, items); err != nil {
			a.Log.Warn("live view not updated", slog.String("camera_id", cameraID), slog.String("error", err.Error()))
		}
	}
	a.publish(ctx, live.DetectionsChannel(cameraID), live.Event{Type: live.EventDetections, Data: shown})
}
