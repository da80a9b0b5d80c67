package reading

import (
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
)

// AllowKey is Backstage's configuration key for the fetch fallback's rules.
const AllowKey = "backend.reading.allow"

// AllowRule is one entry of backend.reading.allow.
type AllowRule struct {
	// Host is an exact host name or "*.suffix", optionally with ":port"
	// or ":start-end". Without a port only URLs without an explicit port
	// match; with one, a URL without a port counts as 80 (http) or 443
	// (https). IPv6 literals are written in brackets.
	Host string `yaml:"host"`
	// Paths, when set, are prefixes one of which the URL's normalised
	// path must start with (a string prefix: /docs admits /docs-private).
	Paths []string `yaml:"paths,omitempty"`
}

// rule is a parsed AllowRule.
type rule struct {
	exact    string // canonical host, or "" for a wildcard
	suffix   string // ".example.com" for *.example.com
	lo, hi   int    // port range; 0, 0: only URLs without a port
	paths    []string
	explicit bool // the host is an IP literal or localhost
}

func parseRule(r AllowRule) (rule, error) {
	host := strings.TrimSpace(r.Host)
	if host == "" {
		return rule{}, fmt.Errorf("host is required")
	}
	if strings.Contains(host, "://") || strings.ContainsAny(host, "/?#@ ") {
		return rule{}, fmt.Errorf("host %q must be a host name with an optional port, not a URL", r.Host)
	}
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.Index(host, "]")
		if end < 0 {
			return rule{}, fmt.Errorf("host %q: missing ] after the IPv6 address", r.Host)
		}
		name, port = host[:end+1], strings.TrimPrefix(host[end+1:], ":")
		if rest := host[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return rule{}, fmt.Errorf("host %q: unexpected %q after the IPv6 address", r.Host, rest)
		}
	} else if strings.Count(host, ":") > 1 {
		return rule{}, fmt.Errorf("host %q: write IPv6 addresses in brackets, e.g. [::1]:8080", r.Host)
	} else if i := strings.Index(host, ":"); i >= 0 {
		name, port = host[:i], host[i+1:]
	}
	var out rule
	if strings.HasSuffix(host, ":") {
		return rule{}, fmt.Errorf("host %q: empty port", r.Host)
	}
	if port != "" {
		lo, hi, err := parsePorts(port)
		if err != nil {
			return rule{}, fmt.Errorf("host %q: %w", r.Host, err)
		}
		out.lo, out.hi = lo, hi
	}
	name = strings.ToLower(name)
	switch {
	case strings.HasPrefix(name, "*."):
		suffix := name[1:]
		if strings.Contains(suffix, "*") {
			return rule{}, fmt.Errorf("host %q: only a leading *. wildcard is allowed (like *.example.com); patterns like prod.*.example.com are not", r.Host)
		}
		if len(suffix) < 2 || strings.HasPrefix(suffix, "..") {
			return rule{}, fmt.Errorf("host %q: the wildcard needs a domain after *.", r.Host)
		}
		out.suffix = suffix
	case strings.Contains(name, "*"):
		return rule{}, fmt.Errorf("host %q: only a leading *. wildcard is allowed (like *.example.com); patterns like prod.*.example.com are not", r.Host)
	default:
		c, err := canonicalHost(name)
		if err != nil {
			return rule{}, fmt.Errorf("host %q: %w", r.Host, err)
		}
		out.exact = c
		_, lit, _ := hostAddr(c)
		out.explicit = lit || c == "localhost"
	}
	for i, p := range r.Paths {
		if !strings.HasPrefix(p, "/") {
			return rule{}, fmt.Errorf("paths[%d] %q must start with /", i, p)
		}
		out.paths = append(out.paths, p)
	}
	return out, nil
}

func parsePorts(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = parsePort(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(b); err != nil {
			return 0, 0, err
		}
		if lo > hi {
			return 0, 0, fmt.Errorf("port range %s is empty (start above end)", s)
		}
	}
	return lo, hi, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return n, nil
}

// urlPort is the URL's explicit port as browsers keep it: a default port
// for the scheme counts as none, as in Backstage's URL objects.
func urlPort(u *url.URL) string {
	p := u.Port()
	if (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		return ""
	}
	return p
}

// normalizePath is Node's path.posix.normalize for an absolute path: a
// trailing slash is kept.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// matches applies the rule to a URL whose host is canonical.
func (r rule) matches(u *url.URL) bool {
	host := hostOnly(u.Host)
	if r.exact != "" && host != r.exact {
		return false
	}
	if r.suffix != "" && !strings.HasSuffix(host, r.suffix) {
		return false
	}
	port := urlPort(u)
	if r.lo == 0 {
		if port != "" {
			return false
		}
	} else {
		n := 0
		switch {
		case port != "":
			n, _ = strconv.Atoi(port)
		case u.Scheme == "http":
			n = 80
		case u.Scheme == "https":
			n = 443
		}
		if n < r.lo || n > r.hi {
			return false
		}
	}
	if r.paths == nil {
		return true
	}
	p := normalizePath(u.Path)
	for _, allowed := range r.paths {
		if strings.HasPrefix(p, allowed) {
			return true
		}
	}
	return false
}

// hostOnly is a Host without its port, IPv6 brackets kept.
func hostOnly(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		if i := strings.Index(hostport, "]"); i >= 0 {
			return hostport[:i+1]
		}
		return hostport
	}
	if i := strings.LastIndex(hostport, ":"); i >= 0 {
		return hostport[:i]
	}
	return hostport
}

// DecodeAllow decodes the raw configuration value of backend.reading.allow
// (a list of {host, paths?} maps; nil is an empty list) and checks every
// rule, naming the entry and field of the first problem.
func DecodeAllow(v any) ([]AllowRule, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		if m, isMaps := v.([]map[string]any); isMaps {
			for _, x := range m {
				list = append(list, x)
			}
		} else {
			return nil, fmt.Errorf("%s must be a list of {host, paths} entries, got %s", AllowKey, typeName(v))
		}
	}
	var out []AllowRule
	for i, item := range list {
		at := fmt.Sprintf("%s[%d]", AllowKey, i)
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s must be a map with host and optional paths, got %s", at, typeName(item))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var r AllowRule
		for _, k := range keys {
			switch k {
			case "host":
				s, ok := m[k].(string)
				if !ok {
					return nil, fmt.Errorf("%s.host must be a string, got %s", at, typeName(m[k]))
				}
				r.Host = s
			case "paths":
				ps, err := stringList(m[k])
				if err != nil {
					return nil, fmt.Errorf("%s.paths: %w", at, err)
				}
				r.Paths = ps
			default:
				return nil, fmt.Errorf("%s: unknown key %q (expected host and paths)", at, k)
			}
		}
		if _, err := parseRule(r); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// DecodePrivate decodes greenroom.reading.allowPrivateAddresses: a list of
// CIDR prefixes (10.0.0.0/8, fd00::/8) or single addresses (127.0.0.1).
func DecodePrivate(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, err := stringList(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PrivateKey, err)
	}
	for i, s := range list {
		if _, err := parsePrefix(s); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", PrivateKey, i, err)
		}
	}
	return list, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix like 10.0.0.0/8", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared unmapped.
			return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), nil
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR prefix like 10.0.0.0/8", s)
	}
	ip = ip.WithZone("").Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return x, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("entry %d must be a string, got %s", i, typeName(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a list of strings, got %s", typeName(v))
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return "a boolean"
	case int, int64, float64, uint64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
