package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/web/auth"
)

// Sign-in finds the demo's people by email and ref, with their groups and
// their groups' parents, from the catalog.
func TestCatalogUsers(t *testing.T) {
	dir := t.TempDir()
	root, err := demo.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := ingesttest.Ingest(t, dir, root)
	u := auth.CatalogUsers{Store: c.Store}
	ctx := context.Background()

	got, err := u.ByProfileEmail(ctx, "Ana.Petrovic@freshcart.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Ref != "user:default/ana.petrovic" || got[0].DisplayName != "Ana Petrovic" {
		t.Fatalf("by email: %+v", got)
	}
	slices.Sort(got[0].Groups)
	if !slices.Equal(got[0].Groups, []string{"group:default/team-data", "group:default/team-platform"}) {
		t.Errorf("groups %v", got[0].Groups)
	}
	if none, err := u.ByProfileEmail(ctx, "nobody@freshcart.example"); err != nil || len(none) != 0 {
		t.Errorf("unknown email: %v %v", none, err)
	}
	byRef, err := u.ByRef(ctx, "user:default/ana.petrovic")
	if err != nil || byRef.Email != "ana.petrovic@freshcart.example" {
		t.Errorf("by ref: %+v %v", byRef, err)
	}
	for _, bad := range []string{"user:default/nobody", "group:default/team-data", "not a ref::"} {
		if _, err := u.ByRef(ctx, bad); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("ByRef(%q): %v, want ErrUserNotFound", bad, err)
		}
	}
	parents, err := u.Parents(ctx, "group:default/team-platform")
	if err != nil || len(parents) != 1 {
		t.Fatalf("parents of team-platform: %v %v", parents, err)
	}
	var _ auth.Users = u
	var _ auth.GroupParents = u
}
