package markdown

import (
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// nodeRenderer renders the nodes added by this package and overrides
// goldmark's renderers for headings (ids + permalinks), code blocks
// (chroma), links and images (resolved targets, attr_list) and raw HTML
// (rewritten targets). It is stateless: everything per page was put on the
// AST by the transformer.
type nodeRenderer struct{}

func (r nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindAdmonition, r.admonition)
	reg.Register(kindTitle, r.title)
	reg.Register(kindTabSet, r.tabSet)
	reg.Register(kindTabLabels, r.tabLabels)
	reg.Register(kindTabContent, r.tabContent)
	reg.Register(kindTab, r.tab)
	reg.Register(kindAbbrDef, r.nothing)
	reg.Register(kindAbbr, r.abbr)
	reg.Register(kindTag, r.tag)
	reg.Register(kindKeys, r.keys)
	reg.Register(kindIcon, r.icon)
	reg.Register(ast.KindHeading, r.heading)
	reg.Register(ast.KindFencedCodeBlock, r.fencedCode)
	reg.Register(ast.KindCodeBlock, r.indentedCode)
	reg.Register(ast.KindLink, r.link)
	reg.Register(ast.KindImage, r.image)
	reg.Register(ast.KindHTMLBlock, r.htmlBlock)
	reg.Register(ast.KindRawHTML, r.rawHTML)
}

func (nodeRenderer) nothing(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	return ast.WalkSkipChildren, nil
}

func writeAttr(w util.BufWriter, name, value string) {
	_ = w.WriteByte(' ')
	_, _ = w.WriteString(name)
	_, _ = w.WriteString(`="`)
	writeEscaped(w, value)
	_ = w.WriteByte('"')
}

func (nodeRenderer) admonition(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*admonitionNode)
	tag := "div"
	if n.collapsible {
		tag = "details"
	}
	if entering {
		_, _ = w.WriteString("<" + tag)
		classes := make([]string, 0, len(n.classes)+1)
		classes = append(classes, "admonition")
		for _, c := range n.classes {
			classes = append(classes, sanitizeClass(c))
		}
		writeAttr(w, "class", strings.Join(classes, " "))
		if n.open {
			_, _ = w.WriteString(" open")
		}
		_, _ = w.WriteString(">\n")
	} else {
		_, _ = w.WriteString("</" + tag + ">\n")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) title(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*titleNode)
	if n.role == roleTabLabel {
		if entering {
			_, _ = w.WriteString("<label")
			writeAttr(w, "for", n.forID)
			_ = w.WriteByte('>')
		} else {
			_, _ = w.WriteString("</label>")
		}
		return ast.WalkContinue, nil
	}
	collapsible := false
	if p, ok := n.Parent().(*admonitionNode); ok {
		collapsible = p.collapsible
	}
	switch {
	case collapsible && entering:
		_, _ = w.WriteString("<summary>")
	case collapsible:
		_, _ = w.WriteString("</summary>\n")
	case entering:
		_, _ = w.WriteString(`<p class="admonition-title">`)
	default:
		_, _ = w.WriteString("</p>\n")
	}
	return ast.WalkContinue, nil
}

// Content tabs markup (pymdownx.tabbed "alternate" style; works without
// JavaScript, see static/css/docs.css):
//
//	<div class="tabbed-set tabbed-alternate">
//	  <input type="radio" name="__tabbed_1" id="__tabbed_1_1" checked>
//	  <input type="radio" name="__tabbed_1" id="__tabbed_1_2">
//	  <div class="tabbed-labels">
//	    <label for="__tabbed_1_1">Tab 1</label>
//	    <label for="__tabbed_1_2">Tab 2</label>
//	  </div>
//	  <div class="tabbed-content">
//	    <div class="tabbed-block">…panel 1…</div>
//	    <div class="tabbed-block">…panel 2…</div>
//	  </div>
//	</div>
//
// The radio inputs are the first children of the set, in tab order, so the
// stylesheet can show panel N with
//
//	.tabbed-set > input:nth-child(N):checked ~ .tabbed-content > .tabbed-block:nth-child(N)
//
// and mark label N as selected / focused the same way. Ids are
// "__tabbed_<set>_<tab>", numbered in document order, so they are stable
// across renders of the same page. The radios form a native keyboard
// accessible group (arrow keys switch tabs); the labels are their
// accessible names. Without CSS every panel is simply shown in order.
func (nodeRenderer) tabSet(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*tabSetNode)
	if !entering {
		_, _ = w.WriteString("</div>\n")
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString(`<div class="tabbed-set tabbed-alternate">` + "\n")
	name := "__tabbed_" + strconv.Itoa(n.id)
	for i := 1; i <= n.count; i++ {
		_, _ = w.WriteString(`<input type="radio" name="` + name + `" id="` + name + "_" + strconv.Itoa(i) + `"`)
		if i == n.checked {
			_, _ = w.WriteString(" checked")
		}
		_, _ = w.WriteString(">\n")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) tabLabels(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString(`<div class="tabbed-labels">`)
	} else {
		_, _ = w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) tabContent(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString(`<div class="tabbed-content">` + "\n")
	} else {
		_, _ = w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) tab(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString(`<div class="tabbed-block">` + "\n")
	} else {
		_, _ = w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) abbr(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*abbrNode)
	if entering {
		_, _ = w.WriteString("<abbr")
		if n.title != "" {
			writeAttr(w, "title", n.title)
		}
		_ = w.WriteByte('>')
	} else {
		_, _ = w.WriteString("</abbr>")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) tag(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*tagNode)
	if entering {
		_, _ = w.WriteString("<" + n.tag + ">")
	} else {
		_, _ = w.WriteString("</" + n.tag + ">")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) keys(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*keysNode)
	_, _ = w.WriteString(`<span class="keys">`)
	for i, k := range n.keys {
		if i > 0 {
			_, _ = w.WriteString(`<span class="keys-sep">+</span>`)
		}
		_, _ = w.WriteString(`<kbd class="key-` + sanitizeClass(strings.ToLower(k)) + `">`)
		writeEscaped(w, keyLabel(k))
		_, _ = w.WriteString(`</kbd>`)
	}
	_, _ = w.WriteString(`</span>`)
	return ast.WalkSkipChildren, nil
}

