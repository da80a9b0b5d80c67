package action

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

type remoteFile struct {
	data string
	exec bool
}

// fakeReader serves files and trees by URL and records what was asked.
type fakeReader struct {
	mu    sync.Mutex
	files map[string]string
	trees map[string]map[string]remoteFile
	err   error
	asked []string
}

func (f *fakeReader) ReadURL(_ context.Context, u string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "file "+u)
	if f.err != nil {
		return nil, f.err
	}
	d, ok := f.files[u]
	if !ok {
		return nil, errors.New(u + " does not exist")
	}
	return []byte(d), nil
}

func (f *fakeReader) ReadTree(_ context.Context, u string, visit func(string, []byte, bool) error) error {
	f.mu.Lock()
	f.asked = append(f.asked, "tree "+u)
	t, ok := f.trees[u]
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New(u + " does not exist")
	}
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := visit(p, []byte(t[p].data), t[p].exec); err != nil {
			return err
		}
	}
	return nil
}

const tmplURL = "https://git.example/o/r/blob/main/templates/svc/template.yaml"

var skeletonTree = map[string]remoteFile{
	"README.md":                  {data: "# ${{ values.name }}\n"},
	"${{ values.name }}/main.go": {data: "package ${{ values.name }}\n"},
	"bin/run.sh":                 {data: "#!/bin/sh\necho ${{ values.name }}\n", exec: true},
}

func newRemoteHarness(t *testing.T, input map[string]any) *harness {
	t.Helper()
	h := newHarness(t, nil, input)
	h.c.TemplateDir = "" // the template came from a url location
	h.c.TemplateURL = tmplURL
	return h
}

// TestFetchRemote: fetch:* read absolute URLs, and relative ones of a
// template from a url location, through the Reader, into the workspace.
func TestFetchRemote(t *testing.T) {
	r := &fakeReader{
		files: map[string]string{
			"https://git.example/o/r/blob/main/templates/svc/files/app.yaml": "name: ${{ values.name }}\n",
			"https://other.example/raw/LICENSE":                              "MIT ${{ values.name }}",
		},
		trees: map[string]map[string]remoteFile{
			"https://git.example/o/r/blob/main/templates/svc/skeleton": skeletonTree,
			"https://git.example/o/r/blob/main/skeletons/base":         {"base.txt": {data: "base ${{ values.name }}"}},
			"https://other.example/o/r/tree/main/skel":                 skeletonTree,
		},
	}
	opts := BuiltinOptions{Reader: r}
	values := map[string]any{"name": "svc"}
	tests := []struct {
		action string
		input  map[string]any
		want   map[string]string
		asked  string
	}{
		{"fetch:template", map[string]any{"url": "./skeleton", "values": values}, map[string]string{
			"README.md": "# svc\n", "svc/main.go": "package svc\n", "bin/run.sh": "#!/bin/sh\necho svc\n"},
			"tree https://git.example/o/r/blob/main/templates/svc/skeleton"},
		{"fetch:template", map[string]any{"url": "../../skeletons/base", "values": values, "targetPath": "out"}, map[string]string{"out/base.txt": "base svc"},
			"tree https://git.example/o/r/blob/main/skeletons/base"},
		{"fetch:template", map[string]any{"url": "https://other.example/o/r/tree/main/skel", "values": values}, map[string]string{
			"README.md": "# svc\n", "svc/main.go": "package svc\n", "bin/run.sh": "#!/bin/sh\necho svc\n"},
			"tree https://other.example/o/r/tree/main/skel"},
		{"fetch:plain", map[string]any{"url": "./skeleton"}, map[string]string{
			"README.md": "# ${{ values.name }}\n", "${{ values.name }}/main.go": "package ${{ values.name }}\n", "bin/run.sh": "#!/bin/sh\necho ${{ values.name }}\n"},
			"tree https://git.example/o/r/blob/main/templates/svc/skeleton"},
		{"fetch:plain:file", map[string]any{"url": "https://other.example/raw/LICENSE", "targetPath": "LICENSE"}, map[string]string{"LICENSE": "MIT ${{ values.name }}"},
			"file https://other.example/raw/LICENSE"},
		{"fetch:template:file", map[string]any{"url": "files/app.yaml", "targetPath": "app.yaml", "values": values}, map[string]string{"app.yaml": "name: svc\n"},
			"file https://git.example/o/r/blob/main/templates/svc/files/app.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.input["url"].(string), func(t *testing.T) {
			r.asked = nil
			h := newRemoteHarness(t, tt.input)
			if err := Run(builtin(t, tt.action, opts), h.c); err != nil {
				t.Fatal(err)
			}
			sameTree(t, readTree(t, h.c.Workspace), tt.want)
			if len(r.asked) != 1 || r.asked[0] != tt.asked {
				t.Errorf("asked %q, want %q", r.asked, tt.asked)
			}
			if fi, err := os.Stat(filepath.Join(h.c.Workspace, "bin", "run.sh")); err == nil && fi.Mode().Perm()&0o100 == 0 {
				t.Errorf("bin/run.sh lost its executable bit: %v", fi.Mode())
			}
			// The temporary copy of a tree is gone.
			leftover, _ := filepath.Glob(filepath.Join(filepath.Dir(h.c.Workspace), "fetch-*"))
			if len(leftover) != 0 {
				t.Errorf("temporary copies left: %v", leftover)
			}
		})
	}
}

