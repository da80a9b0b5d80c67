package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type harness struct {
	c       *Context
	logs    []string
	outputs map[string]any
}

// newHarness makes a workspace and a template dir holding files (path ->
// content; a trailing "/" makes a directory).
func newHarness(t *testing.T, files map[string]string, input map[string]any) *harness {
	t.Helper()
	root := t.TempDir()
	ws := filepath.Join(root, "workspace")
	td := filepath.Join(root, "template")
	for _, d := range []string{ws, td} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeTree(t, td, files)
	h := &harness{outputs: map[string]any{}}
	h.c = &Context{
		Ctx: context.Background(), Workspace: ws, TemplateDir: td, Input: input,
		Log:    func(f string, a ...any) { h.logs = append(h.logs, fmt.Sprintf(f, a...)) },
		Output: func(n string, v any) { h.outputs[n] = v },
	}
	return h
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns every regular file under dir (slash paths -> content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

func builtin(t *testing.T, id string, opts BuiltinOptions) Action {
	t.Helper()
	a, err := NewRegistry(Builtins(opts)...).Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantErr(t *testing.T, err error, sub string) {
	t.Helper()
	if sub == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("error = %v, want one containing %q", err, sub)
	}
}

func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
		t.Fatalf("files = %v, want %v", keys(got), keys(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
