package reading

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// target is a 127.0.0.1 listener that only counts the connections it
// accepts: every refusal must leave it at zero.
type target struct {
	ln       net.Listener
	accepted atomic.Int32
	port     string
}

func newTarget(t *testing.T) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ln: ln}
	_, tg.port, _ = net.SplitHostPort(ln.Addr().String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tg.accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return tg
}

// resolver maps test names to addresses; any other name fails, so no
// test ever asks real DNS.
type resolver map[string][]string

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// dialLog dials only loopback addresses for real and records every
// address it was asked for, so a test can assert that nothing tried to
// connect to 10.0.0.1 or a public address (no such traffic leaves here).
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	host, _, _ := net.SplitHostPort(addr)
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test dialer: not dialling %s", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *dialLog) nonLoopback() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, a := range d.addrs {
		host, _, _ := net.SplitHostPort(a)
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
			out = append(out, a)
		}
	}
	return out
}

var testResolver = resolver{
	"evil.test":        {"127.0.0.1"},
	"app.localhost":    {"::1"},
	"localhost":        {"127.0.0.1"},
	"db.internal.test": {"10.0.0.1"},
	"metadata.test":    {"169.254.169.254"},
	"mixed.test":       {"203.0.113.7", "127.0.0.1"},
	"mapped.test":      {"::ffff:127.0.0.1"},
	"cgnat.test":       {"100.64.1.2"},
	"ula.test":         {"fd12:3456::1"},
	"zero.test":        {"0.0.0.0"},
	"app.test":         {"127.0.0.1"},
	"public.test":      {"203.0.113.9"},
}

const backstageMsg = "is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'"

func newMux(t *testing.T, c Config) (*Mux, *dialLog) {
	t.Helper()
	d := &dialLog{}
	if c.Resolver == nil {
		c.Resolver = testResolver
	}
	c.Dial = d.dial
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m, d
}

