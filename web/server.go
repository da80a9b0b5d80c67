// Package web serves Greenroom over HTTP: the chi router, middleware, and
// one file per page. The catalog API and pages arrive in later issues; for
// now it serves health checks and a status page of the catalog.
package web

import (
	"context"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/static"
)

// Catalog is what the pages read from the store.
type Catalog interface {
	Count(ctx context.Context) (map[string]int, error)
	Locations(ctx context.Context) ([]store.Location, error)
	Errors(ctx context.Context, rootID string) ([]store.ProcessingError, error)
}

// Server holds the handlers' dependencies.
type Server struct {
	Catalog Catalog
	// Ready reports whether the first crawl has finished.
	Ready func() bool
	// CatalogAPI serves Backstage's catalog REST API under /api/catalog.
	CatalogAPI http.Handler
}

// Handler returns the router.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recoverer)
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
	})
	r.Get("/", s.status)
	if s.CatalogAPI != nil {
		r.Mount("/api/catalog", s.CatalogAPI)
	}
	assets := http.FileServerFS(static.FS)
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(assets)))
	return r
}

// cacheStatic lets browsers keep embedded assets for a day; they change
// only with a new binary.
func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Greenroom</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/css/greenroom.css"></head>
<body><main>
<h1>Greenroom</h1>
<p>{{.Total}} entities in the catalog.</p>
<table><thead><tr><th scope="col">Kind</th><th scope="col">Entities</th></tr></thead><tbody>
{{range .Kinds}}<tr><td>{{.Kind}}</td><td>{{.N}}</td></tr>{{end}}
</tbody></table>
<h2>Locations</h2>
<ul>{{range .Locations}}<li>{{.Type}}:{{.Target}} — last crawled {{.LastCrawlAt.Format "2006-01-02 15:04:05"}}</li>{{end}}</ul>
{{if .Errors}}<h2>Processing errors</h2><ul>{{range .Errors}}<li><code>{{.Location}}</code>: {{.Message}}</li>{{end}}</ul>{{end}}
</main></body></html>
`))

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	counts, err := s.Catalog.Count(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	locs, err := s.Catalog.Locations(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	errs, err := s.Catalog.Errors(ctx, "")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	type kindCount struct {
		Kind string
		N    int
	}
	data := struct {
		Total     int
		Kinds     []kindCount
		Locations []store.Location
		Errors    []store.ProcessingError
	}{Locations: locs, Errors: errs}
	for k, n := range counts {
		data.Kinds = append(data.Kinds, kindCount{k, n})
		data.Total += n
	}
	sort.Slice(data.Kinds, func(i, j int) bool { return data.Kinds[i].Kind < data.Kinds[j].Kind })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	statusPage.Execute(w, data)
}
