package markdown

import (
	"bytes"
	"regexp"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// passThroughSchemes are emitted as written, without calling ResolveLink.
var passThroughSchemes = map[string]bool{"http": true, "https": true, "mailto": true, "tel": true}

var schemeRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.\-]*):`)

// cleanURL removes what browsers ignore when parsing a URL (leading and
// trailing C0 controls and spaces, tabs and newlines anywhere), so that
// "java\tscript:" or " javascript:" are recognised for what they are.
func cleanURL(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	return s
}

// urlScheme returns the lower-cased scheme of u, or "" for a relative URL.
func urlScheme(u string) string {
	m := schemeRe.FindStringSubmatch(u)
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

// linkState says what to do with a link or image target.
type linkState int

const (
	linkOK     linkState = iota
	linkBroken           // ResolveLink refused it: render with class broken-link
	linkDrop             // unsafe scheme: render without href/src
)

// resolve maps a target found in the page to the href to emit.
func (t *transformer) resolve(target string, image bool) (string, linkState) {
	clean := cleanURL(target)
	if clean == "" {
		return "", linkOK
	}
	if scheme := urlScheme(clean); scheme != "" {
		if passThroughSchemes[scheme] {
			return clean, linkOK
		}
		return "", linkDrop
	}
	if strings.HasPrefix(clean, "//") {
		// network-path reference: an external URL without a scheme
		return clean, linkOK
	}
	if t.opts.ResolveLink == nil {
		return clean, linkOK
	}
	href, ok := t.opts.ResolveLink(target, image)
	state := linkOK
	if !ok {
		state = linkBroken
		t.addBroken(target)
	}
	href = cleanURL(href)
	if scheme := urlScheme(href); scheme != "" && !passThroughSchemes[scheme] {
		return "", linkDrop
	}
	return href, state
}

func (t *transformer) addBroken(target string) {
	if t.brokenSeen[target] {
		return
	}
	t.brokenSeen[target] = true
	t.res.Broken = append(t.res.Broken, target)
}

// decodeDestination resolves backslash escapes and character references in
// a link destination as written in the Markdown source.
func decodeDestination(dest []byte) string {
	if bytes.IndexByte(dest, '\\') < 0 && bytes.IndexByte(dest, '&') < 0 {
		return string(dest)
	}
	return string(util.UnescapePunctuations(util.ResolveNumericReferences(util.ResolveEntityNames(dest))))
}

// encodeHref percent-encodes what must be encoded in an href (spaces,
// non-ASCII) and keeps existing %XX escapes.
func encodeHref(href string) []byte {
	return util.URLEscape([]byte(href), false)
}

const (
	attrClass = "class"
	brokenCls = "broken-link"
)

func addClass(n ast.Node, class string) {
	if v, ok := n.AttributeString(attrClass); ok {
		if b, ok := v.([]byte); ok && len(b) > 0 {
			n.SetAttributeString(attrClass, append(append(append([]byte{}, b...), ' '), class...))
			return
		}
	}
	n.SetAttributeString(attrClass, []byte(class))
}

// resolveLink rewrites the destination of a Markdown link or image.
func (t *transformer) resolveLink(n ast.Node, dest *[]byte, image bool) {
	target := decodeDestination(*dest)
	href, state := t.resolve(target, image)
	switch state {
	case linkDrop:
		*dest = nil
	case linkBroken:
		addClass(n, brokenCls)
		fallthrough
	default:
		if href == "" {
			*dest = nil
		} else {
			*dest = encodeHref(href)
		}
	}
}

// attrRawHTML holds rewritten raw HTML on HTMLBlock / RawHTML nodes (their
// renderers never write attributes).
const attrRawHTML = "_gr_raw"

// voidElements never have content or an end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// rawTextElements swallow everything up to their end tag.
var rawTextElements = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true, "xmp": true, "iframe": true,
	"noembed": true, "noframes": true, "noscript": true, "plaintext": true,
}

// processRawHTML handles one piece of raw HTML (an HTML block or an inline
// tag), in document order:
//
//   - href of <a> and src of <img> are resolved like Markdown targets (best
//     effort: other tags and attributes are copied verbatim);
//   - a comment or a raw-text element (script, style, textarea, …) left open
//     at the end of the piece is closed, so it cannot swallow the rest of
//     the page;
//   - open and close tags are tracked across the pieces of one container
//     (the document, a list item, an admonition, a paragraph for inline
//     tags, …): if they do not nest there, the whole output is normalised by
//     an HTML parser before sanitizing (see sanitize). Tags opened in one
//     container and closed in another could otherwise close the page's own
//     elements once the browser has implicitly closed them.
//
// It returns nil when the piece is unchanged.
func (t *transformer) processRawHTML(raw []byte, container ast.Node) []byte {
	stack := t.rawStacks[container]
	defer func() { t.rawStacks[container] = stack }()
	z := xhtml.NewTokenizer(bytes.NewReader(raw))
	var out bytes.Buffer
	changed := false
	var lastType xhtml.TokenType
	var lastRaw []byte
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		lastType = tt
		rawTok := z.Raw()
		lastRaw = rawTok
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			rawCopy := append([]byte(nil), rawTok...)
			tok := z.Token() // (TagName would consume the name Token needs)
			if !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
			if tok.Data == "a" || tok.Data == "img" {
				if rewritten, ok := t.rewriteTarget(&tok); ok {
					out.WriteString(rewritten)
					changed = true
					lastRaw = nil
					continue
				}
			}
			out.Write(rawCopy)
			lastRaw = nil
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			out.Write(rawTok)
			if voidElements[tag] {
				continue
			}
			if n := len(stack); n > 0 && stack[n-1] == tag {
				stack = stack[:n-1]
			} else {
				t.rawUnbalanced = true
			}
		default:
			out.Write(rawTok)
		}
	}
	// close what would swallow the rest of the page
	if lastType == xhtml.CommentToken && bytes.HasPrefix(lastRaw, []byte("<!--")) && !bytes.HasSuffix(bytes.TrimRight(lastRaw, " \t\n"), []byte("-->")) {
		out.WriteString("-->")
		changed = true
	}
	if n := len(stack); n > 0 && rawTextElements[stack[n-1]] {
		out.WriteString("</" + stack[n-1] + ">")
		stack = stack[:n-1]
		changed = true
	}
	if !changed {
		return nil
	}
	return out.Bytes()
}

// rewriteTarget resolves the href/src of an <a> or <img> token. It returns
// the new tag and true when something changed.
func (t *transformer) rewriteTarget(tok *xhtml.Token) (string, bool) {
	attrName, image := "href", false
	if tok.Data == "img" {
		attrName, image = "src", true
	}
	modified, broken := false, false
	attrs := tok.Attr[:0]
	for _, a := range tok.Attr {
		if a.Namespace == "" && a.Key == attrName {
			href, state := t.resolve(a.Val, image)
			modified = true
			if state == linkBroken {
				broken = true
			}
			if state == linkDrop || href == "" {
				continue
			}
			a.Val = string(encodeHref(href))
		}
		attrs = append(attrs, a)
	}
	tok.Attr = attrs
	if !modified {
		return "", false
	}
	if broken {
		found := false
		for i, a := range tok.Attr {
			if a.Key == "class" {
				tok.Attr[i].Val = strings.TrimSpace(a.Val + " " + brokenCls)
				found = true
			}
		}
		if !found {
			tok.Attr = append(tok.Attr, xhtml.Attribute{Key: "class", Val: brokenCls})
		}
	}
	return tok.String(), true
}

// ---------------------------------------------------------------------------
// attr_list

// inlineAttrRe matches an attribute list right after a link or image:
// `{: .class #id key="value" }` (the colon is optional).
var inlineAttrRe = regexp.MustCompile(`^\{:?[ \t]*([^}\n]*?)[ \t]*\}`)

// headingAttrRe matches a trailing `{: … }` on a heading (goldmark itself
// parses the `{#id .class}` form).
var headingAttrRe = regexp.MustCompile(`[ \t]*\{:[ \t]*([^}\n]*?)[ \t]*\}[ \t]*$`)

var attrTokenRe = regexp.MustCompile(`([#.][A-Za-z0-9_:\-]+)|([A-Za-z_:][A-Za-z0-9_:.\-]*)(?:=("[^"]*"|'[^']*'|[^\s"']+))?`)

// allowedAttrs are the attr_list keys applied to elements; anything else is
// parsed and dropped (the sanitizer would drop it anyway).
var allowedAttrs = map[string]bool{
	"width": true, "height": true, "align": true, "title": true, "loading": true,
}

// applyAttrList parses an attr_list body and sets the attributes on n.
// It returns false when the body is not an attribute list.
func applyAttrList(n ast.Node, body string) bool {
	if strings.TrimSpace(body) == "" {
		return false
	}
	matches := attrTokenRe.FindAllStringSubmatchIndex(body, -1)
	// the whole body must be made of attribute tokens and spaces
	last := 0
	for _, m := range matches {
		if strings.TrimSpace(body[last:m[0]]) != "" {
			return false
		}
		last = m[1]
	}
	if strings.TrimSpace(body[last:]) != "" || len(matches) == 0 {
		return false
	}
	for _, m := range matches {
		if m[2] >= 0 {
			tok := body[m[2]:m[3]]
			if tok[0] == '#' {
				n.SetAttributeString("id", []byte(tok[1:]))
			} else {
				addClass(n, tok[1:])
			}
			continue
		}
		key := strings.ToLower(body[m[4]:m[5]])
		val := ""
		if m[6] >= 0 {
			val = body[m[6]:m[7]]
			if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') {
				val = val[1 : len(val)-1]
			}
		}
		switch {
		case key == "class":
			for _, c := range strings.Fields(val) {
				addClass(n, c)
			}
		case key == "id":
			n.SetAttributeString("id", []byte(val))
		case allowedAttrs[key]:
			n.SetAttributeString(key, []byte(val))
		}
	}
	return true
}

