// Package egress decides where Rollcall may connect on an operator's say:
// camera streams and face providers. The check is made on the address a
// connection is about to use (after DNS), so a name cannot dodge it.
//
// Refused by default: loopback, link-local (cloud metadata lives there),
// unspecified, multicast and broadcast addresses, and Rollcall's own
// service endpoints (its database, Redis, object store, Temporal, API).
// Private networks stay allowed: cameras and providers normally sit on
// the company LAN. An allow-list (ROLLCALL_CAMERA_ALLOW_CIDRS,
// ROLLCALL_PROVIDER_ALLOW_CIDRS) lets chosen networks through the default
// refusals, e.g. the development stack's loopback camera; Rollcall's own
// endpoints stay refused whatever the list says.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// ErrRefused is wrapped by every refusal.
var ErrRefused = errors.New("egress: destination not allowed")

// refused are the networks no camera or provider is expected in.
var refused = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata (169.254.169.254)
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba metadata
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS metadata over IPv6
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

// Policy is one kind of destination's rules (cameras, providers).
type Policy struct {
	name  string
	allow []netip.Prefix
	own   map[netip.AddrPort]bool
}

// New returns a policy named for its errors ("camera", "provider") with
// allow-listed networks and Rollcall's own endpoints (host:port; names are
// resolved now).
func New(name string, allow []netip.Prefix, own []string) *Policy {
	p := &Policy{name: name, allow: allow, own: map[netip.AddrPort]bool{}}
	for _, hp := range own {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			continue
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			continue
		}
		addrs := []netip.Addr{}
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = append(addrs, a)
		} else if ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host); err == nil {
			addrs = append(addrs, ips...)
		}
		for _, a := range addrs {
			a = a.Unmap()
			p.own[netip.AddrPortFrom(a, uint16(n))] = true
			if a.IsUnspecified() { // a service listening on every address
				for _, lo := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()} {
					p.own[netip.AddrPortFrom(lo, uint16(n))] = true
				}
			}
		}
	}
	return p
}

// Check reports whether a connection to ap is allowed.
func (p *Policy) Check(ap netip.AddrPort) error {
	if p == nil {
		return nil
	}
	a := ap.Addr().Unmap()
	if p.own[netip.AddrPortFrom(a, ap.Port())] {
		return fmt.Errorf("%w: %s is one of Rollcall's own services", ErrRefused, ap)
	}
	for _, c := range p.allow {
		if c.Contains(a) {
			return nil
		}
	}
	for _, c := range refused {
		if c.Contains(a) {
			return fmt.Errorf("%w: %s addresses (%s) are not allowed for a %s; allow them with ROLLCALL_%s_ALLOW_CIDRS",
				ErrRefused, c, ap.Addr(), p.name, upper(p.name))
		}
	}
	return nil
}

// Control is a net.Dialer Control hook enforcing the policy on the
// address actually dialled.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unreadable address %q", ErrRefused, address)
	}
	return p.Check(ap)
}

// Dialer returns a dialer that refuses what the policy refuses.
func (p *Policy) Dialer() *net.Dialer {
	d := &net.Dialer{}
	if p != nil {
		d.Control = p.Control
	}
	return d
}

// Resolve looks host up and returns its first allowed address for port,
// or an ErrRefused error when every address is refused. A literal IP
// (decimal forms such as 2130706433 included, as Go's resolver reads
// them) is checked as it is.
func (p *Policy) Resolve(ctx context.Context, host string, port int) (netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if a, ok := legacyIPv4(host); ok {
		// FFmpeg's getaddrinfo reads 2130706433, 0x7f.1 or 017700000001
		// as 127.0.0.1: so must the check.
		addrs = []netip.Addr{a}
	} else {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return netip.Addr{}, err
		}
		addrs = ips
	}
	var first error
	for _, a := range addrs {
		a = a.Unmap()
		err := p.Check(netip.AddrPortFrom(a, uint16(port)))
		if err == nil {
			return a, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%w: %s has no address", ErrRefused, host)
	}
	return netip.Addr{}, first
}

// legacyIPv4 parses the numbers-and-dots forms inet_aton accepts (1 to 4
// parts, each decimal, octal with a leading 0, or hex with 0x; the last
// part fills the remaining bytes).
func legacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(p, 0, 32) // base 0: 0x…, 0…, decimal
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var ip uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		ip |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	ip |= last
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
