package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// TestManualCorrectionAndDelete enters a forgotten check-out by hand, then
// deletes a wrong check-in: each change rebuilds the day and reports the
// record before and after.
func TestManualCorrectionAndDelete(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := mustPerson(t, db, "M-1", "Ops")
	mustShift(t, db, &store.ShiftSchedule{Name: "Office", StartMinute: 9 * 60, EndMinute: 17 * 60, Days: []int16{0, 1, 2, 3, 4, 5, 6}, Timezone: "UTC"}, p.ID, "")
	in := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }

	wrong, _, err := store.RecordRecognition(ctx, db, attendance.DefaultRules(), store.RecognitionInput{
		DetectionID: uuid.NewString(), FaceProfileID: p.ID, CameraDirection: attendance.CameraEntry, At: in(7, 0), Similarity: 0.9})
	require.NoError(t, err)
	_, _, err = store.RecordRecognition(ctx, db, attendance.DefaultRules(), store.RecognitionInput{
		DetectionID: uuid.NewString(), FaceProfileID: p.ID, CameraDirection: attendance.CameraEntry, At: in(9, 30), Similarity: 0.9})
	require.NoError(t, err)

	admin := mustCreateUser(t, db, "hr-admin", "admin").ID
	c, err := store.AddManualLog(ctx, db, store.ManualLogInput{FaceProfileID: p.ID, At: in(17, 0), Direction: attendance.Out, Reason: "badge left at desk", UserID: admin})
	require.NoError(t, err)
	require.Equal(t, attendance.SourceManual, c.Log.Source)
	require.True(t, c.Before.Open, "before: the session was open")
	require.False(t, c.After.Open)
	require.Equal(t, attendance.StatusPresent, c.After.Status, "first check-in 07:00 is not late")
	require.Equal(t, 10*3600, c.After.WorkedSeconds)

	c, err = store.DeleteAttendanceLog(ctx, db, wrong.ID, admin, "someone else's face")
	require.NoError(t, err)
	require.NotNil(t, c.Log.DeletedAt)
	require.Equal(t, attendance.StatusLate, c.After.Status, "without the 07:00 check-in the day starts 09:30")
	require.Equal(t, 30*60, c.After.LateSeconds)

	_, err = store.DeleteAttendanceLog(ctx, db, wrong.ID, admin, "again")
	require.ErrorIs(t, err, store.ErrAlreadyDeleted)
	_, err = store.DeleteAttendanceLog(ctx, db, uuid.NewString(), admin, "missing")
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)

	logs, err := store.FindAttendanceLogs(ctx, db, store.AttendanceLogFilter{FaceProfileID: p.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, logs, 2, "the deleted log is left out")
	logs, err = store.FindAttendanceLogs(ctx, db, store.AttendanceLogFilter{FaceProfileID: p.ID, IncludeDeleted: true, Limit: 10})
	require.NoError(t, err)
	require.Len(t, logs, 3)
}

// TestCloseDay closes a day: a scheduled person with no check-in becomes
// absent, one who never checked out incomplete, someone off that day stays
// without a record; closing twice changes nothing.
func TestCloseDay(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	absent := mustPerson(t, db, "C-1", "Night")
	open := mustPerson(t, db, "C-2", "Night")
	unscheduled := mustPerson(t, db, "C-3", "")
	mustShift(t, db, &store.ShiftSchedule{Name: "Night", StartMinute: 22 * 60, EndMinute: 6 * 60, Days: []int16{4}, Timezone: "Europe/Berlin"}, "", "night")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	_, _, err := store.RecordRecognition(ctx, db, attendance.DefaultRules(), store.RecognitionInput{
		DetectionID: uuid.NewString(), FaceProfileID: open.ID, CameraDirection: attendance.CameraEntry,
		At: time.Date(2026, 12, 3, 21, 55, 0, 0, berlin), Similarity: 0.9})
	require.NoError(t, err)

	thursday := attendance.Date{Year: 2026, Month: 12, Day: 3}
	// Thursday's night shift (22:00-06:00) owns the moments from Thursday
	// 14:00 to Friday 14:00 in Berlin (the off hours split around it): at
	// Friday 13:59 the work day is not over and nothing is closed.
	r, closed, err := store.CloseDayIfEnded(ctx, db, absent.ID, thursday, time.Date(2026, 12, 4, 13, 59, 0, 0, berlin))
	require.NoError(t, err)
	require.False(t, closed, "the shift has not ended")
	require.Nil(t, r)

	ids, err := store.PeopleToClose(ctx, db, thursday, "", 100)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{absent.ID, open.ID, unscheduled.ID}, ids)
	for pass := range 2 {
		got := map[string]string{}
		for _, id := range []string{absent.ID, open.ID, unscheduled.ID} {
			r, closed, err := store.CloseDayIfEnded(ctx, db, id, thursday, time.Date(2026, 12, 4, 14, 0, 0, 0, berlin))
			require.NoError(t, err)
			require.True(t, closed, "pass %d: the work day ended at 14:00", pass)
			if r != nil {
				got[id] = r.Status
			}
		}
		require.Equal(t, map[string]string{absent.ID: attendance.StatusAbsent, open.ID: attendance.StatusIncomplete}, got, "pass %d", pass)
	}
	ids, err = store.PeopleToClose(ctx, db, thursday, "", 100)
	require.NoError(t, err)
	require.Equal(t, []string{unscheduled.ID}, ids, "closed days are not offered again; a person without a record still is")
	recs, err := store.FindAttendanceRecords(ctx, db, store.AttendanceRecordFilter{Status: attendance.StatusAbsent, Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.True(t, recs[0].Closed)
}

// TestAttendanceLogPages pages through logs with the cursor: every log
// once, newest first, whatever the page size.
func TestAttendanceLogPages(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := mustPerson(t, db, "P-1", "")
	base := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i := range 7 {
		_, err := store.AddManualLog(ctx, db, store.ManualLogInput{FaceProfileID: p.ID, At: base.Add(time.Duration(i) * 3 * time.Hour), Direction: attendance.In, Reason: "import"})
		require.NoError(t, err)
	}
	var seen []time.Time
	var after *store.Cursor
	for {
		page, err := store.FindAttendanceLogs(ctx, db, store.AttendanceLogFilter{After: after, Limit: 3})
		require.NoError(t, err)
		for _, l := range page {
			seen = append(seen, l.LoggedAt)
		}
		if len(page) < 3 {
			break
		}
		last := page[len(page)-1]
		after = &store.Cursor{Time: last.LoggedAt, ID: last.ID}
	}
	require.Len(t, seen, 7)
	for i := 1; i < len(seen); i++ {
		require.True(t, seen[i].Before(seen[i-1]), "not newest first at %d", i)
	}
	n, err := store.CountAttendanceLogs(ctx, db, store.AttendanceLogFilter{From: &base, To: ptr(base.Add(9 * time.Hour))})
	require.NoError(t, err)
	require.Equal(t, 3, n, "[08:00, 17:00) holds 08:00, 11:00, 14:00")
	_, err = store.FindAttendanceLogs(ctx, db, store.AttendanceLogFilter{After: &store.Cursor{Time: base, ID: "x"}, Limit: 3})
	require.ErrorIs(t, err, store.ErrBadCursor)
}

func ptr[T any](v T) *T { return &v }
