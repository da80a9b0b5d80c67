// Package techdocs renders an entity's mkdocs documentation (mkdocs.yml and
// Markdown, read where the entity's catalog file lives) with goldmark, and
// serves it: the reader pages, Backstage's TechDocs API, and search
// documents. No Python, no build step: pages render on first view and stay
// cached until their sources change.
package techdocs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/techdocs/markdown"
	"github.com/greenroom-dev/greenroom/techdocs/mkdocs"
)

// RefAnnotation names an entity's docs, as in Backstage.
const RefAnnotation = "backstage.io/techdocs-ref"

// Catalog is what the service reads from the store.
type Catalog interface {
	FinalByRef(ctx context.Context, ref string) ([]byte, error)
}

// Service finds, renders and caches documentation sites.
type Service struct {
	Catalog Catalog
	// Git maps git locations to their checkouts (the ingester's reader).
	Git interface {
		GitWorkdir(g ingest.GitTarget) string
	}
	// Recheck is how often a site's sources are checked for changes
	// (default 2 s): edits show on the next view after that.
	Recheck time.Duration
	// Reader reads the docs trees of url: refs, and of dir: refs of
	// entities from url locations (the server's URL reader); nil: such
	// docs are not shown, with a message saying so.
	Reader TreeReader
	// DataDir keeps the local copies of remote docs trees (<DataDir>/trees).
	DataDir string
	// RemoteRecheck is how often a remote tree's commit is checked
	// (default 5 min); an unchanged tree is not read again.
	RemoteRecheck time.Duration

	mu    sync.Mutex
	sites map[string]*site       // by entity ref
	trees map[string]*remoteTree // by tree URL
}

// NoDocsError says why an entity has no docs to show.
type NoDocsError struct{ Reason string }

func (e *NoDocsError) Error() string { return e.Reason }

// site is a loaded mkdocs site and its rendered pages.
type site struct {
	ref   catalog.Ref
	dir   string // the directory holding mkdocs.yml
	mk    *mkdocs.Site
	print string // fingerprint of the sources' layout when loaded
	// checked is when the sources were last compared (unix nanoseconds):
	// read by concurrent page views, the API and the indexer.
	checked  atomic.Int64
	editBase string // where "edit this page" links point, if the source has a URL

	mu    sync.Mutex
	pages map[string]*pageEntry // by page path

	indexOnce sync.Once
	byPath    map[string]mkdocs.Page
}

// page finds a page of the site by its path.
func (st *site) page(p string) (mkdocs.Page, bool) {
	st.indexOnce.Do(func() {
		st.byPath = make(map[string]mkdocs.Page, len(st.mk.Pages))
		for _, pg := range st.mk.Pages {
			st.byPath[pg.Path] = pg
		}
	})
	pg, ok := st.byPath[p]
	return pg, ok
}

type pageEntry struct {
	stamp  string // source file size and modification time
	result *markdown.Result
}

// Page is a rendered page of a site with what the reader shows around it.
type Page struct {
	Site    *mkdocs.Site
	Path    string // site-relative .md path
	URLPath string // reader path below the entity's docs root
	Title   string
	Result  *markdown.Result
	EditURL string
	Prev    *NavLink
	Next    *NavLink
	// Titles are the nav's pages' titles (the nav's, else each page's
	// first heading), by page path: what the reader's navigation shows.
	Titles    map[string]string
	Base      string // the entity's docs root URL, "/docs/ns/kind/name/"
	Generated time.Time
}

// NavLink is a neighbouring page.
type NavLink struct{ Title, Href string }

// Root is the reader's base URL of an entity's docs.
func Root(r catalog.Ref) string {
	ns := r.Namespace
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	return "/docs/" + url.PathEscape(ns) + "/" + url.PathEscape(strings.ToLower(r.Kind)) + "/" + url.PathEscape(r.Name) + "/"
}

