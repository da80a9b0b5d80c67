package graph

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

func render(t testing.TB, g Graph) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(g).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// wellFormed parses s as XML and returns the text of every <title>.
func wellFormed(t *testing.T, s string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var titles []string
	inTitle := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inTitle = tok.Name.Local == "title"
			if inTitle {
				titles = append(titles, "")
			}
		case xml.CharData:
			if inTitle {
				titles[len(titles)-1] += string(tok)
			}
		case xml.EndElement:
			inTitle = false
		}
	}
	return titles
}

func shuffled(g Graph, seed int64) Graph {
	r := rand.New(rand.NewSource(seed))
	out := Graph{Root: g.Root, Nodes: append([]Node(nil), g.Nodes...), Edges: append([]Edge(nil), g.Edges...)}
	r.Shuffle(len(out.Nodes), func(i, j int) { out.Nodes[i], out.Nodes[j] = out.Nodes[j], out.Nodes[i] })
	r.Shuffle(len(out.Edges), func(i, j int) { out.Edges[i], out.Edges[j] = out.Edges[j], out.Edges[i] })
	return out
}

func TestDeterministic(t *testing.T) {
	for name, g := range map[string]Graph{
		"sample": sample(),
		"group":  Limit(bigGroup(2000), DefaultMaxNodes, 2),
		"bench":  benchGraph(),
	} {
		a, b := render(t, g), render(t, g)
		if a != b {
			t.Errorf("%s: two renders differ", name)
		}
		// The input order does not matter either.
		for seed := int64(1); seed <= 5; seed++ {
			if c := render(t, shuffled(g, seed)); c != a {
				t.Errorf("%s: render of shuffled input (seed %d) differs", name, seed)
			}
		}
		wellFormed(t, a)
	}
}

