package roadie

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAppend(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:fs:append")
	for _, tc := range []struct {
		name, input, file, want, err string
	}{
		{name: "existing file", input: `{"path":"notes.txt","content":"second\n"}`, file: "notes.txt", want: "first\nsecond\n"},
		{name: "new file", input: `{"path":"new.txt","content":"hello"}`, file: "new.txt", want: "hello"},
		{name: "new directory", input: `{"path":"a/b/c.txt","content":"x"}`, file: "a/b/c.txt", want: "x"},
		{name: "empty content", input: `{"path":"notes.txt","content":""}`, file: "notes.txt", want: "first\n"},
		{name: "dot dot", input: `{"path":"../notes.txt","content":"x"}`, err: `contains ".."`},
		{name: "absolute", input: `{"path":"/etc/hosts","content":"x"}`, err: "is absolute"},
		{name: "no path", input: `{"content":"x"}`, err: `input "path" is required`},
		{name: "no content", input: `{"path":"notes.txt"}`, err: `input "content" is required`},
		{name: "content not a string", input: `{"path":"notes.txt","content":{"a":1}}`, err: "must be a string"},
	} {
		ws := files(t, map[string]string{"notes.txt": "first\n"})
		r := run(t, a, ws, tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
			if got := read(t, ws, "notes.txt"); got != "first\n" {
				t.Errorf("%s: notes.txt changed to %q", tc.name, got)
			}
			continue
		}
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		if got := read(t, ws, tc.file); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.file, got, tc.want)
		}
		if r.out["path"] != filepath.Join(ws, tc.file) {
			t.Errorf("%s: output path %v", tc.name, r.out["path"])
		}
	}
}

func TestAppendKeepsModeAndRefusesSymlinks(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:fs:append")
	ws := files(t, map[string]string{"run.sh": "#!/bin/sh\n"})
	os.Chmod(filepath.Join(ws, "run.sh"), 0o755)
	if r := run(t, a, ws, `{"path":"run.sh","content":"echo hi\n"}`); r.err != nil {
		t.Fatal(r.err)
	}
	if fi, _ := os.Stat(filepath.Join(ws, "run.sh")); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want 0755", fi.Mode().Perm())
	}

	out := outside(t)
	os.Symlink(filepath.Join(out, "secret.txt"), filepath.Join(ws, "link.txt"))
	os.Symlink(out, filepath.Join(ws, "dir"))
	for name, in := range map[string]string{
		"link to a file outside": `{"path":"link.txt","content":"x"}`,
		"through a linked dir":   `{"path":"dir/secret.txt","content":"x"}`,
		"new file in linked dir": `{"path":"dir/new.txt","content":"x"}`,
	} {
		wantErr(t, name, run(t, a, ws, in).err, "symbolic link")
	}
	if got := read(t, out, "secret.txt"); got != "outside\n" {
		t.Errorf("the file outside changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, "new.txt")); err == nil {
		t.Error("a file was created outside the workspace")
	}
}

func TestWrite(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:fs:write")
	for _, tc := range []struct {
		name, input, file, want, err string
	}{
		{name: "overwrite", input: `{"path":"notes.txt","content":"new"}`, file: "notes.txt", want: "new"},
		{name: "nested", input: `{"path":"docs/index.md","content":"# Docs\n"}`, file: "docs/index.md", want: "# Docs\n"},
		{name: "preserve formatting", input: `{"path":"x.json","content":"{\"b\":1,\"a\":[1,{}],\"c\":{}}","preserveFormatting":true}`,
			file: "x.json", want: "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ],\n  \"c\": {}\n}"},
		{name: "preserve formatting, not JSON", input: `{"path":"x.txt","content":"a: b","preserveFormatting":true}`, file: "x.txt", want: "a: b"},
		{name: "JSON kept without preserveFormatting", input: `{"path":"x.json","content":"{\"b\":1}"}`, file: "x.json", want: `{"b":1}`},
		{name: "dot dot", input: `{"path":"a/../../x","content":"x"}`, err: `contains ".."`},
		{name: "workspace itself", input: `{"path":".","content":"x"}`, err: "not a regular file"},
	} {
		ws := files(t, map[string]string{"notes.txt": "old"})
		r := run(t, a, ws, tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
			continue
		}
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		if got := read(t, ws, tc.file); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.file, got, tc.want)
		}
		if r.out["path"] != filepath.Join(ws, tc.file) {
			t.Errorf("%s: output path %v", tc.name, r.out["path"])
		}
	}
}

