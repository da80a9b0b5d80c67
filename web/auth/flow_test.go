package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestSignInFlow(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	resp := p.signIn(c, "/catalog?kind=api")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/catalog?kind=api" {
		t.Fatalf("callback: %d to %q, want 302 to /catalog?kind=api; body %s", resp.StatusCode, resp.Header.Get("Location"), bodyString(resp))
	}
	sc := sessionCookie(resp)
	if sc == nil {
		t.Fatal("no session cookie")
	}
	// The flow cookie is cleared by the callback.
	var cleared bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "greenroom-oidc-flow" && ck.MaxAge < 0 && ck.Path == "/api/auth/oidc/handler" {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("flow cookie not cleared: %v", resp.Header["Set-Cookie"])
	}
	status, who := p.whoami(c, nil)
	if status != 200 || who["kind"] != "session" || who["user"] != "user:default/jane" || who["name"] != "Jane from the catalog" || who["picture"] != "https://pics.example.com/jane.png" {
		t.Fatalf("whoami: %d %v", status, who)
	}
	if got := toStrings(who["ent"]); !slices.Equal(got, []string{"user:default/jane", "group:default/team-a"}) {
		t.Errorf("ownership = %v", got)
	}
	ok := p.audit.find(EventLogin, StatusSucceeded)
	if len(ok) != 2 || ok[1].Actor != "user:default/jane" || ok[1].Meta["actionType"] != "complete" || ok[1].Meta["providerId"] != "oidc" || ok[1].IP != "127.0.0.1" {
		t.Errorf("audit: %+v", ok)
	}
	if ok[1].URL != "/api/auth/oidc/handler/frame" {
		t.Errorf("audit URL %q must be the path only", ok[1].URL)
	}
}

func TestSessionFollowsCatalog(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	p.signIn(c, "/")
	// A new group membership shows at once: the session re-reads the entity.
	p.users.mu.Lock()
	p.users.users[0].Groups = append(p.users.users[0].Groups, "group:default/team-c")
	p.users.mu.Unlock()
	_, who := p.whoami(c, nil)
	if got := toStrings(who["ent"]); !slices.Equal(got, []string{"user:default/jane", "group:default/team-a", "group:default/team-c"}) {
		t.Errorf("ownership = %v", got)
	}
	// Removing the User entity ends the session.
	p.users.remove("user:default/jane")
	if status, _ := p.whoami(c, nil); status != http.StatusUnauthorized {
		t.Errorf("after the user left the catalog: %d, want 401", status)
	}
}

func TestTransitiveGroupOwnership(t *testing.T) {
	p := newPortal(t, func(cfg map[string]any, o *Options) { cfg["includeTransitiveGroupOwnership"] = true })
	c := p.client()
	p.signIn(c, "/")
	_, who := p.whoami(c, nil)
	// team-a → eng → org, and eng's cycle back to team-a is cut.
	if got := toStrings(who["ent"]); !slices.Equal(got, []string{"user:default/jane", "group:default/team-a", "group:default/eng", "group:default/org"}) {
		t.Errorf("ownership = %v", got)
	}
}

// Attacks on the callback: each must end without a session, with a
// failed auth-login event.
func assertRefused(t *testing.T, p *portal, c *http.Client, resp *http.Response, status int, reason string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, bodyString(resp))
	}
	if sc := sessionCookie(resp); sc != nil && sc.MaxAge >= 0 {
		t.Fatalf("a session cookie was set: %v", sc)
	}
	if st, _ := p.whoami(c, nil); st != http.StatusUnauthorized {
		t.Fatalf("whoami after a refused sign-in: %d", st)
	}
	fails := p.audit.find(EventLogin, StatusFailed)
	if len(fails) == 0 || !strings.Contains(fails[len(fails)-1].Error, reason) {
		t.Fatalf("audit failures %+v, want one with %q", fails, reason)
	}
	if !strings.Contains(bodyString(resp), "Sign-in failed") {
		t.Errorf("no error page: %s", bodyString(resp))
	}
}

func TestAttackWrongState(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	cb := p.begin(c, "/")
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", "attacker-state")
	u.RawQuery = q.Encode()
	assertRefused(t, p, c, p.callback(c, u.String()), http.StatusBadRequest, "state mismatch")
}

func TestAttackMissingState(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	cb := p.begin(c, "/")
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Del("state")
	u.RawQuery = q.Encode()
	assertRefused(t, p, c, p.callback(c, u.String()), http.StatusBadRequest, "state mismatch")
}

