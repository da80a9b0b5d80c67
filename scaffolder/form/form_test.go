package form

import (
	"bytes"
	"context"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

func schemaOf(t *testing.T, src string) map[string]any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	return template.Normalize(v).(map[string]any)
}

func render(t *testing.T, schema, values map[string]any, errs map[string]string, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Page(schema, values, errs, opts).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func must(t *testing.T, html string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(html, w) {
			t.Errorf("output lacks %q\n%s", w, html)
		}
	}
}

func mustNot(t *testing.T, html string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(html, w) {
			t.Errorf("output has %q\n%s", w, html)
		}
	}
}

const kitchen = `
title: Page
required: [name, count]
ui:order: [name, "*", secret]
properties:
  secret:
    type: string
    ui:widget: password
  name:
    type: string
    title: Name
    description: The <component> name
    pattern: "^[a-z]+$"
    minLength: 2
    maxLength: 10
    ui:help: Lower case only
    ui:placeholder: my-service
    ui:autofocus: true
  count:
    type: integer
    minimum: 1
    maximum: 5
  ratio:
    type: number
  email:
    type: string
    format: email
  notes:
    type: string
    ui:widget: textarea
    ui:options: {rows: 7}
  lang:
    type: string
    enum: [go, js]
    enumNames: [Go, JavaScript]
  size:
    type: string
    enum: [s, m]
    ui:widget: radio
  public:
    type: boolean
    title: Public
  flag:
    type: boolean
    ui:widget: radio
  token:
    type: string
    ui:widget: hidden
  features:
    type: array
    uniqueItems: true
    items: {type: string, enum: [a, b, c]}
  topics:
    type: array
    items: {type: string}
  nested:
    type: object
    title: Nested
    properties:
      inner: {type: string, title: Inner}
`

func TestWidgets(t *testing.T) {
	s := schemaOf(t, kitchen)
	vals := map[string]any{"name": "svc", "count": float64(3), "lang": "js", "size": "m", "public": true, "flag": false,
		"token": "t0k", "features": []any{"b"}, "topics": []any{"x", "y"}, "nested": map[string]any{"inner": "in"}, "notes": "a\nb"}
	h := render(t, s, vals, nil, Options{})
	must(t, h,
		`<label for="f-name">Name <span class="required" aria-hidden="true">*</span></label>`,
		`id="f-name" name="name" value="svc"`,
		`pattern=".*(?:^[a-z]+$).*"`, `minlength="2"`, `maxlength="10"`, `placeholder="my-service"`, `autofocus`,
		`aria-describedby="f-name-desc f-name-help"`,
		`The &lt;component&gt; name`, `<p class="field-help" id="f-name-help">Lower case only</p>`,
		`type="number"`, `step="1"`, `min="1"`, `max="5"`, `value="3"`, `step="any"`,
		`type="email"`, `type="password"`,
		`<textarea id="f-notes" name="notes"`, `rows="7"`, ">a\nb</textarea>",
		`<option value="js" selected>JavaScript</option>`, `<option value="go">Go</option>`,
		`type="radio" id="f-size-1" name="size" value="m" checked`,
		`<input type="hidden" name="public" value="false">`, `type="checkbox" id="f-public" name="public" value="true"`,
		`name="flag" value="false" checked`,
		`<input type="hidden" id="f-token" name="token" value="t0k">`,
		`type="checkbox" id="f-features-1" name="features" value="b" checked`,
		"<textarea id=\"f-topics\" name=\"topics\"", ">x\ny</textarea>",
		`<fieldset class="form-object" id="f-nested"`, `<legend>Nested </legend>`, `name="nested.inner" value="in"`,
		`required`,
	)
	// ui:order: name first, secret last.
	iName, iCount, iSecret := strings.Index(h, `name="name"`), strings.Index(h, `name="count"`), strings.Index(h, `name="secret"`)
	if !(iName < iCount && iCount < iSecret) {
		t.Errorf("order: name %d count %d secret %d", iName, iCount, iSecret)
	}
	if !regexpMatch(`id="f-public"[^>]*checked`, h) {
		t.Errorf("public not checked")
	}
	mustNot(t, h, `aria-describedby=""`)
}

