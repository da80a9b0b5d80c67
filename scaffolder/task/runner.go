package task

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// Runner executes tasks.
//
// Workspace: each run gets one fresh directory under WorkDir shared by all
// its steps (so fetch:template's files are there for later steps, as in
// Backstage); it is removed when the run ends, whatever the outcome.
//
// Retry re-opens the same task (Backstage's POST /v2/tasks/{id}/retry
// answers with the task's own id): its steps and output are reset, a
// "recovered" event is appended and the run starts over from the first
// step. Secrets are never stored, so they must be given again to Retry.
type Runner struct {
	Store   Store
	Actions *action.Registry
	// WorkDir is where workspaces are made (os.TempDir() when empty).
	WorkDir string
	// TemplateDir returns the directory holding the template's files (for
	// fetch:* relative URLs); nil or "" means none.
	TemplateDir func(*template.Template) string
	// TemplateRoot returns how far up fetch URLs may reach with ../ (the
	// template's repository); nil or "": the template directory.
	TemplateRoot func(*template.Template) string
	// TemplateURL returns the URL of the template's descriptor when it came
	// from a url location (relative fetch URLs resolve against it when
	// there is no TemplateDir); nil or "": none.
	TemplateURL func(*template.Template) string
	// Integrations maps git hosts to their integration type (github,
	// gitlab, …) for parseRepoUrl and projectSlug, beyond the public hosts
	// Backstage knows.
	Integrations map[string]string
	// HeartbeatInterval is how often a processing task's heartbeat is
	// saved (default 30s).
	HeartbeatInterval time.Duration
	// DryRun runs tasks as Backstage's dry runs: actions see
	// Context.DryRun, and an action that does not support dry runs is
	// skipped, its output an example built from its output schema.
	DryRun bool

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	wg      sync.WaitGroup
}

// errCancelled is the cause given to a run's context by Cancel.
var errCancelled = errors.New("task cancelled")

// Start creates a task for spec and runs it in a goroutine; it returns the
// task's ID. The run is detached from ctx's cancellation (ctx is usually a
// request's); use Cancel to stop it.
func (r *Runner) Start(ctx context.Context, spec Spec) (string, error) {
	if spec.Template == nil {
		return "", errors.New("task: spec has no template")
	}
	t := &Task{ID: newID(), Spec: spec, Status: StatusOpen, Steps: initialSteps(spec.Template)}
	rctx, cancel, _ := r.reserve(ctx, t.ID)
	if err := r.Store.Create(ctx, t); err != nil {
		r.release(t.ID, cancel)
		return "", err
	}
	r.launch(rctx, cancel, t)
	return t.ID, nil
}

// reserve registers a run's cancel function before its task is stored or
// re-opened, so that Cancel reaches the run from the first moment and two
// retries cannot both start it. ok is false when the task already runs.
// The run's context is detached from ctx's cancellation.
func (r *Runner) reserve(ctx context.Context, id string) (context.Context, context.CancelCauseFunc, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[string]context.CancelCauseFunc{}
	}
	if r.running[id] != nil {
		return nil, nil, false
	}
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	r.running[id] = cancel
	return rctx, cancel, true
}

func (r *Runner) release(id string, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	delete(r.running, id)
	r.mu.Unlock()
	cancel(nil)
}

// launch runs a reserved task in a goroutine.
func (r *Runner) launch(rctx context.Context, cancel context.CancelCauseFunc, t *Task) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.release(t.ID, cancel)
		r.Run(rctx, t)
	}()
}

// Wait waits for every run started by Start or Retry to end.
func (r *Runner) Wait() { r.wg.Wait() }

// Cancel stops a running task: its status becomes cancelled, with a
// "cancelled" event and then a "completion" event. An open task that is not
// running is cancelled at once. It returns "cancelled", or the final status
// the task already had (which is left unchanged).
func (r *Runner) Cancel(ctx context.Context, id string) (string, error) {
	r.mu.Lock()
	cancel := r.running[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel(errCancelled)
		return StatusCancelled, nil
	}
	t, err := r.Store.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if t.Status != StatusOpen && t.Status != StatusProcessing {
		return t.Status, nil
	}
	// Open (or processing in another process): mark it here.
	t.Status = StatusCancelled
	if err := r.Store.Update(ctx, t); err != nil {
		return "", err
	}
	r.event(ctx, t.ID, EventCancelled, map[string]any{"message": "The task was cancelled", "status": StatusCancelled})
	r.event(ctx, t.ID, EventCompletion, map[string]any{"message": "Run completed with status: cancelled", "status": StatusCancelled})
	return StatusCancelled, nil
}

