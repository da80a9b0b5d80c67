package graph

import (
	"math"
	"sort"
	"strings"
)

// Sizes in px (user units of the SVG).
const (
	nodeW        = 176.0 // box width
	nodeH        = 44.0  // box height
	padX         = 12.0  // text inset in a box
	kindFont     = 10.5
	labelFont    = 13.0
	edgeFont     = 11.0
	rowGap       = 14.0 // between boxes of a column
	dummyH       = 4.0  // the lane a long edge takes in a column it crosses
	dummyGap     = 8.0
	cellGap      = 10.0 // between boxes in a cluster grid
	clusterPad   = 12.0
	cellHCompact = 30.0  // box height in a cluster with a heading
	headH        = 18.0  // cluster heading
	clusterMin   = 8     // leaves sharing a node and a relation become a grid from this many
	minGap       = 96.0  // between columns
	maxEdgeLab   = 180.0 // longest edge label before "…"
	labelH       = 15.0  // vertical room of an edge label
	margin       = 6.0
)

type pt struct{ x, y float64 }

type rect struct{ x, y, w, h float64 }

func (r rect) overlaps(o rect) bool {
	return r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h
}

// seg is one piece of an edge path: a line or a cubic curve to p.
type seg struct {
	curve  bool
	c1, c2 pt
	p      pt
}

// item is what the layout places in a column: a box, a cluster (a grid of
// boxes sharing one arrow) or a dummy (a long edge crossing the column).
type item struct {
	nodes []int // model nodes; none for a dummy
	rank  int
	cols  int    // grid columns of a cluster, 0 otherwise
	head  string // heading of a cluster: the kind of all its members
	w, h  float64
	x, y  float64 // left edge, vertical centre
}

func (it *item) dummy() bool { return len(it.nodes) == 0 }

// ledge is an arrow between two items.
type ledge struct {
	from, to int // items, in arrow direction
	chain    []int
	label    string // full relation text
	text     string // as printed
	textW    float64
	start    pt
	segs     []seg
	labelSeg int     // index of the curve that carries the label, -1 if none
	lab      pt      // label centre
	labelGap int     // gap index (see placeX) of the label
	xmin     float64 // where the label's centre may go
	xmax     float64
	bulge    float64 // for arcs between items of one column
}

// picture is a laid out graph, in SVG user units with the origin at the top
// left of the viewBox.
type picture struct {
	items   []item
	itemOf  []int  // per model node
	box     []rect // per model node
	compact []bool // per model node: a one-line box in a cluster
	edges   []ledge
	w, h    float64
}

