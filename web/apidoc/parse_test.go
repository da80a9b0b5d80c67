package apidoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	pathpkg "path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/greenroom-dev/greenroom/catalog/demo"
)

// readFixture reads a definition written for these tests (testdata) or
// one of the demo catalog's real ones (catalog/demo/catalog/apis).
func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = demo.FS.ReadFile(pathpkg.Join("catalog/apis", name))
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixtures lists every definition readFixture knows.
func fixtures(t testing.TB) []string {
	t.Helper()
	var names []string
	for _, dir := range []fs.FS{os.DirFS("testdata"), mustSub(t, demo.FS, "catalog/apis")} {
		entries, err := fs.ReadDir(dir, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.IsDir() && e.Name() != "apis.yaml" {
				names = append(names, e.Name())
			}
		}
	}
	return names
}

func mustSub(t testing.TB, fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func mustOpenAPI(t *testing.T, fixture string) *OpenAPI {
	t.Helper()
	doc, err := ParseOpenAPI(readFixture(t, fixture))
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	return doc
}

func mustOpenAPIText(t *testing.T, text string) *OpenAPI {
	t.Helper()
	doc, err := ParseOpenAPI(text)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findOp returns the first operation with the given method and path.
func findOp(t *testing.T, doc *OpenAPI, method, path string) *Operation {
	t.Helper()
	for _, g := range doc.Groups {
		for _, op := range g.Ops {
			if op.Method == method && op.Path == path {
				return op
			}
		}
	}
	t.Fatalf("no operation %s %s", method, path)
	return nil
}

func findParam(t *testing.T, op *Operation, name string) Param {
	t.Helper()
	for _, p := range op.Params {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("%s %s has no parameter %q (has %v)", op.Method, op.Path, name, op.Params)
	return Param{}
}

func findResponse(t *testing.T, op *Operation, status string) Response {
	t.Helper()
	for _, r := range op.Responses {
		if r.Status == status {
			return r
		}
	}
	t.Fatalf("%s %s has no response %s", op.Method, op.Path, status)
	return Response{}
}

// child returns the property of s with the given name.
func child(t *testing.T, s *Schema, name string) *Schema {
	t.Helper()
	if s == nil {
		t.Fatalf("no schema (looking for %q)", name)
	}
	var names []string
	for _, c := range s.Children {
		if c.Name == name {
			return c
		}
		names = append(names, c.Name)
	}
	t.Fatalf("schema %q/%q has no property %q (has %v)", s.Ref, s.Type, name, names)
	return nil
}

// path follows property names down a schema tree.
func path(t *testing.T, s *Schema, names ...string) *Schema {
	t.Helper()
	for _, n := range names {
		s = child(t, s, n)
	}
	return s
}

func groupSummary(doc *OpenAPI) string {
	var b strings.Builder
	for _, g := range doc.Groups {
		fmt.Fprintf(&b, "%s:", g.Name)
		for _, op := range g.Ops {
			fmt.Fprintf(&b, " %s %s;", op.Method, op.Path)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestOpenAPIGroupsByTag(t *testing.T) {
	doc := mustOpenAPI(t, "orders-api.openapi.yaml")
	want := "orders: GET /orders; POST /orders; GET /orders/{orderId}; POST /orders/{orderId}/cancel;\n" +
		"delivery: PUT /orders/{orderId}/delivery-slot; GET /orders/{orderId}/timeline;\n"
	if got := groupSummary(doc); got != want {
		t.Errorf("groups:\n%s\nwant:\n%s", got, want)
	}
	if doc.Operations != 6 || doc.OmittedOps != 0 {
		t.Errorf("Operations = %d, OmittedOps = %d", doc.Operations, doc.OmittedOps)
	}
	if doc.Groups[0].Description != "Creating, listing and cancelling orders." {
		t.Errorf("tag description = %q", doc.Groups[0].Description)
	}
	if doc.Info.Title != "Freshcart Orders API" || doc.Info.Version != "2.4.0" || doc.Info.Format != "OpenAPI 3.0.3" {
		t.Errorf("info = %+v", doc.Info)
	}
	if !strings.HasPrefix(doc.Info.Description, "Place and follow grocery orders.") {
		t.Errorf("description = %q", doc.Info.Description)
	}
	if len(doc.Servers) != 2 || doc.Servers[1].URL != "https://api.staging.freshcart.example/orders/v2" || doc.Servers[1].Description != "Staging" {
		t.Errorf("servers = %+v", doc.Servers)
	}
	var names []string
	for _, s := range doc.Schemas {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "OrderStatus Money Address OrderLine CreateOrderRequest Order OrderPage TimelineEntry Problem" {
		t.Errorf("schemas = %s", got)
	}
}

func TestOpenAPIUntaggedGoToDefaultLast(t *testing.T) {
	doc := mustOpenAPI(t, "promotions-api.openapi.json")
	want := "admin: PUT /promo-codes/{code};\n" +
		"offers: GET /offers; GET /categories/tree;\n" +
		"default: GET /promo-codes/{code};\n"
	if got := groupSummary(doc); got != want {
		t.Errorf("groups:\n%s\nwant:\n%s", got, want)
	}
}

func TestOpenAPIOperationInSeveralTags(t *testing.T) {
	doc := mustOpenAPIText(t, `
openapi: 3.0.0
info: {title: T, version: "1"}
paths:
  /a:
    get:
      tags: [one, two]
      summary: In both.
      responses: {"200": {description: ok}}
`)
	if got := groupSummary(doc); got != "one: GET /a;\ntwo: GET /a;\n" {
		t.Errorf("groups:\n%s", got)
	}
	if doc.Groups[0].Ops[0].ID == doc.Groups[1].Ops[0].ID {
		t.Errorf("both entries have id %q", doc.Groups[0].Ops[0].ID)
	}
}

func TestOpenAPI31Webhooks(t *testing.T) {
	doc := mustOpenAPIText(t, `
openapi: 3.1.0
info: {title: Hooks, version: "1"}
webhooks:
  orderPlaced:
    post:
      tags: [orders]
      summary: An order was placed.
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {id: {type: string}}}
      responses: {"200": {description: Thanks.}}
paths:
  /orders:
    get:
      tags: [orders]
      responses: {"200": {description: ok}}
`)
	if got := groupSummary(doc); got != "orders: GET /orders;\nWebhooks: POST orderPlaced;\n" {
		t.Errorf("groups:\n%s", got)
	}
}

func TestOpenAPIRefsResolved(t *testing.T) {
	doc := mustOpenAPI(t, "orders-api.openapi.yaml")
	list := findOp(t, doc, "GET", "/orders")

	// Parameters from #/components/parameters.
	size := findParam(t, list, "pageSize")
	if size.In != "query" || size.Schema == nil || size.Schema.Type != "integer" {
		t.Fatalf("pageSize = %+v", size)
	}
	if got := strings.Join(size.Schema.Notes, ", "); got != "default 20, min 1, max 100" {
		t.Errorf("pageSize notes = %q", got)
	}
	status := findParam(t, list, "status")
	if status.Schema.Ref != "OrderStatus" || status.Schema.RefID != "apidoc-schema-OrderStatus" || len(status.Schema.Enum) != 6 {
		t.Errorf("status schema = %+v", status.Schema)
	}

	// A response from #/components/responses, with its schema.
	unauth := findResponse(t, list, "401")
	if unauth.Description != "Missing or expired token." || len(unauth.Content) != 1 || unauth.Content[0].Type != "application/problem+json" {
		t.Fatalf("401 = %+v", unauth)
	}
	if unauth.Content[0].Schema.Ref != "Problem" {
		t.Errorf("401 schema = %+v", unauth.Content[0].Schema)
	}

	// Schemas expanded through several references.
	page := findResponse(t, list, "200").Content[0].Schema
	if page.Ref != "OrderPage" {
		t.Errorf("200 schema ref = %q", page.Ref)
	}
	items := child(t, page, "items")
	if items.Type != "array of Order" || !items.Required {
		t.Errorf("items = %+v", items)
	}
	price := path(t, items, "lines", "unitPrice")
	if price.Ref != "Money" || !price.Required {
		t.Errorf("unitPrice = %+v", price)
	}
	amount := child(t, price, "amount")
	if amount.Type != "integer" || !amount.Required || amount.Description != "Amount in minor units (pence)." {
		t.Errorf("amount = %+v", amount)
	}
	if sub := path(t, items, "lines", "substitution"); strings.Join(sub.Enum, ",") != "allowed,not_allowed,best_match" {
		t.Errorf("substitution enum = %v", sub.Enum)
	}
	if slot := path(t, items, "slot", "start"); slot.Type != "string" || slot.Format != "date-time" {
		t.Errorf("slot.start = %+v", slot)
	}

	// A request body.
	create := findOp(t, doc, "POST", "/orders")
	if create.Body == nil || !create.Body.Required || create.Body.Content[0].Schema.Ref != "CreateOrderRequest" {
		t.Fatalf("body = %+v", create.Body)
	}
	if a := path(t, create.Body.Content[0].Schema, "address", "postcode"); !a.Required {
		t.Errorf("address.postcode = %+v", a)
	}
	// Response headers.
	created := findResponse(t, create, "201")
	if len(created.Headers) != 1 || created.Headers[0].Name != "Location" || created.Headers[0].Schema.Type != "string" {
		t.Errorf("201 headers = %+v", created.Headers)
	}
}

func TestOpenAPIPathLevelParametersMerged(t *testing.T) {
	doc := mustOpenAPI(t, "orders-api.openapi.yaml")
	get := findOp(t, doc, "GET", "/orders/{orderId}")
	id := findParam(t, get, "orderId")
	if id.In != "path" || !id.Required || id.Schema.Type != "string" {
		t.Errorf("orderId = %+v", id)
	}
	if got := strings.Join(id.Schema.Notes, ", "); !strings.Contains(got, "pattern ^ord_") {
		t.Errorf("orderId notes = %q", got)
	}

	// Operation-level parameters come after the path's, and override one
	// with the same name and location.
	sw := mustOpenAPI(t, "legacy-store.swagger.yaml")
	store := findOp(t, sw, "GET", "/stores/{storeId}")
	if len(store.Params) != 2 || store.Params[0].Name != "storeId" || store.Params[1].Name != "include" {
		t.Fatalf("params = %+v", store.Params)
	}
	if store.Params[0].Description != "Store id, e.g. lon-hackney-01." {
		t.Errorf("storeId not overridden: %q", store.Params[0].Description)
	}
	closeOp := findOp(t, sw, "DELETE", "/stores/{storeId}")
	if len(closeOp.Params) != 1 || closeOp.Params[0].Description != "Path-level description." {
		t.Errorf("DELETE params = %+v", closeOp.Params)
	}
	if !closeOp.Deprecated {
		t.Error("DELETE is not deprecated")
	}

	// Catalog: one path-level $ref parameter plus one of the operation.
	cat := mustOpenAPI(t, "catalog-api.openapi.yaml")
	prices := findOp(t, cat, "GET", "/products/{sku}/prices")
	if len(prices.Params) != 2 || prices.Params[0].Name != "sku" || prices.Params[1].Name != "storeId" {
		t.Errorf("prices params = %+v", prices.Params)
	}
}

func TestOpenAPICyclesStopped(t *testing.T) {
	cat := mustOpenAPI(t, "catalog-api.openapi.yaml")
	tree := findResponse(t, findOp(t, cat, "GET", "/categories"), "200").Content[0].Schema
	if tree.Type != "array of Category" {
		t.Fatalf("categories = %+v", tree)
	}
	children := child(t, tree, "children")
	if !children.Recursive || len(children.Children) != 0 || children.Type != "array of Category" {
		t.Errorf("children = %+v", children)
	}

	// Direct, mutual and reference-only cycles.
	doc := mustOpenAPIText(t, `
openapi: 3.0.0
info: {title: Cycles, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/A'}
        "201":
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Loop1'}
        "202":
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Self'}
components:
  schemas:
    A:
      type: object
      properties:
        b: {$ref: '#/components/schemas/B'}
    B:
      type: object
      properties:
        a: {$ref: '#/components/schemas/A'}
        all:
          allOf: [{$ref: '#/components/schemas/B'}]
    Loop1: {$ref: '#/components/schemas/Loop2'}
    Loop2: {$ref: '#/components/schemas/Loop1'}
    Self:
      allOf:
        - $ref: '#/components/schemas/Self'
        - properties:
            x: {type: string}
`)
	op := findOp(t, doc, "GET", "/a")
	a := findResponse(t, op, "200").Content[0].Schema
	back := path(t, a, "b", "a")
	if !back.Recursive || back.Ref != "A" || len(back.Children) != 0 {
		t.Errorf("b.a = %+v", back)
	}
	if loop := findResponse(t, op, "201").Content[0].Schema; len(loop.Children) != 0 {
		t.Errorf("loop = %+v", loop)
	}
	self := findResponse(t, op, "202").Content[0].Schema
	if x := child(t, self, "x"); x.Type != "string" {
		t.Errorf("self.x = %+v", x)
	}
}

func TestOpenAPIDepthCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("openapi: 3.0.0\ninfo: {title: Deep, version: '1'}\npaths:\n  /deep:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n")
	indent := "                "
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "%stype: object\n%sproperties:\n%s  p%d:\n", indent, indent, indent, i)
		indent += "    "
	}
	fmt.Fprintf(&b, "%stype: string\n", indent)
	doc := mustOpenAPIText(t, b.String())
	s := findResponse(t, findOp(t, doc, "GET", "/deep"), "200").Content[0].Schema
	depth := 0
	for len(s.Children) > 0 {
		s = s.Children[0]
		depth++
	}
	if depth != maxSchemaDepth || !s.Cut {
		t.Errorf("tree is %d deep, last cut = %v; want %d and cut", depth, s.Cut, maxSchemaDepth)
	}
}

func TestSwagger2(t *testing.T) {
	doc := mustOpenAPI(t, "legacy-store.swagger.yaml")
	if doc.Info.Format != "Swagger 2.0" {
		t.Errorf("format = %q", doc.Info.Format)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://legacy.freshcart.example/v1" {
		t.Errorf("servers = %+v", doc.Servers)
	}
	list := findOp(t, doc, "GET", "/stores")
	limit := findParam(t, list, "limit") // from #/parameters/Limit
	if limit.Schema == nil || limit.Schema.Type != "integer" || !strings.Contains(strings.Join(limit.Schema.Notes, ","), "default 20") {
		t.Errorf("limit = %+v", limit.Schema)
	}
	if f := findParam(t, list, "features"); f.Schema.Type != "array of string" || len(f.Schema.Enum) != 3 {
		t.Errorf("features = %+v", f.Schema)
	}
	if d := findResponse(t, list, "default"); d.Description != "Something went wrong." || d.Content[0].Schema.Ref != "Error" {
		t.Errorf("default = %+v", d)
	}
	stores := findResponse(t, list, "200").Content[0].Schema
	if stores.Type != "array of Store" || stores.RefID != "apidoc-schema-Store" {
		t.Errorf("200 = %+v", stores)
	}
	// allOf is merged: StoreInput's properties, then the extra ones.
	var names []string
	for _, c := range stores.Children {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "name address zones id openedAt" {
		t.Errorf("Store properties = %s", got)
	}
	if id := child(t, stores, "id"); !id.Required || strings.Join(id.Flags, ",") != "read-only" {
		t.Errorf("id = %+v", id)
	}
	if sub := path(t, stores, "zones", "subzones"); !sub.Recursive {
		t.Errorf("subzones = %+v", sub)
	}

	create := findOp(t, doc, "POST", "/stores")
	if create.Body == nil || !create.Body.Required || create.Body.Description != "The store to open." {
		t.Fatalf("body = %+v", create.Body)
	}
	if m := create.Body.Content[0]; m.Type != "application/json" || m.Schema.Ref != "StoreInput" {
		t.Errorf("body media = %+v", m)
	}
	if len(create.Params) != 0 {
		t.Errorf("the body parameter is also listed as a parameter: %+v", create.Params)
	}
	if h := findResponse(t, create, "201").Headers; len(h) != 1 || h[0].Name != "Location" || h[0].Schema.Type != "string" {
		t.Errorf("201 headers = %+v", h)
	}

	upload := findOp(t, doc, "POST", "/stores/{storeId}/photo")
	if upload.Body == nil || upload.Body.Content[0].Type != "multipart/form-data" {
		t.Fatalf("form body = %+v", upload.Body)
	}
	if photo := child(t, upload.Body.Content[0].Schema, "photo"); photo.Type != "file" || !photo.Required {
		t.Errorf("photo = %+v", photo)
	}
	if g := groupSummary(doc); !strings.HasSuffix(g, "default: DELETE /stores/{storeId};\n") {
		t.Errorf("groups:\n%s", g)
	}
	if len(doc.Schemas) != 5 {
		t.Errorf("%d schemas", len(doc.Schemas))
	}
}

func TestOpenAPI31JSON(t *testing.T) {
	doc := mustOpenAPI(t, "promotions-api.openapi.json")
	if doc.Info.Format != "OpenAPI 3.1.0" || doc.Info.Title != "Freshcart Promotions API" {
		t.Errorf("info = %+v", doc.Info)
	}
	put := findOp(t, doc, "PUT", "/promo-codes/{code}")
	if put.Body == nil || put.Body.Description != "The promo code to save." || !put.Body.Required {
		t.Fatalf("body from #/components/requestBodies = %+v", put.Body)
	}
	code := put.Body.Content[0].Schema
	if e := child(t, code, "expiresAt"); e.Type != "string" || strings.Join(e.Flags, ",") != "nullable" {
		t.Errorf("expiresAt = %+v", e)
	}
	if n := child(t, code, "note"); n.Description != "Shown to support staff only." || n.Ref != "Note" || n.Type != "string" {
		t.Errorf("note = %+v", n)
	}
	d := child(t, code, "discount")
	if d.VariantKind != "one of" || len(d.Variants) != 2 || d.Variants[0].Title != "Percentage" {
		t.Errorf("discount = %+v", d)
	}
	if p := child(t, d.Variants[0], "percent"); p.Type != "integer" {
		t.Errorf("percent = %+v", p)
	}
	if f := findParam(t, findOp(t, doc, "GET", "/offers"), "filter"); f.Schema == nil || child(t, f.Schema, "category").Type != "string" {
		t.Errorf("filter (content) = %+v", f.Schema)
	}
	if nf := findResponse(t, findOp(t, doc, "GET", "/promo-codes/{code}"), "404"); nf.Description != "No such promo code." {
		t.Errorf("404 = %+v", nf)
	}
}

func TestSchemasListLinksNestedRefs(t *testing.T) {
	doc := mustOpenAPI(t, "orders-api.openapi.yaml")
	var order *Schema
	for _, s := range doc.Schemas {
		if s.Name == "Order" {
			order = s.Schema
			if s.ID != "apidoc-schema-Order" {
				t.Errorf("Order id = %q", s.ID)
			}
		}
	}
	total := child(t, order, "total")
	if total.Ref != "Money" || total.RefID != "apidoc-schema-Money" || len(total.Children) != 0 || total.Cut {
		t.Errorf("total = %+v", total)
	}
	// Inline objects are still expanded.
	if start := path(t, order, "slot", "start"); start.Format != "date-time" {
		t.Errorf("slot.start = %+v", start)
	}
}

func TestBigOpenAPIIsCapped(t *testing.T) {
	doc := mustOpenAPIText(t, bigOpenAPI(1200))
	if doc.Operations != 1200 {
		t.Errorf("Operations = %d", doc.Operations)
	}
	listed := 0
	for _, g := range doc.Groups {
		listed += len(g.Ops)
	}
	if listed != maxOperations || doc.OmittedOps != 1200-maxOperations {
		t.Errorf("listed %d, omitted %d", listed, doc.OmittedOps)
	}
	if !doc.Linked {
		t.Error("a big definition's operations do not link to their schemas")
	}
	if doc.Brief == 0 {
		t.Error("all operations of a big definition have their details")
	}
	for _, g := range doc.Groups {
		for _, op := range g.Ops {
			if op.Brief && (len(op.Params) > 0 || len(op.Responses) > 0) {
				t.Fatalf("brief operation %s %s has details", op.Method, op.Path)
			}
		}
	}
	// A small one expands references in every operation.
	if small := mustOpenAPIText(t, bigOpenAPI(30)); small.Linked || small.Brief > 0 || small.Abbreviated {
		t.Errorf("30 operations: linked %v, brief %d, abbreviated %v", small.Linked, small.Brief, small.Abbreviated)
	}
}

func TestAsyncAPI2(t *testing.T) {
	doc, err := ParseAsyncAPI(readFixture(t, "order-events.asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.Format != "AsyncAPI 2.6.0" || doc.Info.Title != "Order events" || doc.DefaultContentType != "application/json" {
		t.Errorf("info = %+v", doc.Info)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].Name != "production" || doc.Servers[0].Protocol != "kafka-secure" || doc.Servers[0].URL != "kafka.internal.freshcart.example:9093" {
		t.Errorf("servers = %+v", doc.Servers)
	}
	if len(doc.Channels) != 3 {
		t.Fatalf("%d channels", len(doc.Channels))
	}
	placed := doc.Channels[0]
	if placed.Address != "orders.order-placed.v1" || placed.Description != "One message per placed order." {
		t.Errorf("channel = %+v", placed)
	}
	if len(placed.Ops) != 1 || placed.Ops[0].Action != "subscribe" || placed.Ops[0].OperationID != "onOrderPlaced" {
		t.Fatalf("ops = %+v", placed.Ops)
	}
	msg := placed.Ops[0].Messages[0]
	if msg.Name != "OrderPlaced" || msg.Title != "Order placed" || msg.ContentType != "application/json" {
		t.Errorf("message = %+v", msg)
	}
	if msg.Payload.Ref != "OrderPlacedPayload" {
		t.Errorf("payload = %+v", msg.Payload)
	}
	if id := child(t, msg.Payload, "eventId"); id.Ref != "EventId" || id.Format != "uuid" || !id.Required {
		t.Errorf("eventId = %+v", id)
	}
	if q := path(t, msg.Payload, "lines", "quantity"); q.Type != "integer" {
		t.Errorf("lines.quantity = %+v", q)
	}
	// Headers come from the message trait.
	if msg.Headers == nil || child(t, msg.Headers, "traceparent").Type != "string" {
		t.Errorf("headers = %+v", msg.Headers)
	}
	changed := doc.Channels[1].Ops[0].Messages[0]
	if to := child(t, changed.Payload, "to"); to.Ref != "OrderStatus" || len(to.Enum) != 6 {
		t.Errorf("to = %+v", to)
	}

	delivery, err := ParseAsyncAPI(readFixture(t, "delivery-events.asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	last := delivery.Channels[len(delivery.Channels)-1]
	if last.Ops[0].Action != "publish" || last.Ops[0].Messages[0].Name != "DispatchRequested" {
		t.Errorf("dispatch = %+v", last.Ops[0])
	}
}

func TestAsyncAPI3(t *testing.T) {
	doc, err := ParseAsyncAPI(readFixture(t, "basket-events.asyncapi3.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.Format != "AsyncAPI 3.0.0" {
		t.Errorf("format = %q", doc.Info.Format)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "kafka.internal.freshcart.example:9093" || doc.Servers[0].Protocol != "kafka 3.6" {
		t.Errorf("servers = %+v", doc.Servers)
	}
	if len(doc.Channels) != 3 {
		t.Fatalf("%d channels", len(doc.Channels))
	}
	upd := doc.Channels[0]
	if upd.Name != "basketUpdated" || upd.Address != "baskets.{storeId}.updated.v1" {
		t.Errorf("channel = %+v", upd)
	}
	if len(upd.Params) != 1 || upd.Params[0].Name != "storeId" || len(upd.Params[0].Schema.Enum) != 2 {
		t.Errorf("params = %+v", upd.Params)
	}
	if len(upd.Ops) != 1 || upd.Ops[0].Action != "receive" || upd.Ops[0].OperationID != "onBasketUpdated" {
		t.Fatalf("ops = %+v", upd.Ops)
	}
	msg := upd.Ops[0].Messages[0]
	if msg.Name != "BasketUpdated" || msg.Summary != "The lines of a basket changed." || msg.ContentType != "application/json" {
		t.Errorf("message = %+v", msg)
	}
	if p := child(t, msg.Payload, "parent"); !p.Recursive || p.Description != "The basket this one was split from." {
		t.Errorf("parent = %+v", p)
	}
	if q := path(t, msg.Payload, "lines", "quantity"); q.Type != "integer" {
		t.Errorf("quantity = %+v", q)
	}

	// An operation without messages gets its channel's; a multi-format
	// payload is unwrapped.
	ab := doc.Channels[1]
	if len(ab.Ops) != 1 || ab.Ops[0].Action != "send" || !ab.Ops[0].AllMessages || len(ab.Messages) != 1 || !ab.ShowMessages() {
		t.Fatalf("abandoned = %+v", ab)
	}
	if upd.ShowMessages() {
		t.Error("a channel whose operation names its messages lists them again")
	}
	am := ab.Messages[0]
	if am.ContentType != "application/cloudevents+json" || child(t, am.Payload, "idleMinutes").Type != "integer" {
		t.Errorf("abandoned message = %+v", am)
	}
	// A channel no operation uses shows its messages.
	rs := doc.Channels[2]
	if len(rs.Ops) != 0 || len(rs.Messages) != 1 || rs.Messages[0].Name != "ReminderSent" {
		t.Errorf("reminder channel = %+v", rs)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"not yaml", "openapi: [3.0\n  bad: : :", "yaml"},
		{"no version", "info: {title: x}\npaths: {}", `no "openapi" or "swagger"`},
		{"a list", "- 1\n- 2", "not a YAML or JSON object"},
		{"a scalar", "just words", "not a YAML or JSON object"},
		{"bad json", `{"openapi": "3.0.0", "paths": {`, "JSON"},
	} {
		_, err := ParseOpenAPI(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseAsyncAPI("openapi: 3.0.0\npaths: {}"); err == nil || !strings.Contains(err.Error(), `"asyncapi"`) {
		t.Errorf("asyncapi err = %v", err)
	}
}

func TestYAMLAliasesAndMergeKeys(t *testing.T) {
	doc := mustOpenAPIText(t, `
openapi: 3.0.0
info: {title: Aliases, version: "1"}
x-base: &base
  type: object
  properties:
    id: {type: string}
x-loop: &loop
  self: *loop
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                <<: *base
                description: Merged.
`)
	s := findResponse(t, findOp(t, doc, "GET", "/a"), "200").Content[0].Schema
	if s.Description != "Merged." || child(t, s, "id").Type != "string" {
		t.Errorf("schema = %+v", s)
	}
}

func TestJSONPointerEscapes(t *testing.T) {
	doc := mustOpenAPIText(t, `{
  "openapi": "3.0.0",
  "info": {"title": "Pointers", "version": "1"},
  "paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/a~1b%20c"}}}}}}}},
  "components": {"schemas": {"a/b c": {"type": "object", "properties": {"x": {"type": "boolean"}}}}}
}`)
	s := findResponse(t, findOp(t, doc, "GET", "/a"), "200").Content[0].Schema
	if s.Ref != "a/b c" || child(t, s, "x").Type != "boolean" || s.RefID == "" {
		t.Errorf("schema = %+v", s)
	}
}

func TestOutlines(t *testing.T) {
	gql := graphqlOutline(readFixture(t, "storefront.graphql"))
	got := map[string][]string{}
	for _, it := range gql {
		got[it.kind] = append(got[it.kind], it.name)
	}
	if !strings.Contains(strings.Join(got["Types"], " "), "Money Query Mutation Subscription Customer Product") {
		t.Errorf("types = %v", got["Types"])
	}
	if strings.Join(got["Scalars"], " ") != "DateTime" || strings.Join(got["Unions"], " ") != "PlaceOrderResult" {
		t.Errorf("outline = %v", got)
	}
	for _, kind := range []string{"Enums", "Inputs"} {
		if len(got[kind]) == 0 {
			t.Errorf("no %s in %v", kind, got)
		}
	}

	proto := protoOutline(readFixture(t, "inventory.proto"))
	if len(proto) == 0 || proto[0].kind != "Services" || proto[0].name != "InventoryService" {
		t.Fatalf("proto outline = %+v", proto)
	}
	if m := proto[0].members; len(m) != 5 || m[0] != "GetStockLevel(GetStockLevelRequest) returns (StockLevel)" ||
		m[4] != "WatchStockChanges(WatchStockChangesRequest) returns (stream StockChange)" {
		t.Errorf("rpcs = %q", m)
	}
	var msgs []string
	for _, it := range proto[1:] {
		msgs = append(msgs, it.kind+":"+it.name)
	}
	if got := strings.Join(msgs, " "); !strings.HasPrefix(got, "Messages:StockLevel Messages:GetStockLevelRequest") || strings.Contains(got, "State") {
		t.Errorf("messages = %s", got)
	}
	// The chunk of a definition starts at its leading comment.
	text := "syntax = \"proto3\";\n\n// Says hello.\n// Twice.\nservice Greeter {\n  rpc Hi (A) returns (B) {}\n}\n"
	items := protoOutline(text)
	if len(items) != 1 || text[items[0].offset:][:14] != "// Says hello." {
		t.Errorf("items = %+v", items)
	}
	// Braces and keywords in strings and comments do not count.
	items = graphqlOutline("\"\"\"\ntype Fake {\n\"\"\"\ntype Real { a: String # type Nope {\n }\n")
	if len(items) != 1 || items[0].name != "Real" || items[0].offset != 0 {
		t.Errorf("items = %+v", items)
	}
}

// bigOpenAPI writes a YAML OpenAPI definition with n operations over n/3
// paths, in ten tags, with shared component schemas.
func bigOpenAPI(n int) string {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo:\n  title: Big API\n  version: 1.0.0\n  description: Lots of operations.\npaths:\n")
	methods := []string{"get", "put", "delete"}
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			fmt.Fprintf(&b, "  /things%d/{id}:\n    parameters:\n      - $ref: '#/components/parameters/Id'\n", i/3)
		}
		m := methods[i%3]
		fmt.Fprintf(&b, "    %s:\n      tags: [tag%d]\n      operationId: op%d\n      summary: Operation number %d.\n", m, i%10, i, i)
		b.WriteString("      parameters:\n        - name: filter\n          in: query\n          description: Filter the results.\n          schema:\n            type: string\n            enum: [a, b, c]\n")
		if m == "put" {
			b.WriteString("      requestBody:\n        required: true\n        content:\n          application/json:\n            schema:\n              $ref: '#/components/schemas/Thing'\n")
		}
		b.WriteString("      responses:\n        '200':\n          description: The thing.\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Thing'\n        '404':\n          $ref: '#/components/responses/NotFound'\n")
	}
	b.WriteString(`components:
  parameters:
    Id:
      name: id
      in: path
      required: true
      schema: {type: string}
  responses:
    NotFound:
      description: Not found.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Problem'}
  schemas:
    Problem:
      type: object
      properties:
        title: {type: string}
        status: {type: integer}
    Money:
      type: object
      required: [amount, currency]
      properties:
        amount: {type: integer, description: Minor units.}
        currency: {type: string, pattern: '^[A-Z]{3}$'}
    Thing:
      type: object
      required: [id, name]
      properties:
        id: {type: string, format: uuid}
        name: {type: string, maxLength: 100}
        price: {$ref: '#/components/schemas/Money'}
        tags:
          type: array
          items: {type: string}
        parts:
          type: array
          items:
            type: object
            properties:
              sku: {type: string}
              quantity: {type: integer, minimum: 1}
              price: {$ref: '#/components/schemas/Money'}
        status:
          type: string
          enum: [draft, live, retired]
        createdAt: {type: string, format: date-time}
`)
	return b.String()
}

// FuzzParseJSON checks the JSON reader against encoding/json: whatever is
// valid JSON must parse to the same value, keys in order.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a": [1, -2.5e3, true, false, null, "x"]}`,
		`{"s": "\u00e9\ud83d\ude00\n\t\"\\\/", "b": {"c": {}}}`,
		`{"bad": "\ud800"}`, `{"a":1,"a":2}`, ` [ 0 , 1E+2 ] `,
		readFixture(f, "promotions-api.openapi.json"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseJSON(s)
		if !json.Valid([]byte(s)) || !utf8.ValidString(s) {
			return // (encoding/json replaces invalid UTF-8; this keeps it)
		}
		if err != nil {
			t.Fatalf("valid JSON rejected: %v", err)
		}
		var want any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := plain(n); !reflect.DeepEqual(got, normalise(want)) {
			t.Fatalf("got %#v, want %#v", got, normalise(want))
		}
	})
}

// plain turns a node into Go values: maps as ordered key/value lists
// (the last of duplicate keys wins, as in encoding/json).
func plain(n *node) any {
	switch n.kind {
	case kindScalar:
		return n.str
	case kindSeq:
		out := []any{}
		for _, v := range n.vals {
			out = append(out, plain(v))
		}
		return out
	case kindMap:
		out := map[string]any{}
		for i, k := range n.keys {
			out[k] = plain(n.vals[i])
		}
		return out
	}
	return nil
}

func normalise(v any) any {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		out := []any{}
		for _, x := range v {
			out = append(out, normalise(x))
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalise(x)
		}
		return out
	}
	return v
}

func TestAsyncAPI3OperationChannels(t *testing.T) {
	doc, err := ParseAsyncAPI(`
asyncapi: 3.0.0
info: {title: T, version: "1"}
channels: {}
operations:
  fromComponents:
    action: send
    channel: {$ref: '#/components/channels/shared'}
  broken:
    action: receive
    channel: {$ref: '#/channels/missing'}
  none:
    action: receive
components:
  channels:
    shared:
      address: shared.topic
      messages:
        M: {payload: {type: string}}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Channels) != 2 {
		t.Fatalf("channels = %+v", doc.Channels)
	}
	shared, unknown := doc.Channels[0], doc.Channels[1]
	if shared.Name != "shared" || shared.Address != "shared.topic" || len(shared.Messages) != 1 || !shared.Ops[0].AllMessages {
		t.Errorf("shared = %+v", shared)
	}
	if unknown.Name != "(no known channel)" || len(unknown.Ops) != 2 {
		t.Errorf("unknown = %+v", unknown)
	}
}
