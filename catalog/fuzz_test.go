package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// yamlSeeds are inputs for the YAML fuzzers: the shapes the unit tests
// exercise, plus a few hostile ones.
var yamlSeeds = []string{
	"",
	"---\n",
	"a: 1\n---\nb: 2\n",
	"a: 1\n...\nb: 2\n",
	"--- foo\n--- {a: 1}\n",
	"# c\n---\na: 1\n",
	"%YAML 1.2\n---\na: 1\n",
	"a: 1\na: 2\n",
	"a: 1\n---\nb: [\n---\nc: 3\n",
	"a: {<<: {b: 1}, c: 2}\n",
	"a: &n x\nb: *n\n",
	"? [a, b]\n: c\n",
	"a: !!binary aGk=\nb: !ENV x\nc: !!int 0x1F\nd: !!float .inf\n",
	"a: yes\nb: 0o17\nc: .inf\nd: ~\ne: 1e400\nf: -0\n",
	billionLaughs(4, 4),
	"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n",
	"\xef\xbb\xbfa: 1\r\n---\r\nb: 2",
	component("x", "labels: {a: b}", "tags: [java]", "links: [{url: 'https://x'}]"),
	entityDoc(APIVersionV1alpha1, "Location", "{targets: [./a.yaml, ../b/, '']}"),
	entityDoc(APIVersionV1alpha1, "Group", "{type: t, children: [a, {kind: group, name: b}], parent: 'x:'}"),
	entityDoc(APIVersionV1alpha1, "Component", "{type: s, lifecycle: l, owner: o, dependsOn: [db1], dependencyOf: [null, 1, {}]}"),
	entityDoc(TemplateAPIVersion, "Template", "{type: s, steps: [{action: a, if: true}], parameters: [{}], output: {x: y}}"),
	"apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: x}\nspec: {type: a, lifecycle: b, owner: c, definition: {$text: d}}\n",
	"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x, annotations: {a: [1]}, labels: 3, tags: {}}\nspec: []\n",
	"apiVersion: 1\nkind: []\nmetadata: {name: {}}\n",
	component("x", "customField: [1e400, -.inf, .nan, 0x1FFFFFFFFFFFFFFFFFFFF, -0]"),
}

func FuzzParseDocuments(f *testing.F) {
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, d := range ParseDocuments(data) {
			if d.Index != i {
				t.Fatalf("document %d has Index %d", i, d.Index)
			}
			if d.Err != nil && d.Value != nil {
				t.Fatalf("document %d has both a value and an error", i)
			}
		}
	})
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"", "a", "team-a", "group:team-a", "group:ns/team-a", "a/b:c", "k:n:m", "k:ns/a/b",
		":x", "/x", "a:/x", "ns/", "group:", "Group:Ns/Name", "İ:K/ǅ", "\xff:\xfe/\xfd",
	} {
		f.Add(s, "")
		f.Add(s, "Group")
	}
	f.Fuzz(func(t *testing.T, s, defaultKind string) {
		if strings.ContainsAny(defaultKind, ":/") {
			// Defaults come from code, never from input; a kind with a
			// separator in it cannot round-trip through a ref string.
			return
		}
		r, err := ParseRef(s, RefDefaults{Kind: defaultKind})
		if err != nil {
			var be *Error
			if !errors.As(err, &be) {
				t.Fatalf("ParseRef(%q) error is %T, not *Error", s, err)
			}
			return
		}
		if r.Kind == "" || r.Namespace == "" || r.Name == "" {
			t.Fatalf("ParseRef(%q) = %+v has an empty part", s, r)
		}
		again, err := ParseRef(r.String(), RefDefaults{})
		if err != nil {
			t.Fatalf("ParseRef(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
		if !again.Equal(r) {
			t.Fatalf("round trip of %q: %+v != %+v", s, again, r)
		}
	})
}

func FuzzProcess(f *testing.F) {
	for _, s := range yamlSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, urlLocation bool) {
		src := testSource
		if urlLocation {
			loc := LocationRef{"url", "https://github.com/o/r/blob/main/catalog-info.yaml"}
			src = Source{Location: loc, Origin: loc}
		}
		read := func(_ context.Context, _ LocationRef, value string) ([]byte, error) {
			switch len(value) % 3 {
			case 0:
				return data, nil
			case 1:
				return nil, &ResolveError{Err: errors.New("nope")}
			}
			return nil, errors.New("unreadable")
		}
		p := &Processor{ReadPlaceholder: read}
		for _, d := range ParseDocuments(data) {
			if d.Err != nil || d.Value == nil {
				continue
			}
			raw, err := Envelope(d.Value, src)
			if err != nil {
				var re *RejectError
				if !errors.As(err, &re) {
					t.Fatalf("Envelope error is %T", err)
				}
				continue
			}
			res, err := p.Process(context.Background(), raw, src)
			if err != nil {
				var re *RejectError
				if !errors.As(err, &re) || re.Stage != StageProcessing {
					t.Fatalf("Process error is %T %v", err, err)
				}
				continue
			}
			// An accepted entity serialises and has a valid ref.
			_ = res.Entity.Map()
			if _, err := ParseRef(res.Entity.Ref().String(), RefDefaults{}); err != nil {
				t.Fatalf("accepted entity has a bad ref: %v", err)
			}
		}
	})
}
