// Package graph draws an entity's relation graph as an SVG picture made on
// the server, like the catalog-graph card of Backstage: the entity in the
// middle, what it points to on the right, what points to it on the left, the
// second hop further out.
//
// The caller collects a neighbourhood (Collect fetches it hop by hop, Limit
// trims a graph it already has) and renders it with Render:
//
//	g, err := graph.Collect(ctx, ref, 2, graph.DefaultMaxNodes, fetch)
//	...
//	@graph.Render(g)               // in a templ template
//	html, err := templ.ToGoHTML(ctx, graph.Render(g)) // for html/template
//
// The layout is a deterministic layered layout (the same input gives the same
// bytes): one column per rank, nodes ordered within their column by a few
// barycentre sweeps to reduce crossings, placed vertically close to their
// neighbours without overlapping. Relations and their inverses between the
// same pair are drawn as one arrow labelled with the forward relation
// (ownedBy, not ownerOf). Many leaves hanging off the same node by the same
// relation (a group's 30 owned components) are drawn as one arrow to a grid
// of boxes rather than a column 30 boxes tall.
//
// All text is XML-escaped and only site-relative links ("/catalog/...") are
// kept, so labels, refs and kinds may come from untrusted catalog files.
package graph

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Node is one entity in the picture.
type Node struct {
	// Ref is the node's unique id, an entity ref such as
	// "component:default/orders".
	Ref string
	// Kind is the entity kind ("Component", "API", "Group", ...), printed as
	// a caption and used for the CSS class "k-<kind>". If empty, the kind
	// part of Ref is used.
	Kind string
	// Label is what to print: the title or name. Long labels are shortened
	// with "…" to fit the box; the full text is in the node's <title>. If
	// empty, the name part of Ref is used.
	Label string
	// Href is where clicking the node goes. Only site-relative paths
	// ("/catalog/default/component/orders") are used; anything else
	// ("javascript:", "https://", "//host", "/\host") is dropped and the node
	// is not a link.
	Href string
	// More is non-zero only for the "+N more" indicator nodes Limit and
	// Collect add: it is how many related entities the node stands for. An
	// indicator is drawn dashed and is never a link.
	More int
}

// Edge is one relation, pointing from From to To (both node refs).
type Edge struct {
	From, To string
	// Label is the relation type, e.g. "ownedBy", "dependsOn".
	Label string
}

// Graph is the neighbourhood of Root.
//
// Edges may name refs that are missing from Nodes; such refs are drawn as
// plain (unlinked) nodes named after the ref. Duplicate refs in Nodes keep
// their first entry. Nodes not connected to Root are drawn in Root's column.
type Graph struct {
	// Root is the entity the page is about; it is drawn highlighted in the
	// middle column. If empty, the first node is the root.
	Root  string
	Nodes []Node
	Edges []Edge
}

// Render lays g out and writes it as one <svg> element that is as wide as
// its container (never wider than its natural size) and follows the page's
// light/dark theme through the CSS custom properties --surface (falling back
// to --bg), --fg, --muted, --border and --accent.
//
// If the context carries a CSP nonce (templ.WithNonce), the <style> element
// inside the SVG gets it. A graph with no root and no nodes renders nothing.
//
// Render does not trim the graph: pass it through Limit or Collect first to
// keep the picture small (DefaultMaxNodes).
func Render(g Graph) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return write(w, g, templ.GetNonce(ctx))
	})
}

// write renders g to w.
func write(w io.Writer, g Graph, nonce string) error {
	m := buildModel(g)
	if m == nil {
		return nil
	}
	p := layout(m)
	_, err := w.Write(draw(m, p, nonce))
	return err
}