func TestAttackNoFlowCookie(t *testing.T) {
	// Login CSRF: the attacker's own callback URL opened in the victim's
	// browser, which never started a sign-in.
	p := newPortal(t)
	cb := p.begin(p.client(), "/")
	victim := p.client()
	assertRefused(t, p, victim, p.callback(victim, cb), http.StatusBadRequest, "missing flow cookie")
}

func TestAttackForgedFlowCookie(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	cb := p.begin(c, "/")
	u, _ := url.Parse(p.srv.URL + "/api/auth/oidc/handler")
	var val string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "greenroom-oidc-flow" {
			val = ck.Value
		}
	}
	payload, sig, _ := strings.Cut(val, ".")
	body, _ := base64.RawURLEncoding.DecodeString(payload)
	edited := strings.Replace(string(body), `"r":"/"`, `"r":"//evil.example"`, 1)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "greenroom-oidc-flow", Value: base64.RawURLEncoding.EncodeToString([]byte(edited)) + "." + sig, Path: "/api/auth/oidc/handler"}})
	assertRefused(t, p, c, p.callback(c, cb), http.StatusBadRequest, "signature does not match")
}

func TestAttackReplayedCallback(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	cb := p.begin(c, "/")
	u, _ := url.Parse(p.srv.URL + "/api/auth/oidc/handler")
	flow := c.Jar.Cookies(u)
	if resp := p.callback(c, cb); resp.StatusCode != http.StatusFound {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	// The same callback again, with the captured flow cookie, from a
	// fresh browser.
	attacker := p.client()
	attacker.Jar.SetCookies(u, flow)
	assertRefused(t, p, attacker, p.callback(attacker, cb), http.StatusBadRequest, "state already used")
}

func TestAttackReplayedNonce(t *testing.T) {
	p := newPortal(t)
	first := p.client()
	p.signIn(first, "/")
	p.idp.mu.Lock()
	captured := p.idp.issuedTokens[0]
	// The provider (or a man in the middle) answers the next exchange with
	// the ID token of the first sign-in.
	p.idp.mint = func(map[string]any) string { return captured }
	p.idp.mu.Unlock()
	c := p.client()
	assertRefused(t, p, c, p.signIn(c, "/"), http.StatusUnauthorized, "nonce mismatch")
}

func TestAttackIDTokenClaims(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c map[string]any)
		reason string
	}{
		{"another issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, "another issuer"},
		{"another audience", func(c map[string]any) { c["aud"] = "some-other-client" }, "another audience"},
		{"expired", func(c map[string]any) {
			c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t)
			p.idp.mutate = tc.mutate
			c := p.client()
			assertRefused(t, p, c, p.signIn(c, "/"), http.StatusUnauthorized, tc.reason)
		})
	}
}

func TestAttackAlgNone(t *testing.T) {
	p := newPortal(t)
	// The provider's discovery even lists "none"; it is still refused.
	p.idp.mint = func(c map[string]any) string {
		h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
		b, _ := json.Marshal(c)
		return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	}
	c := p.client()
	assertRefused(t, p, c, p.signIn(c, "/"), http.StatusUnauthorized, "signature algorithm not accepted")
}

func TestAttackTamperedSignature(t *testing.T) {
	p := newPortal(t)
	p.idp.mint = func(c map[string]any) string {
		tok := p.idp.sign(c)
		parts := strings.Split(tok, ".")
		// Swap the payload for one naming another user, keeping the
		// signature.
		c["email"] = "bob@example.com"
		b, _ := json.Marshal(c)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	}
	c := p.client()
	assertRefused(t, p, c, p.signIn(c, "/"), http.StatusUnauthorized, "signature does not verify")
}

func TestAttackUnpublishedKey(t *testing.T) {
	for _, kid := range []string{"rsa-1", "rogue"} {
		t.Run("kid "+kid, func(t *testing.T) {
			p := newPortal(t)
			rogue, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			p.idp.mint = func(c map[string]any) string { return signWith(t, jose.RS256, rogue, kid, c) }
			c := p.client()
			assertRefused(t, p, c, p.signIn(c, "/"), http.StatusUnauthorized, "signature does not verify")
		})
	}
}

