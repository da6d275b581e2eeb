package activities_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

type capturePublisher struct {
	mu     sync.Mutex
	events map[string][]live.Event
}

func (p *capturePublisher) Publish(_ context.Context, channel string, e live.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.events == nil {
		p.events = map[string][]live.Event{}
	}
	p.events[channel] = append(p.events[channel], e)
	return nil
}

func (p *capturePublisher) count(channel string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events[channel])
}

// TestAttendanceFeederOnePassOneLog offers what 20 entry cameras send for
// 10 people standing in view for 30 seconds (a recognition per camera per
// second, 6,000 in all) plus unknown faces: each person is checked in once,
// each check-in is published on the attendance channel, and most repeats
// are settled without a query.
func TestAttendanceFeederOnePassOneLog(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var people []string
	for i := range 10 {
		p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: fmt.Sprintf("F-%d", i), Name: "P", Status: contract.FaceStatusActive}
		require.NoError(t, store.CreateFaceProfile(ctx, db, p))
		people = append(people, p.ID)
	}
	pub := &capturePublisher{}
	f := activities.NewAttendanceFeeder(db, attendance.DefaultRules(), pub, slog.New(slog.DiscardHandler), 1024, 4)
	go f.Run(ctx)

	start := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	for s := range 30 {
		for range 20 { // cameras
			for _, p := range people {
				in := store.RecognitionInput{DetectionID: uuid.NewString(), FaceProfileID: p, CameraDirection: attendance.CameraEntry,
					At: start.Add(time.Duration(s) * time.Second), Similarity: 0.9, Timezone: "UTC", CameraID: ""}
				for !f.Offer(in) { // the test wants every recognition through: wait for room
					time.Sleep(time.Millisecond)
				}
			}
			f.Offer(store.RecognitionInput{DetectionID: uuid.NewString(), CameraDirection: attendance.CameraEntry, At: start, Similarity: 0.3})
		}
	}
	require.Eventually(t, func() bool { return pub.count(live.ChannelAttendance) == len(people) }, 20*time.Second, 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // anything still queued would add logs now
	n, err := store.CountAttendanceLogs(ctx, db, store.AttendanceLogFilter{})
	require.NoError(t, err)
	require.Equal(t, len(people), n, "one pass per person, one log")
	require.Equal(t, len(people), pub.count(live.ChannelAttendance))
	c := f.Counts()
	require.Equal(t, int64(len(people)), c.Logged)
	require.Greater(t, c.Settled, int64(5000), "repeats should be settled in memory, counts %+v", c)
	ev := pub.events[live.ChannelAttendance][0]
	require.Equal(t, attendance.EventLogCreated, ev.Type)
	require.Equal(t, attendance.In, ev.Data.(attendance.LogView).Direction)
}
