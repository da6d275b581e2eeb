package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// ShiftFields are a shift's editable fields.
type ShiftFields struct {
	Name              string  `json:"name" minLength:"1" maxLength:"100" example:"Office"`
	Start             string  `json:"start" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"09:00" doc:"Wall-clock start, HH:MM (24 h)"`
	End               string  `json:"end" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"17:30" doc:"Wall-clock end, HH:MM; before start means a night shift ending the next day"`
	Days              []int16 `json:"days" minItems:"1" maxItems:"7" example:"[1,2,3,4,5]" doc:"Weekdays the shift starts on, 0 = Sunday … 6 = Saturday"`
	LateGraceMinutes  int     `json:"lateGraceMinutes" required:"false" minimum:"0" maximum:"240" example:"5" doc:"Minutes after start before a check-in counts late"`
	EarlyGraceMinutes int     `json:"earlyGraceMinutes" required:"false" minimum:"0" maximum:"240" example:"5" doc:"Minutes before end a check-out may come without counting early"`
	BreakMinutes      int     `json:"breakMinutes" required:"false" minimum:"0" maximum:"720" example:"60" doc:"Unpaid break subtracted from worked time"`
	Timezone          string  `json:"timezone,omitempty" maxLength:"64" example:"Asia/Ho_Chi_Minh" doc:"IANA zone of start and end (default ROLLCALL_TIMEZONE)"`
}

