package catalog

import (
	"strings"
	"testing"
)

// The expected messages below were checked against Backstage's own
// packages (the oracle's validate.mjs, see oracle README §4.2).

const (
	name63 = "a23456789012345678901234567890123456789012345678901234567890123"
	name64 = name63 + "4"
)

func TestPolicyNames(t *testing.T) {
	ref := func(name string) string { return "component:default/" + strings.ToLower(name) }
	nameErr := func(name string) string { return policyErr(ref(name), formatErr("metadata.name", expectName, name)) }
	runProcessCases(t, []processCase{
		{name: "mixed-case name is kept", yaml: component("MyService")},
		{name: "name of 63 characters", yaml: component(name63)},
		{name: "name of 64 characters", yaml: component(name64), wantErr: nameErr(name64)},
		{name: "single character name", yaml: component("a")},
		{name: "inner _ . and -- are allowed", yaml: component("a_b.c--d")},
		{name: "space in name", yaml: component("foo bar"), wantErr: nameErr("foo bar")},
		{name: "leading dash", yaml: component("-foo"), wantErr: nameErr("-foo")},
		{name: "trailing dot", yaml: component("foo."), wantErr: nameErr("foo.")},
		{name: "non-ASCII letter", yaml: component("café"), wantErr: nameErr("café")},
		{name: "slash in name", yaml: component("a/b"), wantErr: nameErr("a/b")},
		{name: "quoted number is a string", yaml: component(`"123"`)},
	})
}

func TestPolicyNamespace(t *testing.T) {
	nsErr := func(name, ns string) string {
		return policyErr("component:"+strings.ToLower(ns)+"/"+name, formatErr("metadata.namespace", expectNamespace, ns))
	}
	long := strings.Repeat("a", 64)
	runProcessCases(t, []processCase{
		{name: "DNS label", yaml: component("x", "namespace: team-a")},
		{name: "double dash", yaml: component("x", "namespace: a--b")},
		{name: "digits only", yaml: component("x", "namespace: '123'")},
		{name: "63 characters", yaml: component("x", "namespace: "+long[:63])},
		{name: "64 characters", yaml: component("x", "namespace: "+long), wantErr: nsErr("x", long)},
		{name: "upper case", yaml: component("x", "namespace: Default"), wantErr: nsErr("x", "Default")},
		{name: "leading dash", yaml: component("x", "namespace: -a"), wantErr: nsErr("x", "-a")},
		{name: "trailing dash", yaml: component("x", "namespace: a-"), wantErr: nsErr("x", "a-")},
		{name: "underscore", yaml: component("x", "namespace: a_b"), wantErr: nsErr("x", "a_b")},
		{name: "dot", yaml: component("x", "namespace: a.b"), wantErr: nsErr("x", "a.b")},
	})
}