// TestFetchRemoteRefusals: paths that leave the repository or the
// workspace, trees that break the caps, and missing readers are errors
// that say why, and nothing is written outside the workspace.
func TestFetchRemoteRefusals(t *testing.T) {
	escape := map[string]remoteFile{"ok.txt": {data: "ok"}, "../escaped.txt": {data: "x"}}
	tests := []struct {
		name   string
		action string
		input  map[string]any
		reader Reader
		opts   BuiltinOptions
		err    string
	}{
		{"above the repository", "fetch:template", map[string]any{"url": "../../../x"}, &fakeReader{}, BuiltinOptions{}, "url \"../../../x\": the path leaves the template's repository"},
		{"above the repository through blob", "fetch:plain", map[string]any{"url": "../../../../../other/repo/blob/main/x"}, &fakeReader{}, BuiltinOptions{}, "leaves the template's repository"},
		{"absolute path", "fetch:plain", map[string]any{"url": "/etc"}, &fakeReader{}, BuiltinOptions{}, "this path is absolute"},
		{"another scheme", "fetch:plain", map[string]any{"url": "file:///etc"}, &fakeReader{}, BuiltinOptions{}, "only http(s) URLs and paths relative to the template are supported"},
		{"a tree path leaving it", "fetch:plain", map[string]any{"url": "./skeleton"}, &fakeReader{trees: map[string]map[string]remoteFile{"https://git.example/o/r/blob/main/templates/svc/skeleton": escape}}, BuiltinOptions{}, "the tree holds a file with an unsafe path \"../escaped.txt\""},
		{"an absolute tree path", "fetch:template", map[string]any{"url": "./skeleton"}, &fakeReader{trees: map[string]map[string]remoteFile{"https://git.example/o/r/blob/main/templates/svc/skeleton": {"/etc/x": {data: "x"}}}}, BuiltinOptions{}, "unsafe path \"/etc/x\""},
		{"too many files", "fetch:template", map[string]any{"url": "./skeleton"}, &fakeReader{trees: map[string]map[string]remoteFile{"https://git.example/o/r/blob/main/templates/svc/skeleton": skeletonTree}}, BuiltinOptions{MaxFiles: 2}, "too many files: more than 2"},
		{"too much data", "fetch:plain:file", map[string]any{"url": "big.bin", "targetPath": "big.bin"}, &fakeReader{files: map[string]string{"https://git.example/o/r/blob/main/templates/svc/big.bin": strings.Repeat("x", 100)}}, BuiltinOptions{MaxBytes: 10}, "is larger than 10 bytes"},
		{"an empty tree", "fetch:plain", map[string]any{"url": "./none"}, &fakeReader{trees: map[string]map[string]remoteFile{"https://git.example/o/r/blob/main/templates/svc/none": {}}}, BuiltinOptions{}, "the directory is empty or does not exist"},
		{"the reader's error", "fetch:template", map[string]any{"url": "https://u:hunter2@git.example/o/r/tree/main/x?token=hunter2"}, &fakeReader{err: errors.New("Reading from 'https://git.example/o/r/tree/main/x' is not allowed.")}, BuiltinOptions{}, "url \"https://git.example/o/r/tree/main/x\": Reading from 'https://git.example/o/r/tree/main/x' is not allowed."},
		{"no reader, absolute", "fetch:template", map[string]any{"url": "https://git.example/o/r/tree/main/x?token=hunter2"}, nil, BuiltinOptions{}, "this scaffolder has no URL reader, so only paths relative to the template are supported; run the template on the server with an integration for git.example (or git.example in backend.reading.allow)"},
		{"no reader, relative", "fetch:plain:file", map[string]any{"url": "a.txt", "targetPath": "a.txt"}, nil, BuiltinOptions{}, "url \"https://git.example/o/r/blob/main/templates/svc/a.txt\": this scaffolder has no URL reader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRemoteHarness(t, tt.input)
			opts := tt.opts
			opts.Reader = tt.reader
			err := Run(builtin(t, tt.action, opts), h.c)
			wantErr(t, err, tt.err)
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error leaks the token: %v", err)
			}
			for _, l := range h.logs {
				if strings.Contains(l, "hunter2") {
					t.Errorf("a log line leaks the token: %s", l)
				}
			}
			root := filepath.Dir(h.c.Workspace)
			if _, err := os.Stat(filepath.Join(root, "escaped.txt")); err == nil {
				t.Error("a tree file was written outside its directory")
			}
			if got := readTree(t, h.c.Workspace); len(got) != 0 && tt.name != "too many files" {
				t.Errorf("the workspace holds %v after a refusal", keys(got))
			}
			if leftover, _ := filepath.Glob(filepath.Join(root, "fetch-*")); len(leftover) != 0 {
				t.Errorf("temporary copies left: %v", leftover)
			}
		})
	}
}

