package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

func TestRegistry(t *testing.T) {
	r := NewRegistry(Builtins(BuiltinOptions{})...)
	want := []string{"fetch:plain", "fetch:plain:file", "fetch:template", "fetch:template:file", "fs:delete", "fs:rename", "fs:read",
		"debug:log", "debug:wait", "catalog:register", "catalog:write", "catalog:fetch", "publish:git"}
	if len(r.List()) != len(want) {
		t.Fatalf("%d actions, want %d", len(r.List()), len(want))
	}
	for i, a := range r.List() {
		if a.ID() != want[i] {
			t.Errorf("action %d = %s, want %s", i, a.ID(), want[i])
		}
		in, out := a.Schema()
		if in["type"] != "object" && in["oneOf"] == nil || out == nil || a.Description() == "" {
			t.Errorf("%s: incomplete schema or description", a.ID())
		}
	}
	_, err := r.Get("publish:nowhere")
	wantErr(t, err, `"publish:nowhere" is not registered`)
	wantErr(t, err, "fetch:template")
}

func TestFsDelete(t *testing.T) {
	cases := []struct {
		files []any
		want  []string
		err   string
	}{
		{[]any{"a.txt"}, []string{"b/c.log", "b/d.txt", "keep.md"}, ""},
		{[]any{"**/*.txt"}, []string{"b/c.log", "keep.md"}, ""},
		{[]any{"b"}, []string{"a.txt", "keep.md"}, ""},
		{[]any{"missing"}, []string{"a.txt", "b/c.log", "b/d.txt", "keep.md"}, ""},
		{[]any{"../x"}, nil, ".."},
		{[]any{"/etc/passwd"}, nil, "absolute"},
		{[]any{"."}, nil, "workspace itself"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(toStrings(tc.files), ","), func(t *testing.T) {
			h := newHarness(t, nil, map[string]any{"files": tc.files})
			writeTree(t, h.c.Workspace, map[string]string{"a.txt": "", "b/c.log": "", "b/d.txt": "", "keep.md": ""})
			err := Run(builtin(t, "fs:delete", BuiltinOptions{}), h.c)
			wantErr(t, err, tc.err)
			if tc.err == "" {
				if got := keys(readTree(t, h.c.Workspace)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Fatalf("left %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func toStrings(a []any) []string {
	var s []string
	for _, x := range a {
		s = append(s, x.(string))
	}
	return s
}

func TestFsRename(t *testing.T) {
	obj := func(from, to string, ow bool) any {
		return map[string]any{"from": from, "to": to, "overwrite": ow}
	}
	eo := expr.NewObject()
	eo.Set("from", "a.txt")
	eo.Set("to", "z/a2.txt")
	cases := []struct {
		name  string
		files []any
		want  map[string]string
		err   string
	}{
		{"simple", []any{obj("a.txt", "new/a.txt", false)}, map[string]string{"new/a.txt": "A", "b.txt": "B"}, ""},
		{"expr object", []any{eo}, map[string]string{"z/a2.txt": "A", "b.txt": "B"}, ""},
		{"exists", []any{obj("a.txt", "b.txt", false)}, nil, "already exists"},
		{"overwrite", []any{obj("a.txt", "b.txt", true)}, map[string]string{"b.txt": "A"}, ""},
		{"missing", []any{obj("nope", "x", false)}, nil, "does not exist"},
		{"to outside", []any{obj("a.txt", "../a.txt", false)}, nil, ".."},
		{"to absolute", []any{obj("a.txt", "/tmp/a.txt", false)}, nil, "absolute"},
		{"from outside", []any{obj("../workspace/a.txt", "x", false)}, nil, ".."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, map[string]any{"files": tc.files})
			writeTree(t, h.c.Workspace, map[string]string{"a.txt": "A", "b.txt": "B"})
			err := Run(builtin(t, "fs:rename", BuiltinOptions{}), h.c)
			wantErr(t, err, tc.err)
			if tc.err == "" {
				sameTree(t, readTree(t, h.c.Workspace), tc.want)
			}
		})
	}
}

func TestFsRead(t *testing.T) {
	cases := []struct {
		path, want, err string
	}{
		{"d/f.txt", "hello", ""},
		{"missing", "", "no such file"},
		{"../template/x", "", ".."},
		{"/etc/hostname", "", "absolute"},
		{"", "", "required"},
	}
	for _, tc := range cases {
		h := newHarness(t, nil, map[string]any{"path": tc.path})
		writeTree(t, h.c.Workspace, map[string]string{"d/f.txt": "hello"})
		err := Run(builtin(t, "fs:read", BuiltinOptions{}), h.c)
		wantErr(t, err, tc.err)
		if tc.err == "" && h.outputs["content"] != tc.want {
			t.Errorf("%s: content = %v", tc.path, h.outputs["content"])
		}
	}
}

func TestDebugLogMasksSecrets(t *testing.T) {
	h := newHarness(t, nil, map[string]any{"message": "token is s3cr3t-value!", "listWorkspace": "with-contents"})
	h.c.Secrets = map[string]string{"token": "s3cr3t-value"}
	writeTree(t, h.c.Workspace, map[string]string{"f.txt": "contains s3cr3t-value"})
	wantErr(t, Run(builtin(t, "debug:log", BuiltinOptions{}), h.c), "")
	all := strings.Join(h.logs, "\n")
	if strings.Contains(all, "s3cr3t") {
		t.Fatalf("secret in logs: %s", all)
	}
	if !strings.Contains(all, "token is ***!") || !strings.Contains(all, "f.txt") {
		t.Fatalf("logs = %s", all)
	}
	// errors are masked too
	h.c.Input = map[string]any{"path": "s3cr3t-value"}
	err := Run(builtin(t, "fs:read", BuiltinOptions{}), h.c)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error = %v", err)
	}
}

func TestDebugWait(t *testing.T) {
	cases := []struct {
		input map[string]any
		err   string
	}{
		{map[string]any{"milliseconds": 10.0}, ""},
		{map[string]any{"seconds": 0.01}, ""},
		{map[string]any{"minutes": 11.0}, "maximum"},
		{map[string]any{"seconds": -1.0}, "negative"},
		{map[string]any{"seconds": "x"}, "number"},
	}
	for _, tc := range cases {
		h := newHarness(t, nil, tc.input)
		wantErr(t, Run(builtin(t, "debug:wait", BuiltinOptions{}), h.c), tc.err)
	}
	h := newHarness(t, nil, map[string]any{"minutes": 5.0})
	ctx, cancel := context.WithCancel(context.Background())
	h.c.Ctx = ctx
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	err := Run(builtin(t, "debug:wait", BuiltinOptions{}), h.c)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

type fakeCatalog struct {
	registered []string
	entities   map[string]map[string]any
	fail       error
}

func (f *fakeCatalog) Register(_ context.Context, typ, target string) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	f.registered = append(f.registered, typ+" "+target)
	return "component:default/svc", nil
}

func (f *fakeCatalog) Entity(_ context.Context, ref string) (map[string]any, error) {
	if e, ok := f.entities[ref]; ok {
		return e, nil
	}
	return nil, ErrNotFound
}

func TestCatalogRegister(t *testing.T) {
	cases := []struct {
		name    string
		input   map[string]any
		fail    error
		wantReg string
		wantURL string
		wantRef bool
		err     string
	}{
		{"repoContentsUrl", map[string]any{"repoContentsUrl": "file:///r.git/blob/main/"}, nil, "git file:///r.git/blob/main/catalog-info.yaml", "file:///r.git/blob/main/catalog-info.yaml", true, ""},
		{"catalogInfoPath", map[string]any{"repoContentsUrl": "https://h/o/r/blob/main", "catalogInfoPath": "/x/c.yaml"}, nil, "url https://h/o/r/blob/main/x/c.yaml", "https://h/o/r/blob/main/x/c.yaml", true, ""},
		{"catalogInfoUrl", map[string]any{"catalogInfoUrl": "https://h/c.yaml"}, nil, "url https://h/c.yaml", "https://h/c.yaml", true, ""},
		{"missing", map[string]any{}, nil, "", "", false, "required"},
		{"fails", map[string]any{"catalogInfoUrl": "https://h/c.yaml"}, errors.New("boom"), "", "", false, "boom"},
		{"optional failure", map[string]any{"catalogInfoUrl": "https://h/c.yaml", "optional": true}, errors.New("boom"), "", "https://h/c.yaml", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cat := &fakeCatalog{fail: tc.fail}
			h := newHarness(t, nil, tc.input)
			err := Run(builtin(t, "catalog:register", BuiltinOptions{Catalog: cat}), h.c)
			wantErr(t, err, tc.err)
			if tc.err != "" {
				return
			}
			if tc.wantReg != "" && (len(cat.registered) != 1 || cat.registered[0] != tc.wantReg) {
				t.Fatalf("registered %v", cat.registered)
			}
			if h.outputs["catalogInfoUrl"] != tc.wantURL {
				t.Fatalf("catalogInfoUrl = %v", h.outputs["catalogInfoUrl"])
			}
			if _, ok := h.outputs["entityRef"]; ok != tc.wantRef {
				t.Fatalf("entityRef = %v", h.outputs["entityRef"])
			}
		})
	}
	h := newHarness(t, nil, map[string]any{"catalogInfoUrl": "https://h/c.yaml"})
	wantErr(t, Run(builtin(t, "catalog:register", BuiltinOptions{}), h.c), "no catalog")
}

func TestCatalogWrite(t *testing.T) {
	ent := expr.NewObject()
	ent.Set("apiVersion", "backstage.io/v1alpha1")
	ent.Set("kind", "Component")
	md := expr.NewObject()
	md.Set("name", "svc")
	md.Set("tags", []any{"go", "x"})
	ent.Set("metadata", md)
	spec := map[string]any{"type": "service", "owner": "team", "n": 3.0, "ok": true, "none": nil}
	ent.Set("spec", spec)
	cases := []struct {
		input map[string]any
		file  string
		want  string
		err   string
	}{
		{map[string]any{"entity": ent}, "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n  tags:\n    - go\n    - x\nspec:\n  n: 3\n  none: null\n  ok: true\n  owner: team\n  type: service\n", ""},
		{map[string]any{"entity": map[string]any{"kind": "API", "n": "3"}, "filePath": "sub/c.yaml"}, "sub/c.yaml", "kind: API\nn: \"3\"\n", ""},
		{map[string]any{"entity": "x"}, "", "", "must be an object"},
		{map[string]any{"entity": map[string]any{}, "filePath": "../c.yaml"}, "", "", ".."},
	}
	for _, tc := range cases {
		h := newHarness(t, nil, tc.input)
		err := Run(builtin(t, "catalog:write", BuiltinOptions{}), h.c)
		wantErr(t, err, tc.err)
		if tc.err == "" {
			if got := readTree(t, h.c.Workspace)[tc.file]; got != tc.want {
				t.Errorf("%s =\n%s\nwant\n%s", tc.file, got, tc.want)
			}
		}
	}
}

func TestCatalogFetch(t *testing.T) {
	svc := map[string]any{"kind": "Component", "metadata": map[string]any{"name": "svc"}}
	grp := map[string]any{"kind": "Group"}
	cat := &fakeCatalog{entities: map[string]map[string]any{"component:default/svc": svc, "group:ops/team": grp}}
	cases := []struct {
		name  string
		input map[string]any
		want  map[string]any
		err   string
	}{
		{"one", map[string]any{"entityRef": "Component:default/svc"}, map[string]any{"entity": svc}, ""},
		{"defaults", map[string]any{"entityRef": "svc", "defaultKind": "component"}, map[string]any{"entity": svc}, ""},
		{"many", map[string]any{"entityRefs": []any{"component:svc", "group:ops/team"}}, map[string]any{"entities": []any{svc, grp}}, ""},
		{"missing", map[string]any{"entityRef": "component:nope"}, nil, "not found"},
		{"optional", map[string]any{"entityRefs": []any{"component:nope", "component:svc"}, "optional": true}, map[string]any{"entities": []any{nil, svc}}, ""},
		{"no kind", map[string]any{"entityRef": "svc"}, nil, "missing or empty kind"},
		{"nothing", map[string]any{}, nil, "missing entity refs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, tc.input)
			err := Run(builtin(t, "catalog:fetch", BuiltinOptions{Catalog: cat}), h.c)
			wantErr(t, err, tc.err)
			if tc.err == "" {
				if g, w := jsonOf(h.outputs), jsonOf(tc.want); g != w {
					t.Fatalf("outputs %s, want %s", g, w)
				}
			}
		})
	}
}

func jsonOf(v any) string { s, _ := expr.ToJSON(v); return s }

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPublishGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	roots := t.TempDir()
	bare := filepath.Join(roots, "remote.git")
	gitCmd(t, roots, "init", "-q", "--bare", bare)

	h := newHarness(t, nil, map[string]any{
		"repoUrl": "file://" + filepath.ToSlash(bare), "defaultBranch": "trunk", "gitCommitMessage": "scaffolded svc",
		"gitAuthorName": "Robo", "gitAuthorEmail": "robo@example.com", "sourcePath": "repo",
	})
	writeTree(t, h.c.Workspace, map[string]string{"repo/README.md": "hi", "repo/src/main.go": "package main", "other.txt": "not published"})
	wantErr(t, Run(builtin(t, "publish:git", BuiltinOptions{LocalGitRoots: []string{roots}}), h.c), "")

	clone := filepath.Join(t.TempDir(), "clone")
	gitCmd(t, roots, "clone", "-q", bare, clone)
	sameTree(t, withoutGit(readTree(t, clone)), map[string]string{"README.md": "hi", "src/main.go": "package main"})
	if got := gitCmd(t, clone, "log", "-1", "--format=%s|%an|%ae|%cn"); got != "scaffolded svc|Robo|robo@example.com|Robo" {
		t.Fatalf("commit = %s", got)
	}
	if got := gitCmd(t, clone, "rev-parse", "--abbrev-ref", "HEAD"); got != "trunk" {
		t.Fatalf("branch = %s", got)
	}
	hash := gitCmd(t, clone, "rev-parse", "HEAD")
	realBare, _ := filepath.EvalSymlinks(bare)
	wantRemote := "file://" + filepath.ToSlash(realBare)
	if h.outputs["commitHash"] != hash || h.outputs["remoteUrl"] != wantRemote || h.outputs["repoContentsUrl"] != wantRemote+"/blob/trunk/" {
		t.Fatalf("outputs = %v", h.outputs)
	}

	// defaults, a plain path, the whole workspace
	bare2 := filepath.Join(roots, "two.git")
	gitCmd(t, roots, "init", "-q", "--bare", bare2)
	h2 := newHarness(t, nil, map[string]any{"repoUrl": bare2})
	writeTree(t, h2.c.Workspace, map[string]string{"a.txt": "a"})
	wantErr(t, Run(builtin(t, "publish:git", BuiltinOptions{LocalGitRoots: []string{roots}, GitAuthorName: "Def"}), h2.c), "")
	clone2 := filepath.Join(t.TempDir(), "clone")
	gitCmd(t, roots, "clone", "-q", "-b", "main", bare2, clone2)
	if got := gitCmd(t, clone2, "log", "-1", "--format=%s|%an|%ae"); got != "initial commit|Def|scaffolder@backstage.io" {
		t.Fatalf("commit = %s", got)
	}
	if _, err := os.Stat(filepath.Join(h2.c.Workspace, ".git")); err == nil {
		t.Fatal("publish:git left a .git directory in the workspace")
	}
}

