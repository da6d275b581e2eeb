package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/store"
)

func TestUserCRUD(t *testing.T) {
	type fixture struct {
		admin, viewer string // tokens
		adminID       string
		bob           *store.User
	}
	setup := func(t *testing.T) (*harness, fixture) {
		h := newHarness(t)
		a, at := h.mustUserToken("root", auth.RoleAdmin)
		_, vt := h.mustUserToken("vera", auth.RoleViewer)
		bob, _ := h.mustCreateUser("bob", auth.RoleOperator)
		return h, fixture{admin: at, viewer: vt, adminID: a.ID, bob: bob}
	}
	newUser := map[string]any{"username": "carol", "email": "carol@example.com", "fullName": "Carol C", "role": "hr", "password": "a-long-enough-pass"}
	scenarios := []struct {
		scenario
		as func(fixture) string
	}{
		{scenario{Name: "list", Method: "GET", URL: "/api/v1/users", WantStatus: 200,
			WantContains: []string{`"username":"root"`, `"username":"bob"`, `"total":3`}}, nil},
		{scenario{Name: "list filtered by role", Method: "GET", URL: "/api/v1/users?role=operator", WantStatus: 200,
			WantContains: []string{`"username":"bob"`, `"total":1`}}, nil},
		{scenario{Name: "list searched", Method: "GET", URL: "/api/v1/users?q=VER", WantStatus: 200,
			WantContains: []string{`"username":"vera"`, `"total":1`}}, nil},
		{scenario{Name: "list bad role filter", Method: "GET", URL: "/api/v1/users?role=god", WantStatus: 422,
			WantContains: []string{"query.role"}}, nil},
		{scenario{Name: "list bad cursor", Method: "GET", URL: "/api/v1/users?cursor=zzz", WantStatus: 422,
			WantContains: []string{"query.cursor"}}, nil},
		{scenario{Name: "list limit out of range", Method: "GET", URL: "/api/v1/users?limit=5000", WantStatus: 422,
			WantContains: []string{"query.limit"}}, nil},
		{scenario{Name: "viewer cannot list users", Method: "GET", URL: "/api/v1/users", WantStatus: 403}, func(f fixture) string { return f.viewer }},
		{scenario{Name: "create", Method: "POST", URL: "/api/v1/users", Body: newUser, WantStatus: 201,
			WantContains: []string{`"username":"carol"`, `"role":"hr"`, `"isActive":true`}}, nil},
		{scenario{Name: "create never echoes the password", Method: "POST", URL: "/api/v1/users", Body: newUser, WantStatus: 201}, nil},
		{scenario{Name: "viewer cannot create", Method: "POST", URL: "/api/v1/users", Body: newUser, WantStatus: 403,
			WantContains: []string{`"code":"forbidden"`}}, func(f fixture) string { return f.viewer }},
		{scenario{Name: "duplicate username (any case)", Method: "POST", URL: "/api/v1/users",
			Body:       map[string]any{"username": "BOB", "role": "hr", "password": "a-long-enough-pass"},
			WantStatus: 409, WantContains: []string{`"code":"conflict"`, "body.username"}}, nil},
		{scenario{Name: "weak password names the field", Method: "POST", URL: "/api/v1/users",
			Body:       map[string]any{"username": "dan", "role": "hr", "password": "short"},
			WantStatus: 422, WantContains: []string{"body.password", "at least 10"}}, nil},
		{scenario{Name: "password containing the username", Method: "POST", URL: "/api/v1/users",
			Body:       map[string]any{"username": "danny", "role": "hr", "password": "my-name-is-danny"},
			WantStatus: 422, WantContains: []string{"body.password", "username"}}, nil},
		{scenario{Name: "bad username characters", Method: "POST", URL: "/api/v1/users",
			Body:       map[string]any{"username": "dan; drop table", "role": "hr", "password": "a-long-enough-pass"},
			WantStatus: 422, WantContains: []string{"body.username"}}, nil},
		{scenario{Name: "bad email", Method: "POST", URL: "/api/v1/users",
			Body:       map[string]any{"username": "dan", "email": "not-an-email", "role": "hr", "password": "a-long-enough-pass"},
			WantStatus: 422, WantContains: []string{"body.email"}}, nil},
		{scenario{Name: "unknown role", Method: "POST", URL: "/api/v1/users",
			Body:       map[string]any{"username": "dan", "role": "root", "password": "a-long-enough-pass"},
			WantStatus: 422, WantContains: []string{"body.role"}}, nil},
		{scenario{Name: "get", Method: "GET", URL: "/api/v1/users/{bob}", WantStatus: 200, WantContains: []string{`"username":"bob"`}}, nil},
		{scenario{Name: "get unknown", Method: "GET", URL: "/api/v1/users/00000000-0000-0000-0000-000000000000", WantStatus: 404,
			WantContains: []string{`"code":"not-found"`}}, nil},
		{scenario{Name: "get malformed id", Method: "GET", URL: "/api/v1/users/42", WantStatus: 422, WantContains: []string{"path.id"}}, nil},
		{scenario{Name: "update", Method: "PUT", URL: "/api/v1/users/{bob}",
			Body:       map[string]any{"email": "bob@new.example.com", "fullName": "Robert", "role": "hr", "isActive": true},
			WantStatus: 200, WantContains: []string{`"fullName":"Robert"`, `"role":"hr"`}}, nil},
		{scenario{Name: "update unknown", Method: "PUT", URL: "/api/v1/users/00000000-0000-0000-0000-000000000000",
			Body: map[string]any{"role": "hr", "isActive": true}, WantStatus: 404}, nil},
		{scenario{Name: "update to a taken email", Method: "PUT", URL: "/api/v1/users/{bob}",
			Body: map[string]any{"email": "VERA@example.com", "role": "hr", "isActive": true}, WantStatus: 409}, nil},
		{scenario{Name: "delete", Method: "DELETE", URL: "/api/v1/users/{bob}", WantStatus: 204}, nil},
		{scenario{Name: "delete unknown", Method: "DELETE", URL: "/api/v1/users/00000000-0000-0000-0000-000000000000", WantStatus: 404}, nil},
		{scenario{Name: "demote the last admin", Method: "PUT", URL: "/api/v1/users/{root}",
			Body: map[string]any{"role": "viewer", "isActive": true}, WantStatus: 409, WantContains: []string{`"code":"last-admin"`}}, nil},
		{scenario{Name: "disable the last admin", Method: "PUT", URL: "/api/v1/users/{root}",
			Body: map[string]any{"role": "admin", "isActive": false}, WantStatus: 409, WantContains: []string{`"code":"last-admin"`}}, nil},
		{scenario{Name: "delete the last admin", Method: "DELETE", URL: "/api/v1/users/{root}", WantStatus: 409,
			WantContains: []string{`"code":"last-admin"`}}, nil},
		{scenario{Name: "list roles", Method: "GET", URL: "/api/v1/roles", WantStatus: 200,
			WantContains: []string{`"name":"admin"`, `"name":"operator"`, `"name":"hr"`, `"name":"viewer"`, `"users:manage"`}}, nil},
	}
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			h, f := setup(t)
			url := strings.NewReplacer("{bob}", f.bob.ID, "{root}", f.adminID).Replace(s.URL)
			tok := f.admin
			if s.as != nil {
				tok = s.as(f)
			}
			res := h.as(tok, s.Method, url, s.Body)
			h.check(t, s.scenario, res)
			if strings.Contains(res.Body.String(), "password") && s.WantStatus < 300 && s.Method != "GET" {
				t.Fatalf("response mentions a password: %s", res.Body)
			}
		})
	}
}

