package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

func mustPerson(tb testing.TB, db bun.IDB, code, department string) *store.FaceProfile {
	tb.Helper()
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: code, Name: "Person " + code, Department: department, Status: contract.FaceStatusActive}
	require.NoError(tb, store.CreateFaceProfile(context.Background(), db, p))
	return p
}

func mustShift(tb testing.TB, db bun.IDB, s *store.ShiftSchedule, profileID, department string) {
	tb.Helper()
	ctx := context.Background()
	s.ID = uuid.NewString()
	require.NoError(tb, store.CreateShift(ctx, db, s))
	a := &store.ShiftAssignment{ID: uuid.NewString(), ShiftID: s.ID}
	if profileID != "" {
		a.FaceProfileID = &profileID
	} else {
		a.Department = &department
	}
	require.NoError(tb, store.AssignShift(ctx, db, a))
}

// TestRecordRecognitionConcurrent has 10 writers, each on its own
// connection, offer the same person seen by several cameras within the same
// second - some of them the same detection - as workers of a busy site
// would, over 20 people: each person gets exactly one log.
func TestRecordRecognitionConcurrent(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	const people, writers = 20, 10
	for round := range people {
		p := mustPerson(t, db, fmt.Sprintf("E-%03d", round), "")
		dup := uuid.NewString()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		start := make(chan struct{})
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				det := uuid.NewString()
				if i%3 == 0 {
					det = dup
				}
				<-start
				_, _, err := store.RecordRecognition(ctx, db, attendance.DefaultRules(), store.RecognitionInput{
					DetectionID: det, FaceProfileID: p.ID, CameraDirection: attendance.CameraEntry, Timezone: "Asia/Ho_Chi_Minh",
					At: at.Add(time.Duration(i*50) * time.Millisecond), Similarity: 0.9,
				})
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	var perPerson []struct {
		ID string `bun:"face_profile_id"`
		N  int    `bun:"n"`
	}
	require.NoError(t, db.NewSelect().Table("attendance_logs").Column("face_profile_id").ColumnExpr("count(*) AS n").
		Group("face_profile_id").Scan(ctx, &perPerson))
	require.Len(t, perPerson, people)
	for _, pp := range perPerson {
		require.Equal(t, 1, pp.N, "concurrent writers created %d logs for one pass", pp.N)
	}
	var recs []store.AttendanceRecord
	require.NoError(t, db.NewSelect().Model(&recs).Scan(ctx))
	require.Len(t, recs, people)
	require.Equal(t, "2026-12-03", recs[0].WorkDate.Format(time.DateOnly), "08:00 in Ho Chi Minh City is 3 December")
	require.Equal(t, attendance.StatusPresent, recs[0].Status)
}

// TestRecordRecognitionDay walks a person with a department shift through
// a day: a late check-in, passes absorbed by the cooldown, a check-out, and
// the record follows.
func TestRecordRecognitionDay(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := mustPerson(t, db, "E-200", "Ops")
	mustShift(t, db, &store.ShiftSchedule{Name: "Day", StartMinute: 9 * 60, EndMinute: 17 * 60, Days: []int16{1, 2, 3, 4, 5},
		LateGraceMinutes: 5, BreakMinutes: 60, Timezone: "Asia/Ho_Chi_Minh"}, "", "ops")
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	seen := func(dir string, h, m int) *store.AttendanceLog {
		l, _, err := store.RecordRecognition(ctx, db, attendance.DefaultRules(), store.RecognitionInput{
			DetectionID: uuid.NewString(), FaceProfileID: p.ID, CameraDirection: dir, Timezone: "UTC",
			At: time.Date(2026, 12, 3, h, m, 0, 0, hcm), Similarity: 0.8,
		})
		require.NoError(t, err)
		return l
	}
	require.NotNil(t, seen(attendance.CameraEntry, 9, 20))
	require.Nil(t, seen(attendance.CameraEntry, 9, 22), "a pass within the cooldown logs again")
	require.Nil(t, seen(attendance.CameraExit, 9, 23), "another camera within the cooldown logs again")
	out := seen(attendance.CameraExit, 17, 30)
	require.NotNil(t, out)
	require.Equal(t, attendance.Out, out.Direction)

	var r store.AttendanceRecord
	require.NoError(t, db.NewSelect().Model(&r).Where("face_profile_id = ?", p.ID).Scan(ctx))
	require.Equal(t, attendance.StatusLate, r.Status)
	require.Equal(t, 20*60, r.LateSeconds)
	require.Equal(t, int((8*time.Hour+10*time.Minute-time.Hour)/time.Second), r.WorkedSeconds, fmt.Sprintf("%+v", r))
	require.NotNil(t, r.ShiftID)
	require.False(t, r.Open)
}
