// Package live carries real-time events (detections, camera health,
// attendance, alerts, notifications) to dashboard connections. Events are
// published to Redis pub/sub, so every API replica's subscribers receive
// what any process publishes; each replica fans them out to its local
// subscribers without ever waiting for a slow one.
//
// Delivery is at most once: events published while a replica is
// disconnected from Redis are lost to its subscribers, who re-read state
// over REST after reconnecting.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// BufferSize is how many messages a subscription holds for its reader;
// a subscription that falls further behind is closed with ErrSlowConsumer.
const BufferSize = 256

// Errors telling why a subscription ended (Subscription.Err).
var (
	ErrSlowConsumer = errors.New("live: slow consumer")
	ErrClosed       = errors.New("live: subscription closed")
	ErrHubStopped   = errors.New("live: hub stopped")
)

// ErrBadChannel is returned by Publish for a name that is not a valid channel.
var ErrBadChannel = errors.New("live: invalid channel")

// Event types published by Rollcall (attendance's are in internal/attendance).
const (
	EventDetections   = "detections"    // a frame's faces, on detections:<cameraId>
	EventCameraHealth = "camera.health" // a camera went online or offline, on cameras
)

// Event is one thing that happened, to be published on a channel.
type Event struct {
	Type string // what happened: one of the Event… constants
	Data any    // encoded as JSON
}

// Message is a published event as subscribers receive it, and its form on
// Redis.
type Message struct {
	Channel string          `json:"channel"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	At      time.Time       `json:"at"`
}

// Hub publishes events to Redis and fans out the events Redis delivers to
// the subscriptions of this process. Create it with NewHub and start Run.
type Hub struct {
	rdb   rueidis.Client
	key   string // Redis channel prefix: <redis prefix>live:
	log   *slog.Logger
	now   func() time.Time
	ready chan struct{}
	once  sync.Once

	mu      sync.RWMutex
	subs    map[string]map[*Subscription]struct{} // channel → subscribers
	all     map[*Subscription]struct{}            // open subscriptions
	stopped bool
}

// NewHub returns a hub publishing on Redis channels named
// <prefix>live:<channel>.
func NewHub(rdb rueidis.Client, prefix string, log *slog.Logger) *Hub {
	return &Hub{rdb: rdb, key: prefix + "live:", log: log, now: time.Now,
		ready: make(chan struct{}), subs: make(map[string]map[*Subscription]struct{}), all: make(map[*Subscription]struct{})}
}

// Ready is closed once Run first listens to Redis; events published before
// then do not reach this hub's subscribers.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run listens to Redis on one connection until ctx ends, re-subscribing
// with backoff after a lost connection. When it returns, every
// subscription is closed with ErrHubStopped. It returns nil once ctx ends,
// or an error if the Redis client was closed.
func (h *Hub) Run(ctx context.Context) error {
	defer h.stop()
	pattern := escapeGlob(h.key) + "*"
	ctx = rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
		if s.Kind == "psubscribe" {
			h.once.Do(func() { close(h.ready) })
		}
	})
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for {
		start := time.Now()
		err := h.rdb.Receive(ctx, h.rdb.B().Psubscribe().Pattern(pattern).Build(), h.dispatch)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, rueidis.ErrClosing) {
			return fmt.Errorf("live: redis client closed: %w", err)
		}
		if time.Since(start) > time.Minute {
			backoff = minBackoff
		}
		h.log.WarnContext(ctx, "live: redis subscription lost; resubscribing",
			slog.Any("error", err), slog.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Publish sends an event on channel to the subscribers of every process.
// It returns ErrBadChannel for an invalid channel name.
func (h *Hub) Publish(ctx context.Context, channel string, e Event) error {
	if !ValidChannel(channel) {
		return fmt.Errorf("%w: %q", ErrBadChannel, channel)
	}
	if e.Type == "" {
		return errors.New("live: event has no type")
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("live: encode %s event: %w", e.Type, err)
	}
	payload, err := json.Marshal(Message{Channel: channel, Type: e.Type, Data: data, At: h.now().UTC()})
	if err != nil {
		return fmt.Errorf("live: encode %s event: %w", e.Type, err)
	}
	if err := h.rdb.Do(ctx, h.rdb.B().Publish().Channel(h.key+channel).Message(string(payload)).Build()).Error(); err != nil {
		return fmt.Errorf("live: publish on %s: %w", channel, err)
	}
	return nil
}

// Subscribe returns a subscription to channels (more can be added later).
// Names that are not valid channels are accepted but receive nothing:
// callers facing clients check them with ValidChannel and CanSubscribe.
func (h *Hub) Subscribe(channels ...string) *Subscription {
	s := &Subscription{hub: h, ch: make(chan Message, BufferSize), channels: make(map[string]struct{})}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		s.end(ErrHubStopped)
		return s
	}
	h.all[s] = struct{}{}
	h.mu.Unlock()
	s.Subscribe(channels...)
	return s
}

// Subscribers counts the open subscriptions of this process.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.all)
}

// dispatch delivers one message from Redis to the local subscribers of its
// channel and of the channel's parent. It never blocks: a subscriber whose
// buffer is full is closed.
func (h *Hub) dispatch(rm rueidis.PubSubMessage) {
	channel, _ := strings.CutPrefix(rm.Channel, h.key)
	var m Message
	if err := json.Unmarshal([]byte(rm.Message), &m); err != nil || !ValidChannel(channel) || m.Channel != channel {
		h.log.Warn("live: ignoring malformed message", slog.String("channel", rm.Channel))
		return
	}
	h.mu.RLock()
	targets := make([]*Subscription, 0, len(h.subs[channel]))
	for s := range h.subs[channel] {
		targets = append(targets, s)
	}
	if parent := parentChannel(channel); parent != "" {
		for s := range h.subs[parent] {
			if _, dup := h.subs[channel][s]; !dup {
				targets = append(targets, s)
			}
		}
	}
	h.mu.RUnlock()
	for _, s := range targets {
		if !s.offer(m) {
			h.log.Warn("live: dropping slow subscriber", slog.String("channel", channel))
			s.end(ErrSlowConsumer)
		}
	}
}

// stop closes every subscription and refuses new ones.
func (h *Hub) stop() {
	h.mu.Lock()
	h.stopped = true
	all := make([]*Subscription, 0, len(h.all))
	for s := range h.all {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.end(ErrHubStopped)
	}
}

// escapeGlob quotes the characters Redis patterns treat specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
