package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// FaceImageBody is one photo of a profile.
type FaceImageBody struct {
	ID            string     `json:"id" format:"uuid"`
	URL           string     `json:"url" doc:"Presigned GET URL"`
	Status        string     `json:"status" enum:"pending,enrolled,failed,deleting"`
	FailureReason string     `json:"failureReason,omitempty" example:"2 faces found; the photo must show exactly one person"`
	ContentType   string     `json:"contentType"`
	Width         int        `json:"width"`
	Height        int        `json:"height"`
	SizeBytes     int        `json:"sizeBytes"`
	CreatedAt     time.Time  `json:"createdAt"`
	EnrolledAt    *time.Time `json:"enrolledAt,omitempty"`
}

// FaceProfileBody is a registered person.
type FaceProfileBody struct {
	ID             string          `json:"id" format:"uuid"`
	EmployeeCode   string          `json:"employeeCode" example:"EMP-0042"`
	Name           string          `json:"name" example:"Ada Lovelace"`
	Department     string          `json:"department,omitempty" example:"Engineering"`
	Email          string          `json:"email,omitempty"`
	OdooEmployeeID *int            `json:"odooEmployeeId,omitempty"`
	Status         string          `json:"status" enum:"pending,registering,active,failed,deleting"`
	StatusMessage  string          `json:"statusMessage,omitempty"`
	Images         []FaceImageBody `json:"images"`
	CreatedAt      time.Time       `json:"createdAt"`
	UpdatedAt      time.Time       `json:"updatedAt"`
}

// FaceFields are a profile's editable fields as multipart form values.
type FaceFields struct {
	EmployeeCode   string `form:"employeeCode" json:"employeeCode" required:"true" minLength:"1" maxLength:"64"`
	Name           string `form:"name" json:"name" required:"true" minLength:"1" maxLength:"200"`
	Department     string `form:"department" json:"department,omitempty" required:"false" maxLength:"120"`
	Email          string `form:"email" json:"email,omitempty" required:"false" maxLength:"254"`
	OdooEmployeeID int    `form:"odooEmployeeId" json:"odooEmployeeId,omitempty" required:"false" minimum:"0"`
}

// CreateFaceForm is the multipart body of POST /faces.
type CreateFaceForm struct {
	FaceFields
	Images []huma.FormFile `form:"images" contentType:"image/jpeg,image/png,application/octet-stream" required:"true" doc:"1 to 10 photos, JPEG or PNG, each showing exactly one face"`
}

// CreateFaceInput is POST /faces.
type CreateFaceInput struct {
	RawBody huma.MultipartFormFiles[CreateFaceForm]
}

// UpdateFaceInput is PUT /faces/{id} (JSON).
type UpdateFaceInput struct {
	ID   string `path:"id" format:"uuid"`
	Body FaceFields
}

// FaceIDInput names a profile.
type FaceIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// FaceOutput is one profile.
type FaceOutput struct {
	Body FaceProfileBody
}

