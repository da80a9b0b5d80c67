// Package e2e drives the portal's pages in a real browser: Debian's
// Chromium through playwright-go, against the whole server (SQLite store,
// ingestion engine, catalog API and pages) started in the test process.
//
// What it needs, which `make test` installs (see the Makefile's
// browser-deps and vendor targets; .ci/run installs chromium):
//   - the Playwright driver in ./driver (node + npm's playwright-core at the
//     version playwright-go expects), or PLAYWRIGHT_DRIVER_PATH;
//   - chromium on PATH, or GREENROOM_CHROMIUM;
//   - htmx in ../../static/vendor.
//
// Without them the tests skip with a message, unless
// GREENROOM_REQUIRE_BROWSER=1 (CI), which makes them fail. Screenshots of
// every page go to ./screenshots (or GREENROOM_SCREENSHOTS).
package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playwright-community/playwright-go"

	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/service"
	"github.com/greenroom-dev/greenroom/techdocs"
	"github.com/greenroom-dev/greenroom/web"
)

// browser is shared by the tests (each gets its own context); skipReason
// says why there is none.
var (
	browser    playwright.Browser
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	required := os.Getenv("GREENROOM_REQUIRE_BROWSER") == "1"
	pw, b, err := launch()
	if err != nil {
		if required {
			fmt.Fprintf(os.Stderr, "browser tests required (GREENROOM_REQUIRE_BROWSER=1) but cannot run: %v\n", err)
			return 1
		}
		skipReason = err.Error() + " (run `make test` to install what they need)"
		return m.Run()
	}
	browser = b
	code := m.Run()
	b.Close()
	pw.Stop()
	return code
}

func launch() (*playwright.Playwright, playwright.Browser, error) {
	if _, err := os.Stat("../../static/vendor/htmx.min.js"); err != nil {
		return nil, nil, fmt.Errorf("htmx is not in static/vendor: run `make vendor`")
	}
	driver := os.Getenv("PLAYWRIGHT_DRIVER_PATH")
	if driver == "" {
		abs, err := filepath.Abs("driver")
		if err != nil {
			return nil, nil, err
		}
		driver = abs
	}
	// playwright-go creates missing folders and fails late; check first.
	for _, p := range []string{"node", "package/cli.js"} {
		if _, err := os.Stat(filepath.Join(driver, p)); err != nil {
			return nil, nil, fmt.Errorf("no Playwright driver in %s (missing %s): run `make browser-deps`", driver, p)
		}
	}
	chromium := os.Getenv("GREENROOM_CHROMIUM")
	if chromium == "" {
		p, err := exec.LookPath("chromium")
		if err != nil {
			return nil, nil, fmt.Errorf("chromium is not installed (apt-get install chromium)")
		}
		chromium = p
	}
	pw, err := playwright.Run(&playwright.RunOptions{DriverDirectory: driver, SkipInstallBrowsers: true, Verbose: false})
	if err != nil {
		return nil, nil, fmt.Errorf("start the Playwright driver: %w", err)
	}
	b, err := pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(chromium),
		Headless:       playwright.Bool(true),
		Args: []string{
			// No look-ups of outside hosts: the tests only talk to 127.0.0.1.
			"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
			"--disable-gpu", "--disable-sync", "--disable-quic", "--no-first-run",
		},
	})
	if err != nil {
		pw.Stop()
		return nil, nil, fmt.Errorf("launch chromium: %w", err)
	}
	return pw, b, nil
}

// app is a running portal on a test catalog.
type app struct {
	URL    string
	Dir    string // the catalog files
	Store  *store.Store
	Engine *ingest.Engine
	// Index is the search index, filled after the first crawl; Syncer.Sync
	// brings it up to date after a test changes the catalog.
	Index  *search.Index
	Syncer *search.Syncer
	// Scaffolder runs the create pages' templates; its bare repositories
	// are under Dir/scaffolder/repos.
	Scaffolder *service.Service
}

// extraFiles are written beside the demo catalog, as a second root location.
type extraFiles map[string]string

// newApp starts the portal on the demo catalog plus extra files (a second
// config location, "extra/all.yaml" when present), crawled once.
func newApp(t *testing.T, extra extraFiles) *app {
	t.Helper()
	return newAppWith(t, extra, nil)
}