// layout places the nodes and routes the edges of m.
func layout(m *model) *picture {
	wk := walk(m, -1, 0, true)
	n := len(m.nodes)
	p := &picture{itemOf: make([]int, n), box: make([]rect, n), compact: make([]bool, n)}

	// Visit order: the walk's, then unconnected nodes by label.
	order := append([]int(nil), wk.order...)
	var loose []int
	for i := range m.nodes {
		if wk.hop[i] < 0 {
			loose = append(loose, i)
		}
	}
	sort.Slice(loose, func(a, b int) bool {
		la, lb := strings.ToLower(labelOf(m.nodes[loose[a]].Node)), strings.ToLower(labelOf(m.nodes[loose[b]].Node))
		if la != lb {
			return la < lb
		}
		return m.nodes[loose[a]].Ref < m.nodes[loose[b]].Ref
	})
	order = append(order, loose...)
	rank := make([]int, n)
	for i := range rank {
		if wk.hop[i] > 0 {
			rank[i] = wk.side[i] * wk.hop[i]
		}
	}

	// Clusters: leaves hanging off the same node by the same relation.
	type leafKey struct {
		nb, dir int
		rel     string
	}
	groups := map[leafKey][]int{}
	var groupOrder []leafKey
	leafOf := func(i int) (leafKey, bool) {
		if i == root || wk.hop[i] < 1 || len(m.adj[i]) != 1 {
			return leafKey{}, false
		}
		e := m.adj[i][0]
		k := leafKey{nb: m.other(e, i), dir: 1, rel: m.edges[e].label()}
		if m.edges[e].to == k.nb {
			k.dir = -1
		}
		return k, true
	}
	for _, i := range order {
		k, ok := leafOf(i)
		if !ok || m.nodes[i].More > 0 {
			continue
		}
		if _, seen := groups[k]; !seen {
			groupOrder = append(groupOrder, k)
		}
		groups[k] = append(groups[k], i)
	}
	clusterOf := make([]int, n)
	for i := range clusterOf {
		clusterOf[i] = -1
	}
	var clusters [][]int
	for _, k := range groupOrder {
		if len(groups[k]) >= clusterMin {
			for _, i := range groups[k] {
				clusterOf[i] = len(clusters)
			}
			clusters = append(clusters, groups[k])
		}
	}
	// An indicator joins a cluster off the same node on the same side,
	// preferably one of the same relation.
	for _, i := range order {
		k, ok := leafOf(i)
		if !ok || m.nodes[i].More == 0 {
			continue
		}
		best := -1
		for c, members := range clusters {
			mk, _ := leafOf(members[0])
			if mk.nb == k.nb && mk.dir == k.dir && (best < 0 || mk.rel == k.rel) {
				best = c
				if mk.rel == k.rel {
					break
				}
			}
		}
		if best >= 0 {
			clusterOf[i] = best
			clusters[best] = append(clusters[best], i)
		}
	}

	// Items, in visit order.
	clusterItem := make([]int, len(clusters))
	for _, i := range order {
		c := clusterOf[i]
		if c >= 0 && clusters[c][0] != i {
			p.itemOf[i] = clusterItem[c]
			continue
		}
		it := item{rank: rank[i], w: nodeW, h: nodeH, nodes: []int{i}}
		if c >= 0 {
			it.nodes = clusters[c]
			k := len(it.nodes)
			it.cols = min(max((k+8)/9, 2), 3)
			rows := (k + it.cols - 1) / it.cols
			// Members all of one kind print it once, as the cluster's
			// heading, in one-line boxes.
			it.head = kindOf(m.nodes[it.nodes[0]].Node)
			for _, nd := range it.nodes {
				if n := m.nodes[nd]; n.More == 0 && kindOf(n.Node) != it.head {
					it.head = ""
				}
			}
			cellH, top := nodeH, 0.0
			if it.head != "" {
				cellH, top = cellHCompact, headH
				for _, nd := range it.nodes {
					p.compact[nd] = true
				}
			}
			it.w = float64(it.cols)*nodeW + float64(it.cols-1)*cellGap + 2*clusterPad
			it.h = top + float64(rows)*cellH + float64(rows-1)*cellGap + 2*clusterPad
			clusterItem[c] = len(p.items)
		}
		p.itemOf[i] = len(p.items)
		p.items = append(p.items, it)
	}

	// Arrows between items; a cluster's members share one.
	type pair struct{ a, b int }
	seen := make(map[pair]bool, len(m.edges))
	p.edges = make([]ledge, 0, len(m.edges))
	for _, me := range m.edges {
		a, b := p.itemOf[me.from], p.itemOf[me.to]
		if a == b || seen[pair{a, b}] {
			continue
		}
		if p.items[a].cols > 0 && m.nodes[me.from].More > 0 || p.items[b].cols > 0 && m.nodes[me.to].More > 0 {
			continue // the members' edge names the relation
		}
		seen[pair{a, b}] = true
		label := clean(me.label())
		text := fit(label, edgeFont, maxEdgeLab)
		p.edges = append(p.edges, ledge{from: a, to: b, label: label, text: text, textW: textWidth(text, edgeFont), labelSeg: -1})
	}

	// Columns, with dummies where an arrow skips one.
	minR, maxR := 0, 0
	for _, it := range p.items {
		minR, maxR = min(minR, it.rank), max(maxR, it.rank)
	}
	dummies := 0
	for _, le := range p.edges {
		ra, rb := p.items[le.from].rank, p.items[le.to].rank
		dummies += max(ra-rb, rb-ra, 1) - 1
	}
	p.items = append(make([]item, 0, len(p.items)+dummies), p.items...)
	for i := range p.edges {
		le := &p.edges[i]
		ra, rb := p.items[le.from].rank, p.items[le.to].rank
		lo, hi := min(ra, rb), max(ra, rb)
		for r := lo + 1; r < hi; r++ {
			le.chain = append(le.chain, len(p.items))
			p.items = append(p.items, item{rank: r, h: dummyH})
		}
	}
	layers := make([][]int, maxR-minR+1)
	for i, it := range p.items {
		layers[it.rank-minR] = append(layers[it.rank-minR], i)
	}
	// Neighbours one column left (lo) and right (hi) of each item.
	lo := make([][]int, len(p.items))
	hi := make([][]int, len(p.items))
	for _, le := range p.edges {
		a, b := le.from, le.to
		if p.items[a].rank == p.items[b].rank {
			continue
		}
		if p.items[a].rank > p.items[b].rank {
			a, b = b, a
		}
		path := append(append([]int{a}, le.chain...), b)
		for j := 0; j+1 < len(path); j++ {
			hi[path[j]] = append(hi[path[j]], path[j+1])
			lo[path[j+1]] = append(lo[path[j+1]], path[j])
		}
	}
	p.order(layers, lo, hi, -minR)
	p.placeY(layers, lo, hi, -minR)
	p.placeX(m, layers, minR)
	p.finish(m)
	return p
}

