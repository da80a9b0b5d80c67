package markdown

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// transformer post-processes the parsed AST of one page: it groups tabs,
// applies abbreviations, resolves links, assigns heading ids and collects
// what Result reports. The renderer then only reads the AST.
type transformer struct {
	source     []byte
	pc         parser.Context
	opts       Options
	res        *Result
	brokenSeen map[string]bool
	abbrs      []abbrEntry
	heads      []*ast.Heading
	tabSets    int

	rawStacks     map[ast.Node][]string // open raw HTML elements, per container
	rawUnbalanced bool                  // the raw HTML does not nest: normalise the output
	nonce         string                // unguessable part of trusted-fragment placeholders
	jobs          []codeJob             // code blocks to render, see trust
	trusted       []string              // their HTML, by placeholder index
}

type abbrEntry struct {
	abbr  []byte
	title string
}

func newTransformer(source []byte, pc parser.Context, opts Options, res *Result) *transformer {
	return &transformer{
		source:     source,
		pc:         pc,
		opts:       opts,
		res:        res,
		brokenSeen: map[string]bool{},
		rawStacks:  map[ast.Node][]string{},
	}
}

func (t *transformer) run(doc ast.Node) {
	t.structure(doc)
	t.finishAbbrs()
	t.visitChildren(doc, false)
	for _, stack := range t.rawStacks {
		if len(stack) > 0 {
			t.rawUnbalanced = true
		}
	}
	t.assignHeadingIDs()
}

// ---------------------------------------------------------------------------
// Pass 1: block structure

func (t *transformer) structure(n ast.Node) {
	t.groupTabs(n)
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		switch v := c.(type) {
		case *abbrDefNode:
			t.abbrs = append(t.abbrs, abbrEntry{abbr: []byte(v.abbr), title: v.title})
			n.RemoveChild(n, c)
		case *titleNode:
			if v.fallback != "" && v.FirstChild() == nil {
				v.AppendChild(v, ast.NewString([]byte(v.fallback)))
			}
		case *ast.Blockquote:
			if a := t.githubAlert(v); a != nil {
				t.structure(a)
			} else {
				t.structure(v)
			}
		default:
			if c.Type() == ast.TypeBlock || c.Type() == ast.TypeDocument {
				t.structure(c)
			}
		}
		c = next
	}
}

// groupTabs replaces each run of consecutive tabNode children of n by a
// tabSetNode (labels first, then panels; see nodeRenderer.tabSet).
func (t *transformer) groupTabs(n ast.Node) {
	if _, ok := n.(*tabContentNode); ok {
		return // already grouped: these tabs are the panels of a set
	}
	for c := n.FirstChild(); c != nil; {
		first, ok := c.(*tabNode)
		if !ok {
			c = c.NextSibling()
			continue
		}
		run := []*tabNode{first}
		for x := first.NextSibling(); x != nil; x = x.NextSibling() {
			tx, ok := x.(*tabNode)
			if !ok || tx.newSet {
				break
			}
			run = append(run, tx)
		}
		next := run[len(run)-1].NextSibling()
		t.tabSets++
		set := &tabSetNode{id: t.tabSets, count: len(run), checked: 1}
		labels := &tabLabelsNode{}
		content := &tabContentNode{}
		n.InsertBefore(n, first, set)
		selected := false
		for i, tb := range run {
			if tb.selected && !selected {
				set.checked = i + 1
				selected = true
			}
			n.RemoveChild(n, tb)
			if lbl, ok := tb.FirstChild().(*titleNode); ok && lbl.role == roleTabLabel {
				tb.RemoveChild(tb, lbl)
				lbl.forID = "__tabbed_" + strconv.Itoa(set.id) + "_" + strconv.Itoa(i+1)
				labels.AppendChild(labels, lbl)
			}
			content.AppendChild(content, tb)
		}
		set.AppendChild(set, labels)
		set.AppendChild(set, content)
		c = next
	}
}

// githubAlerts maps GitHub alert markers (> [!NOTE]) to admonition types.
var githubAlerts = map[string]string{
	"note": "note", "tip": "tip", "important": "important", "warning": "warning", "caution": "caution",
}

