package activities

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/store"
)

// ProfileNames remembers which face profile a provider subject names (its
// ID, employee code and name) for a short while, so labelling the faces of
// a frame costs no query per frame. Camera streams and send-frame share it.
type ProfileNames struct {
	db  *bun.DB
	log *slog.Logger
	// For is how long an answer (a profile, or that there is none) is
	// remembered; 0 looks every subject up each time.
	For time.Duration
	now func() time.Time

	mu    sync.Mutex
	names map[string]cachedProfile
}

type cachedProfile struct {
	p     store.FaceProfile
	found bool
	until time.Time
}

// maxCachedProfiles bounds the memory of a worker whose provider reports
// many subjects: past it the cache starts over.
const maxCachedProfiles = 100000

// NewProfileNames returns a cache remembering answers for 30 seconds.
func NewProfileNames(db *bun.DB, log *slog.Logger) *ProfileNames {
	return &ProfileNames{db: db, log: log, For: 30 * time.Second, now: time.Now, names: map[string]cachedProfile{}}
}

// Lookup returns the profiles the subjects name, by subject; a subject
// that is not a profile ID, or names none, is left out. When the database
// cannot answer, remembered answers are served even if stale, and the
// error is returned with what could be answered.
func (n *ProfileNames) Lookup(ctx context.Context, subjects []string) (map[string]store.FaceProfile, error) {
	out := make(map[string]store.FaceProfile, len(subjects))
	now := time.Now()
	if n.now != nil {
		now = n.now()
	}
	var missing []string
	stale := map[string]cachedProfile{}
	n.mu.Lock()
	for _, s := range subjects {
		if s == "" {
			continue
		}
		c, ok := n.names[s]
		switch {
		case ok && now.Before(c.until):
			if c.found {
				out[s] = c.p
			}
		default:
			if ok {
				stale[s] = c
			}
			if _, err := uuid.Parse(s); err == nil {
				missing = append(missing, s)
			}
		}
	}
	n.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	found, err := store.FaceNames(ctx, n.db, missing)
	if err != nil {
		for s, c := range stale { // a stale name rather than none
			if c.found {
				out[s] = c.p
			}
		}
		return out, err
	}
	n.mu.Lock()
	if n.names == nil || len(n.names) > maxCachedProfiles {
		n.names = map[string]cachedProfile{}
	}
	for _, s := range missing {
		p, ok := found[s]
		if ok {
			out[s] = p
		}
		if n.For > 0 {
			n.names[s] = cachedProfile{p: p, found: ok, until: now.Add(n.For)}
		}
	}
	n.mu.Unlock()
	return out, nil
}

// profileNames is the worker's shared cache, or (when none was given, as
// in tests) one that looks every subject up.
func (a *Activities) profileNames() *ProfileNames {
	if a.Names != nil {
		return a.Names
	}
	return &ProfileNames{db: a.DB, log: a.Log}
}
