package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

// oracleRecord is one line of fixtures.validated.jsonl: Backstage's verdict
// on one document of the oracle fixtures.
type oracleRecord struct {
	File      string          `json:"file"`
	Index     int             `json:"index"`
	Ref       string          `json:"ref"`
	OK        bool            `json:"ok"`
	Stage     string          `json:"stage"`
	Ignored   bool            `json:"ignored"`
	Error     string          `json:"error"`
	Entity    json.RawMessage `json:"entity"`
	Relations json.RawMessage `json:"relations"`
}

// lintFixtureDir holds copies of Backstage's oracle fixtures: the four
// YAML files and Backstage's verdicts on them.
const lintFixtureDir = "testdata/lint"

var lintFixtureFiles = []string{
	"01-names-and-formats.yaml",
	"02-envelope-and-kinds.yaml",
	"03-yaml-edge-cases.yaml",
	"04-relations.yaml",
}

// messageExceptions lists the documents whose error text legitimately differs
// from Backstage's, with the start of Greenroom's own message. Both sides
// must still reject the document.
var messageExceptions = map[string]string{
	// Backstage cannot resolve a relative placeholder in a file location
	// ("could not form a URL out of …, TypeError: Invalid URL"); Greenroom
	// deliberately resolves it against the file, inside the repository, and
	// fails because ./openapi.yaml does not exist.
	"03-yaml-edge-cases.yaml#7": "InputError: Processor PlaceholderProcessor threw an error while preprocessing; caused by Error: Placeholder $text could not read location ./openapi.yaml, ",
}

func loadOracle(t *testing.T) []oracleRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(lintFixtureDir, "fixtures.validated.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []oracleRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r oracleRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad oracle line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonValue turns a marshalled value into plain JSON values for comparison.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return v
}

func marshalValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return jsonValue(t, b)
}

