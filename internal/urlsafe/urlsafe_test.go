package urlsafe_test

import (
	"testing"

	"github.com/rollcall/rollcall/internal/urlsafe"
)

func TestSameEndpoint(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5:554/stream2", true},
		{"rtsp://CAM.local/s", "rtsp://cam.local./other", true},
		{"https://faces.example.com/api", "https://faces.example.com:443/v2", true},
		{"rtsp://10.0.0.5/s", "rtsp://10.0.0.6/s", false},
		{"rtsp://10.0.0.5/s", "rtsp://10.0.0.5:8554/s", false},
		{"rtsp://10.0.0.5/s", "rtsps://10.0.0.5/s", false},
		{"http://faces:8000", "https://faces:8000", false},
		{"http://faces:8000", "http://evil.example:8000", false},
		{"", "", false},
		{"not a url", "not a url", false},
		{"rtsp://[::1]:554/a", "rtsp://[::1]/b", true},
	}
	for _, tt := range tests {
		if got := urlsafe.SameEndpoint(tt.a, tt.b); got != tt.want {
			t.Errorf("SameEndpoint(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"rtsp://admin:p@ssw0rd@10.0.0.5/stream":          "rtsp://[REDACTED]@10.0.0.5/stream",
		"rtsp://admin:secret@10.0.0.5:554/s?x=a@b":       "rtsp://[REDACTED]@10.0.0.5:554/s?x=a@b",
		"dial rtsp://u:p@@@cam/s failed":                 "dial rtsp://[REDACTED]@cam/s failed",
		"rtsp://10.0.0.5/stream":                         "rtsp://10.0.0.5/stream",
		"mail me at ops@example.com":                     "mail me at ops@example.com",
		"two rtsp://a:b@h1/x and http://c:d@e@h2/y urls": "two rtsp://[REDACTED]@h1/x and http://[REDACTED]@h2/y urls",
	}
	for in, want := range tests {
		if got := urlsafe.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
