package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Profile is what the identity provider says about the person (ID token
// claims, overlaid by the userinfo endpoint's).
type Profile struct {
	Subject           string
	Email             string
	EmailVerified     *bool
	PreferredUsername string
	DisplayName       string
	Picture           string
}

// who names the person in messages: what they typed at the provider.
func (p Profile) who() string {
	switch {
	case p.Email != "":
		return p.Email
	case p.PreferredUsername != "":
		return p.PreferredUsername
	}
	return p.Subject
}

// SignInError is a refused sign-in, shown to the person on the error
// page. Its fields are safe to show: they never hold a token or code.
type SignInError struct {
	Status  int
	Title   string
	Message string
	// Who is the email or user name the person signed in with, if known.
	Who string
	// Retry is where to start again ("" when retrying cannot help).
	Retry string
}

func (e *SignInError) Error() string {
	if e.Who != "" {
		return e.Title + " (" + e.Who + "): " + e.Message
	}
	return e.Title + ": " + e.Message
}

// errSkip marks a resolver that found nothing to go on (no such user, no
// such claim): the next resolver is tried, as Backstage does for a
// NotFoundError.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

// entityNamePattern is Backstage's entity name rule.
var entityNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)

// plusAddress splits "joe+work@acme.com" as Backstage's reEmail does.
var plusAddress = regexp.MustCompile(`^([^@+]+)(\+[^@]+)?(@.*)$`)

// resolved is a sign-in resolver's answer.
type resolved struct {
	user User
	// fromCatalog is false for dangerouslyAllowSignInWithoutUserInCatalog
	// identities, which have no entity to re-read.
	fromCatalog bool
}

// resolve runs the configured resolvers in order; the first that yields
// a user wins.
func (a *Auth) resolve(ctx context.Context, p Profile, resolvers []ResolverConfig) (resolved, error) {
	var reasons []string
	for _, rc := range resolvers {
		res, err := a.resolveOne(ctx, p, rc)
		if err == nil {
			return res, nil
		}
		var skip errSkip
		if !errors.As(err, &skip) {
			return resolved{}, err
		}
		reasons = append(reasons, skip.reason)
	}
	return resolved{}, &SignInError{
		Status: http.StatusForbidden,
		Title:  "No User entity matches you",
		Message: "Failed to sign-in, unable to resolve user identity: " + strings.Join(reasons, "; ") +
			". Ask the portal's administrators to add a User entity for you to the catalog.",
		Who: p.who(),
	}
}

func (a *Auth) resolveOne(ctx context.Context, p Profile, rc ResolverConfig) (resolved, error) {
	switch rc.Resolver {
	case "emailMatchingUserEntityProfileEmail":
		if err := usableEmail(p); err != nil {
			return resolved{}, err
		}
		res, err := a.byEmail(ctx, p, p.Email)
		var skip errSkip
		if errors.As(err, &skip) {
			if m := plusAddress.FindStringSubmatch(p.Email); m != nil && m[2] != "" {
				noPlus := m[1] + m[3]
				res, err = a.byEmail(ctx, p, noPlus)
				if errors.As(err, &skip) {
					return notInCatalog(rc, noPlus, fmt.Sprintf("no User entity has spec.profile.email %s or %s", p.Email, noPlus))
				}
				return res, err
			}
			return notInCatalog(rc, p.Email, "no User entity has spec.profile.email "+p.Email)
		}
		return res, err
	case "emailLocalPartMatchingUserEntityName":
		if err := usableEmail(p); err != nil {
			return resolved{}, err
		}
		local, domain, _ := strings.Cut(p.Email, "@")
		if len(rc.AllowedDomains) > 0 && !containsFold(rc.AllowedDomains, domain) {
			return resolved{}, &SignInError{
				Status: http.StatusForbidden, Title: "Sign-in refused",
				Message: "Sign-in user email is not from an allowed domain.", Who: p.Email,
			}
		}
		return a.byName(ctx, rc, local, "no User entity is named "+local)
	case "preferredUsernameMatchingUserEntityName":
		name := p.PreferredUsername
		if name == "" {
			return resolved{}, errSkip{"OIDC user profile does not contain a username (preferred_username)"}
		}
		return a.byName(ctx, rc, name, "no User entity is named "+name)
	}
	return resolved{}, fmt.Errorf("unknown resolver %q", rc.Resolver)
}

// usableEmail refuses a missing email, and one the provider itself says
// is unverified: matching on an address anyone could claim would hand
// them someone else's entity (Backstage does not check this).
func usableEmail(p Profile) error {
	if p.Email == "" {
		return errSkip{"the user profile does not contain an email"}
	}
	if p.EmailVerified != nil && !*p.EmailVerified {
		return errSkip{"the identity provider says the email " + p.Email + " is not verified"}
	}
	return nil
}

func (a *Auth) byEmail(ctx context.Context, p Profile, email string) (resolved, error) {
	users, err := a.opts.Users.ByProfileEmail(ctx, email)
	if err != nil {
		return resolved{}, fmt.Errorf("looking up users by email: %w", err)
	}
	switch len(users) {
	case 0:
		return resolved{}, errSkip{"no User entity has spec.profile.email " + email}
	case 1:
		return resolved{user: users[0], fromCatalog: true}, nil
	}
	refs := make([]string, len(users))
	for i, u := range users {
		refs[i] = u.Ref
	}
	return resolved{}, &SignInError{
		Status: http.StatusForbidden, Title: "More than one User entity matches you",
		Message: "User lookup resulted in multiple matches (" + strings.Join(refs, ", ") + " have spec.profile.email " + email + "). Ask the portal's administrators to keep one.",
		Who:     p.who(),
	}
}

func (a *Auth) byName(ctx context.Context, rc ResolverConfig, name, reason string) (resolved, error) {
	if !entityNamePattern.MatchString(name) {
		return resolved{}, errSkip{fmt.Sprintf("%q is not a valid entity name", name)}
	}
	u, err := a.opts.Users.ByRef(ctx, "user:default/"+name)
	if errors.Is(err, ErrUserNotFound) {
		return notInCatalog(rc, name, reason)
	}
	if err != nil {
		return resolved{}, fmt.Errorf("looking up user %s: %w", name, err)
	}
	return resolved{user: u, fromCatalog: true}, nil
}

// notInCatalog is Backstage's handleSignInUserNotFound: with the
// dangerous flag, a user:default/<name> identity owning only itself.
func notInCatalog(rc ResolverConfig, name, reason string) (resolved, error) {
	if !rc.DangerouslyAllowSignInWithoutUserInCatalog {
		return resolved{}, errSkip{reason}
	}
	return resolved{user: User{Ref: "user:default/" + name}}, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
