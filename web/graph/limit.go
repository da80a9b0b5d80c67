package graph

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxNodes is the node budget of the entity page's graph: enough for
// an entity's direct relations and some of the second hop, small enough to
// read (and to render in well under a millisecond).
const DefaultMaxNodes = 40

// Limit trims g to the neighbourhood of its root, for Render.
//
// It keeps the root, then walks outward hop by hop (relations are followed
// both ways; maxHops <= 0 means any distance) and keeps whole hops while they
// fit in maxNodes. The hop that does not fit is shared fairly: its candidates
// are grouped by the node they hang off and the relation ("ownedBy" of the
// root, "memberOf" of the root, ...), each group sorted by ref, and nodes are
// taken from the groups in turn, so a group owning 2,000 components still
// shows its members and parent. Nothing further out is kept. The result is
// stable: it depends on the refs and relations, not on the order of g.Nodes
// and g.Edges, nor on labels, so Limit can run before the caller fetches
// labels of the kept refs.
//
// For each side of the root where nodes were dropped (left: reached against
// the arrows, like the components ownedBy a root group; right: reached along
// them, like the group a root component is ownedBy), Limit
// adds one indicator node (More > 0, Label "+N more", no Href) with an edge
// from the node most of the dropped entities hang off. maxNodes counts the
// root and the indicators; values below 3 are raised to 3 and values <= 0
// mean DefaultMaxNodes.
//
// The returned graph has the kept nodes (root first, nodes that were only
// named by edges as Node{Ref: ref}), the edges of g between kept nodes, in
// their original order, and the indicator edges.
func Limit(g Graph, maxNodes, maxHops int) Graph {
	m := buildModel(g)
	if m == nil {
		return Graph{}
	}
	r := selectNodes(m, maxNodes, maxHops, false)
	out := Graph{Root: m.nodes[root].Ref}
	for _, n := range r.order {
		out.Nodes = append(out.Nodes, m.nodes[n].Node)
	}
	for _, e := range g.Edges {
		f, ok1 := m.index[e.From]
		t, ok2 := m.index[e.To]
		if ok1 && ok2 && f != t && r.hop[f] >= 0 && r.hop[t] >= 0 {
			out.Edges = append(out.Edges, e)
		}
	}
	for i, d := range r.drops {
		if d.count == 0 {
			continue
		}
		side := "left"
		if i == 1 {
			side = "right"
		}
		ref := "+more:" + side
		for {
			if _, taken := m.index[ref]; !taken {
				break
			}
			ref += "+"
		}
		out.Nodes = append(out.Nodes, Node{Ref: ref, Label: "+" + thousands(d.count) + " more", More: d.count})
		p := m.nodes[d.parent].Ref
		if i == 1 {
			out.Edges = append(out.Edges, Edge{From: p, To: ref, Label: d.label})
		} else {
			out.Edges = append(out.Edges, Edge{From: ref, To: p, Label: d.label})
		}
	}
	return out
}

// Fetch loads entities for Collect. For each ref it returns the entity as a
// Node and its relations as edges with the entity at either end (Backstage
// lists both directions on each entity; inverses are merged, duplicates do no
// harm). Refs that do not exist may be left out or returned as Node{Ref: ref}.
type Fetch func(ctx context.Context, refs []string) ([]Node, []Edge, error)

// Collect builds the graph of root's neighbourhood, maxHops relations out,
// trimmed as Limit trims it, calling fetch only for entities that will be
// shown: first the root, then the kept nodes of each hop (one call per hop,
// about maxNodes refs in all; a few more only when entities disagree about
// their relations). A group owning 2,000 components costs two or three fetch
// calls for about maxNodes entities, not 2,000.
//
// maxNodes <= 0 means DefaultMaxNodes; maxHops <= 0 means 1.
func Collect(ctx context.Context, root string, maxHops, maxNodes int, fetch Fetch) (Graph, error) {
	if maxHops <= 0 {
		maxHops = 1
	}
	if maxNodes <= 0 {
		maxNodes = DefaultMaxNodes
	}
	g := Graph{Root: root}
	fetched := map[string]bool{}
	todo := []string{root}
	for round := 0; len(todo) > 0 && round <= maxHops+2; round++ {
		nodes, edges, err := fetch(ctx, todo)
		if err != nil {
			return Graph{}, err
		}
		for _, ref := range todo {
			fetched[ref] = true
		}
		g.Nodes = append(g.Nodes, nodes...)
		g.Edges = append(g.Edges, edges...)
		m := buildModel(g)
		r := selectNodes(m, maxNodes, maxHops, false)
		todo = todo[:0:0]
		for _, n := range r.order {
			if ref := m.nodes[n].Ref; !fetched[ref] && m.nodes[n].More == 0 {
				todo = append(todo, ref)
			}
		}
	}
	return Limit(g, maxNodes, maxHops), nil
}

