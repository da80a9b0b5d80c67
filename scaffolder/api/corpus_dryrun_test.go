package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/azure"
	"github.com/greenroom-dev/greenroom/plugins/github"
	"github.com/greenroom-dev/greenroom/plugins/gitlab"
	"github.com/greenroom-dev/greenroom/plugins/roadie"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/form"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// corpusDryRunTimeout bounds one dry-run request of TestCorpusDryRun.
const corpusDryRunTimeout = 60 * time.Second

var corpusKindTemplateRe = regexp.MustCompile(`(?m)^kind:\s*["']?Template["']?\s*$`)

var notRegisteredRe = regexp.MustCompile(`template action with ID "([^"]*)" is not registered`)

// Dry-run outcome classes.
const (
	classCompleted     = "completed"
	classMissingValues = "blocked: missing values (no defaults)"
	classUnknownAction = "blocked: unknown / non-built-in action"
	classMissingFile   = "blocked: missing skeleton/source file"
	classOutsideDir    = "blocked: skeleton outside the template directory (../)"
	classRemoteURL     = "blocked: remote fetch url (not reachable here)"
	classExpression    = "blocked: expression error"
	classOther         = "blocked: other"
)

// dryRunResult is the part of a /v2/dry-run answer the corpus test reads.
type dryRunResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Log    []struct {
		Body map[string]any `json:"body"`
	} `json:"log"`
	Steps []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Action string `json:"action"`
	} `json:"steps"`
	DirectoryContents []dirEntry `json:"directoryContents"`
}

// failedStep returns the index of the step the run failed at (-1: none,
// len(steps): after the steps, i.e. in spec.output).
func (r *dryRunResult) failedStep() int {
	if r.Status == task.StatusCompleted {
		return -1
	}
	for _, l := range r.Log {
		if l.Body["status"] != task.StatusFailed {
			continue
		}
		id, _ := l.Body["stepId"].(string)
		for i, s := range r.Steps {
			if s.ID == id {
				return i
			}
		}
	}
	return len(r.Steps)
}

