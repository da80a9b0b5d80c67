package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// CatalogUsers is how sign-in finds people: User entities of the catalog,
// their groups from their memberOf relations, and a group's parents from
// its childOf relations (for includeTransitiveGroupOwnership).
type CatalogUsers struct{ Store *store.Store }

// maxUsersByEmail bounds a lookup: more than a few Users sharing an
// email is a catalog mistake the resolver reports, not a list to load.
const maxUsersByEmail = 10

func (u CatalogUsers) ByProfileEmail(ctx context.Context, email string) ([]User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, nil
	}
	rows, _, err := u.Store.Query(ctx, store.QueryRequest{
		Filter: store.All{
			store.Field{Key: "kind", Values: []string{"user"}},
			store.Field{Key: "spec.profile.email", Values: []string{strings.ToLower(email)}},
		},
		Limit: maxUsersByEmail,
	})
	if err != nil {
		return nil, fmt.Errorf("users with email: %w", err)
	}
	out := make([]User, 0, len(rows))
	for i, row := range rows {
		if i == maxUsersByEmail {
			break
		}
		usr, err := userOf(row.Final)
		if err != nil {
			return nil, err
		}
		out = append(out, usr)
	}
	return out, nil
}

func (u CatalogUsers) ByRef(ctx context.Context, ref string) (User, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: "User", Namespace: catalog.DefaultNamespace})
	if err != nil || !strings.EqualFold(r.Kind, "user") {
		return User{}, fmt.Errorf("%s is not a user ref: %w", ref, ErrUserNotFound)
	}
	final, err := u.Store.FinalByRef(ctx, r.String())
	if errors.Is(err, store.ErrNotFound) {
		return User{}, fmt.Errorf("%s: %w", r, ErrUserNotFound)
	}
	if err != nil {
		return User{}, err
	}
	return userOf(final)
}

// Parents are a group's parent groups (its childOf relations).
func (u CatalogUsers) Parents(ctx context.Context, groupRef string) ([]string, error) {
	final, err := u.Store.FinalByRef(ctx, strings.ToLower(groupRef))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e catalog.Entity
	if err := json.Unmarshal(final, &e); err != nil {
		return nil, fmt.Errorf("group %s: %w", groupRef, err)
	}
	var out []string
	for _, rel := range e.Relations {
		if rel.Type == catalog.RelationChildOf && strings.HasPrefix(rel.TargetRef, "group:") {
			out = append(out, rel.TargetRef)
		}
	}
	return out, nil
}

// userOf reads what sign-in needs from a stored User entity.
func userOf(final []byte) (User, error) {
	var e struct {
		catalog.Entity
		Spec struct {
			Profile struct {
				DisplayName string `json:"displayName"`
				Email       string `json:"email"`
				Picture     string `json:"picture"`
			} `json:"profile"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(final, &e); err != nil {
		return User{}, fmt.Errorf("user entity: %w", err)
	}
	u := User{Ref: e.Entity.Ref().String(), DisplayName: e.Spec.Profile.DisplayName, Email: e.Spec.Profile.Email, Picture: e.Spec.Profile.Picture}
	for _, rel := range e.Relations {
		if rel.Type == catalog.RelationMemberOf && strings.HasPrefix(rel.TargetRef, "group:") {
			u.Groups = append(u.Groups, rel.TargetRef)
		}
	}
	return u, nil
}
