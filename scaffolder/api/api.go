// Package api serves Backstage's scaffolder REST API v2 (mounted at
// /api/scaffolder): template parameter schemas, the action list, tasks and
// their events (JSON and server-sent events), cancel and retry, dry runs and
// the templating extensions, with Backstage's request and response shapes and
// its error envelope.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	catalogapi "github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/form"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
	"github.com/greenroom-dev/greenroom/web/audit"
)

// ErrNotFound may be returned by Templates.Template for a missing template
// (catalog/store.ErrNotFound and action.ErrNotFound are recognised too).
var ErrNotFound = errors.New("template not found")

// Templates finds Template entities in the catalog.
type Templates interface {
	// Template returns the template with the entity ref
	// ("template:namespace/name"), or an ErrNotFound-like error.
	Template(ctx context.Context, ref string) (*template.Template, error)
}

// Server serves /api/scaffolder.
type Server struct {
	Templates Templates
	Actions   *action.Registry
	Runner    *task.Runner
	Store     task.Store
	// User, when set, returns the user a task is created for (its ref
	// becomes the task's createdBy). Nil: tasks have no user.
	User func(r *http.Request) task.User
	// MaxBodyBytes bounds request bodies (default 10 MiB; 413 beyond).
	MaxBodyBytes int64
	// PollInterval is how often event routes look for new events
	// (default 250ms).
	PollInterval time.Duration
	// LongPoll is how long GET /events waits for an event (default 30s,
	// as Backstage); negative: answer at once.
	LongPoll time.Duration
	// Audit records task creation, cancellation and retries; nil records
	// nothing.
	Audit *audit.Auditor
	// Authorize, when set, decides a basic permission (scaffolder.task.create)
	// for the request's user; its error is the 403's message.
	Authorize func(r *http.Request, permission string, resource []byte) error
}

// Routes returns the router to mount at /api/scaffolder.
func (s *Server) Routes() http.Handler {
	r := chi.NewRouter()
	r.Get("/v2/templates/{namespace}/{kind}/{name}/parameter-schema", s.parameterSchema)
	r.Get("/v2/actions", s.listActions)
	r.Post("/v2/tasks", s.audited("create", s.createTask))
	r.Get("/v2/tasks", s.listTasks)
	r.Get("/v2/tasks/{id}", s.getTask)
	r.Get("/v2/tasks/{id}/eventstream", s.eventStream)
	r.Get("/v2/tasks/{id}/events", s.events)
	r.Post("/v2/tasks/{id}/cancel", s.audited("cancel", s.cancel))
	r.Post("/v2/tasks/{id}/retry", s.audited("retry", s.retry))
	r.Post("/v2/dry-run", s.dryRun)
	r.Get("/v2/templating-extensions", s.templatingExtensions)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, notFound("Not found: %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &catalogapi.Error{Name: "MethodNotAllowedError", Message: r.Method + " is not allowed on " + r.URL.Path})
	})
	return r
}

func notFound(format string, args ...any) error {
	return &catalogapi.Error{Name: "NotFoundError", Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &catalogapi.Error{Name: "ConflictError", Message: fmt.Sprintf(format, args...)}
}

// writeError maps not-found errors of the stores to 404 and writes the
// envelope.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, task.ErrNotFound) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, store.ErrNotFound) || errors.Is(err, action.ErrNotFound) {
		var e *catalogapi.Error
		if !errors.As(err, &e) {
			err = notFound("%s", err.Error())
		}
	}
	catalogapi.WriteError(w, r, err)
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return 10 << 20
}

// decodeBody reads a JSON object body into v. An empty body leaves v as is
// when allowEmpty.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	body := http.MaxBytesReader(w, r.Body, s.maxBody())
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if allowEmpty && errors.Is(err, io.EOF) {
			return nil
		}
		return catalogapi.InputError("malformed request body: %v", err)
	}
	return nil
}

// ---- templates ----

func (s *Server) template(ctx context.Context, ref string) (*template.Template, error) {
	if s.Templates == nil {
		return nil, notFound("no template %s", ref)
	}
	t, err := s.Templates.Template(ctx, ref)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, store.ErrNotFound) || errors.Is(err, action.ErrNotFound) {
			return nil, notFound("Template %s not found", ref)
		}
		return nil, err
	}
	if t == nil {
		return nil, notFound("Template %s not found", ref)
	}
	return t, nil
}

func (s *Server) parameterSchema(w http.ResponseWriter, r *http.Request) {
	ns, kind, name := chi.URLParam(r, "namespace"), chi.URLParam(r, "kind"), chi.URLParam(r, "name")
	if !strings.EqualFold(kind, "template") {
		writeError(w, r, catalogapi.InputError("kind must be Template, not %q", kind))
		return
	}
	ref := "template:" + strings.ToLower(ns) + "/" + strings.ToLower(name)
	t, err := s.template(r.Context(), ref)
	if err != nil {
		writeError(w, r, err)
		return
	}
	catalogapi.WriteJSON(w, http.StatusOK, parameterSchema(t))
}

