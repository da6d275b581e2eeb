package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// maxStatsDays bounds a statistics range.
const maxStatsDays = 366

// StatisticsInput is GET /attendance/statistics.
type StatisticsInput struct {
	From       string `query:"from" required:"true" doc:"First work date (YYYY-MM-DD)" example:"2026-11-01"`
	To         string `query:"to" required:"true" doc:"Last work date (YYYY-MM-DD), inclusive; at most 366 days after from" example:"2026-11-30"`
	GroupBy    string `query:"groupBy" enum:"day,person,department" default:"day"`
	Department string `query:"department" maxLength:"100"`
	Site       string `query:"site" maxLength:"100"`
	PersonID   string `query:"personId" format:"uuid"`
	Timezone   string `query:"timezone" maxLength:"64" doc:"Zone average arrival is read in (default: ROLLCALL_TIMEZONE)" example:"Asia/Ho_Chi_Minh"`
}

// StatisticsRow is one group's figures over the range.
type StatisticsRow struct {
	Key            string  `json:"key" doc:"The day (YYYY-MM-DD), person ID or department" example:"2026-11-03"`
	EmployeeCode   string  `json:"employeeCode,omitempty"`
	Name           string  `json:"name,omitempty"`
	Days           int     `json:"days" doc:"Scheduled or attended person-days"`
	Present        int     `json:"present" doc:"Days with a check-in"`
	Late           int     `json:"late"`
	EarlyLeave     int     `json:"earlyLeave"`
	Absent         int     `json:"absent"`
	Incomplete     int     `json:"incomplete" doc:"Days never checked out"`
	AverageArrival string  `json:"averageArrival,omitempty" doc:"Mean first check-in, HH:MM in the zone" example:"08:52"`
	WorkedHours    float64 `json:"workedHours" example:"161.5"`
	AverageWorked  float64 `json:"averageWorkedHours" doc:"Mean worked hours per attended day" example:"8.1"`
	OvertimeHours  float64 `json:"overtimeHours" example:"4.25"`
	LateMinutes    int64   `json:"lateMinutes" example:"35"`
}

// StatisticsOutput lists the groups in key order.
type StatisticsOutput struct {
	Body struct {
		From     string          `json:"from"`
		To       string          `json:"to"`
		GroupBy  string          `json:"groupBy"`
		Timezone string          `json:"timezone"`
		Items    []StatisticsRow `json:"items"`
	}
}

// OverviewInput is GET /attendance/overview.
type OverviewInput struct {
	Date     string `query:"date" doc:"Work date (YYYY-MM-DD); default today in the zone" example:"2026-12-03"`
	Timezone string `query:"timezone" maxLength:"64" doc:"Zone of today (default: ROLLCALL_TIMEZONE)"`
}

// OverviewOutput is one day at a glance, per site.
type OverviewOutput struct {
	Body struct {
		Date  string               `json:"date"`
		Sites []store.SiteOverview `json:"sites"`
		Total store.SiteOverview   `json:"total"`
	}
}

// SummaryInput is GET /system/summary.
type SummaryInput struct {
	Timezone string `query:"timezone" maxLength:"64" doc:"Zone of today (default: ROLLCALL_TIMEZONE)"`
}

// SummaryOutput is the system at a glance.
type SummaryOutput struct {
	Body struct {
		Date string `json:"date"`
		store.Summary
	}
}

// HistoryInput is GET /history/person/{employeeId}.
type HistoryInput struct {
	EmployeeID string    `path:"employeeId" maxLength:"64" doc:"Employee code, or the face profile ID" example:"E-1001"`
	From       time.Time `query:"from" doc:"From (RFC 3339); default 30 days before to"`
	To         time.Time `query:"to" doc:"Until (RFC 3339); default now"`
	Limit      int       `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"At most this many of each kind"`
}

// HistoryItem is one event of a person's timeline.
type HistoryItem struct {
	Kind        string                `json:"kind" enum:"detection,attendance,correction,deletion,record"`
	At          time.Time             `json:"at"`
	Detection   *HistoryDetection     `json:"detection,omitempty"`
	Log         *attendance.LogView   `json:"log,omitempty"`
	Record      *AttendanceRecordBody `json:"record,omitempty"`
	SnapshotURL string                `json:"snapshotUrl,omitempty" doc:"Presigned URL of the frame, when one was kept"`
}

// HistoryDetection is a detection of the person.
type HistoryDetection struct {
	ID         string  `json:"id" format:"uuid"`
	CameraID   string  `json:"cameraId,omitempty" format:"uuid"`
	Similarity float64 `json:"similarity"`
	Source     string  `json:"source" enum:"stream,send-frame"`
}

