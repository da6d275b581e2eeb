package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// AttendanceRecordBody is one person's work day.
type AttendanceRecordBody struct {
	ID              string     `json:"id" format:"uuid"`
	FaceProfileID   string     `json:"faceProfileId,omitempty" format:"uuid" doc:"Empty once the person was erased"`
	EmployeeCode    string     `json:"employeeCode" example:"E-1001"`
	Department      string     `json:"department" example:"Operations"`
	Site            string     `json:"site" example:"HQ"`
	WorkDate        string     `json:"workDate" example:"2026-12-03"`
	ShiftID         string     `json:"shiftId,omitempty" format:"uuid"`
	FirstIn         *time.Time `json:"firstIn,omitempty"`
	LastOut         *time.Time `json:"lastOut,omitempty"`
	WorkedSeconds   int        `json:"workedSeconds" example:"30600"`
	BreakSeconds    int        `json:"breakSeconds" example:"3600"`
	LateSeconds     int        `json:"lateSeconds" example:"420"`
	EarlySeconds    int        `json:"earlySeconds" example:"0"`
	OvertimeSeconds int        `json:"overtimeSeconds" example:"0"`
	Status          string     `json:"status" enum:"present,late,early_leave,absent,incomplete,off" example:"late"`
	Open            bool       `json:"open" doc:"Checked in and not yet out"`
	LogCount        int        `json:"logCount"`
	Closed          bool       `json:"closed" doc:"The day-close has settled the day"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

func recordBody(r *store.AttendanceRecord) AttendanceRecordBody {
	if r == nil {
		return AttendanceRecordBody{}
	}
	b := AttendanceRecordBody{ID: r.ID, EmployeeCode: r.EmployeeCode, Department: r.Department, Site: r.Site,
		WorkDate: r.WorkDate.Format(time.DateOnly), FirstIn: r.FirstIn, LastOut: r.LastOut, WorkedSeconds: r.WorkedSeconds,
		BreakSeconds: r.BreakSeconds, LateSeconds: r.LateSeconds, EarlySeconds: r.EarlySeconds, OvertimeSeconds: r.OvertimeSeconds,
		Status: r.Status, Open: r.Open, LogCount: r.LogCount, Closed: r.Closed, UpdatedAt: r.UpdatedAt}
	if r.FaceProfileID != nil {
		b.FaceProfileID = *r.FaceProfileID
	}
	if r.ShiftID != nil {
		b.ShiftID = *r.ShiftID
	}
	return b
}

func recordBodyPtr(r *store.AttendanceRecord) *AttendanceRecordBody {
	if r == nil {
		return nil
	}
	b := recordBody(r)
	return &b
}

// ListAttendanceLogsInput filters GET /attendance/logs.
type ListAttendanceLogsInput struct {
	PersonID       string    `query:"personId" format:"uuid" doc:"Face profile ID"`
	EmployeeCode   string    `query:"employeeCode" maxLength:"64" example:"E-1001"`
	Department     string    `query:"department" maxLength:"100"`
	CameraID       string    `query:"cameraId" format:"uuid"`
	Site           string    `query:"site" maxLength:"100"`
	Source         string    `query:"source" enum:"camera,manual,import"`
	Direction      string    `query:"direction" enum:"in,out"`
	From           time.Time `query:"from" doc:"Logged at or after (RFC 3339)" example:"2026-12-01T00:00:00Z"`
	To             time.Time `query:"to" doc:"Logged before (RFC 3339)" example:"2026-12-08T00:00:00Z"`
	IncludeDeleted bool      `query:"includeDeleted" doc:"Include soft-deleted logs"`
	Cursor         string    `query:"cursor" maxLength:"512"`
	Limit          int       `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Total          bool      `query:"total" doc:"Also count every log the filters select"`
}

// AttendanceLogListOutput is one page of logs, newest first.
type AttendanceLogListOutput struct {
	Body struct {
		Items      []attendance.LogView `json:"items"`
		NextCursor string               `json:"nextCursor,omitempty"`
		Total      *int                 `json:"total,omitempty"`
	}
}

// ListAttendanceRecordsInput filters GET /attendance/records.
type ListAttendanceRecordsInput struct {
	PersonID     string `query:"personId" format:"uuid"`
	EmployeeCode string `query:"employeeCode" maxLength:"64"`
	Department   string `query:"department" maxLength:"100"`
	Site         string `query:"site" maxLength:"100"`
	Status       string `query:"status" enum:"present,late,early_leave,absent,incomplete,off"`
	From         string `query:"from" doc:"First work date (YYYY-MM-DD), inclusive" example:"2026-12-01"`
	To           string `query:"to" doc:"Last work date (YYYY-MM-DD), inclusive" example:"2026-12-07"`
	Cursor       string `query:"cursor" maxLength:"512"`
	Limit        int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Total        bool   `query:"total" doc:"Also count every record the filters select"`
}

