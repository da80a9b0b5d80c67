package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options are what the lead wires in.
type Options struct {
	Config Config
	// BaseURL is the portal's external URL ("https://portal.example.com"):
	// issued tokens' iss is BaseURL+BasePath, as Backstage's auth base URL,
	// and the default OIDC callback is BaseURL+BasePath+"/oidc/handler/frame".
	BaseURL string
	// BasePath is where Handler is mounted ("/api/auth"), for cookie paths.
	BasePath string
	// Users looks User entities up (required for OIDC and guest).
	Users Users
	// Sessions keeps sessions (required for OIDC); see OpenSQLiteSessions.
	Sessions SessionStore
	// KeyFile holds the token signing key, created on first start; "" keeps
	// a key in memory only (tokens die with the process).
	KeyFile string
	Auditor Auditor
	Log     *slog.Logger
	// HTTP is the client for calls to identity providers.
	HTTP *http.Client
	// Secure marks cookies Secure even on plain-http requests (TLS ends at
	// a proxy in front). Requests over TLS always get Secure cookies.
	Secure bool
	// TrustProxy honours X-Forwarded-Proto (for Secure) and
	// X-Forwarded-For (for audit ip). Off, both headers are ignored.
	TrustProxy bool
	// Development allows the guest provider without
	// dangerouslyAllowOutsideDevelopment (Backstage's NODE_ENV=development).
	Development bool
	// RequestID returns the request id for audit events (chi's
	// middleware.GetReqID, say).
	RequestID func(*http.Request) string
	// ErrorPage renders a refused sign-in; it reads the error with
	// SignInErrorFromContext. Nil: a plain built-in page.
	ErrorPage http.Handler
	// Now is the clock (tests).
	Now func() time.Time
}

// Auth is the portal's sign-in and identity service.
type Auth struct {
	opts      Options
	cfg       Config
	now       func() time.Time
	log       *slog.Logger
	auditor   Auditor
	tokens    *tokenIssuer
	flowKey   []byte
	used      usedFlows
	oidc      map[string]*oidcEnv
	guestOn   bool
	cop       *http.CrossOriginProtection
	errorPage http.Handler
	statics   []staticEntry
}

type staticEntry struct {
	hash [32]byte
	tok  StaticToken
}

