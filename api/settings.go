package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/settings"
	"github.com/rollcall/rollcall/store"
)

// LanguagesOutput is GET /i18n/languages.
type LanguagesOutput struct {
	Body struct {
		Default string              `json:"default" example:"en"`
		Items   []settings.Language `json:"items"`
	}
}

// TimezonesInput filters GET /settings/timezones.
type TimezonesInput struct {
	Q string `query:"q" maxLength:"64" doc:"Only zones whose name contains this (case-insensitive)" example:"america"`
}

// TimezonesOutput is GET /settings/timezones.
type TimezonesOutput struct {
	Body struct {
		Default string          `json:"default" example:"Africa/Cairo" doc:"The installation's zone (ROLLCALL_TIMEZONE)"`
		Items   []settings.Zone `json:"items"`
	}
}

// PreferencesOutput is a user's preferences.
type PreferencesOutput struct {
	Body struct {
		settings.Preferences
		UpdatedAt *time.Time `json:"updatedAt,omitempty" doc:"Absent while the defaults apply"`
	}
}

// PutPreferencesInput is PUT /settings/preferences: the whole set.
type PutPreferencesInput struct {
	Body settings.Preferences
}

func registerSettings(api huma.API, s *Server) {
	register(api, op{ID: "list-languages", Method: http.MethodGet, Path: "/i18n/languages", Tag: "Settings", Perm: auth.PermAccountSelf,
		Summary: "The languages of the dashboard"}, s.languages)
	register(api, op{ID: "list-timezones", Method: http.MethodGet, Path: "/settings/timezones", Tag: "Settings", Perm: auth.PermAccountSelf,
		Summary: "IANA time zones with their offsets now"}, s.timezones)
	register(api, op{ID: "get-preferences", Method: http.MethodGet, Path: "/settings/preferences", Tag: "Settings", Perm: auth.PermAccountSelf,
		Summary: "Your preferences (the defaults until you set them)"}, s.getPreferences)
	register(api, op{ID: "put-preferences", Method: http.MethodPut, Path: "/settings/preferences", Tag: "Settings", Perm: auth.PermAccountSelf,
		Summary: "Set your preferences", Desc: "Replaces the whole set; each choice is checked (a language of the dashboard, an IANA zone, …)."},
		s.putPreferences)
}

func (s *Server) languages(context.Context, *struct{}) (*LanguagesOutput, error) {
	out := &LanguagesOutput{}
	out.Body.Default, out.Body.Items = "en", settings.Languages()
	return out, nil
}

func (s *Server) timezones(_ context.Context, in *TimezonesInput) (*TimezonesOutput, error) {
	out := &TimezonesOutput{}
	out.Body.Default, out.Body.Items = s.cfg.Attendance.Timezone, settings.Zones(s.now(), in.Q)
	return out, nil
}

func (s *Server) getPreferences(ctx context.Context, _ *struct{}) (*PreferencesOutput, error) {
	out := &PreferencesOutput{}
	out.Body.Preferences = settings.Defaults(s.cfg.Attendance.Timezone)
	row, err := store.GetPreferences(ctx, s.db, infoFrom(ctx).Principal.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return out, nil
	case err != nil:
		return nil, err
	}
	// Stored choices over the defaults: a choice added since keeps its default.
	if err := json.Unmarshal(row.Settings, &out.Body.Preferences); err != nil {
		return nil, err
	}
	out.Body.Language, out.Body.Timezone, out.Body.Theme = row.Language, row.Timezone, row.Theme
	out.Body.UpdatedAt = &row.UpdatedAt
	return out, nil
}

func (s *Server) putPreferences(ctx context.Context, in *PutPreferencesInput) (*PreferencesOutput, error) {
	p := in.Body
	if p.Notifications.Muted == nil {
		p.Notifications.Muted = []string{}
	}
	if field, reason := settings.Check(p); field != "" {
		return nil, fieldError("body."+field, reason, nil)
	}
	rest, err := json.Marshal(map[string]any{"dateFormat": p.DateFormat, "timeFormat": p.TimeFormat, "notifications": p.Notifications})
	if err != nil {
		return nil, err
	}
	row := &store.UserPreferences{UserID: infoFrom(ctx).Principal.UserID, Language: p.Language, Timezone: p.Timezone, Theme: p.Theme, Settings: rest}
	if err := store.SavePreferences(ctx, s.db, row); err != nil {
		return nil, err
	}
	out := &PreferencesOutput{}
	out.Body.Preferences, out.Body.UpdatedAt = p, &row.UpdatedAt
	return out, nil
}
