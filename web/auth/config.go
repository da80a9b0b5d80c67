package auth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
)

// Config is the part of app-config this package reads, decoded strictly
// from Backstage's keys: auth.environment, auth.providers.oidc.<env>,
// auth.providers.guest, auth.backstageTokenExpiration, auth.session.secret,
// backend.auth.externalAccess, backend.auth.dangerouslyDisableDefaultAuthPolicy
// and RHDH's root includeTransitiveGroupOwnership.
type Config struct {
	// Environment selects the auth.providers.<id>.<env> block the portal's
	// own sign-in links use (Backstage's frontend default: development).
	Environment string
	// OIDC is keyed by environment.
	OIDC map[string]OIDCConfig
	// Guest is nil when auth.providers.guest is absent.
	Guest *GuestConfig
	// TokenExpiration is the lifetime of issued user tokens (1 h).
	TokenExpiration time.Duration
	// SessionSecret is auth.session.secret; when set, the flow cookie's
	// HMAC key is derived from it so several instances agree.
	SessionSecret string
	// ExternalAccess holds the static tokens for programs.
	ExternalAccess []StaticToken
	// DisableDefaultAuthPolicy is backend.auth.dangerouslyDisableDefaultAuthPolicy:
	// unauthenticated requests act as an anonymous viewer instead of 401.
	DisableDefaultAuthPolicy bool
	// IncludeTransitiveGroupOwnership adds parent groups to the
	// ownership refs (RHDH).
	IncludeTransitiveGroupOwnership bool
}

// OIDCConfig is one auth.providers.oidc.<env> block.
type OIDCConfig struct {
	ClientID     string
	ClientSecret string
	MetadataURL  string
	// CallbackURL defaults to <baseUrl>/api/auth/oidc/handler/frame.
	CallbackURL string
	// TokenEndpointAuthMethod is client_secret_basic (default) or
	// client_secret_post.
	TokenEndpointAuthMethod string
	// TokenSignedResponseAlg, when set, is the only ID token algorithm
	// accepted; otherwise the provider's advertised ones (never "none").
	TokenSignedResponseAlg string
	// Scopes are openid, profile, email plus additionalScopes.
	Scopes []string
	// Prompt is sent as the prompt parameter unless "auto".
	Prompt string
	// Timeout bounds each call to the provider (10 s).
	Timeout time.Duration
	// SessionDuration is how long a session lasts.
	SessionDuration time.Duration
	Resolvers       []ResolverConfig
}

// ResolverConfig is one signIn.resolvers entry.
type ResolverConfig struct {
	Resolver       string
	AllowedDomains []string
	// DangerouslyAllowSignInWithoutUserInCatalog signs in a person no
	// User entity matches as user:default/<name>, owning only itself.
	DangerouslyAllowSignInWithoutUserInCatalog bool
}

// GuestConfig is auth.providers.guest.
type GuestConfig struct {
	UserEntityRef                      string
	OwnershipEntityRefs                []string
	DangerouslyAllowOutsideDevelopment bool
}

// StaticToken is a backend.auth.externalAccess entry of type static.
type StaticToken struct {
	Token        string
	Subject      string
	Restrictions []AccessRestriction
}

// AccessRestriction is one accessRestrictions entry: the plugin a token
// may call and, optionally, which permissions (by name or action).
type AccessRestriction struct {
	Plugin      string
	Permissions []string
	Actions     []string
}

// Defaults, from Backstage (reference §3.7, §3.8).
const (
	DefaultTokenExpiration = time.Hour
	// DefaultSessionDuration is Backstage's refresh-cookie lifetime when
	// sessionDuration is unset: 1000 days.
	DefaultSessionDuration = 1000 * 24 * time.Hour
	DefaultGuestUserRef    = "user:development/guest"
	defaultEnvironment     = "development"
	defaultOIDCTimeout     = 10 * time.Second
	minStaticTokenLength   = 8
)

var resolverNames = []string{
	"emailMatchingUserEntityProfileEmail",
	"emailLocalPartMatchingUserEntityName",
	"preferredUsernameMatchingUserEntityName",
}

type rawAuth struct {
	Environment              string         `yaml:"environment"`
	Providers                map[string]any `yaml:"providers"`
	BackstageTokenExpiration any            `yaml:"backstageTokenExpiration"`
	Session                  *struct {
		Secret string `yaml:"secret"`
	} `yaml:"session"`
}

