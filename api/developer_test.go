package api_test

import (
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/auth"
)

// The developer console lists the API's operations and calls them
// in-process as the caller: nothing outside Rollcall's routes, nothing
// the caller's own role does not allow.
func TestDeveloperConsole(t *testing.T) {
	h := newHarness(t)
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)

	res := h.as(admin, "GET", "/api/v1/developer/endpoints", nil)
	h.check(t, scenario{Name: "catalog", WantStatus: 200, WantContains: []string{`"id":"list-cameras"`, `"permission":"cameras:read"`,
		`"path":"/api/v1/cameras/{id}"`, `"pathParams":["id"]`, `"requestSchema":`}}, res)
	if strings.Contains(res.Body.String(), `"id":"invoke-endpoint"`) || strings.Contains(res.Body.String(), `"/health/live"`) {
		t.Fatalf("the catalog lists the console itself or routes outside /api/v1")
	}
	h.check(t, scenario{Name: "viewer may not use the console", WantStatus: 403},
		h.as(viewer, "GET", "/api/v1/developer/endpoints", nil))
	h.check(t, scenario{Name: "nor invoke through it", WantStatus: 403},
		h.as(viewer, "POST", "/api/v1/developer/endpoints/create-user/invoke", map[string]any{}))

	// The call is made as the caller.
	h.check(t, scenario{Name: "me", WantStatus: 200, WantContains: []string{`"status":200`, `"username":"root"`, `"durationMs":`}},
		h.as(admin, "POST", "/api/v1/developer/endpoints/get-me/invoke", map[string]any{}))
	h.check(t, scenario{Name: "with query and body", WantStatus: 200, WantContains: []string{`"status":201`, `"name":"Console cam"`, `"X-Request-ID":"`}},
		h.as(admin, "POST", "/api/v1/developer/endpoints/create-camera/invoke", map[string]any{
			"body": map[string]any{"name": "Console cam", "url": "rtsp://10.0.0.60/s", "direction": "entry"}}))
	h.check(t, scenario{Name: "the API's own refusals come back as they are", WantStatus: 200, WantContains: []string{`"status":422`, `validation`}},
		h.as(admin, "POST", "/api/v1/developer/endpoints/list-cameras/invoke", map[string]any{"query": map[string]string{"limit": "100000"}}))

	for name, params := range map[string]map[string]string{
		"traversal":     {"id": ".."},
		"another route": {"id": "x/../../health/live"},
		"missing":       {},
		"unknown param": {"id": "x", "host": "example.com"},
	} {
		h.check(t, scenario{Name: name, WantStatus: 422, WantContains: []string{"body.pathParams"}},
			h.as(admin, "POST", "/api/v1/developer/endpoints/get-camera/invoke", map[string]any{"pathParams": params}))
	}
	h.check(t, scenario{Name: "unknown operation", WantStatus: 404}, h.as(admin, "POST", "/api/v1/developer/endpoints/fetch-url/invoke", map[string]any{}))
	h.check(t, scenario{Name: "the console cannot call itself", WantStatus: 404},
		h.as(admin, "POST", "/api/v1/developer/endpoints/invoke-endpoint/invoke", map[string]any{"pathParams": map[string]string{"id": "get-me"}}))
	h.check(t, scenario{Name: "nested", WantStatus: 400},
		h.as(admin, "POST", "/api/v1/developer/endpoints/get-me/invoke", map[string]any{}, "X-Rollcall-Console", "1"))
}
