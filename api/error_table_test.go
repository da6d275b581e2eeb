package api

import (
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/store"
)

// TestProblemFor: the one table from the errors of the store and of
// workflows to what clients see.
func TestProblemFor(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store: find camera x: %w", err) }
	for _, tc := range []struct {
		name   string
		err    error
		opts   []problemOption
		status int
		code   string
		detail string
	}{
		{"not found", wrap(store.ErrNotFound), nil, 404, CodeNotFound, "camera not found"},
		{"conflict", wrap(store.ErrConflict), nil, 409, CodeConflict, "camera already exists"},
		{"conflict on a field", wrap(store.ErrConflict), []problemOption{cameraNamed("Lobby")}, 409, CodeConflict, "a camera with this name already exists"},
		{"last admin", wrap(store.ErrLastAdmin), []problemOption{cameraNamed("x")}, 409, CodeLastAdmin, "this is the last active admin: create or enable another admin first"},
		{"already deleted", store.ErrAlreadyDeleted, nil, 409, CodeConflict, "the camera is already deleted"},
		{"bad cursor", wrap(store.ErrBadCursor), nil, 422, CodeValidation, "validation failed: query.cursor is not a cursor this API issued"},
		{"camera gone (legacy type)", temporal.NewApplicationError("gone", "CameraNotFound"), nil, 404, CodeNotFound, "camera not found"},
		{"credentials", temporal.NewApplicationError("x", contract.ErrTypeCredentials), nil, 409, CodeCredentials, ""},
		{"camera refused", temporal.NewApplicationError("401 from camera", contract.ErrTypeAuthFailed), nil, 502, "camera-auth-failed", "401 from camera"},
		{"stream not found", temporal.NewApplicationError("404 from camera", contract.ErrTypeStreamNotFound), nil, 502, "camera-stream-not-found", "404 from camera"},
		{"provider error", temporal.NewApplicationError("500", contract.ProviderErrorType("provider_error")), nil, 502, "provider-error", "500"},
		{"provider legacy double prefix", temporal.NewApplicationError("500", "provider_provider_error"), nil, 502, "provider-error", "500"},
		{"provider unreachable", temporal.NewApplicationError("down", contract.ErrTypeProviderUnreachable), nil, 502, "provider-unreachable", "down"},
		{"provider misconfigured", temporal.NewApplicationError("no key", contract.ErrTypeProviderConfig), nil, 409, CodeProviderConfig, "no key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p *Problem
			if !errors.As(problemFor(tc.err, "camera", tc.opts...), &p) {
				t.Fatalf("not a problem: %v", problemFor(tc.err, "camera", tc.opts...))
			}
			if p.Status != tc.status || p.Code != tc.code || (tc.detail != "" && p.Detail != tc.detail) {
				t.Fatalf("got %d %s %q, want %d %s %q", p.Status, p.Code, p.Detail, tc.status, tc.code, tc.detail)
			}
		})
	}
	internal := errors.New("connection refused")
	if got := problemFor(internal, "camera"); got != internal {
		t.Fatalf("an unknown error must stay internal, got %v", got)
	}
}