// New builds the service. It fails on a configuration it cannot honour
// (guest outside development without the flag, transitive ownership
// without GroupParents, a missing dependency), naming the key.
func New(opts Options) (*Auth, error) {
	if opts.BasePath == "" {
		opts.BasePath = "/api/auth"
	}
	opts.BasePath = "/" + strings.Trim(opts.BasePath, "/")
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("auth: base URL %q must be an absolute http(s) URL", opts.BaseURL)
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	a := &Auth{opts: opts, cfg: opts.Config, now: opts.Now, log: opts.Log, auditor: opts.Auditor,
		cop: http.NewCrossOriginProtection(), errorPage: opts.ErrorPage, oidc: map[string]*oidcEnv{}}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.auditor == nil {
		a.auditor = noAuditor{}
	}
	if a.errorPage == nil {
		a.errorPage = http.HandlerFunc(defaultErrorPage)
	}
	if a.opts.HTTP == nil {
		a.opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if a.cfg.TokenExpiration == 0 {
		a.cfg.TokenExpiration = DefaultTokenExpiration
	}
	if (len(a.cfg.OIDC) > 0 || a.cfg.Guest != nil) && opts.Users == nil {
		return nil, errors.New("auth: sign-in needs a Users lookup")
	}
	if len(a.cfg.OIDC) > 0 && opts.Sessions == nil {
		return nil, errors.New("auth: auth.providers.oidc needs a session store")
	}
	if a.cfg.IncludeTransitiveGroupOwnership {
		if _, ok := opts.Users.(GroupParents); !ok {
			return nil, errors.New("auth: includeTransitiveGroupOwnership needs a Users that implements Parents")
		}
	}
	if g := a.cfg.Guest; g != nil {
		if !opts.Development && !g.DangerouslyAllowOutsideDevelopment {
			return nil, errors.New("config auth.providers.guest: the guest provider is refused outside development; set dangerouslyAllowOutsideDevelopment: true to allow it")
		}
		a.guestOn = true
	}
	key, err := loadOrCreateKey(opts.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if a.tokens, err = newTokenIssuer(key, a.issuer(), a.cfg.TokenExpiration, a.now); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	// The flow cookie's key: from auth.session.secret when set, so every
	// instance agrees; otherwise from the signing key, which survives
	// restarts the same way.
	secret := []byte(a.cfg.SessionSecret)
	if len(secret) == 0 {
		secret = key.D.Bytes()
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("greenroom flow cookie key"))
	a.flowKey = m.Sum(nil)
	for _, st := range a.cfg.ExternalAccess {
		a.statics = append(a.statics, staticEntry{hash: sha256.Sum256([]byte(st.Token)), tok: st})
	}
	for env, oc := range a.cfg.OIDC {
		cb := oc.CallbackURL
		if cb == "" {
			cb = a.opts.BaseURL + a.opts.BasePath + "/oidc/handler/frame"
		}
		a.oidc[env] = &oidcEnv{env: env, cfg: oc, callback: cb}
	}
	return a, nil
}

func (a *Auth) issuer() string { return a.opts.BaseURL + a.opts.BasePath }

// Environment is auth.environment, the env the portal's sign-in links use.
func (a *Auth) Environment() string { return a.cfg.Environment }

// SignInEnabled reports whether OIDC sign-in is configured for the
// portal's environment.
func (a *Auth) SignInEnabled() bool { return a.oidc[a.cfg.Environment] != nil }

// SignInURL is the link that starts an OIDC sign-in returning to
// returnTo (a path inside the portal; anything else returns to "/").
func (a *Auth) SignInURL(returnTo string) string {
	if p, err := ReturnPath(returnTo); err == nil {
		returnTo = p
	} else {
		returnTo = "/"
	}
	q := url.Values{"env": {a.cfg.Environment}, "redirectUrl": {returnTo}}
	return a.opts.BasePath + "/oidc/start?" + q.Encode()
}

// SignOutPath is where a sign-out form posts.
func (a *Auth) SignOutPath() string { return a.opts.BasePath + "/logout" }

// IssueUserToken signs a Backstage user token for id (a user identity),
// for the lead's "copy a token for scripts" page.
func (a *Auth) IssueUserToken(id Identity) (string, time.Time, error) {
	if !id.IsUser() {
		return "", time.Time{}, errors.New("auth: tokens are issued to users only")
	}
	return a.tokens.issue(id.UserRef, id.OwnershipRefs)
}

// Handler serves Backstage's auth routes; mount it at BasePath with the
// prefix stripped (it sees "/oidc/start").
func (a *Auth) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{provider}/start", a.start)
	mux.HandleFunc("GET /{provider}/handler/frame", a.frame)
	mux.HandleFunc("GET /{provider}/refresh", a.refresh)
	mux.HandleFunc("POST /{provider}/refresh", a.refresh)
	mux.HandleFunc("POST /{provider}/logout", a.logout)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /.well-known/jwks.json", a.jwks)
	mux.HandleFunc("GET /.well-known/openid-configuration", a.openIDConfiguration)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "NotFoundError", "No auth route "+r.Method+" "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Auth answers hold tokens and set cookies: never cache them.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// provider resolves the {provider} segment; unknown answers Backstage's 404.
func (a *Auth) provider(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := r.PathValue("provider")
	if (p == "oidc" && len(a.oidc) > 0) || (p == "guest" && a.guestOn) {
		return p, true
	}
	writeError(w, r, http.StatusNotFound, "NotFoundError", fmt.Sprintf("Unknown auth provider '%s'", p))
	return "", false
}

func (a *Auth) start(w http.ResponseWriter, r *http.Request) {
	p, ok := a.provider(w, r)
	if !ok {
		return
	}
	ret, err := ReturnPath(r.URL.Query().Get("redirectUrl"))
	if err != nil {
		a.showError(w, r, &SignInError{Status: http.StatusBadRequest, Title: "Sign-in refused", Message: err.Error() + "."})
		return
	}
	if p == "guest" {
		// The guest needs no sign-in: every unauthenticated request is
		// the guest already.
		http.Redirect(w, r, ret, http.StatusFound)
		return
	}
	a.oidcStart(w, r, ret)
}

func (a *Auth) frame(w http.ResponseWriter, r *http.Request) {
	p, ok := a.provider(w, r)
	if !ok {
		return
	}
	if p == "guest" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	a.oidcCallback(w, r)
}

// refreshResponse is Backstage's session response.
type refreshResponse struct {
	Profile           profileJSON       `json:"profile"`
	ProviderInfo      map[string]any    `json:"providerInfo,omitempty"`
	BackstageIdentity backstageIdentity `json:"backstageIdentity"`
}

type profileJSON struct {
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Picture     string `json:"picture,omitempty"`
}

type backstageIdentity struct {
	Token            string       `json:"token"`
	ExpiresInSeconds int64        `json:"expiresInSeconds"`
	Identity         identityJSON `json:"identity"`
}

type identityJSON struct {
	Type                string   `json:"type"`
	UserEntityRef       string   `json:"userEntityRef"`
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

// refresh answers the signed-in session as Backstage's refresh does: the
// profile and a fresh user token. Like Backstage it wants
// X-Requested-With, which a cross-site form or link cannot send.
func (a *Auth) refresh(w http.ResponseWriter, r *http.Request) {
	p, ok := a.provider(w, r)
	if !ok {
		return
	}
	if r.Header.Get("X-Requested-With") != "XMLHttpRequest" {
		writeError(w, r, http.StatusUnauthorized, "AuthenticationError", "Invalid X-Requested-With header")
		return
	}
	run := a.auditStart(r, EventTokenRefresh, SeverityLow, "", map[string]any{"providerId": p})
	var id Identity
	if p == "guest" {
		id = a.guestIdentity(r.Context())
	} else {
		var err error
		id, err = a.sessionIdentity(w, r)
		if err != nil || id.Provider != p {
			msg := "Refresh failed"
			if err != nil && !errors.Is(err, ErrNoSession) {
				a.log.Error("auth: refresh", "error", err)
			}
			run.fail(msg, nil)
			writeError(w, r, http.StatusUnauthorized, "AuthenticationError", msg)
			return
		}
	}
	tok, exp, err := a.tokens.issue(id.UserRef, id.OwnershipRefs)
	if err != nil {
		run.fail("could not issue a token", nil)
		writeError(w, r, http.StatusInternalServerError, "Error", "could not issue a token")
		return
	}
	run.success(id.UserRef, nil)
	resp := refreshResponse{
		Profile: profileJSON{Email: id.Email, DisplayName: id.DisplayName, Picture: id.Picture},
		BackstageIdentity: backstageIdentity{
			Token: tok, ExpiresInSeconds: int64(exp.Sub(a.now()) / time.Second),
			Identity: identityJSON{Type: "user", UserEntityRef: id.UserRef, OwnershipEntityRefs: id.OwnershipRefs},
		},
	}
	if p == "guest" {
		resp.Profile = profileJSON{DisplayName: "Guest"}
		resp.ProviderInfo = map[string]any{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// logout ends the session: deleted server-side, cookie expired. It only
// accepts same-origin requests (Fetch metadata or Origin), on its own, so
// another site cannot sign a person out.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("provider")
	if p != "" {
		if _, ok := a.provider(w, r); !ok {
			return
		}
	}
	if err := a.cop.Check(r); err != nil {
		writeError(w, r, http.StatusForbidden, "NotAllowedError", "Cross-site sign-out refused")
		return
	}
	meta := map[string]any{}
	if p != "" {
		meta["providerId"] = p
	}
	actor := ""
	if c, err := r.Cookie(a.sessionCookieName(r)); err == nil && c.Value != "" {
		key := sessionKey(c.Value)
		if a.opts.Sessions != nil {
			if s, err := a.opts.Sessions.Get(r.Context(), key); err == nil {
				actor = s.UserRef
				if _, ok := meta["providerId"]; !ok {
					meta["providerId"] = s.Provider
				}
			}
		}
		run := a.auditStart(r, EventLogout, SeverityLow, actor, meta)
		if a.opts.Sessions != nil {
			if err := a.opts.Sessions.Delete(r.Context(), key); err != nil {
				run.fail("could not delete the session", nil)
				a.log.Error("auth: sign-out", "error", err)
				writeError(w, r, http.StatusInternalServerError, "Error", "could not sign out")
				return
			}
		}
		run.success(actor, nil)
	}
	a.clearSessionCookie(w, r)
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		w.WriteHeader(http.StatusOK)
		return
	}
	ret, err := ReturnPath(r.FormValue("redirectUrl"))
	if err != nil {
		ret = "/"
	}
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

func (a *Auth) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.tokens.jwks())
}

func (a *Auth) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	iss := a.issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/v1/token",
		"userinfo_endpoint":                     iss + "/v1/userinfo",
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"scopes_supported":                      []string{"openid"},
		"token_endpoint_auth_methods_supported": []string{},
		"claims_supported":                      []string{"sub", "ent"},
		"grant_types_supported":                 []string{},
	})
}

