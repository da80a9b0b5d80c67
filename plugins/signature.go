package plugins

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ValidHMACSHA256 reports whether sigHex is the hex-encoded HMAC-SHA256 of
// body under secret, compared in constant time: how GitHub
// (X-Hub-Signature-256, after its "sha256=" prefix) and Gitea
// (X-Gitea-Signature) sign webhook deliveries. An empty secret validates
// nothing, so a receiver that forgot its secret refuses every delivery
// rather than accepting a signature anyone can compute.
func ValidHMACSHA256(secret string, body []byte, sigHex string) bool {
	if secret == "" {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(sigHex))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
