package live

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/rollcall/rollcall/store"
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
// detection in the window — as
// {"windowSeconds":N,"cameras":[{"cameraId":…,"lastAt":…,"detections":[…]}]},
// cameras most recently active first.
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
	var buf bytes.Buffer
	buf.WriteString(`{"windowSeconds":`)
	buf.WriteString(strconv.Itoa(int(r.window.Seconds())))
	buf.WriteString(`,"cameras":[`)
	written := 0
	for i, res := range results {
		items, err := res.AsStrSlice()
		if err != nil && !rueidis.IsRedisNil(err) {
			return nil, fmt.Errorf("live: recent camera: %w", err)
		}
		if len(items) == 0 {
			continue
		}
		if written > 0 {
			buf.WriteByte(',')
		}
		written++
		buf.WriteString(`{"cameraId":"`)
		buf.WriteString(cams[i].id)
		buf.WriteString(`","lastAt":"`)
		buf.WriteString(time.UnixMicro(cams[i].lastUs).UTC().Format(time.RFC3339Nano))
		buf.WriteString(`","detections":[`)
		for j, it := range items {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(it)
		}
		buf.WriteString(`]}`)
	}
	buf.WriteString(`]}`)
	r.built.Store(cameraID, builtSnapshot{gen: gen, at: now, body: buf.Bytes()})
	return buf.Bytes(), nil
}

// Detection is one detection as the live view and live events show it.
type Detection struct {
	ID            string    `json:"id"`
	CameraID      string    `json:"cameraId"`
	At            time.Time `json:"at"`
	Known         bool      `json:"known"`
	FaceProfileID string    `json:"faceProfileId,omitempty"`
	EmployeeCode  string    `json:"employeeCode,omitempty"`
	Name          string    `json:"name,omitempty"`
	Similarity    float64   `json:"similarity"`
	Confidence    float64   `json:"confidence"`
	Box           [4]int    `json:"box" doc:"x, y, width, height"`
}

// FromStored is how a stored detection appears live, labelled with its
// person's employee code and name ("" for unknown faces).
func FromStored(d *store.Detection, employeeCode, name string) Detection {
	out := Detection{ID: d.ID, At: d.DetectedAt.UTC(), Known: d.Known, EmployeeCode: employeeCode, Name: name,
		Similarity: d.Similarity, Confidence: d.DetectionConfidence, Box: [4]int{d.BoxX, d.BoxY, d.BoxWidth, d.BoxHeight}}
	if d.CameraID != nil {
		out.CameraID = *d.CameraID
	}
	if d.FaceProfileID != nil {
		out.FaceProfileID = *d.FaceProfileID
	}
	return out
}