// HistoryOutput is a person's timeline, newest first.
type HistoryOutput struct {
	Body struct {
		PersonID     string        `json:"personId" format:"uuid"`
		EmployeeCode string        `json:"employeeCode"`
		Name         string        `json:"name"`
		Department   string        `json:"department"`
		From         time.Time     `json:"from"`
		To           time.Time     `json:"to"`
		Items        []HistoryItem `json:"items"`
	}
}

func registerAttendanceReports(api huma.API, s *Server) {
	register(api, op{ID: "attendance-statistics", Method: http.MethodGet, Path: "/attendance/statistics", Tag: "Attendance", Perm: auth.PermAttendanceRead,
		Summary: "Attendance statistics per day, person or department",
		Desc:    "Present, late, early-leave, absent and incomplete days, average arrival, worked hours and overtime over a range of work dates."},
		s.attendanceStatistics)
	register(api, op{ID: "attendance-overview", Method: http.MethodGet, Path: "/attendance/overview", Tag: "Attendance", Perm: auth.PermAttendanceRead,
		Summary: "Today at a glance, per site"}, s.attendanceOverview)
	register(api, op{ID: "system-summary", Method: http.MethodGet, Path: "/system/summary", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "Cameras online/offline, people registered, present today, detections today, pending sync"}, s.systemSummary)
	register(api, op{ID: "person-history", Method: http.MethodGet, Path: "/history/person/{employeeId}", Tag: "Attendance", Perm: auth.PermAttendanceRead,
		Summary: "One timeline of a person's detections, attendance, corrections and records",
		Desc:    "Newest first, each kind capped at `limit`; detections and logs with a kept frame carry a presigned snapshot URL."},
		s.personHistory)
}

// zone returns the named zone, or the configured one for "".
func (s *Server) zone(loc, name string) (*time.Location, error) {
	if name == "" {
		return s.cfg.Attendance.Location(), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, fieldError(loc, "is not a known time zone", name)
	}
	return z, nil
}

func (s *Server) attendanceStatistics(ctx context.Context, in *StatisticsInput) (*StatisticsOutput, error) {
	from, err := attendance.ParseDate(in.From)
	if err != nil {
		return nil, fieldError("query.from", "must be a date (YYYY-MM-DD)", in.From)
	}
	to, err := attendance.ParseDate(in.To)
	if err != nil {
		return nil, fieldError("query.to", "must be a date (YYYY-MM-DD)", in.To)
	}
	if to.Before(from) {
		return nil, fieldError("query.to", "is before from", in.To)
	}
	if from.AddDays(maxStatsDays).Before(to) {
		return nil, fieldError("query.to", fmt.Sprintf("is more than %d days after from", maxStatsDays), in.To)
	}
	loc, err := s.zone("query.timezone", in.Timezone)
	if err != nil {
		return nil, err
	}
	rows, err := store.AttendanceStatistics(ctx, s.db, store.StatsQuery{From: from, To: to, GroupBy: in.GroupBy, Department: in.Department,
		Site: in.Site, FaceProfileID: in.PersonID, Timezone: loc.String()})
	if err != nil {
		return nil, err
	}
	out := &StatisticsOutput{}
	out.Body.From, out.Body.To, out.Body.GroupBy, out.Body.Timezone = from.String(), to.String(), in.GroupBy, loc.String()
	out.Body.Items = make([]StatisticsRow, 0, len(rows))
	for _, r := range rows {
		row := StatisticsRow{Key: r.Key, EmployeeCode: r.EmployeeCode, Name: r.Name, Days: r.Days, Present: r.Attended, Late: r.Late,
			EarlyLeave: r.EarlyLeave, Absent: r.Absent, Incomplete: r.Incomplete, WorkedHours: hours(r.WorkedSeconds),
			OvertimeHours: hours(r.OvertimeSeconds), LateMinutes: r.LateSeconds / 60}
		if r.AverageArrival != nil {
			m := int(*r.AverageArrival+30) / 60
			row.AverageArrival = fmt.Sprintf("%02d:%02d", m/60, m%60)
		}
		if r.AverageWorkedSecs != nil {
			row.AverageWorked = hours(int64(*r.AverageWorkedSecs))
		}
		out.Body.Items = append(out.Body.Items, row)
	}
	return out, nil
}

// hours is seconds as hours, to the hundredth.
func hours(sec int64) float64 { return float64(sec*100/3600) / 100 }

