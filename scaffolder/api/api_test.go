package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

const demoYAML = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: demo
  title: Demo template
  description: Says hello
spec:
  type: service
  owner: team-a
  parameters:
    - title: Basics
      description: The name
      required: [name]
      properties:
        name: {type: string, pattern: '^[a-z]+$'}
    - properties:
        count: {type: number}
  steps:
    - id: hello
      name: Say hello
      action: debug:log
      input:
        message: 'Hello ${{ parameters.name }}'
`

const slowYAML = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: slow
spec:
  type: service
  steps:
    - id: wait
      action: debug:wait
      input:
        seconds: 30
`

type fakeTemplates map[string]string

func (f fakeTemplates) Template(ctx context.Context, ref string) (*template.Template, error) {
	src, ok := f[ref]
	if !ok {
		return nil, fmt.Errorf("template %s: %w", ref, ErrNotFound)
	}
	return template.Parse(src)
}

type env struct {
	srv    *httptest.Server
	runner *task.Runner
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := task.OpenSQLite(filepath.Join(t.TempDir(), "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg := action.NewRegistry(action.Builtins(action.BuiltinOptions{})...)
	runner := &task.Runner{Store: st, Actions: reg, WorkDir: t.TempDir()}
	s := &Server{
		Templates:    fakeTemplates{"template:default/demo": demoYAML, "template:default/slow": slowYAML},
		Actions:      reg,
		Runner:       runner,
		Store:        st,
		User:         func(*http.Request) task.User { return task.User{Ref: "user:default/alice"} },
		PollInterval: 20 * time.Millisecond,
		LongPoll:     2 * time.Second,
	}
	srv := httptest.NewServer(s.Routes())
	t.Cleanup(func() {
		srv.Close()
		runner.Wait()
		st.Close()
	})
	return &env{srv: srv, runner: runner}
}

func (e *env) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func (e *env) create(t *testing.T, ref string, values map[string]any) string {
	t.Helper()
	code, b := e.do(t, "POST", "/v2/tasks", map[string]any{"templateRef": ref, "values": values, "secrets": map[string]string{"token": "s3cret-value"}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	id := decode[map[string]string](t, b)["id"]
	if id == "" {
		t.Fatalf("no id in %s", b)
	}
	return id
}

// pollEvents reads GET /events until the completion event.
func (e *env) pollEvents(t *testing.T, id string) []task.Event {
	t.Helper()
	var all []task.Event
	var after int64
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		code, b := e.do(t, "GET", fmt.Sprintf("/v2/tasks/%s/events?after=%d", id, after), nil)
		if code != 200 {
			t.Fatalf("events: %d %s", code, b)
		}
		evs := decode[[]task.Event](t, b)
		for _, ev := range evs {
			if ev.ID <= after {
				t.Fatalf("event %d not after %d", ev.ID, after)
			}
			after = ev.ID
			all = append(all, ev)
			if ev.Type == task.EventCompletion {
				return all
			}
		}
	}
	t.Fatalf("no completion event; got %+v", all)
	return nil
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "template:default/demo", map[string]any{"name": "world"})
	evs := e.pollEvents(t, id)
	var msgs []string
	for _, ev := range evs {
		msgs = append(msgs, fmt.Sprint(ev.Body["message"]))
	}
	if !strings.Contains(strings.Join(msgs, "\n"), "Hello world") {
		t.Errorf("log lacks Hello world: %q", msgs)
	}
	last := evs[len(evs)-1]
	if last.Body["status"] != task.StatusCompleted {
		t.Errorf("completion body %v", last.Body)
	}

	code, b := e.do(t, "GET", "/v2/tasks/"+id, nil)
	if code != 200 {
		t.Fatalf("get: %d %s", code, b)
	}
	got := decode[map[string]any](t, b)
	if got["status"] != task.StatusCompleted || got["id"] != id || got["createdAt"] == nil || got["lastHeartbeatAt"] == nil {
		t.Errorf("task %s", b)
	}
	if got["createdBy"] != "user:default/alice" {
		t.Errorf("createdBy %v", got["createdBy"])
	}
	if bytes.Contains(b, []byte("s3cret-value")) || bytes.Contains(b, []byte(`"secrets"`)) {
		t.Errorf("task leaks secrets: %s", b)
	}
	spec, _ := got["spec"].(map[string]any)
	if params, _ := spec["parameters"].(map[string]any); params["name"] != "world" {
		t.Errorf("spec %v", spec)
	}

	// List with filters.
	code, b = e.do(t, "GET", "/v2/tasks?createdBy=user:default/alice&status=completed&limit=10", nil)
	lst := decode[map[string]any](t, b)
	if code != 200 || lst["totalTasks"] != float64(1) || len(lst["tasks"].([]any)) != 1 {
		t.Errorf("list: %d %s", code, b)
	}
	code, b = e.do(t, "GET", "/v2/tasks?status=failed", nil)
	lst = decode[map[string]any](t, b)
	if code != 200 || lst["totalTasks"] != float64(0) || len(lst["tasks"].([]any)) != 0 {
		t.Errorf("list failed: %d %s", code, b)
	}
	if code, b = e.do(t, "GET", "/v2/tasks?limit=x", nil); code != 400 {
		t.Errorf("bad limit: %d %s", code, b)
	}

	// Events after the last one: none (the task is finished).
	code, b = e.do(t, "GET", fmt.Sprintf("/v2/tasks/%s/events?after=%d", id, last.ID), nil)
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("events after end: %d %s", code, b)
	}

	// Cancelling a completed task leaves it completed; retrying it is refused.
	code, b = e.do(t, "POST", "/v2/tasks/"+id+"/cancel", nil)
	if code != 200 || decode[map[string]string](t, b)["status"] != task.StatusCompleted {
		t.Errorf("cancel completed: %d %s", code, b)
	}
	if code, b = e.do(t, "POST", "/v2/tasks/"+id+"/retry", nil); code != 409 {
		t.Errorf("retry completed: %d %s", code, b)
	}
}

func TestInvalidValues(t *testing.T) {
	e := newEnv(t)
	code, b := e.do(t, "POST", "/v2/tasks", map[string]any{"templateRef": "template:default/demo", "values": map[string]any{"name": "NOT valid", "count": "x"}})
	if code != 400 {
		t.Fatalf("want 400, got %d %s", code, b)
	}
	got := decode[map[string]any](t, b)
	errs, _ := got["errors"].([]any)
	if len(errs) != 2 {
		t.Errorf("want 2 field errors (one per page), got %s", b)
	}
	if eo, _ := got["error"].(map[string]any); eo["name"] != "InputError" {
		t.Errorf("envelope %s", b)
	}
	if !bytes.Contains(b, []byte(`"property":"instance.name"`)) || !bytes.Contains(b, []byte(`"property":"instance.count"`)) {
		t.Errorf("field errors %s", b)
	}
	// Missing required value.
	code, b = e.do(t, "POST", "/v2/tasks", map[string]any{"templateRef": "template:default/demo", "values": map[string]any{}})
	if code != 400 || !bytes.Contains(b, []byte("instance.name")) {
		t.Errorf("missing required: %d %s", code, b)
	}
	// Malformed bodies.
	if code, b = e.do(t, "POST", "/v2/tasks", map[string]any{"values": map[string]any{}}); code != 400 {
		t.Errorf("no templateRef: %d %s", code, b)
	}
	if code, b = e.do(t, "POST", "/v2/tasks", "nope"); code != 400 {
		t.Errorf("string body: %d %s", code, b)
	}
	if code, b = e.do(t, "POST", "/v2/tasks", map[string]any{"templateRef": "component:default/x"}); code != 400 {
		t.Errorf("wrong kind: %d %s", code, b)
	}
	// No task was created.
	_, b = e.do(t, "GET", "/v2/tasks", nil)
	if decode[map[string]any](t, b)["totalTasks"] != float64(0) {
		t.Errorf("tasks created: %s", b)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v2/templates/default/Template/nope/parameter-schema"},
		{"GET", "/v2/tasks/nope"},
		{"GET", "/v2/tasks/nope/events"},
		{"GET", "/v2/tasks/nope/eventstream"},
		{"POST", "/v2/tasks/nope/cancel"},
		{"POST", "/v2/tasks/nope/retry"},
		{"GET", "/v2/nothing"},
	} {
		code, b := e.do(t, c.method, c.path, nil)
		if code != 404 {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, b)
			continue
		}
		got := decode[map[string]any](t, b)
		eo, _ := got["error"].(map[string]any)
		ro, _ := got["response"].(map[string]any)
		if eo["name"] != "NotFoundError" || ro["statusCode"] != float64(404) {
			t.Errorf("%s %s envelope: %s", c.method, c.path, b)
		}
	}
	code, b := e.do(t, "POST", "/v2/tasks", map[string]any{"templateRef": "template:default/nope", "values": map[string]any{}})
	if code != 404 {
		t.Errorf("unknown template on create: %d %s", code, b)
	}
}

