package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// mustAttendancePerson creates an active person on an everyday 09:00-17:00
// UTC shift.
func (h *harness) mustAttendancePerson(code, name, department string) *store.FaceProfile {
	h.t.Helper()
	ctx := context.Background()
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: code, Name: name, Department: department, Status: contract.FaceStatusActive}
	require.NoError(h.t, store.CreateFaceProfile(ctx, h.db, p))
	shift, err := store.FindShiftByName(ctx, h.db, "Office")
	if err != nil {
		shift = &store.ShiftSchedule{ID: uuid.NewString(), Name: "Office", StartMinute: 9 * 60, EndMinute: 17 * 60,
			Days: []int16{0, 1, 2, 3, 4, 5, 6}, LateGraceMinutes: 5, Timezone: "UTC"}
		require.NoError(h.t, store.CreateShift(ctx, h.db, shift))
	}
	require.NoError(h.t, store.AssignShift(ctx, h.db, &store.ShiftAssignment{ID: uuid.NewString(), ShiftID: shift.ID, FaceProfileID: &p.ID}))
	return p
}

func decode[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &v), "%s", res.Body)
	return v
}

type correctionJSON struct {
	Log    attendance.LogView `json:"log"`
	Before *struct {
		Status string `json:"status"`
	} `json:"before"`
	After *struct {
		Status        string `json:"status"`
		LateSeconds   int    `json:"lateSeconds"`
		WorkedSeconds int    `json:"workedSeconds"`
		Open          bool   `json:"open"`
	} `json:"after"`
}

// TestManualAttendanceCorrections: HR enters a forgotten check-in and
// check-out with reasons, then deletes a wrong one; each answer and the
// audit log carry the day before and after; bad input changes nothing.
func TestManualAttendanceCorrections(t *testing.T) {
	h := newHarness(t)
	_, hr := h.mustUserToken("hanna", auth.RoleHR)
	p := h.mustAttendancePerson("E-1", "Ada", "Ops")
	day := time.Now().UTC().AddDate(0, 0, -1).Truncate(24 * time.Hour)

	res := h.as(hr, "POST", "/api/v1/attendance/manual", map[string]any{"personId": p.ID, "at": day.Add(9*time.Hour + 20*time.Minute), "direction": "in", "reason": "camera was down"})
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	in := decode[correctionJSON](t, res)
	require.Equal(t, "manual", in.Log.Source)
	require.Nil(t, in.Before, "no record before")
	require.Equal(t, attendance.StatusLate, in.After.Status)
	require.Equal(t, 20*60, in.After.LateSeconds)

	res = h.as(hr, "POST", "/api/v1/attendance/manual", map[string]any{"personId": p.ID, "at": day.Add(17 * time.Hour), "direction": "out", "reason": "left through the garage"})
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	out := decode[correctionJSON](t, res)
	require.True(t, out.Before != nil && out.After != nil && !out.After.Open)
	require.Equal(t, 7*3600+40*60, out.After.WorkedSeconds)

	// The audit log has the change with the record before and after.
	var changes string
	require.NoError(t, h.db.QueryRowContext(context.Background(),
		"SELECT changes::text FROM audit_logs WHERE action = 'create-manual-attendance' AND resource_id = ? ORDER BY id DESC LIMIT 1", out.Log.ID).Scan(&changes))
	var audit map[string]any
	require.NoError(t, json.Unmarshal([]byte(changes), &audit))
	require.Equal(t, "late", audit["before"].(map[string]any)["status"], changes)
	require.EqualValues(t, 7*3600+40*60, audit["after"].(map[string]any)["workedSeconds"], changes)
	require.Equal(t, "left through the garage", audit["request"].(map[string]any)["reason"])

	res = h.as(hr, "DELETE", "/api/v1/attendance/"+in.Log.ID, map[string]any{"reason": "entered for the wrong day"})
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	del := decode[correctionJSON](t, res)
	require.NotNil(t, del.Log.DeletedAt)
	require.Equal(t, "late", del.Before.Status)
	require.NotEqual(t, "late", del.After.Status, "without the check-in the day is no longer late")
	require.Equal(t, http.StatusConflict, h.as(hr, "DELETE", "/api/v1/attendance/"+in.Log.ID, map[string]any{"reason": "again"}).Code)
	require.Equal(t, http.StatusNotFound, h.as(hr, "DELETE", "/api/v1/attendance/"+uuid.NewString(), map[string]any{"reason": "missing"}).Code)

	// Refusals write nothing.
	n, err := store.CountAttendanceLogs(context.Background(), h.db, store.AttendanceLogFilter{IncludeDeleted: true})
	require.NoError(t, err)
	for _, bad := range []map[string]any{
		{"personId": p.ID, "at": day.Add(10 * time.Hour), "direction": "in"},                                          // no reason
		{"personId": p.ID, "at": day.Add(10 * time.Hour), "direction": "in", "reason": "   "},                         // blank reason
		{"personId": uuid.NewString(), "at": day.Add(10 * time.Hour), "direction": "in", "reason": "nobody"},          // unknown person
		{"personId": p.ID, "at": time.Now().Add(48 * time.Hour), "direction": "in", "reason": "future"},               // future
		{"personId": p.ID, "at": day.Add(10 * time.Hour), "direction": "sideways", "reason": "bad direction"},         // bad direction
		{"personId": p.ID, "at": day.Add(10 * time.Hour), "direction": "in", "reason": "tz", "timezone": "Mars/Base"}, // bad zone
	} {
		res := h.as(hr, "POST", "/api/v1/attendance/manual", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.Code, "%v: %s", bad, res.Body)
	}
	res = h.as(hr, "DELETE", "/api/v1/attendance/"+out.Log.ID, map[string]any{})
	require.Equal(t, http.StatusUnprocessableEntity, res.Code, "a deletion needs a reason")
	n2, err := store.CountAttendanceLogs(context.Background(), h.db, store.AttendanceLogFilter{IncludeDeleted: true})
	require.NoError(t, err)
	require.Equal(t, n, n2)
}

