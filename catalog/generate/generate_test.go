package generate

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var (
	nameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	tagRE  = regexp.MustCompile(`^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$`)
)

func TestDeterministic(t *testing.T) {
	a := Entities(2000, 42)
	b := Entities(2000, 42)
	if len(a) != len(b) {
		t.Fatalf("lengths differ: %d vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("document %d differs between runs", i)
		}
	}
	c := Entities(2000, 43)
	same := 0
	for i := range a {
		if a[i].YAML == c[i].YAML {
			same++
		}
	}
	if same > len(a)/10 {
		t.Errorf("%d of %d documents identical across seeds; seed seems ignored", same, len(a))
	}

	d1, d2 := t.TempDir(), t.TempDir()
	if _, err := Write(d1, 1234, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(d2, 1234, 7); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(d1)
	for _, f := range files {
		x, _ := os.ReadFile(filepath.Join(d1, f.Name()))
		y, err := os.ReadFile(filepath.Join(d2, f.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs (err %v)", f.Name(), err)
		}
	}
}

func TestCountsSumAndMinimums(t *testing.T) {
	for n := 0; n <= 500; n++ {
		c := kindCounts(n)
		sum := 0
		for _, v := range c {
			sum += v
		}
		if sum != n {
			t.Fatalf("n=%d: counts sum to %d", n, sum)
		}
		if n >= 1 && c[kGroup] < 1 {
			t.Errorf("n=%d: no group", n)
		}
		if n >= 10 && (c[kSystem] < 1 || c[kDomain] < 1) {
			t.Errorf("n=%d: counts %v lack a system or domain", n, c)
		}
	}
}

func TestProportions(t *testing.T) {
	const n = 10000
	want := map[string]float64{
		"Component": 55, "API": 15, "Resource": 10, "User": 10,
		"Group": 5, "System": 3, "Domain": 1, "Template": 1,
	}
	got := map[string]int{}
	for d := range All(n, 1) {
		got[d.Kind]++
	}
	for k, pct := range want {
		p := 100 * float64(got[k]) / n
		if math.Abs(p-pct) > 1 {
			t.Errorf("%s: %.2f%%, want %.0f%% ±1", k, p, pct)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected kinds: %v", got)
	}
}

// ref is a parsed entity ref in canonical lowercase "kind:namespace/name".
func parseRef(s, defaultKind string) string {
	kind, rest := defaultKind, s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		kind, rest = s[:i], s[i+1:]
	}
	ns, name := "default", rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		ns, name = rest[:i], rest[i+1:]
	}
	return strings.ToLower(kind + ":" + ns + "/" + name)
}

func str(m map[string]any, key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok && s != ""
}

func strList(t *testing.T, where string, v any) []string {
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		t.Errorf("%s: not a list: %#v", where, v)
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			t.Errorf("%s: non-string item %#v", where, x)
			continue
		}
		out = append(out, s)
	}
	return out
}

type pendingRef struct{ from, field, ref string }

func TestDocumentsValidAndRefsResolve(t *testing.T) {
	for _, n := range []int{1, 7, 10, 57, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { checkCatalog(t, n, uint64(n)) })
	}
}