func TestParameterSchema(t *testing.T) {
	e := newEnv(t)
	code, b := e.do(t, "GET", "/v2/templates/default/template/demo/parameter-schema", nil)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	got := decode[struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Steps       []struct {
			Title       string         `json:"title"`
			Description string         `json:"description"`
			Schema      map[string]any `json:"schema"`
		} `json:"steps"`
	}](t, b)
	if got.Title != "Demo template" || got.Description != "Says hello" || len(got.Steps) != 2 {
		t.Fatalf("schema %s", b)
	}
	if got.Steps[0].Title != "Basics" || got.Steps[0].Description != "The name" || got.Steps[0].Schema["properties"] == nil {
		t.Errorf("page 0 %+v", got.Steps[0])
	}
	if got.Steps[1].Title != "Please enter the following information" {
		t.Errorf("page 1 title %q", got.Steps[1].Title)
	}
}

func TestActionsAndExtensions(t *testing.T) {
	e := newEnv(t)
	code, b := e.do(t, "GET", "/v2/actions", nil)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	acts := decode[[]struct {
		ID          string `json:"id"`
		Description string `json:"description"`
		Schema      struct {
			Input  map[string]any `json:"input"`
			Output map[string]any `json:"output"`
		} `json:"schema"`
	}](t, b)
	found := false
	for _, a := range acts {
		if a.ID == "fetch:template" {
			found = true
			if a.Description == "" || a.Schema.Input == nil {
				t.Errorf("fetch:template %+v", a)
			}
		}
	}
	if !found {
		t.Errorf("no fetch:template in %s", b)
	}

	code, b = e.do(t, "GET", "/v2/templating-extensions", nil)
	ext := decode[map[string]map[string]any](t, b)
	if code != 200 || len(ext["filters"]) != 4 || ext["filters"]["parseRepoUrl"] == nil || ext["globals"] == nil {
		t.Errorf("extensions %d %s", code, b)
	}
}

