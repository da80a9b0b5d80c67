package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestResolvers(t *testing.T) {
	a, err := New(Options{BaseURL: "http://localhost:7007", Users: demoUsers()})
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	byEmail := ResolverConfig{Resolver: "emailMatchingUserEntityProfileEmail"}
	byEmailDanger := ResolverConfig{Resolver: "emailMatchingUserEntityProfileEmail", DangerouslyAllowSignInWithoutUserInCatalog: true}
	byLocal := ResolverConfig{Resolver: "emailLocalPartMatchingUserEntityName"}
	byLocalDomains := ResolverConfig{Resolver: "emailLocalPartMatchingUserEntityName", AllowedDomains: []string{"example.com"}}
	byLocalDanger := ResolverConfig{Resolver: "emailLocalPartMatchingUserEntityName", DangerouslyAllowSignInWithoutUserInCatalog: true}
	byUsername := ResolverConfig{Resolver: "preferredUsernameMatchingUserEntityName"}
	byUsernameDanger := ResolverConfig{Resolver: "preferredUsernameMatchingUserEntityName", DangerouslyAllowSignInWithoutUserInCatalog: true}
	for _, tc := range []struct {
		name      string
		profile   Profile
		resolvers []ResolverConfig
		wantRef   string
		catalog   bool
		wantErr   string // substring of the SignInError message
	}{
		{"email", Profile{Email: "jane@example.com", EmailVerified: &yes}, []ResolverConfig{byEmail}, "user:default/jane", true, ""},
		{"email plus-address retry", Profile{Email: "jane+portal@example.com"}, []ResolverConfig{byEmail}, "user:default/jane", true, ""},
		{"email plus-address, still no match", Profile{Email: "nobody+x@example.com"}, []ResolverConfig{byEmail}, "", false, "no User entity has spec.profile.email nobody+x@example.com or nobody@example.com"},
		{"email no match", Profile{Email: "nobody@example.com"}, []ResolverConfig{byEmail}, "", false, "Failed to sign-in, unable to resolve user identity"},
		{"email two matches", Profile{Email: "twin@example.com"}, []ResolverConfig{byEmail}, "", false, "multiple matches (user:default/twin1, user:default/twin2"},
		{"email unverified", Profile{Email: "jane@example.com", EmailVerified: &no}, []ResolverConfig{byEmail}, "", false, "is not verified"},
		{"email missing", Profile{PreferredUsername: "jane"}, []ResolverConfig{byEmail}, "", false, "does not contain an email"},
		{"email not in catalog, allowed", Profile{Email: "nobody@example.com"}, []ResolverConfig{byEmailDanger}, "user:default/nobody@example.com", false, ""},
		{"email plus not in catalog, allowed", Profile{Email: "nobody+x@example.com"}, []ResolverConfig{byEmailDanger}, "user:default/nobody@example.com", false, ""},
		{"local part", Profile{Email: "bob@elsewhere.org"}, []ResolverConfig{byLocal}, "user:default/bob", true, ""},
		{"local part, allowed domain", Profile{Email: "bob@EXAMPLE.com"}, []ResolverConfig{byLocalDomains}, "user:default/bob", true, ""},
		{"local part, other domain", Profile{Email: "bob@evil.example"}, []ResolverConfig{byLocalDomains}, "", false, "not from an allowed domain"},
		{"local part, domain spoof", Profile{Email: "bob@evil.example@example.com"}, []ResolverConfig{byLocalDomains}, "", false, "not from an allowed domain"},
		{"local part no match", Profile{Email: "carol@example.com"}, []ResolverConfig{byLocal}, "", false, "no User entity is named carol"},
		{"local part not in catalog, allowed", Profile{Email: "carol@example.com"}, []ResolverConfig{byLocalDanger}, "user:default/carol", false, ""},
		{"local part not an entity name", Profile{Email: "a/b@example.com"}, []ResolverConfig{byLocalDanger}, "", false, `"a/b" is not a valid entity name`},
		{"preferred username", Profile{PreferredUsername: "jane"}, []ResolverConfig{byUsername}, "user:default/jane", true, ""},
		{"preferred username missing", Profile{Email: "jane@example.com"}, []ResolverConfig{byUsername}, "", false, "does not contain a username"},
		{"preferred username traversal", Profile{PreferredUsername: "../admin"}, []ResolverConfig{byUsernameDanger}, "", false, "not a valid entity name"},
		{"preferred username not in catalog, allowed", Profile{PreferredUsername: "dave"}, []ResolverConfig{byUsernameDanger}, "user:default/dave", false, ""},
		{"first resolver that matches wins", Profile{Email: "bob@example.com"}, []ResolverConfig{byUsername, byEmail}, "user:default/bob", true, ""},
		{"order: the first match, not the second", Profile{Email: "bob@example.com", PreferredUsername: "jane"}, []ResolverConfig{byUsername, byEmail}, "user:default/jane", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := a.resolve(context.Background(), tc.profile, tc.resolvers)
			if tc.wantErr != "" {
				var se *SignInError
				if !errors.As(err, &se) || !strings.Contains(se.Message, tc.wantErr) || se.Status != http.StatusForbidden {
					t.Fatalf("err = %v, want a SignInError with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || res.user.Ref != tc.wantRef || res.fromCatalog != tc.catalog {
				t.Fatalf("= %+v, %v; want %s (catalog %v)", res, err, tc.wantRef, tc.catalog)
			}
		})
	}
	// A catalog failure is not "no such user".
	broken := demoUsers()
	broken.fail = errors.New("database is locked")
	b, _ := New(Options{BaseURL: "http://localhost:7007", Users: broken})
	_, err = b.resolve(context.Background(), Profile{Email: "jane@example.com"}, []ResolverConfig{byEmail})
	var se *SignInError
	if err == nil || errors.As(err, &se) {
		t.Errorf("catalog failure: %v", err)
	}
}

func TestNoMatchingUserPage(t *testing.T) {
	for _, tc := range []struct {
		email, want string
	}{
		{"nobody@example.com", "No User entity matches you"},
		{"twin@example.com", "More than one User entity matches you"},
	} {
		t.Run(tc.email, func(t *testing.T) {
			p := newPortal(t)
			p.idp.user["email"] = tc.email
			c := p.client()
			resp := p.signIn(c, "/")
			body := bodyString(resp)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tc.want) || !strings.Contains(body, tc.email) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			for _, bad := range []string{"goroutine", ".go:", "panic"} {
				if strings.Contains(body, bad) {
					t.Errorf("page shows %q", bad)
				}
			}
			if sc := sessionCookie(resp); sc != nil && sc.MaxAge >= 0 {
				t.Error("session set")
			}
			fails := p.audit.find(EventLogin, StatusFailed)
			if len(fails) != 1 || fails[0].Meta["who"] != tc.email {
				t.Errorf("audit %+v", fails)
			}
		})
	}
}

func TestCustomErrorPage(t *testing.T) {
	p := newPortal(t, func(_ map[string]any, o *Options) {
		o.ErrorPage = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e, _ := SignInErrorFromContext(r.Context())
			w.WriteHeader(e.Status)
			w.Write([]byte("custom: " + e.Title + " / " + e.Who))
		})
	})
	p.idp.user["email"] = "nobody@example.com"
	resp := p.signIn(p.client(), "/")
	if resp.StatusCode != 403 || bodyString(resp) != "custom: No User entity matches you / nobody@example.com" {
		t.Errorf("%d %q", resp.StatusCode, bodyString(resp))
	}
}
