package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/example"
	"github.com/greenroom-dev/greenroom/plugins/gitea"
	"github.com/greenroom-dev/greenroom/plugins/gitea/giteatest"
	"github.com/greenroom-dev/greenroom/plugins/github"
	"github.com/greenroom-dev/greenroom/plugins/gitlab"
)

// The Gitea organisation and repositories the plugin tests use.
const (
	pluginOrg     = "greenhouse"
	pluginRepo    = "shop-web"
	missingRepo   = "ghost-web" // never created: its card must fail
	deadGitHubTok = "ghp-e2e-never-shown-0123456789"
)

// pluginEnv is a portal with the four built-in plugins installed: Gitea
// against a real server, GitHub against a closed port, the example
// plugin, and GitLab left off.
type pluginEnv struct {
	app    *app
	host   *plugins.Host
	gitea  *giteatest.Server
	github string // host:port of the GitHub integration nobody listens on
	// lastSHA and lastMessage are the repository's last commit on main.
	lastSHA, lastMessage string
}

// newPluginEnv starts Gitea (skipping the test without GREENROOM_GITEA),
// fills a repository with commits and an open pull request, and starts
// the portal on the demo catalog plus three components: one in that
// repository, one in a repository Gitea does not have, one on the dead
// GitHub host.
func newPluginEnv(t *testing.T) *pluginEnv {
	t.Helper()
	needBrowser(t) // before Gitea: no server started for a test that skips
	srv := giteatest.Start(t)
	env := &pluginEnv{gitea: srv, github: closedPort(t)}

	if err := srv.CreateOrg(pluginOrg); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateRepo(pluginOrg, pluginRepo, true); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.PutFile(pluginOrg, pluginRepo, "", "catalog-info.yaml", "kind: Component\n", "Add catalog-info.yaml"); err != nil {
		t.Fatal(err)
	}
	env.lastMessage = "Describe the shop front"
	sha, err := srv.PutFile(pluginOrg, pluginRepo, "", "README.md", "# Shop web\n\nThe shop front.\n", env.lastMessage+"\n\nThe body is not shown on the card.")
	if err != nil {
		t.Fatal(err)
	}
	env.lastSHA = sha
	// One open pull request, from a branch of its own.
	ctx := context.Background()
	if err := srv.Do(ctx, http.MethodPost, "/repos/"+pluginOrg+"/"+pluginRepo+"/branches",
		map[string]any{"new_branch_name": "checkout-page", "old_branch_name": "main"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.PutFile(pluginOrg, pluginRepo, "checkout-page", "CHECKOUT.md", "checkout\n", "Start the checkout page"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Do(ctx, http.MethodPost, "/repos/"+pluginOrg+"/"+pluginRepo+"/pulls",
		map[string]any{"head": "checkout-page", "base": "main", "title": "Checkout page"}, nil); err != nil {
		t.Fatal(err)
	}

	cfg := plugins.NewConfig(map[string]any{
		"integrations": map[string]any{
			"gitea": []any{srv.IntegrationConfig()},
			"github": []any{map[string]any{
				"host":       env.github,
				"apiBaseUrl": "http://" + env.github + "/api/v3",
				"rawBaseUrl": "http://" + env.github + "/raw",
				"token":      deadGitHubTok,
			}},
		},
		"plugins": map[string]any{
			example.ID: map[string]any{"greeting": "Kia ora", "kinds": []any{"Component"}},
		},
	})
	host, err := plugins.NewHost([]plugins.Info{github.Info(), gitlab.Info(), gitea.Info(), example.Info()}, cfg,
		plugins.HostOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	env.host = host

	src := func(base, org, repo, tail string) string {
		return "url:" + base + "/" + org + "/" + repo + tail
	}
	env.app = newAppWith(t, extraFiles{
		"all.yaml": pluginLocation,
		"components.yaml": fmt.Sprintf(pluginComponents,
			src(srv.URL, pluginOrg, pluginRepo, "/src/branch/main/"),
			src(srv.URL, pluginOrg, missingRepo, "/src/branch/main/"),
			src("http://"+env.github, "acme", "storefront", "/tree/main/")),
	}, host)
	return env
}

const pluginLocation = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: plugin-components
spec:
  targets: [./components.yaml]
`

const pluginComponents = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: shop-web
  title: Shop web
  description: The shop front, kept on Gitea.
  annotations:
    backstage.io/source-location: %q
spec:
  type: website
  lifecycle: production
  owner: team-platform
  dependsOn: [resource:default/orders-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ghost-web
  title: Ghost web
  description: Its repository was never created.
  annotations:
    backstage.io/source-location: %q
spec:
  type: website
  lifecycle: experimental
  owner: team-platform
  dependsOn: [resource:default/orders-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
  title: Storefront
  description: Kept on a GitHub Enterprise server that is down.
  annotations:
    backstage.io/source-location: %q
spec:
  type: website
  lifecycle: production
  owner: team-platform
`

// closedPort is a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// cardWait is for cards that wait on Gitea, which shares two cores with
// the browser and the portal.
var cardWait = playwright.NewPlaywrightAssertions(15000)

// noSecrets fails the test when the page shows a password or token of
// the configuration.
func (e *pluginEnv) noSecrets(p *tab, where string) {
	p.t.Helper()
	html, err := p.Content()
	p.must(err)
	for _, s := range []string{e.gitea.AdminPassword, deadGitHubTok} {
		if strings.Contains(html, s) {
			p.t.Errorf("%s shows a secret of the configuration", where)
		}
	}
}

func TestPluginCardsOnEntityPage(t *testing.T) {
	e := newPluginEnv(t)
	p := newTab(t)
	p.open(e.app.URL + "/catalog/default/component/shop-web")
	p.must(p.expect(p.Locator("h1")).ToContainText("Shop web"))

	// Both cards, each loaded by htmx after the page.
	repo := p.Locator("#card-git-gitea-repository")
	p.must(p.expect(repo.Locator("h2")).ToHaveText("Repository"))
	p.must(cardWait.Locator(repo.Locator(".repo-name a")).ToHaveText(pluginOrg + "/" + pluginRepo))
	p.must(p.expect(repo.Locator(".repo-name a")).ToHaveAttribute("href", e.gitea.URL+"/"+pluginOrg+"/"+pluginRepo))
	p.must(p.expect(repo.Locator(".repo-name")).ToContainText("on " + e.gitea.Host))
	p.must(p.expect(repo.Locator("dt:text-is('Default branch') + dd")).ToHaveText("main"))
	last := repo.Locator("dt:text-is('Last commit') + dd")
	p.must(p.expect(last.Locator("code")).ToHaveText(e.lastSHA[:7]))
	p.must(p.expect(last).ToContainText(e.lastMessage))
	p.must(p.expect(last).Not().ToContainText("The body is not shown"))
	p.must(p.expect(last).ToContainText("by " + e.gitea.AdminUser))
	p.must(p.expect(last.Locator("a")).ToHaveAttribute("href", e.gitea.URL+"/"+pluginOrg+"/"+pluginRepo+"/commit/"+e.lastSHA))
	p.must(p.expect(repo.Locator("dt:text-is('Open pull requests')")).ToHaveCount(1))
	p.must(p.expect(repo.Locator(".open-changes")).ToHaveText("1"))
	p.must(p.expect(repo.Locator(".open-changes")).ToHaveAttribute("href", e.gitea.URL+"/"+pluginOrg+"/"+pluginRepo+"/pulls"))
	p.must(p.expect(repo.Locator(".loading")).ToHaveCount(0))

	greeting := p.Locator("#card-example-hello-greeting")
	p.must(p.expect(greeting.Locator("h2")).ToHaveText("Greeting"))
	p.must(p.expect(greeting.Locator(".greeting")).ToHaveText("Kia ora, Shop web!"))
	p.must(p.expect(greeting).ToContainText("Shown to guest by the example.hello plugin."))

	// No other plugin's card applies (GitHub's host is another one).
	p.must(p.expect(p.Locator(".plugin-card")).ToHaveCount(2))
	p.must(p.expect(p.Locator("[role=alert]")).ToHaveCount(0))
	e.noSecrets(p, "the entity page")
	p.shot("entity-plugin-cards")

	// The example plugin's tab: a tab of the entity page like the others.
	p.must(p.Locator(".tabs a", playwright.PageLocatorOptions{HasText: "Hello"}).Click())
	p.waitURL("/catalog/default/component/shop-web/tabs/example.hello/hello")
	p.must(p.expect(p.Locator(".tabs a[aria-current=page]")).ToHaveText("Hello"))
	p.must(p.expect(p.Locator(".plugin-tab h2")).ToHaveText("Kia ora, Shop web!"))
	p.must(p.expect(p.Locator("h1")).ToContainText("Shop web"))
	p.shot("entity-plugin-tab")

	// The example card follows its kinds setting: no card on an API.
	p.open(e.app.URL + "/catalog/default/api/orders-api")
	p.must(p.expect(p.Locator("h1")).ToContainText("API"))
	p.must(p.expect(p.Locator(".plugin-card")).ToHaveCount(0))
}

func TestPluginCardUpstreamFailure(t *testing.T) {
	e := newPluginEnv(t)
	p := newTab(t)
	p.open(e.app.URL + "/catalog/default/component/ghost-web")
	card := p.Locator("#card-git-gitea-repository")
	alert := card.Locator("p.card-error[role=alert]")
	p.must(cardWait.Locator(alert).ToHaveText(
		"Repository is unavailable: Gitea at " + e.gitea.Host + " has no repository " + pluginOrg + "/" + missingRepo +
			", or the integration's credentials cannot see it"))
	p.must(p.expect(card.Locator("h2")).ToHaveText("Repository"))
	p.must(p.expect(card.Locator(".repo-card")).ToHaveCount(0))
	p.must(p.expect(card.Locator(".loading")).ToHaveCount(0))

	// The rest of the page is not held up by the failing card.
	p.must(p.expect(p.Locator("#card-example-hello-greeting .greeting")).ToHaveText("Kia ora, Ghost web!"))
	about := p.Locator("section[aria-labelledby=about-title]")
	p.must(p.expect(about).ToContainText("Its repository was never created."))
	p.must(p.expect(about).ToContainText("team-platform"))
	p.must(p.expect(p.Locator(".graph-card svg [data-ref='resource:default/orders-db']")).ToHaveCount(1))
	p.must(p.expect(p.Locator("#depends-on")).ToContainText("Orders database"))
	p.must(p.expect(p.Locator("#relations")).ToContainText("ownedBy"))
	p.must(p.expect(p.Locator("[role=alert]")).ToHaveCount(1))
	e.noSecrets(p, "the failing card")
	p.shot("entity-plugin-card-error")

	// An upstream that does not answer at all: the same, inside the card.
	p.open(e.app.URL + "/catalog/default/component/storefront")
	gh := p.Locator("#card-git-github-repository p.card-error[role=alert]")
	p.must(cardWait.Locator(gh).ToContainText("Repository is unavailable: GitHub could not be reached for acme/storefront on " + e.github))
	p.must(p.expect(gh).ToContainText("connection refused"))
	p.must(p.expect(p.Locator("section[aria-labelledby=about-title]")).ToContainText("Kept on a GitHub Enterprise server that is down."))
	e.noSecrets(p, "the unreachable card")
}

// Without JavaScript the card is a link to a page of its own.
func TestPluginCardWithoutJavaScript(t *testing.T) {
	e := newPluginEnv(t)
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{JavaScriptEnabled: playwright.Bool(false)})
	p := &tab{t: t}
	p.must(err)
	t.Cleanup(func() { ctx.Close() })
	page, err := ctx.NewPage()
	p.must(err)
	p.Page = page
	p.open(e.app.URL + "/catalog/default/component/shop-web")
	card := p.Locator("#card-git-gitea-repository")
	// Nothing loads it: the placeholder stays, beside the link.
	p.must(p.expect(card.Locator(".loading")).ToHaveText("Loading…"))
	link := card.Locator("a", playwright.LocatorLocatorOptions{HasText: "Show Repository"})
	p.must(p.expect(link).ToHaveAttribute("href", "/catalog/default/component/shop-web/cards/git.gitea/repository"))
	p.must(link.Click())
	p.waitURL("/catalog/default/component/shop-web/cards/git.gitea/repository")
	if title, err := p.Title(); err != nil || title != "Repository · Shop web · Greenroom" {
		t.Errorf("card page title %q (%v)", title, err)
	}
	p.must(p.expect(p.Locator("nav.crumbs a")).ToHaveAttribute("href", "/catalog/default/component/shop-web"))
	own := p.Locator("section.plugin-card")
	p.must(p.expect(own.Locator("h2")).ToHaveText("Repository"))
	p.must(p.expect(own.Locator(".repo-name a")).ToHaveText(pluginOrg + "/" + pluginRepo))
	p.must(p.expect(own.Locator("dt:text-is('Last commit') + dd code")).ToHaveText(e.lastSHA[:7]))
	p.must(p.expect(own.Locator(".open-changes")).ToHaveText("1"))
	e.noSecrets(p, "the card page")
	p.shot("entity-plugin-card-no-js")

	// The failing card's page shows its message, answered 200.
	resp := p.open(e.app.URL + "/catalog/default/component/ghost-web/cards/git.gitea/repository")
	if resp.Status() != http.StatusOK {
		t.Errorf("failing card page: status %d", resp.Status())
	}
	p.must(p.expect(p.Locator("section.plugin-card .card-error[role=alert]")).ToContainText("has no repository " + pluginOrg + "/" + missingRepo))

	// A card that does not apply to the entity is not found.
	resp = p.open(e.app.URL + "/catalog/default/component/shop-web/cards/git.github/repository")
	if resp.Status() != http.StatusNotFound {
		t.Errorf("card of another host: status %d", resp.Status())
	}
}

func TestPluginsPage(t *testing.T) {
	e := newPluginEnv(t)
	p := newTab(t)
	// Calls first: a Gitea card that loads, a GitHub card whose host is down.
	p.open(e.app.URL + "/catalog/default/component/shop-web")
	p.must(cardWait.Locator(p.Locator("#card-git-gitea-repository .repo-name a")).ToHaveText(pluginOrg + "/" + pluginRepo))
	p.open(e.app.URL + "/catalog/default/component/storefront")
	p.must(cardWait.Locator(p.Locator("#card-git-github-repository .card-error")).ToContainText("could not be reached"))

	p.open(e.app.URL + "/plugins")
	p.must(p.expect(p.Locator("h1")).ToHaveText("Plugins"))
	ids, err := p.Locator(".plugins-table tbody tr td:first-child code").AllTextContents()
	p.must(err)
	if want := []string{"git.github", "git.gitlab", "git.gitea", "example.hello"}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("plugins listed %q, want %q", ids, want)
	}
	row := func(id string) playwright.Locator { return p.Locator("tr[id='plugin-" + id + "']") }
	state := func(id string) playwright.Locator { return row(id).Locator("td:nth-child(2)") }
	contributes := func(id string) []string {
		t.Helper()
		items, err := row(id).Locator("td:nth-child(3) li").AllTextContents()
		p.must(err)
		return items
	}
	health := row("git.gitea").Locator("td.health")
	fact := func(l playwright.Locator, name string) playwright.Locator {
		return l.Locator("dt:text-is('" + name + "') + dd")
	}

	// Enabled: the configured ones.
	for _, id := range []string{"git.github", "git.gitea", "example.hello"} {
		p.must(p.expect(state(id).Locator(".badge")).ToHaveText("enabled"))
		p.must(p.expect(state(id).Locator(".badge")).ToHaveClass("badge ok"))
	}
	// Off: GitLab, with every key that would turn it on.
	p.must(p.expect(state("git.gitlab").Locator(".badge")).ToHaveText("off"))
	keys, err := state("git.gitlab").Locator("code").AllTextContents()
	p.must(err)
	if want := "plugins.git.gitlab integrations.gitlab catalog.providers.gitlab events.modules.gitlab"; strings.Join(keys, " ") != want {
		t.Errorf("gitlab's keys %q, want %q", keys, want)
	}
	p.must(p.expect(state("git.gitlab")).ToContainText("Enable with"))
	p.must(p.expect(state("git.gitlab").Locator("p")).ToHaveText("Enable with plugins.git.gitlab or integrations.gitlab or catalog.providers.gitlab or events.modules.gitlab"))
	if c := contributes("git.gitlab"); len(c) != 0 {
		t.Errorf("an off plugin contributes %q", c)
	}
	p.must(p.expect(row("git.gitlab").Locator("td.health")).ToHaveText(""))

	// What each contributes.
	wantContrib := map[string][]string{
		"git.gitea": {
			"scaffolder actions: publish:gitea",
			"URL readers: " + e.gitea.Host,
			"webhooks: /api/events/http/gitea",
			"entity cards: Repository",
			"health check",
		},
		"example.hello": {
			"scaffolder actions: example:greet",
			"entity cards: Greeting",
			"entity tabs: Hello",
			"HTTP API: /api/example.hello",
			"search documents",
		},
	}
	for id, want := range wantContrib {
		if got := contributes(id); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s contributes %q, want %q", id, got, want)
		}
	}
	gh := strings.Join(contributes("git.github"), "|")
	for _, want := range []string{"entity cards: Repository", "URL readers: " + e.github, "webhooks: /api/events/http/github"} {
		if !strings.Contains(gh, want) {
			t.Errorf("git.github contributes %q, without %q", gh, want)
		}
	}

	// Health: Gitea answered, GitHub's host is down.
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`)
	p.must(p.expect(health.Locator(".badge")).ToHaveText("healthy"))
	p.must(p.expect(fact(health, "Last success")).ToHaveText(stamp))
	p.must(p.expect(fact(health, "Last error")).ToHaveText("none"))
	p.must(p.expect(fact(health, "Calls")).ToHaveText("2, 0 failed")) // the repository and its last commit

	ghHealth := row("git.github").Locator("td.health")
	p.must(p.expect(ghHealth.Locator(".badge")).ToHaveText("failing"))
	p.must(p.expect(ghHealth.Locator(".badge")).ToHaveClass("badge error"))
	p.must(p.expect(fact(ghHealth, "Last success")).ToHaveText("never"))
	ghErr := fact(ghHealth, "Last error")
	p.must(p.expect(ghErr.Locator(".plugin-error")).ToHaveText(regexp.MustCompile(`^GET ` + regexp.QuoteMeta(e.github) + `: dial tcp .*connection refused$`)))
	p.must(p.expect(ghErr.Locator(".muted")).ToHaveText(regexp.MustCompile(`^\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$`)))
	p.must(p.expect(fact(ghHealth, "Calls")).ToHaveText("1, 1 failed"))

	// The example plugin makes no upstream calls.
	p.must(p.expect(row("example.hello").Locator("td.health")).ToContainText("no calls yet"))
	p.must(p.expect(row("example.hello").Locator("td.health")).ToHaveText("no calls yet"))
	e.noSecrets(p, "the plugins page")
	p.shot("plugins")
}
