package techdocs

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/techdocs/mkdocs"
)

// Handler serves Backstage's TechDocs backend API (mounted at
// /api/techdocs): the site's metadata, the entity's, and the site's files
// as a built site would have them (index.html per page, rendered on
// demand; search/search_index.json; the docs directory's other files).
func (s *Service) Handler() http.Handler {
	r := chi.NewRouter()
	r.Get("/metadata/techdocs/{namespace}/{kind}/{name}", s.apiSiteMetadata)
	r.Get("/metadata/entity/{namespace}/{kind}/{name}", s.apiEntityMetadata)
	r.Get("/static/docs/{namespace}/{kind}/{name}/*", s.apiStatic)
	r.Get("/static/docs/{namespace}/{kind}/{name}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	return r
}

func pathRef(r *http.Request) catalog.Ref {
	return catalog.Ref{Kind: chi.URLParam(r, "kind"), Namespace: chi.URLParam(r, "namespace"), Name: chi.URLParam(r, "name")}
}

func notFound(w http.ResponseWriter, r *http.Request, msg string) {
	api.WriteError(w, r, &api.Error{Name: "NotFoundError", Message: msg})
}

// siteOrError answers 404 for an entity without docs.
func (s *Service) siteOrError(w http.ResponseWriter, r *http.Request) (*site, bool) {
	ref := pathRef(r)
	st, err := s.site(r.Context(), ref)
	var nd *NoDocsError
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound(w, r, fmt.Sprintf("Entity %s not found", ref))
		return nil, false
	case errors.As(err, &nd):
		notFound(w, r, nd.Reason)
		return nil, false
	case err != nil:
		api.WriteError(w, r, err)
		return nil, false
	}
	return st, true
}

func (s *Service) apiSiteMetadata(w http.ResponseWriter, r *http.Request) {
	st, ok := s.siteOrError(w, r)
	if !ok {
		return
	}
	files := make([]string, 0, len(st.mk.Pages))
	for _, p := range st.mk.Pages {
		files = append(files, mkdocs.URLPath(p.Path)+"index.html")
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"site_name":        st.mk.Name,
		"site_description": st.mk.Description,
		"etag":             strconv.FormatUint(hash(st.print+st.stamps()), 16),
		"build_timestamp":  time.Unix(0, st.checked.Load()).UnixMilli(),
		"files":            files,
	})
}

func (s *Service) apiEntityMetadata(w http.ResponseWriter, r *http.Request) {
	ref := pathRef(r)
	final, err := s.Catalog.FinalByRef(r.Context(), ref.String())
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, r, fmt.Sprintf("Entity %s not found", ref))
		return
	}
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(final, &m); err != nil {
		api.WriteError(w, r, err)
		return
	}
	var e catalog.Entity
	json.Unmarshal(final, &e)
	if ref := e.Metadata.Annotations[RefAnnotation]; ref != "" {
		if typ, target, ok := strings.Cut(ref, ":"); ok {
			m["locationMetadata"] = map[string]string{"type": typ, "target": target}
		}
	}
	api.WriteJSON(w, http.StatusOK, m)
}

func (s *Service) apiStatic(w http.ResponseWriter, r *http.Request) {
	st, ok := s.siteOrError(w, r)
	if !ok {
		return
	}
	rest := chi.URLParam(r, "*")
	switch {
	case rest == "search/search_index.json":
		s.apiSearchIndex(w, st)
		return
	case rest == "" || strings.HasSuffix(rest, "/") || path.Base(rest) == "index.html":
		s.apiPage(w, r, st, strings.TrimSuffix(rest, "index.html"))
		return
	}
	abs, err := st.file(rest)
	if err != nil {
		notFound(w, r, "No file "+rest)
		return
	}
	f, err := s.File(r.Context(), st.ref, rest)
	if err != nil {
		notFound(w, r, "No file "+rest)
		return
	}
	defer f.Close()
	info, _ := f.Stat()
	ctype := mime.TypeByExtension(path.Ext(abs))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// apiPage answers a page as a built site's index.html: a standalone,
// sanitized document with the page's content in <article>.
func (s *Service) apiPage(w http.ResponseWriter, r *http.Request, st *site, urlPath string) {
	pg, err := s.Page(r.Context(), st.ref, urlPath)
	if err != nil {
		notFound(w, r, "No page "+urlPath)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'")
	fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head><body><article class=\"md-content\">%s</article></body></html>\n",
		html.EscapeString(pg.Title+" - "+st.mk.Name), pg.Result.HTML)
}

// apiSearchIndex answers mkdocs' search/search_index.json (Backstage's
// TechDocs collator reads it): one entry per page.
func (s *Service) apiSearchIndex(w http.ResponseWriter, st *site) {
	type doc struct {
		Location string `json:"location"`
		Text     string `json:"text"`
		Title    string `json:"title"`
	}
	var docs []doc
	for _, p := range st.mk.Pages {
		res, err := st.render(p)
		if err != nil {
			continue
		}
		title := res.Title
		if title == "" {
			title = p.Title
		}
		docs = append(docs, doc{Location: mkdocs.URLPath(p.Path), Text: res.Text, Title: title})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{
		"config": map[string]any{"lang": []string{"en"}, "separator": `[\s\-]+`, "pipeline": []string{"stopWordFilter"}},
		"docs":   docs,
	})
}

// hash is FNV-1a, for etags.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
