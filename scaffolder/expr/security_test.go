package expr

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Security tests for the expression engine (rule b): templates have no
// file, environment or process access, no prototype-style escapes, no
// template loading, and every loop, recursion and large operation is
// bounded. TestRefusedAndBounded (expr_test.go) covers the basic cases;
// these add the gaps.

// secCtx is a context shaped like the scaffolder's.
func secCtx() map[string]any {
	return map[string]any{
		"parameters": map[string]any{"name": "svc", "list": []any{"a"}},
		"secrets":    map[string]any{"token": "tok"},
		"user":       map[string]any{"ref": "user:default/alice"},
	}
}

// Rule b: no environment access. Names that reach the environment in
// JavaScript, Python or Go template engines resolve to nothing, and calling
// them fails; the rendered text never holds an environment value.
func TestSecurityNoEnvironmentAccess(t *testing.T) {
	const marker = "greenroom-env-marker-93f1"
	t.Setenv("GREENROOM_SEC_TEST", marker)
	home := os.Getenv("HOME")
	renders := []string{
		`${{ process.env.GREENROOM_SEC_TEST }}`,
		`${{ process.env }}`,
		`${{ env.GREENROOM_SEC_TEST }}`,
		`${{ environ.GREENROOM_SEC_TEST }}`,
		`${{ os.environ.GREENROOM_SEC_TEST }}`,
		`${{ globalThis.process }}`,
		`${{ global.process }}`,
		`${{ this }}`,
		`${{ self }}`,
		`${{ context }}`,
		`${{ ctx }}`,
		`${{ _ctx }}`,
		`${{ __globals__ }}`,
		`${{ parameters.__class__ }}`,
		`${{ cycler().__globals__ }}`,
		`${{ range.__globals__ }}`,
		`${{ joiner.caller }}`,
		`${{ range.call }}`,
		`${{ range.apply }}`,
		`${{ range.bind }}`,
		`${{ range.name }}`,
		`${{ [parameters] | selectattr("__proto__") | dump }}`,
		`${{ [parameters] | map(attribute="constructor") | dump }}`,
		`${{ parameters | dump }}${{ user | dump }}`,
	}
	for _, tmpl := range renders {
		for _, o := range []Options{{}, {StepStatus: true}, {CookiecutterCompat: true}} {
			s, _ := o.RenderString(tmpl, secCtx())
			if strings.Contains(s, marker) || (home != "" && len(home) > 1 && strings.Contains(s, home)) {
				t.Errorf("%q rendered an environment value: %q", tmpl, s)
			}
			v, _ := o.RenderValue(tmpl, secCtx())
			if js, _ := ToJSON(v); strings.Contains(js, marker) {
				t.Errorf("%q (value) holds an environment value: %s", tmpl, js)
			}
		}
	}
	// calling anything that would reach the OS is an error, not a no-op
	for _, tmpl := range []string{
		`${{ require("fs") }}`,
		`${{ require("child_process").execSync("id") }}`,
		`${{ process.exit(1) }}`,
		`${{ import("fs") }}`,
		`${{ open("/etc/passwd").read() }}`,
		`${{ readFile("/etc/passwd") }}`,
		`${{ os.system("id") }}`,
		`${{ eval("1") }}`,
		`${{ Function("return process")() }}`,
		`${{ lipsum() }}`,
		`${{ env("HOME") }}`,
		`${{ getenv("HOME") }}`,
	} {
		if _, err := RenderString(tmpl, secCtx()); err == nil {
			t.Errorf("%q: want an error", tmpl)
		}
	}
}

