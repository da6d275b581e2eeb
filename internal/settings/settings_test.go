package settings

import (
	"testing"
	"time"
)

func TestZones(t *testing.T) {
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	all := Zones(summer, "")
	if len(all) < 300 {
		t.Fatalf("%d zones", len(all))
	}
	found := map[string]Zone{}
	for i, z := range all {
		found[z.Name] = z
		if i > 1 && all[i-1].Name > z.Name && all[i-1].Name != "UTC" {
			t.Fatalf("not sorted: %s before %s", all[i-1].Name, z.Name)
		}
	}
	for name, want := range map[string]string{"UTC": "+00:00", "Europe/Paris": "+02:00", "Asia/Kolkata": "+05:30", "America/St_Johns": "-02:30"} {
		if z, ok := found[name]; !ok || z.Offset != want {
			t.Errorf("%s: %+v, want offset %s", name, z, want)
		}
	}
	if z := Zones(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "paris"); len(z) != 1 || z[0].Offset != "+01:00" || z[0].Abbreviation != "CET" {
		t.Errorf("Paris in winter: %+v", z)
	}
}

func TestCheck(t *testing.T) {
	ok := Defaults("Africa/Cairo")
	if f, r := Check(ok); f != "" {
		t.Fatalf("defaults refused: %s %s", f, r)
	}
	for field, change := range map[string]func(*Preferences){
		"language":                  func(p *Preferences) { p.Language = "xx" },
		"timezone":                  func(p *Preferences) { p.Timezone = "Mars/Olympus" },
		"timezone ":                 func(p *Preferences) { p.Timezone = "Local" },
		"dateFormat":                func(p *Preferences) { p.DateFormat = "%Y" },
		"timeFormat":                func(p *Preferences) { p.TimeFormat = "36h" },
		"theme":                     func(p *Preferences) { p.Theme = "neon" },
		"notifications.minSeverity": func(p *Preferences) { p.Notifications.MinSeverity = "loud" },
		"notifications.muted":       func(p *Preferences) { p.Notifications.Muted = []string{"Camera Offline!"} },
	} {
		p := Defaults("UTC")
		change(&p)
		if f, _ := Check(p); f == "" || f[0] != field[0] {
			t.Errorf("%s: refused field %q", field, f)
		}
	}
}