// Middleware identifies every request and puts the Identity in its
// context. A request without credentials is the guest (guest provider
// on), anonymous (dangerouslyDisableDefaultAuthPolicy), or refused with
// 401 in Backstage's error envelope. Bad credentials are always 401.
func (a *Auth) Middleware(next http.Handler) http.Handler { return a.middleware(next, true) }

// OptionalMiddleware is Middleware for pages: a request without
// credentials goes on with Kind None (the page offers sign-in) instead of
// 401. A stale session cookie is dropped, not refused.
func (a *Auth) OptionalMiddleware(next http.Handler) http.Handler { return a.middleware(next, false) }

func (a *Auth) middleware(next http.Handler, required bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Authenticate(w, r)
		if err != nil {
			var ae *authError
			if errors.As(err, &ae) {
				writeError(w, r, ae.status, ae.name, ae.msg)
				return
			}
			a.log.Error("auth: identifying a request", "error", err)
			writeError(w, r, http.StatusInternalServerError, "Error", "could not identify the caller")
			return
		}
		if required && id.Kind == KindNone {
			writeError(w, r, http.StatusUnauthorized, "AuthenticationError", "Missing credentials")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

type authError struct {
	status    int
	name, msg string
}

func (e *authError) Error() string { return e.msg }

func unauthenticated(msg string) error {
	return &authError{status: http.StatusUnauthorized, name: "AuthenticationError", msg: msg}
}

// Authenticate identifies r: a Bearer token (static or user token), else
// the session cookie, else the guest / anonymous / none fallback. A
// rejected credential is an *authError (401); w is used only to expire a
// stale session cookie.
func (a *Auth) Authenticate(w http.ResponseWriter, r *http.Request) (Identity, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return Identity{}, unauthenticated("Invalid authorization header, expected Bearer <token>")
		}
		return a.bearerIdentity(tok)
	}
	id, err := a.sessionIdentity(w, r)
	switch {
	case err == nil:
		// A cookie rides along with cross-site requests; a change made
		// with one must come from the portal's own pages.
		if err := a.cop.Check(r); err != nil {
			return Identity{}, &authError{status: http.StatusForbidden, name: "NotAllowedError", msg: "Cross-site request refused"}
		}
		return id, nil
	case !errors.Is(err, ErrNoSession):
		return Identity{}, err
	}
	switch {
	case a.guestOn:
		return a.guestIdentity(r.Context()), nil
	case a.cfg.DisableDefaultAuthPolicy:
		return Identity{Kind: KindAnonymous}, nil
	}
	return Identity{Kind: KindNone}, nil
}

