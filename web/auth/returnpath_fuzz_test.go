package auth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnPath: whatever is accepted, resolved against the portal's URL
// as a browser would, stays on the portal.
func FuzzReturnPath(f *testing.F) {
	for _, s := range []string{"/", "/catalog?x=1", "//evil", "/\\evil", "https://evil", "/%2F/evil", "/\t/evil", "/a/../b", "/?next=//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example/")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ReturnPath(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("ReturnPath(%q) = %q", s, got)
		}
		u, err := base.Parse(got)
		if err != nil || u.Host != "portal.example" || u.Scheme != "https" || u.User != nil {
			t.Fatalf("ReturnPath(%q) = %q leaves the portal: %v", s, got, u)
		}
	})
}
