package graph

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func refs(g Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		out = append(out, n.Ref)
	}
	return out
}

func countPrefix(g Graph, prefix string) int {
	n := 0
	for _, nd := range g.Nodes {
		if strings.HasPrefix(nd.Ref, prefix) {
			n++
		}
	}
	return n
}

func TestLimitBigGroup(t *testing.T) {
	full := bigGroup(2000)
	g := Limit(full, DefaultMaxNodes, 2)
	if len(g.Nodes) != DefaultMaxNodes {
		t.Errorf("%d nodes, want %d", len(g.Nodes), DefaultMaxNodes)
	}
	if g.Root != full.Root || g.Nodes[0].Ref != full.Root || g.Nodes[0].Label != "Platform" {
		t.Errorf("root not first: %v", g.Nodes[0])
	}
	// Every relation is represented: the parent, both children, all 12
	// members, and the rest of the budget for owned components.
	if got := countPrefix(g, "group:"); got != 4 {
		t.Errorf("%d groups kept, want 4 (root, parent, 2 children)", got)
	}
	if got := countPrefix(g, "user:"); got != 12 {
		t.Errorf("%d users kept, want 12", got)
	}
	if got := countPrefix(g, "component:"); got != 23 {
		t.Errorf("%d components kept, want 23", got)
	}
	// Components are taken in ref order.
	for i := 0; i < 23; i++ {
		if !containsString(refs(g), fmt.Sprintf("component:default/svc-%04d", i)) {
			t.Errorf("svc-%04d missing", i)
		}
	}
	// One indicator, on the left (components point at the group), for
	// the 1,977 components not shown.
	var more []Node
	for _, n := range g.Nodes {
		if n.More > 0 {
			more = append(more, n)
		}
	}
	if len(more) != 1 || more[0].More != 1977 || more[0].Label != "+1,977 more" || more[0].Href != "" {
		t.Fatalf("indicators = %+v", more)
	}
	want := Edge{From: more[0].Ref, To: full.Root, Label: "ownedBy"}
	if !reflect.DeepEqual(g.Edges[len(g.Edges)-1], want) {
		t.Errorf("indicator edge = %+v, want %+v", g.Edges[len(g.Edges)-1], want)
	}
	// Edges are those of the input between kept nodes (both directions),
	// plus the indicator's.
	if got, want := len(g.Edges), 2*(DefaultMaxNodes-2)+1; got != want {
		t.Errorf("%d edges, want %d", got, want)
	}
	// Stable whatever the input order.
	for seed := int64(1); seed <= 3; seed++ {
		if h := Limit(shuffled(full, seed), DefaultMaxNodes, 2); !reflect.DeepEqual(refs(h), refs(g)) {
			t.Errorf("seed %d: kept %v, want %v", seed, refs(h), refs(g))
		}
	}
	// The rendered picture has 40 boxes, not 2,000.
	s := render(t, g)
	if n := nodeCount(s); n != DefaultMaxNodes {
		t.Errorf("%d boxes drawn", n)
	}
	if !strings.Contains(s, ">+1,977 more<") || !strings.Contains(s, "<title>1,977 more related entities not shown</title>") {
		t.Error("indicator not drawn")
	}
}

// fan is a root pointing at n1 nodes on the right, each pointing at n2
// nodes further right, plus left nodes pointing at the root.
func fan(n1, n2, left int) Graph {
	g := Graph{Root: "r"}
	for i := 0; i < n1; i++ {
		a := fmt.Sprintf("a%02d", i)
		g.Edges = append(g.Edges, Edge{From: "r", To: a, Label: "dependsOn"})
		for j := 0; j < n2; j++ {
			g.Edges = append(g.Edges, Edge{From: a, To: fmt.Sprintf("b%02d-%02d", i, j), Label: "dependsOn"})
		}
	}
	for i := 0; i < left; i++ {
		g.Edges = append(g.Edges, Edge{From: fmt.Sprintf("l%02d", i), To: "r", Label: "dependsOn"})
	}
	return g
}