// seedAttendance records camera check-ins of people over several days.
func (h *harness) seedAttendance(people []*store.FaceProfile, days int) {
	h.t.Helper()
	base := time.Now().UTC().AddDate(0, 0, -days).Truncate(24 * time.Hour)
	for d := range days {
		for i, p := range people {
			at := base.AddDate(0, 0, d).Add(8*time.Hour + time.Duration(50+i*10)*time.Minute) // 08:50, 09:00, 09:10, …
			_, _, err := store.RecordRecognition(context.Background(), h.db, attendance.DefaultRules(), store.RecognitionInput{
				DetectionID: uuid.NewString(), FaceProfileID: p.ID, CameraDirection: attendance.CameraEntry, At: at, Similarity: 0.9, Site: "HQ"})
			require.NoError(h.t, err)
		}
	}
}

// TestAttendanceListsReportsAndHistory pages logs and records with
// filters, computes statistics and the overview, and draws a person's
// timeline.
func TestAttendanceListsReportsAndHistory(t *testing.T) {
	h := newHarness(t)
	_, viewer := h.mustUserToken("vic", auth.RoleViewer)
	a := h.mustAttendancePerson("A-1", "Ana", "Ops")
	b := h.mustAttendancePerson("B-1", "Ben", "Ops")
	c := h.mustAttendancePerson("C-1", "Cam", "Sales")
	h.seedAttendance([]*store.FaceProfile{a, b, c}, 5)

	type logPage struct {
		Items      []attendance.LogView `json:"items"`
		NextCursor string               `json:"nextCursor"`
		Total      *int                 `json:"total"`
	}
	seen := map[string]bool{}
	url := "/api/v1/attendance/logs?department=ops&limit=3&total=true"
	var last time.Time
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		res := h.as(viewer, "GET", url, nil)
		require.Equal(t, 200, res.Code, "%s", res.Body)
		pg := decode[logPage](t, res)
		require.NotNil(t, pg.Total)
		require.Equal(t, 10, *pg.Total)
		for _, l := range pg.Items {
			require.False(t, seen[l.ID], "a log twice")
			seen[l.ID] = true
			require.Equal(t, "Ops", l.Department)
			if !last.IsZero() {
				require.False(t, l.LoggedAt.After(last), "newest first")
			}
			last = l.LoggedAt
		}
		if pg.NextCursor == "" {
			break
		}
		url = "/api/v1/attendance/logs?department=ops&limit=3&total=true&cursor=" + pg.NextCursor
	}
	require.Len(t, seen, 10)

	res := h.as(viewer, "GET", "/api/v1/attendance/records?employeeCode=c-1&status=late&total=true", nil)
	require.Equal(t, 200, res.Code, "%s", res.Body)
	recs := decode[struct {
		Items []struct {
			EmployeeCode string `json:"employeeCode"`
			Status       string `json:"status"`
			LateSeconds  int    `json:"lateSeconds"`
		} `json:"items"`
		Total *int `json:"total"`
	}](t, res)
	require.Equal(t, 5, *recs.Total, "Cam arrives 09:10 daily: late every day")
	require.Equal(t, 10*60, recs.Items[0].LateSeconds)
	require.Equal(t, 422, h.as(viewer, "GET", "/api/v1/attendance/records?from=yesterday", nil).Code)
	require.Equal(t, 422, h.as(viewer, "GET", "/api/v1/attendance/logs?cursor=not-a-cursor", nil).Code)

	from := time.Now().UTC().AddDate(0, 0, -5).Format(time.DateOnly)
	to := time.Now().UTC().Format(time.DateOnly)
	res = h.as(viewer, "GET", "/api/v1/attendance/statistics?groupBy=person&from="+from+"&to="+to, nil)
	require.Equal(t, 200, res.Code, "%s", res.Body)
	stats := decode[struct {
		Items []struct {
			EmployeeCode   string `json:"employeeCode"`
			Present        int    `json:"present"`
			Late           int    `json:"late"`
			AverageArrival string `json:"averageArrival"`
		} `json:"items"`
	}](t, res)
	require.Len(t, stats.Items, 3)
	byCode := map[string]int{}
	for i, s := range stats.Items {
		byCode[s.EmployeeCode] = i
		require.Equal(t, 5, s.Present)
	}
	require.Equal(t, "08:50", stats.Items[byCode["A-1"]].AverageArrival)
	require.Equal(t, 0, stats.Items[byCode["A-1"]].Late)
	require.Equal(t, 5, stats.Items[byCode["C-1"]].Late)
	res = h.as(viewer, "GET", "/api/v1/attendance/statistics?groupBy=department&from="+from+"&to="+to, nil)
	require.Equal(t, 200, res.Code)
	require.Contains(t, res.Body.String(), `"key":"Ops"`)
	require.Equal(t, 422, h.as(viewer, "GET", "/api/v1/attendance/statistics?from="+to+"&to="+from, nil).Code, "to before from")
	require.Equal(t, 422, h.as(viewer, "GET", "/api/v1/attendance/statistics?from=2020-01-01&to=2026-01-01", nil).Code, "range too long")

	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	res = h.as(viewer, "GET", "/api/v1/attendance/overview?date="+yesterday, nil)
	require.Equal(t, 200, res.Code, "%s", res.Body)
	ov := decode[struct {
		Sites []store.SiteOverview `json:"sites"`
		Total store.SiteOverview   `json:"total"`
	}](t, res)
	require.Len(t, ov.Sites, 1)
	require.Equal(t, "HQ", ov.Sites[0].Site)
	require.Equal(t, 3, ov.Total.Present)
	require.Equal(t, 1, ov.Total.Late, "Ana 08:50 and Ben 09:00 are on time; Cam at 09:10 is past the 5-minute grace")

	res = h.as(viewer, "GET", "/api/v1/system/summary", nil)
	require.Equal(t, 200, res.Code, "%s", res.Body)
	sum := res.json(t)
	require.EqualValues(t, 3, sum["peopleRegistered"])
	require.EqualValues(t, 15, sum["pendingSync"])

	res = h.as(viewer, "GET", "/api/v1/history/person/a-1?limit=50", nil)
	require.Equal(t, 200, res.Code, "%s", res.Body)
	hist := decode[struct {
		PersonID string `json:"personId"`
		Items    []struct {
			Kind string    `json:"kind"`
			At   time.Time `json:"at"`
		} `json:"items"`
	}](t, res)
	require.Equal(t, a.ID, hist.PersonID)
	kinds := map[string]int{}
	for i, it := range hist.Items {
		kinds[it.Kind]++
		if i > 0 {
			require.False(t, it.At.After(hist.Items[i-1].At), "newest first")
		}
	}
	require.Equal(t, 5, kinds["attendance"])
	require.Equal(t, 5, kinds["record"])
	require.Equal(t, 404, h.as(viewer, "GET", "/api/v1/history/person/NOBODY", nil).Code)
}

