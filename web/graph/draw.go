package graph

import (
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// style is the SVG's stylesheet. A <style> inside inline SVG applies to the
// whole page, so every rule is scoped to .grg. Colours come from the page's
// custom properties, so the picture follows its light/dark theme; the
// fallbacks are light colours because a page that defines none of the
// properties is not themed (a dark fallback would clash with it).
const style = `.grg{--g-s:var(--surface,var(--bg,#fff));--g-f:var(--fg,#1b1f23);--g-m:var(--muted,#57606a);` +
	`--g-b:var(--border,color-mix(in srgb,var(--g-m) 50%,transparent));--g-a:var(--accent,#1a7f37);` +
	`display:block;height:auto;max-height:85vh;margin:0 auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}` +
	`.grg .n rect{fill:var(--g-s);stroke:var(--g-b)}` +
	`.grg .root rect{fill:color-mix(in srgb,var(--g-a) 12%,var(--g-s));stroke:var(--g-a);stroke-width:2px}` +
	`.grg .more rect{fill:none;stroke-dasharray:4 3}` +
	`.grg a:hover rect,.grg a:focus-visible rect{stroke:var(--g-a);stroke-width:2px}` +
	`.grg a:hover .l{text-decoration:underline}` +
	`.grg .k{font-size:10.5px;fill:var(--g-m)}` +
	`.grg .l{font-size:13px;fill:var(--g-f)}` +
	`.grg .root .l{font-weight:600}` +
	`.grg .more .l{fill:var(--g-m)}` +
	`.grg .e path{fill:none;stroke:var(--g-m);stroke-width:1.2px}` +
	`.grg .e.more path{stroke-dasharray:4 3}` +
	`.grg .e text{font-size:11px;fill:var(--g-m);text-anchor:middle;paint-order:stroke;stroke:var(--g-s);stroke-width:4px;stroke-linejoin:round}` +
	`.grg .ah{fill:var(--g-m)}` +
	`.grg .cl{fill:color-mix(in srgb,var(--g-m) 7%,transparent);stroke:var(--g-b);stroke-dasharray:2 3}`

// draw writes the SVG of the laid out picture.
func draw(m *model, p *picture, nonce string) []byte {
	b := &svgBuf{buf: make([]byte, 0, 4096+600*len(m.nodes)+300*len(p.edges))}
	rootLabel := clean(labelOf(m.nodes[root].Node))

	// Ids must be unique in the page: derive them from what is drawn.
	h := fnv.New64a()
	h.Write([]byte(m.nodes[root].Ref))
	h.Write([]byte{0, byte(len(m.nodes)), byte(len(m.edges))})
	h.Write(strconv.AppendFloat(nil, p.w*1000+p.h, 'f', 1, 64))
	id := "grg-" + strconv.FormatUint(h.Sum64()&0xffffffffff, 36)

	// role="group" with aria-label rather than role="img": an img's content
	// is presentational, which would hide the node links from screen readers
	// and keyboard users' assistive tech; a labelled group is announced as
	// "Relations of X" and lets them move through the links inside.
	b.s(`<svg xmlns="http://www.w3.org/2000/svg" id="`).s(id).s(`" class="grg" width="100%" viewBox="0 0 `)
	b.num(p.w).s(" ").num(p.h).s(`" preserveAspectRatio="xMidYMin meet" role="group" aria-label="Relations of `).esc(rootLabel).s(`">`)
	b.s(`<style`)
	if nonce != "" {
		b.s(` nonce="`).esc(nonce).s(`"`)
	}
	// max-width: as wide as the container but never blown up beyond the
	// natural size (a lone root would otherwise fill the page).
	b.s(`>`).s(style).s(`#`).s(id).s(`{max-width:`).num(math.Ceil(p.w)).s(`px}</style>`)
	b.s(`<defs><marker id="`).s(id).s(`-a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto"><path class="ah" d="M0 1L10 5L0 9z"/></marker>`)
	b.s(`<clipPath id="`).s(id).s(`-c"><rect x="2" width="`).num(nodeW - 4).s(`" height="`).num(nodeH).s(`"/></clipPath></defs>`)

	// Edges first, under the boxes.
	b.s(`<g class="es">`)
	for i := range p.edges {
		le := &p.edges[i]
		b.s(`<g class="e`)
		if isMore(m, &p.items[le.from]) || isMore(m, &p.items[le.to]) {
			b.s(` more`)
		}
		b.s(`"><title>`).esc(p.itemName(m, le.from)).s(" ")
		if le.label != "" {
			b.esc(le.label).s(" ")
		} else {
			b.s("→ ")
		}
		b.esc(p.itemName(m, le.to)).s(`</title><path d="M`).num(le.start.x).s(" ").num(le.start.y)
		for _, s := range le.segs {
			if s.curve {
				b.s("C").num(s.c1.x).s(" ").num(s.c1.y).s(" ").num(s.c2.x).s(" ").num(s.c2.y).s(" ")
			} else {
				b.s("L")
			}
			b.num(s.p.x).s(" ").num(s.p.y)
		}
		b.s(`" marker-end="url(#`).s(id).s(`-a)"/>`)
		if le.text != "" && le.labelSeg >= 0 {
			b.s(`<text x="`).num(le.lab.x).s(`" y="`).num(le.lab.y + edgeFont*0.35).s(`" aria-hidden="true">`).esc(le.text).s(`</text>`)
		}
		b.s(`</g>`)
	}
	b.s(`</g>`)

	// Cluster frames.
	first := true
	for _, it := range p.items {
		if it.cols == 0 {
			continue
		}
		if first {
			b.s(`<g class="cls">`)
			first = false
		}
		b.s(`<rect class="cl" x="`).num(it.x).s(`" y="`).num(it.y - it.h/2).s(`" width="`).num(it.w).s(`" height="`).num(it.h).s(`" rx="10"/>`)
		if it.head != "" {
			b.s(`<text class="k" x="`).num(it.x + clusterPad).s(`" y="`).num(it.y - it.h/2 + clusterPad + 11).s(`">`).esc(fit(clean(it.head), kindFont, it.w-2*clusterPad)).s(`</text>`)
		}
	}
	if !first {
		b.s(`</g>`)
	}

	// Boxes, in visit order (root first).
	b.s(`<g class="ns">`)
	for _, it := range p.items {
		for _, nd := range it.nodes {
			p.drawNode(b, m, nd, id)
		}
	}
	b.s(`</g></svg>`)
	return b.buf
}

// isMore reports whether it is a lone indicator node.
func isMore(m *model, it *item) bool {
	return it.cols == 0 && len(it.nodes) == 1 && m.nodes[it.nodes[0]].More > 0
}

// itemName is how an edge's title names one end.
func (p *picture) itemName(m *model, i int) string {
	it := &p.items[i]
	if it.cols == 0 {
		return clean(labelOf(m.nodes[it.nodes[0]].Node))
	}
	n := 0
	for _, nd := range it.nodes {
		n += max(1, m.nodes[nd].More)
	}
	return thousands(n) + " entities"
}

func (p *picture) drawNode(b *svgBuf, m *model, nd int, id string) {
	n := m.nodes[nd].Node
	box := p.box[nd]
	kind := clean(kindOf(n))
	label := clean(labelOf(n))
	href := ""
	if n.More == 0 {
		href = safeHref(n.Href)
	}
	b.s(`<g class="n`)
	if c := kindClass(kind); c != "" {
		b.s(" k-").s(c)
	}
	if nd == root {
		b.s(" root")
	}
	if n.More > 0 {
		b.s(" more")
	}
	b.s(`" data-ref="`).esc(clean(n.Ref)).s(`" transform="translate(`).num(box.x).s(" ").num(box.y).s(`)">`)
	// SVG 2 links: <a href> is focusable and announced as a link with the
	// <title> as its name, no tabindex needed.
	if href != "" {
		b.s(`<a href="`).esc(href).s(`"`)
		if nd == root {
			b.s(` aria-current="page"`)
		}
		b.s(`>`)
	}
	b.s(`<title>`)
	switch {
	case n.More > 0:
		b.s(thousands(n.More)).s(" more related entities not shown")
	case kind != "":
		b.esc(kind).s(": ").esc(label)
	default:
		b.esc(label)
	}
	b.s(`</title><rect width="`).num(box.w).s(`" height="`).num(box.h).s(`" rx="6"/>`)
	room := nodeW - 2*padX
	if nd == root {
		room /= 1.08 // bold
	}
	switch {
	case p.compact[nd]:
		b.s(`<text class="l" x="`).num(padX).s(`" y="`).num(box.h/2 + labelFont*0.35).s(`"`)
	case kind != "":
		b.s(`<text class="k" x="`).num(padX).s(`" y="17">`).esc(fit(kind, kindFont, room)).s(`</text>`)
		b.s(`<text class="l" x="`).num(padX).s(`" y="34"`)
	default:
		b.s(`<text class="l" x="`).num(padX).s(`" y="27"`)
	}
	b.s(` clip-path="url(#`).s(id).s(`-c)">`).esc(fit(label, labelFont, room)).s(`</text>`)
	if href != "" {
		b.s(`</a>`)
	}
	b.s(`</g>`)
}

// kindClass turns a kind into a CSS class suffix: lower-case letters,
// digits and "-".
func kindClass(kind string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(kind) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			sb.WriteRune(r)
		default:
			sb.WriteByte('-')
		}
	}
	return sb.String()
}

// svgBuf builds the SVG text.
type svgBuf struct{ buf []byte }

func (b *svgBuf) s(s string) *svgBuf {
	b.buf = append(b.buf, s...)
	return b
}

// num writes v rounded to 0.1.
func (b *svgBuf) num(v float64) *svgBuf {
	t := int64(math.Round(v * 10))
	if t < 0 {
		b.buf = append(b.buf, '-')
		t = -t
	}
	b.buf = strconv.AppendInt(b.buf, t/10, 10)
	if d := t % 10; d != 0 {
		b.buf = append(b.buf, '.', byte('0'+d))
	}
	return b
}

// esc writes s escaped for XML text and attribute values (the same rules
// hold in HTML): & < > " ' become references. s must be clean.
func (b *svgBuf) esc(s string) *svgBuf {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&#34;"
		case '\'':
			rep = "&#39;"
		default:
			continue
		}
		b.buf = append(b.buf, s[last:i]...)
		b.buf = append(b.buf, rep...)
		last = i + 1
	}
	b.buf = append(b.buf, s[last:]...)
	return b
}
