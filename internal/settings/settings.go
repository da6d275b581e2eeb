// Package settings holds what users choose for themselves: the interface
// languages, the time zones they may pick, and the checks of their
// preferences.
package settings

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the zones are known whatever the host has installed
)

// Language is one language the dashboard is offered in.
type Language struct {
	Code       string `json:"code" example:"ar"`
	Name       string `json:"name" example:"Arabic"`
	NativeName string `json:"nativeName" example:"العربية"`
	RTL        bool   `json:"rtl,omitempty" doc:"Written right to left"`
}

// languages are the dashboard's languages, English first (the default).
var languages = []Language{
	{"en", "English", "English", false},
	{"ar", "Arabic", "العربية", true},
	{"de", "German", "Deutsch", false},
	{"es", "Spanish", "Español", false},
	{"fr", "French", "Français", false},
	{"id", "Indonesian", "Bahasa Indonesia", false},
	{"pt", "Portuguese", "Português", false},
	{"tr", "Turkish", "Türkçe", false},
}

// Languages returns the dashboard's languages, English first.
func Languages() []Language { return slices.Clone(languages) }

// Zone is a time zone with its offset now.
type Zone struct {
	Name          string `json:"name" example:"Africa/Cairo"`
	Offset        string `json:"offset" example:"+02:00" doc:"UTC offset now"`
	OffsetSeconds int    `json:"offsetSeconds" example:"7200"`
	Abbreviation  string `json:"abbreviation,omitempty" example:"EET"`
}

// Zones returns the canonical IANA zones with their offsets at now,
// sorted by name; query, when set, keeps the zones whose name contains it
// (case-insensitively).
func Zones(now time.Time, query string) []Zone {
	q := strings.ToLower(strings.TrimSpace(query))
	out := make([]Zone, 0, len(zoneNames))
	for _, n := range zoneNames {
		if q != "" && !strings.Contains(strings.ToLower(n), q) {
			continue
		}
		loc, err := time.LoadLocation(n)
		if err != nil {
			continue // not in this Go's database: not offered
		}
		abbr, off := now.In(loc).Zone()
		if strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
			abbr = "" // a bare offset is not a name
		}
		out = append(out, Zone{Name: n, Offset: formatOffset(off), OffsetSeconds: off, Abbreviation: abbr})
	}
	return out
}

func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d:%02d", sign, sec/3600, sec%3600/60)
}

// Preferences are one user's choices.
type Preferences struct {
	Language      string        `json:"language" example:"en"`
	Timezone      string        `json:"timezone" example:"Africa/Cairo" doc:"An IANA time zone (GET /settings/timezones)"`
	DateFormat    string        `json:"dateFormat" enum:"YYYY-MM-DD,DD/MM/YYYY,MM/DD/YYYY,DD.MM.YYYY" example:"YYYY-MM-DD"`
	TimeFormat    string        `json:"timeFormat" enum:"24h,12h" example:"24h"`
	Theme         string        `json:"theme" enum:"system,light,dark" example:"system"`
	Notifications Notifications `json:"notifications"`
}

// Notifications are how a user wants to hear of alerts.
type Notifications struct {
	InApp bool `json:"inApp" doc:"Notifications in the dashboard (WebSocket notifications:<userId>)"`
	// MinSeverity is the least severe alert notified.
	MinSeverity string `json:"minSeverity" enum:"info,warning,critical" example:"warning"`
	// Muted lists alert types the user is not notified of.
	Muted []string `json:"muted" maxItems:"32" example:"[\"unknown_face\"]"`
}

// Defaults are the preferences of a user who chose nothing, in the
// installation's time zone.
func Defaults(timezone string) Preferences {
	return Preferences{Language: "en", Timezone: timezone, DateFormat: "YYYY-MM-DD", TimeFormat: "24h", Theme: "system",
		Notifications: Notifications{InApp: true, MinSeverity: "warning", Muted: []string{}}}
}

// Check returns the field (JSON path under body) and reason of the first
// invalid choice, or "" when p is valid.
func Check(p Preferences) (field, reason string) {
	if !slices.ContainsFunc(languages, func(l Language) bool { return l.Code == p.Language }) {
		return "language", "is not a language of the dashboard (GET /i18n/languages)"
	}
	if p.Timezone == "" || p.Timezone == "Local" || strings.ContainsAny(p.Timezone, " \\") {
		return "timezone", "must be an IANA time zone such as Europe/Paris"
	}
	if _, err := time.LoadLocation(p.Timezone); err != nil {
		return "timezone", "is not a known IANA time zone"
	}
	if !slices.Contains([]string{"YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY"}, p.DateFormat) {
		return "dateFormat", "must be YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY or DD.MM.YYYY"
	}
	if p.TimeFormat != "24h" && p.TimeFormat != "12h" {
		return "timeFormat", "must be 24h or 12h"
	}
	if !slices.Contains([]string{"system", "light", "dark"}, p.Theme) {
		return "theme", "must be system, light or dark"
	}
	if !slices.Contains([]string{"info", "warning", "critical"}, p.Notifications.MinSeverity) {
		return "notifications.minSeverity", "must be info, warning or critical"
	}
	for _, m := range p.Notifications.Muted {
		if m == "" || len(m) > 64 || strings.ContainsFunc(m, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
			return "notifications.muted", "lists alert types: lowercase words joined by _"
		}
	}
	return "", ""
}