type exportJSON struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	RowsTotal   *int    `json:"rowsTotal"`
	RowsWritten int     `json:"rowsWritten"`
	Progress    float64 `json:"progress"`
	DownloadURL string  `json:"downloadUrl"`
	Error       string  `json:"error"`
}

// TestAttendanceExportFlow exports logs through the Export workflow: the
// job is polled to completion, the file downloaded from its presigned URL
// holds the database's rows, another user cannot see it, and deleting it
// removes the file.
func TestAttendanceExportFlow(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withoutStreams)
	_, hr := h.mustUserToken("hr1", auth.RoleHR)
	_, hr2 := h.mustUserToken("hr2", auth.RoleHR)
	_, admin := h.mustUserToken("adm", auth.RoleAdmin)
	a := h.mustAttendancePerson("X-1", "Nguyễn Văn A", "Ops")
	h.seedAttendance([]*store.FaceProfile{a}, 4)

	res := h.as(hr, "POST", "/api/v1/attendance/export", map[string]any{"kind": "logs", "format": "csv", "filters": map[string]any{"department": "Ops"}, "timezone": "UTC"})
	require.Equal(t, http.StatusAccepted, res.Code, "%s", res.Body)
	job := decode[exportJSON](t, res)
	require.Equal(t, "/api/v1/attendance/exports/"+job.ID, res.Header().Get("Location"))

	deadline := time.Now().Add(60 * time.Second)
	for job.Status != "completed" {
		require.True(t, time.Now().Before(deadline), "export still %s", job.Status)
		require.NotContains(t, []string{"failed", "cancelled"}, job.Status, job.Error)
		time.Sleep(200 * time.Millisecond)
		job = decode[exportJSON](t, h.as(hr, "GET", "/api/v1/attendance/exports/"+job.ID, nil))
	}
	require.Equal(t, 4, *job.RowsTotal)
	require.Equal(t, 4, job.RowsWritten)
	require.InDelta(t, 1, job.Progress, 1e-9)
	require.NotEmpty(t, job.DownloadURL)

	resp, err := http.Get(job.DownloadURL)
	require.NoError(t, err)
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "%s", data)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attendance-logs-")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+4+1)
	require.Equal(t, "Nguyễn Văn A", rows[1][3])

	require.Equal(t, 404, h.as(hr2, "GET", "/api/v1/attendance/exports/"+job.ID, nil).Code, "another user's export is not found")
	require.Equal(t, 200, h.as(admin, "GET", "/api/v1/attendance/exports/"+job.ID, nil).Code, "an administrator sees it")
	list := decode[struct {
		Items []exportJSON `json:"items"`
	}](t, h.as(hr, "GET", "/api/v1/attendance/exports", nil))
	require.Len(t, list.Items, 1)
	require.Empty(t, decode[struct {
		Items []exportJSON `json:"items"`
	}](t, h.as(hr2, "GET", "/api/v1/attendance/exports", nil)).Items)

	// Filters that do not apply to the kind are refused; nothing is created.
	for _, bad := range []map[string]any{
		{"kind": "records", "format": "csv", "filters": map[string]any{"source": "manual"}},
		{"kind": "logs", "format": "csv", "filters": map[string]any{"status": "late"}},
		{"kind": "logs", "format": "docx"},
		{"kind": "logs", "format": "csv", "timezone": "Nowhere/City"},
	} {
		require.Equal(t, 422, h.as(hr, "POST", "/api/v1/attendance/export", bad).Code, "%v", bad)
	}
	var jobs int
	require.NoError(t, h.db.QueryRowContext(context.Background(), "SELECT count(*) FROM export_jobs").Scan(&jobs))
	require.Equal(t, 1, jobs)

	require.Equal(t, http.StatusNoContent, h.as(hr, "DELETE", "/api/v1/attendance/exports/"+job.ID, nil).Code)
	require.Equal(t, 404, h.as(hr, "GET", "/api/v1/attendance/exports/"+job.ID, nil).Code)
	resp, err = http.Get(job.DownloadURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode, "the file is gone")
}

