package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
)

type snapshot struct {
	WindowSeconds int `json:"windowSeconds"`
	Cameras       []struct {
		CameraID   string            `json:"cameraId"`
		LastAt     time.Time         `json:"lastAt"`
		Detections []json.RawMessage `json:"detections"`
	} `json:"cameras"`
}

func mustSnapshot(t *testing.T, r *live.Recent, camera string) snapshot {
	t.Helper()
	b, err := r.Snapshot(context.Background(), camera, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("snapshot is not JSON: %v\n%s", err, b)
	}
	return s
}

func item(n int) []byte { return []byte(fmt.Sprintf(`{"n":%d}`, n)) }

func TestRecentKeepsLatestPerCamera(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	r := live.NewRecent(rdb, prefix, time.Minute, 3)
	ctx := context.Background()
	now := time.Now()
	if err := r.Add(ctx, "cam-a", now.Add(-2*time.Second), [][]byte{item(1), item(2)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ctx, "cam-b", now.Add(-time.Second), [][]byte{item(10)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ctx, "cam-a", now, [][]byte{item(3), item(4)}); err != nil {
		t.Fatal(err)
	}
	s := mustSnapshot(t, r, "")
	if s.WindowSeconds != 60 || len(s.Cameras) != 2 || s.Cameras[0].CameraID != "cam-a" || s.Cameras[1].CameraID != "cam-b" {
		t.Fatalf("cameras, most recent first: %+v", s)
	}
	if got := fmt.Sprint(raw(s.Cameras[0].Detections)); got != `[{"n":4} {"n":3} {"n":2}]` {
		t.Fatalf("cam-a keeps its 3 newest, newest first: %s", got)
	}
	if one := mustSnapshot(t, r, "cam-b"); len(one.Cameras) != 1 || one.Cameras[0].CameraID != "cam-b" {
		t.Fatalf("one camera: %+v", one)
	}
	if none := mustSnapshot(t, r, "cam-z"); len(none.Cameras) != 0 {
		t.Fatalf("unknown camera: %+v", none)
	}
}

func raw(ds []json.RawMessage) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d)
	}
	return out
}

func TestRecentForgetsQuietCameras(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	r := live.NewRecent(rdb, prefix, 300*time.Millisecond, 5)
	if err := r.Add(context.Background(), "cam-q", time.Now(), [][]byte{item(1)}); err != nil {
		t.Fatal(err)
	}
	if s := mustSnapshot(t, r, ""); len(s.Cameras) != 1 {
		t.Fatalf("fresh: %+v", s)
	}
	time.Sleep(400 * time.Millisecond)
	if s := mustSnapshot(t, r, ""); len(s.Cameras) != 0 {
		t.Fatalf("a camera quiet for longer than the window is still shown: %+v", s)
	}
}

// Another replica, which had the view cached, sees a new detection.
func TestRecentIsInvalidatedAcrossReplicas(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	other, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(t, "ROLLCALL_REDIS_ADDR")}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	writer, reader := live.NewRecent(rdb, prefix, time.Minute, 5), live.NewRecent(other, prefix, time.Minute, 5)
	ctx := context.Background()
	_ = writer.Add(ctx, "cam-r", time.Now(), [][]byte{item(1)})
	if s := mustSnapshot(t, reader, "cam-r"); len(s.Cameras) != 1 || len(s.Cameras[0].Detections) != 1 {
		t.Fatalf("first read: %+v", s)
	}
	_ = writer.Add(ctx, "cam-r", time.Now(), [][]byte{item(2)})
	deadline := time.Now().Add(2 * time.Second)
	for {
		s := mustSnapshot(t, reader, "cam-r")
		if len(s.Cameras) == 1 && len(s.Cameras[0].Detections) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cached view was never invalidated: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
