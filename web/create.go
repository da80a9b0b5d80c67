package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/scaffolder/form"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// Scaffolder is what the create pages ask of the template runner.
type Scaffolder interface {
	Template(ctx context.Context, ref string) (*template.Template, error)
	Start(ctx context.Context, spec task.Spec) (string, error)
	Task(ctx context.Context, id string) (*task.Task, error)
	Tasks(ctx context.Context, o task.ListOptions) ([]*task.Task, int, error)
	Events(ctx context.Context, id string, after int64) ([]task.Event, error)
	Cancel(ctx context.Context, id string) error
	Retry(ctx context.Context, id string) error
	// RepoHosts are offered by a RepoUrlPicker that names no allowedHosts.
	RepoHosts() []string
}

// The wizard keeps its state in the form it posts: the values of every
// page so far (JSON in a hidden field), the page shown, and which button
// was pressed. Nothing is kept on the server until the task is created,
// so a wizard survives a restart and works without JavaScript.
const (
	fieldState  = "_values"
	fieldPage   = "_page"
	fieldGo     = "_go"
	valuePrefix = "values" // prefix of the parameters' field names
)

// wizardView is one page of a template's wizard, or its review page when
// Page == len(Pages).
type wizardView struct {
	Template *template.Template
	Ref      string
	Action   string // where the form posts
	Pages    []string
	Page     int
	Schema   map[string]any
	Values   map[string]any
	Errs     map[string]string
	Opts     form.Options
	Answers  []reviewGroup
	Error    string // a page-level problem (e.g. the task could not start)
}

// reviewGroup is one wizard page's answers on the review page.
type reviewGroup struct {
	Page  int
	Title string
	Items []reviewItem
}

type reviewItem struct{ Label, Value string }

func (v wizardView) Review() bool { return v.Page >= len(v.Pages) }

// State is the hidden field carrying every value so far.
func (v wizardView) State() string {
	b, err := json.Marshal(v.Values)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// Title is the template's title, else its name.
func (v wizardView) Title() string {
	if v.Template.Title != "" {
		return v.Template.Title
	}
	return v.Template.Name
}

// buttonLabel is spec.presentation.buttonLabels[key] or def, as Backstage
// lets templates rename the wizard's Back, Next (review) and Create.
func (v wizardView) buttonLabel(key, def string) string {
	labels, _ := v.Template.Presentation["buttonLabels"].(map[string]any)
	if s, ok := labels[key].(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	return def
}

func templateRef(r *http.Request) string {
	return "template:" + strings.ToLower(chi.URLParam(r, "namespace")) + "/" + strings.ToLower(chi.URLParam(r, "name"))
}

// loadTemplate reads the template a wizard URL names, answering 404
// itself when there is none.
func (s *Server) loadTemplate(w http.ResponseWriter, r *http.Request) (*template.Template, string, bool) {
	ref := templateRef(r)
	t, err := s.Scaffolder.Template(r.Context(), ref)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.notFound(w, r, "There is no template "+ref+" in the catalog.")
			return nil, "", false
		}
		// A Template entity the scaffolder cannot read is the template
		// author's problem: say what is wrong instead of a server error.
		s.render(w, r, http.StatusUnprocessableEntity, errorPage(s.page(r, "Template error", "/create"),
			"This template cannot be used", err.Error()))
		return nil, "", false
	}
	return t, ref, true
}

func (s *Server) newWizard(r *http.Request, t *template.Template, ref string, page int, values map[string]any) wizardView {
	v := wizardView{
		Template: t, Ref: ref, Page: page, Values: values, Errs: map[string]string{},
		Action: templateFormHref(t.Namespace, t.Name),
	}
	for i := range t.Parameters {
		v.Pages = append(v.Pages, t.PageTitle(i))
	}
	v.Opts = s.formOptions(r.Context())
	if page < len(t.Parameters) {
		v.Schema = t.Parameters[page]
		v.Values = form.WithDefaults(v.Schema, values)
	} else {
		v.Answers = review(t, values)
	}
	return v
}