// ShiftBody is a shift as the API shows it.
type ShiftBody struct {
	ID string `json:"id" format:"uuid"`
	ShiftFields
	Night     bool      `json:"night" doc:"Ends the day after it starts"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ShiftInput creates or replaces a shift.
type ShiftInput struct {
	Body ShiftFields
}

// ShiftIDInput names a shift.
type ShiftIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// UpdateShiftInput is PUT /shifts/{id}.
type UpdateShiftInput struct {
	ID   string `path:"id" format:"uuid"`
	Body ShiftFields
}

// ShiftOutput is one shift.
type ShiftOutput struct {
	Body ShiftBody
}

// ShiftListOutput lists every shift by name.
type ShiftListOutput struct {
	Body struct {
		Items []ShiftBody `json:"items"`
	}
}

// AssignmentBody is a shift given to a person or a department.
type AssignmentBody struct {
	ID         string    `json:"id" format:"uuid"`
	ShiftID    string    `json:"shiftId" format:"uuid"`
	PersonID   string    `json:"personId,omitempty" format:"uuid"`
	Department string    `json:"department,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// AssignShiftInput is POST /shifts/{id}/assignments.
type AssignShiftInput struct {
	ID   string `path:"id" format:"uuid"`
	Body struct {
		PersonID   string `json:"personId,omitempty" format:"uuid" doc:"A person (their own assignment wins over their department's)"`
		Department string `json:"department,omitempty" maxLength:"100" example:"Operations" doc:"Everyone of a department (any case)"`
	}
}

// AssignmentIDInput names an assignment of a shift.
type AssignmentIDInput struct {
	ID           string `path:"id" format:"uuid"`
	AssignmentID string `path:"assignmentId" format:"uuid"`
}

// AssignmentListOutput lists a shift's assignments.
type AssignmentListOutput struct {
	Body struct {
		Items []AssignmentBody `json:"items"`
	}
}

func registerShifts(api huma.API, s *Server) {
	register(api, op{ID: "list-shifts", Method: http.MethodGet, Path: "/shifts", Tag: "Shifts", Perm: auth.PermAttendanceRead,
		Summary: "Shift schedules, by name"}, s.listShifts)
	register(api, op{ID: "create-shift", Method: http.MethodPost, Path: "/shifts", Tag: "Shifts", Perm: auth.PermAttendanceWrite,
		Status: http.StatusCreated, Summary: "Create a shift schedule",
		Desc: "Start and end are wall-clock times in the shift's zone; an end before the start is a night shift. " +
			"Changes apply to days built afterwards (new logs, corrections, the day close)."}, s.createShift)
	register(api, op{ID: "get-shift", Method: http.MethodGet, Path: "/shifts/{id}", Tag: "Shifts", Perm: auth.PermAttendanceRead,
		Summary: "Get a shift schedule"}, s.getShift)
	register(api, op{ID: "update-shift", Method: http.MethodPut, Path: "/shifts/{id}", Tag: "Shifts", Perm: auth.PermAttendanceWrite,
		Summary: "Replace a shift schedule"}, s.updateShift)
	register(api, op{ID: "delete-shift", Method: http.MethodDelete, Path: "/shifts/{id}", Tag: "Shifts", Perm: auth.PermAttendanceWrite,
		Status: http.StatusNoContent, Summary: "Delete a shift schedule and its assignments"}, s.deleteShift)
	register(api, op{ID: "list-shift-assignments", Method: http.MethodGet, Path: "/shifts/{id}/assignments", Tag: "Shifts", Perm: auth.PermAttendanceRead,
		Summary: "Who works a shift: people and departments"}, s.listShiftAssignments)
	register(api, op{ID: "assign-shift", Method: http.MethodPost, Path: "/shifts/{id}/assignments", Tag: "Shifts", Perm: auth.PermAttendanceWrite,
		Status: http.StatusCreated, Summary: "Give a shift to a person or a department",
		Desc: "Send personId or department. A person or department has one shift: assigning another replaces it."}, s.assignShift)
	register(api, op{ID: "unassign-shift", Method: http.MethodDelete, Path: "/shifts/{id}/assignments/{assignmentId}", Tag: "Shifts",
		Perm: auth.PermAttendanceWrite, Status: http.StatusNoContent, Summary: "Remove an assignment"}, s.unassignShift)
}

// clockMinutes reads HH:MM as minutes after midnight.
func clockMinutes(v string) (int, bool) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// shiftFromFields validates the fields into a row (id set by the caller).
func (s *Server) shiftFromFields(f ShiftFields) (*store.ShiftSchedule, error) {
	start, ok := clockMinutes(f.Start)
	if !ok {
		return nil, fieldError("body.start", "must be HH:MM", f.Start)
	}
	end, ok := clockMinutes(f.End)
	if !ok {
		return nil, fieldError("body.end", "must be HH:MM", f.End)
	}
	if start == end {
		return nil, fieldError("body.end", "must differ from start", f.End)
	}
	days := slices.Clone(f.Days)
	slices.Sort(days)
	if len(slices.Compact(slices.Clone(days))) != len(days) {
		return nil, fieldError("body.days", "must not repeat a day", f.Days)
	}
	for _, d := range days {
		if d < 0 || d > 6 {
			return nil, fieldError("body.days", "are 0 (Sunday) to 6 (Saturday)", f.Days)
		}
	}
	tz := f.Timezone
	if tz == "" {
		tz = s.cfg.Attendance.Timezone
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, fieldError("body.timezone", "is not a known time zone", f.Timezone)
	}
	length := end - start
	if length < 0 {
		length += 24 * 60
	}
	if f.BreakMinutes >= length {
		return nil, fieldError("body.breakMinutes", "must be shorter than the shift", f.BreakMinutes)
	}
	name := strings.TrimSpace(f.Name)
	if name == "" {
		return nil, fieldError("body.name", "is required", f.Name)
	}
	return &store.ShiftSchedule{Name: name, StartMinute: start, EndMinute: end, Days: days, LateGraceMinutes: f.LateGraceMinutes,
		EarlyGraceMinutes: f.EarlyGraceMinutes, BreakMinutes: f.BreakMinutes, Timezone: tz}, nil
}

func shiftBody(r *store.ShiftSchedule) ShiftBody {
	return ShiftBody{ID: r.ID, ShiftFields: ShiftFields{Name: r.Name, Start: clock(r.StartMinute), End: clock(r.EndMinute), Days: r.Days,
		LateGraceMinutes: r.LateGraceMinutes, EarlyGraceMinutes: r.EarlyGraceMinutes, BreakMinutes: r.BreakMinutes, Timezone: r.Timezone},
		Night: r.EndMinute < r.StartMinute, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (s *Server) listShifts(ctx context.Context, _ *struct{}) (*ShiftListOutput, error) {
	rows, err := store.ListShifts(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := &ShiftListOutput{}
	out.Body.Items = make([]ShiftBody, 0, len(rows))
	for i := range rows {
		out.Body.Items = append(out.Body.Items, shiftBody(&rows[i]))
	}
	return out, nil
}

func (s *Server) createShift(ctx context.Context, in *ShiftInput) (*ShiftOutput, error) {
	row, err := s.shiftFromFields(in.Body)
	if err != nil {
		return nil, err
	}
	row.ID = uuid.NewString()
	if err := store.CreateShift(ctx, s.db, row); err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+row.Name+" already exists", row.Name))
	}
	if info := infoFrom(ctx); info != nil {
		info.AuditResourceID = row.ID
	}
	return &ShiftOutput{Body: shiftBody(row)}, nil
}

func (s *Server) getShift(ctx context.Context, in *ShiftIDInput) (*ShiftOutput, error) {
	row, err := store.FindShift(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+""+" already exists", ""))
	}
	return &ShiftOutput{Body: shiftBody(row)}, nil
}

