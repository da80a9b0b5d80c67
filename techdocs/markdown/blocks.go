package markdown

import (
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// This file holds the block-level goldmark extensions: admonitions
// (Python-Markdown admonition + pymdownx.details), content tabs
// (pymdownx.tabbed) and abbreviation definitions (abbr).
//
// Admonitions and tabs are containers whose body is indented by four spaces
// (or a tab), like Python-Markdown: a non-blank line indented less than that
// closes the container, and — unlike CommonMark block quotes — it is never
// taken as a lazy continuation of a paragraph inside the container.

var noLazyKey = parser.NewContextKey()

// continueIndented is the Continue of an indented container: blank lines
// belong to it, lines indented by >= 4 columns are its content (the indent is
// consumed), anything else closes it.
func continueIndented(reader text.Reader, pc parser.Context) parser.State {
	line, _ := reader.PeekLine()
	if util.IsBlank(line) {
		reader.AdvanceToEOL()
		return parser.Continue | parser.HasChildren
	}
	w, _ := util.IndentWidth(line, reader.LineOffset())
	if w < 4 {
		// Tell lazyBreaker that this line must not lazily continue a
		// paragraph inside the container being closed.
		lineNum, _ := reader.Position()
		pc.Set(noLazyKey, lineNum)
		return parser.Close
	}
	pos, padding := util.IndentPosition(line, reader.LineOffset(), 4)
	reader.AdvanceAndSetPadding(pos, padding)
	return parser.Continue | parser.HasChildren
}

// lazyBreaker is a paragraph parser that only opens on a line that just
// closed an indented container (see continueIndented). Being able to
// interrupt a paragraph, it runs before goldmark's lazy-continuation rule and
// starts a new paragraph outside the container instead.
type lazyBreaker struct{}

var paragraphParser = parser.NewParagraphParser()

func (lazyBreaker) Trigger() []byte { return nil }

func (lazyBreaker) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	v, ok := pc.Get(noLazyKey).(int)
	if !ok {
		return nil, parser.NoChildren
	}
	if lineNum, _ := reader.Position(); lineNum != v {
		return nil, parser.NoChildren
	}
	return paragraphParser.Open(parent, reader, pc)
}

func (lazyBreaker) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	return paragraphParser.Continue(node, reader, pc)
}

func (lazyBreaker) Close(node ast.Node, reader text.Reader, pc parser.Context) {
	paragraphParser.Close(node, reader, pc)
}

func (lazyBreaker) CanInterruptParagraph() bool { return true }
func (lazyBreaker) CanAcceptIndentedLine() bool { return false }

// blockStart returns the current line from the block's first non-space
// character (without the newline) and the source offset of that character.
func blockStart(reader text.Reader, pc parser.Context) (content []byte, offset int, ok bool) {
	line, seg := reader.PeekLine()
	pos := pc.BlockOffset()
	if line == nil || pos < 0 || pos >= len(line) {
		return nil, 0, false
	}
	content = line[pos:]
	if n := len(content); n > 0 && content[n-1] == '\n' {
		content = content[:n-1]
	}
	return content, seg.Start - seg.Padding + pos, true
}

// ---------------------------------------------------------------------------
// Admonitions

// !!! type [more classes] ["Title"]
// ??? type ["Title"]    collapsed details
// ???+ type ["Title"]   open details
var admonitionRe = regexp.MustCompile(`^(!!!|\?\?\?\+?)(?:[ \t]*([A-Za-z0-9_-]+(?:[ \t]+[A-Za-z0-9_-]+)*))?(?:[ \t]*"(.*)")?[ \t]*$`)

type admonitionParser struct{}

func (admonitionParser) Trigger() []byte { return []byte{'!', '?'} }