// Retry re-opens a failed or cancelled task and runs it again from the
// first step with the given secrets (the first run's are not kept).
func (r *Runner) Retry(ctx context.Context, id string, secrets map[string]string) (string, error) {
	rctx, cancel, ok := r.reserve(ctx, id)
	if !ok {
		return "", fmt.Errorf("task %s is still running", id)
	}
	launched := false
	defer func() {
		if !launched {
			r.release(id, cancel)
		}
	}()
	t, err := r.Store.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if t.Status != StatusFailed && t.Status != StatusCancelled {
		return "", fmt.Errorf("task %s is %s; only failed or cancelled tasks can be retried", id, t.Status)
	}
	if t.Spec.Template == nil {
		return "", fmt.Errorf("task %s has no template", id)
	}
	t.Spec.Secrets = secrets
	t.Status = StatusOpen
	t.Error = ""
	t.Output = nil
	t.Steps = initialSteps(t.Spec.Template)
	if err := r.Store.Update(ctx, t); err != nil {
		return "", err
	}
	r.event(ctx, t.ID, EventRecovered, map[string]any{"message": "Retrying the task from the first step", "recoverStrategy": "startOver"})
	launched = true
	r.launch(rctx, cancel, t)
	return t.ID, nil
}

func initialSteps(tp *template.Template) []StepState {
	out := make([]StepState, len(tp.Steps))
	for i, s := range tp.Steps {
		out[i] = StepState{ID: s.ID, Name: s.Name, Action: s.Action, Status: StatusOpen}
	}
	return out
}

// run is the state of one execution.
type run struct {
	r       *Runner
	t       *Task
	ctx     context.Context
	secrets map[string]string
	steps   map[string]any // id -> {output: {...}}
	mu      sync.Mutex     // guards t for the heartbeat
	troot   string         // the template's root (Runner.TemplateRoot)
	turl    string         // the template's descriptor URL (Runner.TemplateURL)
}

// mask replaces secret values in s with "***" (longest first). It uses
// action.MaskSecrets so that JSON-escaped and quoted forms of a secret
// (e.g. the "Running step each" line, which JSON-encodes the item, or an
// error that quotes its input) are masked too, not only the raw value.
func (x *run) mask(s string) string {
	return action.MaskSecrets(s, x.secrets)
}

// maskTree masks every string of a JSON-like tree.
func (x *run) maskTree(v any) any {
	switch v := v.(type) {
	case string:
		return x.mask(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = x.maskTree(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = x.maskTree(e)
		}
		return out
	case *expr.Object:
		out := make(map[string]any, v.Len())
		for _, k := range v.Keys() {
			e, _ := v.Get(k)
			if expr.IsUndefined(e) {
				continue
			}
			out[k] = x.maskTree(e)
		}
		return out
	}
	if expr.IsUndefined(v) {
		return nil
	}
	return v
}

func (r *Runner) event(ctx context.Context, id, typ string, body map[string]any) {
	// Events are written even when the run's context is cancelled.
	_ = r.Store.AppendEvent(context.WithoutCancel(ctx), &Event{TaskID: id, Type: typ, Body: body})
}

func (x *run) log(stepID, status, msg string) {
	body := map[string]any{"message": x.mask(msg)}
	if stepID != "" {
		body["stepId"] = stepID
	}
	if status != "" {
		body["status"] = status
	}
	x.r.event(x.ctx, x.t.ID, EventLog, body)
}

func (x *run) save() {
	x.mu.Lock()
	defer x.mu.Unlock()
	_ = x.r.Store.Update(context.WithoutCancel(x.ctx), x.t)
}

func (x *run) context(each any) map[string]any {
	secrets := map[string]any{}
	for k, v := range x.secrets {
		secrets[k] = v
	}
	user := map[string]any{"ref": x.t.Spec.User.Ref}
	if x.t.Spec.User.Entity != nil {
		user["entity"] = x.t.Spec.User.Entity
	}
	params := x.t.Spec.Parameters
	if params == nil {
		params = map[string]any{}
	}
	c := map[string]any{"parameters": params, "steps": x.steps, "user": user, "secrets": secrets}
	if each != nil {
		c["each"] = each
	}
	return c
}

// opts are the expression options of the run's steps and output. Like
// Backstage's workflow runner, a string that fails to render is kept as
// written (and the log says so): templates written for Backstage rely on
// it, e.g. an optional value piped through parseRepoUrl.
func (x *run) opts(stepID string) expr.Options {
	return expr.Options{
		StepStatus: true, Integrations: x.r.Integrations, KeepOnError: true,
		OnKeep: func(tmpl string, err error) {
			x.log(stepID, "", fmt.Sprintf("Could not render %q (%v); kept as written, as Backstage does", truncateText(tmpl, 200), err))
		},
	}
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// truthy is JavaScript truthiness as the step `if` uses it.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	case int:
		return v != 0
	case []any:
		return len(v) > 0 // Backstage also treats [] as false
	}
	return !expr.IsUndefined(v)
}