// TestCorpusDryRun dry-runs every v1beta3 Template under
// $GREENROOM_TEMPLATE_CORPUS through POST /v2/dry-run with the defaults of
// its parameter pages as values and the files beside its descriptor as
// directoryContents, and reports what blocks the runs that do not
// complete. Blocked templates are not failures; a server error, a panic or
// a hang is.
func TestCorpusDryRun(t *testing.T) {
	dir := os.Getenv("GREENROOM_TEMPLATE_CORPUS")
	if dir == "" {
		t.Skip("GREENROOM_TEMPLATE_CORPUS not set")
	}
	// The actions a configured portal has: the built-ins and those of the
	// git-host plugins, with integrations for the public hosts.
	gitActions := corpusPluginActions(t)
	opts := action.BuiltinOptions{Catalog: stubCatalog{}, Reader: corpusGitHub{dir: dir}}
	reg := action.NewRegistry(append(action.Builtins(opts), gitActions...)...)
	user := func(*http.Request) task.User {
		return task.User{Ref: "user:default/guest", Entity: map[string]any{
			"apiVersion": "backstage.io/v1alpha1",
			"kind":       "User",
			"metadata":   map[string]any{"name": "guest", "namespace": "default"},
			"spec": map[string]any{
				"profile":  map[string]any{"displayName": "Guest", "email": "guest@example.com"},
				"memberOf": []any{"group:default/guests"},
			},
		}}
	}
	// The second registry also holds a stub for every action a template
	// uses that is not built in: the stub does nothing, as Backstage skips
	// an action that does not support dry runs.
	stubReg := action.NewRegistry(append(action.Builtins(opts), gitActions...)...)
	h := (&Server{Actions: reg, User: user}).Routes()
	hStub := http.StripPrefix("/stubbed", (&Server{Actions: stubReg, User: user}).Routes())
	var panicMu sync.Mutex
	var panics []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				panicMu.Lock()
				panics = append(panics, fmt.Sprintf("%v\n%s", p, debug.Stack()))
				panicMu.Unlock()
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		if strings.HasPrefix(r.URL.Path, "/stubbed/") {
			hStub.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer func() {
		// A hung handler must not hang the test as well.
		done := make(chan struct{})
		go func() { srv.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}()
	client := &http.Client{Timeout: corpusDryRunTimeout}

	// post runs one dry run; ok is false (and the test failed) on a
	// server error, a panic, a transport error or a timeout.
	post := func(prefix, where string, body map[string]any) (res *dryRunResult, ok bool) {
		b, err := json.Marshal(body)
		if err != nil {
			t.Errorf("%s: marshal: %v", where, err)
			return nil, false
		}
		panicMu.Lock()
		np := len(panics)
		panicMu.Unlock()
		start := time.Now()
		resp, err := client.Post(srv.URL+prefix+"/v2/dry-run", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: dry-run request failed after %s (hang or crash): %v", where, time.Since(start).Round(time.Millisecond), err)
			return nil, false
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		panicMu.Lock()
		newPanics := panics[np:]
		panicMu.Unlock()
		if len(newPanics) > 0 {
			t.Errorf("%s: handler panicked: %s", where, newPanics[0])
			return nil, false
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s: dry-run answered %d: %s", where, resp.StatusCode, rb)
			return nil, false
		}
		if resp.StatusCode != http.StatusOK {
			// A 4xx is a refusal of the request, reported as "other".
			return &dryRunResult{Status: "rejected", Error: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, rb)}, true
		}
		var r dryRunResult
		if err := json.Unmarshal(rb, &r); err != nil {
			t.Errorf("%s: decode answer: %v: %.300s", where, err, rb)
			return nil, false
		}
		return &r, true
	}

	type outcome struct {
		where, class, detail, filled, stubbed string
	}
	var (
		files, docs, notV1beta3, badYAML, parseErrs, parsed int
		withRequiredMissing, filledCompleted                int
		outcomes                                            []outcome
		classCount                                          = map[string]int{}
		actionCount                                         = map[string]int{} // unknown action -> templates
		actionUse                                           = map[string]int{} // non-built-in action -> templates using it
		exprCount                                           = map[string]int{}
		otherCount                                          = map[string]int{}
		missingFileCount                                    = map[string]int{}
		emptyValueSteps                                     = map[string]int{} // action of the step failing on empty values
		filledClassCount                                    = map[string]int{}
		parseErrCount                                       = map[string]int{}
		stubClassCount                                      = map[string]int{}
		stubDetail                                          = map[string]int{}
	)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(path)); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil || !corpusKindTemplateRe.Match(data) {
			return nil
		}
		files++
		rel, _ := filepath.Rel(dir, path)
		results := template.ParseAll(data)
		for _, r := range results {
			where := fmt.Sprintf("%s#%d", filepath.ToSlash(rel), r.Index)
			docs++
			if r.Err != nil {
				msg := corpusFirstLine(r.Err.Error())
				switch {
				case strings.Contains(msg, "apiVersion must be"):
					notV1beta3++
				case strings.HasPrefix(msg, "invalid template: yaml:"):
					badYAML++
				default:
					parseErrs++
					parseErrCount[msg]++
				}
				continue
			}
			parsed++
			tp := r.Template
			values := map[string]any{}
			missing := false
			for _, page := range tp.Parameters {
				values = form.WithDefaults(page, values)
			}
			for _, page := range tp.Parameters {
				for _, msg := range form.Validate(page, values) {
					if strings.Contains(msg, "required") || strings.Contains(msg, "missing") {
						missing = true
					}
				}
			}
			if missing {
				withRequiredMissing++
			}
			// The template's whole repository, with the template where it
			// sits in it: skeletons shared up the repository
			// (url: ../../skeletons/x) load as they do once the
			// repository is registered.
			repoRoot := filepath.Join(dir, strings.SplitN(filepath.ToSlash(rel), "/", 2)[0])
			contents, err := corpusDirContents(repoRoot)
			if err != nil {
				t.Errorf("%s: read template repository: %v", where, err)
				continue
			}
			inRepo, _ := filepath.Rel(repoRoot, path)
			body := map[string]any{
				"template":          corpusEntity(tp),
				"values":            values,
				"secrets":           map[string]string{},
				"directoryContents": contents,
				"templatePath":      filepath.ToSlash(inRepo),
			}
			res, ok := post("", where, body)
			if !ok {
				continue
			}
			class, detail := classifyDryRun(res)
			filledNote, stubNote := "", ""
			filled := corpusFill(tp.Parameters, values)
			unknown := map[string]bool{}
			for _, st := range tp.Steps {
				if _, err := reg.Get(st.Action); err != nil {
					unknown[st.Action] = true
				}
			}
			for id := range unknown {
				actionUse[id]++
				stubReg.Register(skipAction{id})
			}
			if class != classCompleted {
				// Fill in the values that have no default; if the run then
				// gets past the step it failed at, that step failed because
				// of empty values.
				body["values"] = filled
				fres, ok := post("", where+" (filled)", body)
				if !ok {
					continue
				}
				fclass, fdetail := classifyDryRun(fres)
				filledNote = fclass + " " + fdetail
				filledClassCount[fclass]++
				if fclass == classCompleted {
					filledCompleted++
				}
				fi, ffi := res.failedStep(), fres.failedStep()
				if res.Status != "rejected" && (ffi == -1 || ffi > fi || (ffi == fi && fclass != class)) {
					stepDesc := "spec.output"
					if fi < len(res.Steps) {
						stepDesc = res.Steps[fi].ID + " (" + res.Steps[fi].Action + ")"
						emptyValueSteps[res.Steps[fi].Action]++
					} else {
						emptyValueSteps["spec.output"]++
					}
					class, detail = classMissingValues, "step "+stepDesc+": "+detail
				}
				// Then with every non-built-in action skipped, as Backstage
				// skips actions that do not support dry runs.
				sres, ok := post("/stubbed", where+" (filled, stubbed)", body)
				if !ok {
					continue
				}
				sclass, sdetail := classifyDryRun(sres)
				stubClassCount[sclass]++
				stubNote = sclass + " " + sdetail
				if sclass != classCompleted {
					stubDetail[sclass+": "+sdetail]++
				}
			} else {
				filledClassCount[classCompleted]++
				stubClassCount[classCompleted]++
				filledCompleted++
			}
			classCount[class]++
			switch class {
			case classUnknownAction:
				actionCount[detail]++
			case classExpression:
				exprCount[detail]++
			case classMissingFile, classRemoteURL, classOutsideDir:
				missingFileCount[detail]++
			case classOther:
				otherCount[detail]++
			}
			outcomes = append(outcomes, outcome{where, class, detail, filledNote, stubNote})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("files with kind: Template: %d; Template documents: %d; not v1beta3: %d; invalid YAML: %d; parse errors: %d; parsed: %d", files, docs, notV1beta3, badYAML, parseErrs, parsed)
	for _, m := range corpusTop(parseErrCount, 10) {
		t.Logf("  parse error %s", m)
	}
	t.Logf("templates with required parameters lacking defaults: %d", withRequiredMissing)
	t.Logf("dry-run outcome with defaults only (%d dry runs):", len(outcomes))
	classes := []string{classCompleted, classMissingValues, classUnknownAction, classMissingFile, classOutsideDir, classRemoteURL, classExpression, classOther}
	for _, c := range classes {
		t.Logf("  %4d  %s", classCount[c], c)
	}
	t.Logf("blocking unknown actions (first unknown action of a template; templates):")
	for _, m := range corpusTop(actionCount, 20) {
		t.Logf("  %s", m)
	}
	t.Logf("non-built-in action ids (parsed templates using each):")
	for _, m := range corpusTop(actionUse, 30) {
		t.Logf("  %s", m)
	}
	t.Logf("steps failing because of empty values (by action):")
	for _, m := range corpusTop(emptyValueSteps, 15) {
		t.Logf("  %s", m)
	}
	t.Logf("expression errors:")
	for _, m := range corpusTop(exprCount, 20) {
		t.Logf("  %s", m)
	}
	t.Logf("missing files / remote urls:")
	for _, m := range corpusTop(missingFileCount, 20) {
		t.Logf("  %s", m)
	}
	t.Logf("other:")
	for _, m := range corpusTop(otherCount, 20) {
		t.Logf("  %s", m)
	}
	t.Logf("with filler values for the fields lacking defaults: %d completed", filledCompleted)
	for _, c := range classes {
		t.Logf("  %4d  %s", filledClassCount[c], c)
	}
	t.Logf("with filler values and every non-built-in action skipped (as Backstage skips actions without dry-run support):")
	for _, c := range classes {
		t.Logf("  %4d  %s", stubClassCount[c], c)
	}
	for _, m := range corpusTop(stubDetail, 25) {
		t.Logf("  %s", m)
	}
	if testing.Verbose() {
		sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].where < outcomes[j].where })
		for _, o := range outcomes {
			t.Logf("%-90s %-45s %s", o.where, o.class, o.detail)
			if o.filled != "" {
				t.Logf("%-90s with filler values: %s", "", o.filled)
			}
			if o.stubbed != "" {
				t.Logf("%-90s filler values, other actions skipped: %s", "", o.stubbed)
			}
		}
	}
}

