package expr

import (
	"strings"
	"testing"
	"time"
)

var apiCtx = map[string]any{
	"parameters": map[string]any{"name": "svc", "n": 3, "tags": []any{"a", "b"}, "on": true},
}

func TestRenderAPI(t *testing.T) {
	s, err := RenderString("Hello ${{ parameters.name | upper }} ${{ parameters.n + 1 }}", apiCtx)
	if err != nil || s != "Hello SVC 4" {
		t.Fatalf("RenderString = %q, %v", s, err)
	}
	v, err := RenderValue("${{ parameters.n * 2 }}", apiCtx)
	if err != nil || v != 6.0 {
		t.Fatalf("RenderValue = %#v, %v", v, err)
	}
	v, err = RenderValue("${{ parameters.missing }}", apiCtx)
	if err != nil || !IsUndefined(v) {
		t.Fatalf("RenderValue(missing) = %#v, %v", v, err)
	}
	v, err = RenderValue("${{ always() and not failure() }}", apiCtx)
	if err != nil || v != true {
		t.Fatalf("always/failure = %#v, %v", v, err)
	}
}

func TestRenderTree(t *testing.T) {
	in := map[string]any{
		"name":  "${{ parameters.name }}",
		"count": "${{ parameters.n }}",
		"list":  []any{"${{ parameters.tags }}", "x-${{ parameters.n }}", 7.0},
		"gone":  "${{ parameters.missing }}",
		"if":    "${{ parameters.on }}",
	}
	out, err := RenderTree(in, apiCtx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ToJSON(normalize(out))
	want := `{"count":3,"if":true,"list":[["a","b"],"x-3",7],"name":"svc"}`
	if got != want {
		t.Fatalf("RenderTree = %s, want %s", got, want)
	}
	_, err = RenderTree(map[string]any{"bad": "${{ x | nosuch }}"}, apiCtx)
	if err == nil {
		t.Fatal("want error")
	}
	out, err = Options{KeepOnError: true}.RenderTree(map[string]any{"bad": "${{ x | nosuch }}"}, apiCtx)
	if err != nil || out.(map[string]any)["bad"] != "${{ x | nosuch }}" {
		t.Fatalf("KeepOnError: %#v %v", out, err)
	}
}

func TestRefusedAndBounded(t *testing.T) {
	for _, tmpl := range []string{
		`{% include "/etc/passwd" %}`,
		`{% import "x" as y %}`,
		`{% extends "base" %}`,
		`{% from "x" import y %}`,
		`{% for i in range(0, 100000) %}{% for j in range(0, 100000) %}x{% endfor %}{% endfor %}`,
		`{% macro m(n) %}${{ m(n) }}{% endmacro %}${{ m(1) }}`,
		`${{ "` + strings.Repeat("x", 1000) + `".repeat(100000) }}`,
		`${{ ` + strings.Repeat("(", 5000) + `1` + strings.Repeat(")", 5000) + ` }}`,
		`${{ ` + strings.Repeat("-", 5000) + `1 }}`,
		`${{ ` + strings.Repeat("not ", 5000) + `1 }}`,
		`${{ range(0, 1e9) | length }}`,
		`${{ "x" | indent(100000000) }}`,
		`{% macro d(s, n) %}{% if n > 0 %}${{ d(s ~ s, n - 1) }}{% else %}${{ s }}{% endif %}{% endmacro %}${{ d("x", 60) }}`,
		`{% macro d(a, n) %}{% if n %}${{ d([a, a], n - 1) }}{% else %}${{ a | dump }}{% endif %}{% endmacro %}${{ d(1, 60) }}`,
		`{% macro d(a, n) %}{% if n %}${{ d([a, a], n - 1) }}{% else %}${{ a }}{% endif %}{% endmacro %}${{ d(1, 60) }}`,
		`{% macro d(a, n) %}{% if n %}${{ d(a.concat(a), n - 1) }}{% else %}${{ a | length }}{% endif %}{% endmacro %}${{ d([1], 60) }}`,
		`${{ "ab".repeat(400000) | replace("a", "aaaaaaaaaa") }}`,
		`${{ "ab".repeat(400000).replace(r/a/g, "aaaaaaaaaa") }}`,
		`${{ parameters.constructor }}`,
		`${{ parameters["__proto__"] }}`,
	} {
		start := time.Now()
		_, err := RenderString(tmpl, apiCtx)
		if err == nil && !strings.Contains(tmpl, "indent") {
			t.Errorf("%.60q: want error", tmpl)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%.60q took %v", tmpl, d)
		}
	}
}

func TestNumberFormat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -4: "-4", 2.5: "2.5", 1e21: "1e+21", 1e20: "100000000000000000000",
		0.000001: "0.000001", 0.0000001: "1e-7", 1.5e-10: "1.5e-10", 123456789012: "123456789012",
	} {
		if got := formatNumber(f); got != want {
			t.Errorf("formatNumber(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzRender(f *testing.F) {
	seeds := []string{
		"Hello ${{ parameters.name }}!",
		"${{ parameters.list | join(',') }}",
		"{% for k, v in parameters.obj %}${{ k }}=${{ v }}{% else %}none{% endfor %}",
		"{% if parameters.n > 2 %}big{% elif x %}mid{% else %}small{% endif %}",
		"{% set x = [1, 2, {a: 'b'}] %}${{ x | dump(2) }}",
		"{% macro m(a, b=2) %}${{ a ~ b }}{% endmacro %}${{ m(1) }}",
		"${{ r/a+/g.test('aaa') }} ${{ 'abc'.replace(r/b/, 'x') }}",
		"{% raw %}${{ x }}{% endraw %}{# c #}{%- filter upper -%} a {%- endfilter %}",
		"${{ 'a1b' | replace(r/[0-9]/g, '#') | truncate(2) | center(9) }}",
		"${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}",
		"${{ 'group:x/y' | parseEntityRef | dump }}",
		"${{ [3,1,2] | sort(true) | batch(2) | first | sum }}",
		"${{ 7 // 2 ** 3 % 4 }} ${{ 'x' if y else 'z' }} ${{ a is defined }}",
		"${{ parameters.name[1:3] }}${{ parameters.name[::-1] }}",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	ctx := map[string]any{
		"parameters": map[string]any{
			"name": "my-service", "n": 3, "list": []any{"b", "a"},
			"obj":     map[string]any{"a": 1, "b": []any{1, 2}},
			"repoUrl": "github.com?owner=o&repo=r",
		},
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		if len(tmpl) > 4096 {
			return
		}
		start := time.Now()
		s, err := RenderString(tmpl, ctx)
		if err == nil && len(s) > maxOutput {
			t.Fatalf("output %d bytes exceeds the limit", len(s))
		}
		_, _ = RenderValue(tmpl, ctx)
		_, _ = Options{CookiecutterCompat: true, TrimBlocks: true, LstripBlocks: true}.RenderString(tmpl, ctx)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("render took %v", d)
		}
	})
}
