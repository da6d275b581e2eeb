package api_test

import (
	"testing"

	"github.com/rollcall/rollcall/internal/auth"
)

func TestSettings(t *testing.T) {
	h := newHarness(t)
	_, viewer := h.mustUserToken("viewer", auth.RoleViewer)
	_, other := h.mustUserToken("other", auth.RoleHR)

	h.check(t, scenario{Name: "languages", WantStatus: 200, WantContains: []string{`"default":"en"`, `"code":"ar"`, `"rtl":true`}},
		h.as(viewer, "GET", "/api/v1/i18n/languages", nil))
	h.check(t, scenario{Name: "timezones", WantStatus: 200, WantContains: []string{`"name":"Asia/Kolkata"`, `"offset":"+05:30"`}},
		h.as(viewer, "GET", "/api/v1/settings/timezones?q=kolkata", nil))
	h.check(t, scenario{Name: "defaults", WantStatus: 200, WantContains: []string{`"language":"en"`, `"theme":"system"`, `"timezone":"UTC"`}},
		h.as(viewer, "GET", "/api/v1/settings/preferences", nil))

	prefs := map[string]any{"language": "ar", "timezone": "Africa/Cairo", "dateFormat": "DD/MM/YYYY", "timeFormat": "12h", "theme": "dark",
		"notifications": map[string]any{"inApp": true, "minSeverity": "critical", "muted": []string{"unknown_face"}}}
	h.check(t, scenario{Name: "set", WantStatus: 200, WantContains: []string{`"language":"ar"`, `"updatedAt":"`}},
		h.as(viewer, "PUT", "/api/v1/settings/preferences", prefs))
	h.check(t, scenario{Name: "read back", WantStatus: 200, WantContains: []string{`"timezone":"Africa/Cairo"`, `"theme":"dark"`, `"muted":["unknown_face"]`}},
		h.as(viewer, "GET", "/api/v1/settings/preferences", nil))
	h.check(t, scenario{Name: "another user's are their own", WantStatus: 200, WantContains: []string{`"language":"en"`}},
		h.as(other, "GET", "/api/v1/settings/preferences", nil))

	for name, change := range map[string]func(map[string]any){
		"body.timezone": func(p map[string]any) { p["timezone"] = "Mars/Olympus" },
		"body.language": func(p map[string]any) { p["language"] = "xx" },
		"body.theme":    func(p map[string]any) { p["theme"] = "neon" },
	} {
		bad := map[string]any{}
		for k, v := range prefs {
			bad[k] = v
		}
		change(bad)
		h.check(t, scenario{Name: name, WantStatus: 422, WantContains: []string{name}}, h.as(viewer, "PUT", "/api/v1/settings/preferences", bad))
	}
	h.check(t, scenario{Name: "unchanged after refusals", WantStatus: 200, WantContains: []string{`"timezone":"Africa/Cairo"`}},
		h.as(viewer, "GET", "/api/v1/settings/preferences", nil))
}