func TestErrorsShownAndEscaped(t *testing.T) {
	s := schemaOf(t, `
properties:
  name: {type: string, title: "<script>alert(1)</script>"}
  lang: {type: string, enum: ["<x>"]}
`)
	h := render(t, s, map[string]any{"name": `"><img src=x>`}, map[string]string{"name": "Must be <b>x</b>", "": "Page broken"}, Options{})
	must(t, h, `&lt;script&gt;alert(1)&lt;/script&gt;`, `value="&#34;&gt;&lt;img src=x&gt;"`, `aria-invalid="true"`,
		`<p class="field-error" id="f-name-error" role="alert">Must be &lt;b&gt;x&lt;/b&gt;</p>`,
		`aria-describedby="f-name-error"`, `<p class="form-error" role="alert">Page broken</p>`, `value="&lt;x&gt;"`)
	mustNot(t, h, "<script>", "<img")
}

func TestPrefix(t *testing.T) {
	s := schemaOf(t, `properties: {owner: {type: string}, app: {type: object, properties: {"a.b": {type: string}}}}`)
	h := render(t, s, nil, map[string]string{"parameters.owner": "bad"}, Options{Prefix: "parameters", IDPrefix: "p"})
	must(t, h, `id="p-parameters-owner" name="parameters.owner"`, `name="parameters.app.a~1b"`, `>bad</p>`)
	vals, err := DecodeOpts(s, url.Values{"parameters.owner": {"me"}, "parameters.app.a~1b": {"x"}}, Options{Prefix: "parameters"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"owner": "me", "app": map[string]any{"a.b": "x"}}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("decode = %v", vals)
	}
	errs := ValidateOpts(schemaOf(t, `required: [owner]
properties: {owner: {type: string}}`), map[string]any{}, Options{Prefix: "parameters"})
	if errs["parameters.owner"] != "This field is required." {
		t.Errorf("errs = %v", errs)
	}
}