func checkCatalog(t *testing.T, n int, seed uint64) {
	refs := map[string]bool{}
	var pending []pendingRef
	need := func(from, field, raw, defaultKind string) {
		pending = append(pending, pendingRef{from, field, parseRef(raw, defaultKind)})
	}
	docs := Entities(n, seed)
	if len(docs) != n {
		t.Fatalf("got %d documents, want %d", len(docs), n)
	}
	for _, d := range docs {
		var e map[string]any
		if err := yaml.Unmarshal([]byte(d.YAML), &e); err != nil {
			t.Fatalf("%s: %v\n%s", d.Ref, err, d.YAML)
		}
		kind, _ := str(e, "kind")
		if kind != d.Kind {
			t.Errorf("%s: kind %q, Document.Kind %q", d.Ref, kind, d.Kind)
		}
		wantAPI := "backstage.io/v1alpha1"
		if kind == "Template" {
			wantAPI = "scaffolder.backstage.io/v1beta3"
		}
		if v, _ := str(e, "apiVersion"); v != wantAPI {
			t.Errorf("%s: apiVersion %q", d.Ref, v)
		}
		md, _ := e["metadata"].(map[string]any)
		name, _ := str(md, "name")
		if len(name) > 63 || !nameRE.MatchString(name) {
			t.Errorf("%s: invalid name %q", d.Ref, name)
		}
		if _, ok := str(md, "description"); !ok {
			t.Errorf("%s: no description", d.Ref)
		}
		tags := strList(t, d.Ref+" tags", md["tags"])
		if len(tags) < 1 || len(tags) > 4 {
			t.Errorf("%s: %d tags", d.Ref, len(tags))
		}
		for _, tag := range tags {
			if len(tag) > 63 || !tagRE.MatchString(tag) {
				t.Errorf("%s: invalid tag %q", d.Ref, tag)
			}
		}
		ref := parseRef(kind+":"+name, "")
		if ref != d.Ref {
			t.Errorf("Document.Ref %q, YAML says %q", d.Ref, ref)
		}
		if refs[ref] {
			t.Errorf("duplicate entity %s", ref)
		}
		refs[ref] = true

		spec, ok := e["spec"].(map[string]any)
		if !ok {
			t.Errorf("%s: no spec", d.Ref)
			continue
		}
		required := map[string][]string{
			"Component": {"type", "lifecycle", "owner"},
			"API":       {"type", "lifecycle", "owner", "definition"},
			"Resource":  {"type", "owner"},
			"System":    {"owner"},
			"Domain":    {"owner"},
			"Group":     {"type"},
			"Template":  {"type", "owner"},
		}[kind]
		for _, f := range required {
			if _, ok := str(spec, f); !ok {
				t.Errorf("%s: spec.%s missing", d.Ref, f)
			}
		}
		if o, ok := str(spec, "owner"); ok {
			need(d.Ref, "owner", o, "group")
		}
		if s, ok := str(spec, "system"); ok {
			need(d.Ref, "system", s, "system")
		}
		if s, ok := str(spec, "domain"); ok {
			need(d.Ref, "domain", s, "domain")
		}
		if s, ok := str(spec, "parent"); ok {
			need(d.Ref, "parent", s, "group")
		}
		switch kind {
		case "Component":
			if n >= 100 {
				if _, ok := str(spec, "system"); !ok {
					t.Errorf("%s: no system", d.Ref)
				}
			}
			deps := strList(t, d.Ref, spec["dependsOn"])
			if len(deps) > 3 {
				t.Errorf("%s: %d dependsOn", d.Ref, len(deps))
			}
			for _, s := range deps {
				if !strings.HasPrefix(s, "component:") && !strings.HasPrefix(s, "resource:") {
					t.Errorf("%s: dependsOn %q lacks a kind", d.Ref, s)
				}
				if parseRef(s, "") == d.Ref {
					t.Errorf("%s depends on itself", d.Ref)
				}
				need(d.Ref, "dependsOn", s, "")
			}
			p := strList(t, d.Ref, spec["providesApis"])
			c := strList(t, d.Ref, spec["consumesApis"])
			if len(p) > 2 || len(c) > 3 {
				t.Errorf("%s: %d providesApis, %d consumesApis", d.Ref, len(p), len(c))
			}
			for _, s := range append(p, c...) {
				need(d.Ref, "apis", s, "api")
			}
		case "Group":
			ch, ok := spec["children"].([]any)
			if !ok || len(ch) != 0 {
				t.Errorf("%s: children %#v", d.Ref, spec["children"])
			}
			prof, _ := spec["profile"].(map[string]any)
			if _, ok := str(prof, "email"); !ok {
				t.Errorf("%s: no profile email", d.Ref)
			}
		case "User":
			m := strList(t, d.Ref, spec["memberOf"])
			if len(m) < 1 || len(m) > 2 {
				t.Errorf("%s: %d memberOf", d.Ref, len(m))
			}
			for _, s := range m {
				need(d.Ref, "memberOf", s, "group")
			}
		case "Template":
			steps, _ := spec["steps"].([]any)
			if len(steps) != 1 {
				t.Fatalf("%s: steps %#v", d.Ref, spec["steps"])
			}
			st, _ := steps[0].(map[string]any)
			in, _ := st["input"].(map[string]any)
			if st["id"] != "fetch" || st["action"] != "fetch:template" || in["url"] != "./skeleton" {
				t.Errorf("%s: unexpected step %#v", d.Ref, st)
			}
			if _, ok := spec["parameters"].(map[string]any); !ok {
				t.Errorf("%s: parameters %#v", d.Ref, spec["parameters"])
			}
		}
	}
	for _, p := range pending {
		if !refs[p.ref] {
			t.Errorf("%s: %s ref %s does not resolve", p.from, p.field, p.ref)
		}
	}
}

