package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
)

// publicOperations are the only operations callable without a token. Adding
// one here is a security decision: say why in the operation's description.
var publicOperations = map[string]bool{
	"health-live":   true,
	"health-ready":  true,
	"login":         true,
	"refresh-token": true,
}

// TestEveryOperationEnforcesAccess walks every registered operation: an
// unauthenticated call gets 401, and every role without the operation's
// declared permission gets 403. No later endpoint can forget its check.
func TestEveryOperationEnforcesAccess(t *testing.T) {
	h := newHarness(t)
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles() {
		_, tokens[r.Name] = h.mustUserToken("user-"+string(r.Name), r.Name)
	}
	known := map[auth.Permission]bool{}
	for _, p := range auth.AllPermissions() {
		known[p] = true
	}

	ops := 0
	for path, item := range h.api.OpenAPI().Paths {
		for method, op := range operationsOf(item) {
			ops++
			url := fillPath(path)
			name := method + " " + path
			if publicOperations[op.OperationID] {
				if len(op.Security) != 0 {
					t.Errorf("%s: public operation declares security", name)
				}
				continue
			}
			perm, _ := op.Extensions["x-permission"].(string)
			if !known[auth.Permission(perm)] {
				t.Errorf("%s (%s): declares no known permission (x-permission=%q)", name, op.OperationID, perm)
				continue
			}
			if len(op.Security) == 0 {
				t.Errorf("%s: OpenAPI does not show the bearer requirement", name)
			}
			if res := h.request(method, url, "{}"); res.Code != http.StatusUnauthorized {
				t.Errorf("%s without a token: %d, want 401", name, res.Code)
			}
			if res := h.request(method, url, "{}", "Authorization", "Bearer forged.token.value"); res.Code != http.StatusUnauthorized {
				t.Errorf("%s with a forged token: %d, want 401", name, res.Code)
			}
			for role, tok := range tokens {
				if auth.Can(role, auth.Permission(perm)) {
					continue
				}
				if res := h.as(tok, method, url, "{}"); res.Code != http.StatusForbidden {
					t.Errorf("%s as %s (lacks %s): %d, want 403", name, role, perm, res.Code)
				}
			}
		}
	}
	if ops < 12 {
		t.Fatalf("walked only %d operations; is the registry empty?", ops)
	}
	for id := range publicOperations {
		if !hasOperation(h.api, id) {
			t.Errorf("public operation %s is not registered (stale allow-list)", id)
		}
	}
}

func operationsOf(item *huma.PathItem) map[string]*huma.Operation {
	out := map[string]*huma.Operation{}
	for method, op := range map[string]*huma.Operation{
		http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
		http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
	} {
		if op != nil {
			out[method] = op
		}
	}
	return out
}

func hasOperation(api huma.API, id string) bool {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range operationsOf(item) {
			if op.OperationID == id {
				return true
			}
		}
	}
	return false
}

// fillPath replaces every {param} with a well-formed UUID.
func fillPath(path string) string {
	for {
		i := strings.Index(path, "{")
		if i < 0 {
			return path
		}
		j := strings.Index(path[i:], "}")
		path = path[:i] + "00000000-0000-4000-8000-000000000000" + path[i+j+1:]
	}
}