func (s *Server) attendanceOverview(ctx context.Context, in *OverviewInput) (*OverviewOutput, error) {
	loc, err := s.zone("query.timezone", in.Timezone)
	if err != nil {
		return nil, err
	}
	d := attendance.DateOf(s.now(), loc)
	if in.Date != "" {
		if d, err = attendance.ParseDate(in.Date); err != nil {
			return nil, fieldError("query.date", "must be a date (YYYY-MM-DD)", in.Date)
		}
	}
	sites, err := store.AttendanceOverview(ctx, s.db, d)
	if err != nil {
		return nil, err
	}
	out := &OverviewOutput{}
	out.Body.Date, out.Body.Sites = d.String(), sites
	if out.Body.Sites == nil {
		out.Body.Sites = []store.SiteOverview{}
	}
	for _, o := range sites {
		t := &out.Body.Total
		t.Scheduled += o.Scheduled
		t.Present += o.Present
		t.Late += o.Late
		t.EarlyLeave += o.EarlyLeave
		t.Absent += o.Absent
		t.Incomplete += o.Incomplete
		t.In += o.In
	}
	return out, nil
}

func (s *Server) systemSummary(ctx context.Context, in *SummaryInput) (*SummaryOutput, error) {
	loc, err := s.zone("query.timezone", in.Timezone)
	if err != nil {
		return nil, err
	}
	now := s.now().In(loc)
	today := attendance.DateOf(now, loc)
	sum, err := store.SystemSummary(ctx, s.db, today, today.At(0, loc))
	if err != nil {
		return nil, err
	}
	out := &SummaryOutput{}
	out.Body.Date, out.Body.Summary = today.String(), sum
	return out, nil
}

func (s *Server) personHistory(ctx context.Context, in *HistoryInput) (*HistoryOutput, error) {
	var p *store.FaceProfile
	var err error
	if _, perr := uuid.Parse(in.EmployeeID); perr == nil {
		p, err = store.FindFaceProfile(ctx, s.db, in.EmployeeID)
	} else {
		p, err = store.FindFaceProfileByCode(ctx, s.db, in.EmployeeID)
	}
	if err != nil {
		return nil, problemFor(err, "person with that employee code or ID")
	}
	to := in.To
	if to.IsZero() {
		to = s.now()
	}
	from := in.From
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) {
		return nil, fieldError("query.from", "must be before to", in.From)
	}

	out := &HistoryOutput{}
	b := &out.Body
	b.PersonID, b.EmployeeCode, b.Name, b.Department, b.From, b.To = p.ID, p.EmployeeCode, p.Name, p.Department, from, to
	b.Items = []HistoryItem{}

	dets, err := store.PersonDetections(ctx, s.db, p.ID, from, to, in.Limit)
	if err != nil {
		return nil, err
	}
	for _, d := range dets {
		it := HistoryItem{Kind: "detection", At: d.DetectedAt, Detection: &HistoryDetection{ID: d.ID, Similarity: d.Similarity, Source: d.Source}}
		if d.CameraID != nil {
			it.Detection.CameraID = *d.CameraID
		}
		it.SnapshotURL = s.presign(ctx, d.SnapshotKey)
		b.Items = append(b.Items, it)
	}
	logs, err := store.FindAttendanceLogs(ctx, s.db, store.AttendanceLogFilter{FaceProfileID: p.ID, From: &from, To: &to, IncludeDeleted: true, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	for i := range logs {
		l := &logs[i]
		v := l.View()
		kind := "attendance"
		if l.Source == attendance.SourceManual {
			kind = "correction"
		}
		b.Items = append(b.Items, HistoryItem{Kind: kind, At: l.LoggedAt, Log: &v, SnapshotURL: s.presign(ctx, l.SnapshotKey)})
		if l.DeletedAt != nil {
			b.Items = append(b.Items, HistoryItem{Kind: "deletion", At: *l.DeletedAt, Log: &v})
		}
	}
	fromDay, toDay := from.UTC().AddDate(0, 0, -1), to.UTC()
	recs, err := store.FindAttendanceRecords(ctx, s.db, store.AttendanceRecordFilter{FaceProfileID: p.ID, From: &fromDay, To: &toDay, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	for i := range recs {
		r := recordBody(&recs[i])
		at := recs[i].UpdatedAt
		if recs[i].FirstIn != nil {
			at = *recs[i].FirstIn
		}
		b.Items = append(b.Items, HistoryItem{Kind: "record", At: at, Record: &r})
	}
	sort.SliceStable(b.Items, func(i, j int) bool { return b.Items[i].At.After(b.Items[j].At) })
	return out, nil
}

// presign returns a presigned URL of a kept frame ("" without one, or when
// signing fails: the timeline is still worth answering).
func (s *Server) presign(ctx context.Context, key string) string {
	if key == "" || s.blobs == nil {
		return ""
	}
	url, err := s.blobs.PresignGet(ctx, key, s.cfg.S3PresignedExpiry, "")
	if err != nil {
		return ""
	}
	return url
}