func withoutGit(m map[string]string) map[string]string {
	for k := range m {
		if strings.HasPrefix(k, ".git/") {
			delete(m, k)
		}
	}
	return m
}

func TestPublishGitRefusals(t *testing.T) {
	roots := t.TempDir()
	other := t.TempDir()
	opts := BuiltinOptions{LocalGitRoots: []string{roots}, AllowedGitHosts: []string{"git.example.com"}}
	cases := []struct {
		input map[string]any
		err   string
	}{
		{map[string]any{"repoUrl": other}, "outside the configured roots"},
		{map[string]any{"repoUrl": filepath.Join(roots, "missing.git")}, "no such file"},
		{map[string]any{"repoUrl": roots}, "outside the configured roots"},
		{map[string]any{"repoUrl": "https://evil.example.org/o/r.git"}, "not in the allowed"},
		{map[string]any{"repoUrl": "github.com?owner=o&repo=r"}, "not in the allowed"},
		{map[string]any{"repoUrl": "ext::sh -c id"}, "unsupported"},
		{map[string]any{"repoUrl": "--upload-pack=x"}, "invalid"},
		{map[string]any{"repoUrl": "https://git.example.com/o/../r"}, "invalid repository path"},
		{map[string]any{"repoUrl": roots, "sourcePath": "../x"}, ".."},
		{map[string]any{"repoUrl": roots, "defaultBranch": "-x"}, "invalid defaultBranch"},
		{map[string]any{}, "required"},
	}
	for _, tc := range cases {
		h := newHarness(t, nil, tc.input)
		wantErr(t, Run(builtin(t, "publish:git", opts), h.c), tc.err)
	}
	// an allowed host in dry-run mode resolves without pushing
	h := newHarness(t, nil, map[string]any{"repoUrl": "git.example.com?owner=o&repo=r"})
	h.c.DryRun = true
	wantErr(t, Run(builtin(t, "publish:git", opts), h.c), "")
	if h.outputs["remoteUrl"] != "https://git.example.com/o/r.git" || h.outputs["repoContentsUrl"] != "https://git.example.com/o/r/blob/main/" {
		t.Fatalf("outputs = %v", h.outputs)
	}
}