// TestRefusesInternalAddresses is the SSRF table: every spelling of an
// internal address, a name resolving to one, and a redirect to one, is
// refused with a message naming what would allow it, and no connection
// reaches the listener.
func TestRefusesInternalAddresses(t *testing.T) {
	tg := newTarget(t)
	P := tg.port
	// An allowed origin that redirects wherever ?to= says.
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	defer origin.Close()
	originHost := strings.TrimPrefix(origin.URL, "http://")
	redirect := func(to string) string { return origin.URL + "/r?to=" + url.QueryEscape(to) }

	tests := []struct {
		name  string
		allow []AllowRule
		url   string
		want  string // in the error message
	}{
		// No rule names them: the policy refuses before any resolution.
		{"127.0.0.1", nil, "http://127.0.0.1:" + P + "/x", "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"127.1", nil, "http://127.1:" + P + "/x", "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"0x7f000001", nil, "http://0x7f000001:" + P + "/x", "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"2130706433", nil, "http://2130706433:" + P + "/x", "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"0177.0.0.1", nil, "http://0177.0.0.1:" + P + "/x", "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"[::1]", nil, "http://[::1]:" + P + "/x", "Reading from 'http://[::1]:" + P + "/x' " + backstageMsg},
		{"[::ffff:127.0.0.1]", nil, "http://[::ffff:127.0.0.1]:" + P + "/x", backstageMsg},
		{"localhost", nil, "http://localhost:" + P + "/x", "Reading from 'http://localhost:" + P + "/x' " + backstageMsg},
		{"LocalHost upper case", nil, "http://LocalHost:" + P + "/x", "Reading from 'http://localhost:" + P + "/x' " + backstageMsg},
		// A wildcard rule admits the URL, but the address is refused.
		{"127.1 under a wildcard", []AllowRule{{Host: "*.0.0.1:" + P}}, "http://127.1:" + P + "/x", "127.0.0.1 is a loopback address, which is refused unless " + PrivateKey + " lists it (for example 127.0.0.1/32)"},
		{"0x7f000001 under a wildcard", []AllowRule{{Host: "*.0.0.1:" + P}}, "http://0x7f000001:" + P + "/x", "127.0.0.1 is a loopback address"},
		{"name resolving to loopback", []AllowRule{{Host: "*.test:" + P}}, "http://evil.test:" + P + "/x", "Reading from 'http://evil.test:" + P + "/x' is not allowed: evil.test resolves to 127.0.0.1, a loopback address, which is refused unless " + PrivateKey + " lists it"},
		{"*.localhost resolving to ::1", []AllowRule{{Host: "*.localhost:" + P}}, "http://app.localhost:" + P + "/x", "app.localhost resolves to ::1, a loopback address"},
		{"IPv4-mapped answer", []AllowRule{{Host: "*.test:" + P}}, "http://mapped.test:" + P + "/x", "resolves to ::ffff:127.0.0.1, a loopback address"},
		{"one bad address of two", []AllowRule{{Host: "*.test:" + P}}, "http://mixed.test:" + P + "/x", "mixed.test resolves to 127.0.0.1, a loopback address"},
		{"private literal", []AllowRule{{Host: "*.0.0.1"}}, "http://10.0.0.1/x", "10.0.0.1 is a private address"},
		{"name resolving to private", []AllowRule{{Host: "*.test"}}, "http://db.internal.test/x", "db.internal.test resolves to 10.0.0.1, a private address"},
		{"link-local literal", []AllowRule{{Host: "*.169.254"}}, "http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"},
		{"name resolving to link-local", []AllowRule{{Host: "*.test"}}, "http://metadata.test/latest", "metadata.test resolves to 169.254.169.254, a link-local address"},
		{"shared address space", []AllowRule{{Host: "*.test"}}, "http://cgnat.test/", "a shared (carrier-grade NAT) address"},
		{"unique local IPv6", []AllowRule{{Host: "*.test"}}, "http://ula.test/", "a private address"},
		{"unspecified", []AllowRule{{Host: "*.test:" + P}}, "http://zero.test:" + P + "/", "an unspecified address"},
		// Redirects are admitted again, by the rules and by the dialer.
		{"redirect to a loopback listener", []AllowRule{{Host: originHost}}, redirect("http://127.0.0.1:" + P + "/x"), "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"redirect to 0x7f000001", []AllowRule{{Host: originHost}}, redirect("http://0x7f000001:" + P + "/x"), "Reading from 'http://127.0.0.1:" + P + "/x' " + backstageMsg},
		{"redirect to a name resolving to loopback", []AllowRule{{Host: originHost}, {Host: "*.test:" + P}}, redirect("http://evil.test:" + P + "/x"), "evil.test resolves to 127.0.0.1, a loopback address"},
		{"redirect to another scheme", []AllowRule{{Host: originHost}}, redirect("file:///etc/passwd"), "only http and https URLs can be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, dials := newMux(t, Config{Allow: tt.allow})
			before := tg.accepted.Load()
			_, err := m.ReadURL(context.Background(), tt.url, Options{})
			var na *NotAllowedError
			if !errors.As(err, &na) {
				t.Fatalf("got %v (%T), want a *NotAllowedError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message\n  %s\nlacks\n  %s", err, tt.want)
			}
			if !errors.Is(err, fs.ErrPermission) {
				t.Error("a refusal does not match fs.ErrPermission")
			}
			if n := tg.accepted.Load() - before; n != 0 {
				t.Errorf("%d connections reached the listener", n)
			}
			if d := dials.nonLoopback(); len(d) != 0 {
				t.Errorf("tried to connect to %v", d)
			}
			// Fetch (the catalog's path) refuses the same way.
			if _, err := m.Fetch(context.Background(), tt.url); !errors.As(err, &na) {
				t.Errorf("Fetch: %v", err)
			}
			if n := tg.accepted.Load() - before; n != 0 {
				t.Errorf("Fetch: %d connections reached the listener", n)
			}
		})
	}
}

// TestDialerChecksEverySpelling calls the fetch dialer directly, as a
// redirect or a rule admitting the host would reach it: every spelling of
// loopback is refused before a connection is made.
func TestDialerChecksEverySpelling(t *testing.T) {
	tg := newTarget(t)
	m, dials := newMux(t, Config{})
	for _, host := range []string{"127.0.0.1", "127.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.000.000.001", "[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "localhost", "evil.test", "[::]", "0.0.0.0", "0"} {
		t.Run(host, func(t *testing.T) {
			c, err := m.guard.dialContext(context.Background(), "tcp", host+":"+tg.port)
			if err == nil {
				c.Close()
				t.Fatal("dialled")
			}
			var ar *addrRefusal
			if !errors.As(err, &ar) {
				t.Fatalf("got %v, want an address refusal", err)
			}
			if !strings.Contains(err.Error(), PrivateKey) {
				t.Errorf("message %q does not name %s", err, PrivateKey)
			}
		})
	}
	if n := tg.accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the listener", n)
	}
	if d := dials.nonLoopback(); len(d) != 0 {
		t.Errorf("tried to connect to %v", d)
	}
}