func TestPickers(t *testing.T) {
	s := schemaOf(t, `
properties:
  owner:
    type: string
    ui:field: OwnerPicker
    ui:options: {catalogFilter: {kind: Group}}
  system: {type: string, ui:field: EntityPicker}
  name: {type: string, ui:field: EntityNamePicker}
  tags: {type: array, items: {type: string}, ui:field: EntityTagsPicker}
  deps: {type: array, items: {type: string}, ui:field: MultiEntityPicker}
  repoUrl:
    type: string
    ui:field: RepoUrlPicker
    ui:options: {allowedHosts: [github.com, gitlab.com]}
`)
	suggest := func(p Picker) []Choice {
		if p.Field == "OwnerPicker" {
			return []Choice{{Value: "group:default/team-a", Label: "Team A"}}
		}
		return nil
	}
	h := render(t, s, map[string]any{"tags": []any{"a", "b"}, "repoUrl": "gitlab.com?owner=me&repo=r1"}, nil, Options{Suggest: suggest})
	must(t, h,
		`list="f-owner-list"`, `data-ui-field="OwnerPicker"`, `data-ui-options="{&#34;catalogFilter&#34;:{&#34;kind&#34;:&#34;Group&#34;}}"`,
		`<datalist id="f-owner-list"><option value="group:default/team-a">Team A</option></datalist>`,
		`list="f-system-list"`, `<datalist id="f-system-list"></datalist>`, `data-ui-field="EntityNamePicker"`,
		`name="tags" value="a, b"`, `data-multiple="true"`, `data-ui-field="MultiEntityPicker"`,
		`name="repoUrl:host"`, `<option value="gitlab.com" selected>gitlab.com</option>`, `<option value="github.com">github.com</option>`,
		`<label for="f-repoUrl-owner">Owner</label>`, `name="repoUrl:owner" value="me"`, `name="repoUrl:repo" value="r1"`,
	)
	vals, err := Decode(s, url.Values{
		"owner": {"group:default/team-a"}, "tags": {"a, b c"}, "deps": {""},
		"repoUrl:host": {"github.com"}, "repoUrl:owner": {"acme"}, "repoUrl:repo": {"my repo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"owner": "group:default/team-a", "tags": []any{"a", "b", "c"}, "repoUrl": "github.com?owner=acme&repo=my+repo"}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("decode = %#v", vals)
	}
	errs := Validate(s, map[string]any{"repoUrl": "bitbucket.org?owner=a&repo=b", "name": "Not Valid!"})
	if errs["repoUrl"] != `Host "bitbucket.org" is not allowed.` || !strings.HasPrefix(errs["name"], "Must start and end") {
		t.Errorf("errs = %v", errs)
	}
	errs = Validate(s, map[string]any{"repoUrl": "github.com?owner=a"})
	if errs["repoUrl"] != "Please enter a repository name." {
		t.Errorf("errs = %v", errs)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	s := schemaOf(t, kitchen)
	s2 := schemaOf(t, `
properties:
  items:
    type: array
    items:
      type: object
      properties:
        k: {type: string}
        n: {type: number}
        on: {type: boolean}
  nums: {type: array, items: {type: integer}}
`)
	form := url.Values{
		"name": {"svc"}, "count": {"3"}, "ratio": {"0.5"}, "email": {""}, "lang": {"go"}, "size": {"s"},
		"public": {"false", "true"}, "flag": {"false"}, "token": {"t"}, "features": {"a", "c"},
		"topics": {"x\r\n\r\ny \n"}, "nested.inner": {"in"}, "notes": {"l1\nl2"},
	}
	vals, err := Decode(s, form)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "svc", "count": float64(3), "ratio": 0.5, "lang": "go", "size": "s", "public": true,
		"flag": false, "token": "t", "features": []any{"a", "c"}, "topics": []any{"x", "y"},
		"nested": map[string]any{"inner": "in"}, "notes": "l1\nl2"}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("decode =\n%#v\nwant\n%#v", vals, want)
	}
	// Re-render and decode again: same values.
	h := render(t, s, vals, nil, Options{})
	must(t, h, `name="count" value="3"`, `name="ratio" value="0.5"`)
	if errs := Validate(s, vals); len(errs) != 0 {
		t.Errorf("valid values rejected: %v", errs)
	}

	// Unchecked checkbox: only the hidden "false".
	vals, _ = Decode(s, url.Values{"public": {"false"}})
	if vals["public"] != false {
		t.Errorf("public = %v", vals["public"])
	}

	// Bad number: kept as text and reported.
	vals, err = Decode(s, url.Values{"count": {"three"}})
	de, ok := err.(DecodeErrors)
	if !ok || de["count"] != "Must be a number." || vals["count"] != "three" {
		t.Errorf("bad number: %v %v", vals, err)
	}
	if errs := Validate(s, vals); errs["count"] != "Must be an integer, not a string." {
		t.Errorf("errs = %v", errs)
	}

	// Arrays of objects and of numbers.
	h = render(t, s2, map[string]any{"items": []any{map[string]any{"k": "a", "n": float64(1)}}}, nil, Options{})
	must(t, h, `name="items.0.k" value="a"`, `name="items.1.k" value=""`, `<fieldset class="form-objects" id="f-items"`)
	vals, err = Decode(s2, url.Values{"items.0.k": {"a"}, "items.0.n": {"1"}, "items.1.k": {""}, "items.1.n": {""}, "items.0.on": {"false"}, "items.1.on": {"false"}, "nums": {"1\n2"}})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{"items": []any{map[string]any{"k": "a", "n": float64(1), "on": false}}, "nums": []any{float64(1), float64(2)}}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("decode = %#v", vals)
	}
}

func TestValidateMessages(t *testing.T) {
	s := schemaOf(t, kitchen)
	errs := Validate(s, map[string]any{"name": "ABC", "count": float64(9), "email": "nope", "lang": "rust",
		"features": []any{"a", "a"}, "nested": map[string]any{"inner": float64(1)}})
	want := map[string]string{
		"name":         "Must match the pattern ^[a-z]+$.",
		"count":        "Must be at most 5.",
		"email":        "Must be a valid email.",
		"lang":         "Must be one of: go, js.",
		"features":     "Items 1 and 2 are the same.",
		"nested.inner": "Must be a string, not a number.",
	}
	for k, v := range want {
		if errs[k] != v {
			t.Errorf("errs[%q] = %q, want %q", k, errs[k], v)
		}
	}
	errs = Validate(s, map[string]any{"name": "a"})
	if errs["name"] != "Must be at least 2 characters long." || errs["count"] != "This field is required." {
		t.Errorf("errs = %v", errs)
	}
	// ui:* keys are stripped; a broken schema is reported for the page.
	errs = Validate(map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "text"}}}, nil)
	if !strings.HasPrefix(errs[""], "The template's parameter schema is invalid") {
		t.Errorf("errs = %v", errs)
	}
	// JS-only regexes are not enforced, rather than failing the page.
	errs = Validate(schemaOf(t, `properties: {a: {type: string, pattern: "^(?!x).*$"}}`), map[string]any{"a": "x"})
	if len(errs) != 0 {
		t.Errorf("errs = %v", errs)
	}
	// Duplicate required entries are tolerated.
	errs = Validate(schemaOf(t, `required: [a, a]
properties: {a: {type: string}}`), map[string]any{})
	if errs["a"] != "This field is required." || errs[""] != "" {
		t.Errorf("errs = %v", errs)
	}
}

