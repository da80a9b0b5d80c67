package template

import (
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
)

const sample = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: node-service
  title: Node service
  description: Creates a <b>service</b>
  tags: [recommended, node]
spec:
  owner: group:platform
  type: service
  parameters:
    - title: Basics
      required: [name]
      properties:
        zeta:
          type: string
        name:
          type: string
        alpha:
          type: boolean
    - title: Repo
      properties:
        repoUrl:
          type: string
          ui:field: RepoUrlPicker
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - action: debug:log
      if: ${{ parameters.alpha }}
      each: ${{ parameters.items }}
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
      - title: Catalog
        icon: catalog
        entityRef: ${{ steps.register.output.entityRef }}
    text:
      - title: Done
        content: "**ok**"
    extra: value
`

func TestParseYAML(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Name != "node-service" || tpl.Title != "Node service" || tpl.Description != "Creates a <b>service</b>" {
		t.Errorf("metadata: %+v", tpl)
	}
	if tpl.Owner != "group:platform" || tpl.Type != "service" || strings.Join(tpl.Tags, ",") != "recommended,node" {
		t.Errorf("spec: %q %q %v", tpl.Owner, tpl.Type, tpl.Tags)
	}
	if len(tpl.Parameters) != 2 || tpl.PageTitle(1) != "Repo" {
		t.Fatalf("parameters: %v", tpl.Parameters)
	}
	// Source order is kept as ui:order.
	if got := tpl.Parameters[0]["ui:order"]; len(got.([]any)) != 3 || got.([]any)[0] != "zeta" || got.([]any)[2] != "alpha" {
		t.Errorf("ui:order = %v", got)
	}
	if _, ok := tpl.Parameters[1]["ui:order"]; ok {
		t.Errorf("single-property page got ui:order")
	}
	if len(tpl.Steps) != 2 {
		t.Fatalf("steps: %v", tpl.Steps)
	}
	s0, s1 := tpl.Steps[0], tpl.Steps[1]
	if s0.ID != "fetch" || s0.Name != "Fetch" || s0.Action != "fetch:template" || s0.Input["url"] != "./skeleton" {
		t.Errorf("step 0: %+v", s0)
	}
	if s1.ID != "step-1" || s1.Name != "debug:log" || s1.If != "${{ parameters.alpha }}" || s1.Each != "${{ parameters.items }}" || s1.Input != nil {
		t.Errorf("step 1: %+v", s1)
	}
	if len(tpl.Output.Links) != 2 || tpl.Output.Links[1].EntityRef == "" || tpl.Output.Links[1].Icon != "catalog" {
		t.Errorf("links: %+v", tpl.Output.Links)
	}
	if len(tpl.Output.Text) != 1 || tpl.Output.Text[0].Content != "**ok**" || tpl.Output.Extra["extra"] != "value" {
		t.Errorf("output: %+v", tpl.Output)
	}
}

func TestParseSingleObjectParameters(t *testing.T) {
	tpl, err := Parse(`{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"x"},
	  "spec":{"type":"website","parameters":{"properties":{"a":{"type":"integer","default":3}}},"steps":[]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.Parameters) != 1 || tpl.PageTitle(0) != "Please enter the following information" {
		t.Fatalf("%v", tpl.Parameters)
	}
	a := tpl.Parameters[0]["properties"].(map[string]any)["a"].(map[string]any)
	if a["default"] != float64(3) {
		t.Errorf("default = %#v, want float64 3", a["default"])
	}
}

