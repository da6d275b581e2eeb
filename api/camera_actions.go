package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// SetCameraStateInput is PATCH /cameras/{id}/state.
type SetCameraStateInput struct {
	ID   string `path:"id" format:"uuid"`
	Body struct {
		State  string `json:"state" enum:"active,inactive,maintenance"`
		Reason string `json:"reason,omitempty" maxLength:"200" doc:"Recorded with the state change"`
	}
}

// TestConnectionOutput is the result of a connection test.
type TestConnectionOutput struct {
	Body struct {
		OK         bool            `json:"ok"`
		Stream     *StreamInfoBody `json:"stream,omitempty"`
		LatencyMs  int64           `json:"latencyMs"`
		Code       string          `json:"code,omitempty" enum:"unreachable,auth_failed,not_found,unsupported_codec,timeout,invalid_input,failed" doc:"Why the test failed"`
		Message    string          `json:"message,omitempty"`
		Health     string          `json:"health" enum:"online,offline,unknown,error" doc:"The camera's health after the test"`
		WorkflowID string          `json:"workflowId" doc:"Find the run in the Temporal UI"`
	}
}

// SnapshotOutput is a stored snapshot.
type SnapshotOutput struct {
	Body struct {
		Key        string    `json:"key" example:"cameras/6f1c…/snapshots/2026/11/25/101502.123-9a8b7c6d.jpg"`
		URL        string    `json:"url" doc:"Presigned GET URL"`
		ExpiresAt  time.Time `json:"expiresAt"`
		SizeBytes  int64     `json:"sizeBytes"`
		TakenAt    time.Time `json:"takenAt"`
		WorkflowID string    `json:"workflowId"`
	}
}

func registerCameraActions(api huma.API, s *Server) {
	register(api, op{ID: "set-camera-state", Method: http.MethodPatch, Path: "/cameras/{id}/state", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Activate, deactivate or put a camera in maintenance",
		Desc:    "Active starts the camera's stream workflow; any other state stops it. The change is recorded as a camera event."},
		s.setCameraState)
	register(api, op{ID: "test-camera-connection", Method: http.MethodPost, Path: "/cameras/{id}/test-connection", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Probe the camera's stream (codec, resolution, fps)",
		Desc:    "Runs the CameraProbe workflow and waits for it. A camera that cannot be reached is a 200 with ok=false and a code; the camera's health is updated either way."},
		s.testCameraConnection)
	register(api, op{ID: "take-camera-snapshot", Method: http.MethodPost, Path: "/cameras/{id}/snapshot", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Capture one frame to the object store and return a presigned URL",
		Desc: "Runs the CameraSnapshot workflow and waits for it. Camera failures answer 502 with code camera-unreachable, " +
			"camera-auth-failed, camera-stream-not-found, camera-unsupported-codec, camera-invalid-input, camera-timeout or camera-failed; " +
			"stored credentials that cannot be decrypted answer 409 credentials-unreadable."},
		s.takeCameraSnapshot)
}

func (s *Server) setCameraState(ctx context.Context, in *SetCameraStateInput) (*CameraOutput, error) {
	p := auth.PrincipalFromContext(ctx)
	msg := "set by " + p.Username
	if r := strings.TrimSpace(in.Body.Reason); r != "" {
		msg += ": " + r
	}
	c, prev, err := store.SetCameraState(ctx, s.db, in.ID, in.Body.State, msg, s.now())
	if err != nil {
		return nil, problemFor(err, "camera")
	}
	switch {
	case c.State == camera.StateActive && prev != camera.StateActive:
		s.startStream(ctx, c.ID)
	case c.State != camera.StateActive && prev == camera.StateActive:
		s.stopStream(ctx, c.ID)
	}
	return &CameraOutput{Body: cameraBody(c)}, nil
}

// runWorkflow starts a per-request workflow and waits (bounded) for its result.
func (s *Server) runWorkflow(ctx context.Context, id string, wf any, arg, result any) error {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.WorkflowWait)
	defer cancel()
	// IDs are the server's own (newRunID): a client's X-Request-ID only
	// travels in the memo, for correlation, and never joins another run.
	run, err := s.temporal.ExecuteWorkflow(wctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                rctemporal.TaskQueueDefault,
		WorkflowExecutionTimeout:                 5 * time.Minute,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		Memo:                                     map[string]any{"requestId": infoFrom(ctx).RequestID},
	}, wf, arg)
	if err != nil {
		s.log.ErrorContext(ctx, "start workflow", slog.String("workflow_id", id), slog.String("error", err.Error()))
		return newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the workflow service is unavailable; try again shortly")
	}
	if err := run.Get(wctx, result); err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			return newProblem(http.StatusGatewayTimeout, CodeWorkflowTimeout,
				"the workflow is still running; look for "+id+" in the Temporal UI")
		}
		return err
	}
	return nil
}

func (s *Server) testCameraConnection(ctx context.Context, in *CameraIDInput) (*TestConnectionOutput, error) {
	if _, err := store.FindCameraByID(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "camera")
	}
	id := workflows.CameraProbeWorkflowID(in.ID, newRunID())
	var outcome contract.ProbeOutcome
	if err := s.runWorkflow(ctx, id, workflows.CameraProbeWorkflow, contract.CameraProbeWorkflowInput{CameraID: in.ID}, &outcome); err != nil {
		return nil, problemFor(err, "camera")
	}
	c, err := store.FindCameraByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "camera")
	}
	out := &TestConnectionOutput{}
	out.Body.OK, out.Body.LatencyMs, out.Body.Code, out.Body.Message = outcome.OK, outcome.LatencyMs, outcome.Code, outcome.Message
	out.Body.Health, out.Body.WorkflowID = c.Health, id
	if outcome.OK {
		out.Body.Stream = &StreamInfoBody{Codec: outcome.Codec, Width: outcome.Width, Height: outcome.Height, FPS: outcome.FPS}
	}
	return out, nil
}

func (s *Server) takeCameraSnapshot(ctx context.Context, in *CameraIDInput) (*SnapshotOutput, error) {
	if _, err := store.FindCameraByID(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "camera")
	}
	id := workflows.CameraSnapshotWorkflowID(in.ID, newRunID())
	var res contract.SnapshotResult
	if err := s.runWorkflow(ctx, id, workflows.CameraSnapshotWorkflow, contract.CameraSnapshotWorkflowInput{CameraID: in.ID}, &res); err != nil {
		return nil, problemFor(err, "camera")
	}
	expiry := s.cfg.S3PresignedExpiry
	url, err := s.blobs.PresignGet(ctx, res.Key, expiry, "")
	if err != nil {
		return nil, err
	}
	out := &SnapshotOutput{}
	out.Body.Key, out.Body.URL, out.Body.ExpiresAt = res.Key, url, s.now().Add(expiry).UTC()
	out.Body.SizeBytes, out.Body.TakenAt, out.Body.WorkflowID = res.Size, res.TakenAt, id
	return out, nil
}

// newRunID names one per-request workflow run (and the objects it writes):
// generated here, never taken from the client.
func newRunID() string { return uuid.NewString() }
