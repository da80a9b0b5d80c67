package plugins

import (
	"strings"
	"unicode/utf8"
)

// Scrub replaces every non-empty secret in s with "***". It is for text an
// upstream sends back (an API error's message, a transport error), which
// may echo a credential the plugin sent.
func Scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// UpstreamMessage makes an upstream's message fit an error: its secrets
// are scrubbed first, then it is cut to at most max bytes on a rune
// boundary, the cut marked with "…". Scrubbing before cutting matters: a
// secret cut in half would no longer match, and its first half would show.
func UpstreamMessage(s string, max int, secrets ...string) string {
	s = Scrub(s, secrets...)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
