package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

func TestFetchTemplate(t *testing.T) {
	skel := map[string]string{
		"skeleton/README.md":                       "# ${{ values.name }}\n",
		"skeleton/${{ values.name }}/main.go":      "package ${{ values.name }}\n",
		"skeleton/static/raw.txt":                  "keep ${{ values.name }}",
		"skeleton/${{ values.name }}-raw/x.txt":    "x ${{ values.name }}",
		"skeleton/cc.txt":                          "{{ cookiecutter.name }} {{ cookiecutter.tags | jsonify }}",
		"skeleton/${{ values.optional }}/skip.txt": "skipped",
		"skeleton/app.yaml.njk":                    "name: ${{ values.name }}",
		"skeleton/plain.yaml":                      "name: ${{ values.name }}",
		"skeleton/empty/":                          "",
	}
	values := map[string]any{"name": "svc", "tags": []any{"a"}}
	cases := []struct {
		name  string
		input map[string]any
		want  map[string]string
		err   string
	}{
		{
			name:  "renders names and contents",
			input: map[string]any{"url": "./skeleton", "values": values, "copyWithoutTemplating": []any{"static/**"}},
			want: map[string]string{
				"README.md": "# svc\n", "svc/main.go": "package svc\n", "static/raw.txt": "keep ${{ values.name }}",
				"svc-raw/x.txt": "x svc", "cc.txt": "{{ cookiecutter.name }} {{ cookiecutter.tags | jsonify }}",
				"app.yaml.njk": "name: svc", "plain.yaml": "name: svc",
			},
		},
		{
			name:  "copyWithoutRender keeps paths",
			input: map[string]any{"url": "skeleton", "targetPath": "out", "values": values, "copyWithoutRender": []any{"*-raw/**"}},
			want: map[string]string{
				"out/README.md": "# svc\n", "out/svc/main.go": "package svc\n", "out/static/raw.txt": "keep svc",
				"out/${{ values.name }}-raw/x.txt": "x ${{ values.name }}", "out/cc.txt": "{{ cookiecutter.name }} {{ cookiecutter.tags | jsonify }}",
				"out/app.yaml.njk": "name: svc", "out/plain.yaml": "name: svc",
			},
		},
		{
			name:  "templateFileExtension true",
			input: map[string]any{"url": "skeleton", "values": values, "templateFileExtension": true},
			want: map[string]string{
				"README.md": "# ${{ values.name }}\n", "svc/main.go": "package ${{ values.name }}\n", "static/raw.txt": "keep ${{ values.name }}",
				"svc-raw/x.txt": "x ${{ values.name }}", "cc.txt": "{{ cookiecutter.name }} {{ cookiecutter.tags | jsonify }}",
				"app.yaml": "name: svc", "plain.yaml": "name: ${{ values.name }}",
			},
		},
		{
			name:  "cookiecutterCompat",
			input: map[string]any{"url": "skeleton", "values": values, "cookiecutterCompat": true, "copyWithoutRender": []any{"$*", "$*/**"}},
			want: map[string]string{
				// {{ values.name }} is a cookiecutter-mode tag for an undefined variable
				"README.md": "# $\n", "static/raw.txt": "keep $",
				"cc.txt": `svc ["a"]`, "app.yaml.njk": "name: $", "plain.yaml": "name: $",
				"${{ values.name }}/main.go": "package ${{ values.name }}\n", "${{ values.name }}-raw/x.txt": "x ${{ values.name }}",
				"${{ values.optional }}/skip.txt": "skipped",
			},
		},
		{name: "both copy lists", input: map[string]any{"url": "skeleton", "copyWithoutRender": []any{"a"}, "copyWithoutTemplating": []any{"b"}}, err: "can not be used at the same time"},
		{name: "extension with cookiecutter", input: map[string]any{"url": "skeleton", "templateFileExtension": ".njk", "cookiecutterCompat": true}, err: "incompatible"},
		{name: "absolute url", input: map[string]any{"url": "/etc"}, err: "absolute"},
		{name: "dotdot url", input: map[string]any{"url": "../template/skeleton"}, err: ".."},
		{name: "remote url", input: map[string]any{"url": "https://example.invalid/x"}, err: "only paths relative"},
		{name: "dotdot targetPath", input: map[string]any{"url": "skeleton", "targetPath": "a/../../x"}, err: ".."},
		{name: "absolute targetPath", input: map[string]any{"url": "skeleton", "targetPath": "/tmp/x"}, err: "absolute"},
		{name: "bad values", input: map[string]any{"url": "skeleton", "values": "nope"}, err: "must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, skel, tc.input)
			err := Run(builtin(t, "fetch:template", BuiltinOptions{}), h.c)
			wantErr(t, err, tc.err)
			if tc.err != "" {
				return
			}
			sameTree(t, readTree(t, h.c.Workspace), tc.want)
			if _, err := os.Stat(filepath.Join(h.c.Workspace, filepath.Dir(firstKey(tc.want)), "empty")); tc.name == "renders names and contents" && err != nil {
				t.Errorf("empty directory not created: %v", err)
			}
		})
	}
}