// TestLocalTemplatesIgnoreTemplateURL: with a local TemplateDir, relative
// urls stay local even when the descriptor's URL is known.
func TestLocalTemplatesIgnoreTemplateURL(t *testing.T) {
	h := newHarness(t, map[string]string{"skeleton/a.txt": "local"}, map[string]any{"url": "./skeleton"})
	h.c.TemplateURL = tmplURL
	r := &fakeReader{}
	if err := Run(builtin(t, "fetch:plain", BuiltinOptions{Reader: r}), h.c); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, h.c.Workspace), map[string]string{"a.txt": "local"})
	if len(r.asked) != 0 {
		t.Errorf("the reader was asked %q", r.asked)
	}
}

func TestRepoRoot(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/o/r/blob/main/templates/t.yaml", "/o/r/blob/main/"},
		{"/o/r/tree/main/templates", "/o/r/tree/main/"},
		{"/group/sub/proj/-/blob/main/t.yaml", "/group/sub/proj/-/blob/main/"},
		{"/o/r/src/branch/main/t.yaml", "/o/r/src/branch/main/"},
		{"/o/r/src/commit/abc123/t.yaml", "/o/r/src/commit/abc123/"},
		{"/templates/t.yaml", ""},
		{"/blob/x/y", ""},
	} {
		if got := repoRoot(tt.path); got != tt.want {
			t.Errorf("repoRoot(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
