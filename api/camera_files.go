package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/camera"
	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
)

// ImportCamerasInput is POST /cameras/import: a CSV or JSON file as the body.
type ImportCamerasInput struct {
	Format  string `query:"format" enum:"csv,json" doc:"Defaults from Content-Type (text/csv or application/json)"`
	Mode    string `query:"mode" enum:"create,upsert" default:"create" doc:"create: every name must be new. upsert: cameras with an existing name are updated."`
	Content string `header:"Content-Type"`
	RawBody []byte `contentType:"text/csv"`
}

// ImportCamerasOutput reports what an import wrote.
type ImportCamerasOutput struct {
	Body struct {
		Created int      `json:"created"`
		Updated int      `json:"updated"`
		IDs     []string `json:"ids" doc:"IDs of the imported cameras, in file order"`
	}
}

// ExportCamerasInput is GET /cameras/export.
type ExportCamerasInput struct {
	Format string `query:"format" enum:"csv,json" default:"csv"`
}

// ExportCamerasOutput is the export file.
type ExportCamerasOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func registerCameraFiles(api huma.API, s *Server) {
	register(api, op{ID: "import-cameras", Method: http.MethodPost, Path: "/cameras/import", Tag: "Cameras", Perm: auth.PermCamerasWrite,
		Summary: "Import cameras from CSV or JSON (all or nothing)",
		Desc: fmt.Sprintf("Every row is validated first; any problem answers 422 listing each as errors[].location "+
			"`body.rows[N].field` and nothing is written. At most %d rows and %d KiB. Columns/fields: name, site, location, url, "+
			"direction, fps, timezone, tags (CSV: separated by ;), state, username, password.", camera.MaxImportRows, camera.MaxImportBytes>>10),
		MaxBody: camera.MaxImportBytes + 1024},
		s.importCameras)
	register(api, op{ID: "export-cameras", Method: http.MethodGet, Path: "/cameras/export", Tag: "Cameras", Perm: auth.PermCamerasRead,
		Summary: "Export every camera as CSV or JSON (without credentials)"},
		s.exportCameras)
}

func (s *Server) importCameras(ctx context.Context, in *ImportCamerasInput) (*ImportCamerasOutput, error) {
	format := in.Format
	if format == "" {
		switch ct := strings.ToLower(in.Content); {
		case strings.HasPrefix(ct, "application/json"):
			format = "json"
		case strings.HasPrefix(ct, "text/csv"), strings.HasPrefix(ct, "application/csv"):
			format = "csv"
		default:
			return nil, fieldError("query.format", "is required when Content-Type is not text/csv or application/json", in.Content)
		}
	}
	var specs []camera.Spec
	var err error
	if format == "json" {
		specs, err = camera.ParseJSON(bytes.NewReader(in.RawBody))
	} else {
		specs, err = camera.ParseCSV(bytes.NewReader(in.RawBody))
	}
	var ie *camera.ImportError
	if errors.As(err, &ie) {
		return nil, importProblem(ie)
	}
	if err != nil {
		return nil, err
	}

	cams := make([]store.Camera, len(specs))
	for i, sp := range specs {
		cams[i] = store.Camera{ID: uuid.NewString(), Health: camera.HealthUnknown, State: sp.State}
		applySpec(&cams[i], sp)
	}
	// Credentials are sealed to the camera's final ID; a row without any
	// keeps an updated camera's stored credentials, unless its URL now
	// points to another scheme, host or port.
	seal := func(c, existing *store.Camera) error {
		sp := specs[indexOfName(specs, c.Name)]
		if sp.Username == "" && sp.Password == "" {
			if existing != nil && urlsafe.SameEndpoint(existing.StreamURL, c.StreamURL) {
				c.Credentials = existing.Credentials
			}
			return nil
		}
		sealed, err := camera.SealCredentials(s.secrets, c.ID, sp.Username, sp.Password)
		c.Credentials = sealed
		return err
	}
	res, err := store.ImportCameras(ctx, s.db, cams, in.Mode == "upsert", seal)
	if errors.Is(err, store.ErrConflict) {
		return nil, newProblem(http.StatusConflict, CodeConflict,
			"a camera in the file already exists (use mode=upsert to update existing cameras); nothing was imported: "+conflictName(err))
	}
	if err != nil {
		return nil, err
	}
	out := &ImportCamerasOutput{}
	out.Body.Created, out.Body.Updated = res.Created, res.Updated
	for i, c := range res.Cameras {
		out.Body.IDs = append(out.Body.IDs, c.ID)
		switch prev := res.PrevStates[i]; {
		case c.State == camera.StateActive && prev != camera.StateActive:
			s.startStream(ctx, c.ID)
		case c.State != camera.StateActive && prev == camera.StateActive:
			s.stopStream(ctx, c.ID)
		case c.State == camera.StateActive && prev == camera.StateActive:
			// Updated while active: the stream reopens with the new settings.
			if err := s.streams.Reconfigure(ctx, c.ID); err != nil {
				s.log.WarnContext(ctx, "camera stream not told to reconfigure", slog.String("camera_id", c.ID), slog.String("error", err.Error()))
			}
		}
	}
	return out, nil
}

// indexOfName finds the spec of a camera by (unique, normalized) name.
func indexOfName(specs []camera.Spec, name string) int {
	for i, sp := range specs {
		if strings.EqualFold(sp.Name, name) {
			return i
		}
	}
	return -1
}

func conflictName(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, `"`); i >= 0 {
		if j := strings.Index(msg[i+1:], `"`); j >= 0 {
			return msg[i : i+j+2]
		}
	}
	return ""
}

func importProblem(ie *camera.ImportError) *Problem {
	details := make([]*huma.ErrorDetail, 0, len(ie.Errors))
	for _, re := range ie.Errors {
		loc := "body"
		if re.Row > 0 {
			loc = fmt.Sprintf("body.rows[%d]", re.Row)
		}
		if re.Field != "" {
			loc += "." + re.Field
		}
		details = append(details, &huma.ErrorDetail{Location: loc, Message: re.Message})
	}
	detail := fmt.Sprintf("the file has %d problem(s); nothing was imported", len(ie.Errors)+ie.Omitted)
	if len(details) > 0 {
		detail += ": " + details[0].Location + " " + details[0].Message
	}
	return newProblem(http.StatusUnprocessableEntity, CodeValidation, detail, details...)
}

func (s *Server) exportCameras(ctx context.Context, in *ExportCamerasInput) (*ExportCamerasOutput, error) {
	cams, err := store.AllCameras(ctx, s.db)
	if err != nil {
		return nil, err
	}
	recs := make([]camera.Record, len(cams))
	for i, c := range cams {
		recs[i] = camera.Record{Name: c.Name, Site: c.Site, Location: c.Location, URL: c.StreamURL, Direction: c.Direction,
			FPS: c.FPS, Timezone: c.Timezone, Tags: c.Tags, State: c.State}
	}
	var buf bytes.Buffer
	out := &ExportCamerasOutput{}
	if in.Format == "json" {
		err = camera.WriteJSON(&buf, recs)
		out.ContentType, out.ContentDisposition = "application/json", `attachment; filename="cameras.json"`
	} else {
		err = camera.WriteCSV(&buf, recs)
		out.ContentType, out.ContentDisposition = "text/csv; charset=utf-8", `attachment; filename="cameras.csv"`
	}
	if err != nil {
		return nil, err
	}
	out.Body = buf.Bytes()
	return out, nil
}
