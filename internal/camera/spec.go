// Package camera holds the camera domain rules shared by the API, import
// and export: what a valid camera is, and the names of its states.
package camera

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rollcall/rollcall/internal/streamurl"
)

// Directions a camera may face.
const (
	DirectionEntry = "entry"
	DirectionExit  = "exit"
	DirectionBoth  = "both"
)

// Operational states set by operators.
const (
	StateActive      = "active"
	StateInactive    = "inactive"
	StateMaintenance = "maintenance"
)

// Health statuses set by probes and streams.
const (
	HealthOnline  = "online"
	HealthOffline = "offline"
	HealthUnknown = "unknown"
	HealthError   = "error"
)

// Limits of a camera's fields.
const (
	MaxNameLength     = 120
	MaxSiteLength     = 120
	MaxLocationLength = 200
	MaxTags           = 20
	MaxTagLength      = 40
	MaxCredential     = 256
	MinFPS            = 0.1
	MaxFPS            = 30
)

// Directions and States list the accepted values.
var (
	Directions = []string{DirectionEntry, DirectionExit, DirectionBoth}
	States     = []string{StateActive, StateInactive, StateMaintenance}
)

// Spec is a camera as a client describes it (create, update, import).
type Spec struct {
	Name      string
	Site      string
	Location  string
	URL       string // may embed credentials; Normalize splits them out
	Username  string
	Password  string
	Direction string
	FPS       float64
	Timezone  string
	Tags      []string
	State     string
}

// FieldError names a field and what is wrong with it.
type FieldError struct {
	Field   string // JSON name: name, url, fps, …
	Message string
}

func (e FieldError) Error() string { return e.Field + " " + e.Message }

// Normalize trims and defaults s in place and returns every problem found.
// After it returns no errors, s.URL carries no credentials (they are moved
// to Username/Password) and every field is within its limits.
func (s *Spec) Normalize() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	s.Name = strings.TrimSpace(s.Name)
	s.Site = strings.TrimSpace(s.Site)
	s.Location = strings.TrimSpace(s.Location)
	s.Timezone = strings.TrimSpace(s.Timezone)
	s.Direction = strings.ToLower(strings.TrimSpace(s.Direction))
	s.State = strings.ToLower(strings.TrimSpace(s.State))

	switch n := utf8.RuneCountInString(s.Name); {
	case n == 0:
		add("name", "is required")
	case n > MaxNameLength:
		add("name", "must be at most %d characters", MaxNameLength)
	case strings.ContainsFunc(s.Name, isControl):
		add("name", "must not contain control characters")
	}
	if utf8.RuneCountInString(s.Site) > MaxSiteLength || strings.ContainsFunc(s.Site, isControl) {
		add("site", "must be at most %d printable characters", MaxSiteLength)
	}
	if utf8.RuneCountInString(s.Location) > MaxLocationLength || strings.ContainsFunc(s.Location, isControl) {
		add("location", "must be at most %d printable characters", MaxLocationLength)
	}

	parsed, err := streamurl.Parse(strings.TrimSpace(s.URL))
	if err != nil {
		add("url", "%s", err.Error())
	} else {
		s.URL = parsed.URL
		if parsed.Username != "" || parsed.Password != "" {
			if s.Username != "" || s.Password != "" {
				add("url", "must not embed credentials when username/password are also given")
			}
			s.Username, s.Password = parsed.Username, parsed.Password
		}
	}
	if len(s.Username) > MaxCredential || strings.ContainsFunc(s.Username, isControl) {
		add("username", "must be at most %d printable characters", MaxCredential)
	}
	if len(s.Password) > MaxCredential || strings.ContainsFunc(s.Password, isControl) {
		add("password", "must be at most %d printable characters", MaxCredential)
	}

	if s.Direction == "" {
		s.Direction = DirectionBoth
	}
	if !slices.Contains(Directions, s.Direction) {
		add("direction", "must be one of entry, exit, both")
	}
	if s.FPS == 0 {
		s.FPS = 1
	}
	if !(s.FPS >= MinFPS && s.FPS <= MaxFPS) { // also rejects NaN
		add("fps", "must be between %g and %g", MinFPS, float64(MaxFPS))
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	// "Local" loads without error but means the server's own zone.
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" || strings.HasPrefix(s.Timezone, "/") || strings.Contains(s.Timezone, "..") {
		add("timezone", "must be an IANA time zone such as Europe/Paris")
	}
	if s.State == "" {
		s.State = StateInactive
	}
	if !slices.Contains(States, s.State) {
		add("state", "must be one of active, inactive, maintenance")
	}
	s.Tags = normalizeTags(s.Tags)
	if len(s.Tags) > MaxTags {
		add("tags", "must have at most %d tags", MaxTags)
	}
	for _, t := range s.Tags {
		// ';' and '|' separate tags in CSV files, so a tag holding one would split on re-import.
		if utf8.RuneCountInString(t) > MaxTagLength || strings.ContainsFunc(t, isControl) || strings.ContainsAny(t, ",;|") {
			add("tags", "each tag must be at most %d printable characters without , ; or |", MaxTagLength)
			break
		}
	}
	return errs
}

func normalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// isControl matches control characters and the bidirectional-text controls
// (U+202E and friends) that can make a name display as something else.
func isControl(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }
