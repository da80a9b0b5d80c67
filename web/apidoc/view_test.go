package apidoc

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func render(t testing.TB, apiType, definition string) string {
	t.Helper()
	var b strings.Builder
	if err := View(apiType, definition).Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

// mustContain checks for each snippet, in order.
func mustContain(t *testing.T, out string, snippets ...string) {
	t.Helper()
	rest := out
	for _, s := range snippets {
		i := strings.Index(rest, s)
		if i < 0 {
			if strings.Contains(out, s) {
				t.Errorf("output has %q, but not after the snippets before it", s)
			} else {
				t.Errorf("output lacks %q", s)
			}
			continue
		}
		rest = rest[i+len(s):]
	}
}

// checkStructure parses the output as HTML and checks what every view
// must get right: no h1/h2, scoped table headers, unique ids, links only
// to fragments on the page or http(s), no script, no event handlers.
func checkStructure(t *testing.T, name, out string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ids := map[string]bool{}
	var hrefs []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: <%s> has an event handler attribute %s", name, n.Data, a.Key)
				}
			}
			switch n.Data {
			case "h1", "h2", "script", "style", "iframe", "img", "object":
				t.Errorf("%s: output has a <%s>", name, n.Data)
			case "th":
				if attr["scope"] != "col" && attr["scope"] != "row" {
					t.Errorf("%s: <th> without scope", name)
				}
			case "a":
				href := attr["href"]
				hrefs = append(hrefs, href)
				if !strings.HasPrefix(href, "#") && !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "http://") {
					t.Errorf("%s: link to %q", name, href)
				}
			}
			if id, ok := attr["id"]; ok {
				if ids[id] {
					t.Errorf("%s: duplicate id %q", name, id)
				}
				ids[id] = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, h := range hrefs {
		if strings.HasPrefix(h, "#") && !ids[h[1:]] {
			t.Errorf("%s: link to missing id %s", name, h)
		}
	}
}

func TestViewOpenAPI(t *testing.T) {
	out := render(t, "openapi", readFixture(t, "orders-api.openapi.yaml"))
	checkStructure(t, "orders", out)
	mustContain(t, out,
		`<div class="apidoc apidoc-openapi">`,
		`<h3 class="apidoc-title">Freshcart Orders API</h3>`,
		`<span class="apidoc-version">Version 2.4.0</span>`,
		`<p>Place and follow grocery orders.`,
		`<h3>Servers</h3>`, `<code>https://api.freshcart.example/orders/v2</code>`,
		`<h3>Operations <span class="apidoc-count">(6)</span>`,
		`<section class="apidoc-group" id="apidoc-tag-orders"><h4>orders</h4>`,
		`<details class="apidoc-op" id="apidoc-op-listOrders"><summary><span class="apidoc-method apidoc-method-get">GET</span> <code class="apidoc-path">/orders</code> <span class="apidoc-summary">List the caller&#39;s orders, newest first.</span>`,
		`<h5>Parameters</h5>`, `<th scope="col">Name</th>`, `<th scope="row"><code>status</code>`,
		`<a href="#apidoc-schema-OrderStatus">OrderStatus</a>`, `<code>out_for_delivery</code>`,
		`<h5>Responses</h5>`, `<span class="apidoc-status apidoc-status-ok">200</span>`,
		`<code class="apidoc-prop">unitPrice</code>`, `<span class="apidoc-required">required</span>`,
		`<span class="apidoc-method apidoc-method-post">POST</span> <code class="apidoc-path">/orders</code>`,
		`<h5>Request body <span class="apidoc-required">required</span></h5>`,
		`<section class="apidoc-group" id="apidoc-tag-delivery"><h4>delivery</h4>`,
		`<span class="apidoc-method apidoc-method-put">PUT</span>`,
		`<h3>Schemas <span class="apidoc-count">(9)</span>`,
		`<details class="apidoc-model" id="apidoc-schema-Money"><summary><code class="apidoc-model-name">Money</code>`,
	)
	if strings.Contains(out, "apidoc-notice") {
		t.Error("a notice on a good definition")
	}
}

func TestViewAllFixtures(t *testing.T) {
	for _, tc := range []struct{ file, apiType, kind string }{
		{"orders-api.openapi.yaml", "openapi", "apidoc-openapi"},
		{"catalog-api.openapi.yaml", "openapi", "apidoc-openapi"},
		{"payments-api.openapi.yaml", "openapi", "apidoc-openapi"},
		{"legacy-store.swagger.yaml", "openapi", "apidoc-openapi"},
		{"promotions-api.openapi.json", "openapi", "apidoc-openapi"},
		{"order-events.asyncapi.yaml", "asyncapi", "apidoc-asyncapi"},
		{"delivery-events.asyncapi.yaml", "asyncapi", "apidoc-asyncapi"},
		{"basket-events.asyncapi3.yaml", "asyncapi", "apidoc-asyncapi"},
		{"storefront.graphql", "graphql", "apidoc-graphql"},
		{"inventory.proto", "grpc", "apidoc-grpc"},
		{"inventory.proto", "trpc", "apidoc-text"},
	} {
		out := render(t, tc.apiType, readFixture(t, tc.file))
		checkStructure(t, tc.file, out)
		if !strings.Contains(out, `<div class="apidoc `+tc.kind+`">`) {
			t.Errorf("%s as %s: not shown as %s", tc.file, tc.apiType, tc.kind)
		}
		if strings.Contains(out, "apidoc-notice") {
			t.Errorf("%s: unexpected notice", tc.file)
		}
		if len(out) > 200_000 {
			t.Errorf("%s: %d bytes of HTML", tc.file, len(out))
		}
	}
}

func TestViewSwaggerAndAsyncAPI(t *testing.T) {
	out := render(t, "openapi", readFixture(t, "legacy-store.swagger.yaml"))
	mustContain(t, out,
		`<span class="apidoc-format-name">Swagger 2.0</span>`,
		`Terms of service: <a href="https://freshcart.example/terms" rel="nofollow noopener noreferrer">`,
		`<details class="apidoc-op apidoc-deprecated" id="apidoc-op-closeStore">`,
		`<span class="apidoc-method apidoc-method-delete">DELETE</span>`,
		`<span class="apidoc-flag">deprecated</span>`,
	)
	out = render(t, "asyncapi", readFixture(t, "basket-events.asyncapi3.yaml"))
	mustContain(t, out,
		`<div class="apidoc apidoc-asyncapi">`,
		`<h3 class="apidoc-title">Basket events</h3>`,
		`<span class="apidoc-format-name">AsyncAPI 3.0.0</span>`,
		`Documentation: <a href="https://docs.freshcart.example/events/basket"`,
		`<h3>Channels <span class="apidoc-count">(3)</span>`,
		`<section class="apidoc-channel" id="apidoc-channel-basketUpdated"><h4><code>baskets.{storeId}.updated.v1</code></h4>`,
		`<span class="apidoc-method apidoc-action-receive">receive</span> <code class="apidoc-path">onBasketUpdated</code>`,
		`<h5>Basket updated</h5>`, `<p class="apidoc-label">Payload</p>`,
		`<code class="apidoc-prop">parent</code>`, `>recursive</span>`,
		`<span class="apidoc-method apidoc-action-send">send</span>`,
	)
	out = render(t, "asyncapi", readFixture(t, "order-events.asyncapi.yaml"))
	mustContain(t, out, `<span class="apidoc-method apidoc-action-receive">subscribe</span> <code class="apidoc-path">onOrderPlaced</code>`, `<h5>Order placed</h5>`, `<code class="apidoc-prop">eventId</code>`)
}

func TestViewCode(t *testing.T) {
	out := render(t, "graphql", readFixture(t, "storefront.graphql"))
	mustContain(t, out,
		`<div class="apidoc apidoc-graphql">`,
		`<nav class="apidoc-outline" aria-labelledby="apidoc-outline-title"><h3 id="apidoc-outline-title">Outline</h3>`,
		`<h4>Types</h4>`, `<a href="#apidoc-gql-Query"><code>Query</code></a>`,
		`<h3>Source</h3>`,
		`<pre class="chroma apidoc-code" tabindex="0" role="region" aria-label="Definition source (GraphQL)"><code>`,
		`<span id="apidoc-gql-Query"><span class="kd">type</span>`,
	)
	out = render(t, "grpc", readFixture(t, "inventory.proto"))
	mustContain(t, out,
		`<div class="apidoc apidoc-grpc">`,
		`<h4>Services</h4>`, `<a href="#apidoc-proto-InventoryService"><code>InventoryService</code></a>`,
		`<li><code>WatchStockChanges(WatchStockChangesRequest) returns (stream StockChange)</code></li>`,
		`<span id="apidoc-proto-InventoryService"><span class="c1">// Inventory service`[:0], // (the file comment belongs to no definition)
		`aria-label="Definition source (Protocol Buffers)"`,
		`<span class="kd">service</span>`,
	)
	// Unknown types: highlighted by a guess, no outline.
	out = render(t, "trpc", "a: 1\nb: [x, y]\n")
	mustContain(t, out, `<div class="apidoc apidoc-text">`, `aria-label="Definition source (YAML)"`, `<span class="nt">a</span>`)
	if strings.Contains(out, "<h3>") {
		t.Error("a heading over text without an outline")
	}
	out = render(t, "soap", "<definitions><service name='x'/></definitions>")
	mustContain(t, out, `aria-label="Definition source (XML)"`, `&lt;`)
	out = render(t, "other", "just some words")
	mustContain(t, out, `aria-label="Definition source (plain text)"`, `just some words`)
}

func TestViewNotices(t *testing.T) {
	out := render(t, "openapi", "openapi: 3.0.0\npaths: {/a: [\n")
	checkStructure(t, "broken", out)
	mustContain(t, out,
		`<p class="apidoc-notice" role="note">This definition could not be shown as OpenAPI: yaml:`,
		`Here is its text.</p>`,
		`<pre class="chroma apidoc-code"`, `/a`,
	)
	out = render(t, "asyncapi", "title: not really\nchannels: {}\n")
	mustContain(t, out, `could not be shown as AsyncAPI: it has no &#34;asyncapi&#34; version field.`, `not really`)
	out = render(t, "openapi", `{"openapi": "3.0.0", "paths": {"/a": }`)
	mustContain(t, out, `could not be shown as OpenAPI: invalid JSON`, `aria-label="Definition source (JSON)"`)
	out = render(t, "openapi", "   \n")
	mustContain(t, out, `<p class="apidoc-notice" role="note">This API has no definition.</p>`)
	if strings.Contains(out, "<pre") {
		t.Error("source shown for an empty definition")
	}
	// The document decides: an AsyncAPI definition under spec.type openapi.
	out = render(t, "OpenAPI", readFixture(t, "order-events.asyncapi.yaml"))
	mustContain(t, out, `<div class="apidoc apidoc-asyncapi">`)
	// Nil doc.
	var b strings.Builder
	if err := Render(nil).Render(context.Background(), &b); err != nil || !strings.Contains(b.String(), "no definition") {
		t.Errorf("Render(nil) = %q, %v", b.String(), err)
	}
}

const evil = `<script>alert(1)</script>`
const evilImg = `<img src=x onerror=alert(1)>`

// noRawHTML fails if untrusted markup came through unescaped.
func noRawHTML(t *testing.T, name, out string) {
	t.Helper()
	low := strings.ToLower(out)
	for _, bad := range []string{"<script", "<img", "<b>"} {
		if strings.Contains(low, bad) {
			i := strings.Index(low, bad)
			t.Errorf("%s: output has %q: …%s…", name, bad, out[max(0, i-80):min(len(out), i+80)])
		}
	}
}

func TestViewEscapesOpenAPI(t *testing.T) {
	def := `openapi: 3.0.0
info:
  title: "` + evil + `"
  version: "` + evilImg + `"
  description: "` + evilImg + `\n\n<b>bold</b>"
  termsOfService: "javascript:alert(1)"
  contact:
    name: "` + evil + `"
    url: "https://example.com/\"onmouseover=\"alert(1)"
  license:
    name: MIT
    url: "data:text/html,<script>alert(1)</script>"
externalDocs:
  url: "JaVaScRiPt:alert(1)"
servers:
  - url: "` + evil + `"
    description: "` + evilImg + `"
tags:
  - name: "` + evil + `"
    description: "` + evilImg + `"
paths:
  "/pets/<script>alert(1)</script>":
    get:
      tags: ["` + evil + `"]
      summary: "` + evilImg + `"
      operationId: "` + evil + `"
      description: "` + evil + `"
      parameters:
        - name: "` + evil + `"
          in: "` + evilImg + `"
          description: "` + evil + `"
          schema:
            type: "` + evil + `"
            enum: ["` + evil + `", "` + evilImg + `"]
            default: "` + evil + `"
      responses:
        "` + evil + `":
          description: "` + evilImg + `"
          content:
            "` + evil + `":
              schema:
                $ref: "#/components/schemas/` + evil + `"
components:
  schemas:
    "` + evil + `":
      type: object
      title: "` + evilImg + `"
      properties:
        "` + evil + `":
          type: string
          format: "` + evilImg + `"
          description: "` + evil + `"
          pattern: "` + evil + `"
          enum: ["` + evilImg + `"]
`
	out := render(t, "openapi", def)
	noRawHTML(t, "openapi", out)
	checkStructure(t, "openapi", out)
	mustContain(t, out,
		`<h3 class="apidoc-title">&lt;script&gt;alert(1)&lt;/script&gt;</h3>`,
		`<p>&lt;img src=x onerror=alert(1)&gt;</p><p>&lt;b&gt;bold&lt;/b&gt;</p>`,
		`<h4>&lt;script&gt;alert(1)&lt;/script&gt;</h4>`,
		`<code class="apidoc-path">/pets/&lt;script&gt;alert(1)&lt;/script&gt;</code>`,
		`<code>&lt;img src=x onerror=alert(1)&gt;</code>`,
	)
	// No link for an unsafe URL; the text is shown, escaped.
	if strings.Contains(out, `href="https://example.com/"onmouseover`) {
		t.Error("attribute breakout")
	}
	for _, bad := range []string{`href="javascript`, `href="data:`, `href="JaVaScRiPt`} {
		if strings.Contains(out, bad) {
			t.Errorf("unsafe link %s", bad)
		}
	}
}

func TestViewEscapesAsyncAPIAndCode(t *testing.T) {
	def := `asyncapi: 2.6.0
info: {title: "` + evil + `", version: "1", description: "` + evilImg + `"}
servers:
  "` + evil + `": {url: "` + evilImg + `", protocol: "` + evil + `"}
channels:
  "` + evil + `":
    description: "` + evilImg + `"
    subscribe:
      operationId: "` + evil + `"
      message:
        name: "` + evil + `"
        title: "` + evilImg + `"
        contentType: "` + evil + `"
        payload:
          type: object
          properties:
            "` + evilImg + `": {type: string, enum: ["` + evil + `"]}
`
	out := render(t, "asyncapi", def)
	noRawHTML(t, "asyncapi", out)
	checkStructure(t, "asyncapi", out)
	mustContain(t, out, `<h3 class="apidoc-title">&lt;script&gt;`, `<h5>&lt;img src=x`)

	v3 := `asyncapi: 3.0.0
info: {title: x, version: "1"}
channels:
  c:
    address: "` + evil + `"
    messages:
      m: {payload: {type: string, description: "` + evilImg + `"}}
operations:
  "` + evil + `":
    action: "` + evil + `"
    channel: {$ref: '#/channels/c'}
`
	out = render(t, "asyncapi", v3)
	noRawHTML(t, "asyncapi3", out)
	checkStructure(t, "asyncapi3", out)

	// Source text goes through chroma, which escapes it.
	gql := "\"\"\"\n" + evil + "\n\"\"\"\ntype Query {\n  \"" + evilImg + "\"\n  a: String\n}\n# " + evil + "\n"
	out = render(t, "graphql", gql)
	noRawHTML(t, "graphql", out)
	checkStructure(t, "graphql", out)
	mustContain(t, out, `&lt;script&gt;alert(1)&lt;/script&gt;`)
	proto := "// " + evil + "\nservice S { rpc A(" + evilImg + ") returns (B); }\nmessage M { string s = 1 [default = \"" + evil + "\"]; }\n"
	out = render(t, "grpc", proto)
	noRawHTML(t, "grpc", out)
	checkStructure(t, "grpc", out)
	for _, typ := range []string{"other", "openapi", "asyncapi"} {
		for _, text := range []string{evil, evilImg + "\n" + evil, "{\"a\": \"" + evil + "\"", "a: " + evil + "\n"} {
			out = render(t, typ, text)
			noRawHTML(t, typ, out)
			checkStructure(t, typ, out)
		}
	}
}

// TestChromaEscapes checks the premise of the one templ.Raw: chroma's
// output has no markup from the source.
func TestChromaEscapes(t *testing.T) {
	for _, lang := range []string{"graphql", "protobuf", "yaml", "json", "xml", "plaintext", "nonsense"} {
		src := "a: \"" + evil + "\" # " + evilImg + "\n<x y=\"&amp;\">'\"</x>\n"
		c := highlight(src, lang, []split{{offset: 3, id: "apidoc-x"}})
		var all strings.Builder
		for _, ch := range c.Chunks {
			all.WriteString(ch.HTML)
		}
		out := all.String()
		// Only chroma's own spans may be tags.
		for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(out, -1) {
			if !regexp.MustCompile(`^(<span class="[a-z0-9]+">|</span>)$`).MatchString(tag) {
				t.Errorf("%s: tag %q in chroma's output", lang, tag)
			}
		}
		if !strings.Contains(out, "&lt;script&gt;") || !strings.Contains(out, "&amp;amp;") {
			t.Errorf("%s: source not escaped: %s", lang, out)
		}
		// Unescaping the text gives back the source.
		text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(out, ""))
		if text != src {
			t.Errorf("%s: text %q, want %q", lang, text, src)
		}
	}
}

// TestHighlightBudget checks that highlighting stops after its budget and
// shows the rest of the text plain, losing nothing.
func TestHighlightBudget(t *testing.T) {
	src := strings.Repeat("type T { a: String } # <x>\n", 3000)
	c := highlight(src, "graphql", nil)
	out := c.Chunks[0].HTML
	if n := strings.Count(out, "<span"); n > maxTokens {
		t.Errorf("%d spans", n)
	}
	if !strings.HasSuffix(out, "type T { a: String } # &lt;x&gt;\n") {
		t.Errorf("the end is not plain: …%s", out[len(out)-200:])
	}
	if text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(out, "")); text != src {
		t.Error("text lost")
	}
	// Chunks after the budget is spent are plain too.
	var splits []split
	for i := 1; i < 3000; i += 100 {
		splits = append(splits, split{offset: i * len("type T { a: String } # <x>\n"), id: fmt.Sprint("c", i)})
	}
	c = highlight(src, "graphql", splits)
	var all strings.Builder
	for _, ch := range c.Chunks {
		all.WriteString(ch.HTML)
	}
	if text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(all.String(), "")); text != src {
		t.Error("text lost across chunks")
	}
	if last := c.Chunks[len(c.Chunks)-1].HTML; strings.Contains(last, "<span") {
		t.Error("the last chunk is highlighted")
	}
}

func TestViewBigDefinitionIsCapped(t *testing.T) {
	out := render(t, "openapi", bigOpenAPI(1500))
	mustContain(t, out, `This definition is large, so the operations link to the schemas they use`, `<h3>Operations <span class="apidoc-count">(1500)</span>`, `1000 more operations are not listed here`)
	if n := strings.Count(out, `<details class="apidoc-op"`); n != maxOperations {
		t.Errorf("%d operations listed", n)
	}
	if len(out) > 2_000_000 {
		t.Errorf("%d bytes for a big definition", len(out))
	}
	t.Logf("1500 operations: %d KiB of HTML", len(out)/1024)

	// Long source text is cut, and says so.
	long := strings.Repeat("type T { a: String }\n", 30000)
	out = render(t, "graphql", long)
	mustContain(t, out, `The definition is 616 KiB; only its first 256 KiB are shown.`)
	if len(out) > 3_000_000 {
		t.Errorf("%d bytes for long source", len(out))
	}
}

func TestCache(t *testing.T) {
	c := newDocCache(2, 1<<20)
	a := c.prepare("openapi", readFixture(t, "orders-api.openapi.yaml"))
	if b := c.prepare("openapi", readFixture(t, "orders-api.openapi.yaml")); b != a {
		t.Error("not cached")
	}
	if b := c.prepare("asyncapi", readFixture(t, "orders-api.openapi.yaml")); b == a {
		t.Error("cached across types")
	}
	c.prepare("graphql", "type A { a: String }")
	if c.order.Len() != 2 || len(c.entries) != 2 {
		t.Errorf("%d entries, %d in the map", c.order.Len(), len(c.entries))
	}
	if b := c.prepare("openapi", readFixture(t, "orders-api.openapi.yaml")); b == a {
		t.Error("the least recently used entry was kept")
	}
	// Too big for the cache: prepared, not kept.
	small := newDocCache(10, 20<<10)
	small.prepare("other", strings.Repeat("x", 10<<10))
	if small.order.Len() != 0 || small.bytes != 0 {
		t.Errorf("kept an entry over the byte limit: %d, %d bytes", small.order.Len(), small.bytes)
	}
}

// TestViewConcurrent renders shared cached docs from many goroutines (run
// with -race).
func TestViewConcurrent(t *testing.T) {
	defs := []string{readFixture(t, "orders-api.openapi.yaml"), readFixture(t, "basket-events.asyncapi3.yaml"), readFixture(t, "storefront.graphql")}
	types := []string{"openapi", "asyncapi", "graphql"}
	done := make(chan string)
	for g := 0; g < 8; g++ {
		go func() {
			var b strings.Builder
			for i := 0; i < 6; i++ {
				b.Reset()
				_ = View(types[i%3], defs[i%3]).Render(context.Background(), &b)
			}
			done <- b.String()
		}()
	}
	for g := 0; g < 8; g++ {
		if out := <-done; !strings.Contains(out, "apidoc-graphql") {
			t.Error("unexpected output")
		}
	}
}

// TestPathologicalInputsAreBounded renders odd inputs that make lexers and
// parsers slow or produce many tokens: each must stay small and quick.
func TestPathologicalInputsAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	inputs := map[string]string{
		"quotes":   strings.Repeat(`"`, 300000),
		"brackets": strings.Repeat("[", 300000),
		"triple":   `"""` + strings.Repeat("a\\", 150000),
		"keys":     strings.Repeat("a: b\n", 60000),
		"comments": strings.Repeat("/*", 150000),
		"line":     strings.Repeat("x", 1<<20),
		"huge":     "openapi: 3.0.0\npaths: {}\nx: " + strings.Repeat("y", 3<<20),
	}
	for name, in := range inputs {
		for _, typ := range []string{"openapi", "asyncapi", "graphql", "grpc", "other"} {
			start := time.Now()
			out := render(t, typ, in)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s as %s: %v", name, typ, d)
			}
			if len(out) > 1536<<10 {
				t.Errorf("%s as %s: %d KiB of HTML", name, typ, len(out)>>10)
			}
		}
	}
	out := render(t, "openapi", inputs["huge"])
	mustContain(t, out, `This definition is too big (3073 KiB) to be shown as OpenAPI. Here is its text.`)
}
