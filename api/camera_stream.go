package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// CodeStreamNotRunning says a camera has no running stream workflow.
const CodeStreamNotRunning = "stream-not-running"

// CameraStreamOutput is a camera's stream as its workflow reports it.
type CameraStreamOutput struct {
	Body struct {
		Running    bool                         `json:"running" doc:"Whether the camera's stream workflow runs (it does while the camera is active)"`
		WorkflowID string                       `json:"workflowId" doc:"Find the run in the Temporal UI"`
		Status     *contract.CameraStreamStatus `json:"status,omitempty" doc:"The workflow's status query; counters are reported by the stream about every 30 s"`
	}
}

func registerCameraStream(api huma.API, s *Server) {
	register(api, op{ID: "get-camera-stream", Method: http.MethodGet, Path: "/cameras/{id}/stream", Tag: "Cameras", Perm: auth.PermCamerasRead,
		Summary: "Get the state of a camera's stream: frames read, sent and dropped, faces, failures",
		Desc:    "Answers the stream workflow's status query. A camera that is not active has no stream: running is false."},
		s.getCameraStream)
	register(api, op{ID: "pause-camera-stream", Method: http.MethodPost, Path: "/cameras/{id}/stream/pause", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Stop sampling an active camera for now", Status: http.StatusAccepted,
		Desc: "Signals the stream workflow, which closes the stream within about 2 s and keeps the camera active. " +
			"409 stream-not-running if the camera is not active."},
		s.pauseCameraStream)
	register(api, op{ID: "resume-camera-stream", Method: http.MethodPost, Path: "/cameras/{id}/stream/resume", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Sample a paused camera again", Status: http.StatusAccepted,
		Desc: "Signals the stream workflow to open the stream again. 409 stream-not-running if the camera is not active."},
		s.resumeCameraStream)
	register(api, op{ID: "restart-camera-stream", Method: http.MethodPost, Path: "/cameras/{id}/stream/restart", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Reopen an active camera's stream now", Status: http.StatusAccepted,
		Desc: "Signals the stream workflow to close and reopen the stream at once (a failure's backoff is skipped); starts the workflow if it is not running. " +
			"409 stream-not-running if the camera is not active."},
		s.restartCameraStream)
}

func (s *Server) getCameraStream(ctx context.Context, in *CameraIDInput) (*CameraStreamOutput, error) {
	if _, err := store.FindCameraByID(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "camera")
	}
	out := &CameraStreamOutput{}
	out.Body.WorkflowID = workflows.CameraStreamWorkflowID(in.ID)
	st, err := s.streams.Status(ctx, in.ID)
	switch {
	case errors.Is(err, rctemporal.ErrStreamNotRunning):
		return out, nil
	case err != nil:
		return nil, s.streamUnavailable(ctx, err)
	}
	out.Body.Running, out.Body.Status = true, &st
	return out, nil
}

func (s *Server) pauseCameraStream(ctx context.Context, in *CameraIDInput) (*CameraStreamOutput, error) {
	return s.signalCameraStream(ctx, in.ID, s.streams.Pause)
}

func (s *Server) resumeCameraStream(ctx context.Context, in *CameraIDInput) (*CameraStreamOutput, error) {
	return s.signalCameraStream(ctx, in.ID, s.streams.Resume)
}

func (s *Server) restartCameraStream(ctx context.Context, in *CameraIDInput) (*CameraStreamOutput, error) {
	return s.signalCameraStream(ctx, in.ID, func(ctx context.Context, id string) error {
		if _, err := s.streams.Status(ctx, id); errors.Is(err, rctemporal.ErrStreamNotRunning) {
			return s.streams.Start(ctx, id)
		}
		return s.streams.Reconfigure(ctx, id)
	})
}

func (s *Server) signalCameraStream(ctx context.Context, id string, signal func(context.Context, string) error) (*CameraStreamOutput, error) {
	c, err := store.FindCameraByID(ctx, s.db, id)
	if err != nil {
		return nil, problemFor(err, "camera")
	}
	notRunning := newProblem(http.StatusConflict, CodeStreamNotRunning, "the camera is "+c.State+"; only an active camera has a stream")
	if c.State != camera.StateActive {
		return nil, notRunning
	}
	switch err := signal(ctx, id); {
	case errors.Is(err, rctemporal.ErrStreamNotRunning):
		return nil, newProblem(http.StatusConflict, CodeStreamNotRunning, "the camera's stream workflow is not running yet; the reconciler starts it within a minute")
	case err != nil:
		return nil, s.streamUnavailable(ctx, err)
	}
	out := &CameraStreamOutput{}
	out.Body.Running, out.Body.WorkflowID = true, workflows.CameraStreamWorkflowID(id)
	return out, nil
}

func (s *Server) streamUnavailable(ctx context.Context, err error) error {
	s.log.ErrorContext(ctx, "camera stream workflow unreachable", slog.String("error", err.Error()))
	return newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the workflow service is unavailable; try again shortly")
}
