package sysmetrics

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// fakeStreams are running streams with fixed frame counters; "gone"
// stops answering its status query.
type fakeStreams map[string]uint64

func (f fakeStreams) Running(context.Context) ([]string, error) {
	ids := []string{"gone"}
	for id := range f {
		ids = append(ids, id)
	}
	return ids, nil
}

func (f fakeStreams) Status(_ context.Context, id string) (contract.CameraStreamStatus, error) {
	n, ok := f[id]
	if !ok {
		return contract.CameraStreamStatus{}, errors.New("stream not running")
	}
	return contract.CameraStreamStatus{CameraID: id, Counters: contract.StreamCounters{FramesRead: n}}, nil
}

// Collect reads PostgreSQL, Redis and detections of the last minute, and
// derives frames per second from the previous stored frame total.
func TestCollectServiceFigures(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	rdb, _ := testenv.Redis(t)
	now := time.Now().UTC().Truncate(time.Second)
	if err := store.InsertSystemMetrics(ctx, db, []store.SystemMetric{{RecordedAt: now.Add(-time.Minute), Name: FramesReadTotal, Value: 100}}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now.Add(-30 * time.Second), now.Add(-50 * time.Second), now.Add(-2 * time.Minute)} {
		if _, err := db.NewRaw(`INSERT INTO detections (id, detected_at, known, similarity, detection_confidence, box_x, box_y, box_width, box_height, source)
			VALUES (gen_random_uuid(), ?, false, 0, 0.9, 0, 0, 10, 10, 'stream')`, at).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m := &Monitor{DB: db, Redis: rdb, Streams: fakeStreams{"a": 1300, "b": 1000}, DataDir: t.TempDir(), Now: func() time.Time { return now }}
	samples, err := m.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range samples {
		got[s.Name] = s.Value
	}
	if got[PostgresDatabaseBytes] <= 0 || got[PostgresConnections] < 1 || got[RedisUsedMemoryBytes] <= 0 {
		t.Errorf("service figures: %v", got)
	}
	if got[DetectionsPerMinute] != 2 {
		t.Errorf("detections per minute = %v, want 2 (the one 2 minutes ago is out)", got[DetectionsPerMinute])
	}
	if got[FramesReadTotal] != 2300 {
		t.Errorf("frame total = %v, want 2300 (a stream that does not answer is left out)", got[FramesReadTotal])
	}
	if want := 2200.0 / 60; math.Abs(got[FramesPerSecond]-want) > 1e-9 {
		t.Errorf("frames per second = %v, want %v", got[FramesPerSecond], want)
	}
	t.Logf("postgres %.0f bytes, %v connections; redis %.0f bytes", got[PostgresDatabaseBytes], got[PostgresConnections], got[RedisUsedMemoryBytes])

	// A total below the previous one (a stream stopped) gives no rate.
	if err := store.InsertSystemMetrics(ctx, db, []store.SystemMetric{{RecordedAt: now, Name: FramesReadTotal, Value: 5000}}); err != nil {
		t.Fatal(err)
	}
	m.Now = func() time.Time { return now.Add(time.Minute) }
	samples, _ = m.Collect(ctx)
	for _, s := range samples {
		if s.Name == FramesPerSecond {
			t.Errorf("a rate %v after the total fell", s.Value)
		}
	}
}