func TestReplace(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:fs:replace")
	start := map[string]string{
		"README.md":          "Hello NAME, NAME!\n",
		"src/app.txt":        "version: 1.2.3\nname: app\n",
		"src/deep/lib.txt":   "version: 0.0.1\n",
		".github/ci.txt":     "version: 9.9.9\n",
		"src/.hidden.txt":    "version: 5.5.5\n",
		"src/notes.md":       "version: 7.7.7\n",
		"dollar/special.txt": "price: 5\n",
	}
	for _, tc := range []struct {
		name, input string
		want        map[string]string // files that change
		err         string
	}{
		{name: "plain string, every occurrence", input: `{"files":[{"file":"README.md","find":"NAME","replaceWith":"World"}]}`,
			want: map[string]string{"README.md": "Hello World, World!\n"}},
		{name: "dollar patterns in a string replacement", input: `{"files":[{"file":"README.md","find":"NAME","replaceWith":"[$&]$$1"}]}`,
			want: map[string]string{"README.md": "Hello [NAME]$1, [NAME]$1!\n"}},
		{name: "regex with groups", input: `{"files":[{"file":"src/app.txt","find":"version: (\\d+)\\.(\\d+)\\.\\d+","matchRegex":true,"replaceWith":"version: $1.$2.0 (was $&)"}]}`,
			want: map[string]string{"src/app.txt": "version: 1.2.0 (was version: 1.2.3)\nname: app\n"}},
		{name: "named group", input: `{"files":[{"file":"src/app.txt","find":"name: (?<n>\\w+)","matchRegex":true,"replaceWith":"name: $<n>-svc"}]}`,
			want: map[string]string{"src/app.txt": "version: 1.2.3\nname: app-svc\n"}},
		{name: "glob skips dot files", input: `{"files":[{"file":"**/*.txt","find":"version","replaceWith":"v"}]}`,
			want: map[string]string{"src/app.txt": "v: 1.2.3\nname: app\n", "src/deep/lib.txt": "v: 0.0.1\n", "dollar/special.txt": "price: 5\n"}},
		{name: "glob with dot files", input: `{"files":[{"file":"**/*.txt","find":"version","replaceWith":"v","includeDotFiles":true}]}`,
			want: map[string]string{"src/app.txt": "v: 1.2.3\nname: app\n", "src/deep/lib.txt": "v: 0.0.1\n",
				".github/ci.txt": "v: 9.9.9\n", "src/.hidden.txt": "v: 5.5.5\n"}},
		{name: "dot directory named in the pattern", input: `{"files":[{"file":".github/*.txt","find":"9","replaceWith":"8"}]}`,
			want: map[string]string{".github/ci.txt": "version: 8.8.8\n"}},
		{name: "several entries in order", input: `{"files":[{"file":"README.md","find":"NAME","replaceWith":"X"},{"file":"README.md","find":"X,","replaceWith":"Y;"}]}`,
			want: map[string]string{"README.md": "Hello Y; X!\n"}},
		{name: "no match is no error", input: `{"files":[{"file":"missing/*.txt","find":"a","replaceWith":"b"}]}`},
		{name: "empty replaceWith refused as Roadie does", input: `{"files":[{"file":"README.md","find":"NAME","replaceWith":""}]}`,
			err: "each file must have a find and replaceWith property"},
		{name: "no file", input: `{"files":[{"find":"a","replaceWith":"b"}]}`, err: "Path to file needs to be defined"},
		{name: "files not an array", input: `{"files":{"file":"README.md"}}`, err: "files must be an Array"},
		{name: "bad regex", input: `{"files":[{"file":"README.md","find":"(","matchRegex":true,"replaceWith":"b"}]}`, err: "invalid regular expression"},
		{name: "dot dot", input: `{"files":[{"file":"../*","find":"a","replaceWith":"b"}]}`, err: `contains ".."`},
		{name: "absolute", input: `{"files":[{"file":"/etc/*","find":"a","replaceWith":"b"}]}`, err: "is absolute"},
	} {
		ws := files(t, start)
		r := run(t, a, ws, tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
		} else if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
		}
		for f, orig := range start {
			want, ok := tc.want[f]
			if !ok || tc.err != "" {
				want = orig
			}
			if got := read(t, ws, f); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.name, f, got, want)
			}
		}
	}
}

