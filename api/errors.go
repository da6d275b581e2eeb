package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// Stable problem codes. Clients branch on Problem.Code, never on Detail.
const (
	CodeBadRequest         = "bad-request"
	CodeValidation         = "validation-failed"
	CodeUnauthorized       = "unauthorized"
	CodeInvalidCredentials = "invalid-credentials"
	CodeInvalidToken       = "invalid-token"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not-found"
	CodeConflict           = "conflict"
	CodeLastAdmin          = "last-admin"
	CodeRateLimited        = "rate-limited"
	CodeInternal           = "internal-error"
	CodeUnavailable        = "service-unavailable"
	CodeBodyTooLarge       = "body-too-large"
	CodeMethodNotAllowed   = "method-not-allowed"
	CodeUnsupportedMedia   = "unsupported-media-type"
	CodeWorkflowTimeout    = "workflow-timeout"
	CodeCredentials        = "credentials-unreadable"
	CodeProviderConfig     = "provider-misconfigured"
	CodeOdooNotConfigured  = "odoo-not-configured"
)

// Problem is an RFC 9457 problem document with a stable code.
type Problem struct {
	Type      string              `json:"type" doc:"URI naming the problem type: urn:rollcall:problem:<code>"`
	Title     string              `json:"title" doc:"Short summary of the status"`
	Status    int                 `json:"status"`
	Code      string              `json:"code" doc:"Stable machine-readable problem code" example:"validation-failed"`
	Detail    string              `json:"detail,omitempty"`
	RequestID string              `json:"requestId,omitempty" doc:"Quote it when reporting a problem"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty" doc:"Per-field errors; location names the field, e.g. body.username"`

	headers http.Header
}

// Error returns the problem's detail.
func (p *Problem) Error() string { return p.Detail }

// GetStatus returns the HTTP status.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes every error application/problem+json.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// GetHeaders returns extra headers to send with the problem (e.g. Retry-After).
func (p *Problem) GetHeaders() http.Header { return p.headers }

func newProblem(status int, code, detail string, details ...*huma.ErrorDetail) *Problem {
	return &Problem{
		Type:   "urn:rollcall:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
		Errors: details,
	}
}

// fieldError is a 422 naming one field, e.g. fieldError("body.password", "must be at least 10 characters", v).
func fieldError(location, message string, value any) *Problem {
	return newProblem(http.StatusUnprocessableEntity, CodeValidation, "validation failed: "+location+" "+message,
		&huma.ErrorDetail{Location: location, Message: message, Value: value})
}

func defaultCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusUnprocessableEntity:
		return CodeValidation
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeConflict
	case http.StatusTooManyRequests:
		return CodeRateLimited
	case http.StatusRequestEntityTooLarge:
		return CodeBodyTooLarge
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedMedia
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeBadRequest
}

// installErrorHook makes every error Huma produces a Problem. Huma's error
// constructors are package variables by design; New installs the hook
// (once), and the hook logs with the logger of the request's server.
var installErrorHook = sync.OnceFunc(func() {
	huma.NewErrorWithContext = newHumaError
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return newHumaError(nil, status, msg, errs...)
	}
})

// newHumaError makes every error Huma produces (validation, body parsing,
// unexpected handler errors) a Problem; an internal error is logged with its
// request ID (by the server the request reached) but never shown to the
// client.
func newHumaError(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	{
		var ctx context.Context = context.Background()
		if hctx != nil {
			ctx = hctx.Context()
		}
		if status >= 500 {
			attrs := []any{slog.Int("status", status), slog.String("message", msg)}
			// Made outside a request (none of Rollcall's code does), an
			// internal error still shows in the access log as a 500.
			log := slog.New(slog.DiscardHandler)
			if info := infoFrom(ctx); info != nil {
				attrs = append(attrs, slog.String("request_id", info.RequestID))
				log = info.Log
			}
			for _, err := range errs {
				if err != nil {
					attrs = append(attrs, slog.String("error", err.Error()))
				}
			}
			log.ErrorContext(ctx, "internal error", attrs...)
			p := newProblem(status, defaultCode(status), "internal error")
			if status == http.StatusServiceUnavailable {
				p.Detail = "service temporarily unavailable"
			}
			return p
		}
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), "request body too large") {
				return newProblem(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body too large")
			}
		}
		details := make([]*huma.ErrorDetail, 0, len(errs))
		for _, err := range errs {
			var d huma.ErrorDetailer
			switch {
			case err == nil:
				continue
			case errors.As(err, &d):
				details = append(details, d.ErrorDetail())
			default:
				details = append(details, &huma.ErrorDetail{Message: err.Error()})
			}
		}
		for _, d := range details {
			// Never echo an object or a secret field back: it may hold a password.
			switch d.Value.(type) {
			case map[string]any, []any:
				d.Value = nil
			}
			if isSecretKey(d.Location[strings.LastIndex(d.Location, ".")+1:]) {
				d.Value = nil
			}
			// Name the missing field itself, not its parent object.
			if name, ok := strings.CutPrefix(d.Message, "expected required property "); ok {
				if name, ok = strings.CutSuffix(name, " to be present"); ok {
					d.Location, d.Message, d.Value = d.Location+"."+name, "is required", nil
				}
			}
		}
		if status == http.StatusUnprocessableEntity && len(details) > 0 {
			msg = "validation failed: " + details[0].Location + " " + details[0].Message
		}
		return newProblem(status, defaultCode(status), msg, details...)
	}
}

// addRequestID is a huma transformer that stamps problems with the request ID.
func addRequestID(hctx huma.Context, _ string, v any) (any, error) {
	if p, ok := v.(*Problem); ok {
		if info := infoFrom(hctx.Context()); info != nil {
			p.RequestID = info.RequestID
		}
	}
	return v, nil
}

// writeProblem writes p outside Huma (router-level middleware).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if info := infoFrom(r.Context()); info != nil {
		p.RequestID = info.RequestID
	}
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = jsonEncode(w, p)
}