func (a *Auth) bearerIdentity(tok string) (Identity, error) {
	// Compare hashes in constant time: how long the match takes says
	// nothing about the configured tokens.
	h := sha256.Sum256([]byte(tok))
	var hit *StaticToken
	for i := range a.statics {
		if subtle.ConstantTimeCompare(h[:], a.statics[i].hash[:]) == 1 {
			hit = &a.statics[i].tok
		}
	}
	if hit != nil {
		return Identity{Kind: KindService, Subject: hit.Subject, Restrictions: hit.Restrictions}, nil
	}
	c, err := a.tokens.verify(tok)
	if err != nil {
		return Identity{}, unauthenticated("Failed to authenticate: " + err.Error())
	}
	return Identity{Kind: KindToken, UserRef: c.Subject, OwnershipRefs: c.Ent}, nil
}

// sessionIdentity reads the session cookie. ErrNoSession: no usable
// session (absent, unknown, expired, or its user left the catalog); a
// stale cookie is expired on w.
func (a *Auth) sessionIdentity(w http.ResponseWriter, r *http.Request) (Identity, error) {
	if a.opts.Sessions == nil {
		return Identity{}, ErrNoSession
	}
	c, err := r.Cookie(a.sessionCookieName(r))
	if err != nil || c.Value == "" {
		return Identity{}, ErrNoSession
	}
	key := sessionKey(c.Value)
	s, err := a.opts.Sessions.Get(r.Context(), key)
	if errors.Is(err, ErrNoSession) {
		a.clearSessionCookie(w, r)
		return Identity{}, ErrNoSession
	}
	if err != nil {
		return Identity{}, err
	}
	if !a.now().Before(s.Expires) {
		a.opts.Sessions.Delete(r.Context(), key)
		a.clearSessionCookie(w, r)
		return Identity{}, ErrNoSession
	}
	id := Identity{Kind: KindSession, UserRef: s.UserRef, OwnershipRefs: s.OwnershipRefs,
		DisplayName: s.DisplayName, Email: s.Email, Picture: s.Picture, Provider: s.Provider}
	if s.FromCatalog {
		u, err := a.opts.Users.ByRef(r.Context(), s.UserRef)
		if errors.Is(err, ErrUserNotFound) {
			// The User entity is gone: so is the access it gave.
			a.opts.Sessions.Delete(r.Context(), key)
			a.clearSessionCookie(w, r)
			return Identity{}, ErrNoSession
		}
		if err != nil {
			return Identity{}, fmt.Errorf("reading user %s: %w", s.UserRef, err)
		}
		if id.OwnershipRefs, err = a.ownershipRefs(r.Context(), u); err != nil {
			return Identity{}, err
		}
		id.DisplayName = firstNonEmpty(u.DisplayName, s.DisplayName)
		id.Email = firstNonEmpty(u.Email, s.Email)
		id.Picture = firstNonEmpty(u.Picture, s.Picture)
	}
	return id, nil
}