// locate finds the directory of an entity's docs from its techdocs-ref
// annotation — dir: relative to the catalog file it came from (a file on
// disk, a git location's checkout, or a url location's directory URL,
// read as a tree), or url: a tree URL — and the directory the docs'
// config may not leave (mkdocs' INHERIT): the catalog file's directory,
// the repository, or the read tree.
func (s *Service) locate(ctx context.Context, e *catalog.Entity) (dir, boundary string, err error) {
	ref := e.Metadata.Annotations[RefAnnotation]
	if ref == "" {
		return "", "", &NoDocsError{"This entity has no documentation: add the annotation backstage.io/techdocs-ref: dir:. and an mkdocs.yml beside its catalog-info.yaml."}
	}
	typ, target, ok := strings.Cut(ref, ":")
	if !ok {
		return "", "", &NoDocsError{fmt.Sprintf("The annotation %s: %q is not a location (expected dir:<path> or url:<address>).", RefAnnotation, ref)}
	}
	switch typ {
	case "dir":
	case "url":
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "", &NoDocsError{fmt.Sprintf("The techdocs-ref url:%s is not an http(s) URL.", redact(target))}
		}
		dir, err := s.remoteDocs(ctx, target)
		return dir, dir, err
	default:
		return "", "", &NoDocsError{fmt.Sprintf("The techdocs-ref type %q is not supported (use dir: or url:).", typ)}
	}
	managed := e.Metadata.Annotations["backstage.io/managed-by-location"]
	loc, err := catalog.ParseLocationRef(managed)
	if err != nil {
		return "", "", &NoDocsError{"The entity does not say which file it came from (backstage.io/managed-by-location), so dir: cannot be resolved."}
	}
	var fileDir, root string
	switch loc.Type {
	case "file":
		fileDir = filepath.Dir(loc.Target)
		root = fileDir
	case "git":
		g, err := ingest.ParseGitTarget(loc.Target)
		if err != nil || s.Git == nil {
			return "", "", &NoDocsError{"The entity's git location cannot be read here."}
		}
		root = s.Git.GitWorkdir(g)
		fileDir = filepath.Join(root, filepath.FromSlash(path.Dir(g.Path)))
	case "url":
		// As in Backstage, dir: is relative to the catalog file's URL and
		// names a directory read as a tree.
		u, err := docsURL(loc.Target, target)
		if err != nil {
			return "", "", &NoDocsError{fmt.Sprintf("The techdocs-ref %s cannot be resolved: %v.", ref, err)}
		}
		dir, err := s.remoteDocs(ctx, u)
		return dir, dir, err
	default:
		return "", "", &NoDocsError{fmt.Sprintf("Docs of entities from %s locations are not fetched; file, git and url locations are.", loc.Type)}
	}
	dir = filepath.Clean(filepath.Join(fileDir, filepath.FromSlash(target)))
	// dir:../.. may not climb out of the repository (git) or above the
	// catalog file's directory tree root it names (file: its own volume).
	if loc.Type == "git" && !within(root, dir) {
		return "", "", &NoDocsError{fmt.Sprintf("The techdocs-ref %s leaves the repository.", ref)}
	}
	if _, err := os.Stat(dir); err != nil {
		return "", "", &NoDocsError{fmt.Sprintf("The docs directory %s does not exist.", target)}
	}
	return dir, root, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// entity reads an entity by ref.
func (s *Service) entity(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	final, err := s.Catalog.FinalByRef(ctx, ref.String())
	if err != nil {
		return nil, err
	}
	var e catalog.Entity
	if err := json.Unmarshal(final, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", ref, err)
	}
	return &e, nil
}

func (s *Service) site(ctx context.Context, ref catalog.Ref) (*site, error) {
	key := ref.String()
	recheck := s.Recheck
	if recheck <= 0 {
		recheck = 2 * time.Second
	}
	s.mu.Lock()
	if s.sites == nil {
		s.sites = map[string]*site{}
	}
	st := s.sites[key]
	s.mu.Unlock()
	if st != nil && time.Since(time.Unix(0, st.checked.Load())) < recheck {
		return st, nil
	}
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, err
	}
	dir, boundary, err := s.locate(ctx, e)
	if err != nil {
		return nil, err
	}
	docsDir := filepath.Join(dir, "docs")
	if st != nil && st.dir == dir {
		docsDir = st.mk.DocsDir
	}
	print := fingerprint(dir, docsDir)
	if st != nil && st.dir == dir && st.print == print {
		st.checked.Store(time.Now().UnixNano())
		return st, nil
	}
	mk, err := mkdocs.LoadWith(dir, mkdocs.Options{ConfigBoundary: boundary})
	if err != nil {
		return nil, &NoDocsError{fmt.Sprintf("The docs could not be read: %v", err)}
	}
	if mk.DocsDir != docsDir {
		print = fingerprint(dir, mk.DocsDir)
	}
	st = &site{ref: e.Ref(), dir: dir, mk: mk, print: print, pages: map[string]*pageEntry{},
		editBase: editBase(e, mk)}
	st.checked.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.sites[key] = st
	s.mu.Unlock()
	return st, nil
}

