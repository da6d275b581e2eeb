package api

import (
	"cmp"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/store"
)

// The one mapping from what the layers below report to what clients see
// (as benbjohnson/wtf's http/http.go maps error codes to statuses): store
// sentinels and workflow error types, each to a status, a problem code and
// a message. Handlers pass errors through problemFor (or return them, for
// errors that are not a client's concern: those become a 500 "internal
// error", logged).

// storeErrors, in order: the first match wins (ErrLastAdmin and
// ErrAlreadyDeleted wrap nothing, ErrConflict is the general case).
var storeErrors = []struct {
	err     error
	status  int
	code    string
	message func(what string) string
}{
	{store.ErrNotFound, http.StatusNotFound, CodeNotFound, func(what string) string { return what + " not found" }},
	{store.ErrLastAdmin, http.StatusConflict, CodeLastAdmin, func(string) string {
		return "this is the last active admin: create or enable another admin first"
	}},
	{store.ErrAlreadyDeleted, http.StatusConflict, CodeConflict, func(what string) string { return "the " + what + " is already deleted" }},
	{store.ErrConflict, http.StatusConflict, CodeConflict, func(what string) string { return what + " already exists" }},
}

// workflowErrors maps the error types of failed workflows that are the
// client's concern. Camera and provider failures, by class, follow in
// problemFor.
var workflowErrors = map[string]struct {
	status  int
	code    string
	message string // "" shows the (credential-free) message of the error
}{
	contract.ErrTypeCameraNotFound: {http.StatusNotFound, CodeNotFound, "camera not found"},
	contract.ErrTypeCredentials: {http.StatusConflict, CodeCredentials,
		"the camera's stored credentials cannot be decrypted (was ROLLCALL_ENCRYPTION_KEY changed?); enter its username and password again"},
	contract.ErrTypeStreamNotFound: {http.StatusBadGateway, "camera-stream-not-found", ""},
	contract.ErrTypeProviderConfig: {http.StatusConflict, CodeProviderConfig, ""},
}

// problemOption adjusts the problem of one operation.
type problemOption func(err error, p *Problem)

// conflictOn names the field a conflict is about, and says it so.
func conflictOn(location, message string, value any) problemOption {
	return func(err error, p *Problem) {
		if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrLastAdmin) && !errors.Is(err, store.ErrAlreadyDeleted) {
			p.Detail = message
			p.Errors = append(p.Errors, &huma.ErrorDetail{Location: location, Message: "is already taken", Value: value})
		}
	}
}

// problemFor maps err to the problem a client sees; what names the
// resource in messages ("camera" → "camera not found"). An error it does
// not know is returned as it is (an internal error).
func problemFor(err error, what string, opts ...problemOption) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, store.ErrBadCursor) {
		return badCursor(nil)
	}
	for _, e := range storeErrors {
		if errors.Is(err, e.err) {
			p = newProblem(e.status, e.code, e.message(what))
			for _, o := range opts {
				o(err, p)
			}
			return p
		}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		t := contract.NormalizeErrorType(appErr.Type())
		if e, ok := workflowErrors[t]; ok {
			return newProblem(e.status, e.code, cmp.Or(e.message, appErr.Message()))
		}
		switch {
		case contract.IsCameraErrorType(t):
			return newProblem(http.StatusBadGateway, "camera-"+strings.ReplaceAll(t, "_", "-"), appErr.Message())
		case strings.HasPrefix(t, "provider_"):
			// The provider's own failure (its messages never carry the API key).
			class := strings.TrimPrefix(t, "provider_")
			return newProblem(http.StatusBadGateway, "provider-"+strings.ReplaceAll(class, "_", "-"), appErr.Message())
		}
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return newProblem(http.StatusBadGateway, "camera-timeout", "the camera did not answer in time")
	}
	return err
}

// badCursor is the problem of a list's cursor parameter that this API did
// not issue (or that was altered).
func badCursor(value any) *Problem {
	return fieldError("query.cursor", "is not a cursor this API issued", value)
}

// decodeCursor reads a list's cursor parameter ("" is the first page).
func decodeCursor(raw string) (*store.Cursor, error) {
	c, err := store.DecodeCursor(raw)
	if err != nil {
		return nil, badCursor(raw)
	}
	return c, nil
}