type rawOIDC struct {
	ClientID                string `yaml:"clientId"`
	ClientSecret            string `yaml:"clientSecret"`
	MetadataURL             string `yaml:"metadataUrl"`
	CallbackURL             string `yaml:"callbackUrl"`
	TokenEndpointAuthMethod string `yaml:"tokenEndpointAuthMethod"`
	TokenSignedResponseAlg  string `yaml:"tokenSignedResponseAlg"`
	AdditionalScopes        any    `yaml:"additionalScopes"`
	Scope                   any    `yaml:"scope"`
	Prompt                  string `yaml:"prompt"`
	Timeout                 any    `yaml:"timeout"`
	SessionDuration         any    `yaml:"sessionDuration"`
	SignIn                  *struct {
		Resolvers []struct {
			Resolver                                   string   `yaml:"resolver"`
			AllowedDomains                             []string `yaml:"allowedDomains"`
			DangerouslyAllowSignInWithoutUserInCatalog bool     `yaml:"dangerouslyAllowSignInWithoutUserInCatalog"`
		} `yaml:"resolvers"`
	} `yaml:"signIn"`
}

type rawGuest struct {
	UserEntityRef                      string   `yaml:"userEntityRef"`
	OwnershipEntityRefs                []string `yaml:"ownershipEntityRefs"`
	DangerouslyAllowOutsideDevelopment bool     `yaml:"dangerouslyAllowOutsideDevelopment"`
}

type rawBackendAuth struct {
	ExternalAccess []struct {
		Type               string `yaml:"type"`
		Options            any    `yaml:"options"`
		AccessRestrictions []struct {
			Plugin              string `yaml:"plugin"`
			Permission          any    `yaml:"permission"`
			PermissionAttribute *struct {
				Action any `yaml:"action"`
			} `yaml:"permissionAttribute"`
		} `yaml:"accessRestrictions"`
	} `yaml:"externalAccess"`
	DangerouslyDisableDefaultAuthPolicy bool `yaml:"dangerouslyDisableDefaultAuthPolicy"`
}

