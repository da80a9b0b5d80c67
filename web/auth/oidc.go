package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcEnv is one auth.providers.oidc.<env>. Its provider metadata is
// discovered on first use and kept; a failed discovery is retried on the
// next sign-in, so a provider down at start does not need a restart.
type oidcEnv struct {
	env      string
	cfg      OIDCConfig
	callback string

	mu sync.Mutex
	d  *discovered
}

type discovered struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
	userinfo bool
}

const wellKnown = "/.well-known/openid-configuration"

func (o *oidcEnv) discover(ctx context.Context, client *http.Client, now func() time.Time) (*discovered, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.d != nil {
		return o.d, nil
	}
	// metadataUrl may be the discovery document or, as openid-client
	// accepts, the issuer itself. Either way the discovered issuer must
	// be the one the URL names (trailing slash aside).
	metaURL := o.cfg.MetadataURL
	expectIssuer := ""
	if path, _, _ := strings.Cut(metaURL, "?"); strings.HasSuffix(path, wellKnown) {
		expectIssuer = strings.TrimSuffix(path, wellKnown)
	} else if !strings.Contains(metaURL, "/.well-known/") {
		expectIssuer = metaURL
		metaURL = strings.TrimSuffix(metaURL, "/") + wellKnown
	}
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metaURL, nil)
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metadata %s: %s", metaURL, resp.Status)
	}
	var pc oidc.ProviderConfig
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&pc); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaURL, err)
	}
	if pc.IssuerURL == "" || pc.AuthURL == "" || pc.TokenURL == "" || pc.JWKSURL == "" {
		return nil, fmt.Errorf("metadata %s: issuer, authorization_endpoint, token_endpoint and jwks_uri are required", metaURL)
	}
	if expectIssuer != "" && strings.TrimSuffix(pc.IssuerURL, "/") != strings.TrimSuffix(expectIssuer, "/") {
		return nil, fmt.Errorf("metadata %s: issuer %q does not match the metadata URL", metaURL, pc.IssuerURL)
	}
	for _, u := range []string{pc.AuthURL, pc.TokenURL, pc.JWKSURL} {
		if err := checkHTTPURL(u); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", metaURL, err)
		}
	}
	var algs []string
	if a := o.cfg.TokenSignedResponseAlg; a != "" {
		algs = []string{a}
	} else {
		for _, a := range pc.Algorithms {
			if signingAlgs[a] {
				algs = append(algs, a)
			}
		}
		if len(algs) == 0 {
			algs = []string{"RS256"}
		}
	}
	pc.Algorithms = algs
	cctx := oidc.ClientContext(context.Background(), client)
	p := pc.NewProvider(cctx)
	style := oauth2.AuthStyleInHeader
	if o.cfg.TokenEndpointAuthMethod == "client_secret_post" {
		style = oauth2.AuthStyleInParams
	}
	o.d = &discovered{
		provider: p,
		verifier: p.VerifierContext(cctx, &oidc.Config{ClientID: o.cfg.ClientID, SupportedSigningAlgs: algs, Now: now}),
		oauth: &oauth2.Config{
			ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.callback, Scopes: o.cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: pc.AuthURL, TokenURL: pc.TokenURL, AuthStyle: style},
		},
		userinfo: pc.UserInfoURL != "",
	}
	return o.d, nil
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