// consumeTrailingAttrList looks for an attr_list in the Text siblings right
// after n, applies it and removes it from the text.
func (t *transformer) consumeTrailingAttrList(n ast.Node) {
	first, ok := n.NextSibling().(*ast.Text)
	if !ok || first.Segment.Padding != 0 {
		return
	}
	v := first.Segment.Value(t.source)
	if len(v) == 0 || v[0] != '{' {
		return
	}
	// Gather the run of adjacent Text nodes on the same line.
	var nodes []*ast.Text
	var buf []byte
	for c := ast.Node(first); c != nil; c = c.NextSibling() {
		tx, ok := c.(*ast.Text)
		if !ok || tx.Segment.Padding != 0 {
			break
		}
		if len(nodes) > 0 && tx.Segment.Start != nodes[len(nodes)-1].Segment.Stop {
			break
		}
		nodes = append(nodes, tx)
		buf = append(buf, tx.Segment.Value(t.source)...)
		if bytes.IndexByte(buf, '}') >= 0 || tx.SoftLineBreak() || tx.HardLineBreak() {
			break
		}
	}
	m := inlineAttrRe.FindSubmatchIndex(buf)
	if m == nil || !applyAttrList(n, string(buf[m[2]:m[3]])) {
		return
	}
	consume := m[1]
	for _, tx := range nodes {
		l := tx.Segment.Len()
		if consume >= l {
			consume -= l
			if tx.SoftLineBreak() || tx.HardLineBreak() {
				tx.Segment = tx.Segment.WithStart(tx.Segment.Stop)
			} else {
				tx.Parent().RemoveChild(tx.Parent(), tx)
			}
			if consume == 0 {
				return
			}
			continue
		}
		tx.Segment = tx.Segment.WithStart(tx.Segment.Start + consume)
		return
	}
}