// stubCatalog stands for a populated catalog: every entity exists.
type stubCatalog struct{}

func (stubCatalog) Register(ctx context.Context, typ, target string) (string, error) {
	return "component:default/registered", nil
}

func (stubCatalog) Entity(ctx context.Context, ref string) (map[string]any, error) {
	kind, rest, ok := strings.Cut(ref, ":")
	if !ok {
		kind, rest = "Component", ref
	}
	ns, name, ok := strings.Cut(rest, "/")
	if !ok {
		ns, name = "default", rest
	}
	return map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": ns, "title": name, "annotations": map[string]any{}},
		"spec":       map[string]any{"type": "service", "owner": "group:default/team-a", "lifecycle": "production", "profile": map[string]any{"displayName": name, "email": name + "@example.com"}},
	}, nil
}

// skipAction stands for an action that is not built in; it does nothing.
type skipAction struct{ id string }

func (a skipAction) ID() string                             { return a.id }
func (a skipAction) Description() string                    { return "stub of " + a.id }
func (a skipAction) Schema() (input, output map[string]any) { return nil, nil }
func (a skipAction) Run(c *action.Context) error {
	c.Logf("Skipping because %s does not support dry-run", a.id)
	// Backstage fills a skipped step's output with examples from the
	// action's output schema ("<example>" for strings); the usual
	// outputs of the publish actions stand in for it here.
	if strings.HasPrefix(a.id, "publish:") && c.Output != nil {
		for _, k := range []string{"remoteUrl", "repoContentsUrl", "commitHash", "pullRequestUrl", "mergeRequestUrl", "projectid", "projectPath"} {
			c.Output(k, "<example>")
		}
	}
	return nil
}

