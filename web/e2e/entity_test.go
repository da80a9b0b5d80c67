package e2e

import (
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// A component's page: about card, its API and dependency sections, the
// relation graph (a node click opens that entity), the inspect view.
func TestEntityPage(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	resp := p.open(a.URL + "/catalog/default/component/order-service")
	if ct := resp.Headers()["content-type"]; ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	p.must(p.expect(p.Locator("h1")).ToContainText("Component"))
	about := p.Locator("section[aria-labelledby=about-title]")
	p.must(p.expect(about).ToContainText("team-checkout"))
	p.must(p.expect(about).ToContainText("production"))
	p.must(p.expect(p.Locator("#provided-apis")).ToContainText("Orders API"))
	p.must(p.expect(p.Locator("#consumed-apis")).ToContainText("Payments"))
	p.must(p.expect(p.Locator("#depends-on")).ToContainText("Orders database"))
	p.must(p.expect(p.Locator("#subcomponents")).ToContainText("relay"))
	p.shot("entity-component")

	// The graph is an SVG made on the server; its nodes are links.
	svg := p.Locator(".graph-card svg")
	p.must(p.expect(svg).ToBeVisible())
	nodes, err := p.Locator(".graph-card svg [data-ref]").Count()
	p.must(err)
	if nodes < 6 {
		t.Errorf("graph has %d nodes", nodes)
	}
	p.must(p.Locator(`.graph-card svg [data-ref="resource:default/orders-db"]`).Click())
	p.waitURL("/catalog/default/resource/orders-db")
	p.must(p.expect(p.Locator("h1")).ToContainText("Resource"))
	p.must(p.expect(p.Locator("#dependents")).ToContainText("Order"))
	p.shot("entity-resource")

	// Inspect: YAML and JSON of the stored entity, and where it came from.
	p.open(a.URL + "/catalog/default/component/order-service")
	p.must(p.Locator(".tabs a", playwright.PageLocatorOptions{HasText: "Inspect"}).Click())
	p.waitURL("/inspect")
	p.must(p.expect(p.Locator("#entity-yaml")).ToContainText("kind: Component"))
	p.must(p.expect(p.Locator("#entity-json")).ToContainText(`"targetRef": "api:default/orders-api"`))
	p.must(p.expect(p.Locator("section[aria-labelledby=ancestry-title]")).ToContainText("location:default/"))
	p.shot("entity-inspect")
}

// Group and user pages: members, parent and children, and what the group
// owns directly and through its child groups.
func TestGroupAndUserPages(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/catalog")
	// From a table row's owner link to the group.
	p.must(p.Locator("#results tbody tr td a[href='/catalog/default/group/team-platform']").First().Click())
	p.waitURL("/catalog/default/group/team-platform")
	p.must(p.expect(p.Locator("#members li").First()).ToBeVisible())
	p.must(p.expect(p.Locator("#parent")).ToContainText("Platform & Data"))
	p.must(p.expect(p.Locator("#owned")).ToContainText("Auth service"))
	p.shot("entity-group")

	// The department owns little itself but everything of its teams.
	p.must(p.Locator("#parent a").First().Click())
	p.waitURL("/catalog/default/group/dept-platform")
	p.must(p.expect(p.Locator("#children")).ToContainText("team-platform"))
	p.must(p.expect(p.Locator("#owned")).ToContainText("Auth service"))
	p.must(p.expect(p.Locator("#owned")).ToContainText("through"))
	p.shot("entity-department")

	// A member's page lists their groups and what those own.
	p.open(a.URL + "/catalog/default/group/team-platform")
	member := p.Locator("#members li a").First()
	name, err := member.TextContent()
	p.must(err)
	p.must(member.Click())
	p.waitURL("/catalog/default/user/")
	p.must(p.expect(p.Locator("h1")).ToContainText(strings.TrimSpace(name)))
	p.must(p.expect(p.Locator("#groups")).ToContainText("team-platform"))
	p.must(p.expect(p.Locator("#owned")).ToContainText("Auth service"))
	p.shot("entity-user")
}

// API entities: the definition rendered for people, per definition type.
func TestAPIDefinition(t *testing.T) {
	a := newApp(t, nil)
	p := newTab(t)
	p.open(a.URL + "/api-docs")
	p.must(p.Locator("#results td.name a", playwright.PageLocatorOptions{HasText: "Orders API"}).Click())
	p.waitURL("/catalog/default/api/orders-api")
	p.must(p.expect(p.Locator("#providers")).ToContainText("Order service"))
	p.must(p.Locator(".tabs a", playwright.PageLocatorOptions{HasText: "Definition"}).Click())
	p.waitURL("/catalog/default/api/orders-api/definition")

	// OpenAPI: operations grouped by tag, each opens to its parameters.
	def := p.Locator("section[aria-labelledby=definition-title]")
	p.must(p.expect(def).ToContainText("orders"))
	p.must(p.expect(def).ToContainText("delivery"))
	op := def.Locator("details", playwright.LocatorLocatorOptions{HasText: "/orders/{orderId}/cancel"}).First()
	p.must(op.Locator("summary").Click())
	p.must(p.expect(op).ToHaveAttribute("open", ""))
	p.must(p.expect(op.Locator(".apidoc-params")).ToContainText("orderId"))
	p.shot("api-openapi")

	// AsyncAPI channels and messages; GraphQL and gRPC highlighted.
	p.open(a.URL + "/catalog/default/api/order-events/definition")
	p.must(p.expect(p.Locator("section[aria-labelledby=definition-title]")).ToContainText("Channels"))
	p.shot("api-asyncapi")
	p.open(a.URL + "/catalog/default/api/storefront-graphql/definition")
	n, err := p.Locator("section[aria-labelledby=definition-title] .chroma span").Count()
	p.must(err)
	if n < 20 {
		t.Errorf("GraphQL schema has %d highlighted tokens", n)
	}
	p.shot("api-graphql")
	p.open(a.URL + "/catalog/default/api/inventory-grpc/definition")
	p.must(p.expect(p.Locator("section[aria-labelledby=definition-title] .chroma")).ToContainText("service"))
	p.shot("api-grpc")
}