func TestStripUI(t *testing.T) {
	s := schemaOf(t, `
ui:order: [a]
backstage:permissions: {tags: [x]}
properties:
  ui:weird: {type: string, ui:widget: textarea}
  a: {type: string, default: {ui:keep: 1}, ui:help: h}
`)
	got := StripUI(s)
	want := schemaOf(t, `
properties:
  ui:weird: {type: string}
  a: {type: string, default: {ui:keep: 1}}
`)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StripUI = %v", got)
	}
}

const depsSchema = `
required: [kind]
properties:
  kind:
    type: string
    enum: [lib, svc]
    default: svc
dependencies:
  kind:
    oneOf:
      - properties:
          kind: {enum: [lib]}
          registry: {type: string, title: Registry}
      - properties:
          kind: {enum: [svc]}
          port: {type: integer, title: Port, default: 8080}
        required: [port]
`

func TestDependencies(t *testing.T) {
	s := schemaOf(t, depsSchema)
	h := render(t, s, nil, nil, Options{})
	mustNot(t, h, `name="registry"`, `name="port"`)
	h = render(t, s, map[string]any{"kind": "lib"}, nil, Options{})
	must(t, h, `name="registry"`)
	mustNot(t, h, `name="port"`)
	d := Defaults(s)
	if !reflect.DeepEqual(d, map[string]any{"kind": "svc", "port": float64(8080)}) {
		t.Errorf("defaults = %v", d)
	}
	h = render(t, s, d, nil, Options{})
	must(t, h, `name="port" value="8080" aria-required="true"`, `<option value="lib">lib</option><option value="svc" selected>svc</option>`)
	vals, err := Decode(s, url.Values{"kind": {"svc"}, "port": {"81"}, "registry": {"ignored"}})
	if err != nil || !reflect.DeepEqual(vals, map[string]any{"kind": "svc", "port": float64(81)}) {
		t.Errorf("decode = %v %v", vals, err)
	}
	errs := Validate(s, map[string]any{"kind": "svc"})
	if errs["port"] != "This field is required." {
		t.Errorf("errs = %v", errs)
	}
}

func TestAllOfOneOfAndConstChoices(t *testing.T) {
	s := schemaOf(t, `
allOf:
  - properties: {a: {type: string, title: A}}
    required: [a]
  - properties: {b: {type: boolean}}
properties:
  env:
    type: string
    oneOf:
      - {const: dev, title: Development}
      - {const: prod, title: Production}
if:
  properties: {env: {const: prod}}
then:
  properties: {approver: {type: string}}
`)
	h := render(t, s, map[string]any{"env": "prod"}, nil, Options{})
	must(t, h, `name="a"`, `name="b"`, `<option value="prod" selected>Production</option>`, `name="approver"`,
		`<label for="f-a">A <span class="required"`)
	h = render(t, s, map[string]any{"env": "dev"}, nil, Options{})
	mustNot(t, h, `name="approver"`)
	errs := Validate(s, map[string]any{"env": "qa"})
	if errs["a"] != "This field is required." || errs["env"] == "" {
		t.Errorf("errs = %v", errs)
	}
}

func TestCheckboxesDecodeEmptyAndSelectMultiple(t *testing.T) {
	s := schemaOf(t, `
properties:
  f: {type: array, items: {type: string, enum: [x, y]}, ui:widget: select}
  n: {type: array, items: {type: integer, enum: [1, 2]}}
`)
	h := render(t, s, map[string]any{"f": []any{"y"}}, nil, Options{})
	must(t, h, `<select id="f-f" name="f" multiple>`, `<option value="y" selected>y</option>`)
	vals, err := Decode(s, url.Values{"n": {"2"}})
	if err != nil || !reflect.DeepEqual(vals, map[string]any{"n": []any{float64(2)}}) {
		t.Errorf("decode = %v %v", vals, err)
	}
}

