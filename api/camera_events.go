package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// CameraEventBody is one stored event of a camera.
type CameraEventBody struct {
	ID         string    `json:"id" example:"1042"`
	OccurredAt time.Time `json:"occurredAt"`
	Kind       string    `json:"kind" enum:"health,state,config" doc:"health: online/offline/error; state: active/inactive/maintenance; config: the configuration was changed"`
	From       string    `json:"from,omitempty" example:"online"`
	To         string    `json:"to,omitempty" example:"offline"`
	Message    string    `json:"message,omitempty" example:"no frame for 10s"`
}

// ListCameraEventsInput filters GET /cameras/{id}/events.
type ListCameraEventsInput struct {
	ID     string    `path:"id" format:"uuid"`
	Kind   string    `query:"kind" enum:"health,state,config"`
	Since  time.Time `query:"since" doc:"Only events at or after this time"`
	Until  time.Time `query:"until" doc:"Only events before this time"`
	Cursor string    `query:"cursor" maxLength:"512"`
	Limit  int       `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// CameraEventListOutput is a page of a camera's events, newest first.
type CameraEventListOutput struct {
	Body struct {
		Items      []CameraEventBody `json:"items"`
		NextCursor string            `json:"nextCursor,omitempty"`
	}
}

func registerCameraEvents(api huma.API, s *Server) {
	register(api, op{ID: "list-camera-events", Method: http.MethodGet, Path: "/cameras/{id}/events", Tag: "Cameras", Perm: auth.PermCamerasRead,
		Summary: "A camera's events: health changes, state changes and reconfigurations, newest first"}, s.listCameraEvents)
}

func (s *Server) listCameraEvents(ctx context.Context, in *ListCameraEventsInput) (*CameraEventListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	f := store.CameraEventFilter{CameraID: in.ID, Kind: in.Kind, After: after, Limit: in.Limit + 1}
	if f.Since, f.Until, err = timeRange(in.Since, in.Until); err != nil {
		return nil, err
	}
	if _, err := store.FindCameraByID(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "camera")
	}
	evs, err := store.FindCameraEvents(ctx, s.db, f)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &CameraEventListOutput{}
	out.Body.Items, out.Body.NextCursor = page(evs, in.Limit,
		func(e *store.CameraEvent) CameraEventBody {
			return CameraEventBody{ID: strconv.FormatInt(e.ID, 10), OccurredAt: e.OccurredAt, Kind: e.Kind, From: e.FromValue, To: e.ToValue, Message: e.Message}
		},
		func(e *store.CameraEvent) store.Cursor {
			return store.Cursor{Time: e.OccurredAt, ID: strconv.FormatInt(e.ID, 10)}
		})
	return out, nil
}

// changedFields names what an update changed of a camera's configuration
// (never a credential's value).
func changedFields(before, after *store.Camera) string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("name", before.Name != after.Name)
	add("site", before.Site != after.Site)
	add("location", before.Location != after.Location)
	add("url", before.StreamURL != after.StreamURL)
	add("credentials", before.Credentials != after.Credentials)
	add("direction", before.Direction != after.Direction)
	add("fps", before.FPS != after.FPS)
	add("timezone", before.Timezone != after.Timezone)
	add("tags", !slices.Equal(before.Tags, after.Tags))
	if len(out) == 0 {
		return ""
	}
	return "changed: " + strings.Join(out, ", ")
}