func parameterSchema(t *template.Template) map[string]any {
	title := t.Title
	if title == "" {
		title = t.Name
	}
	steps := make([]map[string]any, 0, len(t.Parameters))
	for i, p := range t.Parameters {
		st := map[string]any{"title": t.PageTitle(i), "schema": p}
		if d, ok := p["description"].(string); ok {
			st["description"] = d
		}
		steps = append(steps, st)
	}
	out := map[string]any{"title": title, "steps": steps}
	if t.Description != "" {
		out["description"] = t.Description
	}
	return out
}

// ---- actions ----

func (s *Server) listActions(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	if s.Actions != nil {
		for _, a := range s.Actions.List() {
			in, outSchema := a.Schema()
			item := map[string]any{"id": a.ID()}
			if d := a.Description(); d != "" {
				item["description"] = d
			}
			schema := map[string]any{}
			if in != nil {
				schema["input"] = in
			}
			if outSchema != nil {
				schema["output"] = outSchema
			}
			item["schema"] = schema
			out = append(out, item)
		}
	}
	catalogapi.WriteJSON(w, http.StatusOK, out)
}

// ---- tasks ----

type createBody struct {
	TemplateRef string            `json:"templateRef"`
	Values      map[string]any    `json:"values"`
	Secrets     map[string]string `json:"secrets"`
}

// fieldError is one validation problem, in the shape of Backstage's
// jsonschema ValidationError (the parts we can fill in).
type fieldError struct {
	Path     []string `json:"path"`
	Property string   `json:"property"`
	Message  string   `json:"message"`
	Name     string   `json:"name"`
	Stack    string   `json:"stack"`
}

// validate checks values against every parameter page on its own.
func validate(t *template.Template, values map[string]any) []fieldError {
	var errs []fieldError
	for _, fe := range form.ValidatePages(t.Parameters, values) {
		prop := "instance"
		path := []string{}
		if fe.Field != "" {
			prop += "." + fe.Field
			path = strings.Split(fe.Field, ".")
		}
		errs = append(errs, fieldError{Path: path, Property: prop, Message: fe.Message, Name: "validation", Stack: prop + " " + fe.Message})
	}
	return errs
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) {
	var b createBody
	if err := s.decodeBody(w, r, &b, false); err != nil {
		writeError(w, r, err)
		return
	}
	if b.TemplateRef == "" {
		writeError(w, r, catalogapi.InputError("templateRef is required"))
		return
	}
	if s.Authorize != nil {
		if err := s.Authorize(r, "scaffolder.task.create", nil); err != nil {
			writeError(w, r, &catalogapi.Error{Name: "NotAllowedError", Message: err.Error()})
			return
		}
	}
	ref, err := normalizeRef(b.TemplateRef)
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, err := s.template(r.Context(), ref)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if b.Values == nil {
		b.Values = map[string]any{}
	}
	if errs := validate(t, b.Values); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Stack
		}
		status := http.StatusBadRequest
		catalogapi.WriteJSON(w, status, map[string]any{
			"errors":   errs,
			"error":    map[string]any{"name": "InputError", "message": "Invalid values: " + strings.Join(msgs, "; ")},
			"request":  map[string]any{"method": r.Method, "url": r.URL.RequestURI()},
			"response": map[string]any{"statusCode": status},
		})
		return
	}
	spec := task.Spec{TemplateRef: ref, Template: t, Parameters: b.Values, Secrets: b.Secrets}
	if s.User != nil {
		spec.User = s.User(r)
	}
	id, err := s.Runner.Start(r.Context(), spec)
	if err != nil {
		writeError(w, r, err)
		return
	}
	catalogapi.WriteJSON(w, http.StatusCreated, map[string]any{"id": id})
}

// normalizeRef turns "name", "namespace/name" or "kind:namespace/name"
// into "template:namespace/name" (lower case), by the catalog's ref rules.
func normalizeRef(ref string) (string, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: "Template", Namespace: catalog.DefaultNamespace})
	if err != nil || !strings.EqualFold(r.Kind, "template") {
		return "", catalogapi.InputError("invalid templateRef %q: expected template:<namespace>/<name>", ref)
	}
	return strings.ToLower(r.String()), nil
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := task.ListOptions{CreatedBy: splitMulti(q["createdBy"]), Status: splitMulti(q["status"])}
	var err error
	if o.Limit, err = intParam(q.Get("limit")); err != nil {
		writeError(w, r, catalogapi.InputError("invalid limit: %v", err))
		return
	}
	if o.Offset, err = intParam(q.Get("offset")); err != nil {
		writeError(w, r, catalogapi.InputError("invalid offset: %v", err))
		return
	}
	tasks, total, err := s.Store.List(r.Context(), o)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if tasks == nil {
		tasks = []*task.Task{}
	}
	catalogapi.WriteJSON(w, http.StatusOK, map[string]any{"tasks": tasks, "totalTasks": total})
}

