package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/imagecheck"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/workflows"
)

// SendFrameForm is the multipart body of POST /detections/send-frame:
// an image, or the ID of a camera to capture a frame from now.
type SendFrameForm struct {
	Image    huma.FormFile `form:"image" contentType:"image/jpeg,image/png,application/octet-stream" required:"false" doc:"A JPEG or PNG frame"`
	CameraID string        `form:"cameraId" required:"false" format:"uuid" doc:"Capture a frame from this camera instead"`
	// Attendance records the recognised people's attendance, as a camera
	// stream would.
	Attendance bool   `form:"attendance" required:"false" doc:"Also record attendance for the recognised people"`
	Direction  string `form:"direction" required:"false" enum:"entry,exit,both" doc:"With attendance and an uploaded image: what the frame counts as (default entry); a camera's frame uses the camera's direction"`
}

// SendFrameInput is POST /detections/send-frame.
type SendFrameInput struct {
	RawBody huma.MultipartFormFiles[SendFrameForm]
}

// SendFrameOutput lists the faces found.
type SendFrameOutput struct {
	Body struct {
		Detections []contract.FrameDetection `json:"detections"`
		LatencyMs  int64                     `json:"latencyMs" doc:"Provider time for this frame"`
		// Attendance lists the logs the frame wrote (attendance=true).
		Attendance []attendance.LogView `json:"attendance,omitempty"`
		ImageURL   string               `json:"imageUrl" doc:"Presigned URL of the frame"`
		WorkflowID string               `json:"workflowId"`
	}
}

// DetectionEventBody is one pipeline event.
type DetectionEventBody struct {
	ID         int64           `json:"id"`
	OccurredAt time.Time       `json:"occurredAt"`
	CameraID   string          `json:"cameraId,omitempty"`
	Kind       string          `json:"kind" example:"send_frame"`
	Level      string          `json:"level" enum:"info,warn,error"`
	Message    string          `json:"message"`
	Details    json.RawMessage `json:"details,omitempty"`
}

