package provider

import "context"

// SourceHeader carries a request's source (see WithSource) over
// Rollcall's http provider protocol.
const SourceHeader = "X-Rollcall-Source"

// maxSourceLen bounds a source ID: a camera ID is a UUID (36 characters).
const maxSourceLen = 64

type sourceKey struct{}

// WithSource returns ctx carrying the ID of the frame source (a camera
// ID) a Recognize call is for, so a provider that tracks faces across a
// camera's frames can tell the cameras apart. An invalid id (see
// ValidSource) is not carried.
func WithSource(ctx context.Context, id string) context.Context {
	if !ValidSource(id) {
		return ctx
	}
	return context.WithValue(ctx, sourceKey{}, id)
}

// SourceFrom returns the source ID WithSource put in ctx, or "" for none.
func SourceFrom(ctx context.Context) string {
	id, _ := ctx.Value(sourceKey{}).(string)
	return id
}

// ValidSource reports whether id can be a source: 1 to 64 characters of
// A–Z, a–z, 0–9 and ". _ : -". Anything else (a header a client made up)
// is treated as no source and never logged.
func ValidSource(id string) bool {
	if id == "" || len(id) > maxSourceLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