func firstKey(m map[string]string) string { return keys(m)[0] }

func TestFetchTemplateReplaceAndExprObject(t *testing.T) {
	h := newHarness(t, map[string]string{"s/a.txt": "${{ values.v }}"}, nil)
	writeTree(t, h.c.Workspace, map[string]string{"a.txt": "old"})
	vals := expr.NewObject()
	vals.Set("v", "new")
	h.c.Input = map[string]any{"url": "s", "values": vals}
	wantErr(t, Run(builtin(t, "fetch:template", BuiltinOptions{}), h.c), "")
	if got := readTree(t, h.c.Workspace)["a.txt"]; got != "old" {
		t.Fatalf("without replace a.txt = %q", got)
	}
	h.c.Input["replace"] = true
	wantErr(t, Run(builtin(t, "fetch:template", BuiltinOptions{}), h.c), "")
	if got := readTree(t, h.c.Workspace)["a.txt"]; got != "new" {
		t.Fatalf("with replace a.txt = %q", got)
	}
}

func TestFetchTemplateSecurity(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		value string
		err   string
	}{
		{"file name renders to ../..", map[string]string{"s/${{ values.x }}": "pwned"}, "../../x", ".."},
		{"dir name renders to ..", map[string]string{"s/${{ values.x }}/f": "pwned"}, "..", ".."},
		{"file name renders to nested ..", map[string]string{"s/a/${{ values.x }}": "pwned"}, "b/../../../x", ".."},
		{"name renders absolute", map[string]string{"s/${{ values.x }}z": "pwned"}, "/tmp/", ""}, // "/tmp/z" has an empty first segment: skipped
		{"bad template", map[string]string{"s/f": "${{ values.x "}, "", "render"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.files, map[string]any{"url": "s", "values": map[string]any{"x": tc.value}})
			err := Run(builtin(t, "fetch:template", BuiltinOptions{}), h.c)
			wantErr(t, err, tc.err)
			outside := readTree(t, filepath.Dir(h.c.Workspace))
			for k := range outside {
				if !strings.HasPrefix(k, "workspace/") && !strings.HasPrefix(k, "template/") {
					t.Fatalf("file written outside the workspace: %s", k)
				}
			}
		})
	}
}

func TestSymlinksAndLimits(t *testing.T) {
	h := newHarness(t, map[string]string{"s/a.txt": "a"}, nil)
	secret := filepath.Join(filepath.Dir(h.c.Workspace), "secret.txt")
	writeTree(t, filepath.Dir(secret), map[string]string{"secret.txt": "top secret"})
	if err := os.Symlink(secret, filepath.Join(h.c.TemplateDir, "s", "link")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(h.c.TemplateDir, "up")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"fetch:plain", "fetch:template"} {
		h.c.Input = map[string]any{"url": "s"}
		wantErr(t, Run(builtin(t, id, BuiltinOptions{}), h.c), "symbolic link")
		h.c.Input = map[string]any{"url": "up"}
		wantErr(t, Run(builtin(t, id, BuiltinOptions{}), h.c), "outside")
	}
	for _, id := range []string{"fetch:plain:file", "fetch:template:file"} {
		h.c.Input = map[string]any{"url": "s/link", "targetPath": "x"}
		wantErr(t, Run(builtin(t, id, BuiltinOptions{}), h.c), "outside")
	}
	// a workspace symlink pointing out may not be written through or read
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(h.c.Workspace, "out")); err != nil {
		t.Fatal(err)
	}
	h.c.Input = map[string]any{"url": "s/a.txt", "targetPath": "out/pwned"}
	wantErr(t, Run(builtin(t, "fetch:plain:file", BuiltinOptions{}), h.c), "outside")
	h.c.Input = map[string]any{"path": "out/secret.txt"}
	wantErr(t, Run(builtin(t, "fs:read", BuiltinOptions{}), h.c), "outside")

	// limits
	h2 := newHarness(t, map[string]string{"s/a": "12345", "s/b": "12345", "s/c": "1"}, map[string]any{"url": "s"})
	wantErr(t, Run(builtin(t, "fetch:plain", BuiltinOptions{MaxFiles: 2}), h2.c), "too many files")
	wantErr(t, Run(builtin(t, "fetch:template", BuiltinOptions{MaxBytes: 8}), h2.c), "too much data")
	wantErr(t, Run(builtin(t, "fetch:plain", BuiltinOptions{MaxBytes: 11}), h2.c), "")
}