// Parent chains must end at a root, otherwise the hierarchy has a cycle.
func TestGroupHierarchyIsAForest(t *testing.T) {
	parent := map[string]string{}
	roots := 0
	for d := range All(5000, 3) {
		if d.Kind != "Group" {
			continue
		}
		var e struct {
			Metadata struct{ Name string }
			Spec     struct{ Parent string }
		}
		if err := yaml.Unmarshal([]byte(d.YAML), &e); err != nil {
			t.Fatal(err)
		}
		if e.Spec.Parent == "" {
			roots++
		} else if _, ok := parent[e.Spec.Parent]; !ok {
			t.Errorf("%s: parent %s not declared earlier", e.Metadata.Name, e.Spec.Parent)
		}
		parent[e.Metadata.Name] = e.Spec.Parent
	}
	if roots < 1 || roots > 10 {
		t.Errorf("%d root groups, want a few", roots)
	}
}

func TestSearchableWords(t *testing.T) {
	var names, descs strings.Builder
	for d := range All(1000, 9) {
		var e struct {
			Metadata struct{ Name, Description string }
		}
		if err := yaml.Unmarshal([]byte(d.YAML), &e); err != nil {
			t.Fatal(err)
		}
		names.WriteString(e.Metadata.Name + " ")
		descs.WriteString(e.Metadata.Description + " ")
	}
	for _, w := range []string{"payments", "orders", "search"} {
		if strings.Count(names.String(), w) < 10 || strings.Count(descs.String(), w) < 10 {
			t.Errorf("too few occurrences of %q in names or descriptions", w)
		}
	}
}

func TestWrite(t *testing.T) {
	for _, n := range []int{0, 1, 100, 101, 2550} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			st, err := Write(dir, n, 5)
			if err != nil {
				t.Fatal(err)
			}
			wantFiles := (n + EntitiesPerFile - 1) / EntitiesPerFile
			if st.Files != wantFiles || st.Entities != n {
				t.Errorf("stats %+v, want %d files", st, wantFiles)
			}
			for k, v := range Counts(n) {
				if st.Kinds[k] != v {
					t.Errorf("stats %s = %d, want %d", k, st.Kinds[k], v)
				}
			}

			var loc struct {
				Kind     string
				Metadata struct{ Name string }
				Spec     struct{ Targets []string }
			}
			all, err := os.ReadFile(filepath.Join(dir, "all.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(all, &loc); err != nil {
				t.Fatal(err)
			}
			if loc.Kind != "Location" || loc.Metadata.Name != "generated-catalog" || len(loc.Spec.Targets) != wantFiles {
				t.Fatalf("bad location: %+v", loc)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != wantFiles+1 {
				t.Errorf("%d files in dir, want %d", len(entries), wantFiles+1)
			}

			size := int64(len(all))
			var fromFiles []string
			for i, target := range loc.Spec.Targets {
				if want := fmt.Sprintf("./entities-%04d.yaml", i); target != want {
					t.Errorf("target %d = %q, want %q", i, target, want)
				}
				data, err := os.ReadFile(filepath.Join(dir, target))
				if err != nil {
					t.Fatal(err)
				}
				size += int64(len(data))
				dec := yaml.NewDecoder(bytes.NewReader(data))
				count := 0
				for {
					var e struct{ Kind string }
					if err := dec.Decode(&e); err != nil {
						break
					}
					count++
				}
				want := min(EntitiesPerFile, n-i*EntitiesPerFile)
				if count != want {
					t.Errorf("%s: %d documents, want %d", target, count, want)
				}
				fromFiles = append(fromFiles, string(data))
			}
			if size != st.Bytes {
				t.Errorf("stats bytes %d, files hold %d", st.Bytes, size)
			}
			var fromIter strings.Builder
			for d := range All(n, 5) {
				fromIter.WriteString("---\n" + d.YAML)
			}
			if strings.Join(fromFiles, "") != fromIter.String() {
				t.Error("files differ from All output")
			}
		})
	}
}

func BenchmarkWrite100k(b *testing.B) {
	dir := b.TempDir()
	var st Stats
	for b.Loop() {
		var err error
		if st, err = Write(dir, 100_000, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Bytes)/1e6, "MB/catalog")
}

func BenchmarkAll10k(b *testing.B) {
	for b.Loop() {
		for range All(10_000, 1) {
		}
	}
}