// TestAttendanceFromCameraEndToEnd shows a registered person to an entry
// camera: one check-in (not one per frame) and a record against their
// shift, published on the attendance channel; the day-close workflow then
// marks a scheduled person who never came absent.
func TestAttendanceFromCameraEndToEnd(t *testing.T) {
	h := newHarness(t)
	hubReplica := h.mustStartReplica()
	h.live = hubReplica.hub
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)

	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-88", "name": "Grace Hopper", "department": "Ops"},
		[]formFile{{"a.jpg", "image/jpeg", photo(88, 0)}, {"b.jpg", "image/jpeg", photo(88, 1)}, {"c.jpg", "image/jpeg", photo(88, 2)}})
	var person faceJSON
	_ = json.Unmarshal(h.postForm(op, "/api/v1/faces", ct, body).Body.Bytes(), &person)
	h.waitFaceStatus(op, person.ID, "active")
	ctx := context.Background()
	shift := &store.ShiftSchedule{ID: uuid.NewString(), Name: "All day", StartMinute: 0, EndMinute: 23*60 + 59, Days: []int16{0, 1, 2, 3, 4, 5, 6}, Timezone: "UTC"}
	require.NoError(t, store.CreateShift(ctx, h.db, shift))
	dept := "Ops"
	require.NoError(t, store.AssignShift(ctx, h.db, &store.ShiftAssignment{ID: uuid.NewString(), ShiftID: shift.ID, Department: &dept}))

	ws := dialWS(t, hubReplica.url, "Authorization", "Bearer "+viewer)
	sendWS(t, ws, `{"type":"subscribe","id":"1","channels":["attendance"]}`)
	expectWS(t, ws, map[string]any{"type": "ack", "id": "1"})

	srv := testenv.StartCameraServer(t, "--image-mount", "/known="+writePhoto(t, "known.jpg", photo(88, 4)))
	cam := h.mustCreateCamera(op, map[string]any{"name": "Entrance", "url": srv.URL("/known"), "state": "active", "fps": 2, "direction": "entry", "site": "HQ"})

	ev := readEvent(t, ws, "attendance", 60*time.Second)
	raw, _ := json.Marshal(ev["data"])
	var l attendance.LogView
	require.NoError(t, json.Unmarshal(raw, &l))
	require.Equal(t, person.ID, l.FaceProfileID, "%s", raw)
	require.Equal(t, attendance.In, l.Direction)
	require.Equal(t, cam.ID, l.CameraID)
	require.Equal(t, "HQ", l.Site)

	// Frames keep coming at 2/s: still one check-in.
	h.waitStreamStatus(cam.ID, 30*time.Second, func(s contract.CameraStreamStatus) bool { return s.Counters.Known >= 8 })
	time.Sleep(time.Second)
	n, err := store.CountAttendanceLogs(ctx, h.db, store.AttendanceLogFilter{FaceProfileID: person.ID})
	require.NoError(t, err)
	require.Equal(t, 1, n, "one pass, one log")
	recs, err := store.FindAttendanceRecords(ctx, h.db, store.AttendanceRecordFilter{FaceProfileID: person.ID, Limit: 5})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Contains(t, []string{attendance.StatusPresent, attendance.StatusLate}, recs[0].Status)
	require.True(t, recs[0].Open)

	// Yesterday, a scheduled colleague never came: the day close marks them absent.
	absent := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "EMP-89", Name: "Absent", Department: "Ops", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, h.db, absent))
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	run, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "attendance-close-test-" + uuid.NewString(), TaskQueue: rctemporal.TaskQueueDefault},
		workflows.AttendanceCloseWorkflow, contract.AttendanceCloseInput{Date: yesterday})
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))
	recs, err = store.FindAttendanceRecords(ctx, h.db, store.AttendanceRecordFilter{FaceProfileID: absent.ID, Limit: 5})
	require.NoError(t, err)
	require.Len(t, recs, 1, "%s", fmt.Sprint(recs))
	require.Equal(t, attendance.StatusAbsent, recs[0].Status)
	require.Equal(t, yesterday, recs[0].WorkDate.Format(time.DateOnly))
}

// TestPDFExportCap refuses, before creating anything, a PDF longer than
// ROLLCALL_EXPORT_PDF_MAX_ROWS (fpdf holds the document in memory).
func TestPDFExportCap(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) { c.Attendance.ExportPDFMaxRows = 3 })
	_, hr := h.mustUserToken("hr1", auth.RoleHR)
	h.seedAttendance([]*store.FaceProfile{h.mustAttendancePerson("P-1", "P", "Ops")}, 4)
	res := h.as(hr, "POST", "/api/v1/attendance/export", map[string]any{"kind": "logs", "format": "pdf"})
	require.Equal(t, 422, res.Code, "%s", res.Body)
	require.Contains(t, res.Body.String(), "at most 3 rows")
	var jobs int
	require.NoError(t, h.db.QueryRowContext(context.Background(), "SELECT count(*) FROM export_jobs").Scan(&jobs))
	require.Zero(t, jobs)
	res = h.as(hr, "POST", "/api/v1/attendance/export", map[string]any{"kind": "logs", "format": "pdf", "filters": map[string]any{"from": time.Now().Add(-36 * time.Hour)}})
	require.Equal(t, http.StatusAccepted, res.Code, "a narrower PDF is accepted: %s", res.Body)
}
