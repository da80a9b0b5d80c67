package roadie

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

func TestSerializeYAML(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:serialize:yaml")
	for _, tc := range []struct {
		name, input, want, err string
	}{
		{name: "order and quoting", input: `{"data":{"name":"cart","on":"yes","version":"1.0","n":1,"f":0.5,"list":["a",true,null],"empty":{},"text":"line1\nline2\n"}}`,
			want: "name: cart\non: yes\nversion: \"1.0\"\nn: 1\nf: 0.5\nlist:\n  - a\n  - true\n  - null\nempty: {}\ntext: |\n  line1\n  line2\n"},
		{name: "indent", input: `{"data":{"a":{"b":[1]}},"options":{"indent":4}}`, want: "a:\n    b:\n        - 1\n"},
		{name: "no data", input: `{}`, err: `input "data" is required`},
		{name: "bad indent", input: `{"data":{},"options":{"indent":0}}`, err: "options.indent"},
	} {
		r := run(t, a, "", tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
			continue
		}
		if r.err != nil || r.out["serialized"] != tc.want {
			t.Errorf("%s: %v\n%v\nwant\n%s", tc.name, r.err, r.out["serialized"], tc.want)
		}
	}
	r := run(t, a, "", `{"data":{"a":1},"options":{"lineWidth":0}}`)
	if r.err != nil || !strings.Contains(r.log(), `"lineWidth" is not supported`) {
		t.Errorf("ignored option: %v %q", r.err, r.log())
	}
}

func TestSerializeJSON(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:serialize:json")
	for _, tc := range []struct {
		name, input, want string
	}{
		{name: "compact", input: `{"data":{"b":"<&>","a":[1,2.5,1e21,null]}}`, want: `{"b":"<&>","a":[1,2.5,1e+21,null]}`},
		{name: "space string", input: `{"data":{"a":[1],"b":{}},"space":"\t"}`, want: "{\n\t\"a\": [\n\t\t1\n\t],\n\t\"b\": {}\n}"},
		{name: "space number", input: `{"data":{"a":1},"space":2}`, want: "{\n  \"a\": 1\n}"},
		{name: "replacer keeps names at every depth", input: `{"data":{"a":{"a":1,"b":2},"b":3,"c":[{"a":1,"z":2}]},"replacer":["a","c"]}`,
			want: `{"a":{"a":1},"c":[{"a":1}]}`},
		{name: "empty replacer", input: `{"data":{"a":1},"replacer":[]}`, want: `{}`},
		{name: "escapes", input: `{"data":{"s":"q\"b\\n\n\u0001\u2028"}}`, want: "{\"s\":\"q\\\"b\\\\n\\n\\u0001\u2028\"}"},
	} {
		r := run(t, a, "", tc.input)
		if r.err != nil || r.out["serialized"] != tc.want {
			t.Errorf("%s: %v %q, want %q", tc.name, r.err, r.out["serialized"], tc.want)
		}
	}
}

func TestSleep(t *testing.T) {
	p := newPlugin(t, map[string]any{"plugins": map[string]any{ID: map[string]any{"maxSleep": 5}}})
	a := find(t, p, "roadiehq:utils:sleep")
	if r := run(t, a, "", `{"amount":0}`); r.err != nil || r.log() != "Waiting 0 seconds" {
		t.Errorf("amount 0: %v %q", r.err, r.log())
	}
	wantErr(t, "too long", run(t, a, "", `{"amount":6}`).err, "sleep amount can not be greater than maxSleep. amount: 6, maxSleep: 5")
	wantErr(t, "missing", run(t, a, "", `{}`).err, "amount must be a number")
	wantErr(t, "not a number", run(t, a, "", `{"amount":"soon"}`).err, "amount must be a number")
	wantErr(t, "negative", run(t, a, "", `{"amount":-1}`).err, "must not be negative")

	// a cancelled task stops waiting (Run directly: action.Run would not
	// start a cancelled step at all)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := a.Run(&action.Context{Ctx: ctx, Input: map[string]any{"amount": float64(5)}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sleep: %v", err)
	}
}

func zipEntries(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func keys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

func TestZip(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:zip")
	start := map[string]string{"app/main.go": "package main\n", "app/sub/x.txt": "x", "README.md": "readme", "old.zip": "stale"}
	for _, tc := range []struct {
		name, input, out, entries string
		contents                  map[string]string
		err                       string
	}{
		{name: "directory", input: `{"path":"app","outputPath":"dist/app.zip"}`, out: "dist/app.zip",
			entries: "main.go sub/ sub/x.txt", contents: map[string]string{"main.go": "package main\n", "sub/x.txt": "x"}},
		{name: "file", input: `{"path":"README.md","outputPath":"readme.zip"}`, out: "readme.zip",
			entries: "README.md", contents: map[string]string{"README.md": "readme"}},
		{name: "workspace without its own output", input: `{"path":".","outputPath":"old.zip"}`, out: "old.zip",
			entries: "README.md app/ app/main.go app/sub/ app/sub/x.txt"},
		{name: "missing", input: `{"path":"nope","outputPath":"x.zip"}`, err: "File nope does not exist. Can't zip it."},
		{name: "output outside", input: `{"path":"app","outputPath":"../x.zip"}`, err: `outputPath: ../x.zip: path "../x.zip" contains ".."`},
		{name: "source outside", input: `{"path":"/etc","outputPath":"x.zip"}`, err: "is absolute"},
		{name: "no output path", input: `{"path":"app"}`, err: `input "outputPath" is required`},
	} {
		ws := files(t, start)
		r := run(t, a, ws, tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
			continue
		}
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		if r.out["outputPath"] != tc.out {
			t.Errorf("%s: outputPath %v", tc.name, r.out["outputPath"])
		}
		got := zipEntries(t, []byte(read(t, ws, tc.out)))
		if keys(got) != tc.entries {
			t.Errorf("%s: entries %q, want %q", tc.name, keys(got), tc.entries)
		}
		for k, v := range tc.contents {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got[k], v)
			}
		}
	}

	ws := files(t, start)
	out := outside(t)
	os.Symlink(out, filepath.Join(ws, "app", "linked"))
	r := run(t, a, ws, `{"path":"app","outputPath":"app.zip"}`)
	wantErr(t, "symlink inside", r.err, "linked is a symbolic link")
	if _, err := os.Stat(filepath.Join(ws, "app.zip")); err == nil {
		t.Error("a zip was written despite the error")
	}
	os.Symlink(out, filepath.Join(ws, "out"))
	wantErr(t, "symlinked source", run(t, a, ws, `{"path":"out","outputPath":"o.zip"}`).err, "symbolic link")
}

func TestYAMLRoundTrip(t *testing.T) {
	// strings that must be quoted to read back as the same strings
	in := `{"k":["", " lead", "trail ", "- x", ": a", "a: b", "#c", "a #c", "null", "~", "true", "1.0", "0x10", "1e3", ".inf", "@x", "` + "`x" + `", "*a", "&a", "!t", "%x", "{a}", "[a]", "'q'", "\"d\"", "multi\nline", "tab\there", "yes", "n", "2001-12-14", "<<"]}`
	v, err := parseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s, err := encodeYAML(yamlNode(v), yamlOptions{indent: 2})
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseYAML([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	if asJSON(back) != asJSON(v) {
		t.Errorf("round trip:\n%s\ngave %s\nwant %s", s, asJSON(back), asJSON(v))
	}
}
