package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// importForm is the register page's state: what was typed, what the
// analysis found, and any error to show beside the field.
type importForm struct {
	Input        string
	Spec         catalog.LocationSpec
	Error        string
	Entities     []entity // what the location would emit (analysis)
	Exists       bool     // the location is already registered
	Done         bool     // registered and crawled
	Crawled      []entity // what the catalog now holds from it (the first maxImported)
	CrawledTotal int
	Types        []string
	Readonly     bool
}

// importTimeout bounds the crawl a registration waits for; a longer one
// finishes in the background.
const importTimeout = 30 * time.Second

// maxImported is how many of a registration's entities its page lists.
const maxImported = 100

// userError is a refusal to show the user rather than a failure to log.
type userError struct{ msg string }

func (e userError) Error() string { return e.msg }

func (s *Server) allowedTypes() []string {
	if s.LocationTypes == nil {
		return []string{"url"}
	}
	return s.LocationTypes
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) {
	f := importForm{Input: r.URL.Query().Get("target"), Types: s.allowedTypes(), Readonly: s.Readonly}
	s.render(w, r, http.StatusOK, importPageView(s.page(r, "Register an existing component", "/catalog"), f))
}

// locationInput reads what the user typed: "type:target" for an explicit
// type, a web address for a url location, or a path for a file location.
var explicitType = regexp.MustCompile(`^(url|git|file):(.+)$`)

func parseLocationInput(in string) (catalog.LocationSpec, error) {
	in = strings.TrimSpace(in)
	switch {
	case in == "":
		return catalog.LocationSpec{}, errors.New("Enter the URL of a catalog-info.yaml file, or a path.")
	case explicitType.MatchString(in) && !strings.HasPrefix(in, "url://"):
		m := explicitType.FindStringSubmatch(in)
		return catalog.LocationSpec{Type: m[1], Target: strings.TrimSpace(m[2])}, nil
	case strings.HasPrefix(in, "http://") || strings.HasPrefix(in, "https://"):
		u, err := url.Parse(in)
		if err != nil || u.Host == "" {
			return catalog.LocationSpec{}, fmt.Errorf("%q is not a valid URL.", in)
		}
		return catalog.LocationSpec{Type: "url", Target: in}, nil
	case strings.HasPrefix(in, "/"):
		return catalog.LocationSpec{Type: "file", Target: in}, nil
	}
	return catalog.LocationSpec{}, fmt.Errorf("%q is neither a URL (https://…) nor an absolute path.", in)
}