// classifyDryRun sorts a dry-run answer into one class with a detail.
func classifyDryRun(r *dryRunResult) (class, detail string) {
	if r.Status == task.StatusCompleted {
		return classCompleted, ""
	}
	msg := r.Error
	fi := r.failedStep()
	act := ""
	if fi >= 0 && fi < len(r.Steps) {
		act = r.Steps[fi].Action
	}
	if m := notRegisteredRe.FindStringSubmatch(msg); m != nil {
		return classUnknownAction, m[1]
	}
	short := corpusNormalize(msg)
	switch {
	case strings.HasPrefix(act, "fetch:") && (strings.Contains(msg, "only paths relative to the template are supported") ||
		strings.Contains(msg, "no copy in the corpus") || strings.Contains(msg, "not a repository URL") || strings.Contains(msg, "not reachable from the corpus test")):
		return classRemoteURL, act + ": " + short
	case strings.HasPrefix(act, "fetch:") && strings.Contains(msg, "contains \"..\""):
		return classOutsideDir, act + ": " + short
	case strings.HasPrefix(act, "fetch:") && (strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "not a directory")):
		return classMissingFile, act + ": " + short
	case strings.Contains(msg, ": input: ") || strings.Contains(msg, ": if: ") || strings.Contains(msg, ": each: ") || strings.HasPrefix(msg, "output: ") ||
		strings.Contains(msg, "render ") || strings.Contains(msg, "Template error"):
		return classExpression, short
	}
	if act != "" {
		short = act + ": " + short
	}
	return classOther, short
}

var (
	quotedRe  = regexp.MustCompile(`"[^"]{0,200}"`)
	tmpPathRe = regexp.MustCompile(`/[^\s"']*greenroom-dry-run-[^\s"':]*`)
	stepRe    = regexp.MustCompile(`^step [^:]+: `)
)