// readSSE reads events from an SSE stream until it ends.
func readSSE(t *testing.T, body io.Reader) []struct{ Type, Data string } {
	t.Helper()
	var out []struct{ Type, Data string }
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var typ, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "":
			out = append(out, struct{ Type, Data string }{typ, data})
			typ, data = "", ""
		default:
			t.Errorf("unexpected SSE line %q", line)
		}
	}
	return out
}

func TestEventStream(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "template:default/demo", map[string]any{"name": "sse"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v2/tasks/"+id+"/eventstream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	evs := readSSE(t, resp.Body)
	if len(evs) < 2 {
		t.Fatalf("events %+v", evs)
	}
	last := evs[len(evs)-1]
	if last.Type != task.EventCompletion {
		t.Fatalf("stream did not end with completion: %+v", evs)
	}
	var ev task.Event
	if err := json.Unmarshal([]byte(last.Data), &ev); err != nil || ev.TaskID != id || ev.Type != "completion" || ev.Body["status"] != "completed" {
		t.Errorf("completion data %s (%v)", last.Data, err)
	}
	var first task.Event
	_ = json.Unmarshal([]byte(evs[0].Data), &first)

	// after= replays only later events.
	req, _ = http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v2/tasks/%s/eventstream?after=%d", e.srv.URL, id, first.ID), nil)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	evs2 := readSSE(t, resp2.Body)
	if len(evs2) != len(evs)-1 || evs2[len(evs2)-1].Type != task.EventCompletion {
		t.Errorf("after=%d: %d events, want %d", first.ID, len(evs2), len(evs)-1)
	}
	if code, b := e.do(t, "GET", "/v2/tasks/"+id+"/eventstream?after=x", nil); code != 400 {
		t.Errorf("bad after: %d %s", code, b)
	}
}

func TestCancelRetry(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "template:default/slow", map[string]any{})
	// Wait until it is processing.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, b := e.do(t, "GET", "/v2/tasks/"+id, nil)
		if decode[map[string]any](t, b)["status"] == task.StatusProcessing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never processing: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, b := e.do(t, "POST", "/v2/tasks/"+id+"/cancel", nil)
	if code != 200 || decode[map[string]string](t, b)["status"] != task.StatusCancelled {
		t.Fatalf("cancel: %d %s", code, b)
	}
	evs := e.pollEvents(t, id)
	if evs[len(evs)-1].Body["status"] != task.StatusCancelled {
		t.Errorf("completion %v", evs[len(evs)-1].Body)
	}
	e.runner.Wait()
	_, b = e.do(t, "GET", "/v2/tasks/"+id, nil)
	if s := decode[map[string]any](t, b)["status"]; s != task.StatusCancelled {
		t.Errorf("status after cancel %v", s)
	}

	code, b = e.do(t, "POST", "/v2/tasks/"+id+"/retry", map[string]any{"secrets": map[string]string{"a": "b"}})
	if code != 201 || decode[map[string]string](t, b)["id"] != id {
		t.Fatalf("retry: %d %s", code, b)
	}
	// Cancel the retried run again so that the test ends quickly.
	for i := 0; i < 200; i++ {
		_, b = e.do(t, "GET", "/v2/tasks/"+id, nil)
		if decode[map[string]any](t, b)["status"] == task.StatusProcessing {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, b = e.do(t, "POST", "/v2/tasks/"+id+"/cancel", nil); code != 200 {
		t.Errorf("cancel retried: %d %s", code, b)
	}
	e.runner.Wait()
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	tmpl := map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3",
		"kind":       "Template",
		"metadata":   map[string]any{"name": "dry"},
		"spec": map[string]any{
			"type": "service",
			"steps": []any{
				map[string]any{"id": "fetch", "name": "Fetch", "action": "fetch:template", "input": map[string]any{"url": "./skeleton", "values": map[string]any{"name": "${{ parameters.name }}"}}},
				map[string]any{"id": "log", "action": "debug:log", "input": map[string]any{"message": "done ${{ parameters.name }}"}},
				map[string]any{"id": "rm", "action": "fs:delete", "input": map[string]any{"files": []any{"README.md"}}},
			},
			"output": map[string]any{"text": []any{map[string]any{"title": "Name", "content": "${{ parameters.name }}"}}},
		},
	}
	body := map[string]any{
		"template": tmpl,
		"values":   map[string]any{"name": "dry"},
		"directoryContents": []map[string]any{
			{"path": "template.yaml", "base64Content": base64.StdEncoding.EncodeToString([]byte("ignored"))},
			{"path": "skeleton/README.md", "base64Content": base64.StdEncoding.EncodeToString([]byte("# ${{ values.name }}\n"))},
		},
	}
	code, b := e.do(t, "POST", "/v2/dry-run", body)
	if code != 200 {
		t.Fatalf("dry-run: %d %s", code, b)
	}
	got := decode[struct {
		Log []struct {
			Body map[string]any `json:"body"`
		} `json:"log"`
		DirectoryContents []dirEntry     `json:"directoryContents"`
		Output            map[string]any `json:"output"`
		Steps             []struct{ ID, Name, Action string }
		Status            string `json:"status"`
	}](t, b)
	if got.Status != task.StatusCompleted {
		t.Errorf("status %s: %s", got.Status, b)
	}
	if len(got.DirectoryContents) != 1 || got.DirectoryContents[0].Path != "README.md" {
		t.Fatalf("contents %+v", got.DirectoryContents)
	}
	if c, _ := base64.StdEncoding.DecodeString(got.DirectoryContents[0].Base64Content); string(c) != "# dry\n" {
		t.Errorf("README %q", c)
	}
	if !bytes.Contains(b, []byte("Would delete")) {
		t.Errorf("fs:delete did not run in dry-run mode: %s", b)
	}
	if len(got.Steps) != 3 || got.Steps[0].ID != "fetch" || got.Steps[1].Action != "debug:log" {
		t.Errorf("steps %+v", got.Steps)
	}
	if !bytes.Contains(b, []byte("done dry")) {
		t.Errorf("log lacks debug:log message: %s", b)
	}
	if !bytes.Contains(b, []byte(`"content":"dry"`)) {
		t.Errorf("output %v", got.Output)
	}
	// No task is left in the real store.
	_, lb := e.do(t, "GET", "/v2/tasks", nil)
	if decode[map[string]any](t, lb)["totalTasks"] != float64(0) {
		t.Errorf("dry run stored a task: %s", lb)
	}

	// Unsafe paths and bad templates are refused.
	body["directoryContents"] = []map[string]any{{"path": "../evil", "base64Content": ""}}
	if code, b = e.do(t, "POST", "/v2/dry-run", body); code != 400 {
		t.Errorf("../ path: %d %s", code, b)
	}
	body["directoryContents"] = []map[string]any{{"path": "/etc/x", "base64Content": ""}}
	if code, b = e.do(t, "POST", "/v2/dry-run", body); code != 400 {
		t.Errorf("absolute path: %d %s", code, b)
	}
	if code, b = e.do(t, "POST", "/v2/dry-run", map[string]any{"template": map[string]any{"kind": "Component"}}); code != 400 {
		t.Errorf("bad template: %d %s", code, b)
	}
}

// A dry run of a template deep in its repository that shares a skeleton
// up the tree (url: ../../skeletons/x), as many repositories do; the
// skeleton may be reached up to the contents' root and no further; an
// action without dry-run support is skipped with its schema's example
// outputs, which later steps read.
func TestDryRunTemplatePathAndSkippedActions(t *testing.T) {
	e := newEnv(t)
	e.runner.Actions.Register(wetOnly{})
	tmpl := map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3",
		"kind":       "Template",
		"metadata":   map[string]any{"name": "deep"},
		"spec": map[string]any{
			"type": "service",
			"steps": []any{
				map[string]any{"id": "fetch", "action": "fetch:plain", "input": map[string]any{"url": "../../skeletons/base"}},
				map[string]any{"id": "wet", "action": "test:wet-only"},
				map[string]any{"id": "log", "action": "debug:log", "input": map[string]any{"message": "url=${{ steps.wet.output.url }} n=${{ steps.wet.output.count }}"}},
			},
		},
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	body := map[string]any{
		"template":     tmpl,
		"templatePath": "templates/deep/template.yaml",
		"directoryContents": []map[string]any{
			{"path": "templates/deep/template.yaml", "base64Content": b64("ignored")},
			{"path": "skeletons/base/README.md", "base64Content": b64("shared\n")},
		},
	}
	code, b := e.do(t, "POST", "/v2/dry-run", body)
	if code != 200 || !bytes.Contains(b, []byte(`"status":"completed"`)) {
		t.Fatalf("dry-run: %d %s", code, b)
	}
	if !bytes.Contains(b, []byte(`"path":"README.md"`)) {
		t.Errorf("the shared skeleton was not fetched: %s", b)
	}
	if !bytes.Contains(b, []byte("Skipping because test:wet-only does not support dry-run")) || !bytes.Contains(b, []byte(`url=\u003cexample\u003e n=0`)) {
		t.Errorf("the skipped action's example outputs: %s", b)
	}
	for _, bad := range []string{"../template.yaml", "/abs/template.yaml"} {
		body["templatePath"] = bad
		if code, b := e.do(t, "POST", "/v2/dry-run", body); code != 400 {
			t.Errorf("templatePath %q: %d %s", bad, code, b)
		}
	}
	// from the repository's root, ../../ leaves the contents
	body["templatePath"] = "template.yaml"
	if _, b := e.do(t, "POST", "/v2/dry-run", body); bytes.Contains(b, []byte(`"status":"completed"`)) {
		t.Errorf("a skeleton above the contents' root was fetched: %s", b)
	}
}

// wetOnly is an action without dry-run support, with an output schema.
type wetOnly struct{}

func (wetOnly) ID() string          { return "test:wet-only" }
func (wetOnly) Description() string { return "acts for real only" }
func (wetOnly) Schema() (map[string]any, map[string]any) {
	return nil, map[string]any{"type": "object", "properties": map[string]any{
		"url": map[string]any{"type": "string"}, "count": map[string]any{"type": "number"}}}
}
func (wetOnly) Run(c *action.Context) error { return errors.New("must not run in a dry run") }
