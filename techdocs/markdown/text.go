package markdown

import (
	"bytes"

	xhtml "golang.org/x/net/html"

	emojiast "github.com/yuin/goldmark-emoji/ast"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

// textValue returns the text of a Text node with backslash escapes and
// character references resolved (code span text is kept raw).
func textValue(n *ast.Text, source []byte) []byte {
	v := n.Segment.Value(source)
	if n.IsRaw() || (bytes.IndexByte(v, '\\') < 0 && bytes.IndexByte(v, '&') < 0) {
		return v
	}
	return util.UnescapePunctuations(util.ResolveNumericReferences(util.ResolveEntityNames(v)))
}

// writeInlineText appends the plain text of n's inline descendants.
func writeInlineText(b *bytes.Buffer, n ast.Node, source []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch v := c.(type) {
		case *ast.Text:
			b.Write(textValue(v, source))
			if v.SoftLineBreak() || v.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(v.Value)
		case *ast.AutoLink:
			b.Write(v.Label(source))
		case *ast.RawHTML, *east.FootnoteLink, *east.FootnoteBacklink, *east.TaskCheckBox, *iconNode:
			// no text
		case *emojiast.Emoji:
			if v.Value != nil {
				b.WriteString(string(v.Value.Unicode))
			}
		case *keysNode:
			for i, k := range v.keys {
				if i > 0 {
					b.WriteByte('+')
				}
				b.WriteString(keyLabel(k))
			}
		default:
			writeInlineText(b, c, source)
		}
	}
}

// plainText returns the text of the whole page for search: one line per
// block, whitespace collapsed, no markup. Mermaid sources are left out.
func (t *transformer) plainText(doc ast.Node) string {
	var b bytes.Buffer
	b.Grow(len(t.source))
	t.writeBlockText(&b, doc)
	return collapseSpace(b.Bytes())
}

// collapseSpace trims every line, collapses runs of spaces and tabs and
// drops empty lines.
func collapseSpace(in []byte) string {
	out := make([]byte, 0, len(in))
	pendingSpace, pendingLine := false, false
	for _, c := range in {
		switch c {
		case '\n':
			if len(out) > 0 {
				pendingLine = true
			}
			pendingSpace = false
		case ' ', '\t', '\r', '\f', '\v':
			pendingSpace = true
		default:
			if pendingLine {
				out = append(out, '\n')
			} else if pendingSpace && len(out) > 0 {
				out = append(out, ' ')
			}
			pendingLine, pendingSpace = false, false
			out = append(out, c)
		}
	}
	return string(out)
}

func (t *transformer) writeBlockText(b *bytes.Buffer, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch v := c.(type) {
		case *ast.FencedCodeBlock:
			if !isMermaid(fenceInfo(v, t.source)) {
				b.Write(codeLines(v, t.source))
				b.WriteByte('\n')
			}
			continue
		case *ast.CodeBlock:
			b.Write(codeLines(v, t.source))
			b.WriteByte('\n')
			continue
		case *ast.HTMLBlock:
			raw := htmlBlockBytes(v, t.source)
			if out, ok := v.AttributeString(attrRawHTML); ok {
				raw = out.([]byte)
			}
			writeHTMLText(b, raw)
			b.WriteByte('\n')
			continue
		}
		if c.Type() != ast.TypeBlock {
			continue
		}
		if fc := c.FirstChild(); fc != nil && fc.Type() == ast.TypeInline {
			writeInlineText(b, c, t.source)
			b.WriteByte('\n')
			continue
		}
		t.writeBlockText(b, c)
		if _, ok := c.(*east.TableRow); ok {
			b.WriteByte('\n')
		}
	}
}

// writeHTMLText appends the text content of raw HTML (script and style
// contents excluded).
func writeHTMLText(b *bytes.Buffer, raw []byte) {
	z := xhtml.NewTokenizer(bytes.NewReader(raw))
	skip := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		case xhtml.StartTagToken:
			name, _ := z.TagName()
			if s := string(name); s == "script" || s == "style" {
				skip++
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			if s := string(name); (s == "script" || s == "style") && skip > 0 {
				skip--
			}
		}
	}
}