// guestIdentity is Backstage's guest: the catalog's User entity when it
// exists (with its groups), otherwise the configured refs.
func (a *Auth) guestIdentity(ctx context.Context) Identity {
	g := a.cfg.Guest
	id := Identity{Kind: KindGuest, UserRef: g.UserEntityRef, OwnershipRefs: g.OwnershipEntityRefs, DisplayName: "Guest", Provider: "guest"}
	if u, err := a.opts.Users.ByRef(ctx, g.UserEntityRef); err == nil {
		if refs, err := a.ownershipRefs(ctx, u); err == nil {
			id.OwnershipRefs = refs
			id.DisplayName = firstNonEmpty(u.DisplayName, "Guest")
			id.Picture, id.Email = u.Picture, u.Email
		}
	}
	return id
}

// secure reports whether cookies set on r get the Secure flag.
func (a *Auth) secure(r *http.Request) bool {
	if a.opts.Secure || r.TLS != nil {
		return true
	}
	return a.opts.TrustProxy && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// sessionCookieName uses the __Host- prefix over https: the browser then
// refuses the cookie from a sibling subdomain or over http, so it cannot
// be planted.
func (a *Auth) sessionCookieName(r *http.Request) string {
	if a.secure(r) {
		return "__Host-greenroom-session"
	}
	return "greenroom-session"
}

func (a *Auth) flowCookieName(r *http.Request) string {
	if a.secure(r) {
		return "__Secure-greenroom-oidc-flow"
	}
	return "greenroom-oidc-flow"
}

func (a *Auth) flowCookiePath() string { return a.opts.BasePath + "/oidc/handler" }

func (a *Auth) setSessionCookie(w http.ResponseWriter, r *http.Request, id string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: a.sessionCookieName(r), Value: id, Path: "/", Expires: expires,
		MaxAge: int(expires.Sub(a.now()) / time.Second), HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func (a *Auth) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: a.sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// SignInErrorFromContext returns the refused sign-in an ErrorPage renders.
func SignInErrorFromContext(ctx context.Context) (*SignInError, bool) {
	e, ok := ctx.Value(signInErrorKey{}).(*SignInError)
	return e, ok
}

type signInErrorKey struct{}

func (a *Auth) showError(w http.ResponseWriter, r *http.Request, e *SignInError) {
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	a.errorPage.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), signInErrorKey{}, e)))
}

// writeError answers with Backstage's error envelope.
func writeError(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	writeJSON(w, status, map[string]any{
		"error":    map[string]any{"name": name, "message": msg},
		"request":  map[string]any{"method": r.Method, "url": r.URL.Path},
		"response": map[string]any{"statusCode": status},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "could not encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
