package ffmpeg

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Error kinds. Every error returned by this package is an *Error whose Kind is
// exactly one of these, so callers branch with errors.Is.
var (
	// ErrUnreachable means the camera's host could not be resolved or connected to.
	ErrUnreachable = errors.New("camera unreachable")
	// ErrAuthFailed means the camera refused the credentials (or their absence).
	ErrAuthFailed = errors.New("camera authentication failed")
	// ErrNotFound means the camera answered but has no stream at that path.
	ErrNotFound = errors.New("stream not found")
	// ErrUnsupportedCodec means the stream has no video Rollcall can decode.
	ErrUnsupportedCodec = errors.New("unsupported video stream")
	// ErrTimeout means the camera did not answer in time.
	ErrTimeout = errors.New("camera timed out")
	// ErrInvalidInput means the stream URL was refused before or by FFmpeg.
	ErrInvalidInput = errors.New("invalid stream input")
	// ErrFailed is any other failure of FFmpeg or ffprobe.
	ErrFailed = errors.New("ffmpeg failed")
	// ErrRefused means the egress policy does not allow the camera's
	// address: nothing was dialled.
	ErrRefused = errors.New("destination not allowed")
)

// Error is a classified FFmpeg failure. Msg is short, user-facing and free of
// credentials; Detail is FFmpeg's scrubbed diagnostic output, for logs.
type Error struct {
	// Kind is one of the package's Err* sentinels.
	Kind error
	// Msg is a short user-facing description; it never contains credentials.
	Msg string
	// Detail is FFmpeg's stderr with credentials scrubbed, truncated; for logs.
	Detail string
	// cause is a context error that ended the call, if any.
	cause error
}

// Error returns the user-facing message.
func (e *Error) Error() string { return e.Msg }

// Unwrap exposes the kind and, when a context ended the call, its error.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

// Code returns a stable machine-readable code for err's kind ("unreachable",
// "auth_failed", "not_found", "unsupported_codec", "timeout", "invalid_input",
// "egress_refused", "failed"); errors not from this package are "failed".
func Code(err error) string {
	switch {
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrAuthFailed):
		return "auth_failed"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrUnsupportedCodec):
		return "unsupported_codec"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, ErrInvalidInput):
		return "invalid_input"
	case errors.Is(err, ErrRefused):
		return "egress_refused"
	default:
		return "failed"
	}
}

func newError(kind error, msg string) *Error { return &Error{Kind: kind, Msg: msg} }

// stderrRule maps a fragment of FFmpeg's stderr to an error kind. Matching is
// case-sensitive: FFmpeg writes "404 Not Found" for the RTSP status but
// "Decoder ... not found" for a missing codec.
type stderrRule struct {
	fragment string
	kind     error
	msg      string
}

// stderrRules are tried in order; the first match wins. Connection failures
// come first: their lines name the host, which never holds a status phrase.
var stderrRules = []stderrRule{
	{"not on whitelist", ErrInvalidInput, "stream URL uses a protocol that is not allowed"},
	{"Connection refused", ErrUnreachable, "camera refused the connection"},
	{"No route to host", ErrUnreachable, "no route to the camera's host"},
	{"Network is unreachable", ErrUnreachable, "camera's network is unreachable"},
	{"Name or service not known", ErrUnreachable, "camera host name does not resolve"},
	{"Temporary failure in name resolution", ErrUnreachable, "camera host name does not resolve"},
	{"Failed to resolve hostname", ErrUnreachable, "camera host name does not resolve"},
	{"Connection timed out", ErrUnreachable, "connection to the camera timed out"},
	{"Connection reset by peer", ErrUnreachable, "camera closed the connection"},
	{"401 Unauthorized", ErrAuthFailed, "camera refused the credentials"},
	{"Unauthorized", ErrAuthFailed, "camera refused the credentials"},
	{"authorization failed", ErrAuthFailed, "camera refused the credentials"},
	{"403 Forbidden", ErrAuthFailed, "camera denied access to the stream"},
	{"404 Not Found", ErrNotFound, "camera has no stream at this path"},
	{"Not Found", ErrNotFound, "camera has no stream at this path"},
	{"matches no streams", ErrUnsupportedCodec, "stream has no video"},
	{"does not contain any stream", ErrUnsupportedCodec, "stream has no video"},
	{"Decoder (codec", ErrUnsupportedCodec, "stream uses a video codec that cannot be decoded"},
	{"Unsupported codec", ErrUnsupportedCodec, "stream uses a video codec that cannot be decoded"},
}

// urlRE matches a URL in FFmpeg's output, up to the next space.
var urlRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://\S*`)

// classifyStderr returns the first rule matching FFmpeg's (scrubbed) stderr,
// or ok=false when nothing in it is recognised.
func classifyStderr(stderr string) (rule stderrRule, ok bool) {
	// URLs are dropped first so a stream path such as /Unauthorized or
	// /401 cannot pose as a status.
	stderr = urlRE.ReplaceAllString(stderr, "<url>")
	for _, r := range stderrRules {
		if strings.Contains(stderr, r.fragment) {
			return r, true
		}
	}
	return stderrRule{}, false
}

// userinfoRE matches the user info of any URL in FFmpeg's output.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@`) // up to the last "@": a password may hold one

// maxDetail bounds Error.Detail.
const maxDetail = 2048

// scrub removes credentials from FFmpeg's output: the user info of every URL,
// then any remaining occurrence of the password, raw or percent-encoded.
func scrub(s, password string) string {
	s = userinfoRE.ReplaceAllString(s, "${1}")
	if password != "" {
		forms := []string{
			password,
			url.PathEscape(password),
			url.QueryEscape(password),
			strings.TrimPrefix(url.UserPassword("", password).String(), ":"),
		}
		for _, f := range forms {
			s = strings.ReplaceAll(s, f, "***")
		}
	}
	s = strings.TrimSpace(s)
	if len(s) > maxDetail {
		s = s[:maxDetail] + "…"
	}
	return s
}