// order sorts each column to reduce crossings: barycentre sweeps outward
// from the root's column and back, keeping the best order seen.
func (p *picture) order(layers [][]int, lo, hi [][]int, zero int) {
	pos := make([]int, len(p.items))
	size := make([]int, len(p.items))
	set := func() {
		for _, l := range layers {
			for i, it := range l {
				pos[it], size[it] = i, len(l)
			}
		}
	}
	set()
	b := make([]float64, len(p.items))
	bary := func(l []int, nbs ...[][]int) {
		for i, it := range l {
			sum, k := 0.0, 0
			for _, nb := range nbs {
				for _, o := range nb[it] {
					sum += (float64(pos[o]) + 0.5) / float64(size[o])
					k++
				}
			}
			if k == 0 {
				b[it] = (float64(i) + 0.5) / float64(len(l))
			} else {
				b[it] = sum / float64(k)
			}
		}
		sort.SliceStable(l, func(i, j int) bool { return b[l[i]] < b[l[j]] })
		for i, it := range l {
			pos[it] = i
		}
	}
	crossings := func() int {
		c := 0
		for _, l := range layers {
			var s [][2]int
			for _, u := range l {
				for _, v := range hi[u] {
					s = append(s, [2]int{pos[u], pos[v]})
				}
			}
			for i := range s {
				for j := i + 1; j < len(s); j++ {
					if (s[i][0]-s[j][0])*(s[i][1]-s[j][1]) < 0 {
						c++
					}
				}
			}
		}
		return c
	}
	best := cloneLayers(layers)
	bestC := crossings()
	for iter := 0; iter < 4 && bestC > 0; iter++ {
		for l := zero + 1; l < len(layers); l++ {
			bary(layers[l], lo)
		}
		for l := zero - 1; l >= 0; l-- {
			bary(layers[l], hi)
		}
		for l := len(layers) - 2; l > zero; l-- {
			bary(layers[l], hi)
		}
		for l := 1; l < zero; l++ {
			bary(layers[l], lo)
		}
		bary(layers[zero], lo, hi)
		if c := crossings(); c < bestC {
			best, bestC = cloneLayers(layers), c
		}
	}
	for i := range layers {
		copy(layers[i], best[i])
	}
}

func cloneLayers(layers [][]int) [][]int {
	out := make([][]int, len(layers))
	for i, l := range layers {
		out[i] = append([]int(nil), l...)
	}
	return out
}

