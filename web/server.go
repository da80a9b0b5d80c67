// Package web serves Greenroom's pages over HTTP: the chi router, its
// middleware, and one file per page with its templ components. Pages are
// rendered on the server and work without JavaScript; htmx swaps parts of
// them (the catalog table, filters) when it is there.
package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/static"
	"github.com/greenroom-dev/greenroom/web/audit"
	"github.com/greenroom-dev/greenroom/web/auth"
)

// Catalog is what the pages read from the store.
type Catalog interface {
	Count(ctx context.Context) (map[string]int, error)
	Query(ctx context.Context, req store.QueryRequest) ([]store.QueryRow, int, error)
	Facets(ctx context.Context, facets []string, filter store.Predicate) (map[string][]store.FacetValue, error)
	FinalByRef(ctx context.Context, ref string) ([]byte, error)
	ByRefs(ctx context.Context, refs []string, filter store.Predicate) ([][]byte, error)
	Ancestry(ctx context.Context, ref string) ([]store.AncestryItem, error)
	EntityRoot(ctx context.Context, ref string) (string, error)
	EntityErrors(ctx context.Context, ref string) ([]store.ProcessingError, error)
	Reachable(ctx context.Context, ref, relType string, limit int) ([]string, error)
	Locations(ctx context.Context) ([]store.Location, error)
	Location(ctx context.Context, id string) (store.Location, error)
	LocationByTarget(ctx context.Context, typ, target string) (store.Location, error)
	AddLocation(ctx context.Context, typ, target, source string) (store.Location, bool, error)
	Errors(ctx context.Context, rootID string) ([]store.ProcessingError, error)
}

// Ingester is what the import and locations pages ask of ingestion.
type Ingester interface {
	Refresh(rootID string)
	Unregister(ctx context.Context, id string) error
	DryRun(ctx context.Context, spec catalog.LocationSpec) ([]*catalog.Entity, error)
	CrawlLocation(ctx context.Context, l store.Location) (ingest.CrawlStats, error)
}

// Server holds the handlers' dependencies.
type Server struct {
	Catalog  Catalog
	Ingester Ingester
	// Ready reports whether the first crawl has finished.
	Ready func() bool
	// CatalogAPI serves Backstage's catalog REST API under /api/catalog.
	CatalogAPI http.Handler
	// SearchAPI serves Backstage's search API under /api/search.
	SearchAPI http.Handler
	// Docs renders entities' TechDocs for the reader; TechDocsAPI serves
	// Backstage's TechDocs API under /api/techdocs.
	Docs        Docs
	TechDocsAPI http.Handler
	// ScaffolderAPI serves Backstage's scaffolder API under /api/scaffolder.
	ScaffolderAPI http.Handler
	// Scaffolder runs templates from the create pages; nil leaves /create
	// a list of templates without forms.
	Scaffolder Scaffolder
	// LocationTypes are the location types users may register from the
	// import page (the API's allowed types); nil means url only.
	LocationTypes []string
	// CheckLocation, when set, vets a location before the import page
	// dry-runs or registers it.
	CheckLocation func(ctx context.Context, spec catalog.LocationSpec) error
	// Readonly refuses registering, refreshing and unregistering locations.
	Readonly bool
	// Search is the search index behind /search and the header box's
	// suggestions; nil sends searches to the catalog's text filter.
	Search Searcher
	// Plugins is the plugin host: the plugins page and entity cards; nil
	// means none. PluginAPIs are their routes by plugin ID, mounted at
	// /api/<ID>; EventsAPI is Backstage's events ingress at /api/events.
	Plugins    Plugins
	PluginAPIs map[string]http.Handler
	EventsAPI  http.Handler
	// Auth identifies visitors (sessions, tokens, the guest) and serves
	// /api/auth; nil: every visitor is anonymous. Nothing is refused on
	// identity yet — permissions decide that (issue 13).
	Auth Auth
	// TaskUser, when set, is who runs a template from the create pages
	// (the task's createdBy, user.ref and user.entity in templates).
	TaskUser func(r *http.Request) task.User
	// Reads, when set, is what the request's user may read of the
	// catalog; the pages apply it to every query (nil: everything).
	Reads func(r *http.Request) ReadPolicy
	// PermissionAPI is Backstage's permission backend at /api/permission.
	PermissionAPI http.Handler
	// Authorize, when set, decides a permission for the request's user
	// before a page changes something (the catalog API's hook); its error
	// is shown to the person.
	Authorize func(r *http.Request, permission string, resource []byte) error
	// Audit records the pages' mutations (registering, refreshing and
	// unregistering locations; creating, cancelling and retrying tasks);
	// nil records nothing.
	Audit *audit.Auditor
	Log   *slog.Logger

	assets string // version of the embedded assets, for cache-busting URLs
}