func (s *Server) updateShift(ctx context.Context, in *UpdateShiftInput) (*ShiftOutput, error) {
	before, err := store.FindShift(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+""+" already exists", ""))
	}
	row, err := s.shiftFromFields(in.Body)
	if err != nil {
		return nil, err
	}
	row.ID = in.ID
	if err := store.UpdateShift(ctx, s.db, row); err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+row.Name+" already exists", row.Name))
	}
	if info := infoFrom(ctx); info != nil {
		info.AuditBefore, info.AuditAfter = shiftBody(before), shiftBody(row)
	}
	return &ShiftOutput{Body: shiftBody(row)}, nil
}

func (s *Server) deleteShift(ctx context.Context, in *ShiftIDInput) (*struct{}, error) {
	if err := store.DeleteShift(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+""+" already exists", ""))
	}
	return nil, nil
}

func assignmentBody(a *store.ShiftAssignment) AssignmentBody {
	b := AssignmentBody{ID: a.ID, ShiftID: a.ShiftID, CreatedAt: a.CreatedAt}
	if a.FaceProfileID != nil {
		b.PersonID = *a.FaceProfileID
	}
	if a.Department != nil {
		b.Department = *a.Department
	}
	return b
}

func (s *Server) listShiftAssignments(ctx context.Context, in *ShiftIDInput) (*AssignmentListOutput, error) {
	if _, err := store.FindShift(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+""+" already exists", ""))
	}
	as, err := store.ShiftAssignments(ctx, s.db, in.ID)
	if err != nil {
		return nil, err
	}
	out := &AssignmentListOutput{}
	out.Body.Items = make([]AssignmentBody, 0, len(as))
	for i := range as {
		out.Body.Items = append(out.Body.Items, assignmentBody(&as[i]))
	}
	return out, nil
}

// AssignmentOutput is one assignment.
type AssignmentOutput struct {
	Body AssignmentBody
}

func (s *Server) assignShift(ctx context.Context, in *AssignShiftInput) (*AssignmentOutput, error) {
	if _, err := store.FindShift(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "shift", conflictOn("body.name", "a shift named "+""+" already exists", ""))
	}
	b := in.Body
	dept := strings.TrimSpace(b.Department)
	a := &store.ShiftAssignment{ID: uuid.NewString(), ShiftID: in.ID}
	switch {
	case (b.PersonID == "") == (dept == ""):
		return nil, fieldError("body", "send either personId or department", nil)
	case b.PersonID != "":
		if _, err := store.FindFaceProfile(ctx, s.db, b.PersonID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fieldError("body.personId", "names no person", b.PersonID)
			}
			return nil, err
		}
		a.FaceProfileID = &b.PersonID
	default:
		a.Department = &dept
	}
	if err := store.AssignShift(ctx, s.db, a); err != nil {
		return nil, err
	}
	// An existing assignment of the person or department was moved here:
	// answer with the stored row.
	as, err := store.ShiftAssignments(ctx, s.db, in.ID)
	if err != nil {
		return nil, err
	}
	for i := range as {
		x := &as[i]
		if (a.FaceProfileID != nil && x.FaceProfileID != nil && *x.FaceProfileID == *a.FaceProfileID) ||
			(a.Department != nil && x.Department != nil && strings.EqualFold(*x.Department, *a.Department)) {
			if info := infoFrom(ctx); info != nil {
				info.AuditResourceID = in.ID
			}
			return &AssignmentOutput{Body: assignmentBody(x)}, nil
		}
	}
	return nil, fmt.Errorf("api: assignment of shift %s not found after writing it", in.ID)
}

func (s *Server) unassignShift(ctx context.Context, in *AssignmentIDInput) (*struct{}, error) {
	if err := store.DeleteShiftAssignment(ctx, s.db, in.ID, in.AssignmentID); err != nil {
		return nil, problemFor(err, "assignment of this shift")
	}
	return nil, nil
}
