package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/store"
)

// LiveDetectionsBody is the live view.
type LiveDetectionsBody = live.View[contract.LiveDetection]

// LiveDetectionsInput filters GET /detections/live.
type LiveDetectionsInput struct {
	CameraID string `query:"cameraId" format:"uuid" doc:"Only this camera"`
}

func registerLiveDetections(api huma.API, s *Server) {
	register(api, op{ID: "live-detections", Method: http.MethodGet, Path: "/detections/live", Tag: "Detections", Perm: auth.PermDetectionsRead,
		Summary: "The latest detections of each camera", RawJSON: LiveDetectionsBody{},
		Desc: "Each camera active in the freshness window with its latest detections, newest first. Served from a " +
			"write-through view in Redis (cached in process and invalidated by Redis), falling back to PostgreSQL."},
		s.liveDetections)
}

func (s *Server) liveDetections(ctx context.Context, in *LiveDetectionsInput) (*RawJSON, error) {
	if s.recent != nil {
		body, err := s.recent.Snapshot(ctx, in.CameraID, s.now())
		if err == nil {
			return rawJSON(body), nil
		}
		s.log.WarnContext(ctx, "live view unavailable; reading detections from the database", slog.String("error", err.Error()))
	}
	body, err := s.liveFromDB(ctx, in.CameraID)
	if err != nil {
		return nil, err
	}
	return rawJSON(body), nil
}

// liveFromDB builds the live view from PostgreSQL in the same shape.
func (s *Server) liveFromDB(ctx context.Context, cameraID string) ([]byte, error) {
	window := live.DefaultWindow
	if s.recent != nil {
		window = s.recent.Window()
	}
	rows, err := store.RecentDetections(ctx, s.db, s.now().Add(-window), cameraID, live.DefaultPerCamera)
	if err != nil {
		return nil, err
	}
	out := LiveDetectionsBody{WindowSeconds: int(window.Seconds()), Cameras: []live.CameraView[contract.LiveDetection]{}}
	for _, r := range rows {
		cam := *r.CameraID
		if n := len(out.Cameras); n == 0 || out.Cameras[n-1].CameraID != cam {
			out.Cameras = append(out.Cameras, live.CameraView[contract.LiveDetection]{CameraID: cam, LastAt: r.DetectedAt})
		}
		c := &out.Cameras[len(out.Cameras)-1]
		c.Detections = append(c.Detections, r.Live(r.EmployeeCode, r.Name))
	}
	slices.SortStableFunc(out.Cameras, func(a, b live.CameraView[contract.LiveDetection]) int { return b.LastAt.Compare(a.LastAt) })
	return json.Marshal(out)
}