// newAppWith is newApp with plugins: their cards on entity pages, the
// plugins page, their actions in the scaffolder.
func newAppWith(t *testing.T, extra extraFiles, host *plugins.Host) *app {
	t.Helper()
	needBrowser(t)
	dir := t.TempDir()
	root, err := demo.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range extra {
		p := filepath.Join(dir, "extra", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	roots := []string{root}
	if _, ok := extra["all.yaml"]; ok {
		roots = append(roots, filepath.Join(dir, "extra", "all.yaml"))
	}
	c := ingesttest.Ingest(t, dir, roots...)
	st, eng := c.Store, c.Engine
	ctx := context.Background()
	ix, err := search.Open(filepath.Join(dir, "search"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	syncer := search.NewSyncer(ix, st)
	if err := syncer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	docs := &techdocs.Service{Catalog: st, Git: eng.Crawler.Reader}
	if err := (&techdocs.Indexer{Service: docs, Index: ix, Catalog: st}).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The scaffolder runs templates for real: tasks in their own SQLite
	// file, the demo's git host mapped to bare repositories in dir.
	scfg := service.Config{DataDir: filepath.Join(dir, "scaffolder"), LocalGitHosts: []string{demo.GitHost}}
	if host != nil {
		scfg.Actions = host.Actions()
	}
	scaff, _, err := service.Open(st, eng, scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scaff.Close() })
	srv := &web.Server{
		Scaffolder: scaff, ScaffolderAPI: scaff.API().Routes(),
		Docs: docs, TechDocsAPI: docs.Handler(),
		Catalog: st, Ingester: eng, LocationTypes: []string{"url", "git"},
		CatalogAPI: (&api.Server{Store: st, Ingester: eng, AllowedLocationTypes: []string{"url", "git"}}).Routes(),
		Search:     ix,
		SearchAPI:  search.Handler(ix),
	}
	if host != nil {
		srv.Plugins, srv.PluginAPIs, srv.EventsAPI = host, host.Routes(), host.EventsHandler()
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &app{URL: hs.URL, Dir: dir, Store: st, Engine: eng, Index: ix, Syncer: syncer, Scaffolder: scaff}
}

func needBrowser(t *testing.T) {
	t.Helper()
	if browser == nil {
		t.Skip("browser tests skipped: " + skipReason)
	}
}

// tab is a browser page with what it logged: a script error or a CSP
// violation fails the test.
type tab struct {
	playwright.Page
	t        *testing.T
	mu       sync.Mutex
	problems []string
	allowed  []string // substrings of console errors the test expects
}

// newTab opens a page in a fresh browser context (no shared cookies or
// storage between tests).
func newTab(t *testing.T, viewport ...int) *tab {
	t.Helper()
	w, h := 1280, 900
	if len(viewport) == 2 {
		w, h = viewport[0], viewport[1]
	}
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{
		Locale:   playwright.String("en-US"),
		Viewport: &playwright.Size{Width: w, Height: h},
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
	// playwright-go calls these from its own goroutine.
	p.On("console", func(m playwright.ConsoleMessage) {
		if m.Type() == "error" {
			tb.problem("console: " + m.Text())
		}
	})
	p.On("pageerror", func(err error) { tb.problem("page error: " + err.Error()) })
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

func (tb *tab) problem(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, a := range tb.allowed {
		if strings.Contains(s, a) {
			return
		}
	}
	tb.problems = append(tb.problems, s)
}

// allow tells the tab a console error containing s is expected.
func (tb *tab) allow(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, s)
}

func (tb *tab) open(url string) playwright.Response {
	tb.t.Helper()
	resp, err := tb.Goto(url, playwright.PageGotoOptions{WaitUntil: playwright.WaitUntilStateLoad})
	if err != nil {
		tb.t.Fatalf("open %s: %v", url, err)
	}
	return resp
}

// shot saves a full-page screenshot for people to look at.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	dir := os.Getenv("GREENROOM_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if _, err := tb.Screenshot(playwright.PageScreenshotOptions{
		Path: playwright.String(filepath.Join(dir, name+".png")), FullPage: playwright.Bool(true),
	}); err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
	}
}

// expect wraps playwright's web-first assertions, which retry until the
// page settles (htmx swaps are asynchronous).
func (tb *tab) expect(l playwright.Locator) playwright.LocatorAssertions {
	return playwright.NewPlaywrightAssertions(5000).Locator(l)
}

func (tb *tab) must(err error) {
	tb.t.Helper()
	if err != nil {
		tb.t.Fatal(err)
	}
}

// waitURL waits until the address bar contains s.
func (tb *tab) waitURL(s string) {
	tb.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(tb.URL(), s) {
		if time.Now().After(deadline) {
			tb.t.Fatalf("URL %s does not contain %q", tb.URL(), s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