func (a *Auth) oidcStart(w http.ResponseWriter, r *http.Request, ret string) {
	env := r.URL.Query().Get("env")
	if env == "" {
		a.showError(w, r, &SignInError{Status: http.StatusBadRequest, Title: "Sign-in refused", Message: "Must specify 'env' query to select environment."})
		return
	}
	o := a.oidc[env]
	if o == nil {
		a.showError(w, r, &SignInError{Status: http.StatusNotFound, Title: "Sign-in refused", Message: fmt.Sprintf("No configuration available for the '%s' environment of this provider.", env)})
		return
	}
	run := a.auditStart(r, EventLogin, SeverityLow, "", map[string]any{"providerId": "oidc", "actionType": "start"})
	d, err := o.discover(r.Context(), a.opts.HTTP, a.now)
	if err != nil {
		a.log.Error("auth: oidc discovery", "env", env, "error", err)
		run.fail("the identity provider could not be reached", nil)
		a.showError(w, r, &SignInError{Status: http.StatusBadGateway, Title: "Sign-in is unavailable", Message: "The identity provider could not be reached. Try again in a moment.", Retry: a.SignInURL(ret)})
		return
	}
	state, err1 := randomToken(16)
	nonce, err2 := randomToken(16)
	if err := errors.Join(err1, err2); err != nil {
		run.fail("no randomness", nil)
		a.showError(w, r, &SignInError{Status: http.StatusInternalServerError, Title: "Sign-in failed", Message: "Please try again."})
		return
	}
	verifier := oauth2.GenerateVerifier()
	f := flowState{State: state, Nonce: nonce, Verifier: verifier, Env: env, Return: ret, Expires: a.now().Add(flowTTL).Unix()}
	sealed, err := a.sealFlow(f)
	if err != nil {
		run.fail("could not start the flow", nil)
		a.showError(w, r, &SignInError{Status: http.StatusInternalServerError, Title: "Sign-in failed", Message: "Please try again."})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: a.flowCookieName(r), Value: sealed, Path: a.flowCookiePath(), MaxAge: int(flowTTL / time.Second),
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	// Unset is "auto" (no prompt parameter). Backstage sends prompt=none
	// then, which fails for anyone not already signed in at the provider;
	// its own docs tell everyone to set auto.
	if p := o.cfg.Prompt; p != "" && p != "auto" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p))
	}
	run.success("", nil)
	http.Redirect(w, r, d.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

// oidcCallback completes a sign-in: the state against the flow cookie
// (once only), the code exchanged with the PKCE verifier, the ID token
// verified (issuer, audience, expiry, signature against the provider's
// published keys) and its nonce checked, then the resolvers, and a new
// session.
func (a *Auth) oidcCallback(w http.ResponseWriter, r *http.Request) {
	run := a.auditStart(r, EventLogin, SeverityLow, "", map[string]any{"providerId": "oidc", "actionType": "complete"})
	fail := func(status int, reason, shown string, retry bool, who string) {
		run.fail(reason, whoMeta(who))
		e := &SignInError{Status: status, Title: "Sign-in failed", Message: shown, Who: who}
		if retry {
			e.Retry = a.SignInURL("/")
		}
		a.showError(w, r, e)
	}
	// The flow cookie serves one callback whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: a.flowCookieName(r), Value: "", Path: a.flowCookiePath(), MaxAge: -1, HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode})
	const notVerified = "The sign-in could not be verified. Start again from the portal."
	c, err := r.Cookie(a.flowCookieName(r))
	if err != nil || c.Value == "" {
		fail(http.StatusBadRequest, "no sign-in in progress (missing flow cookie)", notVerified, true, "")
		return
	}
	f, err := a.openFlow(c.Value)
	if err != nil {
		fail(http.StatusBadRequest, err.Error(), notVerified, true, "")
		return
	}
	q := r.URL.Query()
	if st := q.Get("state"); st == "" || subtle.ConstantTimeCompare([]byte(st), []byte(f.State)) != 1 {
		fail(http.StatusBadRequest, "state mismatch", notVerified, true, "")
		return
	}
	if !a.used.claim(f.State, time.Unix(f.Expires, 0), a.now()) {
		fail(http.StatusBadRequest, "replayed sign-in (state already used)", notVerified, true, "")
		return
	}
	if e := q.Get("error"); e != "" {
		code := safeCode(e)
		fail(http.StatusForbidden, "the identity provider refused: "+code, "The identity provider refused the sign-in ("+code+").", true, "")
		return
	}
	o := a.oidc[f.Env]
	if o == nil {
		fail(http.StatusBadRequest, "unknown environment in flow", notVerified, true, "")
		return
	}
	code := q.Get("code")
	if code == "" {
		fail(http.StatusBadRequest, "no authorization code", notVerified, true, "")
		return
	}
	d, err := o.discover(r.Context(), a.opts.HTTP, a.now)
	if err != nil {
		a.log.Error("auth: oidc discovery", "env", f.Env, "error", err)
		fail(http.StatusBadGateway, "the identity provider could not be reached", "The identity provider could not be reached. Try again in a moment.", true, "")
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), a.opts.HTTP), o.cfg.Timeout)
	defer cancel()
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		reason := "code exchange failed"
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			reason = fmt.Sprintf("code exchange failed: token endpoint answered %d %s", re.Response.StatusCode, safeCode(re.ErrorCode))
		}
		fail(http.StatusBadGateway, reason, "The identity provider did not accept the sign-in. Start again.", true, "")
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		fail(http.StatusBadGateway, "the token response has no id_token", notVerified, true, "")
		return
	}
	idt, err := d.verifier.Verify(ctx, rawID)
	if err != nil {
		fail(http.StatusUnauthorized, "ID token rejected: "+idTokenReason(err), notVerified, true, "")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		fail(http.StatusUnauthorized, "ID token rejected: nonce mismatch", notVerified, true, "")
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			fail(http.StatusUnauthorized, "ID token rejected: at_hash does not match the access token", notVerified, true, "")
			return
		}
	}
	prof, err := profileFrom(idt)
	if err != nil {
		fail(http.StatusUnauthorized, "ID token claims: "+err.Error(), notVerified, true, "")
		return
	}
	if d.userinfo {
		ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			a.log.Warn("auth: oidc userinfo", "env", f.Env, "error", idTokenReason(err))
			fail(http.StatusBadGateway, "userinfo request failed", "The identity provider did not say who you are. Start again.", true, prof.who())
			return
		}
		if ui.Subject != idt.Subject {
			fail(http.StatusUnauthorized, "userinfo sub does not match the ID token", notVerified, true, prof.who())
			return
		}
		if err := overlayUserinfo(&prof, ui); err != nil {
			fail(http.StatusBadGateway, "userinfo claims: "+err.Error(), notVerified, true, prof.who())
			return
		}
	}
	res, err := a.resolve(r.Context(), prof, o.cfg.Resolvers)
	if err != nil {
		var se *SignInError
		if errors.As(err, &se) {
			run.fail(se.Message, whoMeta(prof.who()))
			a.showError(w, r, se)
			return
		}
		a.log.Error("auth: sign-in resolver", "error", err)
		fail(http.StatusInternalServerError, "resolver error", "Your account could not be looked up. Try again in a moment.", true, prof.who())
		return
	}
	refs, err := a.ownershipRefs(r.Context(), res.user)
	if err != nil {
		a.log.Error("auth: ownership refs", "user", res.user.Ref, "error", err)
		fail(http.StatusInternalServerError, "ownership lookup failed", "Your groups could not be looked up. Try again in a moment.", true, prof.who())
		return
	}
	// A session cookie from before sign-in is never adopted: its session
	// (if any) ends, and a fresh ID is made.
	if old, err := r.Cookie(a.sessionCookieName(r)); err == nil && old.Value != "" {
		a.opts.Sessions.Delete(r.Context(), sessionKey(old.Value))
	}
	sid, err := newSessionID()
	if err != nil {
		fail(http.StatusInternalServerError, "no randomness", "Please try again.", true, prof.who())
		return
	}
	now := a.now()
	s := Session{
		UserRef: res.user.Ref, OwnershipRefs: refs, Provider: "oidc", FromCatalog: res.fromCatalog,
		DisplayName: firstNonEmpty(res.user.DisplayName, prof.DisplayName),
		Email:       firstNonEmpty(res.user.Email, prof.Email),
		Picture:     firstNonEmpty(res.user.Picture, prof.Picture),
		Created:     now, Expires: now.Add(o.cfg.SessionDuration),
	}
	if err := a.opts.Sessions.Put(r.Context(), sessionKey(sid), s); err != nil {
		a.log.Error("auth: storing session", "user", s.UserRef, "error", err)
		fail(http.StatusInternalServerError, "session store failed", "Your session could not be saved. Try again in a moment.", true, prof.who())
		return
	}
	a.setSessionCookie(w, r, sid, s.Expires)
	run.success(s.UserRef, map[string]any{"email": prof.Email})
	ret, err := ReturnPath(f.Return)
	if err != nil {
		ret = "/"
	}
	http.Redirect(w, r, ret, http.StatusFound)
}