func regexpMatch(pat, s string) bool { return regexp.MustCompile(pat).MatchString(s) }

func TestDependencyAllOfIfThen(t *testing.T) {
	s := schemaOf(t, `
properties:
  loc:
    type: string
    enum: [pr, new]
    default: new
  custom: {type: string, ui:field: SelectFieldFromApi}
dependencies:
  loc:
    allOf:
      - if:
          properties: {loc: {const: pr}}
        then:
          properties: {branch: {type: string, title: Branch}}
          required: [branch]
`)
	h := render(t, s, Defaults(s), nil, Options{})
	mustNot(t, h, `name="branch"`)
	must(t, h, `data-ui-field="SelectFieldFromApi"`)
	h = render(t, s, map[string]any{"loc": "pr"}, nil, Options{})
	must(t, h, `<label for="f-branch">Branch <span class="required"`)
	if errs := Validate(s, map[string]any{"loc": "pr"}); errs["branch"] != "This field is required." {
		t.Errorf("errs = %v", errs)
	}
	vals, err := Decode(s, url.Values{"loc": {"pr"}, "branch": {"b1"}})
	if err != nil || vals["branch"] != "b1" {
		t.Errorf("decode = %v %v", vals, err)
	}
}

func TestSubmissionRoundTrip(t *testing.T) {
	s := schemaOf(t, kitchen+`
  repo:
    type: string
    ui:field: RepoUrlPicker
    ui:options: {allowedHosts: [dev.azure.com, bitbucket.org]}
  off: {type: boolean, ui:disabled: true}
`)
	vals := map[string]any{"name": "svc", "count": float64(3), "ratio": 1.25, "lang": "js", "size": "m", "public": true,
		"flag": false, "token": "t0k", "features": []any{"b", "c"}, "topics": []any{"x", "y"},
		"nested": map[string]any{"inner": "in"}, "notes": "a\nb", "email": "a@b.c", "secret": "pw",
		"repo": "dev.azure.com?owner=o&repo=r&organization=org"}
	sub := Submission(Build(s, vals, nil, Options{}))
	if _, ok := sub["off"]; ok {
		t.Error("disabled field submitted")
	}
	back, err := Decode(s, sub)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, vals) {
		t.Errorf("round trip:\n%#v\nwant\n%#v", back, vals)
	}
	h := render(t, s, vals, nil, Options{})
	must(t, h, `name="repo:organization" value="org"`, `name="repo:workspace"`, `disabled`)
}

// Secret fields leave the parameters for the task's secrets.
func TestSplitSecrets(t *testing.T) {
	pages := []map[string]any{
		{"properties": map[string]any{"name": map[string]any{"type": "string"}}},
		{"properties": map[string]any{"token": map[string]any{"type": "string", "ui:field": "Secret"}},
			"dependencies": map[string]any{"name": map[string]any{"properties": map[string]any{"pin": map[string]any{"type": "string", "ui:field": "Secret"}}}}},
	}
	params, secrets := SplitSecrets(pages, map[string]any{"name": "x", "token": "t0k", "pin": "1234"})
	if len(params) != 1 || params["name"] != "x" || secrets["token"] != "t0k" || secrets["pin"] != "1234" {
		t.Errorf("params %v, secrets %v", params, secrets)
	}
}

// A page's fields, in its form's order (ui:order with its "*"), with the
// fields of dependencies and branches, each with its schema.
func TestPageFields(t *testing.T) {
	page := map[string]any{
		"ui:order": []any{"zeta", "*", "alpha"},
		"properties": map[string]any{
			"alpha": map[string]any{"type": "string"},
			"mid":   map[string]any{"type": "string"},
			"zeta":  map[string]any{"type": "string"},
		},
		"dependencies": map[string]any{"mid": map[string]any{"oneOf": []any{
			map[string]any{"properties": map[string]any{"extra": map[string]any{"type": "number"}, "mid": map[string]any{"const": "x"}}},
		}}},
	}
	var got []string
	for _, f := range PageFields(page) {
		got = append(got, f.Key+":"+str(f.Schema["type"]))
	}
	if strings.Join(got, " ") != "zeta:string extra:number mid:string alpha:string" {
		t.Errorf("fields = %v", got)
	}
}