func (x *run) renderIf(stepID string, cond any, ctx map[string]any) (bool, error) {
	if cond == nil {
		return true, nil
	}
	if s, ok := cond.(string); ok {
		v, err := x.opts(stepID).RenderTree(s, ctx)
		if err != nil {
			return false, err
		}
		return truthy(v), nil
	}
	return truthy(cond), nil
}

// Run executes t in the calling goroutine: t.Spec must hold its template
// (and its secrets, which only live in memory). ctx's cancellation with
// Cancel's cause ends the task as cancelled; any other cancellation fails it.
func (r *Runner) Run(ctx context.Context, t *Task) {
	x := &run{r: r, t: t, ctx: ctx, secrets: t.Spec.Secrets, steps: map[string]any{}}
	tp := t.Spec.Template
	if len(t.Steps) != len(tp.Steps) {
		t.Steps = initialSteps(tp)
	}
	now := time.Now().UTC()
	t.Status = StatusProcessing
	t.LastHeartbeat = &now
	x.save()

	hbDone := make(chan struct{})
	go x.heartbeat(hbDone)
	err := x.execute()
	close(hbDone)

	x.mu.Lock()
	switch {
	case err == nil:
		t.Status = StatusCompleted
	case context.Cause(ctx) == errCancelled:
		t.Status = StatusCancelled
		t.Error = "The task was cancelled"
	default:
		t.Status = StatusFailed
		t.Error = x.mask(err.Error())
	}
	for i := range t.Steps {
		if t.Steps[i].Status == StatusOpen || t.Steps[i].Status == StatusProcessing {
			if t.Status == StatusCancelled {
				t.Steps[i].Status = StatusCancelled
			} else if t.Steps[i].Status == StatusProcessing {
				t.Steps[i].Status = StatusFailed
			}
		}
	}
	x.mu.Unlock()
	if t.Status == StatusCompleted {
		out, oerr := x.output()
		if oerr != nil {
			t.Status = StatusFailed
			t.Error = x.mask("output: " + oerr.Error())
		} else {
			t.Output = out
		}
	}
	x.save()
	body := map[string]any{"message": "Run completed with status: " + t.Status, "status": t.Status}
	switch t.Status {
	case StatusCompleted:
		body["output"] = x.maskTree(outputMap(t.Output))
	case StatusCancelled:
		r.event(ctx, t.ID, EventCancelled, map[string]any{"message": "The task was cancelled", "status": StatusCancelled})
	default:
		body["error"] = map[string]any{"name": "Error", "message": t.Error}
	}
	r.event(ctx, t.ID, EventCompletion, body)
}

func outputMap(o *Output) map[string]any {
	m := map[string]any{}
	if o == nil {
		return m
	}
	for k, v := range o.Extra {
		m[k] = v
	}
	links := []any{}
	for _, l := range o.Links {
		e := map[string]any{}
		for k, v := range map[string]string{"title": l.Title, "url": l.URL, "entityRef": l.EntityRef, "icon": l.Icon} {
			if v != "" {
				e[k] = v
			}
		}
		links = append(links, e)
	}
	texts := []any{}
	for _, tx := range o.Text {
		e := map[string]any{}
		for k, v := range map[string]string{"title": tx.Title, "content": tx.Content, "icon": tx.Icon} {
			if v != "" {
				e[k] = v
			}
		}
		if tx.Default {
			e["default"] = true
		}
		texts = append(texts, e)
	}
	if len(links) > 0 {
		m["links"] = links
	}
	if len(texts) > 0 {
		m["text"] = texts
	}
	return m
}