// fingerprint summarises a site's layout: the modification times of the
// directory holding mkdocs.yml, of its mkdocs.* files, and of every folder
// of the docs directory (a folder's changes when a page is added, removed
// or renamed). Edits of a page are seen by the page cache itself. Only
// those: for dir:. the directory is a whole repository, node_modules and
// all, and this runs every few seconds per site viewed.
func fingerprint(dir, docsDir string) string {
	var b strings.Builder
	stamp := func(p string, info fs.FileInfo) { fmt.Fprintf(&b, "%s:%d;", p, info.ModTime().UnixNano()) }
	if info, err := os.Stat(dir); err == nil {
		stamp(dir, info)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "mkdocs.") {
			if info, err := e.Info(); err == nil {
				stamp(filepath.Join(dir, e.Name()), info)
			}
		}
	}
	filepath.WalkDir(docsDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && p != docsDir {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil {
			stamp(p, info)
		}
		return nil
	})
	return b.String()
}

// editBase is where the site's sources can be edited, from the entity's
// edit-url annotation (its catalog file) or the site's repo_url/edit_uri.
func editBase(e *catalog.Entity, mk *mkdocs.Site) string {
	if mk.RepoURL != "" && mk.EditURI != "" {
		return strings.TrimSuffix(mk.RepoURL, "/") + "/" + strings.Trim(mk.EditURI, "/") + "/"
	}
	if edit := e.Metadata.Annotations["backstage.io/edit-url"]; strings.HasPrefix(edit, "https://") || strings.HasPrefix(edit, "http://") {
		// The catalog file's edit URL: docs/… sit beside it.
		base := edit[:strings.LastIndex(edit, "/")+1]
		if rel, err := filepath.Rel(mk.Root, mk.DocsDir); err == nil && !strings.HasPrefix(rel, "..") {
			return base + filepath.ToSlash(rel) + "/"
		}
	}
	return ""
}

// ErrNotFound is a page or file the site does not have.
var ErrNotFound = errors.New("not found")

// Page renders (or returns cached) the page at a reader path.
func (s *Service) Page(ctx context.Context, ref catalog.Ref, urlPath string) (*Page, error) {
	st, err := s.site(ctx, ref)
	if err != nil {
		return nil, err
	}
	pg, ok := st.mk.PageForURL(urlPath)
	if !ok {
		return nil, ErrNotFound
	}
	res, err := st.render(pg)
	if err != nil {
		return nil, err
	}
	base := Root(st.ref)
	out := &Page{Site: st.mk, Path: pg.Path, URLPath: mkdocs.URLPath(pg.Path), Result: res, Base: base, Title: res.Title}
	if out.Title == "" {
		out.Title = pg.Title
	}
	if out.Title == "" {
		out.Title = st.mk.Name
	}
	if st.editBase != "" {
		out.EditURL = st.editBase + pg.Path
	}
	// Previous and next in nav order, and the nav's titles.
	order := navOrder(st.mk.Nav)
	out.Titles = make(map[string]string, len(order))
	for _, p := range order {
		out.Titles[p.Page] = titleOf(st, p)
	}
	for i, p := range order {
		if p.Page != pg.Path {
			continue
		}
		if i > 0 {
			out.Prev = &NavLink{Title: out.Titles[order[i-1].Page], Href: base + mkdocs.URLPath(order[i-1].Page)}
		}
		if i+1 < len(order) {
			out.Next = &NavLink{Title: out.Titles[order[i+1].Page], Href: base + mkdocs.URLPath(order[i+1].Page)}
		}
		break
	}
	return out, nil
}

// titleOf is a nav item's title, else its page's first heading.
func titleOf(st *site, item mkdocs.NavItem) string {
	if item.Title != "" {
		return item.Title
	}
	if p, ok := st.page(item.Page); ok {
		if res, err := st.render(p); err == nil && res.Title != "" {
			return res.Title
		}
	}
	return strings.TrimSuffix(path.Base(item.Page), ".md")
}

// navOrder flattens the nav into the pages it lists, in order.
func navOrder(items []mkdocs.NavItem) []mkdocs.NavItem {
	var out []mkdocs.NavItem
	for _, it := range items {
		if it.Page != "" {
			out = append(out, it)
		}
		out = append(out, navOrder(it.Children)...)
	}
	return out
}