func (s *Server) formOptions(ctx context.Context) form.Options {
	return form.Options{
		Prefix:    valuePrefix,
		IDPrefix:  "f",
		RepoHosts: s.Scaffolder.RepoHosts(),
		Suggest: func(p form.Picker) []form.Choice {
			return s.pickerChoices(ctx, p.Field, p.Options, "")
		},
		SuggestURL: func(p form.Picker) string {
			if p.Field == "EntityNamePicker" {
				return ""
			}
			q := url.Values{"field": {p.Name}, "ui": {p.Field}}
			if len(p.Options) > 0 {
				if b, err := json.Marshal(p.Options); err == nil {
					q.Set("options", string(b))
				}
			}
			return "/create/suggest?" + q.Encode()
		},
	}
}

// wizard shows a template's first page, with its defaults.
func (s *Server) wizard(w http.ResponseWriter, r *http.Request) {
	t, ref, ok := s.loadTemplate(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, wizardPage(s.createPageMeta(r, t), s.newWizard(r, t, ref, 0, map[string]any{})))
}

func (s *Server) createPageMeta(r *http.Request, t *template.Template) page {
	title := t.Title
	if title == "" {
		title = t.Name
	}
	return s.page(r, title, "/create")
}

// wizardPost moves the wizard: it takes in the page's fields, then goes
// back, forward (when the page validates), or creates the task from the
// review page (when every page validates).
func (s *Server) wizardPost(w http.ResponseWriter, r *http.Request) {
	t, ref, ok := s.loadTemplate(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, errorPage(s.page(r, "Bad request", "/create"), "The form could not be read", err.Error()))
		return
	}
	values := map[string]any{}
	if st := r.PostForm.Get(fieldState); st != "" {
		if err := json.Unmarshal([]byte(st), &values); err != nil || values == nil {
			values = map[string]any{}
		}
	}
	page, _ := strconv.Atoi(r.PostForm.Get(fieldPage))
	page = min(max(page, 0), len(t.Parameters))
	action := r.PostForm.Get(fieldGo)

	var pageErrs map[string]string
	if page < len(t.Parameters) {
		schema := t.Parameters[page]
		opts := s.formOptions(r.Context())
		got, err := form.DecodeOpts(schema, r.PostForm, opts)
		for _, f := range form.PageFields(schema) {
			delete(values, f.Key)
		}
		for k, v := range got {
			values[k] = v
		}
		pageErrs = map[string]string{}
		var de form.DecodeErrors
		if errors.As(err, &de) {
			for k, msg := range de {
				pageErrs[k] = msg
			}
		}
	}

	switch {
	case action == "back":
		// Going back keeps what was typed, valid or not.
		s.render(w, r, http.StatusOK, wizardPage(s.createPageMeta(r, t), s.newWizard(r, t, ref, max(page-1, 0), values)))
		return
	case strings.HasPrefix(action, "edit-"):
		n, _ := strconv.Atoi(strings.TrimPrefix(action, "edit-"))
		n = min(max(n, 0), len(t.Parameters))
		s.render(w, r, http.StatusOK, wizardPage(s.createPageMeta(r, t), s.newWizard(r, t, ref, n, values)))
		return
	case page < len(t.Parameters):
		v := s.newWizard(r, t, ref, page, values)
		for k, msg := range form.ValidateOpts(t.Parameters[page], values, v.Opts) {
			if _, seen := pageErrs[k]; !seen {
				pageErrs[k] = msg
			}
		}
		if len(pageErrs) > 0 {
			v.Errs = pageErrs
			s.render(w, r, http.StatusUnprocessableEntity, wizardPage(s.createPageMeta(r, t), v))
			return
		}
		// The next page, or the review after the last one.
		s.render(w, r, http.StatusOK, wizardPage(s.createPageMeta(r, t), s.newWizard(r, t, ref, page+1, values)))
		return
	}

	// The review page: "create" runs the template once every page
	// validates; a page that does not is shown again with its errors.
	if action != "create" {
		s.render(w, r, http.StatusOK, wizardPage(s.createPageMeta(r, t), s.newWizard(r, t, ref, page, values)))
		return
	}
	opts := s.formOptions(r.Context())
	for i, schema := range t.Parameters {
		if errs := form.ValidateOpts(schema, values, opts); len(errs) > 0 {
			v := s.newWizard(r, t, ref, i, values)
			v.Errs = errs
			s.render(w, r, http.StatusUnprocessableEntity, wizardPage(s.createPageMeta(r, t), v))
			return
		}
	}
	if !s.allowed(w, r, "scaffolder.task.create", nil) {
		return
	}
	params, secrets := form.SplitSecrets(t.Parameters, values)
	spec := task.Spec{TemplateRef: ref, Template: t, Parameters: params, Secrets: secrets}
	if s.TaskUser != nil {
		spec.User = s.TaskUser(r)
	}
	id, err := s.Scaffolder.Start(r.Context(), spec)
	if err != nil {
		v := s.newWizard(r, t, ref, page, values)
		v.Error = "The task could not be started: " + err.Error()
		s.render(w, r, http.StatusInternalServerError, wizardPage(s.createPageMeta(r, t), v))
		return
	}
	http.Redirect(w, r, "/create/tasks/"+url.PathEscape(id), http.StatusSeeOther)
}