func TestLimitSecondHop(t *testing.T) {
	g := Limit(fan(5, 20, 0), 40, 2)
	if len(g.Nodes) != 40 {
		t.Fatalf("%d nodes", len(g.Nodes))
	}
	// All of the first hop, then the second hop shared fairly.
	if countPrefix(g, "a") != 5 {
		t.Errorf("first hop not kept whole: %v", refs(g))
	}
	for i := 0; i < 5; i++ {
		if n := countPrefix(g, fmt.Sprintf("b%02d-", i)); n < 6 || n > 7 {
			t.Errorf("a%02d keeps %d of its 20, want 6 or 7", i, n)
		}
	}
	last := g.Nodes[len(g.Nodes)-1]
	if last.More != 100-33 || last.Ref != "+more:right" {
		t.Errorf("indicator = %+v", last)
	}
	e := g.Edges[len(g.Edges)-1]
	if e.To != last.Ref || !strings.HasPrefix(e.From, "a") || e.Label != "dependsOn" {
		t.Errorf("indicator edge = %+v", e)
	}

	// Both sides over budget: two indicators, inside the budget.
	g = Limit(fan(30, 0, 30), 20, 2)
	if len(g.Nodes) != 20 {
		t.Errorf("%d nodes", len(g.Nodes))
	}
	if countPrefix(g, "+more:") != 2 || countPrefix(g, "a") != 9 || countPrefix(g, "l") != 8 {
		t.Errorf("kept %v", refs(g))
	}

	// A small graph is kept whole and gets no indicator.
	small := fan(3, 2, 2)
	if g := Limit(small, 40, 2); len(g.Nodes) != 1+3+6+2 || countPrefix(g, "+") != 0 || len(g.Edges) != len(small.Edges) {
		t.Errorf("small graph trimmed: %v", refs(g))
	}
	// maxHops cuts the second hop (without an indicator: it was not asked for).
	if g := Limit(small, 40, 1); len(g.Nodes) != 1+3+2 || countPrefix(g, "+") != 0 {
		t.Errorf("maxHops 1 kept %v", refs(g))
	}
	// Nodes not connected to the root are dropped.
	if g := Limit(Graph{Root: "r", Nodes: []Node{{Ref: "r"}, {Ref: "x"}}}, 40, 2); len(g.Nodes) != 1 {
		t.Errorf("unconnected node kept: %v", refs(g))
	}
	if g := Limit(Graph{}, 40, 2); len(g.Nodes) != 0 {
		t.Error("empty graph grew")
	}
}

func TestLimitBudgetExhaustedExactly(t *testing.T) {
	// 39 first-hop nodes fill the budget exactly, but they have second-hop
	// neighbours: one first-hop node gives way to the indicator.
	g := Limit(fan(39, 1, 0), 40, 2)
	if len(g.Nodes) != 40 {
		t.Fatalf("%d nodes", len(g.Nodes))
	}
	last := g.Nodes[len(g.Nodes)-1]
	if last.More != 1 || countPrefix(g, "b") != 0 || countPrefix(g, "a") != 38 {
		t.Errorf("kept %v, indicator %+v", refs(g), last)
	}
}

// catalog serves a graph as Collect's fetch would, counting requests.
type catalog struct {
	g       Graph
	fetched []string
	calls   int
}

func (c *catalog) fetch(_ context.Context, refs []string) ([]Node, []Edge, error) {
	c.calls++
	c.fetched = append(c.fetched, refs...)
	var nodes []Node
	var edges []Edge
	for _, ref := range refs {
		for _, n := range c.g.Nodes {
			if n.Ref == ref {
				nodes = append(nodes, n)
			}
		}
		for _, e := range c.g.Edges {
			if e.From == ref || e.To == ref {
				edges = append(edges, e)
			}
		}
	}
	return nodes, edges, nil
}

func TestCollect(t *testing.T) {
	full := bigGroup(2000)
	// Give the components and the children relations of their own.
	for i := 0; i < 2000; i++ {
		c := fmt.Sprintf("component:default/svc-%04d", i)
		full.Edges = append(full.Edges, Edge{From: c, To: "system:default/sys", Label: "partOf"})
	}
	full.Nodes = append(full.Nodes, Node{Ref: "system:default/sys", Kind: "System", Label: "sys"})
	full.Edges = append(full.Edges, Edge{From: "group:default/platform-dx", To: "user:default/dx-lead", Label: "hasMember"})
	full.Nodes = append(full.Nodes, Node{Ref: "user:default/dx-lead", Kind: "User", Label: "dx-lead"})

	c := &catalog{g: full}
	g, err := Collect(context.Background(), full.Root, 2, DefaultMaxNodes, c.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.fetched) > DefaultMaxNodes+2 || c.calls > 4 {
		t.Errorf("fetched %d refs in %d calls", len(c.fetched), c.calls)
	}
	if len(g.Nodes) > DefaultMaxNodes {
		t.Errorf("%d nodes", len(g.Nodes))
	}
	// Kept nodes come with their labels (they were fetched).
	for _, n := range g.Nodes {
		if n.More == 0 && n.Label == "" {
			t.Errorf("node %s not fetched", n.Ref)
		}
	}
	// Same picture as trimming the whole graph.
	if want := Limit(full, DefaultMaxNodes, 2); !reflect.DeepEqual(refs(g), refs(want)) {
		t.Errorf("Collect kept %v\nLimit kept %v", refs(g), refs(want))
	}

	// A small neighbourhood: two hops, everything, in two or three calls.
	small := sample()
	c = &catalog{g: small}
	g, err = Collect(context.Background(), small.Root, 2, 0, c.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != len(small.Nodes) || c.calls > 3 || len(c.fetched) != len(small.Nodes) {
		t.Errorf("kept %d of %d nodes; %d calls fetched %d refs", len(g.Nodes), len(small.Nodes), c.calls, len(c.fetched))
	}
	// One hop.
	c = &catalog{g: small}
	g, _ = Collect(context.Background(), small.Root, 1, 0, c.fetch)
	if len(g.Nodes) != 9 {
		t.Errorf("one hop kept %v", refs(g))
	}

	boom := errors.New("boom")
	_, err = Collect(context.Background(), "x", 2, 0, func(context.Context, []string) ([]Node, []Edge, error) { return nil, nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}