// ListFacesInput filters GET /faces.
type ListFacesInput struct {
	Status     string `query:"status" enum:"pending,registering,active,failed,deleting"`
	Department string `query:"department" maxLength:"120"`
	Q          string `query:"q" maxLength:"100" doc:"Search name, employee code and email"`
	Cursor     string `query:"cursor" maxLength:"512"`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// FaceListOutput is one page of profiles.
type FaceListOutput struct {
	Body struct {
		Items      []FaceProfileBody `json:"items"`
		NextCursor string            `json:"nextCursor,omitempty"`
		Total      *int              `json:"total,omitempty"`
	}
}

func registerFaces(api huma.API, s *Server) {
	register(api, op{ID: "list-faces", Method: http.MethodGet, Path: "/faces", Tag: "Faces", Perm: auth.PermFacesRead,
		Summary: "List registered people"}, s.listFaces)
	register(api, op{ID: "create-face", Method: http.MethodPost, Path: "/faces", Tag: "Faces", Perm: auth.PermFacesWrite,
		Summary: "Register a person with 1–10 photos", Status: http.StatusAccepted, MaxBody: maxFaceUploadBytes,
		Desc: "Photos are checked by content (JPEG or PNG, at most 8 MiB and 6000 px a side) before anything is stored. " +
			"Registration then runs as the FaceRegistration workflow: the profile becomes active when at least one photo " +
			"shows exactly one usable face, failed otherwise (each photo's reason is kept)."},
		s.createFace)
	register(api, op{ID: "get-face", Method: http.MethodGet, Path: "/faces/{id}", Tag: "Faces", Perm: auth.PermFacesRead,
		Summary: "Get a registered person"}, s.getFace)
	register(api, op{ID: "update-face", Method: http.MethodPut, Path: "/faces/{id}", Tag: "Faces", Perm: auth.PermFacesWrite,
		Summary: "Update a person's details"}, s.updateFace)
	register(api, op{ID: "delete-face", Method: http.MethodDelete, Path: "/faces/{id}", Tag: "Faces", Perm: auth.PermFacesWrite,
		Summary: "Erase a person", Status: http.StatusAccepted,
		Desc: "Runs the FaceDeletion workflow: the subject at the provider, the photos and the rows are removed, retried until done."},
		s.deleteFace)
	register(api, op{ID: "add-face-images", Method: http.MethodPost, Path: "/faces/{id}/images", Tag: "Faces", Perm: auth.PermFacesWrite,
		Summary: "Add photos to a person", Status: http.StatusAccepted, MaxBody: maxFaceUploadBytes}, s.addFaceImages)
	register(api, op{ID: "delete-face-image", Method: http.MethodDelete, Path: "/faces/{id}/images/{imageId}", Tag: "Faces", Perm: auth.PermFacesWrite,
		Summary: "Remove one photo of a person", Status: http.StatusAccepted,
		Desc: "The photo is removed from the provider and the object store by the FaceRegistration workflow."}, s.deleteFaceImage)
}

func (s *Server) faceBody(ctx context.Context, p *store.FaceProfile) FaceProfileBody {
	b := FaceProfileBody{ID: p.ID, EmployeeCode: p.EmployeeCode, Name: p.Name, Department: p.Department, Email: p.Email,
		OdooEmployeeID: p.OdooEmployeeID, Status: p.Status, StatusMessage: p.StatusMessage, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Images: make([]FaceImageBody, 0, len(p.Images))}
	for _, img := range p.Images {
		url, err := s.blobs.PresignGet(ctx, img.ObjectKey, s.cfg.S3PresignedExpiry, "")
		if err != nil {
			s.log.WarnContext(ctx, "presign face image", slog.String("image_id", img.ID), slog.String("error", err.Error()))
		}
		b.Images = append(b.Images, FaceImageBody{ID: img.ID, URL: url, Status: img.Status, FailureReason: img.FailureReason,
			ContentType: img.ContentType, Width: img.Width, Height: img.Height, SizeBytes: img.SizeBytes,
			CreatedAt: img.CreatedAt, EnrolledAt: img.EnrolledAt})
	}
	return b
}

// checkFaceFields normalizes and validates profile fields.
func checkFaceFields(f *FaceFields) *Problem {
	f.EmployeeCode, f.Name = strings.TrimSpace(f.EmployeeCode), strings.TrimSpace(f.Name)
	f.Department, f.Email = strings.TrimSpace(f.Department), strings.TrimSpace(f.Email)
	switch {
	case f.EmployeeCode == "" || len(f.EmployeeCode) > 64 || strings.ContainsFunc(f.EmployeeCode, isCtl):
		return fieldError("body.employeeCode", "is required: 1 to 64 printable characters", f.EmployeeCode)
	case f.Name == "" || len(f.Name) > 200 || strings.ContainsFunc(f.Name, isCtl):
		return fieldError("body.name", "is required: 1 to 200 printable characters", nil)
	case len(f.Department) > 120 || strings.ContainsFunc(f.Department, isCtl):
		return fieldError("body.department", "must be at most 120 printable characters", nil)
	case f.OdooEmployeeID < 0:
		return fieldError("body.odooEmployeeId", "must be a positive Odoo employee ID", f.OdooEmployeeID)
	}
	if f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email || len(f.Email) > 254 {
			return fieldError("body.email", "must be an email address", f.Email)
		}
	}
	return nil
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

func (s *Server) createFace(ctx context.Context, in *CreateFaceInput) (*FaceOutput, error) {
	form := in.RawBody.Data()
	if p := checkFaceFields(&form.FaceFields); p != nil {
		return nil, p
	}
	id := uuid.NewString()
	ups, p := readUploads(form.Images, id)
	if p != nil {
		return nil, p
	}
	prof := &store.FaceProfile{ID: id, EmployeeCode: form.EmployeeCode, Name: form.Name, Department: form.Department,
		Email: form.Email, Status: contract.FaceStatusPending}
	if form.OdooEmployeeID > 0 {
		prof.OdooEmployeeID = &form.OdooEmployeeID
	}
	for _, u := range ups {
		prof.Images = append(prof.Images, u.row)
	}
	if err := s.storeUploads(ctx, ups); err != nil {
		return nil, err
	}
	if err := store.CreateFaceProfile(ctx, s.db, prof); err != nil {
		s.removeUploads(ctx, ups)
		return nil, problemFor(err, "person", employeeCodeTaken(form.EmployeeCode))
	}
	infoFrom(ctx).AuditResourceID = id
	s.startRegistration(ctx, id)
	return s.faceOutput(ctx, id)
}

// startRegistration starts the profile's registration workflow, or tells
// the running one that its images changed.
func (s *Server) startRegistration(ctx context.Context, profileID string) {
	_, err := s.temporal.SignalWithStartWorkflow(ctx, workflows.FaceRegistrationWorkflowID(profileID), workflows.SignalFaceImagesChanged, nil,
		client.StartWorkflowOptions{TaskQueue: rctemporal.TaskQueueDefault, WorkflowExecutionTimeout: time.Hour},
		workflows.FaceRegistrationWorkflow, contract.FaceRegistrationWorkflowInput{ProfileID: profileID})
	if err != nil {
		s.log.ErrorContext(ctx, "face registration not started", slog.String("profile_id", profileID), slog.String("error", err.Error()))
	}
}

func (s *Server) faceOutput(ctx context.Context, id string) (*FaceOutput, error) {
	p, err := store.FindFaceProfile(ctx, s.db, id)
	if err != nil {
		return nil, problemFor(err, "person or photo")
	}
	return &FaceOutput{Body: s.faceBody(ctx, p)}, nil
}

func (s *Server) getFace(ctx context.Context, in *FaceIDInput) (*FaceOutput, error) {
	return s.faceOutput(ctx, in.ID)
}

func (s *Server) listFaces(ctx context.Context, in *ListFacesInput) (*FaceListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	ps, total, err := store.FindFaceProfiles(ctx, s.db, store.FaceFilter{Status: in.Status, Department: in.Department, Query: in.Q, After: after, Limit: in.Limit + 1})
	if err != nil {
		return nil, err
	}
	out := &FaceListOutput{}
	if total >= 0 {
		out.Body.Total = &total
	}
	out.Body.Items, out.Body.NextCursor = page(ps, in.Limit,
		func(p *store.FaceProfile) FaceProfileBody { return s.faceBody(ctx, p) },
		func(p *store.FaceProfile) store.Cursor { return store.Cursor{Time: p.CreatedAt, ID: p.ID} })
	return out, nil
}

func (s *Server) updateFace(ctx context.Context, in *UpdateFaceInput) (*FaceOutput, error) {
	if p := checkFaceFields(&in.Body); p != nil {
		return nil, p
	}
	p, err := store.FindFaceProfile(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "person or photo")
	}
	p.EmployeeCode, p.Name, p.Department, p.Email = in.Body.EmployeeCode, in.Body.Name, in.Body.Department, in.Body.Email
	p.OdooEmployeeID = nil
	if in.Body.OdooEmployeeID > 0 {
		p.OdooEmployeeID = &in.Body.OdooEmployeeID
	}
	if err := store.UpdateFaceProfile(ctx, s.db, p); err != nil {
		return nil, problemFor(err, "person", employeeCodeTaken(p.EmployeeCode))
	}
	return s.faceOutput(ctx, in.ID)
}

