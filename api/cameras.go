package api

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
)

// StreamInfoBody is what the last successful probe learned.
type StreamInfoBody struct {
	Codec  string  `json:"codec" example:"h264"`
	Width  int     `json:"width" example:"1920"`
	Height int     `json:"height" example:"1080"`
	FPS    float64 `json:"fps" example:"25"`
}

// CameraBody is a camera as the API shows it. Credentials are never
// returned; hasCredentials says whether the camera has any.
type CameraBody struct {
	ID             string          `json:"id" format:"uuid"`
	Name           string          `json:"name" example:"Lobby entrance"`
	Site           string          `json:"site" example:"HQ"`
	Location       string          `json:"location" example:"Ground floor, main door"`
	URL            string          `json:"url" example:"rtsp://10.0.0.21:554/stream1" doc:"Stream URL without credentials"`
	HasCredentials bool            `json:"hasCredentials"`
	Direction      string          `json:"direction" enum:"entry,exit,both"`
	FPS            float64         `json:"fps" doc:"Frames sampled per second"`
	Timezone       string          `json:"timezone" example:"Europe/Paris"`
	Tags           []string        `json:"tags"`
	State          string          `json:"state" enum:"active,inactive,maintenance"`
	Health         string          `json:"health" enum:"online,offline,unknown,error"`
	LastSeenAt     *time.Time      `json:"lastSeenAt,omitempty"`
	LastCheckedAt  *time.Time      `json:"lastCheckedAt,omitempty"`
	LastError      string          `json:"lastError,omitempty"`
	Stream         *StreamInfoBody `json:"stream,omitempty"`
	CreatedAt      time.Time       `json:"createdAt"`
	UpdatedAt      time.Time       `json:"updatedAt"`
}

