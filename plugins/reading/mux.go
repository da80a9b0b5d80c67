package reading

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Mux.
type Config struct {
	// Readers are the integrations' readers, matched on the URL's host
	// (with its port, case-insensitively); the first match wins.
	Readers []HostReader
	// Allow is backend.reading.allow: the URLs that hosts no integration
	// answers for may be read from with a plain GET.
	Allow []AllowRule
	// AllowPrivate is greenroom.reading.allowPrivateAddresses: CIDR
	// prefixes or single addresses the plain GET may connect to although
	// they are loopback, private, link-local or otherwise internal.
	AllowPrivate []string
	// MaxBytes bounds one read (default 20 MiB); more is an error.
	MaxBytes int64
	// Timeout bounds one read (default 30 s).
	Timeout time.Duration
	// Resolver resolves host names for the plain GET (default: the
	// system's). Tests map names to addresses with it.
	Resolver Resolver
	// Dial opens connections (default: a net.Dialer). The plain GET hands
	// it only checked "ip:port" addresses; PluginTransport's trusted hosts
	// are dialled by name.
	Dial DialFunc
	// CacheEntries and CacheBytes bound Fetch's ETag cache (defaults 512
	// entries, 64 MiB).
	CacheEntries int
	CacheBytes   int64
}

const (
	defaultMaxBytes     = 20 << 20
	defaultTimeout      = 30 * time.Second
	defaultCacheEntries = 512
	defaultCacheBytes   = 64 << 20
	maxRedirects        = 5
)

// ErrNoTreeReader is the fetch fallback's answer to ReadTree: a plain GET
// cannot list a directory, so trees need an integration.
var ErrNoTreeReader = errors.New("FetchUrlReader does not implement readTree")

// Mux is Greenroom's UrlReader: integration readers by host, then a plain
// GET for what backend.reading.allow admits, through a dialer that checks
// the address of every connection.
type Mux struct {
	readers     []HostReader
	readerHosts []string // normalised Host() of each reader
	rules       []rule
	guard       *guard
	dial        DialFunc
	maxBytes    int64
	timeout     time.Duration
	safe        http.RoundTripper // the transport dialling through the guard
	checked     http.RoundTripper // allow rules, then safe
	client      *http.Client
	cache       *etagCache
}

// New builds a Mux, checking every rule and address prefix.
func New(c Config) (*Mux, error) {
	m := &Mux{readers: c.Readers, maxBytes: c.MaxBytes, timeout: c.Timeout}
	if m.maxBytes <= 0 {
		m.maxBytes = defaultMaxBytes
	}
	if m.timeout <= 0 {
		m.timeout = defaultTimeout
	}
	for i, r := range c.Readers {
		if r == nil {
			return nil, fmt.Errorf("reader %d is nil", i)
		}
		h, err := normalizeHostPort(r.Host())
		if err != nil {
			return nil, fmt.Errorf("reader %d host %q: %w", i, r.Host(), err)
		}
		m.readerHosts = append(m.readerHosts, h)
	}
	g := &guard{resolver: c.Resolver, dial: c.Dial, explicit: map[string]bool{}}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if g.dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		g.dial = d.DialContext
	}
	m.dial = g.dial
	for i, a := range c.Allow {
		r, err := parseRule(a)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", AllowKey, i, err)
		}
		m.rules = append(m.rules, r)
		if r.explicit {
			g.explicit[r.exact] = true
		}
	}
	for i, s := range c.AllowPrivate {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", PrivateKey, i, err)
		}
		g.private = append(g.private, p)
	}
	m.guard = g
	m.safe = m.transport(g.dialContext)
	m.checked = &ruleTripper{m: m, next: m.safe}
	m.client = &http.Client{Transport: m.checked, CheckRedirect: m.checkRedirect, Timeout: m.timeout}
	entries, bytes := c.CacheEntries, c.CacheBytes
	if entries <= 0 {
		entries = defaultCacheEntries
	}
	if bytes <= 0 {
		bytes = defaultCacheBytes
	}
	m.cache = newETagCache(entries, bytes)
	return m, nil
}