func TestReplaceDoesNotFollowSymlinks(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:fs:replace")
	ws := files(t, map[string]string{"in.txt": "outside\n"})
	out := outside(t)
	os.Symlink(filepath.Join(out, "secret.txt"), filepath.Join(ws, "link.txt"))
	os.Symlink(out, filepath.Join(ws, "linkdir"))
	for name, in := range map[string]string{
		"glob":          `{"files":[{"file":"**/*.txt","find":"outside","replaceWith":"changed"}]}`,
		"linked file":   `{"files":[{"file":"link.txt","find":"outside","replaceWith":"changed"}]}`,
		"linked folder": `{"files":[{"file":"linkdir/secret.txt","find":"outside","replaceWith":"changed"}]}`,
	} {
		r := run(t, a, ws, in)
		if r.err != nil && name == "glob" {
			t.Errorf("%s: %v", name, r.err)
		}
		if got := read(t, out, "secret.txt"); got != "outside\n" {
			t.Fatalf("%s: the file outside the workspace changed to %q", name, got)
		}
	}
	if got := read(t, ws, "in.txt"); got != "changed\n" {
		t.Errorf("in.txt = %q", got)
	}
}

func TestParse(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:fs:parse")
	ws := files(t, map[string]string{
		"catalog-info.yaml": "# comment\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: cart\n  tags: [a, b]\n  on: yes\n  count: 3\n  ratio: 0.5\n  created: 2001-12-14\n  none: ~\n",
		"multi.yaml":        "a: 1\n---\nb: [x]\n---\n",
		"package.json":      `{"name":"cart","version":"1.0.0","scripts":{"z":"1","a":"2"}}`,
		"notes.txt":         "plain text\n",
		"bad.json":          "{nope",
		"anchors.yaml":      "base: &b {x: 1}\nother: *b\n",
		"dup.yaml":          "a: 1\na: 2\n",
	})
	for _, tc := range []struct {
		name, input, want, err string
	}{
		{name: "yaml keeps key order and YAML 1.2 scalars", input: `{"path":"catalog-info.yaml","parser":"yaml"}`,
			want: `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"cart","tags":["a","b"],"on":"yes","count":3,"ratio":0.5,"created":"2001-12-14","none":null}}`},
		{name: "multiyaml", input: `{"path":"multi.yaml","parser":"multiyaml"}`, want: `[{"a":1},{"b":["x"]},null]`}, // the last "---" starts an empty document,
		{name: "json", input: `{"path":"package.json","parser":"json"}`, want: `{"name":"cart","version":"1.0.0","scripts":{"z":"1","a":"2"}}`},
		{name: "no parser", input: `{"path":"notes.txt"}`, want: `"plain text\n"`},
		{name: "aliases", input: `{"path":"anchors.yaml","parser":"yaml"}`, want: `{"base":{"x":1},"other":{"x":1}}`},
		{name: "bad json", input: `{"path":"bad.json","parser":"json"}`, err: "bad.json: invalid JSON"},
		{name: "duplicate keys", input: `{"path":"dup.yaml","parser":"yaml"}`, err: "map keys must be unique"},
		{name: "yaml refuses several documents", input: `{"path":"multi.yaml","parser":"yaml"}`, err: "multiple documents"},
		{name: "unknown parser", input: `{"path":"notes.txt","parser":"toml"}`, err: "must be one of yaml, json, multiyaml"},
		{name: "missing", input: `{"path":"nope.txt"}`, err: "nope.txt: no such file"},
		{name: "dot dot", input: `{"path":"../x"}`, err: `contains ".."`},
	} {
		r := run(t, a, ws, tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
			continue
		}
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		if got := asJSON(r.out["content"]); got != tc.want {
			t.Errorf("%s: content = %s, want %s", tc.name, got, tc.want)
		}
	}

	out := outside(t)
	os.Symlink(filepath.Join(out, "secret.txt"), filepath.Join(ws, "link.txt"))
	r := run(t, a, ws, `{"path":"link.txt"}`)
	wantErr(t, "symlink out", r.err, "symbolic link")
	if r.out["content"] != nil {
		t.Errorf("content read through a link: %v", r.out["content"])
	}
}

func TestParseAliasBomb(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	ws := files(t, map[string]string{"bomb.yaml": bomb})
	r := run(t, find(t, newPlugin(t, nil), "roadiehq:utils:fs:parse"), ws, `{"path":"bomb.yaml","parser":"yaml"}`)
	wantErr(t, "alias bomb", r.err, "expands to more than")
}
