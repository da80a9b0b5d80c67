package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playwright-community/playwright-go"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gitea/giteatest"
	"github.com/greenroom-dev/greenroom/web"
	"github.com/greenroom-dev/greenroom/web/audit"
	"github.com/greenroom-dev/greenroom/web/auth"
)

// Jane is a person of the test catalog and an account at the Gitea that
// signs people in; the email is what joins the two.
const (
	janeEmail   = "jane@example.test"
	janeName    = "Jane Doe"
	signinExtra = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: signin-extra
spec:
  targets: [./jane.yaml]
`
	janeUser = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: jane
spec:
  profile:
    displayName: ` + janeName + `
    email: ` + janeEmail + `
  memberOf: [team-checkout]
`
)

// Signing in through a real OIDC provider (Gitea): the header's Sign in
// link, Gitea's login form, the code flow back to the portal, Jane in the
// header with a Sign out button, and Sign out back to the Sign in link.
// Once with JavaScript and once without: sign-in is plain links, redirects
// and a form, so it must not need scripts.
func TestSignInWithGiteaOIDC(t *testing.T) {
	needBrowser(t)
	g := giteatest.Start(t)
	ctx := t.Context()
	const password = "jane-Secret-pw-81723"
	if err := g.Do(ctx, "POST", "/admin/users", map[string]any{
		"username": "jane", "email": janeEmail, "password": password, "must_change_password": false,
	}, nil); err != nil {
		t.Fatal(err)
	}
	s := startSignInPortal(t)
	var oauthApp struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := g.Do(ctx, "POST", "/user/applications/oauth2", map[string]any{
		"name": "greenroom-e2e", "redirect_uris": []string{s.URL + "/api/auth/oidc/handler/frame"},
		"confidential_client": true, "skip_secondary_authorization": true,
	}, &oauthApp); err != nil {
		t.Fatal(err)
	}
	if oauthApp.ClientID == "" || oauthApp.ClientSecret == "" {
		t.Fatalf("Gitea returned no client credentials: %+v", oauthApp.ClientID)
	}
	s.start(t, map[string]any{"auth": map[string]any{
		"environment": "development",
		"providers": map[string]any{"oidc": map[string]any{"development": map[string]any{
			"clientId": oauthApp.ClientID, "clientSecret": oauthApp.ClientSecret,
			"metadataUrl": g.URL + "/.well-known/openid-configuration",
			"prompt":      "auto",
			"signIn": map[string]any{"resolvers": []any{
				map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"},
			}},
		}}},
	}})

	for _, js := range []bool{true, false} {
		name := "js"
		if !js {
			name = "no-js"
		}
		t.Run(name, func(t *testing.T) {
			suffix := ""
			if !js {
				suffix = "-no-js"
			}
			p := signInTab(t, s.URL, js)
			p.open(s.URL + "/")
			slot := p.Locator(".user-slot")
			p.must(p.expect(slot.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Sign in"})).ToBeVisible())
			p.must(slot.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Sign in"}).Click())

			// Gitea's own login form (server-rendered: it works without
			// Gitea's scripts, which this build does not have).
			p.waitForURL(g.URL + "/user/login**")
			p.must(p.Locator("input[name=user_name]").Fill("jane"))
			p.must(p.Locator("input[name=password]").Fill(password))
			p.must(p.Locator("input[name=password]").Press("Enter"))

			// skip_secondary_authorization should spare the grant page;
			// if this Gitea shows it anyway, grant.
			deadline := time.Now().Add(15 * time.Second)
			for !strings.HasPrefix(p.URL(), s.URL) {
				if strings.Contains(p.URL(), "/login/oauth/authorize") {
					if n, _ := p.Locator("#authorize-app, button[name=granted][value=true]").Count(); n > 0 {
						p.must(p.Locator("#authorize-app, button[name=granted][value=true]").First().Click())
					}
				}
				if time.Now().After(deadline) {
					body, _ := p.Locator("body").InnerText()
					p.shot("signin-stuck" + suffix)
					t.Fatalf("sign-in did not come back to the portal; at %s:\n%s", p.URL(), trimText(body, 800))
				}
				time.Sleep(50 * time.Millisecond)
			}
			p.must(p.WaitForLoadState(playwright.PageWaitForLoadStateOptions{State: playwright.LoadStateLoad}))
			if got := p.URL(); got != s.URL+"/" {
				t.Errorf("after sign-in the browser is at %s, want %s/ (where sign-in started)", got, s.URL)
			}
			p.must(p.expect(slot.Locator(".signed-in")).ToHaveText(janeName))
			p.must(p.expect(slot.Locator(".signed-in a")).ToHaveAttribute("href", "/catalog/default/user/jane"))
			signOut := slot.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Sign out"})
			p.must(p.expect(signOut).ToBeVisible())
			p.must(p.expect(slot.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Sign in"})).ToHaveCount(0))
			p.shot("signin-signed-in" + suffix)
			// The session rides on a cookie the pages' scripts cannot read.
			cookies, err := p.Context().Cookies(s.URL)
			p.must(err)
			var session *playwright.Cookie
			for i := range cookies {
				if cookies[i].Name == "greenroom-session" {
					session = &cookies[i]
				}
			}
			if session == nil || !session.HttpOnly || session.SameSite == nil || *session.SameSite != *playwright.SameSiteAttributeLax {
				t.Errorf("session cookie = %+v, want greenroom-session, HttpOnly, SameSite=Lax", session)
			}
			// Still signed in on the next page.
			p.open(s.URL + "/catalog")
			p.must(p.expect(slot.Locator(".signed-in")).ToHaveText(janeName))

			p.must(signOut.Click())
			p.must(p.expect(slot.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Sign in"})).ToBeVisible())
			p.must(p.expect(slot.Locator(".signed-in")).ToHaveCount(0))
			p.must(p.expect(signOut).ToHaveCount(0))
			if got := p.URL(); got != s.URL+"/" {
				t.Errorf("after sign-out the browser is at %s, want %s/", got, s.URL)
			}
			p.shot("signin-signed-out" + suffix)
			// The audit page shows the sign-in and the sign-out, by Jane.
			p.open(s.URL + "/audit?actor=user:default/jane")
			events := p.Locator("#audit-events tbody")
			p.must(p.expect(events).ToContainText("auth.auth-login"))
			p.must(p.expect(events).ToContainText("auth.auth-logout"))
			p.must(p.expect(events).ToContainText("succeeded"))
			p.shot("audit-log" + suffix)
			// Signed out for good: the server dropped the session, not
			// only the cookie.
			if session != nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/", nil)
				req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
				resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				resp.Body.Close()
				if strings.Contains(b.String(), janeName) {
					t.Error("the old session cookie still signs Jane in after sign-out")
				}
			}
			html, err := p.Content()
			p.must(err)
			if strings.Contains(html, oauthApp.ClientSecret) || strings.Contains(html, password) {
				t.Error("a page shows the client secret or the password")
			}
		})
	}
	// Secrets never reach the portal's log.
	logs := s.log.String()
	for what, secret := range map[string]string{"client secret": oauthApp.ClientSecret, "password": password} {
		if strings.Contains(logs, secret) {
			t.Errorf("the portal log holds the %s", what)
		}
	}
}

// signInPortal is a portal on the demo catalog plus Jane, with sign-in
// wired as `greenroom serve` wires it. Its address is fixed before sign-in
// is configured, since the OIDC callback URL is made from it.
type signInPortal struct {
	URL   string
	dir   string
	st    *store.Store
	srv   *httptest.Server
	log   *lockedBuffer
	build func(*auth.Auth) http.Handler
	// auditor keeps the portal's audit log (sign-ins and sign-outs).
	auditor *audit.Auditor
}

func startSignInPortal(t *testing.T) *signInPortal {
	t.Helper()
	dir := t.TempDir()
	root, err := demo.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"all.yaml": signinExtra, "jane.yaml": janeUser} {
		p := filepath.Join(dir, "extra", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := ingesttest.Ingest(t, dir, root, filepath.Join(dir, "extra", "all.yaml"))
	if _, err := c.Store.FinalByRef(t.Context(), "user:default/jane"); err != nil {
		t.Fatalf("jane was not ingested: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &signInPortal{URL: "http://" + ln.Addr().String(), dir: dir, st: c.Store, log: &lockedBuffer{}}
	auditStore, err := audit.OpenSQLite(filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditStore.Close() })
	s.auditor = &audit.Auditor{Store: auditStore, ActorOf: func(r *http.Request) string {
		id, _ := auth.FromContext(r.Context())
		return id.ActorID()
	}}
	s.build = func(a *auth.Auth) http.Handler {
		return (&web.Server{
			Catalog: c.Store, Ingester: c.Engine, LocationTypes: []string{"url", "git"},
			CatalogAPI: (&api.Server{Store: c.Store, Ingester: c.Engine, AllowedLocationTypes: []string{"url", "git"}}).Routes(),
			Auth:       a, Audit: s.auditor,
		}).Handler()
	}
	s.srv = httptest.NewUnstartedServer(nil)
	s.srv.Listener.Close()
	s.srv.Listener = ln
	t.Cleanup(func() {
		if s.srv.Config.Handler != nil {
			s.srv.Close()
		} else {
			ln.Close()
		}
	})
	return s
}

// start configures sign-in from raw (the config document) and serves.
func (s *signInPortal) start(t *testing.T, raw map[string]any) {
	t.Helper()
	cfg, err := auth.DecodeConfig(plugins.NewConfig(raw))
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.OpenSQLiteSessions(filepath.Join(s.dir, "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sessions.Close() })
	a, err := auth.New(auth.Options{
		Config: cfg, BaseURL: s.URL, BasePath: "/api/auth",
		Users: auth.CatalogUsers{Store: s.st}, Sessions: sessions, Auditor: s.auditor,
		Log:  slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTP: &http.Client{Timeout: 30 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.Config.Handler = s.build(a)
	s.srv.Start()
}

// catalogUsers does (which package main keeps to itself).
func testUserOf(final []byte) (auth.User, error) {
	var e struct {
		catalog.Entity
		Spec struct {
			Profile struct {
				DisplayName string `json:"displayName"`
				Email       string `json:"email"`
			} `json:"profile"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(final, &e); err != nil {
		return auth.User{}, err
	}
	u := auth.User{Ref: e.Entity.Ref().String(), DisplayName: e.Spec.Profile.DisplayName, Email: e.Spec.Profile.Email}
	for _, rel := range e.Relations {
		if rel.Type == catalog.RelationMemberOf && strings.HasPrefix(rel.TargetRef, "group:") {
			u.Groups = append(u.Groups, rel.TargetRef)
		}
	}
	return u, nil
}

// signInTab is newTab with JavaScript on or off. Gitea's pages come
// without their built assets here, so the console's failed loads are
// expected; a failed answer of the portal itself still fails the test.
func signInTab(t *testing.T, portal string, js bool) *tab {
	t.Helper()
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{
		Locale:            playwright.String("en-US"),
		Viewport:          &playwright.Size{Width: 1280, Height: 900},
		JavaScriptEnabled: playwright.Bool(js),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx.SetDefaultTimeout(10000)
	p, err := ctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	tb := &tab{Page: p, t: t}
	tb.allow("Failed to load resource")
	p.On("console", func(m playwright.ConsoleMessage) {
		if m.Type() == "error" && !strings.HasPrefix(m.Location().URL, portal) {
			return // Gitea's pages: not ours to judge
		}
		if m.Type() == "error" {
			tb.problem("console: " + m.Text())
		}
	})
	p.On("pageerror", func(err error) { tb.problem("page error: " + err.Error()) })
	p.On("response", func(r playwright.Response) {
		if strings.HasPrefix(r.URL(), portal) && r.Status() >= 400 {
			tb.problem(fmt.Sprintf("portal answered %d to %s", r.Status(), r.URL()))
		}
	})
	t.Cleanup(func() {
		ctx.Close()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			t.Errorf("browser reported %s", p)
		}
	})
	return tb
}

// waitForURL waits for a navigation to a URL matching the glob.
func (tb *tab) waitForURL(glob string) {
	tb.t.Helper()
	if err := tb.WaitForURL(glob, playwright.PageWaitForURLOptions{Timeout: playwright.Float(15000)}); err != nil {
		tb.t.Fatalf("waiting for %s (at %s): %v", glob, tb.URL(), err)
	}
}

func trimText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// lockedBuffer is a log sink the server's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