func TestES256IDToken(t *testing.T) {
	p := newPortal(t)
	p.idp.alg = jose.ES256
	c := p.client()
	if resp := p.signIn(c, "/"); resp.StatusCode != http.StatusFound {
		t.Fatalf("ES256 sign-in: %d %s", resp.StatusCode, bodyString(resp))
	}
	// An ES256 token signed with a key the provider never published.
	p2 := newPortal(t)
	rogue, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p2.idp.mint = func(cl map[string]any) string { return signWith(t, jose.ES256, rogue, "ec-1", cl) }
	c2 := p2.client()
	assertRefused(t, p2, c2, p2.signIn(c2, "/"), http.StatusUnauthorized, "signature does not verify")
}

func TestAttackUserinfoSubjectMismatch(t *testing.T) {
	p := newPortal(t)
	p.idp.userinfoSub = "someone-else"
	c := p.client()
	assertRefused(t, p, c, p.signIn(c, "/"), http.StatusUnauthorized, "userinfo sub")
}

func TestProviderRefusal(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	cb := p.begin(c, "/")
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Del("code")
	q.Set("error", "access_denied<script>")
	u.RawQuery = q.Encode()
	resp := p.callback(c, u.String())
	assertRefused(t, p, c, resp, http.StatusForbidden, "access_denied")
	if strings.Contains(bodyString(resp), "<script>") {
		t.Error("the provider's error text reached the page unescaped")
	}
}