// consumeHeadingAttrList handles `## Title {: #id .class }`.
func (t *transformer) consumeHeadingAttrList(h *ast.Heading) {
	// the trailing run of Text nodes
	var nodes []*ast.Text
	for c := h.LastChild(); c != nil; c = c.PreviousSibling() {
		tx, ok := c.(*ast.Text)
		if !ok || tx.Segment.Padding != 0 {
			break
		}
		if len(nodes) > 0 && tx.Segment.Stop != nodes[0].Segment.Start {
			break
		}
		nodes = append([]*ast.Text{tx}, nodes...)
	}
	if len(nodes) == 0 {
		return
	}
	start := nodes[0].Segment.Start
	stop := nodes[len(nodes)-1].Segment.Stop
	buf := t.source[start:stop]
	if bytes.IndexByte(buf, '}') < 0 {
		return
	}
	m := headingAttrRe.FindSubmatchIndex(buf)
	if m == nil || !applyAttrList(h, string(buf[m[2]:m[3]])) {
		return
	}
	cut := start + m[0]
	for _, tx := range nodes {
		switch {
		case tx.Segment.Start >= cut:
			h.RemoveChild(h, tx)
		case tx.Segment.Stop > cut:
			tx.Segment = tx.Segment.WithStop(cut)
		}
	}
}

// blockAttrRe matches a block-level attr_list: the last line of a paragraph
// made only of `{: … }`.
var blockAttrRe = regexp.MustCompile(`^[ \t]*\{:?[ \t]*([^}\n]*?)[ \t]*\}[ \t]*$`)

// consumeParagraphAttrList handles
//
//	A paragraph.
//	{: #id .class }
func (t *transformer) consumeParagraphAttrList(p *ast.Paragraph) {
	lines := p.Lines()
	if lines.Len() < 2 {
		return
	}
	last := lines.At(lines.Len() - 1)
	v := last.Value(t.source)
	if len(v) < 3 || bytes.IndexByte(v, '{') < 0 {
		return
	}
	m := blockAttrRe.FindSubmatch(bytes.TrimRight(v, "\n"))
	if m == nil {
		return
	}
	// the line must be plain text (no inline markup) for us to drop it
	var trailing []*ast.Text
	for c := p.LastChild(); c != nil; c = c.PreviousSibling() {
		tx, ok := c.(*ast.Text)
		if !ok {
			return
		}
		if tx.Segment.Stop <= last.Start {
			break
		}
		if tx.Segment.Start < last.Start {
			return
		}
		trailing = append(trailing, tx)
	}
	if !applyAttrList(p, string(m[1])) {
		return
	}
	for _, tx := range trailing {
		p.RemoveChild(p, tx)
	}
	if tx, ok := p.LastChild().(*ast.Text); ok {
		tx.SetSoftLineBreak(false)
	}
}
