package streamurl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/streamurl"
)

func TestParseRefuses(t *testing.T) {
	for _, raw := range []string{
		"", "file:///etc/passwd", "/etc/passwd", "concat:/etc/passwd|/etc/hosts", "subfile:,start,0,end,0,:/etc/passwd",
		"-i /etc/passwd", "-f", "rtsp://-host/x", "http://10.0.0.5/mjpg", "https://h/x", "rtmp://h/live", "udp://h:1234",
		"pipe:0", "data:text/plain,hi", "rtsp:///nohost", "rtsp://h/x y", "rtsp://h/\x00", "rtsp://h:99999/x", "rtsp://h/x#frag",
		"rtsp://a|b/x", "rtsp:relative", "rtsp://" + strings.Repeat("a", 2100),
	} {
		if p, err := streamurl.Parse(raw); err == nil || !errors.Is(err, streamurl.ErrInvalid) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrInvalid", raw, p, err)
		}
	}
}

func TestParseSplitsCredentials(t *testing.T) {
	for _, tc := range []struct{ raw, url, user, pass string }{
		{"rtsp://10.0.0.1:554/stream1", "rtsp://10.0.0.1:554/stream1", "", ""},
		{"RTSP://cam.example.com/live?channel=1", "rtsp://cam.example.com/live?channel=1", "", ""},
		{"rtsps://admin:p%40ss:w0rd@cam.local/s", "rtsps://cam.local/s", "admin", "p@ss:w0rd"},
		{"rtsp://viewer@[fe80::1]:8554/x", "rtsp://[fe80::1]:8554/x", "viewer", ""},
	} {
		p, err := streamurl.Parse(tc.raw)
		if err != nil || p.URL != tc.url || p.Username != tc.user || p.Password != tc.pass {
			t.Errorf("Parse(%q) = %+v, %v; want %s %q %q", tc.raw, p, err, tc.url, tc.user, tc.pass)
		}
	}
}

func TestWithCredentialsRoundTrip(t *testing.T) {
	u, err := streamurl.WithCredentials("rtsp://cam.local/s", "admin", "p@ss/w:rd")
	if err != nil {
		t.Fatal(err)
	}
	p, err := streamurl.Parse(u)
	if err != nil || p.URL != "rtsp://cam.local/s" || p.Username != "admin" || p.Password != "p@ss/w:rd" {
		t.Fatalf("round trip: %q → %+v %v", u, p, err)
	}
}
