package roadie

import (
	"os"
	"path/filepath"
	"testing"
)

const catalogYAML = `# The component
apiVersion: backstage.io/v1alpha1
kind: Component # kind
metadata:
  name: cart # the name
  # tags below
  tags:
    - a
    - b
  annotations: {x: 1}
spec:
  owner: team-a
# foot
`

const multiYAML = `apiVersion: v1
kind: Service
metadata:
  name: one # first
---
apiVersion: v1
kind: Deployment
metadata:
  name: two # second
spec:
  replicas: 1
`

func TestMerge(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:merge")
	start := map[string]string{
		"catalog-info.yaml": catalogYAML,
		"multi.yml":         multiYAML,
		"package.json":      "{\n    \"name\": \"cart\",\n    \"keywords\": [\"a\", \"b\"],\n    \"scripts\": {\"test\": \"jest\"}\n}\n",
		"notes.txt":         "x",
	}
	for _, tc := range []struct {
		name, input, file, want, err string
	}{
		{name: "json: deep merge, arrays by index, 2-space indent",
			input: `{"path":"package.json","content":{"scripts":{"lint":"eslint"},"keywords":["z"],"private":true}}`,
			file:  "package.json",
			want:  "{\n  \"name\": \"cart\",\n  \"keywords\": [\n    \"z\",\n    \"b\"\n  ],\n  \"scripts\": {\n    \"test\": \"jest\",\n    \"lint\": \"eslint\"\n  },\n  \"private\": true\n}"},
		{name: "json: mergeArrays concatenates and dedupes",
			input: `{"path":"package.json","content":{"keywords":["b","c","c"]},"mergeArrays":true}`,
			file:  "package.json",
			want:  "{\n  \"name\": \"cart\",\n  \"keywords\": [\n    \"a\",\n    \"b\",\n    \"c\"\n  ],\n  \"scripts\": {\n    \"test\": \"jest\"\n  }\n}"},
		{name: "json: content as a string",
			input: `{"path":"package.json","content":"{\"name\":\"basket\"}"}`,
			file:  "package.json",
			want:  "{\n  \"name\": \"basket\",\n  \"keywords\": [\n    \"a\",\n    \"b\"\n  ],\n  \"scripts\": {\n    \"test\": \"jest\"\n  }\n}"},
		{name: "yaml: comments dropped, arrays by index",
			input: `{"path":"catalog-info.yaml","content":{"metadata":{"name":"cart2","tags":["b","c","d"],"annotations":{"z":"2"}},"spec":{"owner":"team-b"}}}`,
			file:  "catalog-info.yaml",
			want: `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cart2
  tags:
    - b
    - c
    - d
  annotations:
    x: 1
    z: "2"
spec:
  owner: team-b
`},
		{name: "yaml: content as a YAML string, indent option",
			input: `{"path":"catalog-info.yaml","content":"spec:\n  lifecycle: production\n","options":{"indent":4}}`,
			file:  "catalog-info.yaml",
			want: `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
    name: cart
    tags:
        - a
        - b
    annotations:
        x: 1
spec:
    owner: team-a
    lifecycle: production
`},
		{name: "yaml: preserveYamlComments with mergeArrays",
			input: `{"path":"catalog-info.yaml","preserveYamlComments":true,"mergeArrays":true,"content":{"metadata":{"name":"cart2","tags":["b","c"],"labels":{"l":"v"}},"spec":{"owner":"team-b","list":[1,2]}}}`,
			file:  "catalog-info.yaml",
			want: `# The component
apiVersion: backstage.io/v1alpha1
kind: Component # kind
metadata:
  name: cart2 # the name
  # tags below
  tags:
    - a
    - b
    - c
  annotations: {x: 1}
  labels:
    l: v
spec:
  owner: team-b
  list:
    - 1
    - 2
# foot
`},
		{name: "multi-document: the one with the field",
			input: `{"path":"multi.yml","content":{"spec":{"replicas":3}},"useDocumentIncludingField":{"key":"kind","value":"Deployment"}}`,
			file:  "multi.yml",
			want: `apiVersion: v1
kind: Service
metadata:
  name: one
---
apiVersion: v1
kind: Deployment
metadata:
  name: two
spec:
  replicas: 3
`},
		{name: "multi-document with comments: a dotted path",
			input: `{"path":"multi.yml","preserveYamlComments":true,"content":{"metadata":{"labels":{"a":"b"}}},"useDocumentIncludingField":{"key":"metadata.name","value":"one"}}`,
			file:  "multi.yml",
			want: `apiVersion: v1
kind: Service
metadata:
  name: one # first
  labels:
    a: b
---
apiVersion: v1
kind: Deployment
metadata:
  name: two # second
spec:
  replicas: 1
`},
		{name: "multi-document without the field", input: `{"path":"multi.yml","content":{"a":1}}`, err: "Multiple documents found"},
		{name: "multi-document, the field missing in one", input: `{"path":"multi.yml","content":{"a":1},"useDocumentIncludingField":{"key":"spec","value":"x"}}`,
			err: `The value at "spec" defined in useDocumentIncludingField must be a string or a number.`},
		{name: "missing file", input: `{"path":"nope.yaml","content":{"a":1}}`, err: "The file nope.yaml does not exist."},
		{name: "bad content", input: `{"path":"package.json","content":"{nope"}`, err: `input "content": invalid JSON`},
		{name: "dot dot", input: `{"path":"../package.json","content":{"a":1}}`, err: `contains ".."`},
	} {
		ws := files(t, start)
		r := run(t, a, ws, tc.input)
		if tc.err != "" {
			wantErr(t, tc.name, r.err, tc.err)
			for f, s := range start {
				if got := read(t, ws, f); got != s {
					t.Errorf("%s: %s changed", tc.name, f)
				}
			}
			continue
		}
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		if got := read(t, ws, tc.file); got != tc.want {
			t.Errorf("%s: %s =\n%s\nwant\n%s", tc.name, tc.file, got, tc.want)
		}
		if r.out["path"] != filepath.Join(ws, tc.file) {
			t.Errorf("%s: output path %v", tc.name, r.out["path"])
		}
	}

	// another extension: left alone, no output, as Roadie does
	ws := files(t, start)
	r := run(t, a, ws, `{"path":"notes.txt","content":{"a":1}}`)
	if r.err != nil || read(t, ws, "notes.txt") != "x" || len(r.out) != 0 {
		t.Errorf("notes.txt: err %v, outputs %v", r.err, r.out)
	}

	// a symlink to a file outside is not read nor written
	out := outside(t)
	os.WriteFile(filepath.Join(out, "x.json"), []byte(`{"a":1}`), 0o644)
	os.Symlink(filepath.Join(out, "x.json"), filepath.Join(ws, "x.json"))
	wantErr(t, "symlink", run(t, a, ws, `{"path":"x.json","content":{"b":1}}`).err, "symbolic link")
	if got := read(t, out, "x.json"); got != `{"a":1}` {
		t.Errorf("the file outside changed: %s", got)
	}
}

