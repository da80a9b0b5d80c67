package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/scaffolder/form"
	"github.com/greenroom-dev/greenroom/scaffolder/service"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// templateRunner is what `greenroom create` needs: a portal's scaffolder
// API (--server) or the scaffolder in this process (--local).
type templateRunner interface {
	// Pages returns the template's title and parameter pages.
	Pages(ctx context.Context, ref string) (string, []map[string]any, error)
	// Start creates the task; a *valuesError when the values are refused.
	Start(ctx context.Context, ref string, values map[string]any) (string, error)
	// Events returns the task's events after an event ID (it may wait a
	// while for new ones).
	Events(ctx context.Context, id string, after int64) ([]task.Event, error)
	Task(ctx context.Context, id string) (*task.Task, error)
	// EntityURL is where an output entity ref can be opened.
	EntityURL(ref string) string
}

// valuesError lists the fields the scaffolder refused.
type valuesError struct{ Fields []string }

func (e *valuesError) Error() string { return "invalid values: " + strings.Join(e.Fields, "; ") }

type setFlags []string

func (f *setFlags) String() string     { return strings.Join(*f, ",") }
func (f *setFlags) Set(v string) error { *f = append(*f, v); return nil }

const createUsage = `usage: greenroom create TEMPLATE [--set key=value...] [--values file.yaml] [--server URL | --local]

Runs a software template (name, namespace/name or template:namespace/name)
and shows each step as it finishes. Values come from the template's
defaults, then --values, then each --set (key.sub=value for nested
objects; the value is read as YAML unless the field is a string).
--server runs it on a portal (env GREENROOM_SERVER); --local (the default
without a server) runs it in this process on the catalog of --config or
the demo, in --data-dir.
`

func cmdCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("create", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, createUsage+"\nflags:\n"); fl.PrintDefaults() }
	var s settings
	s.register(fl, false)
	var sets setFlags
	var valuesFile, server string
	var local, verbose bool
	fl.Var(&sets, "set", "a value, key=value (repeatable)")
	fl.StringVar(&valuesFile, "values", "", "a YAML or JSON file of values")
	fl.StringVar(&server, "server", env("GREENROOM_SERVER", ""), "the portal to run the template on, e.g. http://127.0.0.1:7007 (env GREENROOM_SERVER)")
	fl.BoolVar(&local, "local", false, "run in this process on the local catalog, even when GREENROOM_SERVER is set")
	fl.BoolVar(&verbose, "verbose", false, "print every log line of the task")
	// Flags may come before or after the template's name.
	var positional []string
	for rest := args; ; {
		if err := fl.Parse(rest); err != nil {
			return 2
		}
		if fl.NArg() == 0 {
			break
		}
		positional = append(positional, fl.Arg(0))
		rest = fl.Args()[1:]
	}
	if len(positional) != 1 {
		fl.Usage()
		return 2
	}
	ref, err := normalizeTemplateRef(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "greenroom create: %v\n", err)
		return 2
	}

	var rn templateRunner
	if server != "" && !local {
		u, err := url.Parse(strings.TrimRight(server, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(stderr, "greenroom create: --server must be an http(s) URL, got %q\n", server)
			return 2
		}
		rn = &remoteRunner{base: u.String(), client: &http.Client{Timeout: 60 * time.Second}, token: os.Getenv("GREENROOM_TOKEN")}
	} else {
		s.quiet = true
		a, err := setup(ctx, s, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "greenroom create: %v\n", err)
			return 1
		}
		defer a.close()
		if err := a.engine.CrawlAll(ctx); err != nil {
			fmt.Fprintf(stderr, "greenroom create: crawl the catalog: %v\n", err)
			return 1
		}
		svc, err := a.scaffolder()
		if err != nil {
			fmt.Fprintf(stderr, "greenroom create: %v\n", err)
			return 1
		}
		defer svc.Close()
		rn = &localRunner{svc: svc}
	}

	title, pages, err := rn.Pages(ctx, ref)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom create: %v\n", err)
		return 1
	}
	values := map[string]any{}
	if valuesFile != "" {
		data, err := os.ReadFile(valuesFile)
		if err != nil {
			fmt.Fprintf(stderr, "greenroom create: %v\n", err)
			return 2
		}
		if err := yaml.Unmarshal(data, &values); err != nil {
			fmt.Fprintf(stderr, "greenroom create: %s: %v\n", valuesFile, err)
			return 2
		}
		values, _ = template.Normalize(values).(map[string]any)
		if values == nil {
			values = map[string]any{}
		}
	}
	for _, kv := range sets {
		if err := setValue(values, pages, kv); err != nil {
			fmt.Fprintf(stderr, "greenroom create: --set %s: %v\n", kv, err)
			return 2
		}
	}
	for _, p := range pages {
		values = form.WithDefaults(p, values)
	}

	id, err := rn.Start(ctx, ref, values)
	var ve *valuesError
	if errors.As(err, &ve) {
		fmt.Fprintf(stderr, "✗ %s: the values are not valid:\n", title)
		for _, f := range ve.Fields {
			fmt.Fprintf(stderr, "    %s\n", f)
		}
		fmt.Fprintln(stderr, "  Give them with --set key=value or --values file.yaml.")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "greenroom create: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Running %s (%s), task %s\n", title, ref, id)
	return followTask(ctx, rn, id, verbose, stdout)
}

