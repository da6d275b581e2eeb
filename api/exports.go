package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// ExportFiltersBody is the filters of an export: those of the lists.
type ExportFiltersBody struct {
	PersonID       string     `json:"personId,omitempty" format:"uuid"`
	EmployeeCode   string     `json:"employeeCode,omitempty" maxLength:"64"`
	Department     string     `json:"department,omitempty" maxLength:"100" example:"Operations"`
	CameraID       string     `json:"cameraId,omitempty" format:"uuid" doc:"Logs only"`
	Site           string     `json:"site,omitempty" maxLength:"100"`
	Status         string     `json:"status,omitempty" enum:"present,late,early_leave,absent,incomplete,off" doc:"Records only"`
	Source         string     `json:"source,omitempty" enum:"camera,manual,import" doc:"Logs only"`
	Direction      string     `json:"direction,omitempty" enum:"in,out" doc:"Logs only"`
	From           *time.Time `json:"from,omitempty" doc:"Logs: logged at or after; records: first work date (its date part)" example:"2026-11-01T00:00:00Z"`
	To             *time.Time `json:"to,omitempty" doc:"Logs: logged before; records: last work date, inclusive (its date part)" example:"2026-12-01T00:00:00Z"`
	IncludeDeleted bool       `json:"includeDeleted,omitempty" doc:"Logs only"`
}

// CreateExportInput is POST /attendance/export.
type CreateExportInput struct {
	Body struct {
		Kind     string            `json:"kind" enum:"records,logs" example:"records"`
		Format   string            `json:"format" enum:"csv,xlsx,pdf" example:"xlsx"`
		Filters  ExportFiltersBody `json:"filters,omitempty"`
		Timezone string            `json:"timezone,omitempty" maxLength:"64" doc:"Zone times are shown in (default: ROLLCALL_TIMEZONE)" example:"Asia/Ho_Chi_Minh"`
	}
}

// ExportJobBody is an export job as its owner sees it.
type ExportJobBody struct {
	ID          string     `json:"id" format:"uuid"`
	Kind        string     `json:"kind" enum:"records,logs"`
	Format      string     `json:"format" enum:"csv,xlsx,pdf"`
	Status      string     `json:"status" enum:"queued,running,completed,failed,cancelled"`
	RowsTotal   *int       `json:"rowsTotal,omitempty" doc:"Rows the export will write, once it has started"`
	RowsWritten int        `json:"rowsWritten"`
	Progress    float64    `json:"progress" doc:"0 to 1" example:"0.42"`
	SizeBytes   *int64     `json:"sizeBytes,omitempty"`
	Error       string     `json:"error,omitempty"`
	Filters     any        `json:"filters"`
	DownloadURL string     `json:"downloadUrl,omitempty" doc:"Presigned URL of the file, once completed"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	FinishedAt  *time.Time `json:"finishedAt,omitempty"`
	ExpiresAt   time.Time  `json:"expiresAt" doc:"The file and job are deleted after this"`
}

// ExportJobOutput is one job.
type ExportJobOutput struct {
	Location string `header:"Location"`
	Body     ExportJobBody
}

// ExportIDInput names a job.
type ExportIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// ListExportsInput pages GET /attendance/exports.
type ListExportsInput struct {
	Cursor string `query:"cursor" maxLength:"512"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
}

// ExportListOutput is one page of the caller's jobs, newest first.
type ExportListOutput struct {
	Body struct {
		Items      []ExportJobBody `json:"items"`
		NextCursor string          `json:"nextCursor,omitempty"`
	}
}