func (m *Mux) transport(dial DialFunc) *http.Transport {
	return &http.Transport{
		// No proxy: a proxy would make the dialer check the proxy's address
		// instead of the target's.
		Proxy:                 nil,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: m.timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
}

// Client is the client the fetch fallback reads with: every request and
// every redirect must be admitted by backend.reading.allow, at most five
// redirects are followed, and connections go only to checked addresses.
// It is shared; do not modify it.
func (m *Mux) Client() *http.Client { return m.client }

// ReadURL reads a file from its browser URL.
func (m *Mux) ReadURL(ctx context.Context, rawURL string, o Options) (*File, error) {
	u, err := parseReadURL(rawURL)
	if err != nil {
		return nil, err
	}
	r, err := m.policy(u)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	if r != nil {
		f, err := r.ReadURL(ctx, u, o)
		if err != nil {
			return nil, err
		}
		if int64(len(f.Data)) > m.maxBytes {
			return nil, fmt.Errorf("%s is larger than the %s limit", redactURL(u), sizeText(m.maxBytes))
		}
		return f, nil
	}
	return m.fetch(ctx, u, o)
}

// ReadTree reads a directory (a repository or tree URL); only
// integrations can.
func (m *Mux) ReadTree(ctx context.Context, rawURL string, o Options) (*Tree, error) {
	u, err := parseReadURL(rawURL)
	if err != nil {
		return nil, err
	}
	r, err := m.policy(u)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%w: %s is admitted by %s, whose plain fetch cannot read directories; configure an integration for %s (integrations.github, integrations.gitlab or integrations.gitea) to read trees from it",
			ErrNoTreeReader, redactURL(u), AllowKey, u.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	return r.ReadTree(ctx, u, o)
}

// Fetch reads a URL's bytes, the catalog's Fetcher. It remembers the
// ETag of what it read (a bounded number of entries) and asks with
// If-None-Match next time, so an unchanged file is not downloaded again.
func (m *Mux) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	prev, cached := m.cache.get(rawURL)
	var o Options
	if cached {
		o.ETag = prev.etag
	}
	f, err := m.ReadURL(ctx, rawURL, o)
	switch {
	case errors.Is(err, ErrNotModified) && cached:
		return append([]byte(nil), prev.data...), nil
	case err != nil:
		m.cache.remove(rawURL)
		return nil, err
	}
	if f.ETag != "" {
		m.cache.put(rawURL, f.ETag, f.Data)
	} else {
		m.cache.remove(rawURL)
	}
	return f.Data, nil
}

// Allowed is the policy decision for a URL without reading it: nil if an
// integration answers for its host, or if backend.reading.allow admits it
// and it does not name a refused address literally. Host names are not
// resolved here; the dialer checks what they resolve to when read.
func (m *Mux) Allowed(u *url.URL) error {
	if u == nil {
		return errors.New("no URL")
	}
	c, err := parseReadURL(u.String())
	if err != nil {
		return err
	}
	_, err = m.policy(c)
	return err
}

// PluginTransport is the transport for plugins' calls to their upstreams.
// Connections to the trusted hosts (host[:port] of configured
// integrations, chosen by the admin, possibly on 127.0.0.1) are not
// address-checked; any other destination, a redirect target included,
// must be admitted like a read (an integration host or backend.reading.
// allow) and is dialled through the address check.
func (m *Mux) PluginTransport(trustedHosts []string) http.RoundTripper {
	t := &pluginTripper{trusted: map[string]bool{}, checked: &ruleTripper{m: m, plugin: true, next: m.safe}, plain: m.transport(m.dial)}
	for _, h := range trustedHosts {
		if n, err := normalizeHostPort(h); err == nil {
			t.trusted[n] = true
			// URLs leave out default ports, so "host:443" is asked as "host".
			if b, ok := strings.CutSuffix(n, ":443"); ok {
				t.trusted[b] = true
			} else if b, ok := strings.CutSuffix(n, ":80"); ok {
				t.trusted[b] = true
			}
		}
	}
	return t
}

// policy decides how a canonical URL is read: by an integration reader,
// by the plain GET (nil reader), or not at all.
func (m *Mux) policy(u *url.URL) (HostReader, error) {
	key := urlHostKey(u)
	for i, h := range m.readerHosts {
		if h == key {
			return m.readers[i], nil
		}
	}
	return nil, m.checkFetch(u)
}

// checkFetch admits a canonical URL for the plain GET: a rule must match,
// and a host that is an address literal must be an allowed address (so a
// literal is refused before any connection is tried).
func (m *Mux) checkFetch(u *url.URL) error {
	if !m.ruleAllows(u) {
		return notAllowed(u)
	}
	host := hostOnly(u.Host)
	if ip, ok, _ := hostAddr(host); ok {
		if err := m.guard.permitted(host, ip); err != nil {
			return &NotAllowedError{URL: redactURL(u), Reason: fmt.Sprintf("Reading from '%s' is not allowed: %v", redactURL(u), err)}
		}
	}
	return nil
}

func (m *Mux) ruleAllows(u *url.URL) bool {
	for _, r := range m.rules {
		if r.matches(u) {
			return true
		}
	}
	return false
}

func notAllowed(u *url.URL) *NotAllowedError {
	s := redactURL(u)
	return &NotAllowedError{URL: s, Reason: fmt.Sprintf("Reading from '%s' is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at '%s'", s, AllowKey)}
}

func (m *Mux) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	u, err := canonicalURL(req.URL)
	if err != nil {
		return err
	}
	if err := m.checkFetch(u); err != nil {
		var na *NotAllowedError
		if errors.As(err, &na) && len(via) > 0 {
			na.Reason += fmt.Sprintf(" (redirected to from '%s')", redactURL(via[0].URL))
		}
		return err
	}
	return nil
}