// AttendanceRecordListOutput is one page of records, newest work date first.
type AttendanceRecordListOutput struct {
	Body struct {
		Items      []AttendanceRecordBody `json:"items"`
		NextCursor string                 `json:"nextCursor,omitempty"`
		Total      *int                   `json:"total,omitempty"`
	}
}

// ManualAttendanceInput is POST /attendance/manual.
type ManualAttendanceInput struct {
	Body struct {
		PersonID  string    `json:"personId" format:"uuid" doc:"Face profile ID of the person"`
		At        time.Time `json:"at" doc:"When the person came in or left (RFC 3339)" example:"2026-12-03T17:05:00+07:00"`
		Direction string    `json:"direction" enum:"in,out" example:"out"`
		Reason    string    `json:"reason" minLength:"3" maxLength:"500" example:"Forgot to pass the exit camera; confirmed by team lead"`
		Site      string    `json:"site,omitempty" maxLength:"100" example:"HQ"`
		Timezone  string    `json:"timezone,omitempty" maxLength:"64" example:"Asia/Ho_Chi_Minh" doc:"Zone of the work day for a person without a shift (default UTC)"`
	}
}

// DeleteAttendanceInput is DELETE /attendance/{id}.
type DeleteAttendanceInput struct {
	ID   string `path:"id" format:"uuid" doc:"Attendance log ID"`
	Body struct {
		Reason string `json:"reason" minLength:"3" maxLength:"500" example:"Recognised the wrong person"`
	}
}

// CorrectionOutput is what a manual change did.
type CorrectionOutput struct {
	Body struct {
		Log    attendance.LogView    `json:"log"`
		Before *AttendanceRecordBody `json:"before,omitempty" doc:"The day's record before the change"`
		After  *AttendanceRecordBody `json:"after,omitempty" doc:"The day's record after the change"`
	}
}

func registerAttendance(api huma.API, s *Server) {
	register(api, op{ID: "list-attendance-logs", Method: http.MethodGet, Path: "/attendance/logs", Tag: "Attendance", Perm: auth.PermAttendanceRead,
		Summary: "Attendance logs (check-ins and check-outs), newest first",
		Desc:    "Filter by person, employee code, department, camera, site, source, direction and time; page with `cursor`; `total=true` adds the count."},
		s.listAttendanceLogs)
	register(api, op{ID: "list-attendance-records", Method: http.MethodGet, Path: "/attendance/records", Tag: "Attendance", Perm: auth.PermAttendanceRead,
		Summary: "Daily attendance records, newest work date first",
		Desc:    "One record per person and work day: first in, last out, worked time, late/early minutes, overtime and status."},
		s.listAttendanceRecords)
	register(api, op{ID: "create-manual-attendance", Method: http.MethodPost, Path: "/attendance/manual", Tag: "Attendance", Perm: auth.PermAttendanceWrite,
		Status: http.StatusCreated, Summary: "Enter a check-in or check-out by hand",
		Desc: "A reason is required. The person's day is rebuilt; the answer and the audit log carry the record before and after."},
		s.createManualAttendance)
	register(api, op{ID: "delete-attendance-log", Method: http.MethodDelete, Path: "/attendance/{id}", Tag: "Attendance", Perm: auth.PermAttendanceWrite,
		Summary: "Delete an attendance log (soft, with a reason)",
		Desc:    "The log stays visible with `includeDeleted=true`; the day is rebuilt without it. Audited with the record before and after."},
		s.deleteAttendanceLog)
	register(api, op{ID: "list-pending-attendance", Method: http.MethodGet, Path: "/attendance/pending", Tag: "Attendance", Perm: auth.PermAttendanceRead,
		Summary: "Logs not yet synced to HR (pending or failed), oldest first"},
		s.listPendingAttendance)
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) listAttendanceLogs(ctx context.Context, in *ListAttendanceLogsInput) (*AttendanceLogListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	f := store.AttendanceLogFilter{FaceProfileID: in.PersonID, EmployeeCode: in.EmployeeCode, Department: in.Department, CameraID: in.CameraID,
		Site: in.Site, Source: in.Source, Direction: in.Direction, From: optionalTime(in.From), To: optionalTime(in.To),
		IncludeDeleted: in.IncludeDeleted, After: after, Limit: in.Limit + 1}
	logs, err := store.FindAttendanceLogs(ctx, s.db, f)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &AttendanceLogListOutput{}
	out.Body.Items, out.Body.NextCursor = page(logs, in.Limit, (*store.AttendanceLog).View,
		func(l *store.AttendanceLog) store.Cursor { return store.Cursor{Time: l.LoggedAt, ID: l.ID} })
	if in.Total {
		n, err := store.CountAttendanceLogs(ctx, s.db, f)
		if err != nil {
			return nil, err
		}
		out.Body.Total = &n
	}
	return out, nil
}

