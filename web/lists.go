package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// listView is a page of entities chosen by a fixed filter plus the user's
// text: the Docs index (entities with TechDocs) and the Create page
// (templates).
type listView struct {
	Path, Text string
	Rows       []entity
	Total      int
	Page       int
	Pages      int
}

const listPageSize = 48

func (v listView) pageURL(n int) string {
	q := "?page=" + strconv.Itoa(n)
	if v.Text != "" {
		q += "&q=" + url.QueryEscape(v.Text)
	}
	return v.Path + q
}

func (s *Server) listEntities(r *http.Request, path string, filter store.Predicate) (listView, error) {
	v := listView{Path: path, Text: strings.TrimSpace(r.URL.Query().Get("q")), Page: 1}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		v.Page = n
	}
	req := store.QueryRequest{Filter: filter, SortField: "metadata.name", Offset: (v.Page - 1) * listPageSize, Limit: listPageSize, CountTotal: true}
	if v.Text != "" {
		req.TextTerm, req.TextFields = v.Text, textFields
	}
	rows, total, err := s.queryEntities(r.Context(), req)
	if err != nil {
		return v, fmt.Errorf("list %s: %w", path, err)
	}
	v.Rows = rows
	v.Total = total
	v.Pages = max(1, (total+listPageSize-1)/listPageSize)
	return v, nil
}

// docsIndex lists the entities whose docs Greenroom can show: those with
// a backstage.io/techdocs-ref annotation, as Backstage's Docs page does.
func (s *Server) docsIndex(w http.ResponseWriter, r *http.Request) {
	v, err := s.listEntities(r, "/docs", store.Field{Key: "metadata.annotations.backstage.io/techdocs-ref"})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, docsIndexView(s.page(r, "Docs", "/docs"), v))
}

// createPage lists the software templates of the catalog.
func (s *Server) createPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.listEntities(r, "/create", store.Field{Key: "kind", Values: []string{"template"}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, createView(s.page(r, "Create", "/create"), v, s.Scaffolder != nil))
}

// wizardHref is the form of a template entity.
func wizardHref(e entity) string { return templateFormHref(e.Ref.Namespace, e.Ref.Name) }

// templateFormHref is /create/templates/{namespace}/{name}, lower-cased.
func templateFormHref(namespace, name string) string {
	if namespace == "" {
		namespace = catalog.DefaultNamespace
	}
	return "/create/templates/" + url.PathEscape(strings.ToLower(namespace)) + "/" + url.PathEscape(strings.ToLower(name))
}