func TestAttackOpenRedirect(t *testing.T) {
	p := newPortal(t)
	for _, ret := range []string{
		"https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example", "/%5Cevil.example",
		"/%2F/evil.example", "javascript:alert(1)", "http:/evil.example", "/\t/evil.example", "/\n/evil.example",
		"evil.example", "https:evil.example", " //evil.example", "/ok\\..\\evil",
	} {
		t.Run(ret, func(t *testing.T) {
			resp := mustGet(t, p.client(), p.srv.URL+"/api/auth/oidc/start?env=development&redirectUrl="+url.QueryEscape(ret))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d (Location %q), want 400", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	// Sign-out's return is confined the same way.
	c := p.client()
	p.signIn(c, "/")
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/logout", strings.NewReader("redirectUrl="+url.QueryEscape("//evil.example")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("sign-out: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestReturnPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "/",
		"/":                 "/",
		"/catalog":          "/catalog",
		"/catalog?kind=api": "/catalog?kind=api",
		"/docs/a/b#top":     "/docs/a/b#top",
	} {
		got, err := ReturnPath(in)
		if err != nil || got != want {
			t.Errorf("ReturnPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAttackSessionFixation(t *testing.T) {
	p := newPortal(t)
	// The attacker signs in and plants its own valid session ID in the
	// victim's browser, then the victim signs in.
	attacker := p.client()
	planted := sessionCookie(p.signIn(attacker, "/")).Value
	victim := p.client()
	pu, _ := url.Parse(p.srv.URL)
	victim.Jar.SetCookies(pu, []*http.Cookie{{Name: "greenroom-session", Value: planted, Path: "/"}})
	p.idp.mu.Lock()
	p.idp.user["email"] = "bob@example.com"
	p.idp.mu.Unlock()
	resp := p.signIn(victim, "/")
	got := sessionCookie(resp)
	if got == nil || got.Value == planted || got.Value == "" {
		t.Fatalf("session after sign-in %v, planted %q", got, planted)
	}
	_, who := p.whoami(victim, nil)
	if who["user"] != "user:default/bob" {
		t.Errorf("victim is %v", who["user"])
	}
	// The planted session is gone: it can no longer reach the victim's
	// account, nor the attacker's.
	if st, _ := p.whoami(p.client(), map[string]string{"Cookie": "greenroom-session=" + planted}); st != http.StatusUnauthorized {
		t.Errorf("planted session still valid: %d", st)
	}
	// A made-up ID is never adopted either.
	victim2 := p.client()
	victim2.Jar.SetCookies(pu, []*http.Cookie{{Name: "greenroom-session", Value: "attacker-chosen-id", Path: "/"}})
	if v := sessionCookie(p.signIn(victim2, "/")).Value; v == "attacker-chosen-id" {
		t.Error("made-up session ID adopted")
	}
}

func TestAttackCrossSiteSignOut(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	p.signIn(c, "/")
	for name, hdr := range map[string]map[string]string{
		"fetch metadata": {"Sec-Fetch-Site": "cross-site"},
		"origin":         {"Origin": "https://evil.example"},
		"same-site":      {"Sec-Fetch-Site": "same-site"},
	} {
		for _, path := range []string{"/api/auth/logout", "/api/auth/oidc/logout"} {
			req, _ := http.NewRequest(http.MethodPost, p.srv.URL+path, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", name, path, resp.StatusCode)
			}
		}
	}
	if st, who := p.whoami(c, nil); st != 200 || who["user"] != "user:default/jane" {
		t.Fatalf("still signed in? %d %v", st, who)
	}
	if n := len(p.audit.find(EventLogout, StatusSucceeded)); n != 0 {
		t.Errorf("%d sign-outs audited", n)
	}
	// GET is no sign-out at all.
	if resp := mustGet(t, c, p.srv.URL+"/api/auth/logout"); resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther {
		t.Errorf("GET sign-out answered %d", resp.StatusCode)
	}
}

func TestSignOutThenCookieRefused(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	raw := sessionCookie(p.signIn(c, "/")).Value
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/oidc/logout", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if sc := sessionCookie(resp); sc == nil || sc.MaxAge >= 0 {
		t.Errorf("cookie not expired: %v", sc)
	}
	// The old cookie, replayed by hand, is refused: the session is gone
	// server-side.
	st, body := p.whoami(p.client(), map[string]string{"Cookie": "greenroom-session=" + raw})
	if st != http.StatusUnauthorized || body["error"].(map[string]any)["name"] != "AuthenticationError" {
		t.Errorf("old cookie after sign-out: %d %v", st, body)
	}
	out := p.audit.find(EventLogout, StatusSucceeded)
	if len(out) != 1 || out[0].Actor != "user:default/jane" || out[0].Meta["providerId"] != "oidc" {
		t.Errorf("logout audit %+v", out)
	}
}

func TestCookieFlags(t *testing.T) {
	type want struct {
		name   string
		secure bool
	}
	for _, tc := range []struct {
		desc  string
		opt   func(*Options)
		proto string
		want  want
	}{
		{"plain http", nil, "", want{"greenroom-session", false}},
		{"forwarded https, proxy not trusted", nil, "https", want{"greenroom-session", false}},
		{"forwarded https, proxy trusted", func(o *Options) { o.TrustProxy = true }, "https", want{"__Host-greenroom-session", true}},
		{"forwarded http, proxy trusted", func(o *Options) { o.TrustProxy = true }, "http", want{"greenroom-session", false}},
		{"Secure option", func(o *Options) { o.Secure = true }, "", want{"__Host-greenroom-session", true}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			p := newPortal(t, func(_ map[string]any, o *Options) {
				if tc.opt != nil {
					tc.opt(o)
				}
			})
			c := p.client()
			c.Transport = headerTransport{"X-Forwarded-Proto": tc.proto}
			// Cookie jars drop Secure cookies over http, so the flow cookie
			// is carried by hand.
			start := mustGet(t, c, p.srv.URL+"/api/auth/oidc/start?env=development")
			flow := findCookie(start.Cookies(), "greenroom-oidc-flow", "__Secure-greenroom-oidc-flow")
			if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/api/auth/oidc/handler" || flow.Secure != tc.want.secure || flow.MaxAge != 600 {
				t.Fatalf("flow cookie %+v", flow)
			}
			cb := mustGet(t, c, start.Header.Get("Location")).Header.Get("Location")
			req, _ := http.NewRequest(http.MethodGet, cb, nil)
			req.AddCookie(&http.Cookie{Name: flow.Name, Value: flow.Value})
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			sc := findCookie(resp.Cookies(), tc.want.name)
			if sc == nil {
				t.Fatalf("no %s cookie in %v (status %d)", tc.want.name, resp.Header["Set-Cookie"], resp.StatusCode)
			}
			if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure != tc.want.secure || sc.Domain != "" {
				t.Errorf("session cookie %+v", sc)
			}
			// sessionDuration is 8 hours.
			if sc.MaxAge != 8*3600 {
				t.Errorf("MaxAge %d, want %d", sc.MaxAge, 8*3600)
			}
		})
	}
}

type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func findCookie(cs []*http.Cookie, names ...string) *http.Cookie {
	for _, c := range cs {
		if slices.Contains(names, c.Name) {
			return c
		}
	}
	return nil
}

func TestSessionExpires(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	p.signIn(c, "/")
	p.clock.Add(8*time.Hour - time.Second)
	if st, _ := p.whoami(c, nil); st != 200 {
		t.Fatalf("before expiry: %d", st)
	}
	p.clock.Add(time.Second)
	if st, _ := p.whoami(c, nil); st != http.StatusUnauthorized {
		t.Fatalf("at expiry: %d", st)
	}
}

func TestRefreshResponse(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	p.signIn(c, "/")
	get := func(hdr bool) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/auth/oidc/refresh", nil)
		if hdr {
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, body := get(false); st != 401 || body["error"].(map[string]any)["message"] != "Invalid X-Requested-With header" {
		t.Errorf("without X-Requested-With: %d %v", st, body)
	}
	st, body := get(true)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, body)
	}
	if got := sortedKeys(body); !slices.Equal(got, []string{"backstageIdentity", "profile"}) {
		t.Errorf("keys %v", got)
	}
	prof := body["profile"].(map[string]any)
	if prof["email"] != "jane@example.com" || prof["displayName"] != "Jane from the catalog" || prof["picture"] != "https://pics.example.com/jane.png" {
		t.Errorf("profile %v", prof)
	}
	bi := body["backstageIdentity"].(map[string]any)
	if bi["expiresInSeconds"] != float64(3600) {
		t.Errorf("expiresInSeconds %v", bi["expiresInSeconds"])
	}
	id := bi["identity"].(map[string]any)
	if id["type"] != "user" || id["userEntityRef"] != "user:default/jane" || !slices.Equal(toStrings(id["ownershipEntityRefs"]), []string{"user:default/jane", "group:default/team-a"}) {
		t.Errorf("identity %v", id)
	}
	// The token works as a Bearer token for programs.
	st, who := p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + bi["token"].(string)})
	if st != 200 || who["kind"] != "token" || who["user"] != "user:default/jane" {
		t.Errorf("bearer: %d %v", st, who)
	}
	if n := len(p.audit.find(EventTokenRefresh, StatusSucceeded)); n != 1 {
		t.Errorf("%d refresh events", n)
	}
	// Without a session: Backstage's 401.
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/auth/oidc/refresh", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, _ := p.client().Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("refresh without a session: %d", resp.StatusCode)
	}
}

