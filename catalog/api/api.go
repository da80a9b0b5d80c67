package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Store is what the API reads from and writes to the catalog store.
type Store interface {
	List(ctx context.Context, req store.ListRequest, fn func([]byte) error) error
	QueryEach(ctx context.Context, req store.QueryRequest, fn func(store.QueryRow) error) (int, error)
	ByRefs(ctx context.Context, refs []string, filter store.Predicate) ([][]byte, error)
	FinalByRef(ctx context.Context, ref string) ([]byte, error)
	FinalByUID(ctx context.Context, uid string) ([]byte, error)
	Facets(ctx context.Context, facets []string, filter store.Predicate) (map[string][]store.FacetValue, error)
	Ancestry(ctx context.Context, ref string) ([]store.AncestryItem, error)
	DeleteByUID(ctx context.Context, uid string) error
	EntityRoot(ctx context.Context, ref string) (string, error)
	Locations(ctx context.Context) ([]store.Location, error)
	Location(ctx context.Context, id string) (store.Location, error)
	LocationByTarget(ctx context.Context, typ, target string) (store.Location, error)
	AddLocation(ctx context.Context, typ, target, source string) (store.Location, bool, error)
	RestoreLocation(ctx context.Context, l store.Location) error
}

// Ingester is what the API asks of ingestion: crawl a location soon,
// forget one, and process without storing (dry runs, validation).
type Ingester interface {
	Refresh(rootID string)
	Unregister(ctx context.Context, id string) error
	DryRun(ctx context.Context, spec catalog.LocationSpec) ([]*catalog.Entity, error)
	Validate(ctx context.Context, raw map[string]any, loc catalog.LocationRef) error
	Read(ctx context.Context, spec catalog.LocationSpec) ([]catalog.FileEntities, error)
}

// Server serves /api/catalog.
type Server struct {
	Store    Store
	Ingester Ingester
	// Readonly refuses changes to locations (catalog.readonly).
	Readonly bool
	// AllowedLocationTypes may be registered through the API; Backstage
	// allows url only.
	AllowedLocationTypes []string
	// CheckLocation, when set, vets a location before it is registered
	// or dry-run through POST /locations (a git repository is cloned by
	// git, outside the URL reader's checks); its error is a 403.
	CheckLocation func(ctx context.Context, spec catalog.LocationSpec) error
	// MaxBodyBytes bounds request bodies (413 beyond).
	MaxBodyBytes int64
	// Audit records mutations (location create/delete, entity delete and
	// refresh); nil records nothing.
	Audit Auditor
	// Authorize, when set, decides a permission (Backstage's name, e.g.
	// catalog.entity.delete) for the request's user, on the entity's
	// stored JSON for resource permissions (nil for basic ones); its
	// error is the 403's message.
	Authorize func(r *http.Request, permission string, resource []byte) error
	// Reads, when set, is what the request's user may read
	// (catalog.entity.read); nil: everything.
	Reads func(r *http.Request) ReadPolicy
}

// authorize asks Authorize, answering a refusal as Backstage's
// NotAllowedError.
func (s *Server) authorize(r *http.Request, permission string, resource []byte) error {
	if s.Authorize == nil {
		return nil
	}
	if err := s.Authorize(r, permission, resource); err != nil {
		return notAllowed("%s", err.Error())
	}
	return nil
}

// Routes returns the router to mount at /api/catalog.
func (s *Server) Routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.limitBody)
	r.Get("/entities", s.handle(s.getEntities))
	r.Get("/entities/by-query", s.handle(s.getEntitiesByQuery))
	r.Post("/entities/by-query", s.handle(s.postEntitiesByQuery))
	r.Get("/entities/by-uid/{uid}", s.handle(s.getByUID))
	r.Delete("/entities/by-uid/{uid}", s.handle(s.audited("entity-mutate", "delete", s.deleteByUID)))
	r.Get("/entities/by-name/{kind}/{namespace}/{name}", s.handle(s.getByName))
	r.Get("/entities/by-name/{kind}/{namespace}/{name}/ancestry", s.handle(s.getAncestry))
	r.Post("/entities/by-refs", s.handle(s.postByRefs))
	r.Get("/entity-facets", s.handle(s.getFacets))
	r.Post("/entity-facets", s.handle(s.postFacets))
	r.Post("/refresh", s.handle(s.audited("entity-mutate", "refresh", s.postRefresh)))
	r.Post("/validate-entity", s.handle(s.postValidateEntity))
	r.Post("/analyze-location", s.handle(s.postAnalyzeLocation))
	r.Post("/locations", s.handle(s.audited("location-mutate", "create", s.postLocation)))
	r.Get("/locations", s.handle(s.getLocations))
	r.Post("/locations/by-query", s.handle(s.postLocationsByQuery))
	r.Get("/locations/by-entity/{kind}/{namespace}/{name}", s.handle(s.getLocationByEntity))
	r.Get("/locations/{id}", s.handle(s.getLocation))
	r.Delete("/locations/{id}", s.handle(s.audited("location-mutate", "delete", s.deleteLocation)))
	r.Put("/locations/{id}", s.handle(s.audited("location-mutate", "update", s.putLocation)))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, notFound("No route for %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, notFound("No route for %s %s", r.Method, r.URL.Path))
	})
	return r
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = 10 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			WriteError(w, r, &Error{Name: "PayloadTooLargeError", Message: "request entity too large"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// handle adapts a handler that returns an error to the error envelope.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = notFound("%v", err)
			}
			WriteError(w, r, err)
		}
	}
}

