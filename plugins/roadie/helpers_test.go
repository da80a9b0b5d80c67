package roadie

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// newPlugin makes the plugin from a configuration document.
func newPlugin(t *testing.T, cfg map[string]any) *Plugin {
	t.Helper()
	p, err := New(plugins.Env{Config: plugins.NewConfig(cfg), HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// find returns the plugin's action with the id.
func find(t *testing.T, p *Plugin, id string) action.Action {
	t.Helper()
	for _, a := range p.Actions() {
		if a.ID() == id {
			return a
		}
	}
	t.Fatalf("no action %s", id)
	return nil
}

// result is one run of an action.
type result struct {
	out  map[string]any
	logs []string
	err  error
}

func (r result) log() string { return strings.Join(r.logs, "\n") }

// run runs an action on a workspace; input is JSON, decoded as rendered
// inputs are (objects keep their key order).
func run(t *testing.T, a action.Action, ws, input string, edit ...func(*action.Context)) result {
	t.Helper()
	in := map[string]any{}
	if input != "" {
		v, err := expr.DecodeJSON([]byte(input))
		if err != nil {
			t.Fatalf("input %s: %v", input, err)
		}
		o := v.(*expr.Object)
		for _, k := range o.Keys() {
			in[k], _ = o.Get(k)
		}
	}
	r := result{out: map[string]any{}}
	c := &action.Context{Workspace: ws, Input: in,
		Output: func(k string, v any) { r.out[k] = v },
		Log:    func(f string, args ...any) { r.logs = append(r.logs, strings.TrimSpace(fmt.Sprintf(f, args...))) }}
	for _, e := range edit {
		e(c)
	}
	r.err = action.Run(a, c)
	return r
}

// files writes files (path → content) into a new workspace.
func files(t *testing.T, fs map[string]string) string {
	t.Helper()
	ws := t.TempDir()
	for p, s := range fs {
		full := filepath.Join(ws, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

func read(t *testing.T, ws, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ws, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// asJSON shows an output value as JSON, key order kept.
func asJSON(v any) string { return stringifyJSON(normalize(v), "", nil) }

// outside makes a directory outside the workspace holding secret.txt.
func outside(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// wantErr checks that err is an error containing want.
func wantErr(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", name, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not contain %q", name, err, want)
	}
}