// A LocalGitHosts host publishes "host?owner=o&repo=r" to <dir>/o/r.git,
// creating the bare repository on first use, and refuses owner/repo
// segments that would leave the directory.
func TestPublishGitLocalHost(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	opts := BuiltinOptions{LocalGitHosts: map[string]string{"git.example.com": dir}}
	h := newHarness(t, nil, map[string]any{"repoUrl": "git.example.com?owner=team&repo=svc"})
	writeTree(t, h.c.Workspace, map[string]string{"catalog-info.yaml": "kind: Component"})
	wantErr(t, Run(builtin(t, "publish:git", opts), h.c), "")
	bare := filepath.Join(dir, "team", "svc.git")
	want := "file://" + filepath.ToSlash(bare)
	if h.outputs["remoteUrl"] != want || h.outputs["repoContentsUrl"] != want+"/blob/main/" {
		t.Fatalf("outputs = %v", h.outputs)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	gitCmd(t, dir, "clone", "-q", bare, clone)
	sameTree(t, withoutGit(readTree(t, clone)), map[string]string{"catalog-info.yaml": "kind: Component"})

	// a second publish to the same repository pushes on top of it (no
	// fast-forward: refused, the first commit stays)
	h2 := newHarness(t, nil, map[string]any{"repoUrl": "https://GIT.example.com/team/svc"})
	writeTree(t, h2.c.Workspace, map[string]string{"other": "x"})
	wantErr(t, Run(builtin(t, "publish:git", opts), h2.c), "rejected")

	for _, bad := range []string{"git.example.com?owner=..&repo=x", "git.example.com?owner=a&repo=-x", "https://git.example.com/a/b/../../c", "git.example.com?owner=a&repo=c%00"} {
		h := newHarness(t, nil, map[string]any{"repoUrl": bad})
		wantErr(t, Run(builtin(t, "publish:git", opts), h.c), "invalid")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("repositories dir holds %d entries, want only team/", len(entries))
	}
}

type failWith struct{ err error }

func (failWith) ID() string                               { return "test:fail" }
func (failWith) Description() string                      { return "" }
func (failWith) Schema() (map[string]any, map[string]any) { return nil, nil }
func (f failWith) Run(*Context) error                     { return f.err }

// A masked error keeps what it wraps: a cancellation that quotes a secret
// is still a cancellation.
func TestRunMaskKeepsCause(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.c.Secrets = map[string]string{"t": "hunter2"}
	err := Run(failWith{fmt.Errorf("push with hunter2: %w", context.Canceled)}, h.c)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v (is canceled: %v)", err, errors.Is(err, context.Canceled))
	}
}