// readBody decodes a JSON object body as Backstage's requireRequestBody does.
func readBody(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return inputErr("Content-Type missing")
	}
	if mt := strings.TrimSpace(strings.Split(ct, ";")[0]); mt != "application/json" {
		return inputErr("Illegal Content-Type")
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Name: "PayloadTooLargeError", Message: "request entity too large"}
		}
		return inputErr("Could not read request body: %v", err)
	}
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		return inputErr("Malformed request body: %v", err)
	}
	obj, ok := probe.(map[string]any)
	if !ok {
		return inputErr("Expected body to be a JSON object")
	}
	if len(obj) == 0 {
		return inputErr("Empty request body")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return inputErr("Malformed request: %v", err)
	}
	return nil
}

// writeItems writes entities as a JSON array inside an optional wrapper,
// projecting fields and keeping nulls.
func writeEntityList(w http.ResponseWriter, items [][]byte, fields []string, wrap func(list json.RawMessage) any) error {
	var b strings.Builder
	b.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if item == nil {
			b.WriteString("null")
			continue
		}
		p, err := project(item, fields)
		if err != nil {
			return err
		}
		b.Write(p)
	}
	b.WriteByte(']')
	list := json.RawMessage(b.String())
	if wrap == nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, err := io.WriteString(w, b.String())
		return err
	}
	// The list is compact JSON already (stored entities and projections
	// are json.Marshal output), so it is spliced into the wrapper rather
	// than compacted again by json.Marshal, which took a third of a page's
	// CPU: the wrapper is encoded around an empty list, "items" being its
	// first key.
	const head = `{"items":[]`
	rest, err := json.Marshal(wrap(json.RawMessage("[]")))
	if err != nil || !strings.HasPrefix(string(rest), head) {
		WriteJSON(w, http.StatusOK, wrap(list))
		return nil
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"items":`)
	io.WriteString(w, b.String())
	w.Write(rest[len(head):]) // like writeJSON: once the header is out, errors are the client's
	return nil
}

// GET /entities
func (s *Server) getEntities(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	filterJSON, err := parseFilter(q)
	if err != nil {
		return err
	}
	filter, err := predicateOf(filterJSON)
	if err != nil {
		return err
	}
	if filter, err = s.readable(r, filter); err != nil {
		return err
	}
	fields, err := parseFields(q, nil)
	if err != nil {
		return err
	}
	order, err := parseOrder(q)
	if err != nil {
		return err
	}
	offset, hasOffset, err := intParam(q, "offset")
	if err != nil {
		return err
	}
	limit, hasLimit, err := intParam(q, "limit")
	if err != nil {
		return err
	}
	after, hasAfter := q["after"]
	if !hasOffset && !hasLimit && !hasAfter {
		return s.streamEntities(w, r, filter, order, fields)
	}
	if hasOffset && offset < 0 {
		return inputErr("Invalid offset, must be zero or greater")
	}
	if hasLimit && limit <= 0 {
		return inputErr("Invalid limit, must be greater than zero")
	}
	if hasAfter {
		if len(after) == 0 || after[0] == "" {
			return inputErr("Invalid after, must not be empty")
		}
		c, err := decodeAfter(after[0])
		if err != nil {
			return err
		}
		if c.Limit != nil {
			limit, hasLimit = *c.Limit, true
		}
		if c.Offset != nil {
			offset = *c.Offset
		}
	}
	if !hasLimit {
		limit = 0
	}
	var items [][]byte
	err = s.Store.List(r.Context(), store.ListRequest{Filter: filter, Order: order, Offset: offset, Limit: limit}, func(b []byte) error {
		items = append(items, b)
		return nil
	})
	if err != nil {
		return err
	}
	if limit > 0 && len(items) > limit {
		items = items[:limit]
		w.Header().Set("Link", "</entities?"+nextPageQuery(r.URL.RawQuery, encodeAfter(limit, offset+limit))+`>; rel="next"`)
	}
	return writeEntityList(w, items, fields, nil)
}

// streamEntities writes every matching entity as one JSON array, row by
// row from the database, so memory stays flat however large the catalog.
// Like Backstage, it reads in uid order, or by the first order field (then
// only entities that have it).
func (s *Server) streamEntities(w http.ResponseWriter, r *http.Request, filter store.Predicate, order []store.Order, fields []string) error {
	req := store.QueryRequest{Filter: filter, Limit: -1}
	if len(order) > 0 {
		req.SortField, req.Desc = order[0].Field, order[0].Desc
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	bw := bufio.NewWriterSize(w, 64<<10)
	started := false
	n := 0
	_, err := s.Store.QueryEach(r.Context(), req, func(row store.QueryRow) error {
		if !started {
			w.WriteHeader(http.StatusOK)
			bw.WriteByte('[')
			started = true
		} else {
			bw.WriteByte(',')
		}
		item, err := project(row.Final, fields)
		if err != nil {
			return err
		}
		bw.Write(item)
		n++
		if n%1000 == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		return nil
	})
	if err != nil && !started {
		return err
	}
	if !started {
		w.WriteHeader(http.StatusOK)
		bw.WriteByte('[')
	}
	bw.WriteByte(']')
	return bw.Flush()
}

func predicateOf(raw map[string]any) (store.Predicate, error) {
	if raw == nil {
		return nil, nil
	}
	return parsePredicate(raw)
}

// GET /entities/by-query
func (s *Server) getEntitiesByQuery(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	fields, err := parseFields(q, nil)
	if err != nil {
		return err
	}
	limit := 20
	if n, ok, err := intParam(q, "limit"); err != nil {
		return err
	} else if ok {
		if n < 0 {
			return inputErr("Invalid limit, must be zero or greater")
		}
		limit = n
	}
	offset, _, err := intParam(q, "offset")
	if err != nil {
		return err
	}
	if offset < 0 {
		return inputErr("Invalid offset, must be zero or greater")
	}
	var c queryCursor
	initial := true
	if cur := q.Get("cursor"); cur != "" {
		if c, err = decodeCursor(cur); err != nil {
			return err
		}
		initial = false
	} else {
		filterJSON, err := parseFilter(q)
		if err != nil {
			return err
		}
		if filterJSON != nil {
			c.Query, _ = json.Marshal(filterJSON)
		}
		for _, of := range q["orderField"] {
			// Backstage splits on commas and reads the first two parts.
			field, order, _ := strings.Cut(of, ",")
			order, _, _ = strings.Cut(order, ",")
			if order == "" {
				order = "asc"
			} else if order != "asc" && order != "desc" {
				return inputErr("Invalid order field order, must be asc or desc")
			}
			c.OrderFields = append(c.OrderFields, orderField{Field: field, Order: order})
		}
		if term := q.Get("fullTextFilterTerm"); term != "" || q.Has("fullTextFilterFields") {
			c.FullTextFilter = &fullTextFilter{Term: term}
			if f := q.Get("fullTextFilterFields"); f != "" {
				c.FullTextFilter.Fields = strings.Split(f, ",")
			}
		}
		switch t := q.Get("totalItems"); t {
		case "", "include":
		case "exclude":
			zero := 0
			c.TotalItems = &zero
		default:
			return inputErr(`Invalid totalItems parameter "%s", expected one of: include, exclude`, t)
		}
	}
	return s.runQuery(w, r, c, initial, limit, offset, fields)
}

// POST /entities/by-query
func (s *Server) postEntitiesByQuery(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Cursor  *string `json:"cursor"`
		Limit   *int    `json:"limit"`
		Offset  *int    `json:"offset"`
		OrderBy []struct {
			Field string `json:"field"`
			Order string `json:"order"`
		} `json:"orderBy"`
		FullTextFilter *struct {
			Term   *string  `json:"term"`
			Fields []string `json:"fields"`
		} `json:"fullTextFilter"`
		Fields     []string        `json:"fields"`
		TotalItems *string         `json:"totalItems"`
		Query      json.RawMessage `json:"query"`
	}
	if r.ContentLength != 0 {
		if err := readBody(r, &body); err != nil && !strings.Contains(err.Error(), "Empty request body") {
			return err
		}
	}
	fields, err := parseFields(url.Values{}, body.Fields)
	if err != nil {
		return err
	}
	limit := 20
	if body.Limit != nil {
		if *body.Limit < 0 {
			return inputErr("Invalid limit, must be zero or greater")
		}
		limit = *body.Limit
	}
	offset := 0
	if body.Offset != nil {
		if *body.Offset < 0 {
			return inputErr("Invalid offset, must be zero or greater")
		}
		offset = *body.Offset
	}
	var c queryCursor
	initial := true
	if body.Cursor != nil {
		if *body.Cursor == "" {
			return inputErr("Cursor cannot be empty")
		}
		if c, err = decodeCursor(*body.Cursor); err != nil {
			return err
		}
		initial = false
	} else {
		if len(body.Query) > 0 && string(body.Query) != "null" {
			var raw any
			if err := json.Unmarshal(body.Query, &raw); err != nil {
				return inputErr("Invalid query: %v", err)
			}
			if _, ok := raw.(map[string]any); !ok {
				return inputErr("Query must be an object")
			}
			c.Query = body.Query
		}
		for _, o := range body.OrderBy {
			if o.Order != "asc" && o.Order != "desc" {
				return inputErr("Invalid order field order, must be asc or desc")
			}
			c.OrderFields = append(c.OrderFields, orderField{Field: o.Field, Order: o.Order})
		}
		if body.FullTextFilter != nil {
			c.FullTextFilter = &fullTextFilter{Fields: body.FullTextFilter.Fields}
			if body.FullTextFilter.Term != nil {
				c.FullTextFilter.Term = *body.FullTextFilter.Term
			}
		}
		if body.TotalItems != nil {
			switch *body.TotalItems {
			case "include":
			case "exclude":
				zero := 0
				c.TotalItems = &zero
			default:
				return inputErr(`Invalid totalItems value "%s", expected one of: include, exclude`, *body.TotalItems)
			}
		}
	}
	return s.runQuery(w, r, c, initial, limit, offset, fields)
}

// runQuery answers one by-query page with Backstage's cursor semantics: the
// cursor carries the query, the page edges and the first page's total.
func (s *Server) runQuery(w http.ResponseWriter, r *http.Request, c queryCursor, initial bool, limit, offset int, fields []string) error {
	if c.OrderFields == nil {
		c.OrderFields = []orderField{}
	}
	var filter store.Predicate
	if len(c.Query) > 0 {
		var raw any
		if err := json.Unmarshal(c.Query, &raw); err != nil {
			return inputErr("Invalid query: %v", err)
		}
		p, err := parsePredicate(raw)
		if err != nil {
			return err
		}
		filter = p
	}
	var err error
	if filter, err = s.readable(r, filter); err != nil {
		return err
	}
	req := store.QueryRequest{Filter: filter, Limit: limit, Backwards: c.IsPrevious}
	if len(c.OrderFields) > 0 {
		req.SortField, req.Desc = c.OrderFields[0].Field, c.OrderFields[0].Order == "desc"
	}
	if c.FullTextFilter != nil {
		req.TextTerm = strings.TrimSpace(c.FullTextFilter.Term)
		req.TextFields = c.FullTextFilter.Fields
	}
	if !initial {
		req.After = c.OrderFieldValues
	} else {
		req.Offset = offset
	}
	req.CountTotal = c.TotalItems == nil
	var rows []store.QueryRow
	total, err := s.Store.QueryEach(r.Context(), req, func(row store.QueryRow) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return err
	}
	if c.TotalItems != nil {
		total = *c.TotalItems
	}
	if c.IsPrevious {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	more := limit > 0 && (c.IsPrevious || len(rows) > limit)
	if len(rows) > limit {
		rows = rows[:limit]
	}
	sortValues := func(row store.QueryRow) []*string {
		uid := row.UID
		if req.SortField != "" {
			return []*string{row.Value, &uid}
		}
		return []*string{&uid}
	}
	pageInfo := map[string]string{}
	first := c.FirstSortFieldValues
	if initial && len(rows) > 0 {
		first = sortValues(rows[0])
	}
	t := total
	if more && len(rows) > 0 {
		next := c
		next.OrderFieldValues = sortValues(rows[len(rows)-1])
		next.FirstSortFieldValues = first
		next.IsPrevious = false
		next.TotalItems = &t
		pageInfo["nextCursor"] = encodeCursor(next)
	}
	if !initial && len(rows) > 0 && !sameValues(sortValues(rows[0]), c.FirstSortFieldValues) {
		prev := c
		prev.OrderFieldValues = sortValues(rows[0])
		prev.FirstSortFieldValues = c.FirstSortFieldValues
		prev.IsPrevious = true
		prev.TotalItems = &t
		pageInfo["prevCursor"] = encodeCursor(prev)
	}
	items := make([][]byte, len(rows))
	for i, row := range rows {
		items[i] = row.Final
	}
	return writeEntityList(w, items, fields, func(list json.RawMessage) any {
		return map[string]any{"items": list, "totalItems": total, "pageInfo": pageInfo}
	})
}

func sameValues(a, b []*string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || (a[i] != nil && *a[i] != *b[i]) {
			return false
		}
	}
	return true
}

func writeSingle(w http.ResponseWriter, final []byte) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(final)
	return err
}

// GET /entities/by-uid/{uid}
func (s *Server) getByUID(w http.ResponseWriter, r *http.Request) error {
	uid := chi.URLParam(r, "uid")
	final, err := s.Store.FinalByUID(r.Context(), uid)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.canRead(r, final)) {
		return notFound("No entity with uid %s", uid)
	}
	if err != nil {
		return err
	}
	return writeSingle(w, final)
}

// DELETE /entities/by-uid/{uid}
func (s *Server) deleteByUID(w http.ResponseWriter, r *http.Request) error {
	uid := chi.URLParam(r, "uid")
	// Backstage refreshes the parent at once, so an entity its location
	// still emits comes back: remember the root before deleting.
	root := ""
	final, ferr := s.Store.FinalByUID(r.Context(), uid)
	if ferr == nil {
		if err := s.authorize(r, "catalog.entity.delete", final); err != nil {
			return err
		}
	} else if err := s.authorize(r, "catalog.entity.delete", nil); err != nil {
		return err
	}
	if ferr == nil {
		var e struct {
			Kind     string `json:"kind"`
			Metadata struct{ Name, Namespace string }
		}
		if json.Unmarshal(final, &e) == nil {
			root, _ = s.Store.EntityRoot(r.Context(), strings.ToLower(e.Kind+":"+e.Metadata.Namespace+"/"+e.Metadata.Name))
		}
	}
	if err := s.Store.DeleteByUID(r.Context(), uid); err != nil {
		return err
	}
	if root != "" && s.Ingester != nil {
		s.Ingester.Refresh(root)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func refFromPath(r *http.Request) (kind, ns, name, ref string) {
	kind, ns, name = chi.URLParam(r, "kind"), chi.URLParam(r, "namespace"), chi.URLParam(r, "name")
	kind, _ = url.PathUnescape(kind)
	ns, _ = url.PathUnescape(ns)
	name, _ = url.PathUnescape(name)
	return kind, ns, name, strings.ToLower(kind + ":" + ns + "/" + name)
}

// GET /entities/by-name/{kind}/{namespace}/{name}
func (s *Server) getByName(w http.ResponseWriter, r *http.Request) error {
	kind, ns, name, ref := refFromPath(r)
	final, err := s.Store.FinalByRef(r.Context(), ref)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.canRead(r, final)) {
		return notFound("No entity named '%s' found, with kind '%s' in namespace '%s'", name, kind, ns)
	}
	if err != nil {
		return err
	}
	return writeSingle(w, final)
}

// GET /entities/by-name/{kind}/{namespace}/{name}/ancestry
func (s *Server) getAncestry(w http.ResponseWriter, r *http.Request) error {
	_, _, _, ref := refFromPath(r)
	items, err := s.Store.Ancestry(r.Context(), ref)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(items) > 0 && !s.canRead(r, items[0].Final)) {
		return notFound("No such entity %s", ref)
	}
	if err != nil {
		return err
	}
	type item struct {
		Entity           json.RawMessage `json:"entity"`
		ParentEntityRefs []string        `json:"parentEntityRefs"`
	}
	out := struct {
		RootEntityRef string `json:"rootEntityRef"`
		Items         []item `json:"items"`
	}{RootEntityRef: ref}
	for _, it := range items {
		if !s.canRead(r, it.Final) {
			continue // a location the user may not read stays out of the chain
		}
		out.Items = append(out.Items, item{Entity: it.Final, ParentEntityRefs: it.ParentRefs})
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// POST /entities/by-refs
func (s *Server) postByRefs(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		EntityRefs *[]string `json:"entityRefs"`
		Fields     []string  `json:"fields"`
		Query      any       `json:"query"`
	}
	if err := readBody(r, &body); err != nil {
		if e, ok := err.(*Error); ok && strings.HasPrefix(e.Message, "Malformed request") {
			return inputErr("Malformed request body (did you remember to specify an application/json content type?), %s", strings.TrimPrefix(e.Message, "Malformed request: "))
		}
		return err
	}
	if body.EntityRefs == nil {
		return inputErr(`Malformed request body (did you remember to specify an application/json content type?), Validation error: Required at "entityRefs"`)
	}
	q := r.URL.Query()
	filterJSON, err := parseFilter(q)
	if err != nil {
		return err
	}
	var parts store.All
	if p, err := predicateOf(filterJSON); err != nil {
		return err
	} else if p != nil {
		parts = append(parts, p)
	}
	if body.Query != nil {
		p, err := parsePredicate(body.Query)
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	var filter store.Predicate
	if len(parts) > 0 {
		filter = parts
	}
	fields, err := parseFields(q, body.Fields)
	if err != nil {
		return err
	}
	if filter, err = s.readable(r, filter); err != nil {
		return err
	}
	items, err := s.Store.ByRefs(r.Context(), *body.EntityRefs, filter)
	if err != nil {
		return err
	}
	return writeEntityList(w, items, fields, func(list json.RawMessage) any {
		return map[string]any{"items": list}
	})
}

// GET /entity-facets
func (s *Server) getFacets(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var facets []string
	for _, f := range q["facet"] {
		if f != "" {
			facets = append(facets, f)
		}
	}
	if len(facets) == 0 {
		return inputErr("Missing facet parameter")
	}
	filterJSON, err := parseFilter(q)
	if err != nil {
		return err
	}
	filter, err := predicateOf(filterJSON)
	if err != nil {
		return err
	}
	return s.writeFacets(w, r, facets, filter)
}

// POST /entity-facets
func (s *Server) postFacets(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Facets []string `json:"facets"`
		Query  any      `json:"query"`
	}
	// Backstage reads this body without requiring one: a missing or empty
	// body is a missing facets parameter.
	if r.ContentLength != 0 {
		if err := readBody(r, &body); err != nil && !strings.Contains(err.Error(), "Empty request body") {
			return err
		}
	}
	var facets []string
	for _, f := range body.Facets {
		if f != "" {
			facets = append(facets, f)
		}
	}
	if len(facets) == 0 {
		return inputErr("Missing or empty facets parameter")
	}
	var filter store.Predicate
	if body.Query != nil {
		p, err := parsePredicate(body.Query)
		if err != nil {
			return err
		}
		filter = p
	}
	return s.writeFacets(w, r, facets, filter)
}

func (s *Server) writeFacets(w http.ResponseWriter, r *http.Request, facets []string, filter store.Predicate) error {
	filter, err := s.readable(r, filter)
	if err != nil {
		return err
	}
	res, err := s.Store.Facets(r.Context(), facets, filter)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]any{"facets": res})
	return nil
}

// POST /refresh
func (s *Server) postRefresh(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		EntityRef string `json:"entityRef"`
	}
	if err := readBody(r, &body); err != nil {
		return err
	}
	ref, err := catalog.ParseRef(body.EntityRef, catalog.RefDefaults{})
	if err != nil {
		return inputErr("Invalid entity ref %q: %v", body.EntityRef, err)
	}
	root, err := s.Store.EntityRoot(r.Context(), ref.String())
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Entity %s not found", ref.String())
	}
	if err != nil {
		return err
	}
	final, _ := s.Store.FinalByRef(r.Context(), ref.String())
	if err := s.authorize(r, "catalog.entity.refresh", final); err != nil {
		return err
	}
	if s.Ingester != nil {
		s.Ingester.Refresh(root)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// serializedError is Backstage's serializeError shape.
type serializedError struct {
	Name    string           `json:"name"`
	Message string           `json:"message"`
	Cause   *serializedError `json:"cause,omitempty"`
}

func serialize(err error) serializedError {
	var be *catalog.Error
	if errors.As(err, &be) {
		out := serializedError{Name: be.Name, Message: be.Message}
		if be.Cause != nil {
			c := serialize(be.Cause)
			out.Cause = &c
			// Backstage's messages carry their cause; so do ours.
			out.Message = be.Message + "; caused by " + be.Cause.Error()
		}
		return out
	}
	return serializedError{Name: "Error", Message: err.Error()}
}

// POST /validate-entity
func (s *Server) postValidateEntity(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Entity   any     `json:"entity"`
		Location *string `json:"location"`
	}
	fail := func(err error) error {
		WriteJSON(w, http.StatusBadRequest, map[string]any{"errors": []serializedError{serialize(err)}})
		return nil
	}
	if err := readBody(r, &body); err != nil {
		return fail(err)
	}
	if body.Location == nil {
		return fail(&catalog.Error{Name: "InputError", Message: "Malformed request: location is required"})
	}
	loc, err := catalog.ParseLocationRef(*body.Location)
	if err != nil {
		return fail(&catalog.Error{Name: "TypeError", Message: err.Error()})
	}
	if loc.Type != "url" {
		return fail(&catalog.Error{Name: "TypeError", Message: "Invalid location ref " + *body.Location + ", only 'url:<target>' is supported, e.g. url:https://host/path"})
	}
	raw, err := catalog.Envelope(body.Entity, catalog.Source{Location: loc, Origin: loc})
	if err != nil {
		var re *catalog.RejectError
		if errors.As(err, &re) {
			return fail(re.Err)
		}
		return fail(err)
	}
	if s.Ingester == nil {
		return errors.New("validation is not available")
	}
	if err := s.Ingester.Validate(r.Context(), raw, loc); err != nil {
		var re *catalog.RejectError
		if errors.As(err, &re) {
			return fail(re.Err)
		}
		return fail(err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

type locationJSON struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Target    string `json:"target"`
	EntityRef string `json:"entityRef"`
}

// locJSON is a location as Backstage 4 answers it, with the ref of the
// Location entity generated for it.
func locJSON(l store.Location) locationJSON {
	ref := catalog.Ref{Kind: "Location", Namespace: catalog.DefaultNamespace,
		Name: catalog.GeneratedLocationName(catalog.LocationSpec{Type: l.Type, Target: l.Target})}
	return locationJSON{ID: l.ID, Type: l.Type, Target: l.Target, EntityRef: ref.String()}
}

// locationInput is Backstage's strict {type, target, presence?} body.
func readLocationInput(r *http.Request) (catalog.LocationSpec, error) {
	var body map[string]any
	if err := readBody(r, &body); err != nil {
		return catalog.LocationSpec{}, err
	}
	var spec catalog.LocationSpec
	for k, v := range body {
		s, ok := v.(string)
		switch {
		case k == "type" && ok:
			spec.Type = s
		case k == "target" && ok:
			spec.Target = s
		case k == "presence" && ok && (s == "required" || s == "optional"):
			spec.Presence = s
		default:
			return spec, inputErr("Malformed request: unexpected or invalid field %q", k)
		}
	}
	if spec.Type == "" || spec.Target == "" {
		return spec, inputErr("Malformed request: type and target are required strings")
	}
	return spec, nil
}

// checkType refuses location types that may not be registered through
// the API, with Backstage's message.
func (s *Server) checkType(t string) error {
	allowed := s.AllowedLocationTypes
	if allowed == nil {
		allowed = []string{"url"}
	}
	for _, a := range allowed {
		if a == t {
			return nil
		}
	}
	b, _ := json.Marshal(allowed)
	return inputErr("Registered locations must be of an allowed type %s", b)
}

// POST /locations
func (s *Server) postLocation(w http.ResponseWriter, r *http.Request) error {
	spec, err := readLocationInput(r)
	if err != nil {
		return err
	}
	dryRun := false
	switch strings.ToLower(r.URL.Query().Get("dryRun")) {
	case "true", "yes", "y", "1":
		dryRun = true
	}
	if !dryRun && s.Readonly {
		return notAllowed("This operation not allowed in readonly mode")
	}
	if err := s.checkType(spec.Type); err != nil {
		return err
	}
	if err := s.authorize(r, "catalog.location.create", nil); err != nil {
		return err
	}
	if s.CheckLocation != nil {
		if err := s.CheckLocation(r.Context(), spec); err != nil {
			return notAllowed("%s", err.Error())
		}
	}
	if dryRun {
		_, err := s.Store.LocationByTarget(r.Context(), spec.Type, spec.Target)
		exists := err == nil
		entities, err := s.Ingester.DryRun(r.Context(), spec)
		if err != nil {
			return inputErr("%v", err)
		}
		if entities == nil {
			entities = []*catalog.Entity{}
		}
		root := catalog.Ref{Kind: "Location", Namespace: "default", Name: rootName(spec)}
		WriteJSON(w, http.StatusCreated, map[string]any{
			"exists": exists,
			"location": map[string]any{"id": spec.Type + ":" + spec.Target, "type": spec.Type, "target": spec.Target,
				"entityRef": root.String()},
			"entities": entities,
		})
		return nil
	}
	loc, created, err := s.Store.AddLocation(r.Context(), spec.Type, spec.Target, "api")
	if err != nil {
		return err
	}
	if !created && r.URL.Query().Get("onConflict") != "refresh" {
		return conflictErr("Location %s:%s already exists", spec.Type, spec.Target)
	}
	if s.Ingester != nil {
		s.Ingester.Refresh(loc.ID)
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"location": locJSON(loc), "entities": []any{}})
	return nil
}

func rootName(spec catalog.LocationSpec) string { return catalog.GeneratedLocationName(spec) }

// GET /locations: registered locations (not those of the config), each
// wrapped in {data}.
func (s *Server) getLocations(w http.ResponseWriter, r *http.Request) error {
	locs, err := s.apiLocations(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(locs))
	for _, l := range locs {
		out = append(out, map[string]any{"data": locJSON(l)})
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiLocations(ctx context.Context) ([]store.Location, error) {
	locs, err := s.Store.Locations(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Location
	for _, l := range locs {
		if l.Source == "api" {
			out = append(out, l)
		}
	}
	return out, nil
}

// GET /locations/{id}
func (s *Server) getLocation(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	l, err := s.Store.Location(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.Source != "api") {
		return notFound("Found no location with ID %s", id)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, locJSON(l))
	return nil
}

// DELETE /locations/{id}
func (s *Server) deleteLocation(w http.ResponseWriter, r *http.Request) error {
	if s.Readonly {
		return notAllowed("This operation not allowed in readonly mode")
	}
	id := chi.URLParam(r, "id")
	if err := s.authorize(r, "catalog.location.delete", nil); err != nil {
		return err
	}
	l, err := s.Store.Location(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.Source != "api") {
		return notFound("Found no location with ID %s", id)
	}
	if err != nil {
		return err
	}
	if err := s.Ingester.Unregister(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PUT /locations/{id}: point a registered location somewhere else. What
// the old target emitted goes; the new target is crawled. The id stays.
func (s *Server) putLocation(w http.ResponseWriter, r *http.Request) error {
	spec, err := readLocationInput(r)
	if err != nil {
		return err
	}
	if s.Readonly {
		return notAllowed("This operation not allowed in readonly mode")
	}
	if err := s.checkType(spec.Type); err != nil {
		return err
	}
	if err := s.authorize(r, "catalog.location.create", nil); err != nil {
		return err
	}
	id := chi.URLParam(r, "id")
	old, err := s.Store.Location(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && old.Source != "api") {
		return notFound("Found no location with ID %s", id)
	}
	if err != nil {
		return err
	}
	if other, err := s.Store.LocationByTarget(r.Context(), spec.Type, spec.Target); err == nil && other.ID != id {
		return conflictErr("Location %s:%s already exists", spec.Type, spec.Target)
	}
	if old.Type != spec.Type || old.Target != spec.Target {
		if err := s.Ingester.Unregister(r.Context(), id); err != nil {
			return err
		}
		updated := old
		updated.Type, updated.Target = spec.Type, spec.Target
		if err := s.Store.RestoreLocation(r.Context(), updated); err != nil {
			return err
		}
		old = updated
	}
	s.Ingester.Refresh(id)
	WriteJSON(w, http.StatusOK, locJSON(old))
	return nil
}

// GET /locations/by-entity/{kind}/{namespace}/{name}: the registered
// location the entity originates from.
func (s *Server) getLocationByEntity(w http.ResponseWriter, r *http.Request) error {
	_, _, _, ref := refFromPath(r)
	root, err := s.Store.EntityRoot(r.Context(), ref)
	if err == nil && s.Reads != nil {
		if final, ferr := s.Store.FinalByRef(r.Context(), ref); ferr != nil || !s.canRead(r, final) {
			err = store.ErrNotFound
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("found no entity for ref %s", ref)
	}
	if err != nil {
		return err
	}
	l, err := s.Store.Location(r.Context(), root)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.Source != "api") {
		// Like Backstage: config locations are not registered locations,
		// and GET/DELETE /locations/{id} do not know them either.
		var where catalog.LocationRef
		if final, ferr := s.Store.FinalByRef(r.Context(), ref); ferr == nil {
			var e struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			json.Unmarshal(final, &e)
			where, _ = catalog.ParseLocationRef(e.Metadata.Annotations[catalog.AnnotationOriginLocation])
		}
		return notFound("Found no location with type %s and target %s", where.Type, where.Target)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, locJSON(l))
	return nil
}

// POST /locations/by-query
func (s *Server) postLocationsByQuery(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Cursor *string  `json:"cursor"`
		Limit  *float64 `json:"limit"`
		Query  any      `json:"query"`
	}
	if r.ContentLength != 0 {
		if err := readBody(r, &body); err != nil && !strings.Contains(err.Error(), "Empty request body") {
			return err
		}
	}
	type locCursor struct {
		Limit   int            `json:"limit"`
		AfterID string         `json:"afterId,omitempty"`
		Query   map[string]any `json:"query,omitempty"`
	}
	c := locCursor{Limit: 1000}
	if body.Query != nil {
		q, ok := body.Query.(map[string]any)
		if !ok {
			return inputErr("Query must be an object")
		}
		c.Query = q
	}
	if body.Cursor != nil {
		if *body.Cursor == "" {
			return inputErr("Cursor cannot be empty")
		}
		// The cursor carries the query; the body's is ignored.
		c = locCursor{}
		b, err := decodeBase64(*body.Cursor)
		if err != nil || json.Unmarshal(b, &c) != nil {
			return inputErr("Malformed cursor, unknown encoding")
		}
		if c.Limit < 1 {
			return inputErr("Malformed cursor: limit must be a positive integer")
		}
	} else if body.Limit != nil {
		if *body.Limit < 1 || *body.Limit != float64(int(*body.Limit)) {
			return inputErr("Limit must be a positive integer >= 1")
		}
		c.Limit = int(*body.Limit)
	}
	locs, err := s.apiLocations(r.Context())
	if err != nil {
		return err
	}
	sort.Slice(locs, func(i, j int) bool { return locs[i].ID < locs[j].ID })
	var matched []locationJSON
	for _, l := range locs {
		ok, err := matchLocation(c.Query, locJSON(l))
		if err != nil {
			return err
		}
		if ok {
			matched = append(matched, locJSON(l))
		}
	}
	total := len(matched)
	var page []locationJSON
	for _, l := range matched {
		if c.AfterID != "" && l.ID <= c.AfterID {
			continue
		}
		page = append(page, l)
	}
	pageInfo := map[string]string{}
	if len(page) > c.Limit {
		page = page[:c.Limit]
		next := c
		next.AfterID = page[len(page)-1].ID
		b, _ := json.Marshal(next)
		pageInfo["nextCursor"] = encodeBase64(b)
	}
	if page == nil {
		page = []locationJSON{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": page, "totalItems": total, "pageInfo": pageInfo})
	return nil
}
