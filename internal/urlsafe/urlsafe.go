// Package urlsafe holds the URL checks secrets depend on: whether two URLs
// reach the same endpoint (a stored secret must not follow a URL to another
// host), and redaction of the credentials a URL carries.
package urlsafe

import (
	"net"
	"net/url"
	"regexp"
	"strings"
)

// defaultPorts are the ports a URL without one means.
var defaultPorts = map[string]string{"rtsp": "554", "rtsps": "322", "http": "80", "https": "443"}

// SameEndpoint reports whether a and b have the same scheme, host and port
// (case-insensitive, default ports filled in). Unparsable URLs are never the same.
func SameEndpoint(a, b string) bool {
	ua, err := url.Parse(strings.TrimSpace(a))
	if err != nil {
		return false
	}
	ub, err := url.Parse(strings.TrimSpace(b))
	if err != nil {
		return false
	}
	return endpoint(ua) == endpoint(ub) && endpoint(ua) != ""
}

func endpoint(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if scheme == "" || host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = defaultPorts[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.TrimSuffix(host, "."), port)
}

// urlLike finds URLs with a user-info part inside free text: the scheme,
// then everything up to the LAST "@" before the host's first "/" (a
// password may itself contain "@").
var urlLike = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#]*)@`)

// Redact replaces the user-info of every URL in s with "[REDACTED]":
// rtsp://admin:p@ssw0rd@10.0.0.5/stream → rtsp://[REDACTED]@10.0.0.5/stream.
func Redact(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlLike.ReplaceAllString(s, "${1}[REDACTED]@")
}