// TestDialsTheCheckedAddress: the dialer connects to the address it
// checked, never to the name (which a second lookup could rebind).
func TestDialsTheCheckedAddress(t *testing.T) {
	m, dials := newMux(t, Config{Allow: []AllowRule{{Host: "public.test"}}})
	_, err := m.ReadURL(context.Background(), "http://public.test/x", Options{})
	if err == nil || !strings.Contains(err.Error(), "test dialer: not dialling 203.0.113.9:80") {
		t.Fatalf("got %v", err)
	}
	if got := dials.nonLoopback(); len(got) != 1 || got[0] != "203.0.113.9:80" {
		t.Errorf("dialled %v, want exactly [203.0.113.9:80]", got)
	}
}

func TestAllowedHostsWork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	tests := []struct {
		name string
		cfg  Config
		url  string
	}{
		{"an IP-literal rule allows its address", Config{Allow: []AllowRule{{Host: "127.0.0.1:" + port}}}, srv.URL + "/a"},
		{"an IP-literal rule with a port range", Config{Allow: []AllowRule{{Host: "127.0.0.1:1-65535"}}}, srv.URL + "/a"},
		{"the literal in another spelling", Config{Allow: []AllowRule{{Host: "127.0.0.1:" + port}}}, "http://0x7f000001:" + port + "/a"},
		{"a localhost rule allows loopback for localhost", Config{Allow: []AllowRule{{Host: "localhost:" + port}}}, "http://localhost:" + port + "/a"},
		{"allowPrivateAddresses admits a name's address", Config{Allow: []AllowRule{{Host: "*.test:" + port}}, AllowPrivate: []string{"127.0.0.1/32"}}, "http://app.test:" + port + "/a"},
		{"allowPrivateAddresses as a single address", Config{Allow: []AllowRule{{Host: "*.test:" + port}}, AllowPrivate: []string{"127.0.0.1"}}, "http://app.test:" + port + "/a"},
		{"allowPrivateAddresses as a range", Config{Allow: []AllowRule{{Host: "*.test:" + port}}, AllowPrivate: []string{"127.0.0.0/8"}}, "http://app.test:" + port + "/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newMux(t, tt.cfg)
			f, err := m.ReadURL(context.Background(), tt.url, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Data) != "hello from /a" {
				t.Errorf("read %q", f.Data)
			}
		})
	}
	// An explicit literal rule is for that host only: a name resolving to
	// the same address stays refused.
	m, _ := newMux(t, Config{Allow: []AllowRule{{Host: "127.0.0.1:" + port}, {Host: "*.test:" + port}}})
	if _, err := m.ReadURL(context.Background(), "http://evil.test:"+port+"/a", Options{}); err == nil || !strings.Contains(err.Error(), "evil.test resolves to 127.0.0.1") {
		t.Errorf("evil.test: %v", err)
	}
}