// icon renders a mkdocs-material icon shortcode, which we have no SVGs for,
// as a labelled span keeping the shortcode text.
func (nodeRenderer) icon(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*iconNode)
	_, _ = w.WriteString(`<span class="icon"`)
	writeAttr(w, "title", n.name)
	_ = w.WriteByte('>')
	writeEscaped(w, ":"+n.name+":")
	_, _ = w.WriteString(`</span>`)
	return ast.WalkSkipChildren, nil
}

func (nodeRenderer) heading(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	level := strconv.Itoa(n.Level)
	if entering {
		_, _ = w.WriteString("<h" + level)
		if n.Attributes() != nil {
			html.RenderAttributes(w, n, html.HeadingAttributeFilter)
		}
		_ = w.WriteByte('>')
		return ast.WalkContinue, nil
	}
	if v, ok := n.AttributeString("id"); ok {
		if id, ok := v.([]byte); ok && len(id) > 0 {
			_, _ = w.WriteString(`<a class="headerlink" href="#`)
			_, _ = w.Write(util.EscapeHTML(util.URLEscape(id, false)))
			_, _ = w.WriteString(`" title="Permanent link">¶</a>`)
		}
	}
	_, _ = w.WriteString("</h" + level + ">\n")
	return ast.WalkContinue, nil
}

// writeTrusted writes the placeholder the transformer left for a code block
// (see transformer.trust) and reports whether there was one.
func writeTrusted(w util.BufWriter, n ast.Node) bool {
	v, ok := n.AttributeString(attrTrusted)
	if !ok {
		return false
	}
	_, _ = w.Write(v.([]byte))
	_ = w.WriteByte('\n')
	return true
}

func (nodeRenderer) fencedCode(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering && !writeTrusted(w, node) {
		n := node.(*ast.FencedCodeBlock)
		renderCode(w, parseInfo(fenceInfo(n, source)), codeLines(n, source))
	}
	return ast.WalkSkipChildren, nil
}

func (nodeRenderer) indentedCode(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering && !writeTrusted(w, node) {
		renderCode(w, codeInfo{}, codeLines(node, source))
	}
	return ast.WalkSkipChildren, nil
}

func (nodeRenderer) link(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	if !entering {
		_, _ = w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString("<a")
	if len(n.Destination) > 0 {
		_, _ = w.WriteString(` href="`)
		_, _ = w.Write(util.EscapeHTML(n.Destination))
		_ = w.WriteByte('"')
	}
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	if n.Attributes() != nil {
		html.RenderAttributes(w, n, html.LinkAttributeFilter)
	}
	_ = w.WriteByte('>')
	return ast.WalkContinue, nil
}

func (nodeRenderer) image(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	_, _ = w.WriteString("<img")
	if len(n.Destination) > 0 {
		_, _ = w.WriteString(` src="`)
		_, _ = w.Write(util.EscapeHTML(n.Destination))
		_ = w.WriteByte('"')
	}
	writeAttr(w, "alt", inlineText(n, source))
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	if n.Attributes() != nil {
		html.RenderAttributes(w, n, html.ImageAttributeFilter)
	}
	if _, ok := n.AttributeString("loading"); !ok {
		_, _ = w.WriteString(` loading="lazy"`)
	}
	_ = w.WriteByte('>')
	return ast.WalkSkipChildren, nil
}

// htmlBlockBytes returns the raw HTML of a block as goldmark would write it.
func htmlBlockBytes(n *ast.HTMLBlock, source []byte) []byte {
	var b []byte
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b = append(b, seg.Value(source)...)
	}
	if n.HasClosure() {
		b = append(b, n.ClosureLine.Value(source)...)
	}
	return b
}

func rawHTMLBytes(n *ast.RawHTML, source []byte) []byte {
	var b []byte
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		b = append(b, seg.Value(source)...)
	}
	return b
}

func (nodeRenderer) htmlBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*ast.HTMLBlock)
		if v, ok := n.AttributeString(attrRawHTML); ok {
			_, _ = w.Write(v.([]byte))
		} else {
			_, _ = w.Write(htmlBlockBytes(n, source))
		}
	}
	return ast.WalkSkipChildren, nil
}

func (nodeRenderer) rawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*ast.RawHTML)
		if v, ok := n.AttributeString(attrRawHTML); ok {
			_, _ = w.Write(v.([]byte))
		} else {
			_, _ = w.Write(rawHTMLBytes(n, source))
		}
	}
	return ast.WalkSkipChildren, nil
}