// Handler returns the router.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.assets = assetVersion(static.FS)
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recoverer)
	if s.Auth != nil {
		r.Use(s.Auth.OptionalMiddleware)
	}
	if s.Reads != nil {
		r.Use(s.withReads)
		s.Catalog = scopedCatalog{s.Catalog}
	}
	if s.Auth != nil {
		r.Mount("/api/auth", http.StripPrefix("/api/auth", s.Auth.Handler()))
	}
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.Ready != nil && !s.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("catalog is still loading\n"))
			return
		}
		w.Write([]byte("ready\n"))
		// Plugins' health is reported, but does not make the portal unready:
		// an unreachable GitHub must not take the catalog out of a load
		// balancer.
		if s.Plugins != nil {
			for _, in := range s.Plugins.Instances() {
				if !in.Enabled {
					continue
				}
				st := in.Status.Snapshot()
				switch {
				case st.Calls == 0:
					fmt.Fprintf(w, "plugin %s: no calls yet\n", in.Info.ID)
				case st.Healthy():
					fmt.Fprintf(w, "plugin %s: ok\n", in.Info.ID)
				default:
					fmt.Fprintf(w, "plugin %s: failing: %s\n", in.Info.ID, st.LastError)
				}
			}
		}
	})
	if s.CatalogAPI != nil {
		r.Mount("/api/catalog", s.CatalogAPI)
	}
	if s.SearchAPI != nil {
		r.Mount("/api/search", s.SearchAPI)
	}
	if s.TechDocsAPI != nil {
		r.Mount("/api/techdocs", s.TechDocsAPI)
	}
	if s.ScaffolderAPI != nil {
		r.Mount("/api/scaffolder", s.ScaffolderAPI)
	}
	// Plugins' handlers are plain http.Handlers: they see paths below
	// their mount point, whatever router they use.
	if s.EventsAPI != nil {
		r.Mount("/api/events", http.StripPrefix("/api/events", s.EventsAPI))
	}
	if s.PermissionAPI != nil {
		r.Mount("/api/permission", http.StripPrefix("/api/permission", s.PermissionAPI))
	}
	if s.Audit != nil && s.Audit.Store != nil {
		r.Mount("/api/audit", s.auditAPI())
	}
	for id, h := range s.PluginAPIs {
		r.Mount("/api/"+id, http.StripPrefix("/api/"+id, h))
	}
	assets := http.FileServerFS(static.FS)
	// Compressed: mermaid alone is 5.5 MB of JavaScript (1.5 MB gzipped).
	r.With(middleware.Compress(5, "text/css", "text/javascript", "application/javascript", "image/svg+xml")).
		Handle("/static/*", http.StripPrefix("/static/", cacheStatic(assets, s.assets)))
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/icons/greenroom.svg?v="+s.assets, http.StatusMovedPermanently)
	})

	r.Group(func(r chi.Router) {
		r.Use(pageHeaders)
		// Forms post only from the portal's own pages (Fetch metadata and
		// Origin checks), so another site cannot register or remove
		// locations in a signed-in user's name.
		r.Use(http.NewCrossOriginProtection().Handler)
		r.Get("/", s.home)
		r.Get("/catalog", s.catalogPage)
		r.Get("/api-docs", s.apiDocs)
		r.Get("/search", s.searchPage)
		r.Get("/search/suggest", s.searchSuggest)
		r.Get("/docs", s.docsIndex)
		if s.Scaffolder != nil {
			r.Get("/create/templates/{namespace}/{name}", s.wizard)
			r.Post("/create/templates/{namespace}/{name}", audit.Wrap(s.Audit, "scaffolder", "task", audit.Medium, taskCreateMeta, s.wizardPost))
			r.Get("/create/suggest", s.pickerSuggest)
			r.Get("/create/tasks", s.taskList)
			r.Get("/create/tasks/{id}", s.taskPage)
			r.Get("/create/tasks/{id}/stream", s.taskStream)
			r.Post("/create/tasks/{id}/cancel", audit.Wrap(s.Audit, "scaffolder", "task", audit.Medium, idMeta("cancel", "taskId"), s.taskCancel))
			r.Post("/create/tasks/{id}/retry", audit.Wrap(s.Audit, "scaffolder", "task", audit.Medium, idMeta("retry", "taskId"), s.taskRetry))
		}
		if s.Docs != nil {
			r.Get("/docs/{namespace}/{kind}/{name}", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			})
			r.Get("/docs/{namespace}/{kind}/{name}/*", s.docsReader)
		}
		r.Get("/create", s.createPage)
		r.Get("/catalog/{namespace}/{kind}/{name}", s.entityPage)
		r.Get("/catalog/{namespace}/{kind}/{name}/{tab}", s.entityPage)
		r.Get("/catalog/{namespace}/{kind}/{name}/cards/{plugin}/{view}", s.entityCard)
		r.Get("/catalog/{namespace}/{kind}/{name}/tabs/{plugin}/{view}", s.entityTab)
		r.Get("/plugins", s.pluginsPage)
		if s.Audit != nil && s.Audit.Store != nil {
			r.Get("/audit", s.auditPage)
		}
		r.Get("/catalog-import", s.importPage)
		r.Post("/catalog-import", audit.Wrap(s.Audit, "catalog", "location-mutate", audit.Medium, importMeta, s.importSubmit))
		r.Get("/locations", s.locationsPage)
		r.Post("/locations/{id}/refresh", audit.Wrap(s.Audit, "catalog", "location-mutate", audit.Medium, idMeta("refresh", "locationId"), s.refreshLocation))
		r.Post("/locations/{id}/unregister", audit.Wrap(s.Audit, "catalog", "location-mutate", audit.Medium, idMeta("delete", "locationId"), s.unregisterLocation))
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			s.notFound(w, r, "There is no page at "+r.URL.Path+".")
		})
	})
	return r
}