// DecodeConfig reads the auth configuration from cfg. Every key is decoded
// strictly: an unknown key, an unsupported provider or external-access
// type, or a malformed value is an error naming its path. Error messages
// never quote a secret.
func DecodeConfig(cfg *plugins.Config) (Config, error) {
	out := Config{Environment: defaultEnvironment, TokenExpiration: DefaultTokenExpiration}
	if v := cfg.Get("includeTransitiveGroupOwnership"); v != nil {
		if err := plugins.DecodeValue("includeTransitiveGroupOwnership", v, &out.IncludeTransitiveGroupOwnership); err != nil {
			return Config{}, err
		}
	}
	if v := cfg.Get("auth"); v != nil {
		var ra rawAuth
		if err := plugins.DecodeValue("auth", v, &ra); err != nil {
			return Config{}, err
		}
		if ra.Environment != "" {
			out.Environment = ra.Environment
		}
		if ra.Session != nil {
			out.SessionSecret = ra.Session.Secret
		}
		if ra.BackstageTokenExpiration != nil {
			d, err := plugins.ParseDuration(ra.BackstageTokenExpiration)
			if err != nil {
				return Config{}, fmt.Errorf("config auth.backstageTokenExpiration: %w", err)
			}
			// Backstage's bounds: at least 10 minutes, at most 24 hours.
			if d < 10*time.Minute || d > 24*time.Hour {
				return Config{}, fmt.Errorf("config auth.backstageTokenExpiration: %s is outside 10m..24h", d)
			}
			out.TokenExpiration = d
		}
		for _, id := range sortedKeys(ra.Providers) {
			path := "auth.providers." + id
			switch id {
			case "oidc":
				envs, ok := ra.Providers[id].(map[string]any)
				if !ok {
					return Config{}, fmt.Errorf("config %s: expected a map of environments (auth.providers.oidc.<env>)", path)
				}
				out.OIDC = map[string]OIDCConfig{}
				for _, env := range sortedKeys(envs) {
					oc, err := decodeOIDC(path+"."+env, envs[env])
					if err != nil {
						return Config{}, err
					}
					out.OIDC[env] = oc
				}
			case "guest":
				var rg rawGuest
				if v := ra.Providers[id]; v != nil {
					if err := plugins.DecodeValue(path, v, &rg); err != nil {
						return Config{}, err
					}
				}
				g := &GuestConfig{UserEntityRef: rg.UserEntityRef, OwnershipEntityRefs: rg.OwnershipEntityRefs, DangerouslyAllowOutsideDevelopment: rg.DangerouslyAllowOutsideDevelopment}
				if g.UserEntityRef == "" {
					g.UserEntityRef = DefaultGuestUserRef
				}
				if !isUserRef(g.UserEntityRef) {
					return Config{}, fmt.Errorf("config %s.userEntityRef: %q is not a user entity ref (user:<namespace>/<name>)", path, g.UserEntityRef)
				}
				if len(g.OwnershipEntityRefs) == 0 {
					g.OwnershipEntityRefs = []string{g.UserEntityRef}
				}
				out.Guest = g
			default:
				return Config{}, fmt.Errorf("config %s: provider %q is not supported (supported: oidc, guest)", path, id)
			}
		}
	}
	if v := cfg.Get("backend.auth"); v != nil {
		var rb rawBackendAuth
		if err := plugins.DecodeValue("backend.auth", v, &rb); err != nil {
			return Config{}, err
		}
		out.DisableDefaultAuthPolicy = rb.DangerouslyDisableDefaultAuthPolicy
		seen := map[string]bool{}
		for i, e := range rb.ExternalAccess {
			path := fmt.Sprintf("backend.auth.externalAccess[%d]", i)
			if e.Type != "static" {
				return Config{}, fmt.Errorf("config %s.type: %q is not supported (supported: static)", path, e.Type)
			}
			var opts struct {
				Token   string `yaml:"token"`
				Subject string `yaml:"subject"`
			}
			if e.Options != nil {
				if err := plugins.DecodeValue(path+".options", e.Options, &opts); err != nil {
					return Config{}, err
				}
			}
			tok, sub := opts.Token, opts.Subject
			switch {
			case tok == "" || strings.ContainsFunc(tok, isSpace):
				return Config{}, fmt.Errorf("config %s.options.token: illegal token, must be a set of non-space characters", path)
			case len(tok) < minStaticTokenLength:
				return Config{}, fmt.Errorf("config %s.options.token: illegal token, must be at least %d characters length", path, minStaticTokenLength)
			case sub == "" || strings.ContainsFunc(sub, isSpace):
				return Config{}, fmt.Errorf("config %s.options.subject: illegal subject, must be a set of non-space characters", path)
			case seen[tok]:
				return Config{}, fmt.Errorf("config %s.options.token: static externalAccess token was declared more than once", path)
			}
			seen[tok] = true
			st := StaticToken{Token: tok, Subject: sub}
			seenPlugins := map[string]bool{}
			for j, r := range e.AccessRestrictions {
				rp := fmt.Sprintf("%s.accessRestrictions[%d]", path, j)
				if r.Plugin == "" {
					return Config{}, fmt.Errorf("config %s.plugin: missing", rp)
				}
				if seenPlugins[r.Plugin] {
					return Config{}, fmt.Errorf("config %s.plugin: %q is listed twice", rp, r.Plugin)
				}
				seenPlugins[r.Plugin] = true
				ar := AccessRestriction{Plugin: r.Plugin}
				var err error
				if ar.Permissions, err = stringOrList(rp+".permission", r.Permission); err != nil {
					return Config{}, err
				}
				if r.PermissionAttribute != nil {
					if ar.Actions, err = stringOrList(rp+".permissionAttribute.action", r.PermissionAttribute.Action); err != nil {
						return Config{}, err
					}
				}
				st.Restrictions = append(st.Restrictions, ar)
			}
			out.ExternalAccess = append(out.ExternalAccess, st)
		}
	}
	return out, nil
}