// walked is the outcome of a walk from the root.
type walked struct {
	hop    []int    // hops from the root; -1 if not kept
	side   []int    // -1 left of the root, +1 right, 0 the root
	parent []int    // the kept node it was reached from; -1 for the root
	order  []int    // kept nodes in visit order, root first
	drops  [2]drops // left, right
}

// drops describes the nodes dropped on one side.
type drops struct {
	count  int    // entities not shown (an indicator node counts as its More)
	parent int    // the kept node most of them hang off
	label  string // their common relation, "" if they differ
}

func (w *walked) dropSides() int {
	n := 0
	for _, d := range w.drops {
		if d.count > 0 {
			n++
		}
	}
	return n
}

// selectNodes walks m from the root keeping at most maxNodes nodes
// including the indicators that the drops will need.
func selectNodes(m *model, maxNodes, maxHops int, byLabel bool) *walked {
	if maxNodes <= 0 {
		maxNodes = DefaultMaxNodes
	}
	maxNodes = max(maxNodes, 3)
	k := 0
	for {
		w := walk(m, maxNodes-k, maxHops, byLabel)
		if d := w.dropSides(); d > k {
			k = d
			continue
		}
		return w
	}
}

// candidate is a node one hop beyond the kept nodes.
type candidate struct {
	n      int
	parent int
	ppos   int    // parent's position in the frontier
	dir    int    // +1: parent → n, -1: n → parent
	rel    string // relation label of that edge
	more   bool
	sortBy string
}

// walk visits m breadth-first from the root, keeping whole hops while they
// fit in budget (budget < 0: no limit) and sharing the first hop that does
// not fit fairly between its groups. A node's side is the direction of its
// edge to the root for the first hop and its parent's side after that; its
// parent is the first kept node of the previous hop it is related to,
// preferring one whose edge points outward (rightward on the right,
// leftward on the left) so that arrows mostly run left to right.
func walk(m *model, budget, maxHops int, byLabel bool) *walked {
	n := len(m.nodes)
	w := &walked{hop: make([]int, n), side: make([]int, n), parent: make([]int, n)}
	for i := range w.hop {
		w.hop[i], w.parent[i] = -1, -1
	}
	seen := make([]bool, n)
	seen[root] = true
	w.hop[root] = 0
	w.order = append(w.order, root)
	frontier := []int{root}
	for h := 1; len(frontier) > 0 && (maxHops <= 0 || h <= maxHops); h++ {
		var cands []candidate
		at := map[int]int{}
		for ppos, p := range frontier {
			pref := 1
			if h > 1 {
				pref = w.side[p]
			}
			for _, e := range m.adj[p] {
				c := m.other(e, p)
				if seen[c] {
					continue
				}
				dir := 1
				if m.edges[e].to == p {
					dir = -1
				}
				i, ok := at[c]
				if !ok {
					at[c] = len(cands)
					cands = append(cands, candidate{n: c, parent: p, ppos: ppos, dir: dir, rel: m.edges[e].label(), more: m.nodes[c].More > 0})
					continue
				}
				if cands[i].dir != pref && dir == pref {
					cands[i].parent, cands[i].ppos, cands[i].dir, cands[i].rel = p, ppos, dir, m.edges[e].label()
				}
			}
		}
		if len(cands) == 0 {
			break
		}
		for i := range cands {
			c := &cands[i]
			c.sortBy = m.nodes[c.n].Ref
			if byLabel {
				c.sortBy = strings.ToLower(labelOf(m.nodes[c.n].Node)) + "\x00" + c.sortBy
			}
		}
		// Sort indices: cheaper than moving the structs around.
		idx := make([]int, len(cands))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(i, j int) int {
			a, b := &cands[i], &cands[j]
			if a.more != b.more {
				if a.more {
					return 1
				}
				return -1
			}
			if c := cmp.Compare(a.ppos, b.ppos); c != 0 {
				return c
			}
			if c := strings.Compare(a.rel, b.rel); c != 0 {
				return c
			}
			if c := cmp.Compare(b.dir, a.dir); c != 0 {
				return c
			}
			return strings.Compare(a.sortBy, b.sortBy)
		})
		sorted := make([]candidate, len(cands))
		for i, j := range idx {
			sorted[i] = cands[j]
		}
		cands = sorted
		keep := make([]bool, len(cands))
		remaining := budget - len(w.order)
		full := budget >= 0 && remaining < len(cands)
		if !full {
			for i := range keep {
				keep[i] = true
			}
		} else {
			shareFairly(cands, keep, remaining)
		}
		frontier = frontier[:0:0]
		for i, c := range cands {
			seen[c.n] = true
			side := c.dir
			if h > 1 {
				side = w.side[c.parent]
			}
			if keep[i] {
				w.hop[c.n], w.side[c.n], w.parent[c.n] = h, side, c.parent
				w.order = append(w.order, c.n)
				frontier = append(frontier, c.n)
			}
		}
		if full {
			w.noteDrops(m, cands, keep, h)
			break
		}
	}
	return w
}

