package web

import (
	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/web/graph"
)

// maxGraphNodes keeps the picture readable at the card's width: the
// direct relations first, then as much of the second hop as fits.
const maxGraphNodes = 24

// relationGraph is the entity's neighbourhood as a picture: its relations
// one hop out and, through the neighbours the page already fetched, a
// second hop; graph.Limit keeps it readable (a group owning thousands of
// entities still gets a small picture, and a small page).
func relationGraph(e entity, related map[string]entity) graph.Graph {
	g := graph.Graph{Root: e.Ref.String()}
	node := func(r catalog.Ref) graph.Node {
		n := graph.Node{Ref: r.String(), Kind: kindLabel(r.Kind), Label: r.Name, Href: entityHref(r)}
		if rel, ok := related[r.String()]; ok {
			n.Kind, n.Label = rel.Kind, rel.DisplayName()
		}
		return n
	}
	g.Nodes = append(g.Nodes, graph.Node{Ref: e.Ref.String(), Kind: e.Kind, Label: e.DisplayName(), Href: e.Href()})
	seen := map[string]bool{e.Ref.String(): true}
	add := func(r catalog.Ref) {
		if !seen[r.String()] {
			seen[r.String()] = true
			g.Nodes = append(g.Nodes, node(r))
		}
	}
	for _, rel := range e.Relations {
		t, err := catalog.ParseRef(rel.TargetRef, catalog.RefDefaults{})
		if err != nil {
			continue
		}
		add(t)
		g.Edges = append(g.Edges, graph.Edge{From: e.Ref.String(), To: t.String(), Label: rel.Type})
	}
	for _, n := range related {
		for _, rel := range n.Relations {
			t, err := catalog.ParseRef(rel.TargetRef, catalog.RefDefaults{})
			if err != nil || t.String() == e.Ref.String() {
				continue
			}
			add(t)
			g.Edges = append(g.Edges, graph.Edge{From: n.Ref.String(), To: t.String(), Label: rel.Type})
		}
	}
	return graph.Limit(g, maxGraphNodes, 2)
}