// review lists every page's answers as the user will want to check them:
// labels from the schema, enum names for enum values, secrets masked, and
// fields marked `ui:backstage: {review: {show: false}}` left out.
func review(t *template.Template, values map[string]any) []reviewGroup {
	var out []reviewGroup
	for i, schema := range t.Parameters {
		g := reviewGroup{Page: i, Title: t.PageTitle(i)}
		for _, f := range form.PageFields(schema) {
			key, p := f.Key, f.Schema
			v, ok := values[key]
			if !ok {
				continue
			}
			if rv, _ := p["ui:backstage"].(map[string]any); rv != nil {
				if rr, _ := rv["review"].(map[string]any); rr != nil {
					if show, ok := rr["show"].(bool); ok && !show {
						continue
					}
					if m, ok := rr["mask"].(string); ok {
						g.Items = append(g.Items, reviewItem{Label: propertyLabel(p, key), Value: m})
						continue
					}
				}
			}
			if p["ui:widget"] == "password" || p["ui:field"] == "Secret" {
				g.Items = append(g.Items, reviewItem{Label: propertyLabel(p, key), Value: "******"})
				continue
			}
			g.Items = append(g.Items, reviewItem{Label: propertyLabel(p, key), Value: displayValue(p, v)})
		}
		out = append(out, g)
	}
	return out
}

func propertyLabel(p map[string]any, key string) string {
	for _, k := range []string{"ui:title", "title"} {
		if s, ok := p[k].(string); ok && s != "" {
			return s
		}
	}
	return key
}