// pageHeaders are the security headers of every page: entity text is
// untrusted, so beyond escaping it, no inline script may run and nothing
// may frame the portal.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// Full pages and htmx fragments share URLs.
		h.Set("Vary", "HX-Request, HX-Target")
		h.Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// cacheStatic lets browsers keep embedded assets: a year when the URL
// names the binary's asset version (it changes with any asset), a day
// otherwise.
func cacheStatic(h http.Handler, version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("v"); v != "" && v == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=86400")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// assetVersion hashes the embedded assets' names and contents.
func assetVersion(fsys fs.FS) string {
	h := sha256.New()
	fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// page starts the layout's data for a request.
func (s *Server) page(r *http.Request, title, nav string) page {
	p := page{Title: title, Nav: nav, Assets: s.assets}
	if s.Auth == nil {
		return p
	}
	id, _ := auth.FromContext(r.Context())
	switch id.Kind {
	case auth.KindSession, auth.KindToken, auth.KindGuest:
		p.User = id.DisplayName
		if p.User == "" {
			p.User = id.UserRef
		}
		// Linked only when the catalog has the user (a guest may not be).
		if ref, err := catalog.ParseRef(id.UserRef, catalog.RefDefaults{Kind: "User", Namespace: catalog.DefaultNamespace}); err == nil && id.UserRef != "" {
			if _, err := s.Catalog.FinalByRef(r.Context(), ref.String()); err == nil {
				p.UserHref = entityHref(ref)
			}
		}
		if id.Kind == auth.KindSession {
			p.SignOut = s.Auth.SignOutPath()
		}
	default:
		if s.Auth.SignInEnabled() {
			p.SignIn = s.Auth.SignInURL(r.URL.RequestURI())
		}
	}
	return p
}

// Auth is what the pages need of sign-in.
type Auth interface {
	OptionalMiddleware(next http.Handler) http.Handler
	Handler() http.Handler
	SignInEnabled() bool
	SignInURL(returnTo string) string
	SignOutPath() string
}

// htmxTarget is the id of the element an htmx request will swap, "" for a
// normal request or a history restore (which needs the whole page).
func htmxTarget(r *http.Request) string {
	if r.Header.Get("HX-Request") != "true" || r.Header.Get("HX-History-Restore-Request") == "true" {
		return ""
	}
	return r.Header.Get("HX-Target")
}

// render writes a component as HTML. Rendering into a buffer first means
// a failure half-way gives an error page, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var b strings.Builder
	if err := c.Render(r.Context(), &b); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// fail answers an unexpected error with an error page and logs it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.Log.Error("page", "path", r.URL.Path, "error", err, "request", middleware.GetReqID(r.Context()))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	errorPage(s.page(r, "Error", ""), "Something went wrong", "The page could not be made: "+err.Error()).Render(r.Context(), w)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusNotFound, errorPage(s.page(r, "Not found", ""), "Not found", msg))
}

// home shows what the catalog holds, by kind.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	counts, err := s.Catalog.Count(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	errs, err := s.Catalog.Errors(ctx, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	s.render(w, r, http.StatusOK, homePage(s.page(r, "Home", ""), kindOptions(counts), total, len(errs)))
}

// apiDocs is the APIs page: the catalog filtered to kind API, as
// Backstage's API explorer.
func (s *Server) apiDocs(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	v.Set("kind", "api")
	q := parseCatalogQuery(v)
	view, err := s.catalogView(r, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "APIs", "/api-docs")
	s.render(w, r, http.StatusOK, catalogPageView(p, view))
}

// Audit meta of the pages' mutations: what they act on, never the form's
// values (a template's may hold secrets).

func idMeta(actionType, key string) func(r *http.Request) map[string]any {
	return func(r *http.Request) map[string]any {
		return map[string]any{"actionType": actionType, key: chi.URLParam(r, "id")}
	}
}

// importMeta audits the import page's "register", not its preview.
func importMeta(r *http.Request) map[string]any {
	if r.PostFormValue("action") != "register" {
		return nil
	}
	return map[string]any{"actionType": "create", "locationRef": strings.TrimSpace(r.PostFormValue("target"))}
}

// taskCreateMeta audits the wizard's Create, not its Next and Back.
func taskCreateMeta(r *http.Request) map[string]any {
	if r.PostFormValue("_go") != "create" {
		return nil
	}
	return map[string]any{"actionType": "create", "templateRef": "template:" + chi.URLParam(r, "namespace") + "/" + chi.URLParam(r, "name")}
}
