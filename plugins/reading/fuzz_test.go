package reading

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzAllowRule throws rule hosts, paths and URLs at the parsers: nothing
// panics, canonical hosts are stable, and a rule that admits a URL admits
// its canonical form too (matching and dialling see the same host).
func FuzzAllowRule(f *testing.F) {
	for _, s := range [][3]string{
		{"example.com", "", "https://example.com/a"},
		{"*.example.com:8000-9000", "/docs", "http://a.example.com:8080/docs/x"},
		{"prod.*.example.com", "", "https://prod.x.example.com/"},
		{"127.0.0.1:8080", "", "http://0x7f000001:8080/"},
		{"[::1]:3000", "/", "http://[::ffff:127.0.0.1]:3000/"},
		{"*.0.0.1", "", "http://127.1/"},
		{"localhost", "/a/", "http://LOCALHOST/a/../b"},
		{"x.com:1-", "", "http://2130706433/"},
		{"0177.0.0.01", "", "http://0177.0.0.1./"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, host, p, raw string) {
		var paths []string
		if p != "" {
			paths = []string{p}
		}
		r, ruleErr := parseRule(AllowRule{Host: host, Paths: paths})
		if c, err := canonicalHost(host); err == nil {
			if again, err := canonicalHost(c); err != nil || again != c {
				t.Fatalf("canonicalHost(%q) = %q, then %q, %v", host, c, again, err)
			}
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		cu, err := canonicalURL(u)
		if err != nil {
			return
		}
		if c, err := canonicalHost(strings.Trim(hostOnly(cu.Host), "[]")); err != nil || c != hostOnly(cu.Host) {
			t.Fatalf("canonical URL host %q is not canonical: %q, %v", cu.Host, c, err)
		}
		if ruleErr != nil {
			return
		}
		m := r.matches(cu)
		again, err := canonicalURL(cu)
		if err != nil {
			t.Fatalf("a canonical URL %q does not parse again: %v", cu, err)
		}
		if r.matches(again) != m {
			t.Fatalf("rule %q matches %q and its canonical form differently", host, raw)
		}
	})
}
