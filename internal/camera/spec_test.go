package camera

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeDefaultsAndTrims(t *testing.T) {
	s := Spec{
		Name:      "  Front door  ",
		Site:      " HQ ",
		Location:  " Lobby ",
		URL:       " rtsp://cam.local:554/stream1 ",
		Direction: " ",
		Tags:      []string{" Lobby", "entrance ", "lobby", ""},
	}
	if errs := s.Normalize(); len(errs) > 0 {
		t.Fatalf("Normalize: %v", errs)
	}
	want := Spec{
		Name:      "Front door",
		Site:      "HQ",
		Location:  "Lobby",
		URL:       "rtsp://cam.local:554/stream1",
		Direction: DirectionBoth,
		FPS:       1,
		Timezone:  "UTC",
		Tags:      []string{"entrance", "lobby"},
		State:     StateInactive,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
}

func TestNormalizeLowercasesDirectionAndState(t *testing.T) {
	s := Spec{Name: "a", URL: "RTSP://h/x", Direction: "Entry", State: "ACTIVE", Timezone: "Europe/Paris", FPS: 2.5}
	if errs := s.Normalize(); len(errs) > 0 {
		t.Fatalf("Normalize: %v", errs)
	}
	if s.Direction != DirectionEntry || s.State != StateActive || s.URL != "rtsp://h/x" || s.FPS != 2.5 || s.Timezone != "Europe/Paris" {
		t.Errorf("got %+v", s)
	}
}

func TestNormalizeSplitsCredentialsOutOfURL(t *testing.T) {
	s := Spec{Name: "a", URL: "rtsp://admin:p%40ss@10.0.0.5:554/live"}
	if errs := s.Normalize(); len(errs) > 0 {
		t.Fatalf("Normalize: %v", errs)
	}
	if s.URL != "rtsp://10.0.0.5:554/live" || s.Username != "admin" || s.Password != "p@ss" {
		t.Errorf("got URL %q user %q password %q", s.URL, s.Username, s.Password)
	}

	s = Spec{Name: "a", URL: "rtsp://admin:x@h/live", Username: "other"}
	if !hasField(s.Normalize(), "url") {
		t.Error("credentials both embedded and given: want a url error")
	}
}

func TestNormalizeRejects(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	tags := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "t" + strings.Repeat("x", i)
		}
		return out
	}
	tests := []struct {
		name  string
		edit  func(*Spec)
		field string
	}{
		{"name missing", func(s *Spec) { s.Name = "  " }, "name"},
		{"name too long", func(s *Spec) { s.Name = long(MaxNameLength + 1) }, "name"},
		{"name with newline", func(s *Spec) { s.Name = "a\nb" }, "name"},
		{"site too long", func(s *Spec) { s.Site = long(MaxSiteLength + 1) }, "site"},
		{"site with tab", func(s *Spec) { s.Site = "a\tb" }, "site"},
		{"location too long", func(s *Spec) { s.Location = long(MaxLocationLength + 1) }, "location"},
		{"url missing", func(s *Spec) { s.URL = "" }, "url"},
		{"url local file", func(s *Spec) { s.URL = "file:///etc/passwd" }, "url"},
		{"url http", func(s *Spec) { s.URL = "http://cam/x" }, "url"},
		{"url ffmpeg concat", func(s *Spec) { s.URL = "concat:/etc/passwd|/etc/shadow" }, "url"},
		{"url option", func(s *Spec) { s.URL = "-i /etc/passwd" }, "url"},
		{"username too long", func(s *Spec) { s.Username = strings.Repeat("u", MaxCredential+1) }, "username"},
		{"password with control", func(s *Spec) { s.Password = "a\x00b" }, "password"},
		{"direction unknown", func(s *Spec) { s.Direction = "sideways" }, "direction"},
		{"fps too low", func(s *Spec) { s.FPS = 0.05 }, "fps"},
		{"fps too high", func(s *Spec) { s.FPS = MaxFPS + 1 }, "fps"},
		{"fps negative", func(s *Spec) { s.FPS = -1 }, "fps"},
		{"fps NaN", func(s *Spec) { s.FPS = math.NaN() }, "fps"},
		{"fps infinite", func(s *Spec) { s.FPS = math.Inf(1) }, "fps"},
		{"timezone unknown", func(s *Spec) { s.Timezone = "Mars/Olympus" }, "timezone"},
		{"timezone path", func(s *Spec) { s.Timezone = "../../etc/passwd" }, "timezone"},
		{"timezone server local", func(s *Spec) { s.Timezone = "Local" }, "timezone"},
		{"state unknown", func(s *Spec) { s.State = "broken" }, "state"},
		{"too many tags", func(s *Spec) { s.Tags = tags(MaxTags + 1) }, "tags"},
		{"tag too long", func(s *Spec) { s.Tags = []string{strings.Repeat("x", MaxTagLength+1)} }, "tags"},
		{"tag with comma", func(s *Spec) { s.Tags = []string{"a,b"} }, "tags"},
		{"tag with CSV separator ;", func(s *Spec) { s.Tags = []string{"a;b"} }, "tags"},
		{"tag with CSV separator |", func(s *Spec) { s.Tags = []string{"a|b"} }, "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Spec{Name: "cam", URL: "rtsp://cam.local/stream"}
			tt.edit(&s)
			errs := s.Normalize()
			if !hasField(errs, tt.field) {
				t.Errorf("errors %v: want one on %s", errs, tt.field)
			}
		})
	}
}

func TestNormalizeAcceptsLimits(t *testing.T) {
	s := Spec{
		Name:     strings.Repeat("é", MaxNameLength),
		Site:     strings.Repeat("s", MaxSiteLength),
		Location: strings.Repeat("l", MaxLocationLength),
		URL:      "rtsps://cam.local/stream",
		Username: strings.Repeat("u", MaxCredential),
		FPS:      MaxFPS,
		Tags:     []string{strings.Repeat("t", MaxTagLength)},
	}
	if errs := s.Normalize(); len(errs) > 0 {
		t.Errorf("values at the limits: %v", errs)
	}
	s = Spec{Name: "a", URL: "rtsp://h/x", FPS: MinFPS}
	if errs := s.Normalize(); len(errs) > 0 {
		t.Errorf("fps at its minimum: %v", errs)
	}
}

func TestNormalizeReportsEveryProblem(t *testing.T) {
	s := Spec{URL: "file:///etc/passwd", Direction: "up", State: "gone", FPS: 99}
	var fields []string
	for _, e := range s.Normalize() {
		fields = append(fields, e.Field)
	}
	for _, want := range []string{"name", "url", "direction", "fps", "state"} {
		if !slices.Contains(fields, want) {
			t.Errorf("errors on %v: want one on %s", fields, want)
		}
	}
}

func hasField(errs []FieldError, field string) bool {
	return slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == field })
}
