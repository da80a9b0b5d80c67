package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
)

// Security tests for the scaffolder API. Rule c: secrets never appear in
// any response: task events (GET /events and the event stream), the task
// listing, a single task, error messages of failed steps, the dry-run log
// and error, nor in request error answers. TestTaskLifecycle checks a
// plain secret on GET /v2/tasks/{id}; these use secrets whose JSON and
// quoted forms differ from the raw value and templates that log, iterate
// over and fail on them.

var apiSecrets = map[string]string{
	"token":  "api-SECRET-plain-4c2f",
	"key":    "-----BEGIN KEY-----\nMIIapiSECRETline\n-----END KEY-----",
	"quoted": `pw"apiSECRET\quoted-31`,
}

// apiSecretForms lists every string that must not appear in a response.
func apiSecretForms() []string {
	var out []string
	for _, v := range apiSecrets {
		b, _ := json.Marshal(v)
		q := strconv.Quote(v)
		out = append(out, v, string(b[1:len(b)-1]), q[1:len(q)-1])
	}
	return append(out, "api-SECRET-plain", "MIIapiSECRETline", `apiSECRET\quoted`, `apiSECRET\\quoted`, `apiSECRET\\\\quoted`)
}

func assertNoAPISecret(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, f := range apiSecretForms() {
		if strings.Contains(string(body), f) {
			t.Errorf("%s leaks secret form %q:\n%s", what, f, body)
			return
		}
	}
}

// secretSteps log the secrets raw, as JSON and per each item, then fail
// with a secret in an action's input.
var secretSteps = []any{
	map[string]any{"id": "log", "name": "Log", "action": "debug:log", "input": map[string]any{
		"message": "m ${{ secrets.token }} ${{ secrets.key }} ${{ secrets.quoted }} ${{ secrets | dump }}",
		"extra":   "${{ secrets }}",
	}},
	map[string]any{"id": "each", "name": "Each", "action": "debug:log",
		"each":  "${{ [secrets.token, secrets.key, secrets.quoted] }}",
		"input": map[string]any{"message": "item ${{ each.value }}"}},
	map[string]any{"id": "fail", "name": "Fail", "action": "fs:read", "input": map[string]any{"path": "${{ secrets.key }}"}},
}

func secretTemplate(name string) map[string]any {
	return map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3",
		"kind":       "Template",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"type":  "service",
			"steps": secretSteps,
			"output": map[string]any{
				"text": []any{map[string]any{"title": "t", "content": "${{ secrets | dump }}"}},
			},
		},
	}
}