func (x *run) heartbeat(done chan struct{}) {
	iv := x.r.HeartbeatInterval
	if iv <= 0 {
		iv = 30 * time.Second
	}
	tk := time.NewTicker(iv)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
			now := time.Now().UTC()
			x.mu.Lock()
			x.t.LastHeartbeat = &now
			x.mu.Unlock()
			_ = x.r.Store.Heartbeat(context.WithoutCancel(x.ctx), x.t.ID)
		}
	}
}

func (x *run) setStep(i int, status string) {
	x.mu.Lock()
	now := time.Now().UTC()
	st := &x.t.Steps[i]
	st.Status = status
	switch status {
	case StatusProcessing:
		st.StartedAt = &now
	default:
		st.EndedAt = &now
	}
	x.mu.Unlock()
	x.save()
}

func (x *run) execute() error {
	base := x.r.WorkDir
	if base == "" {
		base = os.TempDir()
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	ws, err := os.MkdirTemp(base, "task-"+x.t.ID+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	tdir := ""
	if x.r.TemplateDir != nil {
		tdir = x.r.TemplateDir(x.t.Spec.Template)
	}
	if x.r.TemplateRoot != nil && tdir != "" {
		x.troot = x.r.TemplateRoot(x.t.Spec.Template)
	}
	if x.r.TemplateURL != nil && tdir == "" {
		x.turl = x.r.TemplateURL(x.t.Spec.Template)
	}
	for i, s := range x.t.Spec.Template.Steps {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if err := x.step(i, s, ws, tdir); err != nil {
			return err
		}
	}
	return nil
}

func (x *run) step(i int, s template.Step, ws, tdir string) (err error) {
	ok, err := x.renderIf(s.ID, s.If, x.context(nil))
	if err != nil {
		x.setStep(i, StatusFailed)
		x.log(s.ID, StatusFailed, fmt.Sprintf("Failed to render the if of step %s: %v", s.Name, err))
		return fmt.Errorf("step %s: if: %w", s.ID, err)
	}
	if !ok {
		x.setStep(i, StatusSkipped)
		x.log(s.ID, StatusSkipped, "Skipping step "+s.ID+" because its if condition was false")
		return nil
	}
	x.setStep(i, StatusProcessing)
	x.log(s.ID, StatusProcessing, "Beginning step "+s.Name)
	defer func() {
		switch {
		case err == nil:
			x.setStep(i, StatusCompleted)
			x.log(s.ID, StatusCompleted, "Finished step "+s.Name)
		case context.Cause(x.ctx) == errCancelled:
			x.setStep(i, StatusCancelled)
			x.log(s.ID, StatusCancelled, "Step "+s.Name+" has been cancelled.")
		default:
			x.setStep(i, StatusFailed)
			x.log(s.ID, StatusFailed, err.Error())
		}
	}()
	act, err := x.r.Actions.Get(s.Action)
	if err != nil {
		return err
	}
	if s.Each == nil {
		out, err := x.invoke(act, s, nil, ws, tdir)
		if err != nil {
			return err
		}
		x.steps[s.ID] = map[string]any{"output": out}
		return nil
	}
	items, err := x.iterations(s.Each)
	if err != nil {
		return fmt.Errorf("step %s: each: %w", s.ID, err)
	}
	// Backstage collects each iteration's outputs into arrays.
	collected := map[string]any{}
	for _, it := range items {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		v, _ := expr.ToJSON(it["value"])
		x.log(s.ID, StatusProcessing, "Running step each: "+fmt.Sprintf("{\"key\":%q,\"value\":%s}", it["key"], v))
		out, err := x.invoke(act, s, it, ws, tdir)
		if err != nil {
			return err
		}
		for k, v := range out {
			arr, _ := collected[k].([]any)
			collected[k] = append(arr, v)
		}
	}
	x.steps[s.ID] = map[string]any{"output": collected}
	return nil
}

func (x *run) iterations(each any) ([]map[string]any, error) {
	v := each
	if s, ok := each.(string); ok {
		r, err := x.opts("").RenderValue(s, x.context(nil))
		if err != nil {
			return nil, err
		}
		v = r
	}
	var out []map[string]any
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			out = append(out, map[string]any{"key": strconv.Itoa(i), "value": e})
		}
	case *expr.Object:
		for _, k := range v.Keys() {
			e, _ := v.Get(k)
			out = append(out, map[string]any{"key": k, "value": e})
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, map[string]any{"key": k, "value": v[k]})
		}
	default:
		return nil, fmt.Errorf("must be an array or an object, got %s", jsType(v))
	}
	return out, nil
}