func (admonitionParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	content, offset, ok := blockStart(reader, pc)
	if !ok || len(content) < 3 {
		return nil, parser.NoChildren
	}
	m := admonitionRe.FindSubmatchIndex(content)
	if m == nil {
		return nil, parser.NoChildren
	}
	marker := string(content[m[2]:m[3]])
	var classes []string
	if m[4] >= 0 {
		classes = strings.Fields(strings.ToLower(string(content[m[4]:m[5]])))
	}
	hasTitle := m[6] >= 0
	if len(classes) == 0 {
		if !hasTitle {
			return nil, parser.NoChildren
		}
		classes = []string{"note"}
	}
	node := &admonitionNode{
		classes:     classes,
		collapsible: marker != "!!!",
		open:        marker == "???+",
	}
	title := &titleNode{role: roleAdmonitionTitle}
	switch {
	case hasTitle && m[7] > m[6]:
		title.Lines().Append(text.NewSegment(offset+m[6], offset+m[7]))
		node.AppendChild(node, title)
	case hasTitle && !node.collapsible:
		// `!!! note ""`: no title bar
	default:
		title.fallback = capitalize(classes[0])
		node.AppendChild(node, title)
	}
	reader.AdvanceToEOL()
	return node, parser.HasChildren
}

func (admonitionParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	return continueIndented(reader, pc)
}

func (admonitionParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {}
func (admonitionParser) CanInterruptParagraph() bool                                { return true }
func (admonitionParser) CanAcceptIndentedLine() bool                                { return false }

// capitalize mirrors Python's str.capitalize for ASCII class names.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToLower(s)
	return strings.ToUpper(s[:1]) + s[1:]
}

// ---------------------------------------------------------------------------
// Content tabs

// === "Label"     a tab; consecutive tabs form one set
// ===! "Label"    starts a new set even right after another tab
// ===+ "Label"    initially selected tab
var tabRe = regexp.MustCompile(`^===([!+]{0,2})[ \t]+"(.*)"[ \t]*$`)

type tabParser struct{}

func (tabParser) Trigger() []byte { return []byte{'='} }

func (tabParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	content, offset, ok := blockStart(reader, pc)
	if !ok || len(content) < 5 {
		return nil, parser.NoChildren
	}
	m := tabRe.FindSubmatchIndex(content)
	if m == nil {
		return nil, parser.NoChildren
	}
	mod := string(content[m[2]:m[3]])
	node := &tabNode{
		selected: strings.Contains(mod, "+"),
		newSet:   strings.Contains(mod, "!"),
	}
	label := &titleNode{role: roleTabLabel}
	if m[5] > m[4] {
		label.Lines().Append(text.NewSegment(offset+m[4], offset+m[5]))
	}
	node.AppendChild(node, label)
	reader.AdvanceToEOL()
	return node, parser.HasChildren
}

func (tabParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	return continueIndented(reader, pc)
}

func (tabParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {}
func (tabParser) CanInterruptParagraph() bool                                { return true }
func (tabParser) CanAcceptIndentedLine() bool                                { return false }

// ---------------------------------------------------------------------------
// Abbreviation definitions

// *[HTML]: Hyper Text Markup Language
var abbrDefRe = regexp.MustCompile(`^\*\[([^\]\\]+)\] ?:[ \t]*(.*?)[ \t]*$`)

type abbrDefParser struct{}

func (abbrDefParser) Trigger() []byte { return []byte{'*'} }

func (abbrDefParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	content, _, ok := blockStart(reader, pc)
	if !ok || len(content) < 5 || content[1] != '[' {
		return nil, parser.NoChildren
	}
	m := abbrDefRe.FindSubmatch(content)
	if m == nil {
		return nil, parser.NoChildren
	}
	abbr := strings.TrimSpace(string(m[1]))
	if abbr == "" {
		return nil, parser.NoChildren
	}
	reader.AdvanceToEOL()
	return &abbrDefNode{abbr: abbr, title: string(m[2])}, parser.NoChildren
}

func (abbrDefParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	return parser.Close
}

func (abbrDefParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {}
func (abbrDefParser) CanInterruptParagraph() bool                                { return true }
func (abbrDefParser) CanAcceptIndentedLine() bool                                { return false }
