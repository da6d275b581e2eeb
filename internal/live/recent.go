package live

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Recent is the write-through live view of detections: per camera, its
// latest detections (pre-encoded JSON, newest first), kept in Redis for a
// freshness window after the camera's last detection. Reads go through
// rueidis client-side caching, so serving the view costs no round trip
// until a writer changes it, and Redis tells every replica when it does.
type Recent struct {
	rdb    rueidis.Client
	key    string // <prefix>recent:
	window time.Duration
	max    int

	// The last encoded snapshot per filter, reused while every read of
	// the view is still a client-side cache hit (nothing changed) and the
	// snapshot is younger than reuseFor (cameras age out of the window).
	gen   atomic.Uint64 // bumped whenever a read missed the cache
	built sync.Map      // camera filter → builtSnapshot
}

type builtSnapshot struct {
	gen  uint64
	at   time.Time
	body []byte
}

// reuseFor bounds how long an encoded snapshot is reused unchanged.
const reuseFor = time.Second

// NewRecent returns a view keeping at most max detections per camera for
// window after its last one.
func NewRecent(rdb rueidis.Client, prefix string, window time.Duration, max int) *Recent {
	return &Recent{rdb: rdb, key: prefix + "recent:", window: window, max: max}
}

// Window is how long a quiet camera's detections stay in the view.
func (r *Recent) Window() time.Duration { return r.window }

func (r *Recent) cameraKey(cameraID string) string { return r.key + "camera:" + cameraID }
func (r *Recent) indexKey() string                 { return r.key + "cameras" }

// Add puts a camera's new detections (each already JSON-encoded, newest
// last) at the head of its view, trims it and renews its window.
func (r *Recent) Add(ctx context.Context, cameraID string, at time.Time, items [][]byte) error {
	if len(items) == 0 {
		return nil
	}
	key := r.cameraKey(cameraID)
	vals := make([]string, len(items))
	for i, it := range items {
		vals[i] = string(it)
	}
	// Index scores are microseconds, so every Add changes the index (and so
	// invalidates every replica's cached copy of it).
	cutoff := at.Add(-r.window).UnixMicro()
	cmds := rueidis.Commands{
		r.rdb.B().Lpush().Key(key).Element(vals...).Build(),
		r.rdb.B().Ltrim().Key(key).Start(0).Stop(int64(r.max - 1)).Build(),
		r.rdb.B().Pexpire().Key(key).Milliseconds(r.window.Milliseconds()).Build(),
		r.rdb.B().Zadd().Key(r.indexKey()).ScoreMember().ScoreMember(float64(at.UnixMicro()), cameraID).Build(),
		r.rdb.B().Zremrangebyscore().Key(r.indexKey()).Min("-inf").Max("(" + strconv.FormatInt(cutoff, 10)).Build(),
	}
	for _, res := range r.rdb.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("live: recent add: %w", err)
		}
	}
	return nil
}

// Snapshot encodes the view — of one camera, or of every camera with a
// detection in the window — as a View, cameras most recently active first.
func (r *Recent) Snapshot(ctx context.Context, cameraID string, now time.Time) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	gen := r.gen.Load()
	type cam struct {
		id     string
		lastUs int64
	}
	var cams []cam
	indexRes := r.rdb.DoCache(ctx, r.rdb.B().Zrange().Key(r.indexKey()).Min("0").Max("-1").Rev().Withscores().Cache(), r.window)
	entries, err := indexRes.AsZScores()
	if err != nil && !rueidis.IsRedisNil(err) {
		return nil, fmt.Errorf("live: recent index: %w", err)
	}
	missed := !indexRes.IsCacheHit()
	// Every Add changes the index: while it is a cache hit nothing was
	// added anywhere, and the last snapshot still holds.
	if b, ok := r.built.Load(cameraID); ok && !missed {
		if s := b.(builtSnapshot); s.gen == gen && now.Sub(s.at) < reuseFor {
			return s.body, nil
		}
	}
	cutoff := now.Add(-r.window).UnixMicro()
	for _, e := range entries {
		if int64(e.Score) < cutoff || (cameraID != "" && e.Member != cameraID) {
			continue
		}
		cams = append(cams, cam{id: e.Member, lastUs: int64(e.Score)})
	}
	cmds := make([]rueidis.CacheableTTL, len(cams))
	for i, c := range cams {
		cmds[i] = rueidis.CT(r.rdb.B().Lrange().Key(r.cameraKey(c.id)).Start(0).Stop(-1).Cache(), r.window)
	}
	results := r.rdb.DoMultiCache(ctx, cmds...)
	for _, res := range results {
		missed = missed || !res.IsCacheHit()
	}
	if missed {
		gen = r.gen.Add(1)
	}
	view := View[json.RawMessage]{WindowSeconds: int(r.window.Seconds()), Cameras: []CameraView[json.RawMessage]{}}
	for i, res := range results {
		items, err := res.AsStrSlice()
		if err != nil && !rueidis.IsRedisNil(err) {
			return nil, fmt.Errorf("live: recent camera: %w", err)
		}
		if len(items) == 0 {
			continue
		}
		c := CameraView[json.RawMessage]{CameraID: cams[i].id, LastAt: time.UnixMicro(cams[i].lastUs).UTC(),
			Detections: make([]json.RawMessage, len(items))}
		for j, it := range items {
			c.Detections[j] = json.RawMessage(it)
		}
		view.Cameras = append(view.Cameras, c)
	}
	body, err := json.Marshal(view)
	if err != nil {
		return nil, fmt.Errorf("live: recent encode: %w", err)
	}
	r.built.Store(cameraID, builtSnapshot{gen: gen, at: now, body: body})
	return body, nil
}

// View is the live view's JSON (GET /detections/live): the cameras with a
// detection in the window, most recently active first. D is a detection's
// form: contract.LiveDetection, or json.RawMessage for the pre-encoded
// items Recent keeps.
type View[D any] struct {
	WindowSeconds int             `json:"windowSeconds"`
	Cameras       []CameraView[D] `json:"cameras" doc:"Most recently active first"`
}

// CameraView is one camera's latest detections in the live view.
type CameraView[D any] struct {
	CameraID   string    `json:"cameraId"`
	LastAt     time.Time `json:"lastAt"`
	Detections []D       `json:"detections" doc:"Newest first"`
}

// Live view defaults: how long a quiet camera stays in the view, and how
// many of its detections are kept.
const (
	DefaultWindow    = 30 * time.Second
	DefaultPerCamera = 20
)