func newSecretEnv(t *testing.T) *env {
	t.Helper()
	src, err := json.Marshal(secretTemplate("leaky"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := task.OpenSQLite(filepath.Join(t.TempDir(), "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg := action.NewRegistry(action.Builtins(action.BuiltinOptions{})...)
	runner := &task.Runner{Store: st, Actions: reg, WorkDir: t.TempDir()}
	s := &Server{
		Templates:    fakeTemplates{"template:default/leaky": string(src), "template:default/demo": demoYAML},
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

// Rule c: a task that logs its secrets (raw, as JSON, through each) and
// fails with a secret in its input leaks none of them through GET
// /v2/tasks, GET /v2/tasks/{id}, GET /v2/tasks/{id}/events or the event
// stream — and the same after a retry with new secrets.
func TestSecuritySecretsNotInTaskAPI(t *testing.T) {
	e := newSecretEnv(t)
	code, b := e.do(t, "POST", "/v2/tasks", map[string]any{"templateRef": "template:default/leaky", "values": map[string]any{}, "secrets": apiSecrets})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	assertNoAPISecret(t, "create answer", b)
	id := decode[map[string]string](t, b)["id"]
	evs := e.pollEvents(t, id)
	e.runner.Wait()

	all, _ := json.Marshal(evs)
	assertNoAPISecret(t, "events", all)
	if !strings.Contains(string(all), "***") {
		t.Fatalf("the template did not log its secrets masked (test does not reach them): %s", all)
	}
	if last := evs[len(evs)-1]; last.Body["status"] != task.StatusFailed {
		t.Fatalf("task did not fail on its last step: %v", last.Body)
	}

	code, b = e.do(t, "GET", "/v2/tasks/"+id, nil)
	if code != 200 {
		t.Fatalf("get: %d %s", code, b)
	}
	assertNoAPISecret(t, "GET /v2/tasks/{id}", b)
	if got := decode[map[string]any](t, b); got["status"] != task.StatusFailed || !strings.Contains(got["error"].(string), "***") {
		t.Errorf("task error not masked or missing: %s", b)
	}

	for _, q := range []string{"", "?status=failed", "?createdBy=user:default/alice&limit=5"} {
		code, b = e.do(t, "GET", "/v2/tasks"+q, nil)
		if code != 200 || !strings.Contains(string(b), id) {
			t.Fatalf("list%s: %d %s", q, code, b)
		}
		assertNoAPISecret(t, "GET /v2/tasks"+q, b)
	}

	code, b = e.do(t, "GET", "/v2/tasks/"+id+"/events?after=0", nil)
	if code != 200 {
		t.Fatalf("events: %d %s", code, b)
	}
	assertNoAPISecret(t, "GET /events", b)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v2/tasks/"+id+"/eventstream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	stream, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(stream), "completion") {
		t.Fatalf("event stream incomplete: %s", stream)
	}
	assertNoAPISecret(t, "event stream", stream)

	// retry with the secrets again: the new run's events are masked too
	code, b = e.do(t, "POST", "/v2/tasks/"+id+"/retry", map[string]any{"secrets": apiSecrets})
	if code != http.StatusCreated {
		t.Fatalf("retry: %d %s", code, b)
	}
	assertNoAPISecret(t, "retry answer", b)
	e.runner.Wait()
	code, b = e.do(t, "GET", "/v2/tasks/"+id+"/events", nil)
	if code != 200 {
		t.Fatalf("events after retry: %d %s", code, b)
	}
	assertNoAPISecret(t, "events after retry", b)
	_, b = e.do(t, "GET", "/v2/tasks/"+id, nil)
	assertNoAPISecret(t, "task after retry", b)
}

// Rule c: the dry-run answer (its log, error, output, steps) masks the
// secrets given with the request, including JSON-encoded forms.
func TestSecuritySecretsNotInDryRun(t *testing.T) {
	e := newSecretEnv(t)
	code, b := e.do(t, "POST", "/v2/dry-run", map[string]any{
		"template": secretTemplate("dry"),
		"values":   map[string]any{},
		"secrets":  apiSecrets,
	})
	if code != 200 {
		t.Fatalf("dry-run: %d %s", code, b)
	}
	got := decode[map[string]any](t, b)
	if got["status"] != task.StatusFailed || !strings.Contains(string(b), "***") {
		t.Fatalf("dry run did not log masked secrets and fail: %s", b)
	}
	for _, k := range []string{"log", "error", "output", "steps"} {
		part, _ := json.Marshal(got[k])
		assertNoAPISecret(t, "dry-run "+k, part)
	}
	assertNoAPISecret(t, "dry-run answer", b)
}

// Rule c: request errors do not echo the secrets of the request (invalid
// values, an unknown template, malformed secrets).
func TestSecuritySecretsNotInRequestErrors(t *testing.T) {
	e := newSecretEnv(t)
	for _, body := range []map[string]any{
		{"templateRef": "template:default/demo", "values": map[string]any{"name": "NOT valid"}, "secrets": apiSecrets},
		{"templateRef": "template:default/missing", "values": map[string]any{}, "secrets": apiSecrets},
		{"templateRef": "", "secrets": apiSecrets},
		{"templateRef": "template:default/demo", "secrets": map[string]any{"token": apiSecrets["token"], "n": 1}},
	} {
		code, b := e.do(t, "POST", "/v2/tasks", body)
		if code < 400 {
			t.Errorf("%v: %d %s", body["templateRef"], code, b)
		}
		assertNoAPISecret(t, "create error", b)
	}
	code, b := e.do(t, "POST", "/v2/dry-run", map[string]any{"template": map[string]any{"kind": "Component"}, "secrets": apiSecrets})
	if code != 400 {
		t.Errorf("dry-run bad template: %d %s", code, b)
	}
	assertNoAPISecret(t, "dry-run error", b)
}
