// Package streamurl validates camera stream URLs at the edge. Only network
// video protocols are accepted, so a URL can never make FFmpeg read a local
// file (file:, concat:, subfile:, pipe: …) or smuggle in an option.
package streamurl

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// MaxLength bounds a stream URL.
const MaxLength = 2048

// Schemes are the accepted stream URL schemes.
var Schemes = []string{"rtsp", "rtsps"}

// ErrInvalid is wrapped by every validation error; the message says why.
var ErrInvalid = errors.New("invalid stream URL")

type invalidError string

func (e invalidError) Error() string { return string(e) }
func (e invalidError) Unwrap() error { return ErrInvalid }

// Parsed is a validated stream URL with any embedded credentials split out.
type Parsed struct {
	// URL is the stream URL without user info: safe to store, log and return.
	URL      string
	Username string
	Password string
}

// Parse validates raw and splits out embedded credentials.
func Parse(raw string) (Parsed, error) {
	if raw == "" {
		return Parsed{}, invalidError("is required")
	}
	if len(raw) > MaxLength {
		return Parsed{}, invalidError("is longer than 2048 characters")
	}
	if strings.HasPrefix(raw, "-") {
		return Parsed{}, invalidError("must not start with '-'")
	}
	for _, r := range raw {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return Parsed{}, invalidError("must not contain spaces or control characters")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Parsed{}, invalidError("is not a valid URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if !isAllowedScheme(scheme) {
		return Parsed{}, invalidError("must use rtsp:// or rtsps://")
	}
	if u.Opaque != "" || u.Host == "" {
		return Parsed{}, invalidError("must name a host, as in rtsp://host:554/path")
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, "|,;") {
		return Parsed{}, invalidError("has an invalid host")
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return Parsed{}, invalidError("has an invalid host name")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Parsed{}, invalidError("has an invalid port")
		}
	}
	if u.Fragment != "" {
		return Parsed{}, invalidError("must not have a #fragment")
	}
	out := Parsed{}
	if u.User != nil {
		out.Username = u.User.Username()
		out.Password, _ = u.User.Password()
		u.User = nil
	}
	u.Scheme = scheme
	out.URL = u.String()
	return out, nil
}

// WithCredentials returns the stream URL with user info set, for handing to
// FFmpeg only. Never log or store the result.
func WithCredentials(streamURL, username, password string) (string, error) {
	u, err := url.Parse(streamURL)
	if err != nil {
		return "", invalidError("is not a valid URL")
	}
	if username != "" || password != "" {
		u.User = url.UserPassword(username, password)
	}
	return u.String(), nil
}

func isAllowedScheme(s string) bool {
	for _, a := range Schemes {
		if s == a {
			return true
		}
	}
	return false
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