func TestUsersPagination(t *testing.T) {
	h := newHarness(t)
	_, tok := h.mustUserToken("root", auth.RoleAdmin)
	for i := range 7 {
		h.mustCreateUser(fmt.Sprintf("user%02d", i), auth.RoleViewer)
	}
	seen := map[string]bool{}
	url := "/api/v1/users?limit=3"
	pages := 0
	for {
		res := h.as(tok, "GET", url, nil)
		if res.Code != 200 {
			t.Fatalf("page %d: %d %s", pages, res.Code, res.Body)
		}
		var page struct {
			Items []struct {
				Username string `json:"username"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
			Total      int    `json:"total"`
		}
		_ = json.Unmarshal(res.Body.Bytes(), &page)
		pages++
		for _, it := range page.Items {
			if seen[it.Username] {
				t.Fatalf("user %s on two pages", it.Username)
			}
			seen[it.Username] = true
		}
		if page.Total != 8 {
			t.Fatalf("total %d, want 8", page.Total)
		}
		if page.NextCursor == "" {
			break
		}
		url = "/api/v1/users?limit=3&cursor=" + page.NextCursor
	}
	if len(seen) != 8 || pages != 3 {
		t.Fatalf("saw %d users over %d pages, want 8 over 3", len(seen), pages)
	}
}

// Disabling, demoting or deleting a user signs out their sessions at once.
func TestUserChangesRevokeSessions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		body   any
	}{
		{"disable", "PUT", map[string]any{"role": "operator", "isActive": false}},
		{"change role", "PUT", map[string]any{"role": "viewer", "isActive": true}},
		{"delete", "DELETE", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_, admin := h.mustUserToken("root", auth.RoleAdmin)
			bob, pw := h.mustCreateUser("bob", auth.RoleOperator)
			bobTokens := h.mustLogin("bob", pw)
			if res := h.as(bobTokens.AccessToken, "GET", "/api/v1/auth/me", nil); res.Code != 200 {
				t.Fatalf("before: %d", res.Code)
			}
			if res := h.as(admin, tc.method, "/api/v1/users/"+bob.ID, tc.body); res.Code >= 300 {
				t.Fatalf("%s: %d %s", tc.name, res.Code, res.Body)
			}
			if res := h.as(bobTokens.AccessToken, "GET", "/api/v1/auth/me", nil); res.Code != 401 {
				t.Fatalf("access token still works after %s: %d", tc.name, res.Code)
			}
			if res := h.request("POST", "/api/v1/auth/refresh", map[string]string{"refreshToken": bobTokens.RefreshToken}); res.Code != 401 {
				t.Fatalf("refresh token still works after %s: %d", tc.name, res.Code)
			}
		})
	}
}

func TestLastAdminCanBeReplaced(t *testing.T) {
	h := newHarness(t)
	root, tok := h.mustUserToken("root", auth.RoleAdmin)
	second, _ := h.mustCreateUser("second", auth.RoleOperator)
	if res := h.as(tok, "PUT", "/api/v1/users/"+second.ID, map[string]any{"role": "admin", "isActive": true}); res.Code != 200 {
		t.Fatalf("promote: %d %s", res.Code, res.Body)
	}
	if res := h.as(tok, "DELETE", "/api/v1/users/"+root.ID, nil); res.Code != 204 {
		t.Fatalf("delete self once another admin exists: %d %s", res.Code, res.Body)
	}
}

func TestChangePassword(t *testing.T) {
	const newPass = "brand-new-secret-42"
	for _, tc := range []struct {
		name       string
		actor      auth.Role
		self       bool
		body       map[string]string
		wantStatus int
		wantText   string
	}{
		{"own, with current password", auth.RoleViewer, true, map[string]string{"currentPassword": "{pw}", "newPassword": newPass}, 204, ""},
		{"own, without current password", auth.RoleViewer, true, map[string]string{"newPassword": newPass}, 422, "body.currentPassword"},
		{"own, wrong current password", auth.RoleViewer, true, map[string]string{"currentPassword": "not-it-at-all", "newPassword": newPass}, 422, "body.currentPassword"},
		{"own, weak new password", auth.RoleViewer, true, map[string]string{"currentPassword": "{pw}", "newPassword": "aaaaaaaaaaaa"}, 422, "body.newPassword"},
		{"admin resets another user", auth.RoleAdmin, false, map[string]string{"newPassword": newPass}, 204, ""},
		{"operator cannot reset another user", auth.RoleOperator, false, map[string]string{"newPassword": newPass}, 403, "users:manage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustCreateUser("root", auth.RoleAdmin)
			actor, actorPw := h.mustCreateUser("actor", tc.actor)
			target, targetPw := actor, actorPw
			if !tc.self {
				target, targetPw = h.mustCreateUser("target", auth.RoleViewer)
			}
			targetOther := h.mustLogin(target.Username, targetPw) // another session of the target
			actorTokens := h.mustLogin("actor", actorPw)
			body := map[string]string{}
			for k, v := range tc.body {
				body[k] = strings.ReplaceAll(v, "{pw}", actorPw)
			}
			res := h.as(actorTokens.AccessToken, "PATCH", "/api/v1/users/"+target.ID+"/password", body)
			h.check(t, scenario{Method: "PATCH", URL: "password", WantStatus: tc.wantStatus, WantContains: []string{tc.wantText}}, res)
			if tc.wantStatus != 204 {
				h.mustLogin(target.Username, targetPw) // old password still works
				return
			}
			h.mustLogin(target.Username, newPass)
			if res := h.request("POST", "/api/v1/auth/login", map[string]string{"username": target.Username, "password": targetPw}); res.Code != 401 {
				t.Fatalf("old password still works: %d", res.Code)
			}
			if res := h.as(targetOther.AccessToken, "GET", "/api/v1/auth/me", nil); res.Code != 401 {
				t.Fatalf("target's other session survived the password change: %d", res.Code)
			}
			if tc.self {
				if res := h.as(actorTokens.AccessToken, "GET", "/api/v1/auth/me", nil); res.Code != 200 {
					t.Fatalf("the session that changed its own password was signed out: %d", res.Code)
				}
			}
		})
	}
}

// TestPasswordChangeGuessesAreLimited: a stolen session cannot guess the
// current password without limit; the right one from the same session
// resets the count.
func TestPasswordChangeGuessesAreLimited(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
		c.LoginRateAccount = config.RateLimit{Limit: 3, Window: time.Minute}
	})
	u, pw := h.mustCreateUser("alice", auth.RoleViewer)
	tok := h.mustLogin("alice", pw).AccessToken
	change := func(current string) int {
		return h.as(tok, "PATCH", "/api/v1/users/"+u.ID+"/password", map[string]string{"currentPassword": current, "newPassword": "Another-Long-Pass-42"}).Code
	}
	for i := range 3 {
		if code := change("guess-number-" + string(rune('a'+i))); code != 422 {
			t.Fatalf("guess %d: %d", i+1, code)
		}
	}
	if code := change("guess-number-x"); code != 429 {
		t.Fatalf("fourth guess: %d, want 429", code)
	}
	if code := change(pw); code != 429 {
		t.Fatalf("the right password while limited: %d, want 429", code)
	}
}