func TestPolicyLabelsAndAnnotations(t *testing.T) {
	ref := "component:default/x"
	runProcessCases(t, []processCase{
		{name: "prefixed label key and empty value", yaml: component("x", "labels: {example.com/tier: gold, plain: ''}")},
		{name: "label key with upper-case prefix", yaml: component("x", "labels: {Example.com/tier: gold}"),
			wantErr: policyErr(ref, formatErr("labels.Example.com/tier", expectPrefix, "Example.com/tier"))},
		{name: "label key with two slashes", yaml: component("x", "labels: {a/b/c: x}"),
			wantErr: policyErr(ref, formatErr("labels.a/b/c", expectPrefix, "a/b/c"))},
		{name: "label key with empty name", yaml: component("x", "labels: {'example.com/': x}"),
			wantErr: policyErr(ref, formatErr("labels.example.com/", expectPrefix, "example.com/"))},
		{name: "label key with empty prefix", yaml: component("x", "labels: {'/x': x}"),
			wantErr: policyErr(ref, formatErr("labels./x", expectPrefix, "/x"))},
		{name: "label value with a space", yaml: component("x", "labels: {tier: gold plated}"),
			wantErr: policyErr(ref, formatErr("labels.tier", expectName, "gold plated"))},
		{name: "label value of 64 characters", yaml: component("x", "labels: {tier: "+name64+"}"),
			wantErr: policyErr(ref, formatErr("labels.tier", expectName, name64))},
		{name: "label value that is a number", yaml: component("x", "labels: {tier: 3}"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/labels/tier must be string")},
		{name: "labels that are a list", yaml: component("x", "labels: [a]"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/labels must be object")},
		{name: "annotation values may be any string", yaml: component("x",
			"annotations: {backstage.io/techdocs-ref: 'dir:.', example.com/free-text: 'anything at all: even spaces / slashes', plain: ''}")},
		{name: "annotation value that is a number", yaml: component("x", "annotations: {example.com/count: 3}"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/annotations/example.com~1count must be string")},
		{name: "annotation key with two slashes", yaml: component("x", "annotations: {a/b/c: x}"),
			wantErr: policyErr(ref, formatErr("annotations.a/b/c", expectPrefix, "a/b/c"))},
		{name: "annotation key with upper-case prefix", yaml: component("x", "annotations: {Backstage.io/x: y}"),
			wantErr: policyErr(ref, formatErr("annotations.Backstage.io/x", expectPrefix, "Backstage.io/x"))},
		{name: "annotation key with a space", yaml: component("x", "annotations: {'a b': y}"),
			wantErr: policyErr(ref, formatErr("annotations.a b", expectPrefix, "a b"))},
		{name: "annotation prefix with an empty label", yaml: component("x", "annotations: {a..b/x: y}"),
			wantErr: policyErr(ref, formatErr("annotations.a..b/x", expectPrefix, "a..b/x"))},
	})
}

func TestPolicyTags(t *testing.T) {
	ref := "component:default/x"
	tagErr := func(i, v string) string { return policyErr(ref, formatErr("tags."+i, expectTag, v)) }
	runProcessCases(t, []processCase{
		{name: "lower case", yaml: component("x", "tags: [java]")},
		{name: "plus, hash, colon and dash", yaml: component("x", "tags: [java, c++, c#, a:b, web-app]")},
		{name: "63 characters", yaml: component("x", "tags: ["+name63+"]")},
		{name: "upper case", yaml: component("x", "tags: [Java]"), wantErr: tagErr("0", "Java")},
		{name: "second tag is reported by index", yaml: component("x", "tags: [ok, Bad]"), wantErr: tagErr("1", "Bad")},
		{name: "64 characters", yaml: component("x", "tags: ["+name64+"]"), wantErr: tagErr("0", name64)},
		{name: "underscore", yaml: component("x", "tags: [snake_case]"), wantErr: tagErr("0", "snake_case")},
		{name: "double dash", yaml: component("x", "tags: [a--b]"), wantErr: tagErr("0", "a--b")},
		{name: "leading dash", yaml: component("x", "tags: [-a]"), wantErr: tagErr("0", "-a")},
		{name: "dot", yaml: component("x", "tags: [a.b]"), wantErr: tagErr("0", "a.b")},
		{name: "empty tag", yaml: component("x", `tags: [""]`),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/tags/0 must NOT have fewer than 1 characters")},
		{name: "number tag", yaml: component("x", "tags: [1]"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/tags/0 must be string")},
		{name: "tags that are a string", yaml: component("x", "tags: java"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/tags must be array")},
	})
}

func TestPolicyLinks(t *testing.T) {
	ref := "component:default/x"
	runProcessCases(t, []processCase{
		{name: "url with title, icon and type", yaml: component("x",
			"links: [{url: 'https://example.com/dashboard', title: Dashboard, icon: dashboard, type: admin-dashboard}]")},
		{name: "url only", yaml: component("x", "links: [{url: 'https://example.com'}]")},
		{name: "mailto url", yaml: component("x", "links: [{url: 'mailto:team@example.com'}]")},
		{name: "url with port and path", yaml: component("x", "links: [{url: 'http://localhost:8080/x?y#z'}]")},
		{name: "extra link keys are kept", yaml: component("x", "links: [{url: 'https://example.com', extra: 1}]")},
		{name: "not a url", yaml: component("x", "links: [{url: not a url}]"),
			wantErr: policyErr(ref, formatErr("links.0.url", expectURL, "not a url"))},
		{name: "relative url", yaml: component("x", "links: [{url: /docs}]"),
			wantErr: policyErr(ref, formatErr("links.0.url", expectURL, "/docs"))},
		{name: "http url without host", yaml: component("x", "links: [{url: 'https://'}]"),
			wantErr: policyErr(ref, formatErr("links.0.url", expectURL, "https://"))},
		{name: "second link is reported by index", yaml: component("x", "links: [{url: 'https://a.com'}, {url: nope}]"),
			wantErr: policyErr(ref, formatErr("links.1.url", expectURL, "nope"))},
		{name: "blank title", yaml: component("x", `links: [{url: "https://example.com", title: "   "}]`),
			wantErr: policyErr(ref, formatErr("links.0.title", expectNonEmpty, "   "))},
		{name: "blank icon", yaml: component("x", `links: [{url: "https://example.com", icon: " "}]`),
			wantErr: policyErr(ref, formatErr("links.0.icon", expectNonEmpty, " "))},
		{name: "empty title", yaml: component("x", `links: [{url: "https://example.com", title: ""}]`),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/links/0/title must NOT have fewer than 1 characters")},
		{name: "missing url", yaml: component("x", "links: [{title: x}]"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/links/0 must have required property 'url'")},
		{name: "link that is a string", yaml: component("x", "links: ['https://example.com']"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/links/0 must be object")},
	})
}

func TestPolicyEnvelopeAndRoot(t *testing.T) {
	ref := "component:default/x"
	const spec = "spec: {type: service, lifecycle: production, owner: team-a}\n"
	runProcessCases(t, []processCase{
		{name: "title, description, uid, etag and custom metadata are kept", yaml: component("x",
			"title: Meta Extra", "description: has extra metadata", "uid: 00000000-0000-0000-0000-000000000000",
			"etag: abc", "customField: {nested: true}")},
		{name: "empty description is allowed", yaml: component("x", `description: ""`)},
		{name: "out-of-range numbers are stored as null", yaml: component("x", "customField: [1e400, -1e400, .inf]")},
		{name: "unknown root field", yaml: component("x") + "foo: bar\n",
			wantErr: policyErr(ref, "Malformed envelope, <root> must NOT have additional properties")},
		{name: "root status", yaml: component("x") + "status: {items: []}\n",
			wantErr: policyErr(ref, "Unknown field status")},
		{name: "root relations", yaml: component("x") + "relations: []\n",
			wantErr: policyErr(ref, "Unknown field relations")},
		{name: "title must be string", yaml: component("x", "title: 123"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/title must be string")},
		{name: "empty title", yaml: component("x", `title: ""`),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/title must NOT have fewer than 1 characters")},
		{name: "description must be string", yaml: component("x", "description: [a]"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/description must be string")},
		{name: "empty uid", yaml: component("x", `uid: ""`),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/uid must NOT have fewer than 1 characters")},
		{name: "etag must be string", yaml: component("x", "etag: 1"),
			wantErr: policyErr(ref, "Malformed envelope, /metadata/etag must be string")},
		{name: "spec must be object", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: hello\n",
			wantErr: policyErr(ref, "Malformed envelope, /spec must be object")},
		{name: "apiVersion with two slashes", yaml: "apiVersion: backstage.io/v1/alpha1\nkind: Component\nmetadata: {name: x}\n" + spec,
			wantErr: policyErr(ref, formatErr("apiVersion", expectPrefix, "backstage.io/v1/alpha1"))},
		{name: "apiVersion with upper-case prefix", yaml: "apiVersion: Backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n" + spec,
			wantErr: policyErr(ref, formatErr("apiVersion", expectPrefix, "Backstage.io/v1alpha1"))},
		{name: "apiVersion with a dash in the version", yaml: "apiVersion: backstage.io/v1-alpha1\nkind: Component\nmetadata: {name: x}\n" + spec,
			wantErr: policyErr(ref, formatErr("apiVersion", expectPrefix, "backstage.io/v1-alpha1"))},
		{name: "kind with a dash", yaml: "apiVersion: backstage.io/v1alpha1\nkind: My-Kind\nmetadata: {name: x}\nspec: {}\n",
			wantErr: policyErr("my-kind:default/x", formatErr("kind", expectKind, "My-Kind"))},
		{name: "kind starting with a digit", yaml: "apiVersion: backstage.io/v1alpha1\nkind: 1Kind\nmetadata: {name: x}\nspec: {}\n",
			wantErr: policyErr("1kind:default/x", formatErr("kind", expectKind, "1Kind"))},
	})
}

// TestEnvelope covers the checks that run before processing, which reject a
// document before it has a ref.
func TestEnvelope(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantStage string
		wantErr   string
	}{
		{name: "list root", yaml: "- a\n- b\n", wantStage: StageParse, wantErr: "Error: Expected object at root, got object"},
		{name: "string root", yaml: "just a string\n", wantStage: StageParse, wantErr: "Error: Expected object at root, got string"},
		{name: "number root", yaml: "12\n", wantStage: StageParse, wantErr: "Error: Expected object at root, got number"},
		{name: "boolean root", yaml: "true\n", wantStage: StageParse, wantErr: "Error: Expected object at root, got boolean"},
		{name: "missing apiVersion", yaml: "kind: Component\nmetadata: {name: x}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: <root> must have required property 'apiVersion' - missingProperty: apiVersion"},
		{name: "missing kind", yaml: "apiVersion: backstage.io/v1alpha1\nmetadata: {name: x}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: <root> must have required property 'kind' - missingProperty: kind"},
		{name: "missing metadata", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\n", wantStage: StageEnvelope,
			wantErr: "TypeError: <root> must have required property 'metadata' - missingProperty: metadata"},
		{name: "metadata is a string", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: x\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /metadata must be object - type: object"},
		{name: "missing name", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /metadata must have required property 'name' - missingProperty: name"},
		{name: "name is a number", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: 123}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /metadata/name must be string - type: string"},
		{name: "empty name", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ''}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /metadata/name must NOT have fewer than 1 characters - limit: 1"},
		{name: "empty namespace", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x, namespace: ''}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /metadata/namespace must NOT have fewer than 1 characters - limit: 1"},
		{name: "kind is a number", yaml: "apiVersion: backstage.io/v1alpha1\nkind: 1\nmetadata: {name: x}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /kind must be string - type: string"},
		{name: "empty apiVersion", yaml: "apiVersion: ''\nkind: Component\nmetadata: {name: x}\n", wantStage: StageEnvelope,
			wantErr: "TypeError: /apiVersion must NOT have fewer than 1 characters - limit: 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := processYAML(t, nil, testSource, tt.yaml)
			if err == nil {
				t.Fatalf("accepted, want %q", tt.wantErr)
			}
			re, ok := err.(*RejectError)
			if !ok {
				t.Fatalf("error is %T, not *RejectError", err)
			}
			if re.Stage != tt.wantStage {
				t.Errorf("stage = %q, want %q", re.Stage, tt.wantStage)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error differs\n got: %s\nwant: %s", err, tt.wantErr)
			}
		})
	}
}

// TestEnvelopeAnnotations checks the location annotations Envelope adds and
// that it does not modify the parsed document.
func TestEnvelopeAnnotations(t *testing.T) {
	docs := ParseDocuments([]byte(component("x", "annotations: {example.com/a: b}")))
	orig := toJSON(docs[0].Value)
	src := Source{Location: LocationRef{"file", "/srv/a/catalog-info.yaml"}, Origin: LocationRef{"url", "https://example.com/root.yaml"}}
	raw, err := Envelope(docs[0].Value, src)
	if err != nil {
		t.Fatal(err)
	}
	ann := raw["metadata"].(map[string]any)["annotations"].(map[string]any)
	want := map[string]string{
		"example.com/a":          "b",
		AnnotationLocation:       "file:/srv/a/catalog-info.yaml",
		AnnotationOriginLocation: "url:https://example.com/root.yaml",
	}
	if len(ann) != len(want) {
		t.Errorf("annotations = %v", ann)
	}
	for k, v := range want {
		if ann[k] != v {
			t.Errorf("annotation %s = %v, want %q", k, ann[k], v)
		}
	}
	if after := toJSON(docs[0].Value); after != orig {
		t.Errorf("Envelope modified its input:\n%s\n%s", orig, after)
	}
}

// TestProcessedEntity checks what an accepted entity looks like: namespace
// defaulted, case kept, extra metadata and spec kept.
func TestProcessedEntity(t *testing.T) {
	res, err := processYAML(t, nil, testSource, component("MyService", "description: ''", "customField: {nested: true}", "tags: [b, a]"))
	if err != nil {
		t.Fatal(err)
	}
	e := res.Entity
	if e.Metadata.Namespace != "default" || e.Metadata.Name != "MyService" {
		t.Errorf("metadata = %+v", e.Metadata)
	}
	if got := e.Ref().String(); got != "component:default/myservice" {
		t.Errorf("ref = %s", got)
	}
	m := e.Map()
	md := m["metadata"].(map[string]any)
	if md["description"] != "" {
		t.Errorf("empty description was not kept: %v", md)
	}
	if toJSON(md["customField"]) != `{"nested":true}` {
		t.Errorf("customField = %v", md["customField"])
	}
	if toJSON(md["tags"]) != `["b","a"]` {
		t.Errorf("tags were reordered: %v", md["tags"])
	}
	if md["annotations"].(map[string]any)[AnnotationLocation] != testFile.String() {
		t.Errorf("annotations = %v", md["annotations"])
	}
}