// checkPicture checks the geometry of a laid out graph: no box overlaps
// another box or a cluster frame, labels overlap neither boxes nor each
// other, arrows end on the border of their target and cross no box, and
// everything is inside the viewBox.
func checkPicture(t *testing.T, name string, m *model, p *picture) {
	t.Helper()
	var boxes []rect
	for i, b := range p.box {
		if b.w <= 0 || b.h <= 0 {
			t.Fatalf("%s: node %s has no box", name, m.nodes[i].Ref)
		}
		boxes = append(boxes, b)
	}
	for i := range boxes {
		for j := i + 1; j < len(boxes); j++ {
			if boxes[i].overlaps(boxes[j]) {
				t.Errorf("%s: boxes of %s %v and %s %v overlap", name, m.nodes[i].Ref, boxes[i], m.nodes[j].Ref, boxes[j])
			}
		}
	}
	var frames []rect // every item's outline
	for i, it := range p.items {
		if it.dummy() {
			continue
		}
		f := rect{it.x, it.y - it.h/2, it.w, it.h}
		frames = append(frames, f)
		for j, jt := range p.items {
			if j > i && !jt.dummy() && f.overlaps(rect{jt.x, jt.y - jt.h/2, jt.w, jt.h}) {
				t.Errorf("%s: items %d and %d overlap", name, i, j)
			}
		}
	}
	inside := func(r rect) bool {
		return r.x >= -0.01 && r.y >= -0.01 && r.x+r.w <= p.w+0.01 && r.y+r.h <= p.h+0.01
	}
	for _, f := range frames {
		if !inside(f) {
			t.Errorf("%s: item %v outside the viewBox %gx%g", name, f, p.w, p.h)
		}
	}
	var labels []rect
	for i := range p.edges {
		le := &p.edges[i]
		if le.text == "" || le.labelSeg < 0 {
			continue
		}
		lb := p.labelBox(le)
		if !inside(lb) {
			t.Errorf("%s: label %q at %v outside the viewBox", name, le.text, lb)
		}
		for _, f := range frames {
			if lb.overlaps(f) {
				t.Errorf("%s: label %q %v overlaps a box %v", name, le.text, lb, f)
			}
		}
		for j, o := range labels {
			if lb.overlaps(o) {
				t.Errorf("%s: label %q %v (gap %d) overlaps label %d %v", name, le.text, lb, le.labelGap, j, o)
			}
		}
		labels = append(labels, lb)
	}
	for i := range p.edges {
		le := &p.edges[i]
		from, to := &p.items[le.from], &p.items[le.to]
		end := le.segs[len(le.segs)-1].p
		if !(near(end.x, to.x) || near(end.x, to.x+to.w)) || end.y < to.y-to.h/2 || end.y > to.y+to.h/2 {
			t.Errorf("%s: edge %d ends at %v, not on the border of its target %v", name, i, end, rect{to.x, to.y - to.h/2, to.w, to.h})
		}
		if st := le.start; !(near(st.x, from.x) || near(st.x, from.x+from.w)) || st.y < from.y-from.h/2 || st.y > from.y+from.h/2 {
			t.Errorf("%s: edge %d starts at %v, not on the border of its source", name, i, st)
		}
		// Sample the path: it crosses no box but its ends'.
		prev := le.start
		for _, s := range le.segs {
			for k := 1; k <= 16; k++ {
				tt := float64(k) / 16
				q := pt{prev.x + (s.p.x-prev.x)*tt, prev.y + (s.p.y-prev.y)*tt}
				if s.curve {
					q = bezier(prev, s.c1, s.c2, s.p, tt)
				}
				if !inside(rect{q.x, q.y, 0, 0}) {
					t.Errorf("%s: edge %d leaves the viewBox at %v", name, i, q)
				}
				for fi, it := range p.items {
					if it.dummy() || fi == le.from || fi == le.to {
						continue
					}
					if q.x > it.x+0.5 && q.x < it.x+it.w-0.5 && q.y > it.y-it.h/2+0.5 && q.y < it.y+it.h/2-0.5 {
						t.Errorf("%s: edge %d (%s) crosses item %d at %v", name, i, le.label, fi, q)
						break
					}
				}
			}
			prev = s.p
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

func TestLayoutGeometry(t *testing.T) {
	for name, g := range map[string]Graph{
		"sample": sample(),
		"group":  Limit(bigGroup(2000), DefaultMaxNodes, 2),
		"bench":  benchGraph(),
		"root":   {Root: "component:default/x"},
	} {
		m := buildModel(g)
		checkPicture(t, name, m, layout(m))
	}
}

// TestRandomGraphs checks the layout of many random graphs: cycles, edges
// both ways, edges between nodes of one column, long edges, unconnected
// nodes, big fans that become clusters.
func TestRandomGraphs(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		g := randomGraph(seed)
		m := buildModel(g)
		checkPicture(t, fmt.Sprintf("seed %d", seed), m, layout(m))
		wellFormed(t, render(t, g))
	}
}

// randomGraph makes a random graph of up to 45 nodes plus maybe a fan of
// leaves.
func randomGraph(seed int64) Graph {
	rels := []string{"ownedBy", "ownerOf", "dependsOn", "dependencyOf", "partOf", "hasPart", "consumesApi", "apiProvidedBy", "memberOf", "parentOf", "custom"}
	kinds := []string{"Component", "API", "Group", "User", "System", "Resource"}
	{
		r := rand.New(rand.NewSource(seed))
		n := 1 + r.Intn(45)
		g := Graph{Root: "n0"}
		for i := 0; i < n; i++ {
			label := strings.Repeat("x", r.Intn(40))
			g.Nodes = append(g.Nodes, Node{Ref: fmt.Sprintf("n%d", i), Kind: kinds[r.Intn(len(kinds))], Label: label, Href: "/n"})
		}
		edges := r.Intn(2 * n)
		for i := 0; i < edges; i++ {
			a, b := r.Intn(n), r.Intn(n)
			if r.Intn(3) > 0 { // mostly a tree-ish shape around the root
				a = r.Intn(min(n, 1+i/3))
			}
			g.Edges = append(g.Edges, Edge{From: fmt.Sprintf("n%d", a), To: fmt.Sprintf("n%d", b), Label: rels[r.Intn(len(rels))]})
		}
		if r.Intn(4) == 0 { // a fan of leaves
			for i := 0; i < 10+r.Intn(20); i++ {
				ref := fmt.Sprintf("leaf%d", i)
				g.Nodes = append(g.Nodes, Node{Ref: ref, Kind: "Component"})
				g.Edges = append(g.Edges, Edge{From: ref, To: "n0", Label: "ownedBy"})
			}
		}
		return g
	}
}

func TestInverseMerged(t *testing.T) {
	pairs := [][2]string{
		{"ownedBy", "ownerOf"}, {"providesApi", "apiProvidedBy"}, {"consumesApi", "apiConsumedBy"},
		{"dependsOn", "dependencyOf"}, {"parentOf", "childOf"}, {"memberOf", "hasMember"}, {"partOf", "hasPart"},
	}
	for _, p := range pairs {
		g := Graph{
			Root:  "a",
			Nodes: []Node{{Ref: "a", Label: "A"}, {Ref: "b", Label: "B"}},
			Edges: []Edge{{From: "a", To: "b", Label: p[0]}, {From: "b", To: "a", Label: p[1]}, {From: "a", To: "b", Label: p[0]}},
		}
		s := render(t, g)
		if n := strings.Count(s, `<g class="e"`); n != 1 {
			t.Errorf("%s/%s: %d edges drawn, want 1", p[0], p[1], n)
		}
		titles := wellFormed(t, s)
		if !containsString(titles, "A "+p[0]+" B") {
			t.Errorf("%s/%s: no edge titled %q in %q", p[0], p[1], "A "+p[0]+" B", titles)
		}
		if strings.Contains(s, ">"+p[1]+"<") {
			t.Errorf("%s/%s: inverse label printed", p[0], p[1])
		}
		// Only the inverse: the arrow still points the forward way.
		g.Edges = []Edge{{From: "b", To: "a", Label: p[1]}}
		m := buildModel(g)
		if len(m.edges) != 1 || m.nodes[m.edges[0].from].Ref != "a" || m.edges[0].label() != p[0] {
			t.Errorf("%s/%s: inverse alone gives %+v", p[0], p[1], m.edges)
		}
	}
	// The root points at b: b is right of it.
	m := buildModel(Graph{Root: "a", Edges: []Edge{{From: "b", To: "a", Label: "ownerOf"}, {From: "c", To: "a", Label: "ownedBy"}}})
	p := layout(m)
	a, b, c := p.box[m.index["a"]], p.box[m.index["b"]], p.box[m.index["c"]]
	if !(b.x > a.x && c.x < a.x) {
		t.Errorf("a ownedBy b should put b right of a, c left: a %v b %v c %v", a, b, c)
	}
	// Different relations one way merge into one labelled arrow; the
	// opposite way is its own arrow.
	s := render(t, Graph{Root: "a", Edges: []Edge{{"a", "b", "dependsOn"}, {"a", "b", "consumesApi"}, {"b", "a", "dependsOn"}}})
	if n := strings.Count(s, `<g class="e"`); n != 2 {
		t.Errorf("%d edges drawn, want 2", n)
	}
	if !strings.Contains(s, ">consumesApi, dependsOn<") {
		t.Errorf("merged label missing:\n%s", s)
	}
}

func TestEscaping(t *testing.T) {
	evil := `<script>alert("x")</script> & 'quotes' ]]> <![CDATA[`
	g := Graph{
		Root: `component:default/"><script>`,
		Nodes: []Node{
			{Ref: `component:default/"><script>`, Kind: `<b>Kind</b>`, Label: evil, Href: "/catalog/a?x=1&y=2"},
			{Ref: "b", Kind: "API", Label: "bad\x00\x1b\ufffe\xff label\nnext", Href: "javascript:alert(1)"},
			{Ref: "c", Label: "c", Href: "//evil.example"},
			{Ref: "d", Label: "d", Href: `/\evil.example`},
			{Ref: "e", Label: "e", Href: "https://evil.example/"},
			{Ref: "f", Label: "f", Href: "/\t/evil.example"},
			{Ref: "g", Label: "g", Href: " /x"},
			{Ref: "h", Label: "h", Href: "/catalog/default/component/h"},
		},
	}
	for _, n := range g.Nodes[1:] {
		g.Edges = append(g.Edges, Edge{From: g.Root, To: n.Ref, Label: `</title><script>x</script>"`})
	}
	s := render(t, g)
	titles := wellFormed(t, s)
	for _, bad := range []string{"<script", "<b>", "javascript:", "//evil", `\evil`, "https:", "\x00", "\x1b", "<![CDATA[", "]]>"} {
		if strings.Contains(s, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	if !containsString(titles, "<b>Kind</b>: "+evil) {
		t.Errorf("root title does not round-trip: %q", titles)
	}
	if !strings.Contains(s, `aria-label="Relations of &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quotes&#39; ]]&gt;`) {
		t.Errorf("aria-label not escaped:\n%s", s)
	}
	hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(s, -1)
	var got []string
	for _, h := range hrefs {
		got = append(got, h[1])
	}
	if want := []string{"/catalog/a?x=1&amp;y=2", "/catalog/default/component/h"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hrefs = %q, want %q", got, want)
	}
	if n := strings.Count(s, "<a "); n != 2 {
		t.Errorf("%d links, want 2", n)
	}
	if !strings.Contains(s, `data-ref="component:default/&#34;&gt;&lt;script&gt;"`) {
		t.Error("data-ref not escaped")
	}
	// The CSP nonce is escaped too.
	var b bytes.Buffer
	if err := write(&b, g, `n"><x`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<style nonce="n&#34;&gt;&lt;x">`) {
		t.Error("nonce not escaped")
	}
}

func TestSafeHref(t *testing.T) {
	for href, ok := range map[string]bool{
		"/catalog/default/component/x": true,
		"/":                            true,
		"/a?b=c&d=%20#f":               true,
		"":                             false,
		"javascript:alert(1)":          false,
		"JAVASCRIPT:alert(1)":          false,
		"//evil.example":               false,
		`/\evil.example`:               false,
		"/\t/evil":                     false,
		"/\n/evil":                     false,
		"/a b":                         false,
		"https://x.example":            false,
		"data:text/html,x":             false,
		"catalog/x":                    false,
		" /x":                          false,
	} {
		if got := safeHref(href) != ""; got != ok {
			t.Errorf("safeHref(%q) kept = %v, want %v", href, got, ok)
		}
	}
}

func TestRootOnly(t *testing.T) {
	for _, g := range []Graph{
		{Root: "component:default/lonely"},
		{Root: "component:default/lonely", Nodes: []Node{{Ref: "component:default/lonely", Kind: "Component", Label: "Lonely", Href: "/catalog/default/component/lonely"}}},
		{Nodes: []Node{{Ref: "component:default/lonely"}}},
	} {
		s := render(t, g)
		wellFormed(t, s)
		if n := nodeCount(s); n != 1 {
			t.Errorf("%d nodes drawn, want 1", n)
		}
		if strings.Contains(s, `<g class="e"`) {
			t.Error("edges drawn")
		}
		if !strings.Contains(s, `data-ref="component:default/lonely"`) || !strings.Contains(s, ` root"`) {
			t.Errorf("root missing:\n%s", s)
		}
		m := buildModel(g)
		if p := layout(m); p.w > 300 || p.h > 100 {
			t.Errorf("root alone takes %gx%g", p.w, p.h)
		}
	}
	if s := render(t, Graph{}); s != "" {
		t.Errorf("empty graph renders %q", s)
	}
}

func TestMarkup(t *testing.T) {
	s := render(t, sample())
	for _, want := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" id="grg-`,
		` width="100%" viewBox="0 0 `,
		`preserveAspectRatio="xMidYMin meet" role="group" aria-label="Relations of Orders Service"`,
		`<marker id="grg-`,
		`var(--surface,var(--bg,#fff))`, `var(--fg,`, `var(--muted,`, `var(--border,`, `var(--accent,`,
		`<g class="n k-component root" data-ref="component:default/orders-service"`,
		`<a href="/catalog/default/component/orders-service" aria-current="page"><title>Component: Orders Service</title>`,
		`<g class="n k-api" data-ref="api:default/inventory-api"`,
		`<title>API: Inventory API (gRPC, internal, v2 — deprecated)</title>`,
		`…</text>`,
		`<title>Orders Service ownedBy Checkout Team</title>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Every node is a group with a data-ref, every link inside one.
	if n, want := strings.Count(s, `data-ref="`), len(sample().Nodes); n != want {
		t.Errorf("%d data-refs, want %d", n, want)
	}
	if n, want := strings.Count(s, `<a href="/catalog/`), len(sample().Nodes); n != want {
		t.Errorf("%d links, want %d", n, want)
	}
	// The viewBox is the content's size.
	var w, h float64
	if _, err := fmt.Sscanf(s[strings.Index(s, `viewBox="`):], `viewBox="0 0 %g %g"`, &w, &h); err != nil {
		t.Fatal(err)
	}
	m := buildModel(sample())
	p := layout(m)
	if math.Abs(w-p.w) > 0.1 || math.Abs(h-p.h) > 0.1 {
		t.Errorf("viewBox %gx%g, picture %gx%g", w, h, p.w, p.h)
	}
	for _, b := range p.box {
		if b.x < 0 || b.y < 0 || b.x+b.w > w || b.y+b.h > h {
			t.Errorf("box %v outside the viewBox", b)
		}
	}
}

func TestPAV(t *testing.T) {
	got := pav([]float64{0, 0, 0, 10}, []float64{0, 4, 4, 4})
	want := []float64{-4, 0, 4, 10}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Fatalf("pav = %v, want %v", got, want)
		}
	}
}