func (m *Mux) fetch(ctx context.Context, u *url.URL, o Options) (*File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %w", redactURL(u), err)
	}
	req.URL = u
	req.Host = ""
	req.Header.Set("User-Agent", "Greenroom")
	if o.ETag != "" {
		req.Header.Set("If-None-Match", o.ETag)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, m.transportErr(ctx, u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, ErrNotModified
	case resp.StatusCode == http.StatusNotFound:
		return nil, &NotFoundError{URL: redactURL(u)}
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("could not read %s, %d %s", redactURL(u), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if resp.ContentLength > m.maxBytes {
		return nil, fmt.Errorf("%s is larger than the %s limit", redactURL(u), sizeText(m.maxBytes))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, m.maxBytes+1))
	if err != nil {
		return nil, m.transportErr(ctx, u, err)
	}
	if int64(len(data)) > m.maxBytes {
		return nil, fmt.Errorf("%s is larger than the %s limit", redactURL(u), sizeText(m.maxBytes))
	}
	return &File{Data: data, ETag: resp.Header.Get("ETag")}, nil
}

// transportErr turns a client error into one that names the URL without
// its credentials or query.
func (m *Mux) transportErr(ctx context.Context, u *url.URL, err error) error {
	var na *NotAllowedError
	if errors.As(err, &na) {
		return na
	}
	var ar *addrRefusal
	if errors.As(err, &ar) {
		s := redactURL(u)
		return &NotAllowedError{URL: s, Reason: fmt.Sprintf("Reading from '%s' is not allowed: %v", s, ar)}
	}
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("could not read %s: no answer within %s", redactURL(u), m.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("could not read %s: %v", redactURL(u), err)
}

// ruleTripper admits each request (the first and every redirect) by the
// policy before passing it on to the address-checking transport.
type ruleTripper struct {
	m      *Mux
	plugin bool // integration hosts count as admitted too
	next   http.RoundTripper
}

func (t *ruleTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	u, err := canonicalURL(req.URL)
	if err == nil {
		if t.plugin {
			_, err = t.m.policy(u)
		} else {
			err = t.m.checkFetch(u)
		}
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		var ar *addrRefusal
		if errors.As(err, &ar) {
			s := redactURL(u)
			return nil, &NotAllowedError{URL: s, Reason: fmt.Sprintf("Reading from '%s' is not allowed: %v", s, ar)}
		}
	}
	return resp, err
}

// pluginTripper sends requests for trusted hosts straight on and checks
// every other one.
type pluginTripper struct {
	trusted map[string]bool
	checked http.RoundTripper
	plain   http.RoundTripper
}

func (t *pluginTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if u, err := canonicalURL(req.URL); err == nil && t.trusted[urlHostKey(u)] {
		return t.plain.RoundTrip(req)
	}
	return t.checked.RoundTrip(req)
}

// parseReadURL parses a URL to read: http or https with a host, the host
// canonical (lower case, numeric IPv4 spellings in dotted form).
func parseReadURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL", redactRaw(raw))
	}
	return canonicalURL(u)
}

func canonicalURL(in *url.URL) (*url.URL, error) {
	u := *in
	if in.User != nil {
		ui := *in.User
		u.User = &ui
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		s := redactURL(&u)
		return nil, &NotAllowedError{URL: s, Reason: fmt.Sprintf("Reading from '%s' is not allowed: only http and https URLs can be read", s)}
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%s is not a valid URL: it has no host", redactURL(&u))
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL: %w", redactURL(&u), err)
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return nil, fmt.Errorf("%s is not a valid URL: %w", redactURL(&u), err)
		}
		host += ":" + p
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%s is not a valid URL: empty port", redactURL(&u))
	}
	u.Host = host
	return &u, nil
}

// urlHostKey is the host an integration is matched on: Backstage's
// url.host, which leaves out a default port.
func urlHostKey(u *url.URL) string {
	h := hostOnly(u.Host)
	if p := urlPort(u); p != "" {
		return h + ":" + p
	}
	return h
}

// normalizeHostPort canonicalises "host[:port]" as integrations and
// trusted hosts are configured.
func normalizeHostPort(s string) (string, error) {
	s = strings.TrimSpace(s)
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 {
		return "", fmt.Errorf("invalid host")
	}
	c, err := canonicalHost(host)
	if err != nil {
		return "", err
	}
	if port != "" {
		return c + ":" + port, nil
	}
	return c, nil
}

// redactURL is a URL fit for messages: no user info, no query (tokens
// travel there), no fragment.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

// redactRaw does what redactURL does for a string that does not parse.
func redactRaw(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		end := strings.IndexAny(rest, "/")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			raw = raw[:i+3] + rest[at+1:]
		}
	}
	if len(raw) > 200 {
		raw = raw[:200] + "…"
	}
	return fmt.Sprintf("%q", raw)
}

func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// The system resolver is the default Resolver.
var _ Resolver = (*net.Resolver)(nil)
