package egress_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/rollcall/rollcall/internal/egress"
)

func TestCheckRefusesByDefault(t *testing.T) {
	p := egress.New("camera", nil, []string{"10.0.0.9:5432"})
	for _, tt := range []struct {
		host string
		port int
		ok   bool
	}{
		{"127.0.0.1", 6379, false},
		{"169.254.169.254", 80, false},
		{"::1", 8080, false},
		{"2130706433", 554, false}, // 127.0.0.1 as FFmpeg's resolver reads it
		{"0x7f.1", 554, false},
		{"017700000001", 554, false},
		{"0.0.0.0", 554, false},
		{"fe80::1", 554, false},
		{"::ffff:127.0.0.1", 554, false},
		{"localhost", 554, false}, // a name that resolves to loopback
		{"100.100.100.200", 80, false},
		{"224.0.0.1", 554, false},
		{"10.0.0.9", 5432, false}, // Rollcall's own database
		{"10.0.0.9", 554, true},   // the same host's camera port
		{"10.0.0.21", 554, true},  // the LAN
		{"192.168.1.64", 554, true},
		{"172.16.5.5", 554, true},
		{"203.0.113.10", 554, true}, // a camera across the internet
	} {
		_, err := p.Resolve(context.Background(), tt.host, tt.port)
		if tt.ok && err != nil {
			t.Errorf("%s:%d refused: %v", tt.host, tt.port, err)
		}
		if !tt.ok && !errors.Is(err, egress.ErrRefused) {
			t.Errorf("%s:%d allowed (err %v)", tt.host, tt.port, err)
		}
	}
}

func TestAllowListOverridesButNotOwnServices(t *testing.T) {
	p := egress.New("camera", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, []string{"127.0.0.1:55432", "0.0.0.0:8080"})
	if _, err := p.Resolve(context.Background(), "127.0.0.1", 58554); err != nil {
		t.Fatalf("allow-listed loopback camera refused: %v", err)
	}
	for _, port := range []int{55432, 8080} {
		if _, err := p.Resolve(context.Background(), "127.0.0.1", port); !errors.Is(err, egress.ErrRefused) {
			t.Fatalf("own service on %d allowed", port)
		}
	}
	if _, err := p.Resolve(context.Background(), "169.254.169.254", 80); !errors.Is(err, egress.ErrRefused) {
		t.Fatal("metadata allowed by a loopback allow-list")
	}
}

// TestDialerRefusesAtConnect: the check is made on the address dialled,
// after name resolution: a refused address never receives a connection.
func TestDialerRefusesAtConnect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	p := egress.New("provider", nil, nil)
	client := &http.Client{Transport: &http.Transport{DialContext: p.Dialer().DialContext, Proxy: nil}}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := client.Get(u)
		if !errors.Is(err, egress.ErrRefused) {
			t.Errorf("GET %s: %v, want a refusal", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the refused server received %d requests", hits.Load())
	}
	allowed := egress.New("provider", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, nil)
	client.Transport = &http.Transport{DialContext: allowed.Dialer().DialContext}
	res, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("allowed request not received")
	}
}