// parseDay reads an optional YYYY-MM-DD query value.
func parseDay(loc, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, fieldError(loc, "must be a date (YYYY-MM-DD)", v)
	}
	return &t, nil
}

func (s *Server) listAttendanceRecords(ctx context.Context, in *ListAttendanceRecordsInput) (*AttendanceRecordListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	from, err := parseDay("query.from", in.From)
	if err != nil {
		return nil, err
	}
	to, err := parseDay("query.to", in.To)
	if err != nil {
		return nil, err
	}
	f := store.AttendanceRecordFilter{FaceProfileID: in.PersonID, EmployeeCode: in.EmployeeCode, Department: in.Department,
		Site: in.Site, Status: in.Status, From: from, To: to, After: after, Limit: in.Limit + 1}
	recs, err := store.FindAttendanceRecords(ctx, s.db, f)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &AttendanceRecordListOutput{}
	out.Body.Items, out.Body.NextCursor = page(recs, in.Limit, recordBody,
		func(r *store.AttendanceRecord) store.Cursor { return store.Cursor{Time: r.WorkDate, ID: r.ID} })
	if in.Total {
		n, err := store.CountAttendanceRecords(ctx, s.db, f)
		if err != nil {
			return nil, err
		}
		out.Body.Total = &n
	}
	return out, nil
}

func (s *Server) createManualAttendance(ctx context.Context, in *ManualAttendanceInput) (*CorrectionOutput, error) {
	b := &in.Body
	if _, err := uuid.Parse(b.PersonID); err != nil {
		return nil, fieldError("body.personId", "must be a face profile ID", b.PersonID)
	}
	if strings.TrimSpace(b.Reason) == "" {
		return nil, fieldError("body.reason", "is required", b.Reason)
	}
	if b.Timezone != "" {
		if _, err := time.LoadLocation(b.Timezone); err != nil {
			return nil, fieldError("body.timezone", "is not a known time zone", b.Timezone)
		}
	}
	now := s.now()
	if b.At.After(now.Add(5 * time.Minute)) {
		return nil, fieldError("body.at", "is in the future", b.At)
	}
	if b.At.Before(now.AddDate(-1, 0, 0)) {
		return nil, fieldError("body.at", "is more than a year ago", b.At)
	}
	info := infoFrom(ctx)
	c, err := store.AddManualLog(ctx, s.db, store.ManualLogInput{FaceProfileID: b.PersonID, At: b.At, Direction: b.Direction,
		Reason: strings.TrimSpace(b.Reason), UserID: info.Principal.UserID, Timezone: b.Timezone, Site: b.Site})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fieldError("body.personId", "names no person", b.PersonID)
		}
		return nil, err
	}
	return s.correction(ctx, c), nil
}

func (s *Server) deleteAttendanceLog(ctx context.Context, in *DeleteAttendanceInput) (*CorrectionOutput, error) {
	if strings.TrimSpace(in.Body.Reason) == "" {
		return nil, fieldError("body.reason", "is required", in.Body.Reason)
	}
	c, err := store.DeleteAttendanceLog(ctx, s.db, in.ID, infoFrom(ctx).Principal.UserID, strings.TrimSpace(in.Body.Reason))
	if err != nil {
		return nil, problemFor(err, "attendance log")
	}
	return s.correction(ctx, c), nil
}

// correction answers a manual change and hands its before/after to the audit.
func (s *Server) correction(ctx context.Context, c *store.Correction) *CorrectionOutput {
	out := &CorrectionOutput{}
	out.Body.Log = c.Log.View()
	out.Body.Before, out.Body.After = recordBodyPtr(c.Before), recordBodyPtr(c.After)
	if info := infoFrom(ctx); info != nil {
		info.AuditResourceID = c.Log.ID
		info.AuditBefore, info.AuditAfter = out.Body.Before, out.Body.After
		if info.AuditBefore == nil {
			info.AuditBefore = map[string]any{}
		}
	}
	return out
}

// ListPendingInput pages GET /attendance/pending.
type ListPendingInput struct {
	Cursor string `query:"cursor" maxLength:"512"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

func (s *Server) listPendingAttendance(ctx context.Context, in *ListPendingInput) (*AttendanceLogListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	logs, err := store.FindUnsyncedLogs(ctx, s.db, after, in.Limit+1)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &AttendanceLogListOutput{}
	out.Body.Items, out.Body.NextCursor = page(logs, in.Limit, (*store.AttendanceLog).View,
		func(l *store.AttendanceLog) store.Cursor { return store.Cursor{Time: l.LoggedAt, ID: l.ID} })
	n, err := store.CountUnsyncedLogs(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out.Body.Total = &n
	return out, nil
}
