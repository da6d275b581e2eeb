// Package attendance holds the pure rules that turn recognitions into
// attendance: which recognition becomes a check-in or a check-out (cooldown,
// camera direction, similarity threshold), which work day a moment belongs
// to (site timezone, night shifts, DST), and the daily record built from a
// day's logs against a shift. It does no I/O: the store gives it the logs it
// needs and keeps its answers, once, under a lock per person.
package attendance

import (
	"slices"
	"time"
)

// Directions of an attendance log.
const (
	In  = "in"
	Out = "out"
)

// Sources of an attendance log.
const (
	SourceCamera = "camera"
	SourceManual = "manual"
	SourceImport = "import"
)

// Camera directions (the values of cameras.direction).
const (
	CameraEntry = "entry"
	CameraExit  = "exit"
	CameraBoth  = "both"
)

// Rules configure how recognitions become attendance logs.
type Rules struct {
	// Threshold is the lowest similarity (0..1) that counts as a
	// recognition; 0 takes every face the provider recognised (the
	// provider's own similarity threshold has already decided known from
	// unknown).
	Threshold float64
	// Cooldown is the time around an existing log of a person within which
	// another recognition of them, from any camera, is the same pass.
	Cooldown time.Duration
	// MinSession is, for cameras facing both ways, the shortest time after a
	// check-in at which a recognition counts as the check-out.
	MinSession time.Duration
}

// DefaultRules are the rules used when nothing is configured.
func DefaultRules() Rules {
	return Rules{Threshold: 0, Cooldown: 5 * time.Minute, MinSession: 30 * time.Minute}
}

// Recognition is a recognised face, as the pipeline hands it over.
type Recognition struct {
	DetectionID string
	PersonID    string // empty for an unknown face
	CameraID    string
	// CameraDirection is the camera's direction: entry, exit or both.
	CameraDirection string
	At              time.Time
	Similarity      float64
}

// Log is a stored attendance log, as the rules need it.
type Log struct {
	ID        string
	PersonID  string
	At        time.Time
	Direction string
	Source    string
}

// Skip reasons, returned by Decide when a recognition creates no log.
const (
	SkipUnknown   = "unknown_face"
	SkipThreshold = "below_threshold"
	SkipCooldown  = "cooldown"
	SkipTooSoon   = "too_soon_for_check_out"
	SkipDirection = "no_direction"
)

// Decision is what Decide made of a recognition: a log direction, or the
// reason it makes none.
type Decision struct {
	Direction string
	Skip      string
	// Near is, for a cooldown skip, the log that absorbed the recognition.
	Near time.Time
}

// Logged reports whether the decision creates a log.
func (d Decision) Logged() bool { return d.Direction != "" }

// Decide turns a recognition into a check-in, a check-out or nothing.
// nearby are the person's logs of the recognition's work day together with
// any within Cooldown of it (in any order, duplicates allowed). The answer
// does not depend on the order recognitions arrive in beyond the cooldown:
// a pass already logged, earlier or later than this one, absorbs it.
func Decide(r Rules, rec Recognition, nearby []Log) Decision {
	if rec.PersonID == "" {
		return Decision{Skip: SkipUnknown}
	}
	if rec.Similarity < r.Threshold {
		return Decision{Skip: SkipThreshold}
	}
	for _, l := range nearby {
		if absDuration(rec.At.Sub(l.At)) < r.Cooldown {
			return Decision{Skip: SkipCooldown, Near: l.At}
		}
	}
	switch rec.CameraDirection {
	case CameraEntry:
		return Decision{Direction: In}
	case CameraExit:
		return Decision{Direction: Out}
	case CameraBoth:
		last, ok := lastBefore(nearby, rec.At)
		if !ok || last.Direction == Out {
			return Decision{Direction: In}
		}
		if rec.At.Sub(last.At) < r.MinSession {
			return Decision{Skip: SkipTooSoon}
		}
		return Decision{Direction: Out}
	}
	return Decision{Skip: SkipDirection}
}

// lastBefore returns the latest log strictly before t.
func lastBefore(logs []Log, t time.Time) (Log, bool) {
	var last Log
	found := false
	for _, l := range logs {
		if l.At.Before(t) && (!found || l.At.After(last.At)) {
			last, found = l, true
		}
	}
	return last, found
}

// sortLogs returns the logs in time order (ties: check-in first, then ID),
// without changing the caller's slice.
func sortLogs(logs []Log) []Log {
	s := slices.Clone(logs)
	slices.SortFunc(s, func(a, b Log) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if a.Direction != b.Direction {
			if a.Direction == In {
				return -1
			}
			return 1
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return s
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