// githubAlert turns a `> [!NOTE]` block quote into a note admonition, so
// pages written for GitHub render as intended. Returns nil otherwise.
func (t *transformer) githubAlert(bq *ast.Blockquote) ast.Node {
	p, ok := bq.FirstChild().(*ast.Paragraph)
	if !ok || p.Lines().Len() == 0 {
		return nil
	}
	first := p.Lines().At(0)
	line := strings.TrimSpace(string(first.Value(t.source)))
	if len(line) < 5 || line[0] != '[' || line[1] != '!' || line[len(line)-1] != ']' {
		return nil
	}
	typ, ok := githubAlerts[strings.ToLower(line[2:len(line)-1])]
	if !ok {
		return nil
	}
	// drop the marker line from the paragraph
	for c := p.FirstChild(); c != nil; {
		next := c.NextSibling()
		tx, ok := c.(*ast.Text)
		if !ok || tx.Segment.Start >= first.Stop {
			break
		}
		p.RemoveChild(p, c)
		c = next
	}
	if p.FirstChild() == nil {
		bq.RemoveChild(bq, p)
	}
	adm := &admonitionNode{classes: []string{typ}}
	title := &titleNode{role: roleAdmonitionTitle}
	title.AppendChild(title, ast.NewString([]byte(capitalize(typ))))
	adm.AppendChild(adm, title)
	for c := bq.FirstChild(); c != nil; {
		next := c.NextSibling()
		adm.AppendChild(adm, c)
		c = next
	}
	parent := bq.Parent()
	parent.ReplaceChild(parent, bq, adm)
	return adm
}

// ---------------------------------------------------------------------------
// Pass 2: inline rewriting

func (t *transformer) visitChildren(n ast.Node, inCode bool) {
	for c := n.FirstChild(); c != nil; {
		c = t.visit(c, inCode)
	}
}

// visit processes one node and returns the next sibling to visit.
func (t *transformer) visit(c ast.Node, inCode bool) ast.Node {
	switch v := c.(type) {
	case *ast.Paragraph:
		t.consumeParagraphAttrList(v)
	case *ast.Heading:
		t.consumeHeadingAttrList(v)
		t.heads = append(t.heads, v)
	case *ast.Link:
		t.resolveLink(v, &v.Destination, false)
		t.consumeTrailingAttrList(v)
	case *ast.Image:
		t.resolveLink(v, &v.Destination, true)
		t.consumeTrailingAttrList(v)
	case *ast.AutoLink:
		if v.AutoLinkType == ast.AutoLinkURL {
			if s := urlScheme(cleanURL(string(v.URL(t.source)))); s != "" && !passThroughSchemes[s] {
				next := v.NextSibling()
				str := ast.NewString(append([]byte(nil), v.Label(t.source)...))
				v.Parent().ReplaceChild(v.Parent(), v, str)
				return next
			}
		}
		return v.NextSibling()
	case *ast.HTMLBlock:
		if out := t.processRawHTML(htmlBlockBytes(v, t.source), v.Parent()); out != nil {
			v.SetAttributeString(attrRawHTML, out)
		}
		return v.NextSibling()
	case *ast.RawHTML:
		if out := t.processRawHTML(rawHTMLBytes(v, t.source), v.Parent()); out != nil {
			v.SetAttributeString(attrRawHTML, out)
		}
		return v.NextSibling()
	case *ast.FencedCodeBlock:
		ci := parseInfo(fenceInfo(v, t.source))
		if ci.lang == "mermaid" {
			t.res.HasMermaid = true
		}
		t.trust(v, ci)
		return v.NextSibling()
	case *ast.CodeBlock:
		t.trust(v, codeInfo{})
		return v.NextSibling()
	case *ast.CodeSpan:
		return c.NextSibling()
	case *tagNode:
		if first := t.fixSubSup(v); first != nil {
			return first
		}
	case *ast.Text:
		next := v.NextSibling()
		if !inCode && len(t.abbrs) > 0 && !v.IsRaw() {
			t.applyAbbrs(v)
		}
		return next
	case *ast.ListItem:
		if isTaskItem(v) {
			addClass(v, "task-list-item")
			if l, ok := v.Parent().(*ast.List); ok {
				if _, has := l.AttributeString(attrClass); !has {
					addClass(l, "task-list")
				}
			}
		}
	}
	t.visitChildren(c, inCode)
	return c.NextSibling()
}

func isTaskItem(li *ast.ListItem) bool {
	if b := li.FirstChild(); b != nil {
		_, ok := b.FirstChild().(*east.TaskCheckBox)
		return ok
	}
	return false
}

// fixSubSup turns ~a b~ / ^a b^ back into text: pymdownx only makes
// sub/superscripts of content without whitespace. It returns the first
// node to visit next, or nil when v stays.
func (t *transformer) fixSubSup(v *tagNode) ast.Node {
	var ch byte
	switch v.tag {
	case "sub":
		ch = '~'
	case "sup":
		ch = '^'
	default:
		return nil
	}
	var b bytes.Buffer
	writeInlineText(&b, v, t.source)
	if !bytes.ContainsAny(b.Bytes(), " \t\n") && b.Len() > 0 {
		return nil
	}
	parent := v.Parent()
	open := ast.NewString([]byte{ch})
	parent.InsertBefore(parent, v, open)
	for c := v.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, v, c)
		c = next
	}
	parent.InsertBefore(parent, v, ast.NewString([]byte{ch}))
	parent.RemoveChild(parent, v)
	return open
}