func cameraBody(c *store.Camera) CameraBody {
	b := CameraBody{
		ID: c.ID, Name: c.Name, Site: c.Site, Location: c.Location, URL: c.StreamURL,
		HasCredentials: c.Credentials != "", Direction: c.Direction, FPS: c.FPS, Timezone: c.Timezone,
		Tags: c.Tags, State: c.State, Health: c.Health, LastSeenAt: c.LastSeenAt, LastCheckedAt: c.LastCheckedAt,
		LastError: c.LastError, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if b.Tags == nil {
		b.Tags = []string{}
	}
	if c.StreamCodec != "" {
		b.Stream = &StreamInfoBody{Codec: c.StreamCodec, Width: c.StreamWidth, Height: c.StreamHeight, FPS: c.StreamFPS}
	}
	return b
}

// CameraFields are the fields a client sets on create and update.
type CameraFields struct {
	Name      string   `json:"name" minLength:"1" maxLength:"120" example:"Lobby entrance"`
	Site      string   `json:"site,omitempty" maxLength:"120" example:"HQ"`
	Location  string   `json:"location,omitempty" maxLength:"200"`
	URL       string   `json:"url" minLength:"1" maxLength:"2048" example:"rtsp://10.0.0.21:554/stream1" doc:"rtsp:// or rtsps:// only. Credentials embedded in the URL are moved to the encrypted credentials."`
	Username  string   `json:"username,omitempty" maxLength:"256" doc:"Camera login; stored encrypted, never returned"`
	Password  string   `json:"password,omitempty" maxLength:"256" writeOnly:"true" doc:"Camera password; stored encrypted, never returned"`
	Direction string   `json:"direction,omitempty" enum:"entry,exit,both" doc:"Defaults to both"`
	FPS       float64  `json:"fps,omitempty" minimum:"0.1" maximum:"30" doc:"Frames sampled per second; defaults to 1"`
	Timezone  string   `json:"timezone,omitempty" maxLength:"64" example:"Europe/Paris" doc:"IANA zone; defaults to UTC"`
	Tags      []string `json:"tags,omitempty" maxItems:"20"`
}

func (f CameraFields) spec() camera.Spec {
	return camera.Spec{Name: f.Name, Site: f.Site, Location: f.Location, URL: f.URL, Username: f.Username, Password: f.Password,
		Direction: f.Direction, FPS: f.FPS, Timezone: f.Timezone, Tags: f.Tags}
}

// CreateCameraInput is POST /cameras.
type CreateCameraInput struct {
	Body struct {
		CameraFields
		State string `json:"state,omitempty" enum:"active,inactive,maintenance" doc:"Defaults to inactive; active starts sampling"`
	}
}

// UpdateCameraInput is PUT /cameras/{id}: the full configuration. Omitted
// username and password keep the stored credentials unless
// clearCredentials is true.
type UpdateCameraInput struct {
	ID   string `path:"id" format:"uuid"`
	Body struct {
		CameraFields
		ClearCredentials bool `json:"clearCredentials,omitempty" doc:"Remove the stored credentials"`
	}
}

// CameraIDInput names a camera in the path.
type CameraIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// CameraOutput is one camera.
type CameraOutput struct {
	Body CameraBody
}

// ListCamerasInput filters GET /cameras.
type ListCamerasInput struct {
	State     string `query:"state" enum:"active,inactive,maintenance"`
	Health    string `query:"health" enum:"online,offline,unknown,error"`
	Site      string `query:"site" maxLength:"120"`
	Direction string `query:"direction" enum:"entry,exit,both"`
	Tag       string `query:"tag" maxLength:"40"`
	Q         string `query:"q" maxLength:"100" doc:"Search name, site and location"`
	Sort      string `query:"sort" enum:"name,-name,createdAt,-createdAt" default:"name"`
	Cursor    string `query:"cursor" maxLength:"512"`
	Limit     int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

// CameraListBody is one page of cameras.
type CameraListBody struct {
	Items      []CameraBody `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
	Total      *int         `json:"total,omitempty" doc:"Cameras matching the filter; on the first page only"`
}

// CameraCount is one bucket of the summary.
type CameraCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// CameraSummaryOutput counts cameras.
type CameraSummaryOutput struct {
	Body struct {
		Total    int           `json:"total"`
		ByState  []CameraCount `json:"byState"`
		ByHealth []CameraCount `json:"byHealth"`
		BySite   []CameraCount `json:"bySite"`
	}
}

func registerCameras(api huma.API, s *Server) {
	register(api, op{ID: "list-cameras", Method: http.MethodGet, Path: "/cameras", Tag: "Cameras", Perm: auth.PermCamerasRead,
		Summary: "List cameras", RawJSON: CameraListBody{},
		Desc: "Filter by state, health, site, direction, tag or text; sort by name or creation; cursor pagination. " +
			"total is given on the first page. Answers are cached per query and invalidated by any camera change."},
		s.listCameras)
	register(api, op{ID: "create-camera", Method: http.MethodPost, Path: "/cameras", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Register a camera", Status: http.StatusCreated,
		Desc: "Credentials (fields or embedded in the URL) are encrypted at rest and never returned. An active camera starts its stream workflow."},
		s.createCamera)
	register(api, op{ID: "camera-summary", Method: http.MethodGet, Path: "/cameras/summary", Tag: "Cameras", Perm: auth.PermCamerasRead,
		Summary: "Count cameras by state, health and site"}, s.cameraSummary)
	register(api, op{ID: "get-camera", Method: http.MethodGet, Path: "/cameras/{id}", Tag: "Cameras", Perm: auth.PermCamerasRead,
		Summary: "Get a camera"}, s.getCamera)
	register(api, op{ID: "update-camera", Method: http.MethodPut, Path: "/cameras/{id}", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Update a camera's configuration",
		Desc: "Replaces the configuration. Omitted username/password keep the stored credentials while the URL keeps its scheme, host and port; " +
			"a URL to another endpoint drops them unless they are sent again. A running stream is told to reconfigure."},
		s.updateCamera)
	register(api, op{ID: "delete-camera", Method: http.MethodDelete, Path: "/cameras/{id}", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Delete a camera", Desc: "Stops its stream workflow and removes its snapshots.", Status: http.StatusNoContent},
		s.deleteCamera)
}

func (s *Server) listCameras(ctx context.Context, in *ListCamerasInput) (*RawJSON, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	version, err := s.versions.Version(ctx, store.CacheCameras)
	if err != nil {
		return nil, err
	}
	key := strings.Join([]string{in.State, in.Health, in.Site, in.Direction, in.Tag, in.Q, in.Sort, in.Cursor, strconv.Itoa(in.Limit)}, "\x00")
	if body, ok := s.cameraLists.get(key, version); ok {
		return rawJSON(body), nil
	}
	cams, total, err := store.FindCameras(ctx, s.db, store.CameraFilter{
		State: in.State, Health: in.Health, Site: in.Site, Direction: in.Direction, Tag: in.Tag, Query: in.Q,
		Sort: in.Sort, After: after, Limit: in.Limit + 1,
	})
	if err != nil {
		return nil, err
	}
	var list CameraListBody
	if total >= 0 {
		list.Total = &total
	}
	list.Items, list.NextCursor = page(cams, in.Limit, cameraBody,
		func(c *store.Camera) store.Cursor { return store.CameraCursor(c, in.Sort) })
	body, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	s.cameraLists.put(key, version, body)
	return rawJSON(body), nil
}

// specProblem turns validation errors into a 422 naming each field.
func specProblem(errs []camera.FieldError) *Problem {
	details := make([]*huma.ErrorDetail, len(errs))
	for i, e := range errs {
		details[i] = &huma.ErrorDetail{Location: "body." + e.Field, Message: e.Message}
	}
	return newProblem(http.StatusUnprocessableEntity, CodeValidation, "validation failed: body."+errs[0].Field+" "+errs[0].Message, details...)
}

// cameraNamed is how a name conflict of camera name shows.
func cameraNamed(name string) problemOption {
	return conflictOn("body.name", "a camera with this name already exists", name)
}

func (s *Server) createCamera(ctx context.Context, in *CreateCameraInput) (*CameraOutput, error) {
	spec := in.Body.spec()
	spec.State = in.Body.State
	if errs := spec.Normalize(); len(errs) > 0 {
		return nil, specProblem(errs)
	}
	c := &store.Camera{ID: uuid.NewString(), Health: camera.HealthUnknown}
	applySpec(c, spec)
	c.State = spec.State
	sealed, err := camera.SealCredentials(s.secrets, c.ID, spec.Username, spec.Password)
	if err != nil {
		return nil, err
	}
	c.Credentials = sealed
	if err := store.CreateCamera(ctx, s.db, c); err != nil {
		return nil, problemFor(err, "camera", cameraNamed(spec.Name))
	}
	infoFrom(ctx).AuditResourceID = c.ID
	if c.State == camera.StateActive {
		s.startStream(ctx, c.ID)
	}
	return &CameraOutput{Body: cameraBody(c)}, nil
}

func applySpec(c *store.Camera, spec camera.Spec) {
	c.Name, c.Site, c.Location, c.StreamURL = spec.Name, spec.Site, spec.Location, spec.URL
	c.Direction, c.FPS, c.Timezone, c.Tags = spec.Direction, spec.FPS, spec.Timezone, spec.Tags
}

func (s *Server) getCamera(ctx context.Context, in *CameraIDInput) (*CameraOutput, error) {
	c, err := store.FindCameraByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "camera")
	}
	return &CameraOutput{Body: cameraBody(c)}, nil
}

func (s *Server) updateCamera(ctx context.Context, in *UpdateCameraInput) (*CameraOutput, error) {
	spec := in.Body.spec()
	if errs := spec.Normalize(); len(errs) > 0 {
		return nil, specProblem(errs)
	}
	c, err := store.FindCameraByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "camera")
	}
	before := *c
	oldURL, hadCredentials := c.StreamURL, c.Credentials != ""
	// Stored credentials belong to the host they were given for: a URL to
	// another scheme, host or port drops them unless they are sent again.
	moved := !urlsafe.SameEndpoint(oldURL, spec.URL)
	if moved {
		c.Credentials = ""
	}
	applySpec(c, spec)
	switch {
	case spec.Username != "" || spec.Password != "":
		// Sending one of the two keeps the other (same endpoint only).
		if (spec.Username == "" || spec.Password == "") && c.Credentials != "" {
			user, pass, err := camera.OpenCredentials(s.secrets, c.ID, c.Credentials)
			if err != nil {
				return nil, newProblem(http.StatusConflict, CodeCredentials,
					"the stored credentials cannot be decrypted; send both username and password")
			}
			spec.Username, spec.Password = cmp.Or(spec.Username, user), cmp.Or(spec.Password, pass)
		}
		if c.Credentials, err = camera.SealCredentials(s.secrets, c.ID, spec.Username, spec.Password); err != nil {
			return nil, err
		}
	case in.Body.ClearCredentials:
		c.Credentials = ""
	}
	if oldURL != c.StreamURL {
		if info := infoFrom(ctx); info != nil {
			// (Field names avoid the audit's secret-looking words.)
			info.AuditBefore = map[string]any{"url": urlsafe.Redact(oldURL), "login": storedOrNone(hadCredentials)}
			after := storedOrNone(c.Credentials != "")
			if moved && hadCredentials && c.Credentials == "" {
				after = "dropped"
			}
			info.AuditAfter = map[string]any{"url": urlsafe.Redact(c.StreamURL), "login": after}
		}
	}
	if err := store.UpdateCamera(ctx, s.db, c); err != nil {
		return nil, problemFor(err, "camera", cameraNamed(spec.Name))
	}
	if msg := changedFields(&before, c); msg != "" {
		if err := store.RecordCameraEvent(ctx, s.db, c.ID, store.CameraEventConfig, "", "", msg, s.now()); err != nil {
			s.log.WarnContext(ctx, "camera reconfiguration not recorded", slog.String("camera_id", c.ID), slog.String("error", err.Error()))
		}
	}
	if c.State == camera.StateActive {
		if err := s.streams.Reconfigure(ctx, c.ID); err != nil {
			s.log.WarnContext(ctx, "camera stream not told to reconfigure", slog.String("camera_id", c.ID), slog.String("error", err.Error()))
		}
	}
	return &CameraOutput{Body: cameraBody(c)}, nil
}

func (s *Server) deleteCamera(ctx context.Context, in *CameraIDInput) (*struct{}, error) {
	if err := store.DeleteCamera(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "camera")
	}
	s.stopStream(ctx, in.ID)
	if n, err := s.blobs.DeletePrefix(ctx, blob.CameraPrefix(in.ID)); err != nil {
		s.log.WarnContext(ctx, "camera snapshots not removed", slog.String("camera_id", in.ID), slog.String("error", err.Error()))
	} else if n > 0 {
		s.log.InfoContext(ctx, "camera snapshots removed", slog.String("camera_id", in.ID), slog.Int("objects", n))
	}
	return nil, nil
}

func (s *Server) cameraSummary(ctx context.Context, _ *struct{}) (*CameraSummaryOutput, error) {
	sum, err := store.SummarizeCameras(ctx, s.db)
	if err != nil {
		return nil, err
	}
	conv := func(in []store.CameraCount) []CameraCount {
		out := make([]CameraCount, len(in))
		for i, c := range in {
			out[i] = CameraCount{Key: c.Key, Count: c.Count}
		}
		return out
	}
	out := &CameraSummaryOutput{}
	out.Body.Total, out.Body.ByState, out.Body.ByHealth, out.Body.BySite = sum.Total, conv(sum.ByState), conv(sum.ByHealth), conv(sum.BySite)
	return out, nil
}

// startStream starts a camera's stream workflow. The database is the source
// of truth: if Temporal cannot be reached now, the reconciler starts it
// within a minute, so this only logs.
func (s *Server) startStream(ctx context.Context, id string) {
	if err := s.streams.Start(ctx, id); err != nil {
		s.log.WarnContext(ctx, "camera stream not started; the reconciler will retry", slog.String("camera_id", id), slog.String("error", err.Error()))
	}
}

// stopStream stops a camera's stream workflow (the reconciler backs it up)
// and resolves its offline alert: a camera that is not active is not
// expected to send frames.
func (s *Server) stopStream(ctx context.Context, id string) {
	if err := s.streams.Stop(ctx, id); err != nil {
		s.log.WarnContext(ctx, "camera stream not stopped; the reconciler will retry", slog.String("camera_id", id), slog.String("error", err.Error()))
	}
	if _, err := s.alertService().Clear(ctx, alerts.TypeCameraOffline, id, "the camera is no longer active"); err != nil {
		s.log.WarnContext(ctx, "camera alert not resolved", slog.String("camera_id", id), slog.String("error", err.Error()))
	}
}

// storedOrNone describes, for the audit, whether a secret is kept.
func storedOrNone(stored bool) string {
	if stored {
		return "stored"
	}
	return "none"
}
