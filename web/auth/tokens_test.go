package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// A token the portal issues verifies against the JWKS it serves, with an
// independent verifier (go-jose's), and carries Backstage's header and
// claims.
func TestUserTokenJWKSRoundTrip(t *testing.T) {
	p := newPortal(t)
	tok, exp, err := p.auth.IssueUserToken(Identity{UserRef: "user:default/jane", OwnershipRefs: []string{"user:default/jane", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(p.clock.Now().Add(time.Hour)) {
		t.Errorf("exp %v, want now+1h", exp)
	}
	resp, err := http.Get(p.srv.URL + "/api/auth/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(set.Keys) != 1 || set.Keys[0].Algorithm != "ES256" || set.Keys[0].Use != "sig" || !set.Keys[0].IsPublic() {
		t.Fatalf("jwks %+v", set.Keys)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := parsed.Headers[0]
	if h.Algorithm != "ES256" || h.KeyID != set.Keys[0].KeyID || h.ExtraHeaders[jose.HeaderType] != "vnd.backstage.user" {
		t.Errorf("header %+v", h)
	}
	var claims struct {
		jwt.Claims
		Ent []string `json:"ent"`
	}
	var raw map[string]any
	if err := parsed.Claims(set.Keys[0].Key, &claims, &raw); err != nil {
		t.Fatalf("verify with the JWKS key: %v", err)
	}
	if claims.Subject != "user:default/jane" || !slices.Equal(claims.Ent, []string{"user:default/jane", "group:default/team-a"}) ||
		claims.Issuer != p.srv.URL+"/api/auth" || claims.Expiry.Time().Sub(claims.IssuedAt.Time()) != time.Hour {
		t.Errorf("claims %+v", claims)
	}
	if raw["aud"] != "backstage" {
		t.Errorf("aud %v, want the string backstage", raw["aud"])
	}
	// Keys survive a restart: a second service on the same key file
	// accepts the token.
	opts := p.auth.opts
	a2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a2.tokens.verify(tok); err != nil {
		t.Errorf("after restart: %v", err)
	}
	// The openid-configuration points at the JWKS.
	resp, _ = http.Get(p.srv.URL + "/api/auth/.well-known/openid-configuration")
	var meta map[string]any
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["jwks_uri"] != p.srv.URL+"/api/auth/.well-known/jwks.json" || meta["issuer"] != p.srv.URL+"/api/auth" {
		t.Errorf("metadata %v", meta)
	}
}

func TestBearerTokensRefused(t *testing.T) {
	p := newPortal(t)
	good, _, err := p.auth.IssueUserToken(Identity{UserRef: "user:default/jane", OwnershipRefs: []string{"user:default/jane"}})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	other, err := New(Options{BaseURL: p.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, _ := other.IssueUserToken(Identity{UserRef: "user:default/jane"})
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	admin := strings.Replace(string(payload), "user:default/jane", "user:default/admin", -1)
	wrongTyp := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.auth.tokens.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.auth.tokens.kid))
		tok, _ := jwt.Signed(s).Claims(map[string]any{"sub": "user:default/jane", "aud": "backstage", "iss": p.auth.issuer(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}).Serialize()
		return tok
	}()
	wrongAud := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.auth.tokens.key}, (&jose.SignerOptions{}).WithType(userTokenType).WithHeader("kid", p.auth.tokens.kid))
		tok, _ := jwt.Signed(s).Claims(map[string]any{"sub": "user:default/jane", "aud": "elsewhere", "iss": p.auth.issuer(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}).Serialize()
		return tok
	}()
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"vnd.backstage.user"}`)) + "." + parts[1] + "."
	for name, hdr := range map[string]string{
		"tampered payload":   "Bearer " + parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(admin)) + "." + parts[2],
		"another portal key": "Bearer " + foreign,
		"alg none":           "Bearer " + none,
		"wrong typ":          "Bearer " + wrongTyp,
		"wrong audience":     "Bearer " + wrongAud,
		"garbage":            "Bearer not-a-token",
		"unknown static":     "Bearer static-token-that-nobody-configured",
		"basic scheme":       "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")),
	} {
		st, body := p.whoami(p.client(), map[string]string{"Authorization": hdr})
		e, _ := body["error"].(map[string]any)
		if st != http.StatusUnauthorized || e["name"] != "AuthenticationError" || body["response"].(map[string]any)["statusCode"] != float64(401) {
			t.Errorf("%s: %d %v", name, st, body)
		}
		if req, _ := body["request"].(map[string]any); req["url"] != "/whoami" || req["method"] != "GET" {
			t.Errorf("%s: request %v", name, body["request"])
		}
	}
	if st, who := p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + good}); st != 200 || who["user"] != "user:default/jane" {
		t.Errorf("good token: %d %v", st, who)
	}
}

func TestUserTokenAfterExpiry(t *testing.T) {
	p := newPortal(t)
	tok, _, _ := p.auth.IssueUserToken(Identity{UserRef: "user:default/jane", OwnershipRefs: []string{"user:default/jane"}})
	p.clock.Add(time.Hour - time.Second)
	if st, _ := p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + tok}); st != 200 {
		t.Fatalf("before exp: %d", st)
	}
	p.clock.Add(2 * time.Second)
	st, body := p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + tok})
	if st != http.StatusUnauthorized || !strings.Contains(body["error"].(map[string]any)["message"].(string), "expired") {
		t.Errorf("after exp: %d %v", st, body)
	}
}

func TestStaticTokenRestrictions(t *testing.T) {
	p := newPortal(t)
	st, who := p.whoami(p.client(), map[string]string{"Authorization": "Bearer " + testStaticToken})
	if st != 200 || who["kind"] != "service" || who["subject"] != "ci-bot" || who["user"] != "" {
		t.Fatalf("static token: %d %v", st, who)
	}
	if who["catalog"] != true || who["scaffolder"] != false {
		t.Errorf("Allowed: catalog %v, scaffolder %v", who["catalog"], who["scaffolder"])
	}
	// The identity itself, as the lead's permission checks see it.
	var id Identity
	h := p.auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { id, _ = FromContext(r.Context()) }))
	req, _ := http.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Authorization", "Bearer "+testStaticToken)
	h.ServeHTTP(discard{}, req)
	for _, tc := range []struct {
		plugin, perm, action string
		want                 bool
	}{
		{"catalog", "catalog.entity.read", "read", true},
		{"catalog", "catalog.entity.delete", "delete", false},
		{"catalog", "catalog.entity.read", "delete", false},
		{"scaffolder", "scaffolder.task.create", "create", false},
	} {
		if got := id.AllowedPermission(tc.plugin, tc.perm, tc.action); got != tc.want {
			t.Errorf("AllowedPermission(%s, %s, %s) = %v", tc.plugin, tc.perm, tc.action, got)
		}
	}
	if id.ActorID() != "ci-bot" {
		t.Errorf("ActorID %q", id.ActorID())
	}
	// An unrestricted identity may do anything.
	if !(Identity{UserRef: "user:default/x"}).AllowedPermission("scaffolder", "any", "create") {
		t.Error("unrestricted identity restricted")
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func TestUnauthenticatedPolicies(t *testing.T) {
	t.Run("default: 401 Missing credentials", func(t *testing.T) {
		p := newPortal(t)
		st, body := p.whoami(p.client(), nil)
		if st != 401 || body["error"].(map[string]any)["message"] != "Missing credentials" {
			t.Errorf("%d %v", st, body)
		}
		// Pages go on without an identity.
		resp, _ := p.client().Get(p.srv.URL + "/page")
		var who map[string]any
		json.NewDecoder(resp.Body).Decode(&who)
		resp.Body.Close()
		if resp.StatusCode != 200 || who["kind"] != "" {
			t.Errorf("page: %d %v", resp.StatusCode, who)
		}
	})
	t.Run("dangerouslyDisableDefaultAuthPolicy: anonymous", func(t *testing.T) {
		p := newPortal(t, func(cfg map[string]any, o *Options) {
			cfg["backend"].(map[string]any)["auth"].(map[string]any)["dangerouslyDisableDefaultAuthPolicy"] = true
		})
		st, who := p.whoami(p.client(), nil)
		if st != 200 || who["kind"] != "anonymous" || who["user"] != "" {
			t.Errorf("%d %v", st, who)
		}
		// Bad credentials are still refused.
		if st, _ := p.whoami(p.client(), map[string]string{"Authorization": "Bearer forged-token-xyz"}); st != 401 {
			t.Errorf("bad token under the disabled policy: %d", st)
		}
	})
	t.Run("guest", func(t *testing.T) {
		p := newPortal(t, func(cfg map[string]any, o *Options) {
			cfg["auth"].(map[string]any)["providers"].(map[string]any)["guest"] = map[string]any{"userEntityRef": "user:default/bob"}
			o.Development = true
		})
		st, who := p.whoami(p.client(), nil)
		// bob is in the catalog: his groups come along.
		if st != 200 || who["kind"] != "guest" || who["user"] != "user:default/bob" || !slices.Equal(toStrings(who["ent"]), []string{"user:default/bob", "group:default/team-b"}) {
			t.Errorf("%d %v", st, who)
		}
		req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/auth/guest/refresh", nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, _ := p.client().Do(req)
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body["profile"].(map[string]any)["displayName"] != "Guest" ||
			body["backstageIdentity"].(map[string]any)["identity"].(map[string]any)["userEntityRef"] != "user:default/bob" {
			t.Errorf("guest refresh: %d %v", resp.StatusCode, body)
		}
		// A signed-in session wins over the guest.
		c := p.client()
		p.signIn(c, "/")
		if _, who := p.whoami(c, nil); who["kind"] != "session" || who["user"] != "user:default/jane" {
			t.Errorf("signed in: %v", who)
		}
	})
}

func TestGuestRefusedOutsideDevelopment(t *testing.T) {
	cfg := Config{Guest: &GuestConfig{UserEntityRef: DefaultGuestUserRef, OwnershipEntityRefs: []string{DefaultGuestUserRef}}}
	_, err := New(Options{Config: cfg, BaseURL: "http://localhost:7007", Users: demoUsers()})
	if err == nil || !strings.Contains(err.Error(), "dangerouslyAllowOutsideDevelopment") {
		t.Errorf("err = %v", err)
	}
	cfg.Guest.DangerouslyAllowOutsideDevelopment = true
	if _, err := New(Options{Config: cfg, BaseURL: "http://localhost:7007", Users: demoUsers()}); err != nil {
		t.Errorf("with the flag: %v", err)
	}
}

func TestCookieSessionRefusesCrossSiteWrites(t *testing.T) {
	p := newPortal(t)
	c := p.client()
	p.signIn(c, "/")
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/whoami", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST with the session cookie: %d", resp.StatusCode)
	}
}

func TestSQLiteSessionsStoreHashesOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSQLiteSessions(dir + "/sessions.db")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	in := Session{UserRef: "user:default/jane", OwnershipRefs: []string{"user:default/jane", "group:default/a"}, DisplayName: "Jane", Provider: "oidc", FromCatalog: true, Created: now, Expires: now.Add(time.Hour)}
	if err := s.Put(ctx, sessionKey("raw-id"), in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, sessionKey("raw-id"))
	if err != nil || got.UserRef != in.UserRef || !slices.Equal(got.OwnershipRefs, in.OwnershipRefs) || !got.Expires.Equal(in.Expires) || !got.FromCatalog {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, sessionKey("other")); err != ErrNoSession {
		t.Errorf("unknown key: %v", err)
	}
	if err := s.Delete(ctx, sessionKey("raw-id")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, sessionKey("raw-id")); err != ErrNoSession {
		t.Errorf("after delete: %v", err)
	}
	s.Close()
	if _, err := os.Stat(dir + "/sessions.db"); err != nil {
		t.Fatal(err)
	}
}