func TestParseEntityAndMap(t *testing.T) {
	raw := map[string]any{
		"apiVersion": APIVersion, "kind": "Template",
		"metadata": map[string]any{"name": "e", "title": "E"},
		"spec":     map[string]any{"type": "service", "steps": []any{map[string]any{"action": "debug:log", "input": map[string]any{"n": 1}}}},
	}
	e, err := catalog.EntityFromMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []any{raw, e} {
		tpl, err := Parse(src)
		if err != nil {
			t.Fatalf("%T: %v", src, err)
		}
		if tpl.Title != "E" || tpl.Steps[0].Input["n"] != float64(1) {
			t.Errorf("%T: %+v", src, tpl)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		`apiVersion: backstage.io/v1beta2
kind: Template
metadata: {name: x}
spec: {type: service}`: `apiVersion must be "scaffolder.backstage.io/v1beta3"`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Component
metadata: {name: x}
spec: {type: service}`: `kind must be "Template"`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {}`: `spec.type is required`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {type: s, parameters: "nope"}`: `spec.parameters must be an object or an array`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {type: s, steps: [{id: a}]}`: `spec.steps[0].action is required`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {type: s, steps: [{action: a, if: 3}]}`: `spec.steps[0].if must be a string or a boolean`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {type: s, steps: [{id: a, action: x}, {id: a, action: y}]}`: `"a" is duplicated`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {type: s, steps: {$yaml: ./steps.yaml}}`: `unresolved placeholder $yaml: ./steps.yaml`,
		`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec: {type: s, output: {links: 3}}`: `spec.output.links must be an array`,
		`[1, 2]`:      `not an object`,
		`key: [oops`:  `invalid template: yaml`,
		`spec: "str"`: `spec must be an object`,
	}
	for src, want := range cases {
		_, err := Parse([]byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", src, err, want)
		}
	}
	if _, err := Parse(42); err == nil {
		t.Error("Parse(42) succeeded")
	}
}

func TestParseAll(t *testing.T) {
	data := "kind: Component\nmetadata: {name: c}\n---\n" + sample + "---\n" + strings.Replace(sample, "type: service", "type: [x]", 1)
	res := ParseAll([]byte(data))
	if len(res) != 2 {
		t.Fatalf("got %d results", len(res))
	}
	if res[0].Index != 1 || res[0].Err != nil || res[0].Template.Name != "node-service" {
		t.Errorf("first: %+v", res[0])
	}
	if res[1].Err == nil {
		t.Errorf("second should fail")
	}
}

func TestYAMLAnchorsAndMerge(t *testing.T) {
	src := `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: x}
spec:
  type: s
  parameters:
    - properties:
        base: &b {type: string, title: Base}
        copy:
          <<: *b
          title: Copy
`
	tpl, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	p := tpl.Parameters[0]["properties"].(map[string]any)
	c := p["copy"].(map[string]any)
	if c["type"] != "string" || c["title"] != "Copy" {
		t.Errorf("merge: %v", c)
	}
	if _, ok := c[orderKey]; ok {
		t.Error("order record leaked")
	}
}

// A template read back from catalog JSON (keys sorted) takes the field
// order of its descriptor file.
func TestTakeOrder(t *testing.T) {
	src := `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: t}
spec:
  type: service
  parameters:
    - properties:
        zeta: {type: string}
        mid: {type: object, properties: {b: {type: string}, a: {type: string}}}
        alpha: {type: string}
  steps: []
`
	file := ParseAll([]byte(src))[0].Template
	fromJSON, err := Parse([]byte(`{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"t"},"spec":{"type":"service","parameters":[{"properties":{"alpha":{"type":"string"},"mid":{"properties":{"a":{"type":"string"},"b":{"type":"string"}},"type":"object"},"zeta":{"type":"string"}}}],"steps":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON.TakeOrder(file)
	if got := fmt.Sprint(fromJSON.Parameters[0]["ui:order"]); got != "[zeta mid alpha]" {
		t.Errorf("page order = %s", got)
	}
	mid := fromJSON.Parameters[0]["properties"].(map[string]any)["mid"].(map[string]any)
	if got := fmt.Sprint(mid["ui:order"]); got != "[b a]" {
		t.Errorf("nested order = %s", got)
	}
}

// Templates are untrusted YAML: alias bombs are refused (as the catalog
// refuses them) and scalars resolve as the catalog resolves them.
func TestUntrustedYAML(t *testing.T) {
	bomb := "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
		"kind: Template\napiVersion: scaffolder.backstage.io/v1beta3\n"
	if _, err := Parse([]byte(bomb)); err == nil || !strings.Contains(err.Error(), "resource exhaustion") {
		t.Errorf("alias bomb: %v", err)
	}
	tpl, err := Parse([]byte(`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: t}
spec:
  type: service
  parameters:
    - properties:
        day: {type: string, default: 2024-01-02}
        flag: {type: string, default: yes}
  steps: []
`))
	if err != nil {
		t.Fatal(err)
	}
	props := tpl.Parameters[0]["properties"].(map[string]any)
	if d := props["day"].(map[string]any)["default"]; d != "2024-01-02" {
		t.Errorf("date default = %#v, want the string", d)
	}
	if y := props["flag"].(map[string]any)["default"]; y != "yes" {
		t.Errorf("yes default = %#v, want the string", y)
	}
}
