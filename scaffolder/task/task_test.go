package task

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

const secretValue = "s3cr3t-T0KEN-value-42"

func newStore(t *testing.T) (*SQLiteStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tasks.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func parse(t *testing.T, steps, output string) *template.Template {
	t.Helper()
	src := `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: demo
spec:
  type: service
  owner: team-a
  parameters:
    - properties:
        name: {type: string}
  steps:
` + steps
	if output != "" {
		src += "  output:\n" + output
	}
	tp, err := template.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func newRunner(t *testing.T, s Store) *Runner {
	t.Helper()
	tdir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tdir, "skeleton"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "skeleton", "README.md"), []byte("# ${{ values.name }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Runner{
		Store:       s,
		Actions:     action.NewRegistry(action.Builtins(action.BuiltinOptions{})...),
		WorkDir:     filepath.Join(t.TempDir(), "work"),
		TemplateDir: func(*template.Template) string { return tdir },
	}
}

func runSync(t *testing.T, r *Runner, spec Spec) *Task {
	t.Helper()
	id, err := r.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	r.Wait()
	tk, err := r.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func events(t *testing.T, s Store, id string) []Event {
	t.Helper()
	ev, err := s.Events(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func messages(ev []Event) []string {
	var out []string
	for _, e := range ev {
		m, _ := e.Body["message"].(string)
		out = append(out, e.Type+": "+m)
	}
	return out
}

func TestRunCompleted(t *testing.T) {
	s, path := newStore(t)
	r := newRunner(t, s)
	tp := parse(t, `    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: log
      name: Log
      action: debug:log
      input:
        message: 'Hello ${{ parameters.name }} from ${{ user.ref }} token ${{ secrets.token }}'
        listWorkspace: with-contents
`, `    links:
      - title: Repo ${{ parameters.name }}
        url: https://example.test/${{ parameters.name }}
      - title: hidden
        url: x
        if: ${{ parameters.name == 'nope' }}
    text:
      - title: Done
        content: 'Secret is ${{ secrets.token }}'
`)
	spec := Spec{Template: tp, Parameters: map[string]any{"name": "demo-svc"},
		User: User{Ref: "user:default/alice"}, Secrets: map[string]string{"token": secretValue}}
	tk := runSync(t, r, spec)
	if tk.Status != StatusCompleted {
		t.Fatalf("status %s, error %q, events %q", tk.Status, tk.Error, messages(events(t, s, tk.ID)))
	}
	if tk.CreatedBy != "user:default/alice" || tk.LastHeartbeat == nil {
		t.Errorf("createdBy %q heartbeat %v", tk.CreatedBy, tk.LastHeartbeat)
	}
	for _, st := range tk.Steps {
		if st.Status != StatusCompleted || st.StartedAt == nil || st.EndedAt == nil {
			t.Errorf("step %+v", st)
		}
	}
	if tk.Output == nil || len(tk.Output.Links) != 1 || tk.Output.Links[0].Title != "Repo demo-svc" ||
		tk.Output.Links[0].URL != "https://example.test/demo-svc" {
		t.Fatalf("output %+v", tk.Output)
	}
	if len(tk.Output.Text) != 1 || tk.Output.Text[0].Content != "Secret is ***" {
		t.Errorf("text %+v", tk.Output.Text)
	}
	ev := events(t, s, tk.ID)
	got := strings.Join(messages(ev), "\n")
	want := []string{
		"log: Beginning step Fetch skeleton",
		"log: Finished step Fetch skeleton",
		"log: Beginning step Log",
		"log: Hello demo-svc from user:default/alice token ***",
		"log: Workspace:\nREADME.md:\n# demo-svc\n",
		"log: Finished step Log",
		"completion: Run completed with status: completed",
	}
	pos := 0
	for _, w := range want {
		i := strings.Index(got[pos:], w)
		if i < 0 {
			t.Fatalf("missing (in order) %q in\n%s", w, got)
		}
		pos += i + len(w)
	}
	last := ev[len(ev)-1]
	if last.Type != EventCompletion || last.Body["output"] == nil {
		t.Errorf("last event %+v", last)
	}
	for i := 1; i < len(ev); i++ {
		if ev[i].ID <= ev[i-1].ID {
			t.Errorf("event ids not increasing")
		}
	}
	// Events(after) returns only later events.
	if after := events2(t, s, tk.ID, ev[len(ev)-2].ID); len(after) != 1 || after[0].ID != last.ID {
		t.Errorf("after: %+v", after)
	}
	// Workspace removed.
	if ents, _ := os.ReadDir(r.WorkDir); len(ents) != 0 {
		t.Errorf("workspace left: %v", ents)
	}
	// Stored spec round-trips without secrets.
	if tk.Spec.Template == nil || len(tk.Spec.Template.Steps) != 2 || tk.Spec.Secrets != nil {
		t.Errorf("spec %+v", tk.Spec)
	}
	assertNoSecret(t, s, path)
}

func events2(t *testing.T, s Store, id string, after int64) []Event {
	ev, err := s.Events(context.Background(), id, after)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// assertNoSecret checks the database files' bytes for the secret value.
func assertNoSecret(t *testing.T, s *SQLiteStore, path string) {
	t.Helper()
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte(secretValue)) {
			t.Errorf("%s holds the secret", filepath.Base(p))
		}
	}
	tasks, _, err := s.List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		for _, e := range events(t, s, tk.ID) {
			if strings.Contains(string(mustJSON(t, e)), secretValue) {
				t.Errorf("event holds the secret: %+v", e)
			}
		}
		if strings.Contains(string(mustJSON(t, tk)), secretValue) {
			t.Errorf("task holds the secret")
		}
	}
}

func TestIfSkipsAndEach(t *testing.T) {
	s, _ := newStore(t)
	r := newRunner(t, s)
	tp := parse(t, `    - id: skipped
      name: Skipped
      action: debug:log
      if: ${{ parameters.name == 'other' }}
      input: {message: never}
    - id: falsy
      action: debug:log
      if: false
      input: {message: never}
    - id: loop
      name: Loop
      action: debug:log
      each: ${{ parameters.items }}
      input:
        message: 'item ${{ each.key }}=${{ each.value }}'
    - id: obj
      action: debug:log
      each: {a: 1, b: 2}
      input:
        message: 'obj ${{ each.key }}=${{ each.value }}'
`, "")
	tk := runSync(t, r, Spec{Template: tp, Parameters: map[string]any{"name": "x", "items": []any{"red", "blue"}}})
	if tk.Status != StatusCompleted {
		t.Fatalf("status %s %q", tk.Status, tk.Error)
	}
	if tk.Steps[0].Status != StatusSkipped || tk.Steps[1].Status != StatusSkipped || tk.Steps[2].Status != StatusCompleted {
		t.Errorf("steps %+v", tk.Steps)
	}
	got := strings.Join(messages(events(t, s, tk.ID)), "\n")
	if strings.Contains(got, "never") {
		t.Errorf("skipped step ran:\n%s", got)
	}
	for _, w := range []string{"item 0=red", "item 1=blue", "obj a=1", "obj b=2", "Skipping step skipped"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
	if strings.Index(got, "item 0=red") > strings.Index(got, "item 1=blue") {
		t.Errorf("each order")
	}
}

func TestEachOutputsAndStepContext(t *testing.T) {
	s, _ := newStore(t)
	r := newRunner(t, s)
	r.Actions.Register(outAction{})
	tp := parse(t, `    - id: gen
      action: test:out
      each: ['a', 'b']
      input: {v: '${{ each.value }}'}
    - id: one
      action: test:out
      input: {v: 'single'}
    - id: use
      action: debug:log
      input:
        message: '${{ steps.gen.output.v | join(",") }} ${{ steps.one.output.v }}'
`, "")
	tk := runSync(t, r, Spec{Template: tp})
	got := strings.Join(messages(events(t, s, tk.ID)), "\n")
	if tk.Status != StatusCompleted || !strings.Contains(got, "log: a,b single") {
		t.Fatalf("status %s %q\n%s", tk.Status, tk.Error, got)
	}
}

type outAction struct{}

func (outAction) ID() string                               { return "test:out" }
func (outAction) Description() string                      { return "" }
func (outAction) Schema() (map[string]any, map[string]any) { return nil, nil }
func (outAction) Run(c *action.Context) error              { c.Output("v", c.Input["v"]); return nil }

func TestUnknownActionFails(t *testing.T) {
	s, _ := newStore(t)
	r := newRunner(t, s)
	tp := parse(t, `    - id: bad
      action: does:not-exist
    - id: after
      action: debug:log
      input: {message: after}
`, "")
	tk := runSync(t, r, Spec{Template: tp})
	if tk.Status != StatusFailed || !strings.Contains(tk.Error, "does:not-exist") || !strings.Contains(tk.Error, "debug:log") {
		t.Fatalf("status %s error %q", tk.Status, tk.Error)
	}
	if tk.Steps[0].Status != StatusFailed || tk.Steps[1].Status != StatusOpen {
		t.Errorf("steps %+v", tk.Steps)
	}
	ev := events(t, s, tk.ID)
	last := ev[len(ev)-1]
	if last.Type != EventCompletion || last.Body["status"] != StatusFailed {
		t.Errorf("last %+v", last)
	}
}

func TestCancelAndRetry(t *testing.T) {
	s, path := newStore(t)
	r := newRunner(t, s)
	tp := parse(t, `    - id: wait
      name: Wait
      action: debug:wait
      input: {seconds: '${{ parameters.wait }}'}
    - id: after
      action: debug:log
      input: {message: 'after ${{ secrets.token }}'}
`, "")
	ctx := context.Background()
	id, err := r.Start(ctx, Spec{Template: tp, Parameters: map[string]any{"wait": 30}, Secrets: map[string]string{"token": secretValue}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev := events(t, s, id)
		if strings.Contains(strings.Join(messages(ev), "\n"), "Waiting") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never waited: %q", messages(ev))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st, err := r.Cancel(ctx, id); err != nil || st != StatusCancelled {
		t.Fatal(st, err)
	}
	r.Wait()
	tk, _ := s.Get(ctx, id)
	if tk.Status != StatusCancelled || tk.Steps[0].Status != StatusCancelled || tk.Steps[1].Status != StatusCancelled {
		t.Fatalf("task %+v", tk)
	}
	ev := events(t, s, id)
	n := len(ev)
	if ev[n-2].Type != EventCancelled || ev[n-1].Type != EventCompletion || ev[n-1].Body["status"] != StatusCancelled {
		t.Errorf("events %q", messages(ev))
	}
	// Retrying a running/completed task is refused; a cancelled one re-opens.
	if _, err := r.Retry(ctx, "nope", nil); err == nil {
		t.Error("retry of unknown task")
	}
	// Retry on a task whose first run failed for want of a secret.
	tp2 := parse(t, `    - id: log
      action: debug:log
      input: {message: 'token ${{ secrets.token }}'}
    - id: fail
      action: fs:read
      if: ${{ not secrets.token }}
      input: {path: no-such-file}
`, "")
	id2 := runSync(t, r, Spec{Template: tp2}).ID
	tk2, _ := s.Get(ctx, id2)
	if tk2.Status != StatusFailed {
		t.Fatalf("first run: %s %q", tk2.Status, tk2.Error)
	}
	if _, err := r.Retry(ctx, id2, map[string]string{"token": secretValue}); err != nil {
		t.Fatal(err)
	}
	r.Wait()
	tk2, _ = s.Get(ctx, id2)
	if tk2.Status != StatusCompleted {
		t.Fatalf("retry: %s %q", tk2.Status, tk2.Error)
	}
	got := messages(events(t, s, id2))
	if !strings.Contains(strings.Join(got, "\n"), "recovered: Retrying") || !strings.Contains(strings.Join(got, "\n"), "log: token ***") {
		t.Errorf("events %q", got)
	}
	if _, err := r.Retry(ctx, id2, nil); err == nil {
		t.Error("retry of a completed task")
	}
	assertNoSecret(t, s, path)
}

func TestCancelOpenTask(t *testing.T) {
	s, _ := newStore(t)
	r := newRunner(t, s)
	ctx := context.Background()
	tk := &Task{ID: "t-open", Spec: Spec{Template: parse(t, "    - action: debug:log\n", "")}}
	if err := s.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if st, err := r.Cancel(ctx, "t-open"); err != nil || st != StatusCancelled {
		t.Fatal(st, err)
	}
	got, _ := s.Get(ctx, "t-open")
	if got.Status != StatusCancelled {
		t.Errorf("status %s", got.Status)
	}
	if _, err := r.Cancel(ctx, "missing"); err != ErrNotFound {
		t.Errorf("missing: %v", err)
	}
}

func TestStoreListAndRecover(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	tp := parse(t, "    - action: debug:log\n", "")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range []struct{ id, status, user string }{
		{"a", StatusCompleted, "user:default/alice"},
		{"b", StatusProcessing, "user:default/bob"},
		{"c", StatusProcessing, "user:default/alice"},
		{"d", StatusOpen, "user:default/alice"},
	} {
		tk := &Task{ID: c.id, Status: c.status, CreatedAt: base.Add(time.Duration(i) * time.Minute),
			Spec: Spec{Template: tp, User: User{Ref: c.user}, Secrets: map[string]string{"x": secretValue}}}
		if err := s.Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(o ListOptions) string {
		l, total, err := s.List(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tk := range l {
			out = append(out, tk.ID)
		}
		return strings.Join(out, ",") + "/" + string(rune('0'+total))
	}
	for _, c := range []struct {
		o    ListOptions
		want string
	}{
		{ListOptions{}, "d,c,b,a/4"},
		{ListOptions{CreatedBy: []string{"user:default/alice"}}, "d,c,a/3"},
		{ListOptions{Status: []string{StatusProcessing}}, "c,b/2"},
		{ListOptions{Status: []string{StatusProcessing, StatusOpen}, CreatedBy: []string{"user:default/alice"}}, "d,c/2"},
		{ListOptions{Limit: 2, Offset: 1}, "c,b/4"},
	} {
		if got := ids(c.o); got != c.want {
			t.Errorf("%+v: got %s want %s", c.o, got, c.want)
		}
	}
	if err := s.SetStatus(ctx, "d", StatusCancelled); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, "zz", StatusCancelled); err != ErrNotFound {
		t.Errorf("SetStatus missing: %v", err)
	}
	if _, err := s.Get(ctx, "zz"); err != ErrNotFound {
		t.Errorf("Get missing: %v", err)
	}

	// A new process: reopen the file and recover.
	s.Close()
	s2, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rec, err := s2.RecoverInterrupted(ctx)
	if err != nil || strings.Join(rec, ",") != "b,c" {
		t.Fatalf("recovered %v %v", rec, err)
	}
	for _, id := range []string{"b", "c"} {
		tk, _ := s2.Get(ctx, id)
		if tk.Status != StatusFailed || tk.Error != RecoverInterruptedMessage {
			t.Errorf("%s: %s %q", id, tk.Status, tk.Error)
		}
		ev := events(t, s2, id)
		if len(ev) != 1 || ev[0].Type != EventCompletion || ev[0].Body["message"] != RecoverInterruptedMessage {
			t.Errorf("%s events %+v", id, ev)
		}
	}
	if tk, _ := s2.Get(ctx, "a"); tk.Status != StatusCompleted {
		t.Errorf("a touched: %s", tk.Status)
	}
	if rec, _ := s2.RecoverInterrupted(ctx); len(rec) != 0 {
		t.Errorf("second recover %v", rec)
	}
	assertNoSecret(t, s2, path)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A string that fails to render is kept as written, as Backstage's
// runner does, and the log says so; configured integrations reach
// parseRepoUrl.
func TestRenderFailureKeepsStringAndIntegrations(t *testing.T) {
	s, _ := newStore(t)
	r := newRunner(t, s)
	r.Integrations = map[string]string{"git.example.com": "github"}
	tp := parse(t, `    - id: a
      action: debug:log
      input: {message: 'slug ${{ parameters.repoUrl | projectSlug }}'}
    - id: b
      action: debug:log
      input: {message: '${{ parameters.missing | parseRepoUrl }}'}
`, "")
	tk := runSync(t, r, Spec{Template: tp, Parameters: map[string]any{"repoUrl": "git.example.com?owner=o&repo=r"}})
	if tk.Status != StatusCompleted {
		t.Fatalf("status %s %q", tk.Status, tk.Error)
	}
	msgs := strings.Join(messages(events(t, s, tk.ID)), "\n")
	for _, want := range []string{"slug o/r", "kept as written", "${{ parameters.missing | parseRepoUrl }}"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("log lacks %q:\n%s", want, msgs)
		}
	}
}

// Two retries at once start the task once; a cancel right after Start
// reaches the run.
func TestRetryOnceAndEarlyCancel(t *testing.T) {
	s, _ := newStore(t)
	r := newRunner(t, s)
	// The run lasts a second before it fails, so that the retries are at
	// once: a run that failed in microseconds let a late goroutine retry
	// the task again, legitimately, after the first retry had ended.
	tp := parse(t, `    - id: wait
      action: debug:wait
      input: {seconds: 1}
    - id: fail
      action: fs:read
      input: {path: no-such-file}
`, "")
	id := runSync(t, r, Spec{Template: tp}).ID
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Retry(context.Background(), id, nil); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	r.Wait()
	if ok.Load() != 1 {
		t.Errorf("%d concurrent retries started the task", ok.Load())
	}

	slow := parse(t, `    - id: wait
      action: debug:wait
      input: {seconds: 30}
`, "")
	id2, err := r.Start(context.Background(), Spec{Template: slow})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := r.Cancel(context.Background(), id2); err != nil || st != StatusCancelled {
		t.Fatal(st, err)
	}
	r.Wait()
	if tk, _ := s.Get(context.Background(), id2); tk.Status != StatusCancelled {
		t.Errorf("cancelled at once, ended %s", tk.Status)
	}
}