func TestAllowRuleMatching(t *testing.T) {
	tests := []struct {
		rule AllowRule
		url  string
		want bool
	}{
		{AllowRule{Host: "example.com"}, "https://example.com/a", true},
		{AllowRule{Host: "example.com"}, "https://EXAMPLE.com/a", true},
		{AllowRule{Host: "Example.COM"}, "https://example.com/a", true},
		{AllowRule{Host: "example.com"}, "https://example.com:8443/a", false}, // no port in the rule: only URLs without one
		{AllowRule{Host: "example.com"}, "https://example.com:443/a", true},   // a default port is no port
		{AllowRule{Host: "example.com"}, "http://example.com:80/a", true},
		{AllowRule{Host: "example.com"}, "http://example.com:443/a", false},
		{AllowRule{Host: "example.com"}, "https://www.example.com/a", false},
		{AllowRule{Host: "example.com"}, "https://notexample.com/a", false},
		{AllowRule{Host: "example.com:8080"}, "http://example.com:8080/a", true},
		{AllowRule{Host: "example.com:8080"}, "http://example.com:8081/a", false},
		{AllowRule{Host: "example.com:8080"}, "http://example.com/a", false}, // counts as 80
		{AllowRule{Host: "example.com:80"}, "http://example.com/a", true},
		{AllowRule{Host: "example.com:443"}, "https://example.com/a", true},
		{AllowRule{Host: "example.com:443"}, "http://example.com/a", false},
		{AllowRule{Host: "example.com:8000-9000"}, "http://example.com:8000/a", true},
		{AllowRule{Host: "example.com:8000-9000"}, "http://example.com:9000/a", true},
		{AllowRule{Host: "example.com:8000-9000"}, "http://example.com:9001/a", false},
		{AllowRule{Host: "example.com:8000-9000"}, "http://example.com:7999/a", false},
		{AllowRule{Host: "example.com:1-1000"}, "https://example.com/a", true},
		{AllowRule{Host: "*.example.com"}, "https://a.example.com/x", true},
		{AllowRule{Host: "*.example.com"}, "https://a.b.example.com/x", true},
		{AllowRule{Host: "*.example.com"}, "https://example.com/x", false},
		{AllowRule{Host: "*.example.com"}, "https://aexample.com/x", false},
		{AllowRule{Host: "*.example.com"}, "https://a.example.com:444/x", false},
		{AllowRule{Host: "*.example.com:444"}, "https://a.example.com:444/x", true},
		{AllowRule{Host: "example.com", Paths: []string{"/docs"}}, "https://example.com/docs/a.md", true},
		{AllowRule{Host: "example.com", Paths: []string{"/docs"}}, "https://example.com/docs-private/a.md", true}, // a string prefix, as in Backstage
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs-private/a.md", false},
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs/../secret", false},
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs/%2e%2e/secret", false},
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs%2F..%2Fsecret", false},
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com//docs/a", true}, // path.posix.normalize folds the slashes,
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs/./a", true},
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs/", true},
		{AllowRule{Host: "example.com", Paths: []string{"/docs/"}}, "https://example.com/docs", false},
		{AllowRule{Host: "example.com", Paths: []string{"/a", "/b"}}, "https://example.com/b/x", true},
		{AllowRule{Host: "127.0.0.1:8080"}, "http://127.1:8080/", true},
		{AllowRule{Host: "[::1]:8080"}, "http://[::1]:8080/", true},
		{AllowRule{Host: "[::1]:8080"}, "http://[0:0::1]:8080/", true},
		{AllowRule{Host: "[::1]"}, "http://[::1]:8080/", false},
	}
	for _, tt := range tests {
		t.Run(tt.rule.Host+" "+tt.url, func(t *testing.T) {
			r, err := parseRule(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			u, err := parseReadURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.matches(u); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeAllow(t *testing.T) {
	good := []any{
		map[string]any{"host": "example.com"},
		map[string]any{"host": "*.example.com:8000-9000", "paths": []any{"/docs/", "/api"}},
		map[string]any{"host": "[::1]:3000"},
	}
	rules, err := DecodeAllow(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []AllowRule{{Host: "example.com"}, {Host: "*.example.com:8000-9000", Paths: []string{"/docs/", "/api"}}, {Host: "[::1]:3000"}}
	if fmt.Sprint(rules) != fmt.Sprint(want) {
		t.Errorf("decoded %v, want %v", rules, want)
	}
	if r, err := DecodeAllow(nil); err != nil || r != nil {
		t.Errorf("nil: %v %v", r, err)
	}
	bad := []struct {
		v    any
		want string
	}{
		{[]any{map[string]any{"host": "prod.*.example.com"}}, "backend.reading.allow[0]: host \"prod.*.example.com\": only a leading *. wildcard is allowed"},
		{[]any{map[string]any{"host": "*"}}, "only a leading *. wildcard"},
		{[]any{map[string]any{"host": "*example.com"}}, "only a leading *. wildcard"},
		{[]any{map[string]any{"host": "*."}}, "the wildcard needs a domain"},
		{[]any{map[string]any{"host": "ok.com"}, map[string]any{"host": "x.com:0"}}, "backend.reading.allow[1]: host \"x.com:0\": port \"0\" is not a number from 1 to 65535"},
		{[]any{map[string]any{"host": "x.com:70000"}}, "not a number from 1 to 65535"},
		{[]any{map[string]any{"host": "x.com:9-3"}}, "port range 9-3 is empty"},
		{[]any{map[string]any{"host": "x.com:a-b"}}, "port \"a\" is not a number"},
		{[]any{map[string]any{"host": "x.com:"}}, "empty port"},
		{[]any{map[string]any{"host": "https://x.com"}}, "not a URL"},
		{[]any{map[string]any{"host": "x.com/docs"}}, "not a URL"},
		{[]any{map[string]any{"host": "::1"}}, "write IPv6 addresses in brackets"},
		{[]any{map[string]any{"host": "[::1"}}, "missing ]"},
		{[]any{map[string]any{"host": "[::1]x"}}, "unexpected"},
		{[]any{map[string]any{"host": "999.1.1.1"}}, "not a valid IPv4 address"},
		{[]any{map[string]any{"paths": []any{"/x"}}}, "backend.reading.allow[0]: host is required"},
		{[]any{map[string]any{"host": 3}}, "backend.reading.allow[0].host must be a string, got a number"},
		{[]any{map[string]any{"host": "x.com", "path": "/x"}}, "backend.reading.allow[0]: unknown key \"path\" (expected host and paths)"},
		{[]any{map[string]any{"host": "x.com", "paths": "/x"}}, "backend.reading.allow[0].paths: must be a list of strings, got a string"},
		{[]any{map[string]any{"host": "x.com", "paths": []any{"docs"}}}, "paths[0] \"docs\" must start with /"},
		{[]any{"x.com"}, "backend.reading.allow[0] must be a map with host and optional paths, got a string"},
		{map[string]any{"host": "x.com"}, "backend.reading.allow must be a list of {host, paths} entries, got a map"},
	}
	for _, tt := range bad {
		_, err := DecodeAllow(tt.v)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeAllow(%v) = %v, want an error with %q", tt.v, err, tt.want)
		}
	}
}

func TestDecodePrivate(t *testing.T) {
	got, err := DecodePrivate([]any{"10.0.0.0/8", "127.0.0.1", "fd00::/8", "::1"})
	if err != nil || strings.Join(got, ",") != "10.0.0.0/8,127.0.0.1,fd00::/8,::1" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, tt := range []struct {
		v    any
		want string
	}{
		{[]any{"10.0.0.0/33"}, PrivateKey + "[0]: \"10.0.0.0/33\" is not a CIDR prefix"},
		{[]any{"ten"}, "is neither an IP address nor a CIDR prefix"},
		{[]any{"127.0.0.1", 5}, PrivateKey + ": entry 1 must be a string, got a number"},
		{"10.0.0.0/8", PrivateKey + ": must be a list of strings, got a string"},
	} {
		if _, err := DecodePrivate(tt.v); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodePrivate(%v) = %v, want %q", tt.v, err, tt.want)
		}
	}
	// An IPv4-mapped prefix admits the IPv4 addresses it covers.
	p, err := parsePrefix("::ffff:10.0.0.0/104")
	if err != nil || p.String() != "10.0.0.0/8" {
		t.Errorf("mapped prefix: %v %v", p, err)
	}
	if _, err := New(Config{AllowPrivate: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), PrivateKey+"[0]") {
		t.Errorf("New with a bad prefix: %v", err)
	}
	if _, err := New(Config{Allow: []AllowRule{{Host: "a.*.b"}}}); err == nil || !strings.Contains(err.Error(), AllowKey+"[0]") {
		t.Errorf("New with a bad rule: %v", err)
	}
}

func TestIPv4Spellings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0177.0.0.01", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"10.0.0.1", "10.0.0.1"},
		{"1.2.3.4", "1.2.3.4"},
		{"4294967295", "255.255.255.255"},
		{"example.com", "example.com"},
		{"EXAMPLE.com", "example.com"},
		{"1.2.3.com", "1.2.3.com"},
		{"0x7f.example", "0x7f.example"},
		{"0x1g", "0x1g"}, // not a number: a name, as browsers read it
		{"[::1]", "[::1]"},
		{"[::FFFF:127.0.0.1]", "[::ffff:127.0.0.1]"},
	}
	for _, tt := range tests {
		got, err := canonicalHost(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("canonicalHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"4294967296", "256.0.0.1", "1.2.3.4.5", "1.2.3.256", "1.2.65536", "09", "1..2", "[::1::2]"} {
		if got, err := canonicalHost(bad); err == nil {
			t.Errorf("canonicalHost(%q) = %q, want an error", bad, got)
		}
	}
}

func TestAddressClasses(t *testing.T) {
	tests := []struct{ ip, class string }{
		{"127.0.0.1", "loopback"}, {"127.255.0.9", "loopback"}, {"::1", "loopback"},
		{"10.1.2.3", "private"}, {"172.16.0.1", "private"}, {"172.31.255.255", "private"}, {"192.168.1.1", "private"}, {"fc00::1", "private"}, {"fd00::1", "private"},
		{"100.64.0.1", "shared (carrier-grade NAT)"}, {"100.127.255.254", "shared (carrier-grade NAT)"},
		{"169.254.169.254", "link-local"}, {"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"}, {"::", "unspecified"}, {"0.1.2.3", "unspecified"},
		{"224.0.0.1", "multicast"}, {"ff02::1", "multicast"},
		{"255.255.255.255", "broadcast"}, {"240.0.0.1", "reserved"},
		{"::ffff:127.0.0.1", "loopback"}, {"::ffff:10.0.0.1", "private"},
		{"64:ff9b::7f00:1", "loopback (through NAT64)"}, {"2002:a00:1::", "private (through 6to4)"},
		{"8.8.8.8", ""}, {"172.32.0.1", ""}, {"100.128.0.1", ""}, {"2001:4860::8888", ""}, {"203.0.113.9", ""},
	}
	for _, tt := range tests {
		if got := addrClass(netip.MustParseAddr(tt.ip)); got != tt.class {
			t.Errorf("addrClass(%s) = %q, want %q", tt.ip, got, tt.class)
		}
	}
}

// TestETagCache: the second Fetch of a URL asks with If-None-Match and a
// 304 answers it from the cache, so the body is sent once; a change is
// read again.
func TestETagCache(t *testing.T) {
	var mu sync.Mutex
	body, etag := "v1 body", `"v1"`
	var hits, bodies int
	var lastINM string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		lastINM = r.Header.Get("If-None-Match")
		if r.URL.Path == "/no-etag" {
			io.WriteString(w, "plain")
			bodies++
			return
		}
		if lastINM == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		io.WriteString(w, body)
		bodies++
	}))
	defer srv.Close()
	m, _ := newMux(t, Config{Allow: []AllowRule{{Host: "127.0.0.1:1-65535"}}})
	ctx := context.Background()
	fetch := func(want string) {
		t.Helper()
		got, err := m.Fetch(ctx, srv.URL+"/catalog-info.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("fetched %q, want %q", got, want)
		}
	}
	fetch("v1 body")
	if hits != 1 || bodies != 1 || lastINM != "" {
		t.Fatalf("first fetch: %d hits, %d bodies, If-None-Match %q", hits, bodies, lastINM)
	}
	fetch("v1 body")
	if hits != 2 || bodies != 1 || lastINM != `"v1"` {
		t.Fatalf("second fetch: %d hits, %d bodies, If-None-Match %q; want 2 hits, 1 body, \"v1\"", hits, bodies, lastINM)
	}
	// What a caller does to the bytes does not reach the cache.
	got, _ := m.Fetch(ctx, srv.URL+"/catalog-info.yaml")
	got[0] = 'X'
	fetch("v1 body")
	mu.Lock()
	body, etag = "v2 body", `"v2"`
	mu.Unlock()
	fetch("v2 body")
	if bodies != 2 {
		t.Errorf("%d bodies after a change, want 2", bodies)
	}
	// Without an ETag nothing is cached, and no If-None-Match is sent.
	for range 2 {
		if _, err := m.Fetch(ctx, srv.URL+"/no-etag"); err != nil {
			t.Fatal(err)
		}
		if lastINM != "" {
			t.Errorf("If-None-Match %q for a file without an ETag", lastINM)
		}
	}
	// ReadURL reports the 304 itself.
	if _, err := m.ReadURL(ctx, srv.URL+"/catalog-info.yaml", Options{ETag: `"v2"`}); !errors.Is(err, ErrNotModified) {
		t.Errorf("ReadURL with the current ETag: %v", err)
	}
}

func TestETagCacheBounds(t *testing.T) {
	c := newETagCache(2, 100)
	c.put("a", "1", []byte("aa"))
	c.put("b", "1", []byte("bb"))
	c.get("a") // a is now the most recent
	c.put("c", "1", []byte("cc"))
	if _, ok := c.get("b"); ok {
		t.Error("the least recently used entry was kept")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a recently used entry was evicted")
	}
	c.put("big", "1", make([]byte, 30)) // over a quarter of the bytes: not kept
	if _, ok := c.get("big"); ok || c.len() != 2 {
		t.Errorf("a large entry was kept (%d entries)", c.len())
	}
	c2 := newETagCache(10, 100)
	for i := range 10 {
		c2.put(fmt.Sprint(i), "1", make([]byte, 20))
	}
	if c2.len() != 5 || c2.bytes != 100 {
		t.Errorf("%d entries, %d bytes; want 5, 100", c2.len(), c2.bytes)
	}
}

type fakeReader struct {
	host  string
	urls  []string
	trees []string
}

func (f *fakeReader) Host() string { return f.host }
func (f *fakeReader) ReadURL(_ context.Context, u *url.URL, o Options) (*File, error) {
	f.urls = append(f.urls, u.String())
	return &File{Data: []byte("from " + f.host), ETag: "e1"}, nil
}
func (f *fakeReader) ReadTree(_ context.Context, u *url.URL, o Options) (*Tree, error) {
	f.trees = append(f.trees, u.String())
	if o.ETag == "sha1" {
		return nil, ErrNotModified
	}
	return &Tree{ETag: "sha1", Files: []TreeFile{{Path: "mkdocs.yml", Data: []byte("site_name: x")}}}, nil
}

// TestIntegrationDispatch: the reader for a URL's host (with its port)
// answers, before and instead of the fetch fallback.
func TestIntegrationDispatch(t *testing.T) {
	tg := newTarget(t)
	gitea := &fakeReader{host: "127.0.0.1:" + tg.port}
	shadow := &fakeReader{host: "127.0.0.1:" + tg.port}
	gh := &fakeReader{host: "GitHub.com"}
	m, dials := newMux(t, Config{Readers: []HostReader{gitea, shadow, gh}, Allow: []AllowRule{{Host: "github.com"}, {Host: "127.0.0.1:1-65535"}}})
	ctx := context.Background()
	f, err := m.ReadURL(ctx, "http://127.0.0.1:"+tg.port+"/o/r/src/branch/main/catalog-info.yaml", Options{})
	if err != nil || string(f.Data) != "from 127.0.0.1:"+tg.port {
		t.Fatalf("%v %v", f, err)
	}
	if len(gitea.urls) != 1 || len(shadow.urls) != 0 {
		t.Errorf("first match did not win: %v %v", gitea.urls, shadow.urls)
	}
	if _, err := m.ReadURL(ctx, "https://github.com/o/r/blob/main/x.yaml", Options{}); err != nil || len(gh.urls) != 1 {
		t.Errorf("github.com: %v %v", err, gh.urls)
	}
	if _, err := m.ReadURL(ctx, "https://github.com:443/o/r/blob/main/x.yaml", Options{}); err != nil || len(gh.urls) != 2 {
		t.Errorf("github.com with its default port: %v %v", err, gh.urls)
	}
	tr, err := m.ReadTree(ctx, "https://github.com/o/r/tree/main/docs", Options{})
	if err != nil || tr.ETag != "sha1" || len(gh.trees) != 1 {
		t.Errorf("tree: %v %v", tr, err)
	}
	if _, err := m.ReadTree(ctx, "https://github.com/o/r/tree/main/docs", Options{ETag: "sha1"}); !errors.Is(err, ErrNotModified) {
		t.Errorf("unchanged tree: %v", err)
	}
	// Another port on the same address is not the integration's.
	if _, err := m.ReadTree(ctx, "http://127.0.0.1:1/o/r", Options{}); !errors.Is(err, ErrNoTreeReader) ||
		!strings.Contains(err.Error(), "FetchUrlReader does not implement readTree") || !strings.Contains(err.Error(), "configure an integration for 127.0.0.1:1") {
		t.Errorf("tree without an integration: %v", err)
	}
	if _, err := m.ReadTree(ctx, "https://gitlab.com/o/r", Options{}); !strings.Contains(fmt.Sprint(err), backstageMsg) {
		t.Errorf("tree on an unknown host: %v", err)
	}
	// The integration's host was never dialled by the fallback.
	if tg.accepted.Load() != 0 || len(dials.nonLoopback()) != 0 {
		t.Errorf("the fallback connected: %d, %v", tg.accepted.Load(), dials.nonLoopback())
	}
	if err := m.Allowed(&url.URL{Scheme: "http", Host: "127.0.0.1:" + tg.port, Path: "/x"}); err != nil {
		t.Errorf("Allowed(integration host): %v", err)
	}
	if err := m.Allowed(&url.URL{Scheme: "https", Host: "gitlab.com", Path: "/x"}); !strings.Contains(fmt.Sprint(err), backstageMsg) {
		t.Errorf("Allowed(unknown): %v", err)
	}
	if err := m.Allowed(&url.URL{Scheme: "http", Host: "10.0.0.1", Path: "/x"}); err == nil {
		t.Error("Allowed(10.0.0.1) with no rule")
	}
}

func TestStatusesAndLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/boom":
			http.Error(w, "no", http.StatusInternalServerError)
		case "/big":
			w.Write(make([]byte, 2048))
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	m, _ := newMux(t, Config{Allow: []AllowRule{{Host: "127.0.0.1:1-65535"}}, MaxBytes: 1024})
	ctx := context.Background()
	_, err := m.ReadURL(ctx, srv.URL+"/missing", Options{})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) || err.Error() != srv.URL+"/missing does not exist" {
		t.Errorf("404: %v", err)
	}
	if _, err := m.ReadURL(ctx, srv.URL+"/boom", Options{}); err == nil || err.Error() != "could not read "+srv.URL+"/boom, 500 Internal Server Error" {
		t.Errorf("500: %v", err)
	}
	if _, err := m.ReadURL(ctx, srv.URL+"/big", Options{}); err == nil || err.Error() != srv.URL+"/big is larger than the 1024 bytes limit" {
		t.Errorf("too big: %v", err)
	}
	if _, err := m.ReadURL(ctx, srv.URL+"/loop", Options{}); err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
		t.Errorf("redirect loop: %v", err)
	}
	if _, err := m.ReadURL(ctx, "ftp://example.com/x", Options{}); err == nil || !strings.Contains(err.Error(), "only http and https URLs can be read") {
		t.Errorf("ftp: %v", err)
	}
	if _, err := m.ReadURL(ctx, "http:///x", Options{}); err == nil || !strings.Contains(err.Error(), "has no host") {
		t.Errorf("no host: %v", err)
	}
}

