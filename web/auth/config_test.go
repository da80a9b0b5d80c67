package auth

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/plugins"
)

func decodeYAML(t *testing.T, src string) (Config, error) {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(src), &raw); err != nil {
		t.Fatal(err)
	}
	return DecodeConfig(plugins.NewConfig(raw))
}

func TestDecodeConfig(t *testing.T) {
	cfg, err := decodeYAML(t, `
includeTransitiveGroupOwnership: true
auth:
  environment: production
  backstageTokenExpiration: {minutes: 30}
  session: {secret: s3cret-session}
  providers:
    guest: {}
    oidc:
      production:
        clientId: portal
        clientSecret: cs
        metadataUrl: https://idp.example.com/.well-known/openid-configuration
        callbackUrl: https://portal.example.com/api/auth/oidc/handler/frame
        tokenEndpointAuthMethod: client_secret_post
        additionalScopes: [groups, offline_access, email]
        prompt: auto
        timeout: PT5S
        sessionDuration: {hours: 12}
        signIn:
          resolvers:
            - resolver: emailLocalPartMatchingUserEntityName
              allowedDomains: [example.com]
            - resolver: emailMatchingUserEntityProfileEmail
              dangerouslyAllowSignInWithoutUserInCatalog: true
      development:
        clientId: dev
        clientSecret: dcs
        metadataUrl: http://127.0.0.1:3000
        additionalScopes: "groups,read:user other"
        sessionDuration: 2h
        signIn: {resolvers: [{resolver: preferredUsernameMatchingUserEntityName}]}
backend:
  auth:
    dangerouslyDisableDefaultAuthPolicy: true
    externalAccess:
      - type: static
        options: {token: abcdefgh12, subject: ci}
        accessRestrictions:
          - plugin: catalog
            permission: catalog.entity.read
            permissionAttribute: {action: [read, update]}
          - plugin: search
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Environment != "production" || cfg.TokenExpiration != 30*time.Minute || cfg.SessionSecret != "s3cret-session" ||
		!cfg.IncludeTransitiveGroupOwnership || !cfg.DisableDefaultAuthPolicy {
		t.Errorf("top level %+v", cfg)
	}
	if cfg.Guest == nil || cfg.Guest.UserEntityRef != "user:development/guest" || !slices.Equal(cfg.Guest.OwnershipEntityRefs, []string{"user:development/guest"}) {
		t.Errorf("guest %+v", cfg.Guest)
	}
	prod := cfg.OIDC["production"]
	if prod.ClientID != "portal" || prod.TokenEndpointAuthMethod != "client_secret_post" || prod.Prompt != "auto" ||
		prod.Timeout != 5*time.Second || prod.SessionDuration != 12*time.Hour ||
		!slices.Equal(prod.Scopes, []string{"openid", "profile", "email", "groups", "offline_access"}) {
		t.Errorf("production %+v", prod)
	}
	if len(prod.Resolvers) != 2 || !slices.Equal(prod.Resolvers[0].AllowedDomains, []string{"example.com"}) || !prod.Resolvers[1].DangerouslyAllowSignInWithoutUserInCatalog {
		t.Errorf("resolvers %+v", prod.Resolvers)
	}
	dev := cfg.OIDC["development"]
	if dev.SessionDuration != 2*time.Hour || dev.Timeout != 10*time.Second || !slices.Equal(dev.Scopes, []string{"openid", "profile", "email", "groups", "read:user", "other"}) {
		t.Errorf("development %+v", dev)
	}
	want := []AccessRestriction{{Plugin: "catalog", Permissions: []string{"catalog.entity.read"}, Actions: []string{"read", "update"}}, {Plugin: "search"}}
	if len(cfg.ExternalAccess) != 1 || cfg.ExternalAccess[0].Subject != "ci" || len(cfg.ExternalAccess[0].Restrictions) != 2 ||
		!slices.Equal(cfg.ExternalAccess[0].Restrictions[0].Actions, want[0].Actions) || cfg.ExternalAccess[0].Restrictions[1].Plugin != "search" {
		t.Errorf("externalAccess %+v", cfg.ExternalAccess)
	}
}

func TestDecodeConfigDefaults(t *testing.T) {
	cfg, err := decodeYAML(t, `
auth:
  providers:
    oidc:
      development:
        clientId: a
        clientSecret: b
        metadataUrl: https://idp.example.com
        signIn: {resolvers: [{resolver: emailMatchingUserEntityProfileEmail}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.OIDC["development"]
	if cfg.Environment != "development" || cfg.TokenExpiration != time.Hour || d.SessionDuration != 1000*24*time.Hour || cfg.Guest != nil {
		t.Errorf("%+v", cfg)
	}
}

func TestDecodeConfigErrors(t *testing.T) {
	oidc := func(extra string) string {
		return `
auth:
  providers:
    oidc:
      development:
        clientId: a
        clientSecret: the-client-secret-value
        metadataUrl: https://idp.example.com
        signIn: {resolvers: [{resolver: emailMatchingUserEntityProfileEmail}]}
` + extra
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown oidc key", oidc("        clientSecre: x\n"), "field clientSecre not found"},
		{"unknown auth key", "auth:\n  enviroment: x\n", "field enviroment not found"},
		{"unknown provider", "auth:\n  providers:\n    github: {development: {clientId: a}}\n", `auth.providers.github: provider "github" is not supported`},
		{"unknown guest key", "auth:\n  providers:\n    guest: {userRef: x}\n", "field userRef not found"},
		{"guest ref", "auth:\n  providers:\n    guest: {userEntityRef: jane}\n", "userEntityRef: \"jane\" is not a user entity ref"},
		{"scope", oidc("        scope: openid\n"), "no longer supports the \"scope\" option"},
		{"missing clientId", "auth:\n  providers:\n    oidc:\n      development: {clientSecret: x, metadataUrl: 'https://x'}\n", "auth.providers.oidc.development.clientId: missing"},
		{"bad duration", oidc("        sessionDuration: {fortnights: 1}\n"), "sessionDuration: unknown duration unit"},
		{"unknown resolver", strings.Replace(oidc(""), "emailMatchingUserEntityProfileEmail", "emailMatchingUserEntityAnnotation", 1), `unknown resolver "emailMatchingUserEntityAnnotation"`},
		{"no resolvers", strings.Replace(oidc(""), "        signIn: {resolvers: [{resolver: emailMatchingUserEntityProfileEmail}]}\n", "", 1), "configure at least one sign-in resolver"},
		{"unknown resolver key", strings.Replace(oidc(""), "{resolver: emailMatchingUserEntityProfileEmail}", "{resolver: emailMatchingUserEntityProfileEmail, allowDomains: [a]}", 1), "field allowDomains not found"},
		{"metadata not a URL", strings.Replace(oidc(""), "https://idp.example.com", "idp.example.com", 1), "metadataUrl: \"idp.example.com\" is not an absolute http(s) URL"},
		{"token expiry bounds", "auth:\n  backstageTokenExpiration: {days: 2}\n", "outside 10m..24h"},
		{"static short", "backend:\n  auth:\n    externalAccess: [{type: static, options: {token: short, subject: ci}}]\n", "must be at least 8 characters"},
		{"static spaces", "backend:\n  auth:\n    externalAccess: [{type: static, options: {token: 'has a space here', subject: ci}}]\n", "must be a set of non-space characters"},
		{"static twice", "backend:\n  auth:\n    externalAccess: [{type: static, options: {token: abcdefgh12, subject: a}}, {type: static, options: {token: abcdefgh12, subject: b}}]\n", "declared more than once"},
		{"legacy", "backend:\n  auth:\n    externalAccess: [{type: legacy, options: {secret: abc, subject: a}}]\n", `"legacy" is not supported`},
		{"restriction key", "backend:\n  auth:\n    externalAccess: [{type: static, options: {token: abcdefgh12, subject: a}, accessRestrictions: [{plugins: catalog}]}]\n", "field plugins not found"},
		{"unknown backend.auth key", "backend:\n  auth:\n    keys: [{secret: abc}]\n", "field keys not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeYAML(t, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, secret := range []string{"the-client-secret-value", "abcdefgh12", "has a space here"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a secret: %v", err)
				}
			}
		})
	}
}
