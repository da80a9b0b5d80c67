// Package mkdocs reads an mkdocs site (mkdocs.yml plus its Markdown docs) the
// way mkdocs does when it runs with Backstage's techdocs-core plugin: custom
// YAML tags (!ENV, !!python/name), INHERIT, the nav in all its shapes, the
// mkdocs-monorepo-plugin's !include / *include, and mkdocs' own nav built
// from the file tree when there is none.
//
// Loading never renders anything and never fails because of something it
// does not understand: such things become Site.Notices. Every notice starts
// with its kind and a colon ("nav: ...", "plugin: ...").
//
// Files are never read through a symlink that leads out of the site root
// (the directory of the mkdocs.yml).
package mkdocs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// maxMissingNotices is how many "nav target not found" notices are listed
// one by one; the rest are counted in one notice.
const maxMissingNotices = 20

// DefaultMaxPages is how many Markdown pages a site may have before the rest
// are ignored (with a notice).
const DefaultMaxPages = 5000

// Site is an mkdocs site: its config and its pages.
type Site struct {
	Name        string // site_name
	Description string // site_description
	RepoURL     string // repo_url
	EditURI     string // edit_uri as given; "" when absent
	Root        string // absolute directory of the mkdocs.yml (symlinks resolved)
	DocsDir     string // absolute docs_dir (default "docs")
	ConfigFile  string // absolute path of the mkdocs.yml read; "" when there is none
	Nav         []NavItem
	Pages       []Page   // every Markdown page, in nav order first, then the rest sorted
	Notices     []string // things ignored or not understood, "kind: message"; never fatal
	Extensions  []string // markdown_extensions names as listed (for information)
	Plugins     []string // plugin names as listed (for information)
	Theme       string   // theme name ("" when absent)

	byURL map[string]int // URL path without slashes -> index in Pages
}

// NavItem is one entry of the navigation.
type NavItem struct {
	Title    string
	Page     string    // site-relative page path ("index.md", "guide/setup.md", "plugin-a/index.md" for monorepo sub-sites) or ""
	URL      string    // external link (http…), or the site-relative path of a non-Markdown file the nav names
	Children []NavItem // a section
}

// Page is one Markdown page of the site.
type Page struct {
	Path   string // site-relative path of the .md ("guide/setup.md"); monorepo sub-site pages are prefixed with the sub-site's folder
	Source string // absolute file path of the Markdown source (symlinks resolved)
	Title  string // the nav title if the nav names it, else "" (the renderer takes the first heading)
}

// Options adjusts Load.
type Options struct {
	// LookupEnv resolves !ENV tags. nil resolves none (their defaults
	// apply): docs are untrusted, and the server's environment — tokens,
	// passwords — is not theirs to read.
	LookupEnv func(string) (string, bool)
	// MaxPages caps the number of pages; 0 means DefaultMaxPages.
	MaxPages int
	// ConfigBoundary, when set, is a directory INHERIT files must stay
	// inside. When empty INHERIT may name any .yml/.yaml file, as in mkdocs
	// (a notice says so when it leaves the site root). Docs, symlinks and
	// monorepo includes are always confined to the site root.
	ConfigBoundary string
}

// Load reads dir/mkdocs.yml (or mkdocs.yaml) and its docs.
func Load(dir string) (*Site, error) { return LoadWith(dir, Options{}) }

// LoadWith is Load with options.
func LoadWith(dir string, opts Options) (*Site, error) {
	l := &loader{
		opts:     opts,
		maxPages: opts.MaxPages,
		files:    map[string]*fileRec{},
		aliases:  map[string]string{},
		included: map[string]*includedSite{},
		noticed:  map[string]bool{},
	}
	if l.maxPages <= 0 {
		l.maxPages = DefaultMaxPages
	}
	return l.load(dir)
}

type fileRec struct {
	path   string // site-relative
	source string // absolute real path
	title  string
}

type mount struct {
	prefix string // "" or "alias/"
	dir    string // absolute real docs dir
}

type loader struct {
	opts     Options
	maxPages int
	root     string
	notices  []string
	noticed  map[string]bool
	files    map[string]*fileRec
	mounts   []mount
	aliases  map[string]string        // monorepo alias -> mkdocs.yml
	included map[string]*includedSite // real mkdocs.yml -> result
	capped   bool
	monorepo bool // monorepo or techdocs-core plugin enabled
	missing  int  // nav targets not found
	warnedMR bool
}

func (l *loader) notef(kind, format string, args ...any) {
	msg := kind + ": " + fmt.Sprintf(format, args...)
	if l.noticed[msg] {
		return
	}
	l.noticed[msg] = true
	l.notices = append(l.notices, msg)
}

func (l *loader) lookupEnv(name string) (string, bool) {
	if l.opts.LookupEnv != nil {
		return l.opts.LookupEnv(name)
	}
	return "", false
}