// displayValue writes a value for the review page: an enum's name, a
// list joined by commas, an object as JSON.
func displayValue(p map[string]any, v any) string {
	if enum, _ := p["enum"].([]any); enum != nil {
		names, _ := p["enumNames"].([]any)
		for i, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) && i < len(names) {
				return fmt.Sprint(names[i])
			}
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = displayValue(map[string]any{}, e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- pickers ----

// pickerLimit bounds a picker's suggestions.
const pickerLimit = 20

// pickerSuggest answers a picker's typeahead: <option>s for its datalist.
func (s *Server) pickerSuggest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var opts map[string]any
	if o := q.Get("options"); o != "" {
		if err := json.Unmarshal([]byte(o), &opts); err != nil {
			http.Error(w, "options: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	typed := q.Get(q.Get("field"))
	ui := q.Get("ui")
	prefix := ""
	if ui == "MultiEntityPicker" || ui == "EntityTagsPicker" {
		// Several values separated by commas: complete the last one and
		// keep the others in front of each suggestion.
		if i := strings.LastIndex(typed, ","); i >= 0 {
			prefix, typed = strings.TrimSpace(typed[:i])+", ", typed[i+1:]
		}
	}
	choices := s.pickerChoices(r.Context(), ui, opts, strings.TrimSpace(typed))
	for i := range choices {
		choices[i].Value = prefix + choices[i].Value
	}
	s.render(w, r, http.StatusOK, suggestOptions(choices))
}

// pickerChoices finds what a ui:field picker may offer, from the catalog:
// entities for the entity pickers (their catalogFilter or allowedKinds,
// Groups and Users for OwnerPicker), tags for EntityTagsPicker. The value
// is the entity ref Backstage's pickers store.
func (s *Server) pickerChoices(ctx context.Context, ui string, opts map[string]any, text string) []form.Choice {
	text = strings.ToLower(text)
	switch ui {
	case "EntityTagsPicker":
		facets, err := s.Catalog.Facets(ctx, []string{"metadata.tags"}, kindsFilter(stringsOf(opts["kinds"])))
		if err != nil {
			return nil
		}
		var out []form.Choice
		for _, f := range facets["metadata.tags"] {
			if text == "" || strings.Contains(strings.ToLower(f.Value), text) {
				out = append(out, form.Choice{Value: f.Value, Label: f.Value + " (" + strconv.Itoa(f.Count) + ")"})
			}
			if len(out) == pickerLimit {
				break
			}
		}
		return out
	case "EntityPicker", "OwnerPicker", "OwnedEntityPicker", "MultiEntityPicker", "MyGroupsPicker":
	default:
		return nil
	}
	filter := catalogFilter(opts["catalogFilter"])
	if filter == nil {
		kinds := stringsOf(opts["allowedKinds"])
		switch {
		case len(kinds) > 0:
			filter = kindsFilter(kinds)
		case ui == "OwnerPicker":
			filter = kindsFilter([]string{"Group", "User"})
		case ui == "MyGroupsPicker":
			filter = kindsFilter([]string{"Group"})
		default:
			filter = store.All{}
		}
	}
	req := store.QueryRequest{Filter: filter, SortField: "metadata.name", Limit: pickerLimit}
	if text != "" {
		req.TextTerm, req.TextFields = text, textFields
	}
	rows, _, err := s.queryEntities(ctx, req)
	if err != nil {
		s.Log.Warn("picker suggestions", "field", ui, "error", err)
		return nil
	}
	out := make([]form.Choice, 0, len(rows))
	for _, e := range rows {
		out = append(out, form.Choice{Value: pickerValue(e.Ref), Label: e.DisplayName() + " · " + strings.ToLower(e.Kind)})
	}
	return out
}

// pickerValue is the ref a picker stores: kind:namespace/name in full
// (Backstage's stringifyEntityRef), whatever the field's default kind.
func pickerValue(r catalog.Ref) string {
	ns := r.Namespace
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	return strings.ToLower(r.Kind) + ":" + ns + "/" + r.Name
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func kindsFilter(kinds []string) store.Predicate {
	if len(kinds) == 0 {
		return store.All{}
	}
	lower := make([]string, len(kinds))
	for i, k := range kinds {
		lower[i] = strings.ToLower(k)
	}
	return store.Field{Key: "kind", Values: lower}
}

// catalogFilter turns a picker's catalogFilter (an object, or a list of
// objects any of which may match; a value may be a list, or
// {exists: true}) into a store predicate. nil when there is none.
func catalogFilter(v any) store.Predicate {
	one := func(m map[string]any) store.Predicate {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		all := store.All{}
		for _, k := range keys {
			key := strings.ToLower(k)
			switch x := m[k].(type) {
			case map[string]any:
				if x["exists"] == true {
					all = append(all, store.Field{Key: key})
				} else if x["exists"] == false {
					all = append(all, store.Not{P: store.Field{Key: key}})
				}
			default:
				vals := stringsOf(x)
				if len(vals) == 0 {
					if x != nil {
						vals = []string{fmt.Sprint(x)}
					}
				}
				for i := range vals {
					vals[i] = strings.ToLower(vals[i])
				}
				all = append(all, store.Field{Key: key, Values: vals})
			}
		}
		return all
	}
	switch x := v.(type) {
	case map[string]any:
		return one(x)
	case []any:
		anyOf := store.Any{}
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				anyOf = append(anyOf, one(m))
			}
		}
		if len(anyOf) == 0 {
			return nil
		}
		return anyOf
	}
	return nil
}
