package reading

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// PrivateKey is the configuration key that admits refused address classes.
const PrivateKey = "greenroom.reading.allowPrivateAddresses"

// Resolver resolves host names; *net.Resolver is one. It is a field of
// Config so tests can map names to addresses without DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc opens a connection to an address that has already been checked:
// addr is always "ip:port", never a name, so nothing resolves it again.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

var (
	sharedPrefix   = netip.MustParsePrefix("100.64.0.0/10")
	thisNetPrefix  = netip.MustParsePrefix("0.0.0.0/8")
	reservedPrefix = netip.MustParsePrefix("240.0.0.0/4")
	siteLocal      = netip.MustParsePrefix("fec0::/10")
	nat64Prefix    = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	broadcast      = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// addrClass names the class of an address that is refused by default, or
// returns "" for a public one. IPv4 addresses embedded in IPv6 ones
// (IPv4-mapped, NAT64, 6to4) are judged as the IPv4 address they reach.
func addrClass(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64Prefix.Contains(ip):
			if c := addrClass(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); c != "" {
				return c + " (through NAT64)"
			}
		case sixToFour.Contains(ip):
			if c := addrClass(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); c != "" {
				return c + " (through 6to4)"
			}
		}
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified() || thisNetPrefix.Contains(ip):
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate() || siteLocal.Contains(ip):
		return "private"
	case sharedPrefix.Contains(ip):
		return "shared (carrier-grade NAT)"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip == broadcast:
		return "broadcast"
	case reservedPrefix.Contains(ip):
		return "reserved"
	}
	return ""
}

// parseIPv4Number parses a host the way browsers' URL parsers (and
// inet_aton) read IPv4 addresses: one to four dot-separated numbers in
// decimal, octal (leading 0) or hex (leading 0x), the last filling the
// remaining bytes, so 127.1, 0x7f000001, 2130706433 and 0177.0.0.1 all
// denote 127.0.0.1. isNumeric says the host's last label is a number, in
// which case a failed parse means an invalid host rather than a name.
func parseIPv4Number(host string) (ip netip.Addr, isNumeric bool, err error) {
	h := strings.TrimSuffix(host, ".")
	parts := strings.Split(h, ".")
	if len(parts) == 0 || !numericLabel(parts[len(parts)-1]) {
		return netip.Addr{}, false, nil
	}
	if len(parts) > 4 {
		return netip.Addr{}, true, fmt.Errorf("host %q is not a valid IPv4 address", host)
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, true, fmt.Errorf("host %q is not a valid IPv4 address", host)
		}
		nums[i] = n
	}
	last := nums[len(nums)-1]
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, true, fmt.Errorf("host %q is not a valid IPv4 address", host)
		}
	}
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, true, fmt.Errorf("host %q is not a valid IPv4 address", host)
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

func numericLabel(s string) bool {
	if s == "" {
		return false
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		for _, c := range s[2:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseIPv4Part(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true // "0x" is 0, as browsers read it
		}
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	if len(s) > 12 {
		return 0, false // far beyond 32 bits; also keeps ParseUint cheap
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}

// hostAddr returns the address a URL host literally names (an IPv6
// literal in brackets or not, a dotted IPv4 address, or an inet_aton
// spelling of one), ok=false for a name, or an error for a host that is
// neither (a numeric host out of range).
func hostAddr(host string) (ip netip.Addr, ok bool, err error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.Contains(h, ":") {
		ip, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}, false, fmt.Errorf("host %q is not a valid IPv6 address", host)
		}
		return ip, true, nil
	}
	ip, numeric, err := parseIPv4Number(h)
	if err != nil {
		return netip.Addr{}, false, err
	}
	return ip, numeric, nil
}

// canonicalHost is a URL hostname as browsers write it and Backstage's
// rules compare it: lower case, IPv4 in dotted form, IPv6 in brackets.
func canonicalHost(host string) (string, error) {
	host = strings.ToLower(host)
	ip, ok, err := hostAddr(host)
	if err != nil {
		return "", err
	}
	if !ok {
		if host == "" {
			return "", errors.New("the URL has no host")
		}
		// Browsers' forbidden host code points: a name holding one is no
		// name, and letting it through would let matching and dialling
		// read it differently.
		if i := strings.IndexFunc(host, func(r rune) bool {
			return r <= ' ' || r == 0x7f || strings.ContainsRune("#%/:<>?@[\\]^|", r)
		}); i >= 0 {
			return "", fmt.Errorf("host %q is not a valid host name", host)
		}
		return host, nil
	}
	if ip.Is6() {
		return "[" + ip.String() + "]", nil
	}
	return ip.String(), nil
}

// addrRefusal is a dial refused on the address its host resolved to.
type addrRefusal struct {
	host  string
	ip    netip.Addr
	class string
}

func (e *addrRefusal) Error() string {
	what := fmt.Sprintf("%s resolves to %s, %s address", e.host, e.ip, article(e.class))
	if strings.Trim(e.host, "[]") == e.ip.String() {
		what = fmt.Sprintf("%s is %s address", e.host, article(e.class))
	}
	return fmt.Sprintf("%s, which is refused unless %s lists it (for example %s)", what, PrivateKey, single(e.ip))
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

func single(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()).String()
}

// guard resolves and checks addresses for the fetch fallback's dialer.
type guard struct {
	resolver Resolver
	dial     DialFunc
	private  []netip.Prefix
	// explicit are hosts named by IP literal or as localhost in a
	// backend.reading.allow rule: the admin asked for exactly them.
	explicit map[string]bool
}

// permitted reports whether a connection for host may go to ip.
func (g *guard) permitted(host string, ip netip.Addr) error {
	class := addrClass(ip)
	if class == "" {
		return nil
	}
	u := ip.WithZone("").Unmap()
	for _, p := range g.private {
		if p.Contains(u) {
			return nil
		}
	}
	if g.explicit[host] {
		if lit, ok, _ := hostAddr(host); ok && lit.WithZone("").Unmap() == u {
			return nil
		}
		if host == "localhost" && u.IsLoopback() {
			return nil
		}
	}
	return &addrRefusal{host: host, ip: ip, class: class}
}

// resolve returns the addresses a host names: itself for a literal (in any
// spelling), else the resolver's answer.
func (g *guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, ok, err := hostAddr(host); err != nil {
		return nil, err
	} else if ok {
		return []netip.Addr{ip}, nil
	}
	ips, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no addresses", host)
	}
	return ips, nil
}

// dialContext resolves addr's host once, checks every address it resolves
// to, and dials only those checked addresses: a DNS answer that changes
// between the check and the connection (rebinding) is never seen.
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	host, err = canonicalHost(host)
	if err != nil {
		return nil, err
	}
	ips, err := g.resolve(ctx, strings.Trim(host, "[]"))
	if err != nil {
		return nil, err
	}
	// Every address must pass, not just the first: a name resolving to a
	// public and a private address would otherwise reach the private one
	// whenever the public one is down.
	for _, ip := range ips {
		if err := g.permitted(host, ip); err != nil {
			return nil, err
		}
	}
	var firstErr error
	for _, ip := range ips {
		conn, err := g.dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}