func registerExports(api huma.API, s *Server) {
	register(api, op{ID: "create-attendance-export", Method: http.MethodPost, Path: "/attendance/export", Tag: "Attendance", Perm: auth.PermAttendanceExport,
		Status: http.StatusAccepted, Summary: "Export records or logs as CSV, XLSX or PDF",
		Desc: "Creates an export job and starts its workflow; poll `GET /attendance/exports/{id}` (the Location header) for progress and, " +
			"when completed, a presigned download URL. Rows stream from the database to the object store, so any size works."},
		s.createExport)
	register(api, op{ID: "list-attendance-exports", Method: http.MethodGet, Path: "/attendance/exports", Tag: "Attendance", Perm: auth.PermAttendanceExport,
		Summary: "The caller's export jobs, newest first"}, s.listExports)
	register(api, op{ID: "get-attendance-export", Method: http.MethodGet, Path: "/attendance/exports/{id}", Tag: "Attendance", Perm: auth.PermAttendanceExport,
		Summary: "An export job's status, progress and download URL"}, s.getExport)
	register(api, op{ID: "delete-attendance-export", Method: http.MethodDelete, Path: "/attendance/exports/{id}", Tag: "Attendance", Perm: auth.PermAttendanceExport,
		Status: http.StatusNoContent, Summary: "Cancel a running export, or delete a finished one and its file"}, s.deleteExport)
}

func (s *Server) createExport(ctx context.Context, in *CreateExportInput) (*ExportJobOutput, error) {
	b := &in.Body
	loc, err := s.zone("body.timezone", b.Timezone)
	if err != nil {
		return nil, err
	}
	f := store.ExportFilters{FaceProfileID: b.Filters.PersonID, EmployeeCode: b.Filters.EmployeeCode, Department: b.Filters.Department,
		CameraID: b.Filters.CameraID, Site: b.Filters.Site, Status: b.Filters.Status, Source: b.Filters.Source, Direction: b.Filters.Direction,
		From: b.Filters.From, To: b.Filters.To, IncludeDeleted: b.Filters.IncludeDeleted, Timezone: loc.String()}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return nil, fieldError("body.filters.to", "is before from", f.To)
	}
	if b.Kind == store.ExportRecords && (f.CameraID != "" || f.Source != "" || f.Direction != "" || f.IncludeDeleted) {
		return nil, fieldError("body.filters", "cameraId, source, direction and includeDeleted apply to logs only", nil)
	}
	if b.Kind == store.ExportLogs && f.Status != "" {
		return nil, fieldError("body.filters.status", "applies to records only", f.Status)
	}
	if b.Format == "pdf" {
		// fpdf builds the whole document in memory: refuse what would not fit.
		var n int
		if b.Kind == store.ExportLogs {
			n, err = store.CountAttendanceLogs(ctx, s.db, f.Logs())
		} else {
			n, err = store.CountAttendanceRecords(ctx, s.db, f.Records())
		}
		if err != nil {
			return nil, err
		}
		if limit := s.cfg.Attendance.ExportPDFMaxRows; n > limit {
			return nil, fieldError("body.format", fmt.Sprintf("a PDF holds at most %d rows and these filters select %d: choose csv or xlsx, or narrow the filters", limit, n), b.Format)
		}
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	owner := infoFrom(ctx).Principal.UserID
	id := uuid.NewString()
	job := &store.ExportJob{ID: id, OwnerID: &owner, Kind: b.Kind, Format: b.Format, Filters: raw,
		ObjectKey: blob.ExportKey(id, b.Format), ExpiresAt: s.now().Add(s.cfg.Attendance.ExportRetention)}
	if err := store.CreateExportJob(ctx, s.db, job); err != nil {
		return nil, err
	}
	if info := infoFrom(ctx); info != nil {
		info.AuditResourceID = id
	}
	_, err = s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ExportWorkflowID(id), TaskQueue: rctemporal.TaskQueueDefault,
		WorkflowExecutionTimeout: 7 * time.Hour}, workflows.ExportWorkflow, contract.ExportWorkflowInput{JobID: id})
	if err != nil {
		s.log.ErrorContext(ctx, "export workflow not started", slog.String("job_id", id), slog.String("error", err.Error()))
		wctx := context.WithoutCancel(ctx)
		_, _ = store.FinishExportJob(wctx, s.db, &store.ExportJob{ID: id, Status: store.ExportFailed, Error: "the export could not be started; try again"})
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the workflow service is unavailable; the export was not started")
	}
	job, err = store.FindExportJob(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return &ExportJobOutput{Location: "/api/v1/attendance/exports/" + id, Body: s.exportBody(ctx, job)}, nil
}