// gap is the vertical space between two neighbours in a column.
func (p *picture) gap(a, b int) float64 {
	g := rowGap
	if p.items[a].dummy() || p.items[b].dummy() {
		g = dummyGap
	}
	return p.items[a].h/2 + g + p.items[b].h/2
}

// placeY places items vertically: each column stacked in its order, then
// a few sweeps pulling every item toward the mean of its neighbours while
// keeping the order and the gaps (an exact least-squares fit per column).
func (p *picture) placeY(layers [][]int, lo, hi [][]int, zero int) {
	for _, l := range layers {
		y := 0.0
		for i, it := range l {
			if i > 0 {
				y += p.gap(l[i-1], it)
			}
			p.items[it].y = y
		}
		for _, it := range l {
			p.items[it].y -= y / 2
		}
	}
	// Columns outward from the root and back.
	var sweep []int
	sweep = append(sweep, zero)
	for d := 1; d < len(layers); d++ {
		if zero+d < len(layers) {
			sweep = append(sweep, zero+d)
		}
		if zero-d >= 0 {
			sweep = append(sweep, zero-d)
		}
	}
	for iter := 0; iter < 8; iter++ {
		for k := range sweep {
			l := layers[sweep[k]]
			if iter%2 == 1 {
				l = layers[sweep[len(sweep)-1-k]]
			}
			want := make([]float64, len(l))
			seps := make([]float64, len(l))
			for i, it := range l {
				sum, c := 0.0, 0
				for _, o := range lo[it] {
					sum += p.items[o].y
					c++
				}
				for _, o := range hi[it] {
					sum += p.items[o].y
					c++
				}
				if c == 0 {
					want[i] = p.items[it].y
				} else {
					want[i] = sum / float64(c)
				}
				if i > 0 {
					seps[i] = p.gap(l[i-1], it)
				}
			}
			for i, y := range pav(want, seps) {
				p.items[l[i]].y = y
			}
		}
	}
}