func TestTextFit(t *testing.T) {
	if s := fit("short", labelFont, 152); s != "short" {
		t.Errorf("fit shortened %q", s)
	}
	long := strings.Repeat("WideLabel ", 10)
	s := fit(long, labelFont, 152)
	if !strings.HasSuffix(s, "…") || textWidth(s, labelFont) > 152 {
		t.Errorf("fit(%q) = %q (%gpx)", long, s, textWidth(s, labelFont))
	}
	if got := thousands(1977); got != "1,977" {
		t.Errorf("thousands = %q", got)
	}
	if got := thousands(1234567); got != "1,234,567" {
		t.Errorf("thousands = %q", got)
	}
}

// benchGraph is a 40-node two-hop neighbourhood without big fans: the slow
// case for the layout (no clusters, many crossings to reduce).
func benchGraph() Graph {
	g := Graph{Root: "component:default/root", Nodes: []Node{{Ref: "component:default/root", Kind: "Component", Label: "Root", Href: "/catalog/default/component/root"}}}
	rels := []string{"ownedBy", "dependsOn", "consumesApi", "partOf", "ownerOf", "dependencyOf", "hasPart", "apiConsumedBy"}
	for i := 0; i < 8; i++ {
		h1 := fmt.Sprintf("component:default/h1-%d", i)
		g.Nodes = append(g.Nodes, Node{Ref: h1, Kind: "Component", Label: fmt.Sprintf("First hop service number %d", i), Href: "/catalog/default/component/h1-" + fmt.Sprint(i)})
		g.Edges = append(g.Edges, Edge{From: g.Root, To: h1, Label: rels[i]})
		for j := 0; j < 4; j++ {
			h2 := fmt.Sprintf("api:default/h2-%d-%d", i, j)
			g.Nodes = append(g.Nodes, Node{Ref: h2, Kind: "API", Label: fmt.Sprintf("api %d.%d", i, j), Href: "/catalog/default/api/" + fmt.Sprint(i, j)})
			g.Edges = append(g.Edges, Edge{From: h1, To: h2, Label: rels[(i+j)%len(rels)]})
			// Cross links make crossings to reduce.
			g.Edges = append(g.Edges, Edge{From: fmt.Sprintf("component:default/h1-%d", (i+j+3)%8), To: h2, Label: "dependsOn"})
		}
	}
	return Limit(g, DefaultMaxNodes, 2)
}

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name string
		g    Graph
	}{
		{"mixed40", benchGraph()},
		{"group40", Limit(bigGroup(2000), DefaultMaxNodes, 2)},
		{"sample16", sample()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			ctx := context.Background()
			c := Render(bc.g)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf.Reset()
				if err := c.Render(ctx, &buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "svg-bytes")
			b.ReportMetric(float64(len(bc.g.Nodes)), "nodes")
		})
	}
}

func BenchmarkLimit(b *testing.B) {
	g := bigGroup(2000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Limit(g, DefaultMaxNodes, 2)
	}
}

func nodeCount(s string) int {
	return len(regexp.MustCompile(`<g class="n[ "]`).FindAllStringIndex(s, -1))
}