func (s *Server) importSubmit(w http.ResponseWriter, r *http.Request) {
	f := importForm{Input: strings.TrimSpace(r.PostFormValue("target")), Types: s.allowedTypes(), Readonly: s.Readonly}
	render := func(status int) {
		s.render(w, r, status, importPageView(s.page(r, "Register an existing component", "/catalog"), f))
	}
	spec, err := parseLocationInput(f.Input)
	if err != nil {
		f.Error = err.Error()
		render(http.StatusUnprocessableEntity)
		return
	}
	f.Spec = spec
	if !slices.Contains(f.Types, spec.Type) {
		what := map[string]string{"file": "Local paths", "git": "Git repositories", "url": "URLs"}[spec.Type]
		f.Error = fmt.Sprintf("%s cannot be registered on this server; allowed location types: %s.", what, strings.Join(f.Types, ", "))
		render(http.StatusUnprocessableEntity)
		return
	}
	ctx := r.Context()
	if s.CheckLocation != nil {
		if err := s.CheckLocation(ctx, spec); err != nil {
			f.Error = err.Error()
			render(http.StatusForbidden)
			return
		}
	}
	if _, err := s.Catalog.LocationByTarget(ctx, spec.Type, spec.Target); err == nil {
		f.Exists = true
	}
	if r.PostFormValue("action") != "register" {
		entities, err := s.Ingester.DryRun(ctx, spec)
		if err != nil {
			f.Error = err.Error()
			render(http.StatusUnprocessableEntity)
			return
		}
		for _, e := range entities {
			f.Entities = append(f.Entities, entityOf(e))
		}
		render(http.StatusOK)
		return
	}
	if s.Readonly {
		f.Error = "The catalog is read-only: locations cannot be registered."
		render(http.StatusForbidden)
		return
	}
	if s.Authorize != nil {
		if err := s.Authorize(r, "catalog.location.create", nil); err != nil {
			f.Error = err.Error()
			render(http.StatusForbidden)
			return
		}
	}
	loc, _, err := s.Catalog.AddLocation(ctx, spec.Type, spec.Target, "api")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Wait for the first crawl so the page can link what arrived; a slow
	// one carries on in the refresh loop.
	crawlCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importTimeout)
	defer cancel()
	if _, err := s.Ingester.CrawlLocation(crawlCtx, loc); err != nil {
		s.Log.Warn("import crawl", "location", spec.Type+":"+spec.Target, "error", err)
		s.Ingester.Refresh(loc.ID)
	}
	f.Done = true
	crawled, total, err := s.queryEntities(ctx, store.QueryRequest{
		Filter:     store.Field{Key: "metadata.annotations.backstage.io/managed-by-origin-location", Values: []string{strings.ToLower(spec.Type + ":" + spec.Target)}},
		SortField:  "metadata.name",
		Limit:      maxImported,
		CountTotal: true,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Crawled = crawled
	f.CrawledTotal = total
	render(http.StatusOK)
}

// entityOf wraps an entity that is not (yet) stored.
func entityOf(e *catalog.Entity) entity { return entity{Entity: e, Ref: e.Ref()} }

// locationRow is a registered location on the admin page.
type locationRow struct {
	store.Location
	Errors []store.ProcessingError
}

type locationsView struct {
	Rows     []locationRow
	Message  string
	Readonly bool
}

func (s *Server) locationsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	locs, err := s.Catalog.Locations(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	errs, err := s.Catalog.Errors(ctx, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byRoot := map[string][]store.ProcessingError{}
	for _, e := range errs {
		byRoot[e.RootID] = append(byRoot[e.RootID], e)
	}
	v := locationsView{Readonly: s.Readonly}
	for _, l := range locs {
		v.Rows = append(v.Rows, locationRow{Location: l, Errors: byRoot[l.ID]})
	}
	sort.SliceStable(v.Rows, func(i, j int) bool {
		if v.Rows[i].Source != v.Rows[j].Source {
			return v.Rows[i].Source == "config"
		}
		return v.Rows[i].CreatedAt.Before(v.Rows[j].CreatedAt)
	})
	switch r.URL.Query().Get("done") {
	case "refresh":
		v.Message = "Refresh requested: the location is crawled again in the background."
	case "unregister":
		v.Message = "Location unregistered; what it alone emitted was removed from the catalog."
	}
	s.render(w, r, http.StatusOK, locationsPageView(s.page(r, "Locations", "/catalog"), v))
}

func (s *Server) locationAction(w http.ResponseWriter, r *http.Request, act func(context.Context, store.Location) error, done string) {
	if s.Readonly {
		s.render(w, r, http.StatusForbidden, errorPage(s.page(r, "Read-only", ""), "Read-only catalog", "Locations cannot be changed on this server."))
		return
	}
	// Refreshing a location re-reads what it already holds (Backstage has
	// no location refresh permission); unregistering needs
	// catalog.location.delete.
	if done == "unregister" && !s.allowed(w, r, "catalog.location.delete", nil) {
		return
	}
	l, err := s.Catalog.Location(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r, "There is no such location.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := act(r.Context(), l); err != nil {
		var ue userError
		if errors.As(err, &ue) {
			s.render(w, r, http.StatusBadRequest, errorPage(s.page(r, "Not possible", ""), "Not possible", ue.msg))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations?done="+done, http.StatusSeeOther)
}

func (s *Server) refreshLocation(w http.ResponseWriter, r *http.Request) {
	s.locationAction(w, r, func(_ context.Context, l store.Location) error {
		s.Ingester.Refresh(l.ID)
		return nil
	}, "refresh")
}

func (s *Server) unregisterLocation(w http.ResponseWriter, r *http.Request) {
	s.locationAction(w, r, func(ctx context.Context, l store.Location) error {
		if l.Source != "api" {
			return userError{fmt.Sprintf("Location %s:%s comes from the configuration; remove it there.", l.Type, l.Target)}
		}
		return s.Ingester.Unregister(ctx, l.ID)
	}, "unregister")
}

func since(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Format("2006-01-02 15:04")
}

// allowed asks Authorize and, on a refusal, answers with a page that says
// what was refused and whom to ask.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request, permission string, resource []byte) bool {
	if s.Authorize == nil {
		return true
	}
	if err := s.Authorize(r, permission, resource); err != nil {
		s.render(w, r, http.StatusForbidden, errorPage(s.page(r, "Not allowed", ""), "Not allowed", err.Error()))
		return false
	}
	return true
}