// followTask prints each step as it ends (✓ completed, ✗ failed, –
// skipped) and, at the end, the output links and texts. It returns the
// exit code: 0 when the task completed.
func followTask(ctx context.Context, rn templateRunner, id string, verbose bool, out io.Writer) int {
	t, err := rn.Task(ctx, id)
	if err != nil {
		fmt.Fprintf(out, "✗ %v\n", err)
		return 1
	}
	names := map[string]string{}
	for _, st := range t.Steps {
		names[st.ID] = st.Label()
	}
	var after int64
	for {
		events, err := rn.Events(ctx, id, after)
		if err != nil {
			fmt.Fprintf(out, "✗ following the task: %v\n", err)
			return 1
		}
		done := false
		for _, e := range events {
			after = e.ID
			msg, _ := e.Body["message"].(string)
			step, _ := e.Body["stepId"].(string)
			status, _ := e.Body["status"].(string)
			if verbose && msg != "" {
				fmt.Fprintf(out, "    %s %s\n", e.CreatedAt.Local().Format("15:04:05"), msg)
			}
			switch {
			case e.Type == task.EventCompletion:
				done = true
			case step != "" && status == task.StatusCompleted:
				fmt.Fprintf(out, "✓ %s\n", names[step])
			case step != "" && status == task.StatusSkipped:
				fmt.Fprintf(out, "– %s (skipped)\n", names[step])
			case step != "" && status == task.StatusFailed:
				fmt.Fprintf(out, "✗ %s\n    %s\n", names[step], msg)
			}
		}
		if done {
			break
		}
		if len(events) == 0 {
			select {
			case <-ctx.Done():
				fmt.Fprintln(out, "✗ interrupted; the task goes on (cancel it on the task page or with the API)")
				return 1
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	t, err = rn.Task(ctx, id)
	if err != nil {
		fmt.Fprintf(out, "✗ %v\n", err)
		return 1
	}
	switch t.Status {
	case task.StatusCompleted:
		fmt.Fprintln(out, "Completed.")
	case task.StatusCancelled:
		fmt.Fprintln(out, "✗ Cancelled.")
	default:
		fmt.Fprintf(out, "✗ Failed: %s\n", t.Error)
	}
	if o := t.Output; o != nil {
		for _, l := range o.Links {
			target := l.URL
			if l.EntityRef != "" {
				target = rn.EntityURL(l.EntityRef)
			}
			if target == "" {
				continue
			}
			title := l.Title
			if title == "" {
				title = "Link"
			}
			fmt.Fprintf(out, "  %s: %s\n", title, target)
		}
		for _, tx := range o.Text {
			if tx.Title != "" {
				fmt.Fprintf(out, "\n%s\n", tx.Title)
			}
			for _, line := range strings.Split(strings.TrimRight(tx.Content, "\n"), "\n") {
				fmt.Fprintf(out, "  %s\n", line)
			}
		}
	}
	if t.Status != task.StatusCompleted {
		return 1
	}
	return 0
}

// normalizeTemplateRef accepts name, namespace/name or
// template:namespace/name.
func normalizeTemplateRef(s string) (string, error) {
	r, err := catalog.ParseRef(s, catalog.RefDefaults{Kind: "Template", Namespace: catalog.DefaultNamespace})
	if err != nil {
		return "", fmt.Errorf("template %q: %w", s, err)
	}
	if !strings.EqualFold(r.Kind, "template") {
		return "", fmt.Errorf("%q is a %s, not a template", s, r.Kind)
	}
	return strings.ToLower(r.String()), nil
}

// setValue applies one --set key=value. A dotted key sets a nested
// object's field. The value is read as YAML (numbers, booleans, lists)
// unless the schema says the field is a string.
func setValue(values map[string]any, pages []map[string]any, kv string) error {
	key, raw, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return errors.New("expected key=value")
	}
	path := strings.Split(key, ".")
	var v any = raw
	if fieldType(pages, path) != "string" {
		var y any
		if err := yaml.Unmarshal([]byte(raw), &y); err == nil && y != nil {
			v = template.Normalize(y)
		}
	}
	m := values
	for _, seg := range path[:len(path)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[seg] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
	return nil
}

// fieldType is the JSON Schema type of a (nested) field on any page; ""
// when the pages do not say.
func fieldType(pages []map[string]any, path []string) string {
	for _, p := range pages {
		s := p
		for i, seg := range path {
			props, _ := s["properties"].(map[string]any)
			next, _ := props[seg].(map[string]any)
			if next == nil {
				break
			}
			if i == len(path)-1 {
				if t, ok := next["type"].(string); ok {
					return t
				}
				return ""
			}
			s = next
		}
	}
	return ""
}

// ---- in this process

type localRunner struct{ svc *service.Service }

func (l *localRunner) Pages(ctx context.Context, ref string) (string, []map[string]any, error) {
	t, err := l.svc.Template(ctx, ref)
	if err != nil {
		return "", nil, fmt.Errorf("template %s: %w", ref, err)
	}
	title := t.Title
	if title == "" {
		title = t.Name
	}
	return title, t.Parameters, nil
}

func (l *localRunner) Start(ctx context.Context, ref string, values map[string]any) (string, error) {
	t, err := l.svc.Template(ctx, ref)
	if err != nil {
		return "", err
	}
	var fields []string
	for _, fe := range form.ValidatePages(t.Parameters, values) {
		fields = append(fields, fe.Field+": "+fe.Message)
	}
	if len(fields) > 0 {
		return "", &valuesError{Fields: fields}
	}
	params, secrets := form.SplitSecrets(t.Parameters, values)
	return l.svc.Start(ctx, task.Spec{TemplateRef: ref, Template: t, Parameters: params, Secrets: secrets})
}

func (l *localRunner) Events(ctx context.Context, id string, after int64) ([]task.Event, error) {
	return l.svc.Events(ctx, id, after)
}

func (l *localRunner) Task(ctx context.Context, id string) (*task.Task, error) {
	return l.svc.Task(ctx, id)
}

func (l *localRunner) EntityURL(ref string) string { return ref }

// ---- on a portal, through Backstage's scaffolder API

type remoteRunner struct {
	base   string
	client *http.Client
	// token (GREENROOM_TOKEN) is sent as a Bearer token: a static token of
	// backend.auth.externalAccess or a Backstage user token.
	token string
	pages []map[string]any // from Pages, to tell secrets from parameters
}

func (rr *remoteRunner) do(ctx context.Context, method, path string, body, into any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rr.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rr.token != "" {
		req.Header.Set("Authorization", "Bearer "+rr.token)
	}
	resp, err := rr.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error struct{ Message string } `json:"error"`
		}
		if into != nil {
			json.Unmarshal(data, into) // error bodies may carry details (field errors)
		}
		if json.Unmarshal(data, &env) == nil && env.Error.Message != "" {
			return resp.StatusCode, fmt.Errorf("%s %s: %s", method, path, env.Error.Message)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func refPath(ref string) string {
	r, _ := catalog.ParseRef(ref, catalog.RefDefaults{Kind: "Template", Namespace: catalog.DefaultNamespace})
	return url.PathEscape(r.Namespace) + "/template/" + url.PathEscape(r.Name)
}

func (rr *remoteRunner) Pages(ctx context.Context, ref string) (string, []map[string]any, error) {
	var ps struct {
		Title string
		Steps []struct {
			Schema map[string]any
		}
	}
	if _, err := rr.do(ctx, http.MethodGet, "/api/scaffolder/v2/templates/"+refPath(ref)+"/parameter-schema", nil, &ps); err != nil {
		return "", nil, err
	}
	pages := make([]map[string]any, len(ps.Steps))
	for i, s := range ps.Steps {
		pages[i] = s.Schema
	}
	rr.pages = pages
	return ps.Title, pages, nil
}

func (rr *remoteRunner) Start(ctx context.Context, ref string, values map[string]any) (string, error) {
	var res struct {
		ID     string
		Errors []struct {
			Property, Message string
		}
	}
	params, secrets := form.SplitSecrets(rr.pages, values)
	code, err := rr.do(ctx, http.MethodPost, "/api/scaffolder/v2/tasks", map[string]any{"templateRef": ref, "values": params, "secrets": secrets}, &res)
	if code == http.StatusBadRequest && len(res.Errors) > 0 {
		ve := &valuesError{}
		for _, e := range res.Errors {
			ve.Fields = append(ve.Fields, strings.TrimPrefix(strings.TrimPrefix(e.Property, "instance"), ".")+": "+e.Message)
		}
		return "", ve
	}
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

func (rr *remoteRunner) Events(ctx context.Context, id string, after int64) ([]task.Event, error) {
	var events []task.Event
	_, err := rr.do(ctx, http.MethodGet, "/api/scaffolder/v2/tasks/"+url.PathEscape(id)+"/events?after="+strconv.FormatInt(after, 10), nil, &events)
	return events, err
}

func (rr *remoteRunner) Task(ctx context.Context, id string) (*task.Task, error) {
	var t task.Task
	if _, err := rr.do(ctx, http.MethodGet, "/api/scaffolder/v2/tasks/"+url.PathEscape(id), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func (rr *remoteRunner) EntityURL(ref string) string {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Namespace: catalog.DefaultNamespace})
	if err != nil {
		return ref
	}
	return rr.base + "/catalog/" + url.PathEscape(r.Namespace) + "/" + url.PathEscape(strings.ToLower(r.Kind)) + "/" + url.PathEscape(r.Name)
}