func (s *Server) deleteFace(ctx context.Context, in *FaceIDInput) (*FaceOutput, error) {
	if err := store.SetFaceProfileStatus(ctx, s.db, in.ID, contract.FaceStatusDeleting, "erasure requested"); err != nil {
		return nil, problemFor(err, "person or photo")
	}
	// A registration still running stops (and refuses to enrol anything
	// more: the profile is deleting) before the erasure removes the subject.
	if err := s.temporal.CancelWorkflow(ctx, workflows.FaceRegistrationWorkflowID(in.ID), ""); err != nil {
		s.log.DebugContext(ctx, "no registration to cancel", slog.String("profile_id", in.ID), slog.String("error", err.Error()))
	}
	_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.FaceDeletionWorkflowID(in.ID), TaskQueue: rctemporal.TaskQueueDefault,
	}, workflows.FaceDeletionWorkflow, contract.FaceDeletionWorkflowInput{ProfileID: in.ID})
	if err != nil {
		s.log.ErrorContext(ctx, "face deletion not started", slog.String("profile_id", in.ID), slog.String("error", err.Error()))
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the workflow service is unavailable; the person is marked for deletion, try again shortly")
	}
	return s.faceOutput(ctx, in.ID)
}

// employeeCodeTaken is how an employee-code conflict shows.
func employeeCodeTaken(code string) problemOption {
	return conflictOn("body.employeeCode", "a person with this employee code is already registered", code)
}