func (x *run) invoke(act action.Action, s template.Step, each map[string]any, ws, tdir string) (map[string]any, error) {
	var input map[string]any
	if s.Input != nil {
		in, err := x.opts(s.ID).RenderTree(s.Input, x.context(each))
		if err != nil {
			return nil, fmt.Errorf("step %s: input: %w", s.ID, err)
		}
		input = toMap(in)
	}
	if x.r.DryRun && !action.SupportsDryRun(act) {
		// As Backstage's NunjucksWorkflowRunner: skipped, and later steps
		// read the example outputs its output schema describes.
		x.log(s.ID, "", "Skipping because "+act.ID()+" does not support dry-run")
		_, outSchema := act.Schema()
		ex, _ := action.ExampleOutput(outSchema).(map[string]any)
		if ex == nil {
			ex = map[string]any{}
		}
		return ex, nil
	}
	out := map[string]any{}
	var omu sync.Mutex
	c := &action.Context{
		DryRun: x.r.DryRun,
		Ctx:    x.ctx, Workspace: ws, TemplateDir: tdir, TemplateRoot: x.troot, TemplateURL: x.turl, Input: input, Secrets: x.secrets, Integrations: x.r.Integrations,
		Log: func(format string, args ...any) {
			x.log(s.ID, "", fmt.Sprintf(format, args...))
		},
		Output: func(name string, v any) {
			omu.Lock()
			out[name] = v
			omu.Unlock()
		},
	}
	if err := action.Run(act, c); err != nil {
		if cause := context.Cause(x.ctx); cause != nil && errors.Is(err, context.Canceled) {
			return nil, cause
		}
		return nil, err
	}
	return out, nil
}

func toMap(v any) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return v
	case *expr.Object:
		m := make(map[string]any, v.Len())
		for _, k := range v.Keys() {
			e, _ := v.Get(k)
			m[k] = e
		}
		return m
	}
	return map[string]any{}
}

func (x *run) str(tmpl string, ctx map[string]any) (string, error) {
	if tmpl == "" {
		return "", nil
	}
	v, err := x.opts("").RenderTree(tmpl, ctx)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return x.mask(v), nil
	case nil:
		return "", nil
	}
	if expr.IsUndefined(v) {
		return "", nil
	}
	s, _ := expr.ToJSON(v)
	return x.mask(s), nil
}

// output renders spec.output with the final context; entries whose `if` is
// falsy are dropped.
func (x *run) output() (*Output, error) {
	ctx := x.context(nil)
	o := x.t.Spec.Template.Output
	out := &Output{}
	for _, l := range o.Links {
		ok, err := x.renderIf("", l.If, ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var ol Link
		for _, f := range []struct {
			dst *string
			src string
		}{{&ol.Title, l.Title}, {&ol.URL, l.URL}, {&ol.EntityRef, l.EntityRef}, {&ol.Icon, l.Icon}} {
			if *f.dst, err = x.str(f.src, ctx); err != nil {
				return nil, err
			}
		}
		out.Links = append(out.Links, ol)
	}
	for _, tx := range o.Text {
		ok, err := x.renderIf("", tx.If, ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ot := Text{Default: tx.Default}
		for _, f := range []struct {
			dst *string
			src string
		}{{&ot.Title, tx.Title}, {&ot.Content, tx.Content}, {&ot.Icon, tx.Icon}} {
			if *f.dst, err = x.str(f.src, ctx); err != nil {
				return nil, err
			}
		}
		out.Text = append(out.Text, ot)
	}
	if len(o.Extra) > 0 {
		v, err := x.opts("").RenderTree(o.Extra, ctx)
		if err != nil {
			return nil, err
		}
		if m, ok := x.maskTree(v).(map[string]any); ok {
			out.Extra = m
		}
	}
	return out, nil
}

// newID returns a random (version 4) UUID. github.com/google/uuid is not a
// dependency of the module, so it is made here.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// jsType names a value's type the way a template author knows it.
func jsType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int:
		return "a number"
	case bool:
		return "a boolean"
	}
	if expr.IsUndefined(v) {
		return "undefined"
	}
	return fmt.Sprintf("%T", v)
}
