package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientIPBehindProxies: forwarding headers count only from trusted
// peers, every header line counts, and a client's own X-Forwarded-For
// (left of what the proxies append) never wins.
func TestClientIPBehindProxies(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00::/64")}
	tests := []struct {
		name   string
		policy proxyPolicy
		peer   string
		xff    []string
		want   string
	}{
		{"no proxy configured: the peer", newProxyPolicy(false, nil), "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"one proxy: its appended address", newProxyPolicy(true, nil), "10.0.0.2:5000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"one proxy, client's own line first", newProxyPolicy(true, nil), "10.0.0.2:5000", []string{"6.6.6.6", "198.51.100.7"}, "198.51.100.7"},
		{"trusted list: an untrusted peer's header is ignored", newProxyPolicy(true, lan), "203.0.113.9:5000", []string{"6.6.6.6"}, "203.0.113.9"},
		{"trusted list: chained proxies are skipped", newProxyPolicy(false, lan), "10.0.0.2:5000", []string{"6.6.6.6, 198.51.100.7", "10.0.0.3"}, "198.51.100.7"},
		{"trusted list: no header", newProxyPolicy(false, lan), "10.0.0.2:5000", nil, "10.0.0.2"},
		{"malformed hop stops the walk", newProxyPolicy(false, lan), "10.0.0.2:5000", []string{"6.6.6.6, not-an-ip, 10.0.0.3"}, "10.0.0.3"},
		{"IPv6 proxy", newProxyPolicy(false, lan), "[fd00::5]:443", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tt.policy.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}