// TestLintOracleFixtures runs Lint over the oracle fixtures in one call (so
// relations are stitched across all four files, as in the oracle run) and
// compares every document's verdict with Backstage's.
func TestLintOracleFixtures(t *testing.T) {
	want := loadOracle(t)
	if len(want) == 0 {
		t.Fatal("no oracle records")
	}
	absDir, err := filepath.Abs(lintFixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range lintFixtureFiles {
		files = append(files, filepath.Join(lintFixtureDir, f))
	}
	got := Lint(context.Background(), files, LintOptions{})

	type key struct {
		file  string
		index int
	}
	byKey := map[key]LintResult{}
	for _, r := range got {
		k := key{filepath.Base(r.File), r.Index}
		if _, dup := byKey[k]; dup {
			t.Errorf("Lint returned %s#%d twice", k.file, k.index)
		}
		byKey[k] = r
	}
	if len(got) != len(want) {
		t.Errorf("Lint returned %d results, the oracle has %d", len(got), len(want))
	}
	// Messages name the file as file:<absolute path>; the oracle ran with
	// paths relative to its own directory ("fixtures/…").
	normalise := func(s string) string {
		return strings.ReplaceAll(s, absDir+string(filepath.Separator), "fixtures/")
	}

	usedExceptions := map[string]bool{}
	for _, w := range want {
		base := strings.TrimPrefix(w.File, "fixtures/")
		name := fmt.Sprintf("%s#%d", base, w.Index)
		t.Run(name, func(t *testing.T) {
			g, ok := byKey[key{base, w.Index}]
			if !ok {
				t.Fatalf("no Lint result")
			}
			if g.OK != w.OK {
				t.Fatalf("ok = %v, Backstage says %v (error %q)", g.OK, w.OK, g.Error)
			}
			if g.Ignored != w.Ignored {
				t.Errorf("ignored = %v, want %v", g.Ignored, w.Ignored)
			}
			if w.Ref != "" && g.Ref != "" && g.Ref != w.Ref {
				t.Errorf("ref = %q, want %q", g.Ref, w.Ref)
			}
			if w.OK {
				if w.Ignored {
					return
				}
				if gv, wv := marshalValue(t, g.Entity), jsonValue(t, w.Entity); !reflect.DeepEqual(gv, wv) {
					t.Errorf("entity differs\n got: %s\nwant: %s", mustJSON(gv), mustJSON(wv))
				}
				if gv, wv := marshalValue(t, g.Relations), jsonValue(t, w.Relations); !reflect.DeepEqual(gv, wv) {
					t.Errorf("relations differ\n got: %s\nwant: %s", mustJSON(gv), mustJSON(wv))
				}
				return
			}
			if g.Stage != w.Stage {
				t.Errorf("stage = %q, want %q", g.Stage, w.Stage)
			}
			gotErr := normalise(g.Error)
			switch {
			case messageExceptions[name] != "":
				usedExceptions[name] = true
				if !strings.HasPrefix(gotErr, messageExceptions[name]) {
					t.Errorf("error = %q, want prefix %q", gotErr, messageExceptions[name])
				}
			case w.Stage == catalog.StageParse && strings.HasPrefix(w.Error, "Error: YAML error at"):
				// The YAML parser's own wording differs (yaml.v3 vs the npm
				// yaml package); only the frame must match.
				prefix := "Error: YAML error at file:fixtures/" + base + ", YAMLParseError: "
				if !strings.HasPrefix(gotErr, prefix) {
					t.Errorf("error = %q, want prefix %q", gotErr, prefix)
				}
			default:
				if gotErr != w.Error {
					t.Errorf("error differs\n got: %s\nwant: %s", gotErr, w.Error)
				}
			}
		})
	}
	for name := range messageExceptions {
		if !usedExceptions[name] {
			t.Errorf("message exception %s is not used by any rejected document", name)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// writeFiles creates files (name → content) under a new temporary directory
// and returns it, with symlinks resolved so paths compare as Lint sees them.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type lintVerdict struct {
	file  string
	index int
	ok    bool
	stage string
	err   string
}

func verdicts(dir string, results []LintResult) []lintVerdict {
	var out []lintVerdict
	for _, r := range results {
		rel, _ := filepath.Rel(dir, r.File)
		out = append(out, lintVerdict{filepath.ToSlash(rel), r.Index, r.OK, r.Stage, strings.ReplaceAll(r.Error, dir, "<dir>")})
	}
	return out
}

// TestLintRules checks that with Backstage's default rules one disallowed
// entity fails every entity of its file (checked against validate.mjs
// --rules=default), while other files are unaffected.
func TestLintRules(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"mixed.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: c1}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jdoe}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: c2}
spec: {type: service, lifecycle: production}
---
- not an entity
---
`,
		"ok.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: c3}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: a1}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: x}
`,
	})
	notAllowed := "NotAllowedError: Entity user:default/jdoe at file:<dir>/mixed.yaml, originated at file:<dir>/mixed.yaml, is not of an allowed kind for that location"
	want := []lintVerdict{
		{"mixed.yaml", 0, false, catalog.StageRules, notAllowed},
		{"mixed.yaml", 1, false, catalog.StageRules, notAllowed},
		{"mixed.yaml", 2, false, catalog.StageRules, notAllowed},
		{"mixed.yaml", 3, false, catalog.StageParse, "Error: Expected object at root, got object"},
		{"mixed.yaml", 4, true, "", ""},
		{"ok.yaml", 0, true, "", ""},
		{"ok.yaml", 1, true, "", ""},
	}
	files := []string{filepath.Join(dir, "mixed.yaml"), filepath.Join(dir, "ok.yaml")}
	got := verdicts(dir, Lint(context.Background(), files, LintOptions{Rules: catalog.DefaultRules()}))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("verdicts differ\n got: %+v\nwant: %+v", got, want)
	}

	// Without rules the User is accepted and only c2 fails.
	got = verdicts(dir, Lint(context.Background(), files, LintOptions{}))
	for _, v := range got {
		wantOK := !(v.file == "mixed.yaml" && (v.index == 2 || v.index == 3))
		if v.ok != wantOK {
			t.Errorf("without rules %s#%d ok = %v (%s)", v.file, v.index, v.ok, v.err)
		}
	}
}

