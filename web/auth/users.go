package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrUserNotFound is what Users returns when no User entity matches.
var ErrUserNotFound = errors.New("user not found")

// User is what sign-in needs from a User entity.
type User struct {
	Ref string // user:default/jane
	// Groups are the targets of the user's memberOf relations that are
	// Groups (group:default/team-a).
	Groups      []string
	DisplayName string
	Email       string
	Picture     string
}

// Users looks User entities up in the catalog; the lead implements it
// over the catalog store.
type Users interface {
	// ByProfileEmail returns every User whose spec.profile.email equals
	// email (none: an empty slice and no error).
	ByProfileEmail(ctx context.Context, email string) ([]User, error)
	// ByRef returns the User with that entity ref (user:<ns>/<name>), or
	// an error wrapping ErrUserNotFound.
	ByRef(ctx context.Context, ref string) (User, error)
}

// GroupParents is implemented by a Users that can follow a group's
// parent (childOf / spec.parent), needed for
// includeTransitiveGroupOwnership.
type GroupParents interface {
	Parents(ctx context.Context, groupRef string) ([]string, error)
}

// maxGroupDepth bounds the walk up the group tree: a cycle or a very deep
// hierarchy must not hang sign-in.
const maxGroupDepth = 32

// ownershipRefs is the user's ref plus its groups (Backstage's
// resolveOwnershipEntityRefs, direct only) and, with transitive on,
// every ancestor group (RHDH's TransitiveGroupOwnershipResolver).
func (a *Auth) ownershipRefs(ctx context.Context, u User) ([]string, error) {
	refs := []string{u.Ref}
	add := func(r string) bool {
		if slices.Contains(refs, r) {
			return false
		}
		refs = append(refs, r)
		return true
	}
	frontier := []string{}
	for _, g := range u.Groups {
		if add(g) {
			frontier = append(frontier, g)
		}
	}
	if !a.cfg.IncludeTransitiveGroupOwnership {
		return refs, nil
	}
	parents := a.opts.Users.(GroupParents)
	for depth := 0; len(frontier) > 0 && depth < maxGroupDepth; depth++ {
		var next []string
		for _, g := range frontier {
			ps, err := parents.Parents(ctx, g)
			if err != nil {
				return nil, fmt.Errorf("parents of %s: %w", g, err)
			}
			for _, p := range ps {
				if add(p) {
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	return refs, nil
}