// render renders a page, from the cache while its source is unchanged.
func (st *site) render(pg mkdocs.Page) (*markdown.Result, error) {
	info, err := os.Stat(pg.Source)
	if err != nil {
		return nil, ErrNotFound
	}
	stamp := fmt.Sprintf("%d:%d", info.Size(), info.ModTime().UnixNano())
	st.mu.Lock()
	if e := st.pages[pg.Path]; e != nil && e.stamp == stamp {
		st.mu.Unlock()
		return e.result, nil
	}
	st.mu.Unlock()
	src, err := readUnder(st.mk.Root, pg.Source)
	if err != nil {
		return nil, err
	}
	res, err := markdown.Render(src, markdown.Options{ResolveLink: st.resolver(pg)})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", pg.Path, err)
	}
	st.mu.Lock()
	st.pages[pg.Path] = &pageEntry{stamp: stamp, result: res}
	st.mu.Unlock()
	return res, nil
}

// maxPageSize bounds a Markdown source.
const maxPageSize = 4 << 20

// readUnder reads a file that must lie inside root, through os.Root so
// that no symlink leads out of it.
func readUnder(root, file string) ([]byte, error) {
	rel, err := filepath.Rel(root, file)
	if err != nil || !within(root, file) {
		return nil, fmt.Errorf("%s is outside the site", file)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() > maxPageSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", rel, maxPageSize)
	}
	b := make([]byte, info.Size())
	_, err = io.ReadFull(f, b)
	return b, err
}

// resolver rewrites a page's relative links: to another page's reader URL
// (with its #anchor), or to a file of the docs directory; anything leaving
// the docs directory, or naming nothing, is broken.
func (st *site) resolver(pg mkdocs.Page) func(string, bool) (string, bool) {
	base := Root(st.ref)
	return func(target string, image bool) (string, bool) {
		if strings.HasPrefix(target, "#") {
			return target, true
		}
		u, err := url.Parse(target)
		if err != nil || u.Scheme != "" || u.Host != "" {
			return "", false
		}
		p := u.Path
		var rel string
		if strings.HasPrefix(p, "/") {
			rel = path.Clean(strings.TrimPrefix(p, "/"))
		} else {
			rel = path.Clean(path.Join(path.Dir(pg.Path), p))
		}
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return "", false
		}
		frag := ""
		if u.Fragment != "" {
			frag = "#" + url.PathEscape(u.Fragment)
		}
		if !image {
			for _, cand := range []string{rel, strings.TrimSuffix(rel, "/") + "/index.md", strings.TrimSuffix(rel, "/") + "/README.md", rel + ".md"} {
				if q, ok := st.mk.PageForURL(mkdocs.URLPath(cand)); ok && (q.Path == cand || strings.HasSuffix(p, "/") || !strings.HasSuffix(rel, ".md")) {
					return base + mkdocs.URLPath(q.Path) + frag, true
				}
			}
		}
		// A file of the docs directory (an image, a download).
		if _, err := st.file(rel); err == nil {
			return base + escapePath(rel), true
		}
		return "", false
	}
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// file finds a file of the docs directory by site-relative path, refusing
// anything that leaves it (.., symlinks out) and Markdown sources.
func (st *site) file(rel string) (string, error) {
	rel = path.Clean("/" + rel)[1:]
	if rel == "" || strings.HasPrefix(path.Base(rel), ".") {
		return "", ErrNotFound
	}
	r, err := os.OpenRoot(st.mk.DocsDir)
	if err != nil {
		return "", ErrNotFound
	}
	defer r.Close()
	info, err := r.Stat(filepath.FromSlash(rel))
	if err != nil || info.IsDir() {
		return "", ErrNotFound
	}
	return filepath.Join(st.mk.DocsDir, filepath.FromSlash(rel)), nil
}

// File opens a file of an entity's docs directory for serving.
func (s *Service) File(ctx context.Context, ref catalog.Ref, rel string) (*os.File, error) {
	st, err := s.site(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, err := st.file(rel); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(st.mk.DocsDir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Open(filepath.FromSlash(path.Clean("/" + rel)[1:]))
}

// stamps summarises the pages' sources (size and modification time).
func (st *site) stamps() string {
	var b strings.Builder
	for _, pg := range st.mk.Pages {
		if info, err := os.Stat(pg.Source); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", pg.Path, info.Size(), info.ModTime().UnixNano())
		}
	}
	return b.String()
}
