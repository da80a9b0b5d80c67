package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// flowTTL is how long a sign-in may take between start and callback
// (Backstage's nonce cookie lives 10 minutes).
const flowTTL = 10 * time.Minute

// flowState is what the start of a sign-in leaves in the flow cookie for
// its callback: the state and nonce it sent, the PKCE verifier, and where
// to return. The cookie is HMAC-signed, so it cannot be forged or edited.
type flowState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Env      string `json:"e"`
	Return   string `json:"r"`
	Expires  int64  `json:"x"`
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *Auth) sealFlow(f flowState) (string, error) {
	body, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(a.flowMAC(p)), nil
}

func (a *Auth) flowMAC(payload string) []byte {
	m := hmac.New(sha256.New, a.flowKey)
	m.Write([]byte("greenroom oidc flow\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var errFlow = errors.New("the sign-in could not be verified")

// openFlow checks the flow cookie's signature and age.
func (a *Auth) openFlow(v string) (flowState, error) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return flowState{}, fmt.Errorf("%w: malformed flow cookie", errFlow)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, a.flowMAC(p)) {
		return flowState{}, fmt.Errorf("%w: the flow cookie's signature does not match", errFlow)
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return flowState{}, fmt.Errorf("%w: malformed flow cookie", errFlow)
	}
	var f flowState
	if err := json.Unmarshal(body, &f); err != nil {
		return flowState{}, fmt.Errorf("%w: malformed flow cookie", errFlow)
	}
	if a.now().Unix() > f.Expires {
		return flowState{}, fmt.Errorf("%w: the sign-in took longer than %s", errFlow, flowTTL)
	}
	return f, nil
}

// usedFlows remembers completed sign-ins until their flow cookie expires,
// so a captured callback (cookie, state and code) cannot be replayed even
// against a provider that accepts a code twice.
type usedFlows struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// claim reports whether state is used for the first time, and marks it.
func (u *usedFlows) claim(state string, expires, now time.Time) bool {
	h := sha256.Sum256([]byte(state))
	k := string(h[:])
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]time.Time{}
	}
	for s, exp := range u.seen {
		if now.After(exp) {
			delete(u.seen, s)
		}
	}
	if _, dup := u.seen[k]; dup {
		return false
	}
	u.seen[k] = expires
	return true
}

// ReturnPath validates a return-to URL: it must be a path inside the
// portal ("/catalog?kind=api"). Absolute URLs, scheme-relative "//host",
// "/\host", backslashes anywhere, control characters (browsers drop tabs
// and newlines, turning "/\t/host" into "//host") and encoded slashes at
// the start are refused. "" is "/".
func ReturnPath(s string) (string, error) {
	if s == "" {
		return "/", nil
	}
	if len(s) > 2048 {
		return "", errors.New("the return URL is too long")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", errors.New("the return URL must be a path inside the portal")
		}
	}
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return "", errors.New("the return URL must be a path inside the portal")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", errors.New("the return URL must be a path inside the portal")
	}
	// A path that decodes to "//host" or "/\host" is refused too: a later
	// redirect that decodes it would leave the portal.
	if strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/\\") {
		return "", errors.New("the return URL must be a path inside the portal")
	}
	return s, nil
}