// shareFairly marks up to k candidates to keep, taking one from each group
// (same parent, relation and direction) in turn. cands is sorted by group.
func shareFairly(cands []candidate, keep []bool, k int) {
	var starts []int
	for i := range cands {
		if i == 0 || !sameGroup(cands[i-1], cands[i]) {
			starts = append(starts, i)
		}
	}
	next := append([]int(nil), starts...)
	for k > 0 {
		took := false
		for g := range starts {
			end := len(cands)
			if g+1 < len(starts) {
				end = starts[g+1]
			}
			if next[g] < end && k > 0 {
				keep[next[g]] = true
				next[g]++
				k--
				took = true
			}
		}
		if !took {
			break
		}
	}
}

func sameGroup(a, b candidate) bool {
	return a.more == b.more && a.ppos == b.ppos && a.rel == b.rel && a.dir == b.dir
}

// noteDrops records, per side, how many candidates were dropped, the kept
// node most of them hang off and their common relation.
func (w *walked) noteDrops(m *model, cands []candidate, keep []bool, h int) {
	type tally struct {
		count, pos int
	}
	var perParent [2]map[int]*tally
	var labels [2]map[string]bool
	for i, c := range cands {
		if keep[i] {
			continue
		}
		side := c.dir
		if h > 1 {
			side = w.side[c.parent]
		}
		s := 0
		if side > 0 {
			s = 1
		}
		d := &w.drops[s]
		d.count += max(1, m.nodes[c.n].More)
		if perParent[s] == nil {
			perParent[s], labels[s] = map[int]*tally{}, map[string]bool{}
		}
		t := perParent[s][c.parent]
		if t == nil {
			t = &tally{pos: c.ppos}
			perParent[s][c.parent] = t
		}
		t.count++
		rel := c.rel
		if c.dir != side {
			rel = "\x00mixed"
		}
		labels[s][rel] = true
	}
	for s := range w.drops {
		d := &w.drops[s]
		if d.count == 0 {
			continue
		}
		best, bt := -1, (*tally)(nil)
		for p, t := range perParent[s] {
			if bt == nil || t.count > bt.count || (t.count == bt.count && t.pos < bt.pos) {
				best, bt = p, t
			}
		}
		d.parent = best
		if len(labels[s]) == 1 {
			for l := range labels[s] {
				if !strings.HasPrefix(l, "\x00") {
					d.label = l
				}
			}
		}
	}
}

// thousands formats n with "," between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
