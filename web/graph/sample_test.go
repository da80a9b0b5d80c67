package graph

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// sample is a realistic two-hop neighbourhood of a component: 16 nodes of
// mixed kinds, relations listed both ways as the catalog serves them.
func sample() Graph {
	n := func(ref, title string) Node {
		kind, rest, _ := strings.Cut(ref, ":")
		ns, name, _ := strings.Cut(rest, "/")
		return Node{Ref: ref, Kind: kindNames[kind], Label: title, Href: "/catalog/" + ns + "/" + kind + "/" + name}
	}
	g := Graph{Root: "component:default/orders-service"}
	g.Nodes = []Node{
		n("component:default/orders-service", "Orders Service"),
		n("group:default/team-checkout", "Checkout Team"),
		n("system:default/checkout", "Checkout"),
		n("api:default/orders-api", "Orders API"),
		n("api:default/payments-api", "Payments API"),
		n("api:default/inventory-api", "Inventory API (gRPC, internal, v2 — deprecated)"),
		n("resource:default/orders-db", "orders-db"),
		n("component:default/returns-service", "Returns Service"),
		n("component:default/order-events-worker", "Order Events Worker"),
		n("component:default/storefront-web", "Storefront Web"),
		n("group:default/commerce", "Commerce"),
		n("domain:default/commerce", "Commerce Domain"),
		n("group:default/team-payments", "Payments Team"),
		n("component:default/payments-service", "Payments Service"),
		n("user:default/jdoe", "Jane Doe"),
		n("resource:default/orders-queue", "orders-queue"),
	}
	rel := func(a, r, b string) {
		g.Edges = append(g.Edges, Edge{From: a, To: b, Label: r})
	}
	pair := func(a, r, inv, b string) {
		rel(a, r, b)
		rel(b, inv, a)
	}
	const (
		orders    = "component:default/orders-service"
		team      = "group:default/team-checkout"
		system    = "system:default/checkout"
		ordersAPI = "api:default/orders-api"
		payAPI    = "api:default/payments-api"
	)
	pair(orders, "ownedBy", "ownerOf", team)
	pair(orders, "partOf", "hasPart", system)
	pair(orders, "providesApi", "apiProvidedBy", ordersAPI)
	pair(orders, "consumesApi", "apiConsumedBy", payAPI)
	pair(orders, "consumesApi", "apiConsumedBy", "api:default/inventory-api")
	pair(orders, "dependsOn", "dependencyOf", "resource:default/orders-db")
	pair("component:default/returns-service", "dependsOn", "dependencyOf", orders)
	pair("component:default/order-events-worker", "partOf", "hasPart", orders)
	pair("component:default/storefront-web", "consumesApi", "apiConsumedBy", ordersAPI)
	pair("group:default/commerce", "parentOf", "childOf", team)
	pair("user:default/jdoe", "memberOf", "hasMember", team)
	pair(system, "partOf", "hasPart", "domain:default/commerce")
	pair(system, "ownedBy", "ownerOf", team)
	pair(payAPI, "ownedBy", "ownerOf", "group:default/team-payments")
	pair("component:default/payments-service", "providesApi", "apiProvidedBy", payAPI)
	pair("component:default/order-events-worker", "dependsOn", "dependencyOf", "resource:default/orders-queue")
	return g
}

// bigGroup is a group owning n components, with members, a parent and
// children, as Collect would see it before trimming.
func bigGroup(n int) Graph {
	const team = "group:default/platform"
	g := Graph{Root: team, Nodes: []Node{{Ref: team, Kind: "Group", Label: "Platform", Href: "/catalog/default/group/platform"}}}
	add := func(ref, kind, label, r, inv string, out bool) {
		g.Nodes = append(g.Nodes, Node{Ref: ref, Kind: kind, Label: label, Href: "/catalog/default/" + strings.ToLower(kind) + "/" + label})
		if out {
			g.Edges = append(g.Edges, Edge{From: team, To: ref, Label: r}, Edge{From: ref, To: team, Label: inv})
		} else {
			g.Edges = append(g.Edges, Edge{From: ref, To: team, Label: r}, Edge{From: team, To: ref, Label: inv})
		}
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%04d", i)
		add("component:default/"+name, "Component", name, "ownedBy", "ownerOf", false)
	}
	for i := 0; i < 12; i++ {
		name := fmt.Sprintf("user-%02d", i)
		add("user:default/"+name, "User", name, "memberOf", "hasMember", false)
	}
	add("group:default/engineering", "Group", "engineering", "parentOf", "childOf", false)
	add("group:default/platform-infra", "Group", "platform-infra", "parentOf", "childOf", true)
	add("group:default/platform-dx", "Group", "platform-dx", "parentOf", "childOf", true)
	return g
}

// TestWriteSample writes the sample pictures as an HTML page to the file
// named by $GRAPH_SAMPLE, for looking at them in a browser.
func TestWriteSample(t *testing.T) {
	out := os.Getenv("GRAPH_SAMPLE")
	if out == "" {
		t.Skip("set GRAPH_SAMPLE=file.html to write the sample pictures")
	}
	var b strings.Builder
	b.WriteString(`<!doctype html><meta charset="utf-8"><style>
:root { color-scheme: light dark; --fg: #1b1f23; --bg: #ffffff; --muted: #57606a; --accent: #1a7f37; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
.dark { --fg: #e6edf3; --bg: #0d1117; --muted: #8b949e; --accent: #3fb950; background: var(--bg); color: var(--fg); }
</style><main>`)
	render := func(title string, g Graph, class string) {
		fmt.Fprintf(&b, `<section class="%s"><h3>%s</h3>`, class, title)
		if err := Render(g).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		b.WriteString(`</section>`)
	}
	which := os.Getenv("GRAPH_SAMPLE_WHICH")
	if which == "" || which == "sample" {
		render("sample", sample(), "")
	}
	if which == "" || which == "dark" {
		render("sample, dark", sample(), "dark")
	}
	if which == "" || which == "group" {
		render("group owning 2,000", Limit(bigGroup(2000), DefaultMaxNodes, 2), "")
	}
	if which == "" || which == "mixed" {
		render("mixed 40", benchGraph(), "")
	}
	if which == "" || which == "root" {
		render("root only", Graph{Root: "component:default/lonely"}, "")
	}
	b.WriteString(`</main>`)
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
