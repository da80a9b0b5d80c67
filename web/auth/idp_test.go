package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/plugins"
)

const (
	testClientID     = "greenroom-portal"
	testClientSecret = "idp-client-secret-Zq81"
	testStaticToken  = "static-token-for-ci-8d2f1e0b"
)

// fakeIdP is an OpenID provider on 127.0.0.1: discovery, an authorize
// endpoint that approves at once, a token endpoint that checks the client
// secret and the PKCE verifier against the challenge, userinfo, and JWKS.
type fakeIdP struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	key    *rsa.PrivateKey // published as kid "rsa-1"
	ecKey  *ecdsa.PrivateKey
	alg    jose.SignatureAlgorithm
	codes  map[string]pendingCode
	access map[string]map[string]any
	// user claims of the next sign-in
	user map[string]any
	// mutate edits the ID token claims before signing.
	mutate func(claims map[string]any)
	// mint replaces signing altogether (for alg none, foreign keys,
	// tampering, replay).
	mint func(claims map[string]any) string
	// issued records every ID token and code handed out.
	issuedTokens []string
	issuedCodes  []string
	userinfoSub  string // overrides userinfo's sub when set
	now          func() time.Time
}

type pendingCode struct {
	challenge, nonce, redirect string
}

func newFakeIdP(t *testing.T, now func() time.Time) *fakeIdP {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeIdP{t: t, key: k, ecKey: ek, alg: jose.RS256, codes: map[string]pendingCode{}, access: map[string]map[string]any{}, now: now,
		user: map[string]any{"sub": "idp-user-42", "email": "jane@example.com", "email_verified": true, "name": "Jane Doe", "preferred_username": "jane"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("GET /keys", p.keys)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeIdP) issuer() string { return p.srv.URL }

func (p *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	iss := p.issuer()
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/keys",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != testClientID {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	// PKCE is required, with S256 only.
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	if q.Get("nonce") == "" || q.Get("state") == "" {
		http.Error(w, "state and nonce required", http.StatusBadRequest)
		return
	}
	code := randomHex(p.t, 12)
	p.mu.Lock()
	p.codes[code] = pendingCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
	p.issuedCodes = append(p.issuedCodes, code)
	p.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != testClientID || secret != testClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.FormValue("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	p.mu.Lock()
	pc, ok := p.codes[r.FormValue("code")]
	delete(p.codes, r.FormValue("code")) // single use
	p.mu.Unlock()
	if !ok || pc.redirect != r.FormValue("redirect_uri") {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != pc.challenge {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	now := p.now()
	p.mu.Lock()
	claims := map[string]any{"iss": p.issuer(), "aud": testClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": pc.nonce}
	for k, v := range p.user {
		claims[k] = v
	}
	mutate, mint := p.mutate, p.mint
	p.mu.Unlock()
	if mutate != nil {
		mutate(claims)
	}
	var idt string
	if mint != nil {
		idt = mint(claims)
	} else {
		idt = p.sign(claims)
	}
	access := randomHex(p.t, 16)
	p.mu.Lock()
	p.access[access] = claims
	p.issuedTokens = append(p.issuedTokens, idt, access)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (p *fakeIdP) userinfo(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	c, ok := p.access[tok]
	sub := p.userinfoSub
	p.mu.Unlock()
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	out := map[string]any{}
	for _, k := range []string{"sub", "email", "email_verified", "name", "preferred_username", "picture"} {
		if v, ok := c[k]; ok {
			out[k] = v
		}
	}
	if sub != "" {
		out["sub"] = sub
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (p *fakeIdP) keys(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		{Key: &p.ecKey.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
	}})
}

// sign signs claims with the provider's published key.
func (p *fakeIdP) sign(claims map[string]any) string {
	p.mu.Lock()
	alg := p.alg
	p.mu.Unlock()
	if alg == jose.ES256 {
		return signWith(p.t, jose.ES256, p.ecKey, "ec-1", claims)
	}
	return signWith(p.t, jose.RS256, p.key, "rsa-1", claims)
}

func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// testClock is a settable clock shared by the portal and the provider.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeUsers is a catalog of User entities.
type fakeUsers struct {
	mu      sync.Mutex
	users   []User
	parents map[string][]string
	fail    error
}

func (f *fakeUsers) ByProfileEmail(_ context.Context, email string) ([]User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []User
	for _, u := range f.users {
		if u.Email == email {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakeUsers) ByRef(_ context.Context, ref string) (User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return User{}, f.fail
	}
	for _, u := range f.users {
		if u.Ref == ref {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("%s: %w", ref, ErrUserNotFound)
}

func (f *fakeUsers) Parents(_ context.Context, g string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.parents[g], nil
}

func (f *fakeUsers) remove(ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, u := range f.users {
		if u.Ref == ref {
			f.users = append(f.users[:i], f.users[i+1:]...)
			return
		}
	}
}

func demoUsers() *fakeUsers {
	return &fakeUsers{
		users: []User{
			{Ref: "user:default/jane", Groups: []string{"group:default/team-a"}, DisplayName: "Jane from the catalog", Email: "jane@example.com", Picture: "https://pics.example.com/jane.png"},
			{Ref: "user:default/bob", Groups: []string{"group:default/team-b"}, Email: "bob@example.com"},
			{Ref: "user:default/twin1", Email: "twin@example.com"},
			{Ref: "user:default/twin2", Email: "twin@example.com"},
		},
		parents: map[string][]string{"group:default/team-a": {"group:default/eng"}, "group:default/eng": {"group:default/org", "group:default/team-a"}},
	}
}

type recordingAuditor struct {
	mu     sync.Mutex
	events []Event
}

func (r *recordingAuditor) Record(_ context.Context, e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recordingAuditor) list() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// find returns the events with id and status.
func (r *recordingAuditor) find(id string, st Status) []Event {
	var out []Event
	for _, e := range r.list() {
		if e.ID == id && e.Status == st {
			out = append(out, e)
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// portal is a test server mounting the auth routes at /api/auth and two
// probes: /whoami behind Middleware and /page behind OptionalMiddleware,
// each answering the identity as JSON.
type portal struct {
	t        *testing.T
	srv      *httptest.Server
	auth     *Auth
	idp      *fakeIdP
	users    *fakeUsers
	audit    *recordingAuditor
	logs     *syncBuffer
	clock    *testClock
	sessions *SQLiteSessions
	dbPath   string
}

type portalOption func(cfg map[string]any, o *Options)

func withResolvers(rs ...map[string]any) portalOption {
	return func(cfg map[string]any, o *Options) {
		list := make([]any, len(rs))
		for i, r := range rs {
			list[i] = r
		}
		devOIDC(cfg)["signIn"] = map[string]any{"resolvers": list}
	}
}

func devOIDC(cfg map[string]any) map[string]any {
	return cfg["auth"].(map[string]any)["providers"].(map[string]any)["oidc"].(map[string]any)["development"].(map[string]any)
}

func newPortal(t *testing.T, opts ...portalOption) *portal {
	t.Helper()
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	idp := newFakeIdP(t, clock.Now)
	p := &portal{t: t, idp: idp, users: demoUsers(), audit: &recordingAuditor{}, logs: &syncBuffer{}, clock: clock}
	var h http.Handler = http.NotFoundHandler()
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(p.srv.Close)
	dir := t.TempDir()
	p.dbPath = dir + "/sessions.db"
	var err error
	if p.sessions, err = OpenSQLiteSessions(p.dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.sessions.Close() })
	raw := map[string]any{
		"auth": map[string]any{
			"environment": "development",
			"providers": map[string]any{"oidc": map[string]any{"development": map[string]any{
				"clientId": testClientID, "clientSecret": testClientSecret,
				"metadataUrl":     idp.issuer() + "/.well-known/openid-configuration",
				"sessionDuration": map[string]any{"hours": 8},
				"signIn":          map[string]any{"resolvers": []any{map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}}},
			}}},
		},
		"backend": map[string]any{"auth": map[string]any{"externalAccess": []any{map[string]any{
			"type": "static", "options": map[string]any{"token": testStaticToken, "subject": "ci-bot"},
			"accessRestrictions": []any{map[string]any{"plugin": "catalog", "permission": []any{"catalog.entity.read"}, "permissionAttribute": map[string]any{"action": "read"}}},
		}}}},
	}
	o := Options{BaseURL: p.srv.URL, Users: p.users, Sessions: p.sessions, KeyFile: dir + "/signing-key.pem",
		Auditor: p.audit, Log: slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTP: p.srv.Client(), Now: clock.Now}
	for _, f := range opts {
		f(raw, &o)
	}
	cfg, err := DecodeConfig(plugins.NewConfig(raw))
	if err != nil {
		t.Fatal(err)
	}
	o.Config = cfg
	if p.auth, err = New(o); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", http.StripPrefix("/api/auth", p.auth.Handler()))
	probe := func(w http.ResponseWriter, r *http.Request) {
		id, _ := FromContext(r.Context())
		json.NewEncoder(w).Encode(map[string]any{"kind": id.Kind, "user": id.UserRef, "ent": id.OwnershipRefs, "subject": id.Subject,
			"name": id.DisplayName, "picture": id.Picture, "catalog": id.Allowed("catalog"), "scaffolder": id.Allowed("scaffolder")})
	}
	mux.Handle("/whoami", p.auth.Middleware(http.HandlerFunc(probe)))
	mux.Handle("/page", p.auth.OptionalMiddleware(http.HandlerFunc(probe)))
	h = mux
	return p
}

// client is a browser: a cookie jar, and redirects stopped so each hop
// can be looked at.
func (p *portal) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func mustGet(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// begin runs the flow up to the callback URL the provider redirects to.
func (p *portal) begin(c *http.Client, returnTo string) string {
	p.t.Helper()
	resp := mustGet(p.t, c, p.srv.URL+"/api/auth/oidc/start?env=development&redirectUrl="+url.QueryEscape(returnTo))
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("start: status %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, p.idp.issuer()+"/authorize?") {
		p.t.Fatalf("start redirected to %q, not the provider", loc)
	}
	resp = mustGet(p.t, c, loc)
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, p.srv.URL+"/api/auth/oidc/handler/frame?") {
		p.t.Fatalf("provider redirected to %q, not the callback", cb)
	}
	return cb
}

// signIn runs the whole flow and returns the callback's answer.
func (p *portal) signIn(c *http.Client, returnTo string) *http.Response {
	p.t.Helper()
	return p.callback(c, p.begin(c, returnTo))
}

func (p *portal) callback(c *http.Client, cb string) *http.Response {
	p.t.Helper()
	resp, err := c.Get(cb)
	if err != nil {
		p.t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	resp.Body = nopCloser{&body}
	return resp
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

func bodyString(resp *http.Response) string {
	if b, ok := resp.Body.(nopCloser); ok {
		return b.String()
	}
	return ""
}

// whoami asks the strict probe who c is.
func (p *portal) whoami(c *http.Client, hdr map[string]string) (int, map[string]any) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/whoami", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		p.t.Fatalf("whoami: %v", err)
	}
	return resp.StatusCode, out
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "greenroom-session" || c.Name == "__Host-greenroom-session" {
			return c
		}
	}
	return nil
}
