package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/testenv"
)

// mustRunHub starts a hub on the Redis prefix until the test ends and waits
// until it listens. Each hub has a client of its own, as in two processes.
func mustRunHub(tb testing.TB, prefix string) *live.Hub {
	tb.Helper()
	rdb, _ := testenv.Redis(tb)
	h := live.NewHub(rdb, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("hub Run: %v", err)
		}
	})
	select {
	case <-h.Ready():
	case <-time.After(5 * time.Second):
		tb.Fatal("hub did not subscribe to Redis")
	}
	return h
}

func mustPublish(tb testing.TB, h *live.Hub, channel, typ string, data any) {
	tb.Helper()
	if err := h.Publish(context.Background(), channel, live.Event{Type: typ, Data: data}); err != nil {
		tb.Fatal(err)
	}
}

// mustReceive waits for the next message of s.
func mustReceive(tb testing.TB, s *live.Subscription) live.Message {
	tb.Helper()
	select {
	case m, ok := <-s.C():
		if !ok {
			tb.Fatalf("subscription ended: %v", s.Err())
		}
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("no message within 5s")
	}
	return live.Message{}
}

// assertNothing checks that s holds no message after a short wait.
func assertNothing(tb testing.TB, s *live.Subscription) {
	tb.Helper()
	select {
	case m := <-s.C():
		tb.Fatalf("unexpected message %+v", m)
	case <-time.After(150 * time.Millisecond):
	}
}

func TestHubFansOutAcrossProcesses(t *testing.T) {
	_, prefix := testenv.Redis(t)
	a, b := mustRunHub(t, prefix), mustRunHub(t, prefix)
	onB := b.Subscribe("cameras")
	defer onB.Close()
	onA := a.Subscribe("cameras")
	defer onA.Close()
	other := b.Subscribe("attendance")
	defer other.Close()

	before := time.Now().UTC()
	mustPublish(t, a, "cameras", "camera.health", map[string]string{"id": camID, "status": "offline"})
	for name, s := range map[string]*live.Subscription{"hub B": onB, "hub A": onA} {
		m := mustReceive(t, s)
		if m.Channel != "cameras" || m.Type != "camera.health" || m.At.Before(before.Add(-time.Second)) {
			t.Errorf("%s got %+v", name, m)
		}
		var data map[string]string
		if err := json.Unmarshal(m.Data, &data); err != nil || data["status"] != "offline" {
			t.Errorf("%s data = %s", name, m.Data)
		}
	}
	assertNothing(t, other)

	// A different prefix (another deployment) hears nothing.
	_, otherPrefix := testenv.Redis(t)
	elsewhere := mustRunHub(t, otherPrefix).Subscribe("cameras")
	defer elsewhere.Close()
	mustPublish(t, a, "cameras", "camera.health", nil)
	mustReceive(t, onB)
	assertNothing(t, elsewhere)
}

func TestHubDetectionsChannels(t *testing.T) {
	_, prefix := testenv.Redis(t)
	h := mustRunHub(t, prefix)
	all := h.Subscribe("detections")
	defer all.Close()
	one := h.Subscribe(live.DetectionsChannel(camID))
	defer one.Close()
	both := h.Subscribe("detections", live.DetectionsChannel(camID))
	defer both.Close()
	otherCam := h.Subscribe(live.DetectionsChannel("00000000-0000-4000-8000-000000000000"))
	defer otherCam.Close()

	mustPublish(t, h, live.DetectionsChannel(camID), "detection.created", map[string]int{"n": 1})
	for name, s := range map[string]*live.Subscription{"detections": all, "detections:<cam>": one, "both": both} {
		if m := mustReceive(t, s); m.Channel != live.DetectionsChannel(camID) {
			t.Errorf("%s: channel %q", name, m.Channel)
		}
	}
	assertNothing(t, both) // once, not once per matching channel
	assertNothing(t, otherCam)

	// Unsubscribing stops delivery; the other channel keeps delivering.
	both.Unsubscribe("detections")
	mustPublish(t, h, live.DetectionsChannel(camID), "detection.created", nil)
	mustReceive(t, both)
	mustPublish(t, h, "detections", "detection.created", nil)
	mustReceive(t, all)
	assertNothing(t, both)
	if got := both.Channels(); len(got) != 1 || got[0] != live.DetectionsChannel(camID) {
		t.Errorf("Channels() = %v", got)
	}
}

func TestHubPublishRejectsBadChannels(t *testing.T) {
	_, prefix := testenv.Redis(t)
	h := mustRunHub(t, prefix)
	for _, ch := range []string{"", "notifications", "detections:nope", "audit"} {
		if err := h.Publish(context.Background(), ch, live.Event{Type: "x"}); !errors.Is(err, live.ErrBadChannel) {
			t.Errorf("Publish(%q) = %v, want ErrBadChannel", ch, err)
		}
	}
	if err := h.Publish(context.Background(), "alerts", live.Event{}); err == nil {
		t.Error("Publish without a type succeeded")
	}
}

