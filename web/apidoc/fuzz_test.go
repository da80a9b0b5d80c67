package apidoc

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzView renders arbitrary definitions as every type: it must never
// panic or fail, and untrusted text must never come out as markup.
//
//	go test ./web/apidoc -run '^$' -fuzz '^FuzzView$' -fuzztime 20s -fuzzminimizetime 2s
//
// (Minimising a new input at the default 60 s per input can stall a short
// run: the seeds are whole definitions.)
func FuzzView(f *testing.F) {
	for _, name := range fixtures(f) {
		f.Add(uint8(0), readFixture(f, name))
	}
	for _, s := range []string{
		"",
		"openapi: 3.0.0",
		"swagger: '2.0'\npaths: {/a: {get: {parameters: [{in: body, schema: {$ref: '#/definitions/A'}}]}}}\ndefinitions: {A: {$ref: '#/definitions/A'}}",
		"openapi: 3.1.0\npaths: {/a: {$ref: '#/paths/~1a'}}",
		"openapi: 3.0.0\npaths: {/a: {get: {responses: {'200': {content: {x: {schema: {allOf: [{$ref: '#'}]}}}}}}}}",
		"openapi: 3.0.0\ncomponents: {schemas: {A: {properties: {a: {items: {$ref: '#/components/schemas/A'}}}}}}",
		"asyncapi: 2.0.0\nchannels: {a: {subscribe: {message: {oneOf: [{$ref: '#/channels'}, 1, null]}}}}",
		"asyncapi: 3.0.0\noperations: {o: {channel: {$ref: '#/nope'}, messages: [1, {$ref: '#/operations/o'}]}}",
		"a: &a [*a]\nopenapi: 3.0.0\npaths: *a",
		"x: &x {<<: *x}",
		`{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [{"$ref": "#/paths/~1a/get/parameters/0"}]}}}}`,
		"type Query { a: String }\n\"\"\"\nunterminated",
		"service S { rpc A(B) returns (C); /* unterminated",
		"\xff\xfe\x00bad utf-8 <script>",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		"{\"a\":" + strings.Repeat("[", 300),
	} {
		for typ := uint8(0); typ < 6; typ++ {
			f.Add(typ, s)
		}
	}
	types := []string{"openapi", "asyncapi", "graphql", "grpc", "other", ""}
	f.Fuzz(func(t *testing.T, typ uint8, definition string) {
		var b strings.Builder
		if err := View(types[int(typ)%len(types)], definition).Render(context.Background(), &b); err != nil {
			t.Fatalf("render: %v", err)
		}
		out := strings.ToLower(b.String())
		if strings.Contains(out, "<script") || strings.Contains(out, "<img") {
			t.Fatalf("markup from the definition in the output")
		}
	})
}

// BenchmarkViewOpenAPI renders an OpenAPI definition of 300 operations
// (YAML, about 175 KiB): "cold" parses it every time (Prepare, then
// Render), "cached" is View on a definition seen before, "render" is the
// templates alone.
func BenchmarkViewOpenAPI(b *testing.B) {
	def := bigOpenAPI(300)
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(int64(len(def)))
		b.ReportAllocs()
		for b.Loop() {
			if err := Render(Prepare("openapi", def)).Render(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := View("openapi", def).Render(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-cold", func(b *testing.B) {
		js := yamlToJSON(b, def)
		b.SetBytes(int64(len(js)))
		b.ReportAllocs()
		for b.Loop() {
			if err := Render(Prepare("openapi", js)).Render(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("render", func(b *testing.B) {
		d := Prepare("openapi", def)
		b.ReportAllocs()
		for b.Loop() {
			if err := Render(d).Render(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkViewGraphQL highlights the storefront schema.
func BenchmarkViewGraphQL(b *testing.B) {
	def := readFixture(b, "storefront.graphql")
	b.SetBytes(int64(len(def)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(Prepare("graphql", def)).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// yamlToJSON converts a YAML test definition to JSON.
func yamlToJSON(t testing.TB, text string) string {
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
