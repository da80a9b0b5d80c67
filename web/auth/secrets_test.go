package auth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Nothing secret is written anywhere: the session database (with its
// WAL), the audit events and the log hold no raw session ID, ID token,
// access token, authorization code, client secret or static token, after
// a sign-in, failed sign-ins, token use, a refresh and a sign-out.
func TestNoSecretsAtRest(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	resp := p.signIn(c, "/")
	rawSession := sessionCookie(resp).Value
	// Failures log and audit too: a wrong state, and a bad token.
	other := p.client()
	cb := p.begin(other, "/")
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", "x")
	u.RawQuery = q.Encode()
	p.callback(other, u.String())
	p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + testStaticToken})
	p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + testStaticToken + "x"})
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/auth/oidc/refresh", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var refreshed struct {
		BackstageIdentity struct{ Token string } `json:"backstageIdentity"`
	}
	json.NewDecoder(r2.Body).Decode(&refreshed)
	r2.Body.Close()
	p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + refreshed.BackstageIdentity.Token + "tampered"})
	// The database is read before sign-out, while the session row exists.
	var stored []byte
	matches, _ := filepath.Glob(p.dbPath + "*")
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, b...)
	}
	if !strings.Contains(string(stored), sessionKey(rawSession)) {
		t.Fatal("the session's hash is not in the database files: the search would prove nothing")
	}
	out, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/logout", nil)
	out.Header.Set("Sec-Fetch-Site", "same-origin")
	if r3, err := c.Do(out); err == nil {
		r3.Body.Close()
	}

	events, _ := json.Marshal(p.audit.list())
	logs := p.logs.String()
	if !strings.Contains(logs, "state mismatch") || !strings.Contains(string(events), "auth-logout") {
		t.Fatalf("nothing was logged or audited: logs %q", logs)
	}
	p.idp.mu.Lock()
	secrets := map[string]string{"session ID": rawSession, "client secret": testClientSecret, "static token": testStaticToken, "user token": refreshed.BackstageIdentity.Token}
	for i, tok := range p.idp.issuedTokens {
		secrets["provider token "+string(rune('a'+i))] = tok
	}
	for i, code := range p.idp.issuedCodes {
		secrets["authorization code "+string(rune('a'+i))] = code
	}
	p.idp.mu.Unlock()
	for name, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to search for: %q", name, s)
		}
		for where, text := range map[string]string{"session database": string(stored), "audit events": string(events), "log": logs} {
			if strings.Contains(text, s) {
				t.Errorf("the %s holds the %s", where, name)
			}
		}
	}
}