func TestMergeValues(t *testing.T) {
	// lodash's merge, case by case
	for _, tc := range []struct {
		dst, src, want string
		concat         bool
	}{
		{`{"a":{"b":1}}`, `{"a":{"c":2}}`, `{"a":{"b":1,"c":2}}`, false},
		{`{"a":[{"x":1},{"y":2}]}`, `{"a":[{"z":3}]}`, `{"a":[{"x":1,"z":3},{"y":2}]}`, false},
		{`{"a":"s"}`, `{"a":{"b":1}}`, `{"a":{"b":1}}`, false},
		{`{"a":{"b":1}}`, `{"a":[1]}`, `{"a":[1]}`, false},
		{`{"a":1}`, `{"a":null}`, `{"a":null}`, false},
		{`{"a":[1,2]}`, `{"a":3}`, `{"a":[1,2,3]}`, true},
		{`{"a":[1,2,1]}`, `{"a":[2,{"o":1}]}`, `{"a":[1,2,{"o":1}]}`, true},
		{`{"a":"x"}`, `{"a":["y"]}`, `{"a":["y"]}`, true},
		{`[1,2,3]`, `[9]`, `[9,2,3]`, true}, // the root is merged, never concatenated
		{`null`, `{"a":1}`, `{"a":1}`, false},
		{`{"a":1}`, `5`, `{"a":1}`, false},
	} {
		dst, _ := parseJSON([]byte(tc.dst))
		src, _ := parseJSON([]byte(tc.src))
		got, err := merger{concat: tc.concat}.root(dst, src)
		if err != nil {
			t.Errorf("%s + %s: %v", tc.dst, tc.src, err)
			continue
		}
		if s := asJSON(got); s != tc.want {
			t.Errorf("%s + %s (concat %v) = %s, want %s", tc.dst, tc.src, tc.concat, s, tc.want)
		}
	}
}

func TestJSONMerge(t *testing.T) {
	a := find(t, newPlugin(t, nil), "roadiehq:utils:json:merge")
	for _, tc := range []struct {
		name, input, want string
	}{
		{name: "missing file is created", input: `{"path":"new/x.json","content":{"a":1}}`, want: "{\n  \"a\": 1\n}"},
		{name: "match the file's indent", input: `{"path":"four.json","content":{"b":{"c":true}},"matchFileIndent":true}`,
			want: "{\n    \"a\": [\n        1\n    ],\n    \"b\": {\n        \"c\": true\n    }\n}"},
		{name: "mergeArrays", input: `{"path":"four.json","content":"{\"a\":[1,2]}","mergeArrays":true}`,
			want: "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
	} {
		ws := files(t, map[string]string{"four.json": "{\n    \"a\": [\n        1\n    ]\n}\n"})
		r := run(t, a, ws, tc.input)
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		rel := filepath.Base(r.out["path"].(string))
		if rel == "x.json" {
			rel = "new/x.json"
		}
		if got := read(t, ws, rel); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		`{"path":"/abs.json","content":{"a":1}}`: "is absolute",
		`{"path":"x.json"}`:                      `input "content" is required`,
		`{"path":"x.json","content":3}`:          "must be an object or a string",
	} {
		wantErr(t, in, run(t, a, t.TempDir(), in).err, want)
	}
}

func TestDetectIndent(t *testing.T) {
	for in, want := range map[string]string{
		"{\n  \"a\": {\n    \"b\": 1\n  }\n}": "  ",
		"{\n    \"a\": 1\n}":                  "    ",
		"{\n\t\"a\": 1\n}":                    "\t",
		`{"a":1}`:                             "",
	} {
		if got := detectIndent(in); got != want {
			t.Errorf("detectIndent(%q) = %q, want %q", in, got, want)
		}
	}
}