// ListDetectionEventsInput filters GET /detections/events.
type ListDetectionEventsInput struct {
	CameraID string    `query:"cameraId" format:"uuid"`
	Kind     string    `query:"kind" maxLength:"64"`
	Level    string    `query:"level" enum:"info,warn,error"`
	Since    time.Time `query:"since"`
	Until    time.Time `query:"until"`
	Cursor   string    `query:"cursor" maxLength:"512"`
	Limit    int       `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

// DetectionEventListOutput is one page of events, newest first.
type DetectionEventListOutput struct {
	Body struct {
		Items      []DetectionEventBody `json:"items"`
		NextCursor string               `json:"nextCursor,omitempty"`
	}
}

func registerDetections(api huma.API, s *Server) {
	register(api, op{ID: "send-frame", Method: http.MethodPost, Path: "/detections/send-frame", Tag: "Detections", Perm: auth.PermDetectionsWrite,
		Summary: "Run one frame through the provider",
		Desc: "Send an image (multipart field `image`) or a camera ID (`cameraId`) to capture a frame from now. " +
			"Runs the DetectFrame workflow and stores a detection per face.",
		MaxBody: int64(imagecheck.DefaultLimits.MaxBytes) + 64<<10},
		s.sendFrame)
	register(api, op{ID: "list-detection-events", Method: http.MethodGet, Path: "/detections/events", Tag: "Detections", Perm: auth.PermDetectionsRead,
		Summary: "The detection pipeline's event log, newest first"}, s.listDetectionEvents)
}

func (s *Server) sendFrame(ctx context.Context, in *SendFrameInput) (*SendFrameOutput, error) {
	form := in.RawBody.Data()
	runID := newRunID()
	input := contract.DetectFrameInput{}
	switch {
	case form.Image.IsSet && form.CameraID != "":
		return nil, fieldError("body.cameraId", "send either an image or a camera ID, not both", form.CameraID)
	case form.Image.IsSet:
		data, err := io.ReadAll(io.LimitReader(form.Image.File, int64(imagecheck.DefaultLimits.MaxBytes)+1))
		_ = form.Image.File.Close()
		if err != nil {
			return nil, fieldError("body.image", "could not be read", nil)
		}
		info, err := imagecheck.Check(data, imagecheck.DefaultLimits)
		if err != nil {
			return nil, fieldError("body.image", err.Error(), form.Image.Filename)
		}
		ext := "jpg"
		if info.ContentType == "image/png" {
			ext = "png"
		}
		input.ImageKey = blob.FrameKey(s.now(), "upload-"+runID, ext)
		if err := s.blobs.Put(ctx, input.ImageKey, bytes.NewReader(data), int64(len(data)), info.ContentType); err != nil {
			return nil, err
		}
	case form.CameraID != "":
		if _, err := uuid.Parse(form.CameraID); err != nil {
			return nil, fieldError("body.cameraId", "must be a camera ID", form.CameraID)
		}
		if _, err := store.FindCameraByID(ctx, s.db, form.CameraID); err != nil {
			return nil, problemFor(err, "camera")
		}
		input.CameraID = form.CameraID
	default:
		return nil, fieldError("body.image", "send an image, or a cameraId to capture from", nil)
	}
	id := workflows.DetectFrameWorkflowID(runID)
	var res contract.DetectFrameResult
	if err := s.runWorkflow(ctx, id, workflows.DetectFrameWorkflow, input, &res); err != nil {
		if contract.ErrorType(err) == contract.ErrTypeProviderBadImage {
			return nil, fieldError("body.image", "the provider could not read this image", nil)
		}
		return nil, problemFor(err, "camera")
	}
	out := &SendFrameOutput{}
	out.Body.Detections, out.Body.LatencyMs, out.Body.WorkflowID = res.Detections, res.LatencyMs, id
	if form.Attendance {
		logs, err := s.frameAttendance(ctx, form, res)
		if err != nil {
			return nil, err
		}
		out.Body.Attendance = logs
	}
	url, err := s.blobs.PresignGet(ctx, res.ImageKey, s.cfg.S3PresignedExpiry, "")
	if err != nil {
		return nil, err
	}
	out.Body.ImageURL = url
	return out, nil
}

// frameAttendance records attendance for the known faces of a sent frame,
// with the camera's direction, zone and site (or the form's direction and
// the configured zone for an uploaded image), and publishes new logs.
func (s *Server) frameAttendance(ctx context.Context, form *SendFrameForm, res contract.DetectFrameResult) ([]attendance.LogView, error) {
	direction, tz, site := form.Direction, s.cfg.Attendance.Timezone, ""
	if direction == "" {
		direction = attendance.CameraEntry
	}
	if form.CameraID != "" {
		c, err := store.FindCameraByID(ctx, s.db, form.CameraID)
		if err != nil {
			return nil, problemFor(err, "camera")
		}
		direction, tz, site = c.Direction, c.Timezone, c.Site
	}
	rules := attendance.Rules{Threshold: s.cfg.Attendance.Threshold, Cooldown: s.cfg.Attendance.Cooldown, MinSession: s.cfg.Attendance.MinSession}
	logs := []attendance.LogView{}
	now := s.now().UTC()
	for _, d := range res.Detections {
		if !d.Known || d.FaceProfileID == "" {
			continue
		}
		l, _, err := store.RecordRecognition(ctx, s.db, rules, store.RecognitionInput{DetectionID: d.ID, FaceProfileID: d.FaceProfileID,
			CameraID: form.CameraID, CameraDirection: direction, Timezone: tz, Site: site, At: now, Similarity: d.Similarity, SnapshotKey: res.ImageKey})
		if err != nil {
			return nil, err
		}
		if l == nil {
			continue
		}
		v := l.View()
		logs = append(logs, v)
		if s.live != nil {
			if err := s.live.Publish(ctx, live.ChannelAttendance, live.Event{Type: attendance.EventLogCreated, Data: v}); err != nil {
				s.log.WarnContext(ctx, "attendance event not published", "error", err.Error())
			}
		}
	}
	return logs, nil
}

func (s *Server) listDetectionEvents(ctx context.Context, in *ListDetectionEventsInput) (*DetectionEventListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	f := store.DetectionEventFilter{CameraID: in.CameraID, Kind: in.Kind, Level: in.Level, After: after, Limit: in.Limit + 1}
	if f.Since, f.Until, err = timeRange(in.Since, in.Until); err != nil {
		return nil, err
	}
	evs, err := store.FindDetectionEvents(ctx, s.db, f)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &DetectionEventListOutput{}
	out.Body.Items, out.Body.NextCursor = page(evs, in.Limit, detectionEventBody,
		func(e *store.DetectionEvent) store.Cursor {
			return store.Cursor{Time: e.OccurredAt, ID: strconv.FormatInt(e.ID, 10)}
		})
	return out, nil
}

func detectionEventBody(e *store.DetectionEvent) DetectionEventBody {
	b := DetectionEventBody{ID: e.ID, OccurredAt: e.OccurredAt, Kind: e.Kind, Level: e.Level, Message: e.Message, Details: e.Details}
	if e.CameraID != nil {
		b.CameraID = *e.CameraID
	}
	return b
}
