package graph

import (
	"sort"
	"strings"
)

// forward maps each inverse relation to the forward relation it is drawn as.
// A edge "B ownerOf A" is the edge "A ownedBy B".
var forward = map[string]string{
	"ownerOf":       "ownedBy",
	"apiProvidedBy": "providesApi",
	"apiConsumedBy": "consumesApi",
	"dependencyOf":  "dependsOn",
	"childOf":       "parentOf",
	"hasMember":     "memberOf",
	"hasPart":       "partOf",
}

// canonical returns the edge pointing the forward way with the forward
// relation.
func canonical(from, to, rel string) (string, string, string) {
	if f, ok := forward[rel]; ok {
		return to, from, f
	}
	return from, to, rel
}

// mnode is a node of the model.
type mnode struct {
	Node     // as given (or synthesized from a ref)
	src  int // index in Graph.Nodes, -1 if synthesized from an edge or the root
}

// medge is one merged edge of the model: all relations pointing from one
// node to another, with inverses turned around.
type medge struct {
	from, to int
	rels     []string // sorted, unique; may hold ""
}

// label is the relations joined for printing.
func (e *medge) label() string {
	if len(e.rels) == 1 {
		return e.rels[0]
	}
	var parts []string
	for _, r := range e.rels {
		if r != "" {
			parts = append(parts, r)
		}
	}
	return strings.Join(parts, ", ")
}

// model is a normalized graph: unique nodes, root first, merged edges.
type model struct {
	nodes []mnode
	index map[string]int
	edges []medge // sorted by (from ref, to ref)
	adj   [][]int // per node, indices of its edges in edges order
}

// root is always node 0.
const root = 0

// buildModel normalizes g. It returns nil if g has neither root nor nodes.
func buildModel(g Graph) *model {
	rootRef := g.Root
	if rootRef == "" {
		for _, n := range g.Nodes {
			if n.Ref != "" {
				rootRef = n.Ref
				break
			}
		}
	}
	if rootRef == "" {
		return nil
	}
	m := &model{index: make(map[string]int, len(g.Nodes)+1)}
	m.add(Node{Ref: rootRef}, -1)
	for i, n := range g.Nodes {
		if n.Ref == "" {
			continue
		}
		if j, ok := m.index[n.Ref]; ok {
			if j == root && m.nodes[root].src < 0 {
				m.nodes[root] = mnode{n, i}
			}
			continue
		}
		m.add(n, i)
	}
	type pair struct{ from, to int }
	merged := map[pair]int{}
	for _, e := range g.Edges {
		if e.From == "" || e.To == "" {
			continue
		}
		from, to, rel := canonical(e.From, e.To, e.Label)
		if from == to {
			continue
		}
		f, ok := m.index[from]
		if !ok {
			f = m.add(Node{Ref: from}, -1)
		}
		t, ok := m.index[to]
		if !ok {
			t = m.add(Node{Ref: to}, -1)
		}
		k := pair{f, t}
		i, ok := merged[k]
		if !ok {
			i = len(m.edges)
			merged[k] = i
			m.edges = append(m.edges, medge{from: f, to: t})
		}
		me := &m.edges[i]
		if !containsString(me.rels, rel) {
			me.rels = append(me.rels, rel)
		}
	}
	for i := range m.edges {
		sort.Strings(m.edges[i].rels)
	}
	sort.Slice(m.edges, func(i, j int) bool {
		a, b := m.edges[i], m.edges[j]
		if ra, rb := m.nodes[a.from].Ref, m.nodes[b.from].Ref; ra != rb {
			return ra < rb
		}
		return m.nodes[a.to].Ref < m.nodes[b.to].Ref
	})
	m.adj = make([][]int, len(m.nodes))
	for i, e := range m.edges {
		m.adj[e.from] = append(m.adj[e.from], i)
		m.adj[e.to] = append(m.adj[e.to], i)
	}
	return m
}

func (m *model) add(n Node, src int) int {
	i := len(m.nodes)
	m.nodes = append(m.nodes, mnode{n, src})
	m.index[n.Ref] = i
	return i
}

// other returns the end of edge e that is not n.
func (m *model) other(e, n int) int {
	if m.edges[e].from == n {
		return m.edges[e].to
	}
	return m.edges[e].from
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kindOf returns the kind to print for n.
func kindOf(n Node) string {
	if n.More > 0 {
		return ""
	}
	if n.Kind != "" {
		return n.Kind
	}
	k, _, ok := strings.Cut(n.Ref, ":")
	if !ok || k == "" {
		return ""
	}
	if nice, ok := kindNames[strings.ToLower(k)]; ok {
		return nice
	}
	return strings.ToUpper(k[:1]) + k[1:]
}

// kindNames spells the built-in kinds as Backstage does.
var kindNames = map[string]string{
	"api": "API", "component": "Component", "domain": "Domain", "group": "Group",
	"location": "Location", "resource": "Resource", "system": "System",
	"template": "Template", "user": "User",
}

// labelOf returns the full text to print for n.
func labelOf(n Node) string {
	if n.Label != "" {
		return n.Label
	}
	name := n.Ref
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	} else if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		name = n.Ref
	}
	return name
}

// safeHref returns href if it is a site-relative path, else "". URL parsers
// drop tabs and newlines and read "\" as "/", so "/\tevil" and "/\evil" are
// rejected along with "//evil"; any control character or space rejects the
// link.
func safeHref(href string) string {
	if len(href) == 0 || href[0] != '/' {
		return ""
	}
	if len(href) > 1 && (href[1] == '/' || href[1] == '\\') {
		return ""
	}
	for i := 0; i < len(href); i++ {
		if c := href[i]; c <= ' ' || c == 0x7f {
			return ""
		}
	}
	return href
}