// TestLintStitchedRelations checks that an entity's relations include the
// edges other entities of the run point at it, sorted and without duplicates.
func TestLintStitchedRelations(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: service, lifecycle: production, owner: team-a, providesApis: [api-b, api-a]}
`,
		"b.yaml": `apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: api-a}
spec: {type: openapi, lifecycle: production, owner: group:default/team-a, definition: x}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jdoe, namespace: people}
spec: {memberOf: [default/team-a, default/team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken}
spec: {type: service, lifecycle: production, owner: team-a, dependsOn: [db1]}
`,
	})
	results := Lint(context.Background(), []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")}, LintOptions{})
	want := map[string][]catalog.Relation{
		"group:default/team-a": {
			{Type: "hasMember", TargetRef: "user:people/jdoe"},
			{Type: "ownerOf", TargetRef: "api:default/api-a"},
			{Type: "ownerOf", TargetRef: "component:default/svc"},
		},
		"component:default/svc": {
			{Type: "ownedBy", TargetRef: "group:default/team-a"},
			{Type: "providesApi", TargetRef: "api:default/api-a"},
			{Type: "providesApi", TargetRef: "api:default/api-b"},
		},
		"api:default/api-a": {
			{Type: "apiProvidedBy", TargetRef: "component:default/svc"},
			{Type: "ownedBy", TargetRef: "group:default/team-a"},
		},
		"user:people/jdoe": {
			{Type: "memberOf", TargetRef: "group:default/team-a"},
		},
	}
	seen := map[string]bool{}
	for _, r := range results {
		if !r.OK {
			if r.Ref != "component:default/broken" {
				t.Errorf("%s#%d rejected: %s", r.File, r.Index, r.Error)
			}
			if r.Relations != nil {
				t.Errorf("rejected entity has relations %v", r.Relations)
			}
			continue
		}
		seen[r.Ref] = true
		if w, ok := want[r.Ref]; !ok {
			t.Errorf("unexpected entity %s", r.Ref)
		} else if !reflect.DeepEqual(r.Relations, w) {
			t.Errorf("%s relations\n got: %v\nwant: %v", r.Ref, r.Relations, w)
		}
		if r.Entity.Metadata.Annotations != nil {
			t.Errorf("%s keeps location annotations: %v", r.Ref, r.Entity.Metadata.Annotations)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("accepted %v, want %d entities", seen, len(want))
	}
	// The stored providesApis list is sorted.
	for _, r := range results {
		if r.Ref == "component:default/svc" {
			if got := mustJSON(r.Entity.Spec["providesApis"]); got != `["api-a","api-b"]` {
				t.Errorf("providesApis = %s", got)
			}
		}
	}
	// A rejected document (the broken one) contributes no edges: nothing
	// points at db1 or from broken.
	for _, r := range results {
		for _, rel := range r.Relations {
			if strings.Contains(rel.TargetRef, "broken") {
				t.Errorf("%s has a relation to a rejected entity: %v", r.Ref, rel)
			}
		}
	}
}

func TestLintPlaceholdersAndMissingFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"repo/.git/HEAD":         "ref: refs/heads/main\n",
		"repo/docs/openapi.yaml": "openapi: 3.0.0\n",
		"repo/svc/catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: a}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: {$text: ../docs/openapi.yaml}
`,
	})
	results := Lint(context.Background(), []string{
		filepath.Join(dir, "repo/svc/catalog-info.yaml"),
		filepath.Join(dir, "repo/missing.yaml"),
	}, LintOptions{})
	if len(results) != 2 {
		t.Fatalf("got %d results", len(results))
	}
	if r := results[0]; !r.OK {
		t.Errorf("placeholder inside the repository failed: %s", r.Error)
	} else if got := r.Entity.Spec["definition"]; got != "openapi: 3.0.0\n" {
		t.Errorf("definition = %q", got)
	}
	if r := results[1]; r.OK || r.Stage != catalog.StageParse || !strings.Contains(r.Error, "missing.yaml does not exist") {
		t.Errorf("missing file: %+v", r)
	}
}