// Rule b: no constructor/prototype-style escapes. The classic Nunjucks
// sandbox escape range.constructor.constructor("return process")() and
// its variants are refused, at parse time for literal names and at run
// time for computed keys.
func TestSecurityNoPrototypeEscape(t *testing.T) {
	for _, tmpl := range []string{
		`${{ range.constructor.constructor("return process")() }}`,
		`${{ cycler.constructor }}`,
		`${{ joiner["constructor"]["constructor"]("return this")() }}`,
		`${{ "x".constructor }}`,
		`${{ "x"["constructor"] }}`,
		`${{ (1).constructor }}`,
		`${{ [].constructor }}`,
		`${{ {}.constructor }}`,
		`${{ parameters.__proto__ }}`,
		`${{ parameters.prototype }}`,
		`${{ r/x/.constructor }}`,
		`${{ parameters["constr" ~ "uctor"] }}`,
		`${{ range["__pro" + "to__"] }}`,
		`{% set k = "constructor" %}${{ cycler[k] }}`,
		`{% set k = "prototype" %}${{ parameters.list[k] }}`,
		`{% set constructor = 1 %}`,
		`{% for constructor in [1] %}{% endfor %}`,
		`{% macro constructor() %}{% endmacro %}`,
		`{% macro m(constructor) %}{% endmacro %}`,
	} {
		s, err := RenderString(tmpl, secCtx())
		if err == nil && s != "" {
			t.Errorf("%q rendered %q; want an error or nothing", tmpl, s)
		}
		if strings.Contains(s, "function") || strings.Contains(s, "native") {
			t.Errorf("%q exposed a function: %q", tmpl, s)
		}
	}
	// computed reserved keys are refused at run time
	for _, tmpl := range []string{
		`${{ parameters["constr" ~ "uctor"] }}`,
		`{% set k = "__proto__" %}${{ parameters[k] }}`,
	} {
		if _, err := RenderString(tmpl, secCtx()); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("%q: error = %v, want reserved", tmpl, err)
		}
	}
	// a context key that happens to be named like a prototype member is
	// data, not a way in
	ctx := map[string]any{"parameters": map[string]any{"toString": "plain"}}
	if s, err := RenderString(`${{ parameters.toString }}`, ctx); err != nil || s != "plain" {
		t.Errorf("data key toString = %q, %v", s, err)
	}
}