// corpusNormalize shortens an error message so that equal causes count
// together: quoted names and temporary paths are elided.
func corpusNormalize(s string) string {
	s = corpusFirstLine(s)
	s = tmpPathRe.ReplaceAllString(s, "<tmp>")
	s = stepRe.ReplaceAllString(s, "step X: ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func corpusFirstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// corpusTop lists the n most frequent keys as "count × key".
func corpusTop(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var out []string
	for i, k := range keys {
		if i == n {
			out = append(out, fmt.Sprintf("… and %d more", len(keys)-n))
			break
		}
		out = append(out, fmt.Sprintf("%4d × %s", m[k], k))
	}
	return out
}

// corpusEntity rebuilds the Template entity as the frontend sends it.
func corpusEntity(tp *template.Template) map[string]any {
	md := map[string]any{"name": tp.Name}
	if tp.Namespace != "" {
		md["namespace"] = tp.Namespace
	}
	if tp.Title != "" {
		md["title"] = tp.Title
	}
	if tp.Description != "" {
		md["description"] = tp.Description
	}
	return map[string]any{
		"apiVersion": template.APIVersion,
		"kind":       "Template",
		"metadata":   md,
		"spec":       tp.Spec,
	}
}

// corpusGitHub stands in for GitHub (which cannot be reached here) as the
// URL reader of the dry runs: a template that fetches from its own
// repository (https://github.com/<owner>/<repo>/tree/<ref>/<path>) reads
// the corpus's copy of that repository, <owner>__<repo>/<path>; any other
// URL is not found, as offline.
type corpusGitHub struct{ dir string }

func (g corpusGitHub) local(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host != "github.com" {
		return "", fmt.Errorf("%s: not reachable from the corpus test", rawURL)
	}
	parts := strings.SplitN(strings.Trim(u.Path, "/"), "/", 5)
	if len(parts) < 2 {
		return "", fmt.Errorf("%s: not a repository URL", rawURL)
	}
	root := filepath.Join(g.dir, parts[0]+"__"+parts[1])
	p := root
	if len(parts) == 5 && (parts[2] == "tree" || parts[2] == "blob") {
		p = filepath.Join(root, filepath.FromSlash(parts[4]))
	}
	if rel, err := filepath.Rel(root, p); err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%s: outside its repository", rawURL)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: %w (no copy in the corpus)", rawURL, fs.ErrNotExist)
	}
	return p, nil
}

func (g corpusGitHub) ReadURL(ctx context.Context, rawURL string) ([]byte, error) {
	p, err := g.local(rawURL)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

func (g corpusGitHub) ReadTree(ctx context.Context, rawURL string, visit func(string, []byte, bool) error) error {
	p, err := g.local(rawURL)
	if err != nil {
		return err
	}
	return filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(p, f)
		info, _ := d.Info()
		return visit(filepath.ToSlash(rel), data, info != nil && info.Mode()&0o111 != 0)
	})
}

// corpusPluginActions are the git-host plugins' actions, as a portal with
// integrations for github.com, gitlab.com and dev.azure.com, and Roadie's
// utility actions, has them.
func corpusPluginActions(t *testing.T) []action.Action {
	t.Helper()
	cfg := plugins.NewConfig(map[string]any{"integrations": map[string]any{
		"github": []any{map[string]any{"host": "github.com"}},
		"gitlab": []any{map[string]any{"host": "gitlab.com"}},
		"azure":  []any{map[string]any{"host": "dev.azure.com"}},
	}, "plugins": map[string]any{"roadie.utils": map[string]any{}}})
	h, err := plugins.NewHost([]plugins.Info{github.Info(), gitlab.Info(), azure.Info(), roadie.Info()}, cfg, plugins.HostOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return h.Actions()
}

// corpusDirContents lists every regular file under dir as directoryContents
// entries (paths relative to dir), as the template editor and the CLI send
// the directory holding the template descriptor.
func corpusDirContents(dir string) ([]map[string]any, error) {
	var out []map[string]any
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, map[string]any{
			"path":          filepath.ToSlash(rel),
			"base64Content": base64.StdEncoding.EncodeToString(b),
			"executable":    info.Mode()&0o111 != 0,
		})
		return nil
	})
	return out, err
}

