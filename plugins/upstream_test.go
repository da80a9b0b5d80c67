package plugins

import "testing"

func TestUpstreamMessage(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		secrets []string
		want    string
	}{
		{"short", "Not Found", 300, nil, "Not Found"},
		{"exactly max", "abcde", 5, nil, "abcde"},
		{"cut", "abcdefgh", 5, nil, "abcde…"},
		{"cut on a rune boundary", "ab€cd", 3, nil, "ab…"}, // € is 3 bytes: byte 3 is inside it
		{"secret scrubbed", "bad token tok123 given", 300, []string{"tok123"}, "bad token *** given"},
		{"every secret, every time", "u:pw pw tok", 300, []string{"pw", "tok"}, "u:*** *** ***"},
		{"empty secret ignored", "abc", 300, []string{""}, "abc"},
		// a secret across the cut must not leave its first half behind
		{"secret across the cut", "xxxxxtok123secret", 8, []string{"tok123secret"}, "xxxxx***"},
		{"secret after the cut", "0123456789tok123", 6, []string{"tok123"}, "012345…"},
	}
	for _, tc := range tests {
		if got := UpstreamMessage(tc.in, tc.max, tc.secrets...); got != tc.want {
			t.Errorf("%s: UpstreamMessage(%q, %d) = %q, want %q", tc.name, tc.in, tc.max, got, tc.want)
		}
	}
}

func TestScrub(t *testing.T) {
	if got := Scrub(`Get "https://x/?t=tok": dial`, "tok", ""); got != `Get "https://x/?t=***": dial` {
		t.Fatalf("Scrub = %q", got)
	}
}