func TestUnknownProviderAndEnv(t *testing.T) {
	p := newPortal(t)
	for _, tc := range []struct {
		path   string
		status int
		text   string
	}{
		{"/api/auth/github/start?env=development", 404, "Unknown auth provider 'github'"},
		{"/api/auth/guest/start", 404, "Unknown auth provider 'guest'"},
		{"/api/auth/oidc/start", 400, "Must specify 'env' query to select environment"},
		{"/api/auth/oidc/start?env=production", 404, "No configuration available for the 'production' environment"},
	} {
		resp, err := p.client().Get(p.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(html.UnescapeString(b.String()), tc.text) {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, b.String())
		}
	}
}

func TestKeyFileSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	k1, err := loadOrCreateKey(dir + "/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := loadOrCreateKey(dir + "/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("a second start made a new key")
	}
	st, err := os.Stat(dir + "/key.pem")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v", st.Mode(), err)
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestDiscovery(t *testing.T) {
	t.Run("metadataUrl as the issuer", func(t *testing.T) {
		p := newPortal(t, func(cfg map[string]any, o *Options) {
			env := devOIDC(cfg)
			env["metadataUrl"] = strings.TrimSuffix(env["metadataUrl"].(string), "/.well-known/openid-configuration")
		})
		if resp := p.signIn(p.client(), "/"); resp.StatusCode != http.StatusFound {
			t.Fatalf("%d %s", resp.StatusCode, bodyString(resp))
		}
	})
	t.Run("issuer that does not match the metadata URL", func(t *testing.T) {
		p := newPortal(t, func(cfg map[string]any, o *Options) {
			devOIDC(cfg)["metadataUrl"] = "http://127.0.0.1:1/.well-known/openid-configuration"
		})
		// Point the portal at the provider's document through another
		// name: the issuer it claims is not the URL's.
		p.auth.oidc["development"].cfg.MetadataURL = strings.Replace(p.idp.issuer(), "127.0.0.1", "localhost", 1) + "/.well-known/openid-configuration"
		resp := mustGet(t, p.client(), p.srv.URL+"/api/auth/oidc/start?env=development")
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if !strings.Contains(p.logs.String(), "does not match the metadata URL") {
			t.Errorf("log: %s", p.logs.String())
		}
		// Discovery is retried on the next sign-in once the URL is right.
		p.auth.oidc["development"].cfg.MetadataURL = p.idp.issuer() + "/.well-known/openid-configuration"
		if resp := p.signIn(p.client(), "/"); resp.StatusCode != http.StatusFound {
			t.Fatalf("after the fix: %d", resp.StatusCode)
		}
	})
}
