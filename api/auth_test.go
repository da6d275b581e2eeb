package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/store"
)

func TestLogin(t *testing.T) {
	scenarios := []scenario{
		{Name: "valid credentials", Body: map[string]string{"username": "alice", "password": "pw-alice-Xy7!kq"},
			WantStatus: 200, WantContains: []string{`"accessToken":"`, `"refreshToken":"`, `"tokenType":"Bearer"`, `"username":"alice"`}},
		{Name: "username is case-insensitive", Body: map[string]string{"username": "ALICE", "password": "pw-alice-Xy7!kq"},
			WantStatus: 200, WantContains: []string{`"accessToken":"`}},
		{Name: "wrong password", Body: map[string]string{"username": "alice", "password": "nope-nope-nope"},
			WantStatus: 401, WantContains: []string{`"code":"invalid-credentials"`}},
		{Name: "unknown user", Body: map[string]string{"username": "mallory", "password": "nope-nope-nope"},
			WantStatus: 401, WantContains: []string{`"code":"invalid-credentials"`}},
		{Name: "disabled user with right password", Body: map[string]string{"username": "bob", "password": "pw-bob-Xy7!kq"},
			WantStatus: 401, WantContains: []string{`"code":"invalid-credentials"`}},
		{Name: "missing password names the field", Body: map[string]string{"username": "alice"},
			WantStatus: 422, WantContains: []string{`"code":"validation-failed"`, `body.password`}},
		{Name: "overlong password names the field", Body: map[string]string{"username": "alice", "password": strings.Repeat("x", 200)},
			WantStatus: 422, WantContains: []string{`body.password`}},
		{Name: "malformed JSON", Body: `{"username": "alice",`, WantStatus: 400, WantContains: []string{`"code":"bad-request"`}},
		{Name: "unknown field refused", Body: map[string]string{"username": "alice", "password": "x", "role": "admin"},
			WantStatus: 422, WantContains: []string{`role`}},
	}
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			h := newHarness(t)
			h.mustCreateUser("alice", auth.RoleAdmin)
			bob, _ := h.mustCreateUser("bob", auth.RoleViewer)
			bob.IsActive = false
			if err := store.UpdateUser(t.Context(), h.db, bob); err != nil {
				t.Fatal(err)
			}
			s.Method, s.URL = http.MethodPost, "/api/v1/auth/login"
			h.check(t, s, h.request(s.Method, s.URL, s.Body))
		})
	}
}

// Unknown users and wrong passwords must be indistinguishable: same
// answer, and the same work (a password hash is verified either way).
func TestLoginNoUserEnumeration(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
		c.LoginRateIP.Limit, c.LoginRateAccount.Limit = 1000, 1000
	})
	h.mustCreateUser("alice", auth.RoleAdmin)
	body := func(res response) string {
		m := res.json(t)
		delete(m, "requestId")
		b, _ := json.Marshal(m)
		return string(b)
	}
	median := func(username string) (time.Duration, string) {
		var ds []time.Duration
		var last string
		for range 7 {
			start := time.Now()
			res := h.request(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": username, "password": "wrong-password-1"})
			ds = append(ds, time.Since(start))
			last = body(res)
		}
		slices.Sort(ds)
		return ds[len(ds)/2], last
	}
	known, knownBody := median("alice")
	unknown, unknownBody := median("nobody-here")
	if knownBody != unknownBody {
		t.Fatalf("answers differ:\nknown user:   %s\nunknown user: %s", knownBody, unknownBody)
	}
	// Without the dummy hash an unknown user answers ~20x faster.
	if ratio := float64(unknown) / float64(known); ratio < 0.5 || ratio > 2 {
		t.Fatalf("timing differs: wrong password %v, unknown user %v (ratio %.2f)", known, unknown, ratio)
	}
}

