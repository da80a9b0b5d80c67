package mkdocs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// navLines renders a nav as one line per entry: indentation, the title, and
// "-> page" or "=> url".
func navLines(items []NavItem) []string {
	var out []string
	var walk func([]NavItem, string)
	walk = func(items []NavItem, indent string) {
		for _, it := range items {
			line := indent + it.Title
			if it.Page != "" {
				line += " -> " + it.Page
			}
			if it.URL != "" {
				line += " => " + it.URL
			}
			out = append(out, line)
			walk(it.Children, indent+"  ")
		}
	}
	walk(items, "")
	return out
}

func pagePaths(s *Site) []string {
	var out []string
	for _, p := range s.Pages {
		out = append(out, p.Path)
	}
	return out
}

func pageTitles(s *Site) map[string]string {
	out := map[string]string{}
	for _, p := range s.Pages {
		out[p.Path] = p.Title
	}
	return out
}

func hasNotice(s *Site, substr string) bool {
	for _, n := range s.Notices {
		if strings.Contains(n, substr) {
			return true
		}
	}
	return false
}

func noEnv(string) (string, bool) { return "", false }

func load(t *testing.T, dir string, opts Options) *Site {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	s, err := LoadWith(filepath.Join("testdata", dir), opts)
	if err != nil {
		t.Fatalf("LoadWith(%s): %v", dir, err)
	}
	checkSite(t, dir, s)
	return s
}