// TestPlaceholderReader reads placeholders for file locations from real
// files: inside the root only, symlinks included.
func TestPlaceholderReader(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"root/svc/catalog-info.yaml": "",
		"root/svc/api.yaml":          "api",
		"root/common/schema.json":    "{}",
		"outside/secret.txt":         "secret",
	})
	root := filepath.Join(dir, "root")
	if err := os.Symlink(filepath.Join(dir, "outside", "secret.txt"), filepath.Join(root, "svc", "link.txt")); err != nil {
		t.Skipf("symlinks not supported: %v", err)
	}
	if err := os.Symlink(filepath.Join(root, "common"), filepath.Join(root, "svc", "common-link")); err != nil {
		t.Fatal(err)
	}
	base := catalog.LocationRef{Type: "file", Target: filepath.Join(root, "svc", "catalog-info.yaml")}
	read := PlaceholderReader(nil, root)
	tests := []struct {
		name        string
		base        catalog.LocationRef
		value       string
		want        string
		wantResolve bool   // a *catalog.ResolveError
		wantErr     string // substring of the error
	}{
		{name: "file next to the entity", base: base, value: "api.yaml", want: "api"},
		{name: "dot-relative path", base: base, value: "./api.yaml", want: "api"},
		{name: "sibling directory inside the root", base: base, value: "../common/schema.json", want: "{}"},
		{name: "symlink to a directory inside the root", base: base, value: "common-link/schema.json", want: "{}"},
		{name: "traversal outside the root", base: base, value: "../../etc/passwd", wantResolve: true, wantErr: "leaves the location's root"},
		{name: "traversal to a sibling of the root", base: base, value: "../../outside/secret.txt", wantResolve: true, wantErr: "leaves the location's root"},
		{name: "absolute path outside the root", base: base, value: "/etc/passwd", wantResolve: true, wantErr: "leaves the location's root"},
		{name: "symlink pointing outside the root", base: base, value: "link.txt", wantErr: "resolves outside of"},
		{name: "missing file", base: base, value: "nope.yaml", wantErr: "does not exist"},
		{name: "directory", base: base, value: "../common", wantErr: "is not a regular file"},
		{name: "absolute URL without a fetcher", base: base, value: "https://example.com/x", wantErr: "reading URLs is not enabled"},
		{name: "unsupported location type", base: catalog.LocationRef{Type: "github-org", Target: "x"}, value: "a", wantResolve: true, wantErr: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := read(context.Background(), tt.base, tt.value)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(data) != tt.want {
					t.Errorf("read %q, want %q", data, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("read %q, want an error", data)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			var re *catalog.ResolveError
			if isResolve := errors.As(err, &re); isResolve != tt.wantResolve {
				t.Errorf("ResolveError = %v, want %v (%T: %v)", isResolve, tt.wantResolve, err, err)
			}
		})
	}
}

// fakeFetcher serves URLs from a map.
type fakeFetcher map[string]string

func (f fakeFetcher) Fetch(_ context.Context, u string) ([]byte, error) {
	if s, ok := f[u]; ok {
		return []byte(s), nil
	}
	return nil, &NotFoundError{Target: u}
}

func TestPlaceholderReaderURLs(t *testing.T) {
	fetch := fakeFetcher{
		"https://example.com/o/r/docs/api.yaml": "api",
		"https://cdn.example.org/x.json":        "{}",
	}
	read := PlaceholderReader(fetch, "")
	base := catalog.LocationRef{Type: "url", Target: "https://example.com/o/r/svc/catalog-info.yaml"}
	tests := []struct {
		name        string
		value       string
		want        string
		wantResolve bool
		wantErr     string
	}{
		{name: "relative to the url", value: "../docs/api.yaml", want: "api"},
		{name: "absolute url", value: "https://cdn.example.org/x.json", want: "{}"},
		{name: "protocol-relative url to another host", value: "//evil.example.net/x", wantResolve: true, wantErr: "same repository"},
		{name: "missing", value: "nope.yaml", wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := read(context.Background(), base, tt.value)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(data) != tt.want {
					t.Errorf("read %q, want %q", data, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
			var re *catalog.ResolveError
			if errors.As(err, &re) != tt.wantResolve {
				t.Errorf("ResolveError = %v, want %v", !tt.wantResolve, tt.wantResolve)
			}
		})
	}
}