// ---------------------------------------------------------------------------
// Abbreviations

// finishAbbrs applies Python-Markdown's rules: a later definition replaces an
// earlier one, an empty title removes the abbreviation; longer
// abbreviations win over shorter ones at the same position.
func (t *transformer) finishAbbrs() {
	if len(t.abbrs) == 0 {
		return
	}
	byName := map[string]int{}
	var out []abbrEntry
	for _, a := range t.abbrs {
		if i, ok := byName[string(a.abbr)]; ok {
			out[i].title = a.title
			continue
		}
		byName[string(a.abbr)] = len(out)
		out = append(out, a)
	}
	kept := out[:0]
	for _, a := range out {
		if a.title != "" {
			kept = append(kept, a)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return len(kept[i].abbr) > len(kept[j].abbr) })
	t.abbrs = kept
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// findAbbr returns the first abbreviation occurrence in v at or after from.
func (t *transformer) findAbbr(v []byte, from int) (start, end int, a *abbrEntry) {
	start = -1
	for i := range t.abbrs {
		ab := &t.abbrs[i]
		for off := from; off < len(v); {
			j := bytes.Index(v[off:], ab.abbr)
			if j < 0 {
				break
			}
			s, e := off+j, off+j+len(ab.abbr)
			if start >= 0 && s >= start {
				break // an earlier (or longer, same-position) match exists
			}
			if t.boundaryOK(v, s, e, ab.abbr) {
				start, end, a = s, e, ab
				break
			}
			off = s + 1
		}
	}
	return start, end, a
}

func (t *transformer) boundaryOK(v []byte, s, e int, abbr []byte) bool {
	first, _ := utf8.DecodeRune(abbr)
	last, _ := utf8.DecodeLastRune(abbr)
	if isWordRune(first) && s > 0 {
		if r, _ := utf8.DecodeLastRune(v[:s]); isWordRune(r) {
			return false
		}
	}
	if isWordRune(last) && e < len(v) {
		if r, _ := utf8.DecodeRune(v[e:]); isWordRune(r) {
			return false
		}
	}
	return true
}

// applyAbbrs splits a Text node around abbreviation occurrences.
func (t *transformer) applyAbbrs(n *ast.Text) {
	seg := n.Segment
	if seg.Padding != 0 {
		return
	}
	v := seg.Value(t.source)
	parent := n.Parent()
	cur := 0
	for {
		s, e, a := t.findAbbr(v, cur)
		if a == nil {
			break
		}
		if s > cur {
			parent.InsertBefore(parent, n, ast.NewTextSegment(text.NewSegment(seg.Start+cur, seg.Start+s)))
		}
		ab := &abbrNode{title: a.title}
		ab.AppendChild(ab, ast.NewTextSegment(text.NewSegment(seg.Start+s, seg.Start+e)))
		parent.InsertBefore(parent, n, ab)
		cur = e
		n.Segment = text.NewSegment(seg.Start+cur, seg.Stop)
	}
	if cur > 0 && n.Segment.IsEmpty() && !n.SoftLineBreak() && !n.HardLineBreak() {
		parent.RemoveChild(parent, n)
	}
}

// ---------------------------------------------------------------------------
// Headings

func attrBytes(n ast.Node, name string) []byte {
	v, ok := n.AttributeString(name)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// assignHeadingIDs gives every heading an id like mkdocs' toc extension
// (explicit `{#id}` ids are kept and reserved first) and fills Title, TOC and
// Headings.
func (t *transformer) assignHeadingIDs() {
	ids := newIDSet()
	explicit := make([]bool, len(t.heads))
	for i, h := range t.heads {
		if id := attrBytes(h, "id"); len(id) > 0 {
			ids.reserve(string(id))
			explicit[i] = true
		}
	}
	seenH1 := false
	for i, h := range t.heads {
		txt := strings.Join(strings.Fields(inlineText(h, t.source)), " ")
		var id string
		if explicit[i] {
			id = string(attrBytes(h, "id"))
		} else {
			id = ids.unique(slugify(txt))
			h.SetAttributeString("id", []byte(id))
		}
		hd := Heading{Level: h.Level, ID: id, Text: txt}
		t.res.Headings = append(t.res.Headings, hd)
		if h.Level == 1 && !seenH1 {
			seenH1 = true
			if t.res.Title == "" {
				t.res.Title = txt
			}
			continue
		}
		if h.Level <= 4 {
			t.res.TOC = append(t.res.TOC, hd)
		}
	}
}
