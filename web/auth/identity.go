package auth

import (
	"context"
	"slices"
)

// Kind says how a caller was identified.
type Kind string

const (
	// KindNone is an unauthenticated caller (only seen through
	// OptionalMiddleware; Middleware answers 401 instead).
	KindNone Kind = ""
	// KindSession is a person signed in through a browser session.
	KindSession Kind = "session"
	// KindToken is a caller presenting a Backstage user token.
	KindToken Kind = "token"
	// KindService is a program presenting a backend.auth.externalAccess
	// static token; it has a Subject, no UserRef.
	KindService Kind = "service"
	// KindGuest is an unauthenticated caller while the guest provider is on.
	KindGuest Kind = "guest"
	// KindAnonymous is an unauthenticated caller under
	// backend.auth.dangerouslyDisableDefaultAuthPolicy (Backstage's "none"
	// principal).
	KindAnonymous Kind = "anonymous"
)

// Identity is who a request acts as.
type Identity struct {
	Kind Kind
	// UserRef is the User entity ref (user:default/jane); empty for
	// services and anonymous callers.
	UserRef string
	// OwnershipRefs are the user ref and its groups, as Backstage's ent
	// claim.
	OwnershipRefs []string
	DisplayName   string
	Email         string
	Picture       string
	// Subject is a static token's subject (KindService).
	Subject string
	// Provider is the sign-in provider ("oidc", "guest") of a session.
	Provider string
	// Restrictions limit a static token to some plugins and permissions;
	// nil means unlimited, as in Backstage.
	Restrictions []AccessRestriction
}

// ActorID is Backstage's auditor actorId: the user ref, or the service's
// subject.
func (i Identity) ActorID() string {
	if i.UserRef != "" {
		return i.UserRef
	}
	return i.Subject
}

// IsUser reports whether the identity names a user (session, user token
// or guest).
func (i Identity) IsUser() bool { return i.UserRef != "" }

// Allowed reports whether the identity may call plugin at all: true
// without accessRestrictions, otherwise only for a listed plugin.
func (i Identity) Allowed(plugin string) bool {
	_, ok := i.restriction(plugin)
	return ok
}

// AllowedPermission reports whether a restricted identity may be granted
// permission (by name) with action inside plugin; the permission check
// itself still decides. An unrestricted identity is always allowed here.
func (i Identity) AllowedPermission(plugin, permission, action string) bool {
	r, ok := i.restriction(plugin)
	if !ok {
		return false
	}
	if len(r.Permissions) > 0 && !slices.Contains(r.Permissions, permission) {
		return false
	}
	if len(r.Actions) > 0 && !slices.Contains(r.Actions, action) {
		return false
	}
	return true
}

func (i Identity) restriction(plugin string) (AccessRestriction, bool) {
	if i.Restrictions == nil {
		return AccessRestriction{Plugin: plugin}, true
	}
	for _, r := range i.Restrictions {
		if r.Plugin == plugin {
			return r, true
		}
	}
	return AccessRestriction{}, false
}

type identityKey struct{}

// WithIdentity returns ctx carrying id (for the middleware, and for tests
// of handlers that read FromContext).
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the request's identity; ok is false when no
// middleware set one.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