// pav returns y closest to want (least squares) with y[i] >= y[i-1] +
// seps[i]: isotonic regression by pool-adjacent-violators on want minus the
// running sum of seps.
func pav(want, seps []float64) []float64 {
	off := make([]float64, len(want))
	for i := 1; i < len(want); i++ {
		off[i] = off[i-1] + seps[i]
	}
	type block struct {
		sum float64
		n   int
	}
	var blocks []block
	for i, w := range want {
		blocks = append(blocks, block{w - off[i], 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/float64(a.n) <= b.sum/float64(b.n) {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{a.sum + b.sum, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(want))
	for _, b := range blocks {
		for j := 0; j < b.n; j++ {
			out = append(out, b.sum/float64(b.n)+off[len(out)])
		}
	}
	return out
}

// arcSide is the side of its column an arc between two items of the same
// rank bulges to: away from the root, rightward in the root's column.
func arcSide(rank int) int {
	if rank < 0 {
		return -1
	}
	return 1
}

// placeX sizes the columns and the gaps between them (wide enough for the
// edge labels in them) and routes the edges.
func (p *picture) placeX(m *model, layers [][]int, minR int) {
	nl := len(layers)
	colW := make([]float64, nl)
	for l, layer := range layers {
		for _, it := range layer {
			colW[l] = max(colW[l], p.items[it].w)
		}
	}
	// gapW[g] is the gap right of column g-1 (gapW[0] left of column 0).
	labW := make([]float64, nl+1)
	arcR := make([]float64, nl+1) // room arcs bulging right need in the gap
	arcL := make([]float64, nl+1)
	for i := range p.edges {
		le := &p.edges[i]
		a, b := &p.items[le.from], &p.items[le.to]
		l := min(a.rank, b.rank) - minR
		if a.rank == b.rank {
			le.bulge = min(max(24+0.1*math.Abs(a.y-b.y), 24), 48)
			need := max(0.75*le.bulge+le.textW/2+10, le.textW+12)
			if arcSide(a.rank) > 0 {
				le.labelGap = l + 1
				arcR[l+1] = max(arcR[l+1], need)
			} else {
				le.labelGap = l
				arcL[l] = max(arcL[l], need)
			}
			continue
		}
		span := max(a.rank, b.rank) - min(a.rank, b.rank)
		le.labelGap = l + 1 + (span-1)/2
		labW[le.labelGap] = max(labW[le.labelGap], le.textW)
	}
	gapW := make([]float64, nl+1)
	for g := range gapW {
		gapW[g] = max(minGap, labW[g]+56, arcR[g]+arcL[g]+12)
	}
	colX := make([]float64, nl)
	for l := 1; l < nl; l++ {
		colX[l] = colX[l-1] + colW[l-1] + gapW[l]
	}
	for i := range p.edges {
		le := &p.edges[i]
		g := le.labelGap
		le.xmin, le.xmax = math.Inf(-1), math.Inf(1)
		if g > 0 {
			le.xmin = colX[g-1] + colW[g-1] + le.textW/2 + 4
		}
		if g < nl {
			le.xmax = colX[g] - le.textW/2 - 4
		}
		if le.xmin > le.xmax {
			le.xmin = (le.xmin + le.xmax) / 2
			le.xmax = le.xmin
		}
	}
	for l, layer := range layers {
		for _, i := range layer {
			it := &p.items[i]
			switch r := it.rank; {
			case r > 0:
				it.x = colX[l]
			case r < 0:
				it.x = colX[l] + colW[l] - it.w
			default:
				it.x = colX[l] + (colW[l]-it.w)/2
			}
		}
	}

	// Ports: where arrows meet an item's side, spread out and sorted by
	// where they come from so that they do not cross at the box.
	type port struct {
		edge  int
		end   int // 0 start, 1 end
		other float64
	}
	ports := map[[2]int][]port{} // (item, side) -> ports
	var portKeys [][2]int
	addPort := func(it, side, e, end int, other float64) {
		k := [2]int{it, side}
		if _, ok := ports[k]; !ok {
			portKeys = append(portKeys, k)
		}
		ports[k] = append(ports[k], port{e, end, other})
	}
	for i, le := range p.edges {
		a, b := &p.items[le.from], &p.items[le.to]
		if a.rank == b.rank {
			s := arcSide(a.rank)
			addPort(le.from, s, i, 0, b.y)
			addPort(le.to, s, i, 1, a.y)
			continue
		}
		sa, sb := 1, -1
		if a.rank > b.rank {
			sa, sb = -1, 1
		}
		na, nb := b.y, a.y
		if len(le.chain) > 0 {
			first, last := p.items[le.chain[0]].y, p.items[le.chain[len(le.chain)-1]].y
			if a.rank < b.rank {
				na, nb = first, last
			} else {
				na, nb = last, first
			}
		}
		addPort(le.from, sa, i, 0, na)
		addPort(le.to, sb, i, 1, nb)
	}
	portY := make([][2]float64, len(p.edges))
	portX := make([][2]float64, len(p.edges))
	for _, k := range portKeys {
		ps := ports[k]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].other < ps[j].other })
		it := &p.items[k[0]]
		step := 0.0
		if len(ps) > 1 {
			step = min(16, (it.h-16)/float64(len(ps)-1))
		}
		x := it.x
		if k[1] > 0 {
			x += it.w
		}
		for j, pp := range ps {
			portY[pp.edge][pp.end] = it.y + (float64(j)-float64(len(ps)-1)/2)*step
			portX[pp.edge][pp.end] = x
		}
	}

	// Paths.
	colL := func(r int) float64 { return colX[r-minR] }
	colR := func(r int) float64 { return colX[r-minR] + colW[r-minR] }
	for i := range p.edges {
		le := &p.edges[i]
		a, b := &p.items[le.from], &p.items[le.to]
		s := pt{portX[i][0], portY[i][0]}
		t := pt{portX[i][1], portY[i][1]}
		if a.rank == b.rank {
			side := float64(arcSide(a.rank))
			edge := colR(a.rank)
			if side < 0 {
				edge = colL(a.rank)
			}
			le.start = s
			le.segs = lineTo(le.segs, s, pt{edge, s.y})
			c := edge + side*le.bulge
			le.labelSeg = len(le.segs)
			le.segs = append(le.segs, seg{curve: true, c1: pt{c, s.y}, c2: pt{c, t.y}, p: pt{edge, t.y}})
			le.segs = lineTo(le.segs, pt{edge, t.y}, t)
			continue
		}
		// Route from the lower rank to the higher, reverse if needed.
		from, to := s, t
		chain := le.chain
		if a.rank > b.rank {
			from, to = t, s
		}
		rl := min(a.rank, b.rank)
		cur := from
		var segs []seg
		labelCurve := (le.labelGap - 1) - (rl - minR)
		curves := 0
		next := func(q pt) {
			if curves == labelCurve {
				le.labelSeg = len(segs)
			}
			segs = append(segs, curveSeg(cur, q))
			cur = q
			curves++
		}
		if r := colR(rl); cur.x < r {
			segs = lineTo(segs, cur, pt{r, cur.y})
			cur = pt{r, cur.y}
		}
		for _, d := range chain {
			di := &p.items[d]
			next(pt{colL(di.rank), di.y})
			if r := colR(di.rank); r > cur.x {
				segs = lineTo(segs, cur, pt{r, di.y})
				cur = pt{r, di.y}
			}
		}
		next(pt{colL(max(a.rank, b.rank)), to.y})
		segs = lineTo(segs, cur, to)
		if a.rank > b.rank {
			segs, le.labelSeg = reverse(from, segs, le.labelSeg)
			le.start = s
		} else {
			le.start = from
		}
		le.segs = segs
	}
	p.placeLabels()
}

func lineTo(segs []seg, from, to pt) []seg {
	if from == to {
		return segs
	}
	return append(segs, seg{p: to})
}

// curveSeg is an S-curve leaving and entering horizontally.
func curveSeg(from, to pt) seg {
	dx := (to.x - from.x) / 2
	return seg{curve: true, c1: pt{from.x + dx, from.y}, c2: pt{to.x - dx, to.y}, p: to}
}

// reverse turns a path starting at start around; it returns the new
// segments and the new index of segment mark.
func reverse(start pt, segs []seg, mark int) ([]seg, int) {
	pts := make([]pt, len(segs)+1)
	pts[0] = start
	for i, s := range segs {
		pts[i+1] = s.p
	}
	out := make([]seg, len(segs))
	for i := range segs {
		s := segs[len(segs)-1-i]
		out[i] = seg{curve: s.curve, c1: s.c2, c2: s.c1, p: pts[len(segs)-1-i]}
	}
	if mark >= 0 {
		mark = len(segs) - 1 - mark
	}
	return out, mark
}

// segStart returns where segment i of le begins.
func (le *ledge) segStart(i int) pt {
	if i == 0 {
		return le.start
	}
	return le.segs[i-1].p
}

func bezier(p0, c1, c2, p1 pt, t float64) pt {
	u := 1 - t
	a, b, c, d := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return pt{a*p0.x + b*c1.x + c*c2.x + d*p1.x, a*p0.y + b*c1.y + c*c2.y + d*p1.y}
}

// placeLabels puts each edge label on its curve, near the middle, sliding
// labels in the same gap along their curves so that they do not overlap.
func (p *picture) placeLabels() {
	byGap := map[int][]int{}
	var gaps []int
	for i, le := range p.edges {
		if le.text == "" || le.labelSeg < 0 {
			continue
		}
		if _, ok := byGap[le.labelGap]; !ok {
			gaps = append(gaps, le.labelGap)
		}
		byGap[le.labelGap] = append(byGap[le.labelGap], i)
	}
	sort.Ints(gaps)
	at := func(le *ledge, t float64) pt {
		s := le.segs[le.labelSeg]
		return bezier(le.segStart(le.labelSeg), s.c1, s.c2, s.p, t)
	}
	for _, g := range gaps {
		es := byGap[g]
		sort.SliceStable(es, func(i, j int) bool {
			a, b := at(&p.edges[es[i]], 0.5), at(&p.edges[es[j]], 0.5)
			if a.y != b.y {
				return a.y < b.y
			}
			return a.x < b.x
		})
		want := make([]float64, len(es))
		seps := make([]float64, len(es))
		for i, e := range es {
			want[i] = at(&p.edges[e], 0.5).y
			if i > 0 {
				seps[i] = labelH + 0.5
			}
		}
		ys := pav(want, seps)
		for i, e := range es {
			le := &p.edges[e]
			// y is monotone along the curve: find t with y(t) = ys[i],
			// within the middle of the curve.
			lo, hi := 0.3, 0.7
			y0, y1 := at(le, lo).y, at(le, hi).y
			q := at(le, 0.5)
			if y0 != y1 {
				target := min(max(ys[i], min(y0, y1)), max(y0, y1))
				for k := 0; k < 30; k++ {
					mid := (lo + hi) / 2
					if (at(le, mid).y < target) == (y0 < y1) {
						lo = mid
					} else {
						hi = mid
					}
				}
				q = at(le, (lo+hi)/2)
			}
			q.x = min(max(q.x, le.xmin), le.xmax)
			q.y = ys[i]
			le.lab = q
		}
	}
}

// finish computes the boxes of the nodes, the picture's bounds, and moves
// everything so that the bounds start at (0, 0).
func (p *picture) finish(m *model) {
	for _, it := range p.items {
		if it.dummy() {
			continue
		}
		top := it.y - it.h/2
		if it.cols == 0 {
			p.box[it.nodes[0]] = rect{it.x, top, it.w, it.h}
			continue
		}
		cellH := nodeH
		if it.head != "" {
			cellH = cellHCompact
			top += headH
		}
		for j, nd := range it.nodes {
			c, r := j%it.cols, j/it.cols
			p.box[nd] = rect{it.x + clusterPad + float64(c)*(nodeW+cellGap), top + clusterPad + float64(r)*(cellH+cellGap), nodeW, cellH}
		}
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	grow := func(r rect) {
		minX, minY = min(minX, r.x), min(minY, r.y)
		maxX, maxY = max(maxX, r.x+r.w), max(maxY, r.y+r.h)
	}
	for _, it := range p.items {
		if !it.dummy() {
			grow(rect{it.x, it.y - it.h/2, it.w, it.h})
		}
	}
	for _, le := range p.edges {
		for _, s := range le.segs {
			grow(rect{s.p.x, s.p.y, 0, 0})
			if s.curve {
				grow(rect{s.c1.x, s.c1.y, 0, 0})
				grow(rect{s.c2.x, s.c2.y, 0, 0})
			}
		}
		if le.text != "" && le.labelSeg >= 0 {
			grow(p.labelBox(&le))
		}
	}
	dx, dy := margin-minX, margin-minY
	mv := func(q *pt) { q.x += dx; q.y += dy }
	for i := range p.items {
		p.items[i].x += dx
		p.items[i].y += dy
	}
	for i := range p.box {
		p.box[i].x += dx
		p.box[i].y += dy
	}
	for i := range p.edges {
		le := &p.edges[i]
		mv(&le.start)
		mv(&le.lab)
		for j := range le.segs {
			mv(&le.segs[j].c1)
			mv(&le.segs[j].c2)
			mv(&le.segs[j].p)
		}
	}
	p.w, p.h = maxX-minX+2*margin, maxY-minY+2*margin
}

// labelBox is the room an edge label takes.
func (p *picture) labelBox(le *ledge) rect {
	return rect{le.lab.x - le.textW/2 - 2, le.lab.y - labelH/2, le.textW + 4, labelH}
}