func splitMulti(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func intParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("must not be negative")
	}
	return n, nil
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.Store.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	t.Spec.Secrets = nil // never serialised anyway
	catalogapi.WriteJSON(w, http.StatusOK, t)
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, err := s.Store.Get(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	st, err := s.Runner.Cancel(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	catalogapi.WriteJSON(w, http.StatusOK, map[string]any{"status": st})
}

func (s *Server) retry(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var b struct {
		Secrets map[string]string `json:"secrets"`
	}
	if err := s.decodeBody(w, r, &b, true); err != nil {
		writeError(w, r, err)
		return
	}
	t, err := s.Store.Get(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if t.Status != task.StatusFailed && t.Status != task.StatusCancelled {
		writeError(w, r, conflict("Task %s is %s; only failed or cancelled tasks can be retried", id, t.Status))
		return
	}
	nid, err := s.Runner.Retry(r.Context(), id, b.Secrets)
	if err != nil {
		if errors.Is(err, task.ErrNotFound) {
			writeError(w, r, err)
		} else {
			writeError(w, r, conflict("%s", err.Error()))
		}
		return
	}
	catalogapi.WriteJSON(w, http.StatusCreated, map[string]any{"id": nid})
}

// ---- events ----

func (s *Server) poll() time.Duration {
	if s.PollInterval > 0 {
		return s.PollInterval
	}
	return 250 * time.Millisecond
}

func afterParam(r *http.Request) (int64, error) {
	a := r.URL.Query().Get("after")
	if a == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil || n < 0 {
		return 0, catalogapi.InputError("invalid after %q: expected an event id", a)
	}
	return n, nil
}

func terminal(status string) bool {
	return status == task.StatusCompleted || status == task.StatusFailed || status == task.StatusCancelled
}

// events answers with the events after ?after=, waiting up to LongPoll
// for one while the task is still running.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	after, err := afterParam(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.Store.Get(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	wait := s.LongPoll
	if wait == 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		evs, err := s.Store.Events(r.Context(), id, after)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if len(evs) > 0 || time.Now().After(deadline) {
			if evs == nil {
				evs = []task.Event{}
			}
			catalogapi.WriteJSON(w, http.StatusOK, evs)
			return
		}
		t, err := s.Store.Get(r.Context(), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if terminal(t.Status) {
			catalogapi.WriteJSON(w, http.StatusOK, []task.Event{})
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(s.poll()):
		}
	}
}

// eventStream sends the task's events as server-sent events, following new
// ones until the completion event.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	after, err := afterParam(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.Store.Get(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	idle := 0
	for {
		evs, err := s.Store.Events(r.Context(), id, after)
		if err != nil {
			return
		}
		for _, e := range evs {
			b, err := json.Marshal(e)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b); err != nil {
				return
			}
			after = e.ID
			if e.Type == task.EventCompletion {
				if flusher != nil {
					flusher.Flush()
				}
				return
			}
		}
		if flusher != nil && len(evs) > 0 {
			flusher.Flush()
		}
		if len(evs) == 0 {
			// A finished task whose completion event came before
			// `after` (or never came): stop once nothing more arrives.
			if t, err := s.Store.Get(r.Context(), id); err == nil && terminal(t.Status) {
				idle++
				if idle > 1 {
					return
				}
			}
		} else {
			idle = 0
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(s.poll()):
		}
	}
}

// ---- templating extensions ----

// scaffolderFilters are the filters the scaffolder adds to Nunjucks (the
// engine's other filters are the standard Nunjucks ones).
var scaffolderFilters = map[string]map[string]any{
	"parseRepoUrl": {
		"description": "Parses a repository URL as produced by RepoUrlPicker (host?owner=o&repo=r) into its parts: host, owner, repo, organization, workspace, project.",
		"schema":      map[string]any{"input": map[string]any{"type": "string"}, "output": map[string]any{"type": "object"}},
		"examples":    []map[string]any{{"example": "${{ parameters.repoUrl | parseRepoUrl }}"}},
	},
	"parseEntityRef": {
		"description": "Parses an entity reference into {kind, namespace, name}; optional defaultKind and defaultNamespace fill in missing parts.",
		"schema":      map[string]any{"input": map[string]any{"type": "string"}, "output": map[string]any{"type": "object"}},
		"examples":    []map[string]any{{"example": "${{ parameters.owner | parseEntityRef }}"}},
	},
	"pick": {
		"description": "Picks one property (a dotted path) of an object.",
		"schema":      map[string]any{"input": map[string]any{"type": "object"}, "arguments": []map[string]any{{"type": "string"}}, "output": map[string]any{}},
		"examples":    []map[string]any{{"example": "${{ parameters.owner | parseEntityRef | pick('name') }}"}},
	},
	"projectSlug": {
		"description": "Turns a repository URL into the owner/repo slug of the project.",
		"schema":      map[string]any{"input": map[string]any{"type": "string"}, "output": map[string]any{"type": "string"}},
		"examples":    []map[string]any{{"example": "${{ parameters.repoUrl | projectSlug }}"}},
	},
}

func (s *Server) templatingExtensions(w http.ResponseWriter, r *http.Request) {
	catalogapi.WriteJSON(w, http.StatusOK, map[string]any{
		"filters": scaffolderFilters,
		"globals": map[string]any{"functions": map[string]any{}, "values": map[string]any{}},
	})
}