func TestLoginRateLimits(t *testing.T) {
	limits := func(c *config.Config, _ map[string]api.Checker) {
		c.LoginRateIP = config.RateLimit{Limit: 5, Window: time.Minute}
		c.LoginRateAccount = config.RateLimit{Limit: 3, Window: time.Minute}
	}
	login := func(h *harness, user, pw, ip string) response {
		return h.request(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": pw}, "RemoteAddr", ip+":4000")
	}

	t.Run("per IP, whatever the account", func(t *testing.T) {
		h := newHarness(t, limits)
		for i := range 5 {
			if res := login(h, "user"+string(rune('a'+i)), "wrong-password-1", "10.0.0.1"); res.Code != 401 {
				t.Fatalf("attempt %d: %d", i+1, res.Code)
			}
		}
		res := login(h, "someone", "wrong-password-1", "10.0.0.1")
		h.check(t, scenario{Method: "POST", URL: "login", WantStatus: 429, WantContains: []string{`"code":"rate-limited"`},
			WantHeaders: map[string]string{"Retry-After": "*"}}, res)
		if res := login(h, "someone", "wrong-password-1", "10.0.0.2"); res.Code != 401 {
			t.Fatalf("another IP is limited too: %d", res.Code)
		}
	})

	t.Run("per account and source: the failing source is refused, others slowed, never locked out", func(t *testing.T) {
		h := newHarness(t, limits)
		_, pw := h.mustCreateUser("alice", auth.RoleViewer)
		for i := range 3 {
			if res := login(h, "alice", "wrong-password-1", "10.0.1.1"); res.Code != 401 {
				t.Fatalf("failure %d: %d", i+1, res.Code)
			}
		}
		// The attacking source is refused, even with the right password.
		res := login(h, "alice", pw, "10.0.1.1")
		h.check(t, scenario{Method: "POST", URL: "login", WantStatus: 429, WantHeaders: map[string]string{"Retry-After": "*"}}, res)
		// Failures from many sources slow the account down but do not lock it.
		for i := range 3 {
			login(h, "alice", "wrong-password-1", "10.0.2."+string(rune('1'+i)))
		}
		start := time.Now()
		if res := login(h, "alice", pw, "10.0.3.1"); res.Code != 200 {
			t.Fatalf("the right password from a clean source: %d %s", res.Code, res.Body)
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Fatalf("an account under attack was not slowed down (%v)", d)
		}
	})

	t.Run("a success clears the account's failures", func(t *testing.T) {
		h := newHarness(t, limits)
		_, pw := h.mustCreateUser("alice", auth.RoleViewer)
		login(h, "alice", "wrong-password-1", "10.0.3.1")
		login(h, "alice", "wrong-password-1", "10.0.3.2")
		if res := login(h, "alice", pw, "10.0.3.3"); res.Code != 200 {
			t.Fatalf("login: %d %s", res.Code, res.Body)
		}
		login(h, "alice", "wrong-password-1", "10.0.3.4")
		login(h, "alice", "wrong-password-1", "10.0.3.5")
		if res := login(h, "alice", pw, "10.0.3.6"); res.Code != 200 {
			t.Fatalf("login after reset: %d %s", res.Code, res.Body)
		}
	})

	t.Run("parallel attempts cannot pass the limit", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
			c.LoginRateIP = config.RateLimit{Limit: 1000, Window: time.Minute}
			c.LoginRateAccount = config.RateLimit{Limit: 3, Window: time.Minute}
		})
		h.mustCreateUser("alice", auth.RoleViewer)
		var wg sync.WaitGroup
		var tried atomic.Int32
		for range 40 {
			wg.Go(func() {
				if login(h, "alice", "wrong-password-1", "10.0.4.1").Code == 401 {
					tried.Add(1)
				}
			})
		}
		wg.Wait()
		if n := tried.Load(); n > 3 {
			t.Fatalf("%d passwords checked in parallel, limit 3", n)
		}
	})

	t.Run("parallel attempts from many sources cannot skip the slow-down", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
			c.LoginRateIP = config.RateLimit{Limit: 1000, Window: time.Minute}
			c.LoginRateAccount = config.RateLimit{Limit: 3, Window: time.Minute}
		})
		h.mustCreateUser("alice", auth.RoleViewer)
		// 12 sources at once, each within its own limit: the account's
		// count is taken by each attempt as it starts, so attempts past
		// the third wait 0.5 s more each (the last 4.5 s). Deciding on a
		// count read before the parallel failures land lets all of them
		// through without a wait.
		const parallel = 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		var slowest time.Duration
		for i := range parallel {
			wg.Go(func() {
				start := time.Now()
				if res := login(h, "alice", "wrong-password-1", fmt.Sprintf("10.0.6.%d", i+1)); res.Code != 401 {
					t.Errorf("source %d: %d", i+1, res.Code)
				}
				mu.Lock()
				slowest = max(slowest, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		if d := slowest; d < 3*time.Second {
			t.Fatalf("%d parallel guesses on one account: the slowest took %v, want the slow-down (>= 3s)", parallel, d)
		}
	})

	t.Run("an administrator clears an account's counters", func(t *testing.T) {
		h := newHarness(t, limits)
		u, pw := h.mustCreateUser("alice", auth.RoleViewer)
		_, admin := h.mustUserToken("root", auth.RoleAdmin)
		_, viewer := h.mustUserToken("vera", auth.RoleViewer)
		for range 3 {
			login(h, "alice", "wrong-password-1", "10.0.5.1")
		}
		if res := login(h, "alice", pw, "10.0.5.1"); res.Code != 429 {
			t.Fatalf("locked source: %d", res.Code)
		}
		if res := h.as(viewer, "DELETE", "/api/v1/users/"+u.ID+"/login-lock", nil); res.Code != 403 {
			t.Fatalf("a viewer clears a lock: %d", res.Code)
		}
		res := h.as(admin, "DELETE", "/api/v1/users/"+u.ID+"/login-lock", nil)
		if res.Code != 200 || res.json(t)["cleared"].(float64) < 2 {
			t.Fatalf("clear: %d %s", res.Code, res.Body)
		}
		if res := login(h, "alice", pw, "10.0.5.1"); res.Code != 200 {
			t.Fatalf("after clearing: %d %s", res.Code, res.Body)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	_, pw := h.mustCreateUser("alice", auth.RoleOperator)
	first := h.mustLogin("alice", pw)

	res := h.request(http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refreshToken": first.RefreshToken})
	if res.Code != 200 {
		t.Fatalf("refresh: %d %s", res.Code, res.Body)
	}
	var second tokenPair
	_ = json.Unmarshal(res.Body.Bytes(), &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if res := h.as(second.AccessToken, http.MethodGet, "/api/v1/auth/me", nil); res.Code != 200 {
		t.Fatalf("new access token refused: %d", res.Code)
	}

	// Reusing the rotated-out token is theft: the whole family is revoked.
	res = h.request(http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refreshToken": first.RefreshToken})
	h.check(t, scenario{Method: "POST", URL: "refresh (reuse)", WantStatus: 401, WantContains: []string{`"code":"invalid-token"`}}, res)
	res = h.request(http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refreshToken": second.RefreshToken})
	h.check(t, scenario{Method: "POST", URL: "refresh (descendant)", WantStatus: 401}, res)
	for _, tok := range []string{first.AccessToken, second.AccessToken} {
		if res := h.as(tok, http.MethodGet, "/api/v1/auth/me", nil); res.Code != 401 {
			t.Fatalf("access token of a revoked family still works: %d", res.Code)
		}
	}

	// Another login of the same user is a different family and unaffected.
	other := h.mustLogin("alice", pw)
	if res := h.as(other.AccessToken, http.MethodGet, "/api/v1/auth/me", nil); res.Code != 200 {
		t.Fatalf("fresh login refused: %d", res.Code)
	}
}

func TestRefreshRefused(t *testing.T) {
	h := newHarness(t)
	u, pw := h.mustCreateUser("alice", auth.RoleOperator)
	tp := h.mustLogin("alice", pw)
	for _, s := range []scenario{
		{Name: "unknown token", Body: map[string]string{"refreshToken": strings.Repeat("A", 43)}, WantStatus: 401},
		{Name: "too short", Body: map[string]string{"refreshToken": "abc"}, WantStatus: 422, WantContains: []string{"body.refreshToken"}},
		{Name: "missing", Body: map[string]string{}, WantStatus: 422, WantContains: []string{"refreshToken"}},
	} {
		t.Run(s.Name, func(t *testing.T) {
			s.Method, s.URL = http.MethodPost, "/api/v1/auth/refresh"
			h.check(t, s, h.request(s.Method, s.URL, s.Body))
		})
	}
	t.Run("disabled user", func(t *testing.T) {
		u.IsActive = false
		if err := store.UpdateUser(t.Context(), h.db, u); err != nil {
			t.Fatal(err)
		}
		res := h.request(http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refreshToken": tp.RefreshToken})
		h.check(t, scenario{Method: "POST", URL: "refresh", WantStatus: 401}, res)
	})
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	_, pw := h.mustCreateUser("alice", auth.RoleViewer)
	one, two := h.mustLogin("alice", pw), h.mustLogin("alice", pw)
	if res := h.as(one.AccessToken, http.MethodPost, "/api/v1/auth/logout", nil); res.Code != 204 {
		t.Fatalf("logout: %d %s", res.Code, res.Body)
	}
	if res := h.as(one.AccessToken, http.MethodGet, "/api/v1/auth/me", nil); res.Code != 401 {
		t.Fatalf("access token works after logout: %d", res.Code)
	}
	if res := h.request(http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refreshToken": one.RefreshToken}); res.Code != 401 {
		t.Fatalf("refresh token works after logout: %d", res.Code)
	}
	if res := h.as(two.AccessToken, http.MethodGet, "/api/v1/auth/me", nil); res.Code != 200 {
		t.Fatalf("the other session was signed out too: %d", res.Code)
	}
}

func TestAccessTokensRefused(t *testing.T) {
	h := newHarness(t)
	u, pw := h.mustCreateUser("alice", auth.RoleAdmin)
	good := h.mustLogin("alice", pw).AccessToken
	if res := h.as(good, http.MethodGet, "/api/v1/auth/me", nil); res.Code != 200 {
		t.Fatalf("good token refused: %d", res.Code)
	}
	claims, err := h.tokens.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(method jwt.SigningMethod, key any, c jwt.Claims) string {
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	expired, _ := auth.NewTokens(auth.TokenOptions{Algorithm: "HS256", Secret: []byte(testSecret), Issuer: h.cfg.JWT.Issuer,
		Audience: h.cfg.JWT.Audience, TTL: time.Minute, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	expiredTok, _ := expired.Issue(u.ID, u.Username, auth.RoleAdmin, claims.SessionID)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := strings.Replace(string(payload), `"role":"admin"`, `"role":"admin" `, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tamperedPayload)) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	wrongIssuer := *claims
	wrongIssuer.Issuer = "someone-else"

	for _, tc := range []struct {
		name, header, code string
	}{
		{"no header", "", "unauthorized"},
		{"not bearer", "Basic YWxpY2U6cHc=", "unauthorized"},
		{"garbage", "Bearer not-a-jwt", "invalid-token"},
		{"expired", "Bearer " + expiredTok, "invalid-token"},
		{"tampered payload", "Bearer " + tampered, "invalid-token"},
		{"alg none", "Bearer " + none, "invalid-token"},
		{"HS384 with the same secret", "Bearer " + sign(jwt.SigningMethodHS384, []byte(testSecret), claims), "invalid-token"},
		{"signed with another secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte(strings.Repeat("k", 40)), claims), "invalid-token"},
		{"wrong issuer", "Bearer " + sign(jwt.SigningMethodHS256, []byte(testSecret), &wrongIssuer), "invalid-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.header == "" {
				res = h.request(http.MethodGet, "/api/v1/auth/me", nil)
			} else {
				res = h.request(http.MethodGet, "/api/v1/auth/me", nil, "Authorization", tc.header)
			}
			h.check(t, scenario{Method: "GET", URL: "/api/v1/auth/me", WantStatus: 401,
				WantContains: []string{`"code":"` + tc.code + `"`}, WantHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="rollcall"`}}, res)
		})
	}
}

func TestMe(t *testing.T) {
	h := newHarness(t)
	_, tok := h.mustUserToken("vera", auth.RoleViewer)
	res := h.as(tok, http.MethodGet, "/api/v1/auth/me", nil)
	h.check(t, scenario{Method: "GET", URL: "/api/v1/auth/me", WantStatus: 200,
		WantContains: []string{`"username":"vera"`, `"role":"viewer"`, `"cameras:read"`}}, res)
	if strings.Contains(res.Body.String(), "users:manage") || strings.Contains(res.Body.String(), "passwordHash") {
		t.Fatalf("viewer profile shows too much: %s", res.Body)
	}
}
