package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/techdocs"
	"github.com/greenroom-dev/greenroom/techdocs/mkdocs"
)

// Docs is what the reader asks of the TechDocs service.
type Docs interface {
	Page(ctx context.Context, ref catalog.Ref, urlPath string) (*techdocs.Page, error)
	File(ctx context.Context, ref catalog.Ref, rel string) (*os.File, error)
}

// docsView is the reader: a rendered page with the site's navigation.
type docsView struct {
	Entity entity
	Page   *techdocs.Page
	Nav    []navEntry
	Error  string // why there are no docs
}

// navEntry is a nav item with its resolved title, link and state.
type navEntry struct {
	Title, Href string
	Current     bool
	Open        bool // a section holding the current page
	External    bool
	Children    []navEntry
}

// docsReader serves /docs/{namespace}/{kind}/{name}/{path}: a page of the
// entity's docs, or a file of its docs directory (images, downloads).
func (s *Server) docsReader(w http.ResponseWriter, r *http.Request) {
	rest := chi.URLParam(r, "*")
	_, e, ok := s.loadEntity(w, r, refParam(r))
	if !ok {
		return
	}
	v := docsView{Entity: e}
	pg, err := s.Docs.Page(r.Context(), e.Ref, rest)
	var nd *techdocs.NoDocsError
	switch {
	case errors.As(err, &nd):
		v.Error = nd.Reason
		s.render(w, r, http.StatusNotFound, docsPageView(s.page(r, e.DisplayName()+" docs", "/docs"), v))
		return
	case errors.Is(err, techdocs.ErrNotFound):
		s.docsFile(w, r, e.Ref, rest)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	v.Page = pg
	v.Nav = docsNav(pg, pg.Site.Nav)
	p := s.page(r, pg.Title+" · "+e.DisplayName(), "/docs")
	p.CSS = []string{"css/docs.css"}
	if pg.Result.HasMermaid {
		// through the layout, so they get the versioned, immutable URLs
		p.Scripts = []string{"vendor/mermaid.min.js", "js/docs.js"}
	}
	s.render(w, r, http.StatusOK, docsPageView(p, v))
}

// docsFile serves a file of the docs directory. Docs are untrusted: an SVG
// or HTML file opened directly must not run script in the portal's origin.
func (s *Server) docsFile(w http.ResponseWriter, r *http.Request, ref catalog.Ref, rel string) {
	f, err := s.Docs.File(r.Context(), ref, rel)
	if err != nil {
		s.notFound(w, r, "The docs have no page or file "+rel+".")
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(rel))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// docsNav resolves the nav's titles and links and marks the current page.
func docsNav(pg *techdocs.Page, items []mkdocs.NavItem) []navEntry {
	var out []navEntry
	for _, it := range items {
		n := navEntry{Title: it.Title}
		switch {
		case it.URL != "":
			n.Href, n.External = safeLink(it.URL), true
		case it.Page != "":
			n.Href = pg.Base + mkdocs.URLPath(it.Page)
			n.Current = it.Page == pg.Path
			if n.Title == "" {
				n.Title = pg.Titles[it.Page]
			}
		}
		n.Children = docsNav(pg, it.Children)
		for _, c := range n.Children {
			n.Open = n.Open || c.Current || c.Open
		}
		if n.Title == "" {
			n.Title = strings.TrimSuffix(path.Base(it.Page), ".md")
		}
		out = append(out, n)
	}
	return out
}
