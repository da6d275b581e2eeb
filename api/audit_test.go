package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
)

type auditPage struct {
	Items []struct {
		ID         int64           `json:"id"`
		UserID     string          `json:"userId"`
		Username   string          `json:"username"`
		Action     string          `json:"action"`
		Resource   string          `json:"resource"`
		ResourceID string          `json:"resourceId"`
		Status     int             `json:"status"`
		IP         string          `json:"ip"`
		UserAgent  string          `json:"userAgent"`
		RequestID  string          `json:"requestId"`
		Changes    json.RawMessage `json:"changes"`
	} `json:"items"`
	NextCursor string `json:"nextCursor"`
}

func (h *harness) mustAudit(tok, query string) auditPage {
	h.t.Helper()
	res := h.as(tok, "GET", "/api/v1/audit"+query, nil)
	if res.Code != 200 {
		h.t.Fatalf("audit%s: %d %s", query, res.Code, res.Body)
	}
	var p auditPage
	if err := json.Unmarshal(res.Body.Bytes(), &p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func TestAuditRecordsMutations(t *testing.T) {
	h := newHarness(t)
	root, tok := h.mustUserToken("root", auth.RoleAdmin)
	_, viewerTok := h.mustUserToken("vera", auth.RoleViewer)

	created := h.as(tok, "POST", "/api/v1/users",
		map[string]any{"username": "carol", "role": "hr", "password": "a-long-enough-pass"},
		"X-Request-ID", "req-create-carol", "User-Agent", "audit-test/1.0")
	if created.Code != 201 {
		t.Fatalf("create: %d %s", created.Code, created.Body)
	}
	carolID := created.json(t)["id"].(string)
	h.as(viewerTok, "DELETE", "/api/v1/users/"+carolID, nil) // refused: 403, still audited
	h.request("POST", "/api/v1/auth/login", map[string]string{"username": "root", "password": "wrong-password-9"})
	h.as(tok, "GET", "/api/v1/users", nil) // reads are not audited

	page := h.mustAudit(tok, "")
	byAction := map[string]int{}
	for _, e := range page.Items {
		byAction[e.Action]++
		if e.Action == "list-users" {
			t.Fatal("a read was audited")
		}
	}
	var create = page.Items[0]
	for _, e := range page.Items {
		if e.Action == "create-user" {
			create = e
		}
	}
	if create.Action != "create-user" || create.UserID != root.ID || create.Username != "root" || create.Status != 201 ||
		create.Resource != "users" || create.ResourceID != carolID || create.RequestID != "req-create-carol" ||
		create.UserAgent != "audit-test/1.0" || create.IP == "" {
		t.Fatalf("create-user entry incomplete: %+v", create)
	}
	if strings.Contains(string(create.Changes), "a-long-enough-pass") || !strings.Contains(string(create.Changes), `"password":"[REDACTED]"`) ||
		!strings.Contains(string(create.Changes), `"username":"carol"`) {
		t.Fatalf("changes not recorded with the secret redacted: %s", create.Changes)
	}
	for action, want := range map[string]int{"delete-user": 1, "login": 3} { // root's, vera's and the failed one
		if byAction[action] != want {
			t.Errorf("%s entries: %d, want %d (%v)", action, byAction[action], want, byAction)
		}
	}
	for _, e := range page.Items {
		if e.Action == "delete-user" && (e.Status != 403 || e.Username != "vera") {
			t.Errorf("refused delete recorded as %+v", e)
		}
		if e.Action == "login" && e.Status == 401 && (e.Username != "root" || strings.Contains(string(e.Changes), "wrong-password-9")) {
			t.Errorf("failed login recorded as %+v %s", e, e.Changes)
		}
	}
}

func TestAuditFiltersAndPagination(t *testing.T) {
	h := newHarness(t)
	root, tok := h.mustUserToken("root", auth.RoleAdmin)
	_, hrTok := h.mustUserToken("hannah", auth.RoleHR)
	before := time.Now().UTC()
	for i := range 5 {
		h.as(tok, "POST", "/api/v1/users", map[string]any{"username": "u" + string(rune('a'+i)), "role": "viewer", "password": "a-long-enough-pass"})
	}
	h.as(hrTok, "POST", "/api/v1/auth/logout", nil)

	if p := h.mustAudit(tok, "?action=create-user"); len(p.Items) != 5 {
		t.Fatalf("action filter: %d entries", len(p.Items))
	}
	if p := h.mustAudit(tok, "?resource=auth&action=logout"); len(p.Items) != 1 || p.Items[0].Username != "hannah" {
		t.Fatalf("resource filter: %+v", p.Items)
	}
	if p := h.mustAudit(tok, "?userId="+root.ID); len(p.Items) != 6 { // 5 creates + root's login
		t.Fatalf("user filter: %d entries", len(p.Items))
	}
	since := url.QueryEscape(before.Format(time.RFC3339Nano))
	if p := h.mustAudit(tok, "?since="+since); len(p.Items) != 6 { // 5 creates + logout
		t.Fatalf("since filter: %d entries", len(p.Items))
	}
	if p := h.mustAudit(tok, "?until="+since); len(p.Items) != 2 { // the two logins
		t.Fatalf("until filter: %d entries", len(p.Items))
	}

	var ids []int64
	q := "?limit=3"
	for {
		p := h.mustAudit(tok, q)
		for _, e := range p.Items {
			ids = append(ids, e.ID)
		}
		if p.NextCursor == "" {
			break
		}
		q = "?limit=3&cursor=" + p.NextCursor
	}
	if len(ids) != 8 {
		t.Fatalf("paged through %d entries, want 8", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not newest first / repeated: %v", ids)
		}
	}

	for _, bad := range []string{"?userId=nope", "?since=yesterday", "?cursor=bm90LWEtY3Vyc29y", "?limit=0"} {
		if res := h.as(tok, "GET", "/api/v1/audit"+bad, nil); res.Code != http.StatusUnprocessableEntity && res.Code != http.StatusBadRequest {
			t.Errorf("audit%s: %d, want 4xx", bad, res.Code)
		}
	}
	if res := h.as(hrTok, "GET", "/api/v1/audit", nil); res.Code != 401 && res.Code != 403 {
		t.Fatalf("hr (signed out) reads audit: %d", res.Code)
	}
}

// TestUnauthenticatedRefusalsAreLimitedAndFolded: requests without a valid
// token are limited per client IP (429 past ROLLCALL_UNAUTH_RATE_IP) and
// their audit rows folded to one per IP, operation and status a minute.
func TestUnauthenticatedRefusalsAreLimitedAndFolded(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
		c.UnauthRateIP = config.RateLimit{Limit: 5, Window: time.Minute}
	})
	codes := map[int]int{}
	for range 30 {
		res := h.request("POST", "/api/v1/cameras", `{"name":"x","url":"rtsp://10.0.0.1/s"}`, "RemoteAddr", "198.51.100.7:4000")
		codes[res.Code]++
	}
	if codes[401] != 5 || codes[429] != 25 {
		t.Fatalf("answers %v, want 5×401 then 429", codes)
	}
	if res := h.request("POST", "/api/v1/cameras", `{}`, "RemoteAddr", "198.51.100.8:4000"); res.Code != 401 {
		t.Fatalf("another IP: %d, want 401", res.Code)
	}
	var rows int
	if err := h.db.QueryRowContext(context.Background(), "SELECT count(*) FROM audit_logs WHERE ip = '198.51.100.7'").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Fatalf("%d audit rows for 30 refusals, want 2 (one per status)", rows)
	}
}