// ownedExport returns a job its caller may see: their own, or any for an
// administrator. Others' jobs are "not found", not "forbidden".
func (s *Server) ownedExport(ctx context.Context, id string) (*store.ExportJob, error) {
	j, err := store.FindExportJob(ctx, s.db, id)
	if err != nil {
		return nil, problemFor(err, "export")
	}
	p := infoFrom(ctx).Principal
	if (j.OwnerID == nil || *j.OwnerID != p.UserID) && !auth.Can(p.Role, auth.PermUsersManage) {
		return nil, newProblem(http.StatusNotFound, CodeNotFound, "no such export")
	}
	return j, nil
}

func (s *Server) getExport(ctx context.Context, in *ExportIDInput) (*ExportJobOutput, error) {
	j, err := s.ownedExport(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &ExportJobOutput{Body: s.exportBody(ctx, j)}, nil
}

func (s *Server) listExports(ctx context.Context, in *ListExportsInput) (*ExportListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	jobs, err := store.FindExportJobs(ctx, s.db, infoFrom(ctx).Principal.UserID, after, in.Limit+1)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &ExportListOutput{}
	out.Body.Items, out.Body.NextCursor = page(jobs, in.Limit,
		func(j *store.ExportJob) ExportJobBody { return s.exportBody(ctx, j) },
		func(j *store.ExportJob) store.Cursor { return store.Cursor{Time: j.CreatedAt, ID: j.ID} })
	return out, nil
}

func (s *Server) deleteExport(ctx context.Context, in *ExportIDInput) (*struct{}, error) {
	j, err := s.ownedExport(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if !j.Finished() {
		// The row decides: the running export stops at its next progress
		// step; cancelling the workflow also stops one that is waiting.
		if _, err := store.FinishExportJob(ctx, s.db, &store.ExportJob{ID: j.ID, Status: store.ExportCancelled, RowsWritten: j.RowsWritten}); err != nil {
			return nil, err
		}
		if err := s.temporal.CancelWorkflow(ctx, workflows.ExportWorkflowID(j.ID), ""); err != nil {
			s.log.WarnContext(ctx, "export workflow not cancelled", slog.String("job_id", j.ID), slog.String("error", err.Error()))
		}
		return nil, nil
	}
	if j.ObjectKey != "" {
		if err := s.blobs.Delete(ctx, j.ObjectKey); err != nil {
			return nil, err
		}
	}
	if err := store.DeleteExportJob(ctx, s.db, j.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

func (s *Server) exportBody(ctx context.Context, j *store.ExportJob) ExportJobBody {
	b := ExportJobBody{ID: j.ID, Kind: j.Kind, Format: j.Format, Status: j.Status, RowsTotal: j.RowsTotal, RowsWritten: j.RowsWritten,
		SizeBytes: j.SizeBytes, Error: j.Error, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, ExpiresAt: j.ExpiresAt}
	var f any
	if json.Unmarshal(j.Filters, &f) == nil {
		b.Filters = f
	}
	switch {
	case j.Status == store.ExportCompleted:
		b.Progress = 1
	case j.RowsTotal != nil && *j.RowsTotal > 0:
		b.Progress = float64(j.RowsWritten) / float64(*j.RowsTotal)
	}
	if j.Status == store.ExportCompleted && j.ObjectKey != "" {
		name := fmt.Sprintf("attendance-%s-%s.%s", j.Kind, j.CreatedAt.UTC().Format("20060102-1504"), j.Format)
		if url, err := s.blobs.PresignGet(ctx, j.ObjectKey, s.cfg.S3PresignedExpiry, name); err == nil {
			b.DownloadURL = url
		}
	}
	return b
}