func whoMeta(who string) map[string]any {
	if who == "" {
		return nil
	}
	return map[string]any{"who": who}
}

// safeCode keeps an OAuth error code from the query or a token response
// printable and short: it is untrusted text that reaches a page and logs.
func safeCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "unknown_error"
	}
	return b.String()
}

// idTokenReason names why go-oidc refused a token, in words that hold no
// part of the token.
func idTokenReason(err error) string {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return "expired"
	case strings.Contains(msg, "different provider"):
		return "issued by another issuer"
	case strings.Contains(msg, "expected audience"):
		return "issued for another audience"
	case strings.Contains(msg, "malformed jwt"):
		if strings.Contains(msg, "signature algorithm") {
			return "signature algorithm not accepted"
		}
		return "malformed JWT"
	case strings.Contains(msg, "failed to verify signature"):
		return "signature does not verify against the provider's published keys"
	case strings.Contains(msg, "nbf"):
		return "not valid yet"
	}
	return "verification failed"
}

type oidcClaims struct {
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	Picture           string `json:"picture"`
}

func (c oidcClaims) verified() (*bool, error) {
	var v bool
	switch x := c.EmailVerified.(type) {
	case nil:
		return nil, nil
	case bool:
		v = x
	case string: // some providers (Cognito) send "true"
		switch x {
		case "true":
			v = true
		case "false":
		default:
			return nil, fmt.Errorf("email_verified is %q", x)
		}
	default:
		return nil, errors.New("email_verified is not a boolean")
	}
	return &v, nil
}

func profileFrom(idt *oidc.IDToken) (Profile, error) {
	var c oidcClaims
	if err := idt.Claims(&c); err != nil {
		return Profile{}, err
	}
	ev, err := c.verified()
	if err != nil {
		return Profile{}, err
	}
	return Profile{Subject: idt.Subject, Email: c.Email, EmailVerified: ev, PreferredUsername: c.PreferredUsername, DisplayName: c.Name, Picture: c.Picture}, nil
}

// overlayUserinfo lets userinfo's claims win, as Backstage builds its
// profile from userinfo.
func overlayUserinfo(p *Profile, ui *oidc.UserInfo) error {
	var c oidcClaims
	if err := ui.Claims(&c); err != nil {
		return err
	}
	ev, err := c.verified()
	if err != nil {
		return err
	}
	switch {
	case c.Email != "" && c.Email != p.Email:
		p.Email, p.EmailVerified = c.Email, ev
	case ev != nil:
		p.EmailVerified = ev
	}
	if c.PreferredUsername != "" {
		p.PreferredUsername = c.PreferredUsername
	}
	if c.Name != "" {
		p.DisplayName = c.Name
	}
	if c.Picture != "" {
		p.Picture = c.Picture
	}
	return nil
}