// corpusFill returns values with a plausible value for every parameter
// that has none (pages in order, nested objects included).
func corpusFill(pages []map[string]any, values map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range values {
		out[k] = v
	}
	for _, page := range pages {
		fillObject(page, out, 0)
		out = form.WithDefaults(page, out)
		// Conditional branches (dependencies / if-then) may add
		// properties once a value is set: fill once more.
		fillObject(page, out, 0)
	}
	return out
}

func fillObject(schema map[string]any, into map[string]any, depth int) {
	if depth > 8 {
		return
	}
	var props []map[string]any
	props = append(props, corpusMap(schema["properties"]))
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if arr, ok := schema[key].([]any); ok && len(arr) > 0 {
			sub := arr
			if key != "allOf" {
				sub = arr[:1]
			}
			for _, s := range sub {
				props = append(props, corpusMap(corpusMap(s)["properties"]))
				if th := corpusMap(corpusMap(s)["then"]); th != nil {
					props = append(props, corpusMap(th["properties"]))
				}
			}
		}
	}
	for _, dep := range corpusMap(schema["dependencies"]) {
		d := corpusMap(dep)
		props = append(props, corpusMap(d["properties"]))
		if arr, ok := d["oneOf"].([]any); ok && len(arr) > 0 {
			props = append(props, corpusMap(corpusMap(arr[0])["properties"]))
		}
	}
	for _, pm := range props {
		for k, p := range pm {
			ps := corpusMap(p)
			if ps == nil {
				continue
			}
			if cur, ok := into[k]; ok && !corpusEmpty(cur) {
				if sub, ok := cur.(map[string]any); ok {
					fillObject(ps, sub, depth+1)
				}
				continue
			}
			if v := sampleValue(k, ps, depth); v != nil {
				into[k] = v
			}
		}
	}
}

func corpusEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	}
	return false
}

// sampleValue invents a value for a parameter from its schema.
func sampleValue(name string, s map[string]any, depth int) any {
	if d, ok := s["default"]; ok && !corpusEmpty(d) {
		return d
	}
	if c, ok := s["const"]; ok {
		return c
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	field, _ := s["ui:field"].(string)
	typ, _ := s["type"].(string)
	if arr, ok := s["type"].([]any); ok && len(arr) > 0 {
		typ, _ = arr[0].(string)
	}
	lname := strings.ToLower(name)
	switch field {
	case "RepoUrlPicker":
		hosts := ""
		if arr, ok := corpusMap(s["ui:options"])["allowedHosts"].([]any); ok && len(arr) > 0 {
			hosts, _ = arr[0].(string)
		}
		if hosts == "" {
			hosts = "github.com"
		}
		return hosts + "?owner=acme&repo=demo-repo"
	case "OwnerPicker", "MyGroupsPicker":
		return "group:default/team-a"
	case "EntityPicker", "OwnedEntityPicker":
		return "component:default/demo-component"
	case "EntityNamePicker":
		return "demo-name"
	case "EntityTagsPicker":
		return []any{"demo"}
	case "MultiEntityPicker":
		return []any{"component:default/demo-component"}
	}
	switch typ {
	case "boolean":
		return true
	case "number", "integer":
		if m, ok := s["minimum"].(float64); ok {
			return m
		}
		return float64(1)
	case "array":
		items := corpusMap(s["items"])
		if e, ok := items["enum"].([]any); ok && len(e) > 0 {
			return []any{e[0]}
		}
		if v := sampleValue(name, items, depth+1); v != nil && items != nil {
			return []any{v}
		}
		return []any{}
	case "object":
		m := map[string]any{}
		fillObject(s, m, depth+1)
		return m
	}
	if f, _ := s["format"].(string); f != "" {
		switch f {
		case "email":
			return "demo@example.com"
		case "uri", "url":
			return "https://example.com/demo"
		case "date":
			return "2024-01-01"
		case "date-time":
			return "2024-01-01T00:00:00Z"
		}
	}
	switch {
	case strings.Contains(lname, "url"):
		return "https://example.com/demo"
	case strings.Contains(lname, "email"):
		return "demo@example.com"
	case strings.Contains(lname, "owner"):
		return "group:default/team-a"
	case strings.Contains(lname, "port"):
		return "8080"
	}
	return "demo"
}

func corpusMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