func TestLoadSites(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		env     map[string]string
		opts    Options
		nav     []string          // expected navLines; nil: not checked
		pages   []string          // expected page order; nil: not checked
		titles  map[string]string // expected page titles (subset)
		notices []string          // substrings that must appear in notices
		absent  []string          // substrings that must not appear in notices
		check   func(t *testing.T, s *Site)
	}{
		{
			name: "nested nav",
			dir:  "nested",
			nav: []string{
				"Home -> index.md",
				"Guide",
				"   -> guide/index.md",
				"  Setup -> guide/setup.md",
				"  Advanced",
				"    Tuning -> guide/advanced/tuning.md",
				"    Deeper",
				"      Internals -> guide/advanced/internals.md",
				"Missing page",
				"Logo => logo.png",
				"Folder -> guide/index.md",
				"Source => https://github.com/example/nested",
			},
			pages: []string{
				"index.md", "guide/index.md", "guide/setup.md",
				"guide/advanced/tuning.md", "guide/advanced/internals.md",
				"orphan.md",
			},
			titles: map[string]string{
				"index.md":       "Home",
				"guide/index.md": "Folder", // unnamed first, named later
				"guide/setup.md": "Setup",
				"orphan.md":      "",
			},
			notices: []string{
				`nav: nav target "not-there.md" not found`,
				`plugin: plugin "mermaid2" is not supported`,
				`theme: theme "readthedocs" is not supported`,
				"files: guide/README.md is skipped because index.md is in the same folder",
			},
			absent: []string{`"search"`, `techdocs-core`, "yaml:", "secret", "hidden", "notes"},
			check: func(t *testing.T, s *Site) {
				if s.Name != "Nested Example" || s.Description != "A site with a deep nav" ||
					s.RepoURL != "https://github.com/example/nested" || s.EditURI != "edit/main/docs/" {
					t.Errorf("config fields: %+v", s)
				}
				if want := []string{"admonition", "toc", "pymdownx.emoji"}; !reflect.DeepEqual(s.Extensions, want) {
					t.Errorf("Extensions = %q, want %q", s.Extensions, want)
				}
				if want := []string{"techdocs-core", "search", "mermaid2"}; !reflect.DeepEqual(s.Plugins, want) {
					t.Errorf("Plugins = %q, want %q", s.Plugins, want)
				}
				if !filepath.IsAbs(s.Root) || !filepath.IsAbs(s.DocsDir) || s.DocsDir != filepath.Join(s.Root, "docs") {
					t.Errorf("Root %q DocsDir %q", s.Root, s.DocsDir)
				}
				if p := s.Pages[0]; p.Source != filepath.Join(s.DocsDir, "index.md") {
					t.Errorf("Source = %q", p.Source)
				}
			},
		},
		{
			name: "env set",
			dir:  "env",
			env:  map[string]string{"SITE_NAME": "From Env", "DESC_B": "Second var", "REPO_URL": "https://example.com/r"},
			check: func(t *testing.T, s *Site) {
				if s.Name != "From Env" || s.Description != "Second var" || s.RepoURL != "https://example.com/r" || s.EditURI != "edit/main/docs/" {
					t.Errorf("got name %q desc %q repo %q edit %q", s.Name, s.Description, s.RepoURL, s.EditURI)
				}
			},
			absent: []string{"env:"},
		},
		{
			name: "env unset",
			dir:  "env",
			env:  map[string]string{"DESC_A": "First var", "EDIT_URI": "edit/dev/docs/"},
			check: func(t *testing.T, s *Site) {
				// site_name unset -> folder name; defaults used.
				if s.Name != "env" || s.Description != "First var" || s.RepoURL != "" || s.EditURI != "edit/dev/docs/" {
					t.Errorf("got name %q desc %q repo %q edit %q", s.Name, s.Description, s.RepoURL, s.EditURI)
				}
			},
			notices: []string{"env: mkdocs.yml: environment variable SITE_NAME is not set", "environment variable REPO_URL is not set", "site_name is missing"},
		},
		{
			name: "env defaults",
			dir:  "env",
			check: func(t *testing.T, s *Site) {
				if s.Description != "Default description" {
					t.Errorf("desc %q", s.Description)
				}
			},
		},
		{
			name: "inherit",
			dir:  "inherit/site",
			check: func(t *testing.T, s *Site) {
				if s.Name != "Child Name" || s.Description != "Shared description" || s.RepoURL != "https://github.com/example/base" {
					t.Errorf("got name %q desc %q repo %q", s.Name, s.Description, s.RepoURL)
				}
				if s.Theme != "material" {
					t.Errorf("Theme = %q (nested theme map must merge)", s.Theme)
				}
				if want := []string{"tables"}; !reflect.DeepEqual(s.Extensions, want) {
					t.Errorf("Extensions = %q, want %q (lists are replaced)", s.Extensions, want)
				}
				if want := []string{"techdocs-core"}; !reflect.DeepEqual(s.Plugins, want) {
					t.Errorf("Plugins = %q", s.Plugins)
				}
			},
			notices: []string{"INHERIT reads", "theme: theme options ignored: palette"},
			pages:   []string{"index.md"},
		},
		{
			name: "inherit outside boundary",
			dir:  "inherit/site",
			opts: Options{ConfigBoundary: filepath.Join("testdata", "inherit", "site")},
			check: func(t *testing.T, s *Site) {
				if s.Description != "" {
					t.Errorf("INHERIT outside the boundary was read: %q", s.Description)
				}
			},
			notices: []string{"outside the allowed folder"},
		},
		{
			name: "monorepo",
			dir:  "monorepo",
			nav: []string{
				"Home -> index.md",
				"API service",
				"  Overview -> services/api/index.md",
				"  Endpoints -> services/api/reference/endpoints.md",
				"  Spec => https://example.com/openapi.json",
				"Plugins",
				"  Plugin A",
				"    Introduction -> plugin-a/index.md",
				"  Plugin B",
				"     -> plugin-b/README.md",
				"     -> plugin-b/usage.md",
				"    Howto",
				"       -> plugin-b/howto/install.md",
				"Again",
				"  Overview -> services/api/index.md",
				"  Endpoints -> services/api/reference/endpoints.md",
				"  Spec => https://example.com/openapi.json",
			},
			pages: []string{
				"index.md", "services/api/index.md", "services/api/reference/endpoints.md",
				"plugin-a/index.md", "plugin-b/README.md", "plugin-b/usage.md", "plugin-b/howto/install.md",
				"services/api/reference/errors.md",
			},
			titles: map[string]string{"plugin-a/index.md": "Introduction", "plugin-b/README.md": ""},
			absent: []string{"monorepo:", "nav:"},
			check: func(t *testing.T, s *Site) {
				pg, ok := s.PageForURL("/plugin-b/")
				if !ok || pg.Path != "plugin-b/README.md" || !strings.HasSuffix(filepath.ToSlash(pg.Source), "plugins/plugin-b/docs/README.md") {
					t.Errorf("PageForURL(/plugin-b/) = %+v %v", pg, ok)
				}
				pg, ok = s.PageForURL("services/api/reference/errors")
				if !ok || !strings.HasSuffix(filepath.ToSlash(pg.Source), "services/api/documentation/reference/errors.md") {
					t.Errorf("PageForURL(errors) = %+v %v", pg, ok)
				}
			},
		},
		{
			name: "no nav: tree ordering",
			dir:  "nonav",
			nav: []string{
				" -> index.md",
				" -> Zeta.md",
				" -> a.md",
				" -> b.md",
				"Api reference",
				"   -> api-reference/index.md",
				"Getting started",
				"   -> getting_started/README.md",
				"   -> getting_started/a.md",
				"   -> getting_started/z.md",
				"Sub",
				"   -> sub/top.md",
				"  Deeper",
				"     -> sub/deeper/x.md",
			},
			pages: []string{
				"index.md", "Zeta.md", "a.md", "b.md", "api-reference/index.md",
				"getting_started/README.md", "getting_started/a.md", "getting_started/z.md",
				"sub/top.md", "sub/deeper/x.md",
			},
			absent: []string{"nav:", "HEAD"},
		},
		{
			name:    "no mkdocs.yml but docs/",
			dir:     "noconfig",
			pages:   []string{"index.md", "other.md"},
			notices: []string{"config: no mkdocs.yml"},
			check: func(t *testing.T, s *Site) {
				if s.Name != "noconfig" || s.ConfigFile != "" {
					t.Errorf("Name %q ConfigFile %q", s.Name, s.ConfigFile)
				}
			},
		},
		{
			name:    "page cap",
			dir:     "nonav",
			opts:    Options{MaxPages: 3},
			pages:   []string{"index.md", "Zeta.md", "a.md"},
			notices: []string{"files: more than 3 pages"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.LookupEnv = func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			s := load(t, tc.dir, opts)
			if tc.nav != nil {
				if got := navLines(s.Nav); !reflect.DeepEqual(got, tc.nav) {
					t.Errorf("nav:\n got  %q\n want %q", got, tc.nav)
				}
			}
			if tc.pages != nil {
				if got := pagePaths(s); !reflect.DeepEqual(got, tc.pages) {
					t.Errorf("pages:\n got  %q\n want %q", got, tc.pages)
				}
			}
			titles := pageTitles(s)
			for p, want := range tc.titles {
				if got, ok := titles[p]; !ok || got != want {
					t.Errorf("title of %s = %q (present %v), want %q", p, got, ok, want)
				}
			}
			for _, n := range tc.notices {
				if !hasNotice(s, n) {
					t.Errorf("missing notice %q in %q", n, s.Notices)
				}
			}
			for _, n := range tc.absent {
				if hasNotice(s, n) {
					t.Errorf("unexpected notice %q in %q", n, s.Notices)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			if t.Failed() {
				t.Logf("notices: %q", s.Notices)
			}
		})
	}
}

func TestSymlinksStayInsideRoot(t *testing.T) {
	if _, err := os.Lstat(filepath.Join("testdata", "symlink", "site", "docs", "leak.md")); err != nil {
		t.Skip("symlink fixtures are not checked out:", err)
	}
	s := load(t, "symlink/site", Options{})
	if want := []string{"index.md", "readme.md"}; !reflect.DeepEqual(pagePaths(s), want) {
		t.Errorf("pages = %q, want %q", pagePaths(s), want)
	}
	for _, p := range s.Pages {
		if strings.Contains(p.Source, "outside") {
			t.Errorf("page %s read from %s", p.Path, p.Source)
		}
	}
	if pg, ok := s.PageForURL("readme/"); !ok || pg.Source != filepath.Join(s.Root, "README.md") {
		t.Errorf("in-root symlink: %+v %v", pg, ok)
	}
	for _, n := range []string{
		"files: docs/leak.md is a symlink out of the site root",
		"files: docs/leakdir is a symlink out of the site root",
		`nav target "leak.md" not found`,
	} {
		if !hasNotice(s, n) {
			t.Errorf("missing notice %q in %q", n, s.Notices)
		}
	}
	if _, ok := s.PageForURL("leakdir/page/"); ok {
		t.Error("page behind an escaping directory symlink is reachable")
	}
}

func TestLoadErrors(t *testing.T) {
	tmp := t.TempDir()
	if _, err := Load(tmp); err == nil || !strings.Contains(err.Error(), "no mkdocs.yml or mkdocs.yaml and no docs/ folder") {
		t.Errorf("empty dir: err = %v", err)
	}
	if _, err := Load(filepath.Join("testdata", "does-not-exist")); err == nil {
		t.Error("missing dir: no error")
	}
	bad := filepath.Join(tmp, "bad")
	escape := filepath.Join(tmp, "escape")
	for _, d := range []string{bad, escape} {
		if err := os.MkdirAll(filepath.Join(d, "docs"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bad, "mkdocs.yml"), []byte("site_name: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil {
		t.Error("invalid YAML: no error")
	}
	if err := os.WriteFile(filepath.Join(escape, "mkdocs.yml"), []byte("site_name: x\ndocs_dir: ../../etc/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(escape); err == nil || !strings.Contains(err.Error(), "outside the site root") {
		t.Errorf("docs_dir escaping: err = %v", err)
	}
}

func TestURLPathRoundTrip(t *testing.T) {
	tests := []struct{ page, url string }{
		{"index.md", ""},
		{"README.md", ""},
		{"guide/setup.md", "guide/setup/"},
		{"guide/index.md", "guide/"},
		{"guide/README.md", "guide/"},
		{"a/b/c/deep.md", "a/b/c/deep/"},
		{"plugin-a/index.md", "plugin-a/"},
		{"readme.md", "readme/"},
		{"Index.md", "Index/"},
		{"./guide/../faq.md", "faq/"},
	}
	site := &Site{}
	for _, tc := range tests {
		if got := URLPath(tc.page); got != tc.url {
			t.Errorf("URLPath(%q) = %q, want %q", tc.page, got, tc.url)
		}
		if tc.page[0] != '.' && tc.page != "README.md" && tc.page != "guide/README.md" {
			site.Pages = append(site.Pages, Page{Path: tc.page})
		}
	}
	// A hand-built Site (no index) and a loaded one must answer alike.
	loaded := load(t, "nested", Options{})
	for _, s := range []*Site{site, loaded} {
		for _, p := range s.Pages {
			u := URLPath(p.Path)
			for _, q := range []string{u, "/" + u, strings.TrimSuffix(u, "/"), "/" + u + "index.html", u + "#frag"} {
				got, ok := s.PageForURL(q)
				if !ok || got.Path != p.Path {
					t.Errorf("PageForURL(%q) = %q, %v; want %q", q, got.Path, ok, p.Path)
				}
			}
		}
	}
	for _, q := range []string{"nope/", "guide/setup/extra/", "../index.md"} {
		if got, ok := loaded.PageForURL(q); ok {
			t.Errorf("PageForURL(%q) = %q, want none", q, got.Path)
		}
	}
	if got, ok := loaded.PageForURL("guide/setup.md"); !ok || got.Path != "guide/setup.md" {
		t.Errorf("PageForURL(page path) = %q %v", got.Path, ok)
	}
}

func TestYAMLTags(t *testing.T) {
	tmp := t.TempDir()
	cfg := `
site_name: !ENV [NOPE1, NOPE2, "Fallback"]
site_description: &d "Anchored"
repo_url: *d
extra: !custom thing
base: &base
  a: 1
merged:
  <<: *base
  b: 2
markdown_extensions:
  codehilite: {linenums: true}
  pymdownx.emoji:
    emoji_generator: !!python/name:pymdownx.emoji.to_svg
plugins:
  search: {}
  unknown-one: {}
theme: mkdocs
`
	if err := os.MkdirAll(filepath.Join(tmp, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "mkdocs.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadWith(tmp, Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "Fallback" || s.Description != "Anchored" || s.RepoURL != "Anchored" || s.Theme != "mkdocs" {
		t.Errorf("got %q %q %q %q", s.Name, s.Description, s.RepoURL, s.Theme)
	}
	if want := []string{"codehilite", "pymdownx.emoji"}; !reflect.DeepEqual(s.Extensions, want) {
		t.Errorf("Extensions = %q", s.Extensions)
	}
	for _, n := range []string{`plugin: plugin "unknown-one"`, "unknown tag !custom", `unknown key "base"`} {
		if !hasNotice(s, n) {
			t.Errorf("missing notice %q in %q", n, s.Notices)
		}
	}
	if hasNotice(s, `"search"`) || hasNotice(s, "theme:") {
		t.Errorf("unexpected notices %q", s.Notices)
	}

	// Alias bombs are refused rather than expanded.
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	if err := os.WriteFile(filepath.Join(tmp, "mkdocs.yml"), []byte(bomb), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(tmp); err == nil {
		t.Error("alias bomb: no error")
	}
}

func TestAliasFor(t *testing.T) {
	for in, want := range map[string]string{
		"Plugin A":               "plugin-a",
		"versions/v1":            "versions/v1",
		"plugins/example-Folder": "plugins/example-Folder",
		"test site":              "test-site",
		"Café & Bar!":            "cafe-bar",
		"/lead/":                 "lead",
		"  ":                     "",
	} {
		if got := aliasFor(in); got != want {
			t.Errorf("aliasFor(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"getting_started": "Getting started",
		"api-reference":   "Api reference",
		"FAQ":             "FAQ",
		"v1":              "V1",
	} {
		if got := dirnameToTitle(in); got != want {
			t.Errorf("dirnameToTitle(%q) = %q, want %q", in, got, want)
		}
	}
}