// TestNoSecretsInErrors: user info and query strings never reach a message.
func TestNoSecretsInErrors(t *testing.T) {
	const secret = "s3cr3t-T0KEN"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	m, _ := newMux(t, Config{Allow: []AllowRule{{Host: host}}})
	ctx := context.Background()
	for _, u := range []string{
		"http://user:" + secret + "@" + host + "/missing?token=" + secret,
		"http://user:" + secret + "@" + host + "/boom?access_token=" + secret + "#" + secret,
		"http://user:" + secret + "@elsewhere.example/x?token=" + secret,
		"http://" + host + "/%zz?token=" + secret,
		"http://user:" + secret + "@0x7f000001:1/x?token=" + secret,
		"gopher://user:" + secret + "@x/?t=" + secret,
	} {
		_, err := m.ReadURL(ctx, u, Options{})
		if err == nil {
			t.Fatalf("%s: no error", u)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks the secret: %v", err)
		}
		if _, err := m.Fetch(ctx, u); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Fetch error leaks the secret: %v", err)
		}
	}
}

// TestPluginTransport: trusted integration hosts are reached even on
// loopback; anything else, a redirect from a trusted host included, is
// admitted like a read and address-checked.
func TestPluginTransport(t *testing.T) {
	tg := newTarget(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "upstream")
	}))
	defer up.Close()
	upHost := strings.TrimPrefix(up.URL, "http://")
	m, dials := newMux(t, Config{Allow: []AllowRule{{Host: "*.test:" + tg.port}}})
	c := &http.Client{Transport: m.PluginTransport([]string{upHost})}
	resp, err := c.Get(up.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "upstream" {
		t.Errorf("trusted host: %q", b)
	}
	for _, to := range []string{
		"http://127.0.0.1:" + tg.port + "/x",
		"http://0x7f000001:" + tg.port + "/x",
		"http://evil.test:" + tg.port + "/x",
		"http://db.internal.test:" + tg.port + "/x",
	} {
		for _, u := range []string{to, up.URL + "/r?to=" + url.QueryEscape(to)} {
			_, err := c.Get(u)
			var na *NotAllowedError
			if !errors.As(err, &na) {
				t.Errorf("%s: got %v, want a refusal", u, err)
			}
		}
	}
	if n := tg.accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the listener", n)
	}
	if d := dials.nonLoopback(); len(d) != 0 {
		t.Errorf("tried to connect to %v", d)
	}
}
