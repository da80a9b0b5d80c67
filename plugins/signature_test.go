package plugins

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestValidHMACSHA256(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	// a well-formed signature of nothing in particular
	const other = "a28b1bf3b5c9a2f3d7f2d1a3ff1fbd7ccf5a4f77ff0ae6c1ae2ea2d1d3ff0b4d"
	sig := hmacHex("s3cret", body)
	tests := []struct {
		name, secret, sig string
		body              []byte
		want              bool
	}{
		{"valid", "s3cret", sig, body, true},
		{"upper-case hex", "s3cret", strings.ToUpper(sig), body, true},
		{"spaces around", "s3cret", " " + sig + "\n", body, true},
		{"other body", "s3cret", sig, []byte(`{"ref":"refs/heads/evil"}`), false},
		{"other secret", "s3cre", sig, body, false},
		{"no secret", "", hmacHex("", body), body, false},
		{"empty signature", "s3cret", "", body, false},
		{"truncated", "s3cret", sig[:32], body, false},
		{"not hex", "s3cret", "zz" + sig[2:], body, false},
		{"prefixed", "s3cret", "sha256=" + sig, body, false},
		{"unrelated digest", "s3cret", other, body, false},
	}
	for _, tc := range tests {
		if got := ValidHMACSHA256(tc.secret, tc.body, tc.sig); got != tc.want {
			t.Errorf("%s: ValidHMACSHA256 = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestValidHMACSHA256Known pins the algorithm to an independently
// computed value (RFC 4231 test case 2).
func TestValidHMACSHA256Known(t *testing.T) {
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if !ValidHMACSHA256("Jefe", []byte("what do ya want for nothing?"), want) {
		t.Fatal("RFC 4231 test case 2 refused")
	}
}
