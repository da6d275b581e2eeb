package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// TestShifts: HR creates, lists, changes and deletes shift schedules and
// assigns them to people and departments; a person's own assignment wins;
// bad input is refused with the field named and nothing written.
func TestShifts(t *testing.T) {
	h := newHarness(t)
	_, hr := h.mustUserToken("hanna", auth.RoleHR)
	_, viewer := h.mustUserToken("vic", auth.RoleViewer)
	ctx := context.Background()

	office := map[string]any{"name": "Office", "start": "09:00", "end": "17:30", "days": []int{1, 2, 3, 4, 5}, "lateGraceMinutes": 5,
		"earlyGraceMinutes": 5, "breakMinutes": 60, "timezone": "Asia/Ho_Chi_Minh"}
	res := h.as(hr, "POST", "/api/v1/shifts", office)
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	shift := res.json(t)
	id := shift["id"].(string)
	require.Equal(t, false, shift["night"])
	night := map[string]any{"name": "Night", "start": "22:00", "end": "06:00", "days": []int{0, 1, 2, 3, 4, 5, 6}, "breakMinutes": 30}
	res = h.as(hr, "POST", "/api/v1/shifts", night)
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	require.Equal(t, true, res.json(t)["night"])
	require.Equal(t, "UTC", res.json(t)["timezone"], "the configured zone by default")

	for name, bad := range map[string]map[string]any{
		"body.start":        {"name": "X", "start": "9am", "end": "17:00", "days": []int{1}},
		"body.end":          {"name": "X", "start": "09:00", "end": "09:00", "days": []int{1}},
		"body.days":         {"name": "X", "start": "09:00", "end": "17:00", "days": []int{1, 1}},
		"body.days[0]":      {"name": "X", "start": "09:00", "end": "17:00", "days": []int{7}},
		"body.timezone":     {"name": "X", "start": "09:00", "end": "17:00", "days": []int{1}, "timezone": "Mars/Base"},
		"body.breakMinutes": {"name": "X", "start": "09:00", "end": "10:00", "days": []int{1}, "breakMinutes": 90},
	} {
		res := h.as(hr, "POST", "/api/v1/shifts", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.Code, "%s: %s", name, res.Body)
	}
	require.Equal(t, http.StatusConflict, h.as(hr, "POST", "/api/v1/shifts", map[string]any{"name": "office", "start": "08:00", "end": "16:00", "days": []int{1}}).Code)
	require.Equal(t, http.StatusForbidden, h.as(viewer, "POST", "/api/v1/shifts", office).Code)

	res = h.as(viewer, "GET", "/api/v1/shifts", nil)
	require.Equal(t, 200, res.Code)
	require.Len(t, res.json(t)["items"], 2)

	office["end"] = "18:00"
	res = h.as(hr, "PUT", "/api/v1/shifts/"+id, office)
	require.Equal(t, 200, res.Code, "%s", res.Body)
	require.Equal(t, "18:00", res.json(t)["end"])
	require.Equal(t, 404, h.as(hr, "PUT", "/api/v1/shifts/"+uuid.NewString(), office).Code)

	// Assignments: the department works the office shift, one person nights.
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "S-1", Name: "Sam", Department: "Ops", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, h.db, p))
	res = h.as(hr, "POST", "/api/v1/shifts/"+id+"/assignments", map[string]any{"department": "Ops"})
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	got, err := store.ShiftForPerson(ctx, h.db, p.ID, "Ops")
	require.NoError(t, err)
	require.Equal(t, "Office", got.Name)
	nightID := ""
	for _, it := range h.as(viewer, "GET", "/api/v1/shifts", nil).json(t)["items"].([]any) {
		if it.(map[string]any)["name"] == "Night" {
			nightID = it.(map[string]any)["id"].(string)
		}
	}
	res = h.as(hr, "POST", "/api/v1/shifts/"+nightID+"/assignments", map[string]any{"personId": p.ID})
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	personal := res.json(t)["id"].(string)
	got, err = store.ShiftForPerson(ctx, h.db, p.ID, "Ops")
	require.NoError(t, err)
	require.Equal(t, "Night", got.Name, "a person's own assignment wins")
	require.Equal(t, 422, h.as(hr, "POST", "/api/v1/shifts/"+id+"/assignments", map[string]any{"personId": uuid.NewString()}).Code)
	require.Equal(t, 422, h.as(hr, "POST", "/api/v1/shifts/"+id+"/assignments", map[string]any{}).Code)

	// The night shift counts a check-in at 22:10 on Monday, Berlin-free (UTC).
	_, _, err = store.RecordRecognition(ctx, h.db, attendance.DefaultRules(), store.RecognitionInput{DetectionID: uuid.NewString(), FaceProfileID: p.ID,
		CameraDirection: attendance.CameraEntry, At: time.Date(2026, 11, 30, 22, 10, 0, 0, time.UTC), Similarity: 0.9})
	require.NoError(t, err)
	recs, err := store.FindAttendanceRecords(ctx, h.db, store.AttendanceRecordFilter{FaceProfileID: p.ID, Limit: 5})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, attendance.StatusLate, recs[0].Status)

	require.Equal(t, http.StatusNoContent, h.as(hr, "DELETE", "/api/v1/shifts/"+nightID+"/assignments/"+personal, nil).Code)
	got, err = store.ShiftForPerson(ctx, h.db, p.ID, "Ops")
	require.NoError(t, err)
	require.Equal(t, "Office", got.Name, "back to the department's shift")
	require.Equal(t, http.StatusNoContent, h.as(hr, "DELETE", "/api/v1/shifts/"+id, nil).Code)
	require.Equal(t, 404, h.as(viewer, "GET", "/api/v1/shifts/"+id, nil).Code)
	got, err = store.ShiftForPerson(ctx, h.db, p.ID, "Ops")
	require.NoError(t, err)
	require.Nil(t, got, "deleting a shift removes its assignments")
}