// rel shows a path relative to the site root when it is inside it.
func (l *loader) rel(p string) string {
	if l.root == "" {
		return p
	}
	if r, err := filepath.Rel(l.root, p); err == nil && within(l.root, p) {
		return filepath.ToSlash(r)
	}
	return p
}

// within reports whether p is base or below it (both cleaned, absolute).
func within(base, p string) bool {
	r, err := filepath.Rel(base, p)
	if err != nil {
		return false
	}
	return r == "." || (r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r))
}

// realInside resolves p's symlinks and checks the result stays in the site
// root.
func (l *loader) realInside(p string) (string, error) {
	rp, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	if !within(l.root, rp) {
		return rp, errOutside
	}
	return rp, nil
}

var errOutside = fmt.Errorf("outside the site root")

func isYAMLName(p string) bool {
	ext := strings.ToLower(path.Ext(filepath.ToSlash(p)))
	return ext == ".yml" || ext == ".yaml"
}

func (l *loader) load(dir string) (*Site, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mkdocs: %w", err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("mkdocs: %w", err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("mkdocs: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("mkdocs: %s is not a directory", dir)
	}
	l.root = root
	site := &Site{Root: root}

	cfgPath := l.findConfig()
	var cfg *mapping
	if cfgPath == "" {
		docs := filepath.Join(root, "docs")
		if rd, err := l.realInside(docs); err != nil || !isDir(rd) {
			return nil, fmt.Errorf("mkdocs: no mkdocs.yml or mkdocs.yaml and no docs/ folder in %s", dir)
		}
		cfg = newMapping()
		l.notef("config", "no mkdocs.yml in %s; using defaults with the docs/ folder (Backstage's techdocs-core would require the file)", filepath.Base(root))
	} else {
		site.ConfigFile = cfgPath
		cfg, err = l.readConfig(cfgPath, nil)
		if err != nil {
			return nil, fmt.Errorf("mkdocs: %s: %w", l.rel(cfgPath), err)
		}
	}

	get := func(k string) any { v, _ := cfg.get(k); return v }
	site.Name = strings.TrimSpace(scalarString(get("site_name")))
	if site.Name == "" {
		if cfgPath != "" {
			l.notef("config", "site_name is missing (mkdocs requires it); using the folder name")
		}
		site.Name = filepath.Base(root)
	}
	site.Description = scalarString(get("site_description"))
	site.RepoURL = scalarString(get("repo_url"))
	site.EditURI = scalarString(get("edit_uri"))

	l.readOtherConfig(cfg, site)

	// docs_dir, relative to the mkdocs.yml.
	docsDir := strings.TrimSpace(scalarString(get("docs_dir")))
	explicitDocsDir := docsDir != ""
	if docsDir == "" {
		docsDir = "docs"
	}
	dd := filepath.FromSlash(docsDir)
	if !filepath.IsAbs(dd) {
		dd = filepath.Join(root, dd)
	}
	site.DocsDir = filepath.Clean(dd)
	rd, err := l.realInside(site.DocsDir)
	if err == errOutside || (err != nil && !within(root, site.DocsDir)) {
		// Backstage refuses to build such a site, and so do we.
		return nil, fmt.Errorf("mkdocs: docs_dir %q points outside the site root %s", docsDir, root)
	}
	if (err != nil || !isDir(rd)) && !explicitDocsDir && hasMarkdown(root) {
		// A common TechDocs layout: mkdocs.yml inside the docs folder itself
		// (techdocs-ref: dir:./docs). mkdocs would fail; be helpful.
		l.notef("config", "docs_dir %q does not exist; using the folder of mkdocs.yml, which has Markdown files", docsDir)
		rd, err = root, nil
	}
	if err != nil || !isDir(rd) {
		l.notef("config", "docs_dir %q does not exist", docsDir)
	} else {
		site.DocsDir = rd
		if rd == root && explicitDocsDir {
			l.notef("config", "docs_dir %q is the folder of mkdocs.yml (mkdocs refuses this); reading it anyway", docsDir)
		}
		l.mounts = append(l.mounts, mount{prefix: "", dir: rd})
		l.scan(rd, "")
	}

	// nav (mkdocs < 1.0 called it pages).
	navVal, hasNav := cfg.get("nav")
	if !hasNav || navVal == nil {
		if pv, ok := cfg.get("pages"); ok && pv != nil {
			l.notef("config", "the old 'pages' key is used as the nav")
			navVal, hasNav = pv, true
		}
	}
	var raw []rawNav
	auto := false
	if hasNav && navVal != nil {
		if list, ok := navVal.([]any); ok {
			raw = l.parseNav(list, navCtx{configDir: root})
		} else {
			l.notef("nav", "nav is not a list; building it from the files")
			auto = true
		}
	} else {
		auto = true
	}

	// Resolve the nav against every page (root docs plus sub-sites).
	if auto {
		paths := make([]string, 0, len(l.files))
		for p := range l.files {
			paths = append(paths, p)
		}
		raw = autoNav(paths, "")
	}
	site.Nav = l.resolveNav(raw)

	// Pages: nav order first, then the rest sorted as mkdocs sorts files.
	seen := map[string]bool{}
	var walk func(items []NavItem)
	walk = func(items []NavItem) {
		for _, it := range items {
			if it.Page != "" && !seen[it.Page] {
				seen[it.Page] = true
				r := l.files[it.Page]
				site.Pages = append(site.Pages, Page{Path: r.path, Source: r.source, Title: r.title})
			}
			walk(it.Children)
		}
	}
	walk(site.Nav)
	var rest []string
	for p := range l.files {
		if !seen[p] {
			rest = append(rest, p)
		}
	}
	sortPaths(rest)
	for _, p := range rest {
		r := l.files[p]
		site.Pages = append(site.Pages, Page{Path: r.path, Source: r.source, Title: r.title})
	}

	site.byURL = make(map[string]int, len(site.Pages))
	for i, pg := range site.Pages {
		k := strings.Trim(URLPath(pg.Path), "/")
		if j, dup := site.byURL[k]; dup {
			l.notef("files", "%s and %s both have the URL %q; the first one is served", site.Pages[j].Path, pg.Path, "/"+URLPath(pg.Path))
			continue
		}
		site.byURL[k] = i
	}
	if l.missing > maxMissingNotices {
		l.notef("nav", "%d more nav targets not found", l.missing-maxMissingNotices)
	}
	site.Notices = l.notices
	return site, nil
}