func TestFetchPlain(t *testing.T) {
	files := map[string]string{"s/a.txt": "${{ values.x }}", "s/d/b.txt": "b", "one.txt": "1"}
	cases := []struct {
		id    string
		input map[string]any
		want  map[string]string
		err   string
	}{
		{"fetch:plain", map[string]any{"url": "s"}, map[string]string{"a.txt": "${{ values.x }}", "d/b.txt": "b"}, ""},
		{"fetch:plain", map[string]any{"url": "./s", "targetPath": "sub/dir"}, map[string]string{"sub/dir/a.txt": "${{ values.x }}", "sub/dir/d/b.txt": "b"}, ""},
		{"fetch:plain", map[string]any{"url": "one.txt"}, nil, "not a directory"},
		{"fetch:plain", map[string]any{"url": "s", "targetPath": "../x"}, nil, ".."},
		{"fetch:plain", map[string]any{}, nil, "required"},
		{"fetch:plain:file", map[string]any{"url": "one.txt", "targetPath": "x/y.txt"}, map[string]string{"x/y.txt": "1"}, ""},
		{"fetch:plain:file", map[string]any{"url": "one.txt"}, nil, "required"},
		{"fetch:plain:file", map[string]any{"url": "one.txt", "targetPath": "/abs"}, nil, "absolute"},
		{"fetch:plain:file", map[string]any{"url": "../x", "targetPath": "x"}, nil, ".."},
		{"fetch:template:file", map[string]any{"url": "s/a.txt", "targetPath": "t.txt", "values": map[string]any{"x": "X"}}, map[string]string{"t.txt": "X"}, ""},
		{"fetch:template:file", map[string]any{"url": "s/a.txt", "targetPath": "../t.txt"}, nil, ".."},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			h := newHarness(t, files, tc.input)
			err := Run(builtin(t, tc.id, BuiltinOptions{}), h.c)
			wantErr(t, err, tc.err)
			if tc.err == "" {
				sameTree(t, readTree(t, h.c.Workspace), tc.want)
			}
		})
	}
}

func TestFetchTemplateBinaryAndMode(t *testing.T) {
	h := newHarness(t, map[string]string{"s/run.sh": "echo ${{ values.x }}"}, map[string]any{"url": "s", "values": map[string]any{"x": "hi"}})
	bin := []byte("\x00\x01${{ values.x }}\xff")
	if err := os.WriteFile(filepath.Join(h.c.TemplateDir, "s", "logo.png"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(h.c.TemplateDir, "s", "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	wantErr(t, Run(builtin(t, "fetch:template", BuiltinOptions{}), h.c), "")
	got := readTree(t, h.c.Workspace)
	if got["logo.png"] != string(bin) || got["run.sh"] != "echo hi" {
		t.Fatalf("got %q", got)
	}
	fi, err := os.Stat(filepath.Join(h.c.Workspace, "run.sh"))
	if err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("run.sh mode = %v, %v", fi.Mode(), err)
	}
}

// With a TemplateRoot (the template's repository), fetch URLs may reach
// shared skeletons with ../ inside it, never beyond it, not even through
// a symbolic link.
func TestFetchTemplateRoot(t *testing.T) {
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"skeletons/base/README.md":     "# ${{ values.name }}",
		"templates/svc/template.yaml":  "kind: Template",
		"templates/svc/skeleton/a.txt": "a",
	})
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret.txt": "s"})
	if err := os.Symlink(outside, filepath.Join(repo, "skeletons", "out")); err != nil {
		t.Fatal(err)
	}
	run := func(url string) (*harness, error) {
		h := newHarness(t, nil, map[string]any{"url": url, "values": map[string]any{"name": "x"}})
		h.c.TemplateDir = filepath.Join(repo, "templates", "svc")
		h.c.TemplateRoot = repo
		return h, Run(builtin(t, "fetch:template", BuiltinOptions{}), h.c)
	}
	h, err := run("../../skeletons/base")
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, h.c.Workspace), map[string]string{"README.md": "# x"})
	if _, err := run("./skeleton"); err != nil {
		t.Errorf("a skeleton beside the template: %v", err)
	}
	for url, want := range map[string]string{
		"../../../etc":            "leaves the template's repository",
		"../../skeletons/out":     "outside",
		"../../skeletons/../../x": "leaves the template's repository",
		"/etc":                    "",
	} {
		if _, err := run(url); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("url %q: error %v, want %q", url, err, want)
		}
	}
	// Without a root, ../ stays refused (file locations reached from
	// elsewhere, dry runs).
	h2 := newHarness(t, map[string]string{"x/a.txt": "a"}, map[string]any{"url": "../template/x"})
	if err := Run(builtin(t, "fetch:plain", BuiltinOptions{}), h2.c); err == nil {
		t.Error("../ without a root was allowed")
	}
}