// Rule b: no template loading from files: include, import, extends and
// from are refused in every spelling (whitespace control, single quotes,
// dynamic names, cookiecutter mode), and the file is never read.
func TestSecurityNoTemplateLoading(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/partial.njk"
	if err := os.WriteFile(f, []byte("LOADED-FROM-DISK"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range []string{
		`{% include "` + f + `" %}`,
		`{%- include "` + f + `" -%}`,
		`{% include '` + f + `' ignore missing %}`,
		`{% set p = "` + f + `" %}{% include p %}`,
		`{%include "` + f + `"%}`,
		`{% import "` + f + `" as x %}`,
		`{% from "` + f + `" import y %}`,
		`{% extends "` + f + `" %}`,
		`{% if true %}{% include "` + f + `" %}{% endif %}`,
		`{% macro m() %}{% include "` + f + `" %}{% endmacro %}${{ m() }}`,
		`{% raw %}x{% endraw %}{% include "` + f + `" %}`,
	} {
		for _, o := range []Options{{}, {CookiecutterCompat: true}, {TrimBlocks: true, LstripBlocks: true}} {
			s, err := o.RenderString(tmpl, secCtx())
			if err == nil {
				t.Errorf("%q (%+v): want an error, got %q", tmpl, o, s)
			}
			if strings.Contains(s, "LOADED-FROM-DISK") || (err != nil && strings.Contains(err.Error(), "LOADED-FROM-DISK")) {
				t.Errorf("%q read the file", tmpl)
			}
		}
	}
	// unknown tags (Jinja's, Nunjucks' call blocks) are errors too, not
	// silently ignored
	for _, tmpl := range []string{
		`{% call m() %}x{% endcall %}`,
		`{% exec "id" %}`,
		`{% load "x" %}`,
	} {
		if _, err := RenderString(tmpl, secCtx()); err == nil {
			t.Errorf("%q: want an error", tmpl)
		}
	}
	// a raw block that merely shows the tag is text, not a load
	if s, err := RenderString(`{% raw %}{% include "x" %}{% endraw %}`, nil); err != nil || s != `{% include "x" %}` {
		t.Errorf("raw include = %q, %v", s, err)
	}
}

// Rule b: huge loops, recursion and large per-step operations are
// bounded. A single step may handle a large value (range() of 100,000
// items, a filter over a 1 MB string); the work those do is charged
// against the step limit, and loop iterations count even with an empty
// body. Before the fix each of these ran for minutes or exhausted memory.
func TestSecurityLoopsAndWorkBounded(t *testing.T) {
	big := `{% set s = "x".repeat(1000000) %}`
	arr := `{% set a = range(0, 99999) %}`
	for _, tmpl := range []string{
		// empty loop bodies
		`{% for i in range(0, 99999) %}{% for j in range(0, 99999) %}{% endfor %}{% endfor %}`,
		`{% for i in range(0, 99999) %}{% for j in range(0, 99999) %}{% else %}{% endfor %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% for c in s %}{% endfor %}{% endfor %}`,
		// a large operation repeated in a loop
		`{% for i in range(0, 99999) %}{% set x = range(0, 99999) %}{% endfor %}`,
		`{% for i in range(0, 99999) %}{% set x = "x".padStart(1000000) %}{% endfor %}`,
		`{% for i in range(0, 99999) %}{% set x = "x".repeat(1000000) %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s | list %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s.length %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s[5] %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s | upper %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s.split("") %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s[1:] %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = "y" in s %}{% endfor %}`,
		big + `{% for i in range(0, 99999) %}{% set x = s is lower %}{% endfor %}`,
		arr + `{% for i in range(0, 99999) %}{% set x = a | sort %}{% endfor %}`,
		arr + `{% for i in range(0, 99999) %}{% set x = a | join(",") %}{% endfor %}`,
		arr + `{% for i in range(0, 99999) %}{% set x = a | dump %}{% endfor %}`,
		arr + `{% for i in range(0, 99999) %}{% set x = a | batch(3) %}{% endfor %}`,
		arr + `{% for i in range(0, 99999) %}{% set x = a.includes(-1) %}{% endfor %}`,
		arr + `{% for i in range(0, 99999) %}{% set x = a[::1] %}{% endfor %}`,
		// single operations that allocated without limit
		`${{ [1] | batch(100000000, 0) | length }}`,
		`${{ range(0, 99999) | sum(none, "x".repeat(999000)) | length }}`,
		// recursion through macros, nested and mutual
		`{% macro a(n) %}${{ b(n) }}{% endmacro %}{% macro b(n) %}${{ a(n) }}{% endmacro %}${{ a(1) }}`,
		`{% macro m(n) %}{% for i in range(0, 10) %}${{ m(n) }}{% endfor %}{% endmacro %}${{ m(1) }}`,
		`{% macro m(n) %}{% set x = m(n) %}{% endmacro %}${{ m(1) }}`,
		`{% macro m(n=m()) %}{% endmacro %}${{ m() }}`,
	} {
		start := time.Now()
		s, err := RenderString(tmpl, secCtx())
		d := time.Since(start)
		if err == nil {
			t.Errorf("%.90q: want an error, rendered %d bytes", tmpl, len(s))
		}
		if d > 5*time.Second {
			t.Errorf("%.90q took %v", tmpl, d)
		}
	}
	// ordinary templates are not affected by the charging
	ok := `{% for i in range(0, 1000) %}${{ i }},{% endfor %}${{ parameters.list | join("-") }}${{ "ab".repeat(1000) | length }}`
	s, err := RenderString(ok, secCtx())
	if err != nil || !strings.HasSuffix(s, "999,a2000") {
		t.Fatalf("ordinary template: %.40q... %v", s, err)
	}
}