func decodeOIDC(path string, v any) (OIDCConfig, error) {
	var r rawOIDC
	if err := plugins.DecodeValue(path, v, &r); err != nil {
		return OIDCConfig{}, err
	}
	if r.Scope != nil {
		return OIDCConfig{}, fmt.Errorf("config %s.scope: the oidc provider no longer supports the \"scope\" option; use additionalScopes", path)
	}
	for _, f := range []struct{ key, val string }{{"clientId", r.ClientID}, {"clientSecret", r.ClientSecret}, {"metadataUrl", r.MetadataURL}} {
		if f.val == "" {
			return OIDCConfig{}, fmt.Errorf("config %s.%s: missing", path, f.key)
		}
	}
	oc := OIDCConfig{
		ClientID: r.ClientID, ClientSecret: r.ClientSecret, MetadataURL: r.MetadataURL,
		CallbackURL: r.CallbackURL, TokenEndpointAuthMethod: r.TokenEndpointAuthMethod,
		TokenSignedResponseAlg: r.TokenSignedResponseAlg, Prompt: r.Prompt,
		Timeout: defaultOIDCTimeout, SessionDuration: DefaultSessionDuration,
		Scopes: []string{"openid", "profile", "email"},
	}
	if err := checkHTTPURL(r.MetadataURL); err != nil {
		return OIDCConfig{}, fmt.Errorf("config %s.metadataUrl: %w", path, err)
	}
	if r.CallbackURL != "" {
		if err := checkHTTPURL(r.CallbackURL); err != nil {
			return OIDCConfig{}, fmt.Errorf("config %s.callbackUrl: %w", path, err)
		}
	}
	switch oc.TokenEndpointAuthMethod {
	case "", "client_secret_basic", "client_secret_post":
	default:
		return OIDCConfig{}, fmt.Errorf("config %s.tokenEndpointAuthMethod: %q is not supported (client_secret_basic or client_secret_post)", path, oc.TokenEndpointAuthMethod)
	}
	if a := oc.TokenSignedResponseAlg; a != "" && !signingAlgs[a] {
		return OIDCConfig{}, fmt.Errorf("config %s.tokenSignedResponseAlg: %q is not an accepted signature algorithm", path, a)
	}
	extra, err := scopeList(path+".additionalScopes", r.AdditionalScopes)
	if err != nil {
		return OIDCConfig{}, err
	}
	for _, s := range extra {
		if !slices.Contains(oc.Scopes, s) {
			oc.Scopes = append(oc.Scopes, s)
		}
	}
	if r.Timeout != nil {
		if oc.Timeout, err = plugins.ParseDuration(r.Timeout); err != nil {
			return OIDCConfig{}, fmt.Errorf("config %s.timeout: %w", path, err)
		}
	}
	if r.SessionDuration != nil {
		if oc.SessionDuration, err = plugins.ParseDuration(r.SessionDuration); err != nil {
			return OIDCConfig{}, fmt.Errorf("config %s.sessionDuration: %w", path, err)
		}
		if oc.SessionDuration <= 0 {
			return OIDCConfig{}, fmt.Errorf("config %s.sessionDuration: must be longer than zero", path)
		}
	}
	if r.SignIn != nil {
		for i, res := range r.SignIn.Resolvers {
			rp := fmt.Sprintf("%s.signIn.resolvers[%d]", path, i)
			if !slices.Contains(resolverNames, res.Resolver) {
				return OIDCConfig{}, fmt.Errorf("config %s.resolver: unknown resolver %q (known: %s)", rp, res.Resolver, strings.Join(resolverNames, ", "))
			}
			if len(res.AllowedDomains) > 0 && res.Resolver != "emailLocalPartMatchingUserEntityName" {
				return OIDCConfig{}, fmt.Errorf("config %s.allowedDomains: only emailLocalPartMatchingUserEntityName takes allowedDomains", rp)
			}
			oc.Resolvers = append(oc.Resolvers, ResolverConfig{Resolver: res.Resolver, AllowedDomains: res.AllowedDomains, DangerouslyAllowSignInWithoutUserInCatalog: res.DangerouslyAllowSignInWithoutUserInCatalog})
		}
	}
	if len(oc.Resolvers) == 0 {
		// Without a resolver Backstage issues no Backstage identity, so
		// nobody could sign in to the portal: say so at start.
		return OIDCConfig{}, fmt.Errorf("config %s.signIn.resolvers: configure at least one sign-in resolver (%s)", path, strings.Join(resolverNames, ", "))
	}
	return oc, nil
}

// signingAlgs are the ID token algorithms accepted; "none" is never one.
var signingAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"EdDSA": true,
}

func scopeList(path string, v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.FieldsFunc(x, func(r rune) bool { return r == ',' || isSpace(r) }), nil
	}
	return stringOrList(path, v)
}

func stringOrList(path string, v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("config %s[%d]: expected a string", path, i)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("config %s: expected a string or a list of strings", path)
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

var userRefPattern = regexp.MustCompile(`^user:[^:/\s]+/[^:/\s]+$`)

func isUserRef(s string) bool { return userRefPattern.MatchString(s) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