// TestHubDropsSlowSubscriber publishes more than a buffer's worth while one
// subscriber never reads: it is closed as a slow consumer, and a subscriber
// that keeps reading gets every event.
func TestHubDropsSlowSubscriber(t *testing.T) {
	_, prefix := testenv.Redis(t)
	h := mustRunHub(t, prefix)
	slow := h.Subscribe("alerts")
	fast := h.Subscribe("alerts")
	defer fast.Close()
	const n = live.BufferSize + 50

	got := make(chan int, 1)
	go func() {
		count := 0
		for range fast.C() {
			if count++; count == n {
				break
			}
		}
		got <- count
	}()
	for i := range n {
		mustPublish(t, h, "alerts", "alert.raised", i)
	}
	select {
	case c := <-got:
		if c != n {
			t.Fatalf("fast subscriber got %d of %d", c, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fast subscriber did not receive every event")
	}
	if err := fast.Err(); err != nil {
		t.Errorf("fast subscriber ended: %v", err)
	}

	buffered := 0
	for range slow.C() {
		buffered++
	}
	if !errors.Is(slow.Err(), live.ErrSlowConsumer) {
		t.Errorf("slow subscriber: Err() = %v, want ErrSlowConsumer", slow.Err())
	}
	if buffered != live.BufferSize {
		t.Errorf("slow subscriber kept %d messages, want the %d buffered before it was dropped", buffered, live.BufferSize)
	}
	if h.Subscribers() != 1 {
		t.Errorf("Subscribers() = %d, want 1 (the fast one)", h.Subscribers())
	}
}

func TestHubRunStopsOnCancel(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	h := live.NewHub(rdb, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Ready()
	s := h.Subscribe("cameras")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if _, ok := <-s.C(); ok || !errors.Is(s.Err(), live.ErrHubStopped) {
		t.Errorf("open subscription after stop: Err() = %v, want ErrHubStopped", s.Err())
	}
	if late := h.Subscribe("cameras"); !errors.Is(late.Err(), live.ErrHubStopped) {
		t.Errorf("Subscribe after stop: Err() = %v, want ErrHubStopped", late.Err())
	}
	if h.Subscribers() != 0 {
		t.Errorf("Subscribers() = %d after stop", h.Subscribers())
	}
}

func TestSubscriptionClose(t *testing.T) {
	_, prefix := testenv.Redis(t)
	h := mustRunHub(t, prefix)
	s := h.Subscribe("alerts")
	s.Close()
	s.Close()
	if !errors.Is(s.Err(), live.ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", s.Err())
	}
	s.Subscribe("cameras") // no effect once closed
	mustPublish(t, h, "alerts", "alert.raised", nil)
	if _, ok := <-s.C(); ok {
		t.Error("closed subscription delivered a message")
	}
	if h.Subscribers() != 0 {
		t.Errorf("Subscribers() = %d, want 0", h.Subscribers())
	}
}

// TestHubResubscribesAfterConnectionLoss kills the hub's Redis connection:
// the hub subscribes again and delivers later events.
func TestHubResubscribesAfterConnectionLoss(t *testing.T) {
	admin, prefix := testenv.Redis(t)
	name := "rollcall-live-test-" + strings.Trim(strings.ReplaceAll(prefix, ":", "-"), "-")
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(t, "ROLLCALL_REDIS_ADDR")}, ClientName: name})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	h := live.NewHub(rdb, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-h.Ready()
	s := h.Subscribe("alerts")
	defer s.Close()
	publisher := mustRunHub(t, prefix)

	ctxb := context.Background()
	list, err := admin.Do(ctxb, admin.B().ClientList().Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.Lines(list) {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		field, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			t.Fatalf("CLIENT LIST line %q: %v", line, err)
		}
		if err := admin.Do(ctxb, admin.B().ClientKill().Id(id).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		killed++
	}
	if killed == 0 {
		t.Fatalf("no Redis connection named %s", name)
	}

	// Publish until the resubscribed hub delivers (events sent while it was
	// away are lost, as documented).
	deadline := time.Now().Add(10 * time.Second)
	for {
		mustPublish(t, publisher, "alerts", "alert.raised", nil)
		select {
		case m, ok := <-s.C():
			if !ok {
				t.Fatalf("subscription ended: %v", s.Err())
			}
			if m.Type != "alert.raised" {
				t.Fatalf("got %+v", m)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("hub did not resubscribe after its connection was killed")
		}
	}
}