// hasMarkdown reports whether a folder directly holds a Markdown page.
func hasMarkdown(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isMarkdownName(e.Name()) {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// findConfig returns the real path of mkdocs.yml or mkdocs.yaml in the root.
func (l *loader) findConfig() string {
	found := ""
	for _, name := range []string{"mkdocs.yml", "mkdocs.yaml"} {
		p := filepath.Join(l.root, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		rp, err := l.realInside(p)
		if err == errOutside {
			l.notef("files", "%s is a symlink out of the site root; ignored", name)
			continue
		}
		if err != nil {
			continue
		}
		if fi, err := os.Stat(rp); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if found != "" {
			l.notef("config", "both mkdocs.yml and mkdocs.yaml exist; %s is used", filepath.Base(found))
			continue
		}
		found = rp
	}
	return found
}

// readConfig reads one config file and the INHERIT chain above it.
func (l *loader) readConfig(p string, chain []string) (*mapping, error) {
	m, err := l.parseYAMLFile(p)
	if err != nil {
		return nil, err
	}
	inh, ok := m.get("INHERIT")
	if !ok {
		return m, nil
	}
	m.del("INHERIT")
	name := strings.TrimSpace(scalarString(inh))
	if name == "" {
		l.notef("config", "%s: INHERIT is empty or not a string; ignored", l.rel(p))
		return m, nil
	}
	pp := filepath.FromSlash(name)
	if !filepath.IsAbs(pp) {
		pp = filepath.Join(filepath.Dir(p), pp)
	}
	rp, err := filepath.EvalSymlinks(pp)
	switch {
	case err != nil:
		l.notef("config", "%s: INHERIT file %q not found; ignored", l.rel(p), name)
		return m, nil
	case !isYAMLName(rp):
		l.notef("config", "%s: INHERIT file %q is not a .yml/.yaml file; ignored", l.rel(p), name)
		return m, nil
	case l.opts.ConfigBoundary != "" && !within(filepath.Clean(l.opts.ConfigBoundary), rp):
		l.notef("config", "%s: INHERIT file %q is outside the allowed folder; ignored", l.rel(p), name)
		return m, nil
	case len(chain) >= 10:
		l.notef("config", "%s: INHERIT chain deeper than 10 files; %q ignored", l.rel(p), name)
		return m, nil
	}
	for _, c := range append(chain, p) {
		if c == rp {
			l.notef("config", "%s: INHERIT cycle through %q; ignored", l.rel(p), name)
			return m, nil
		}
	}
	if fi, err := os.Stat(rp); err != nil || !fi.Mode().IsRegular() {
		l.notef("config", "%s: INHERIT %q is not a regular file; ignored", l.rel(p), name)
		return m, nil
	}
	if !within(l.root, rp) {
		l.notef("config", "%s: INHERIT reads %q from outside the site root", l.rel(p), name)
	}
	parent, err := l.readConfig(rp, append(chain, p))
	if err != nil {
		l.notef("config", "%s: INHERIT file %q unreadable (%v); ignored", l.rel(p), name, err)
		return m, nil
	}
	return mergeMaps(parent, m), nil
}

// Plugins the reader knows how to honour (or that need nothing from it).
var knownPlugins = map[string]bool{
	"techdocs-core":   true,
	"search":          true,
	"material/search": true,
	"monorepo":        true,
}

// Config keys that need nothing from the reader.
var quietKeys = map[string]bool{
	"site_name": true, "site_description": true, "repo_url": true, "edit_uri": true,
	"docs_dir": true, "nav": true, "pages": true, "plugins": true, "theme": true,
	"markdown_extensions": true, "mdx_configs": true,
	"site_url": true, "repo_name": true, "site_author": true, "copyright": true,
	"remote_branch": true, "remote_name": true, "site_dir": true, "strict": true,
	"dev_addr": true, "watch": true, "validation": true, "extra": true,
	"google_analytics": true, "use_directory_urls": true,
}

// Config keys mkdocs knows whose effect the reader does not reproduce.
var ignoredKeys = map[string]string{
	"hooks":              "hooks (Python code) are not run",
	"exclude_docs":       "exclude_docs is not applied",
	"not_in_nav":         "not_in_nav is not applied",
	"draft_docs":         "draft_docs is not applied",
	"extra_css":          "extra_css is not loaded",
	"extra_javascript":   "extra_javascript is not loaded",
	"extra_templates":    "extra_templates are not rendered",
	"edit_uri_template":  "edit_uri_template is not applied (edit_uri is)",
	"theme_dir":          "theme_dir is not applied",
	"include_next_prev":  "",
	"include_nav":        "",
	"markdown_extension": "did you mean markdown_extensions? ignored",
}

func (l *loader) readOtherConfig(cfg *mapping, site *Site) {
	for _, k := range cfg.keys {
		if quietKeys[k] {
			continue
		}
		if why, ok := ignoredKeys[k]; ok {
			if why == "" {
				why = k + " is ignored"
			}
			l.notef("config", "%s", why)
			continue
		}
		l.notef("config", "unknown key %q ignored", k)
	}
	if v, ok := cfg.get("use_directory_urls"); ok {
		if b, ok := boolValue(v); ok && !b {
			l.notef("config", "use_directory_urls: false is ignored; pages always get directory URLs")
		}
	}

	// plugins: a list of names or {name: config}, or a mapping.
	pv, _ := cfg.get("plugins")
	for _, name := range namesOf(pv) {
		site.Plugins = append(site.Plugins, name)
		switch {
		case name == "monorepo" || name == "techdocs-core":
			l.monorepo = true
		case knownPlugins[name]:
		default:
			l.notef("plugin", "plugin %q is not supported; ignored", name)
		}
	}

	// theme: a name or {name: ..., options...}.
	tv, _ := cfg.get("theme")
	switch t := tv.(type) {
	case string:
		site.Theme = t
	case *mapping:
		n, _ := t.get("name")
		site.Theme = scalarString(n)
		var opts []string
		for _, k := range t.keys {
			if k != "name" {
				opts = append(opts, k)
			}
		}
		if len(opts) > 0 {
			l.notef("theme", "theme options ignored: %s", strings.Join(opts, ", "))
		}
	}
	if site.Theme != "" && site.Theme != "material" && site.Theme != "mkdocs" {
		l.notef("theme", "theme %q is not supported; ignored", site.Theme)
	} else if tv != nil && site.Theme == "" {
		l.notef("theme", "theme without a name ignored")
	}

	ev, _ := cfg.get("markdown_extensions")
	site.Extensions = namesOf(ev)
}

// namesOf lists plugin/extension names from a list of names or
// single-key mappings, or from a mapping.
func namesOf(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		if v != "" {
			out = append(out, v)
		}
	case []any:
		for _, it := range v {
			switch it := it.(type) {
			case string:
				if it != "" {
					out = append(out, it)
				}
			case *mapping:
				out = append(out, it.keys...)
			}
		}
	case *mapping:
		out = append(out, v.keys...)
	}
	return out
}

// sortKey orders files the way mkdocs does: within a folder the index (or
// README) first, then files by name, then subfolders by name.
func sortKey(p string) []string {
	parts := strings.Split(p, "/")
	key := make([]string, len(parts))
	for i, part := range parts {
		switch {
		case i < len(parts)-1:
			key[i] = "\x02" + part
		case isIndexName(part):
			key[i] = "\x00" + part
		default:
			key[i] = "\x01" + part
		}
	}
	return key
}

func lessKey(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func sortPaths(ps []string) {
	sort.SliceStable(ps, func(i, j int) bool { return lessKey(sortKey(ps[i]), sortKey(ps[j])) })
}

// isIndexName reports whether a file name is a folder's index page for
// mkdocs (index.md, or README.md).
func isIndexName(name string) bool {
	stem := strings.TrimSuffix(name, path.Ext(name))
	return stem == "index" || stem == "README"
}
