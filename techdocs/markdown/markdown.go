// Package markdown renders mkdocs / techdocs-core flavoured Markdown to
// sanitized HTML.
//
// The dialect is CommonMark + GitHub extensions (tables, task lists,
// strikethrough, autolinks), footnotes and definition lists (goldmark and its
// bundled extensions), emoji shortcodes (goldmark-emoji), plus small goldmark
// extensions written here for the Python-Markdown / pymdownx syntax that
// techdocs-core enables: admonitions and collapsible details, content tabs,
// superfences-style code blocks (chroma highlighting, titles, line numbers,
// highlighted lines, mermaid), mark/ins/del/sub/sup, keys, abbreviations,
// attribute lists on headings, links and images, mkdocs-compatible heading
// ids with permalinks, and YAML front matter.
//
// Everything goldmark renders — including raw HTML written by the author —
// is normalised with an HTML5 parser (so stray closing tags cannot escape the
// page container) and then filtered through a bluemonday allow-list policy, so
// Result.HTML is safe to emit without further escaping.
//
// Render never fails on odd input: unknown syntax is left as text.
package markdown

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/yuin/goldmark"
	emoji "github.com/yuin/goldmark-emoji"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Options configures Render.
type Options struct {
	// ResolveLink maps a link or image target found in the page (relative
	// like "../other.md#x", "img/a.png", or absolute "https://…", "#anchor")
	// to the href to emit; ok=false marks it broken (the link is still
	// rendered, with class "broken-link", and reported). Called for every
	// non-absolute target; absolute http(s)/mailto targets pass through
	// without calling it. Targets with any other scheme (javascript:, data:,
	// vbscript:, file:, …) never reach it: they are dropped.
	//
	// When ok=false the returned href is still used if it is not empty;
	// return "" to emit the link without an href.
	//
	// A nil ResolveLink keeps every target as written.
	ResolveLink func(target string, image bool) (href string, ok bool)
}

// Heading is one heading of the page.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// Result is a rendered page.
type Result struct {
	Title      string         // front matter `title`, else the first h1's text, else ""
	HTML       string         // sanitized HTML of the body (safe to emit raw)
	TOC        []Heading      // h2–h4 (and h1 after the first) with their ids
	Headings   []Heading      // all headings, for search
	Text       string         // plain text of the page, for search (no markup)
	Meta       map[string]any // front matter
	HideNav    bool           // front matter `hide: [navigation]`
	HideTOC    bool           // front matter `hide: [toc]`
	Broken     []string       // link/image targets ResolveLink refused, in order, unique
	HasMermaid bool
}

var (
	engineOnce sync.Once
	engine     goldmark.Markdown
)

// getEngine builds the shared goldmark instance. goldmark parsers and
// renderers are safe for concurrent use once built; every per-page state
// lives in the parser context and in the AST.
func getEngine() goldmark.Markdown {
	engineOnce.Do(func() {
		engine = newEngine()
	})
	return engine
}

func newEngine() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithParserOptions(
			parser.WithHeadingAttribute(),
			// Runs before the paragraph parser (priority 1000); see lazyBreaker.
			parser.WithBlockParsers(util.Prioritized(lazyBreaker{}, 990)),
		),
		goldmark.WithRendererOptions(html.WithUnsafe()), // raw HTML goes to the sanitizer
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.TaskList,
			extension.Linkify,
			extension.Footnote,
			extension.DefinitionList,
			emoji.Emoji,
			mkdocsExtension{},
		),
	)
}

// mkdocsExtension registers the parsers and renderers written in this
// package.
type mkdocsExtension struct{}

func (mkdocsExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithBlockParsers(
			util.Prioritized(admonitionParser{}, 95),
			util.Prioritized(tabParser{}, 95),
			util.Prioritized(abbrDefParser{}, 90),
		),
		parser.WithInlineParsers(
			util.Prioritized(newTagParser('~', "sub", "del", 1), 450),
			util.Prioritized(newTagParser('^', "sup", "ins", 1), 450),
			util.Prioritized(newTagParser('=', "", "mark", 2), 450),
			util.Prioritized(keysParser{}, 450),
			util.Prioritized(iconParser{}, 150), // before goldmark-emoji (200)
		),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(
		util.Prioritized(nodeRenderer{}, 100),
	))
}

// Render renders one Markdown page.
func Render(src []byte, opts Options) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res = nil
			err = fmt.Errorf("markdown: internal error: %v", r)
		}
	}()

	src = normalizeInput(src)
	res = &Result{}
	body, meta := splitFrontMatter(src)
	res.Meta = meta
	applyMeta(res)

	md := getEngine()
	pc := parser.NewContext()
	doc := md.Parser().Parse(text.NewReader(body), parser.WithContext(pc))

	t := newTransformer(body, pc, opts, res)
	t.run(doc)
	waitCode := t.startCode()
	defer waitCode() // also on the error paths: never leave workers behind

	var buf bytes.Buffer
	buf.Grow(len(body)*3 + 1024)
	if err := md.Renderer().Render(&buf, body, doc); err != nil {
		return nil, fmt.Errorf("markdown: render: %w", err)
	}
	html := sanitize(buf.Bytes(), t.rawUnbalanced)
	res.Text = t.plainText(doc)
	waitCode()
	res.HTML = t.restoreTrusted(html)
	if res.Broken == nil {
		res.Broken = []string{}
	}
	return res, nil
}

// normalizeInput strips a byte order mark and turns CRLF / CR line endings
// into LF so every parser here only has to deal with '\n'.
func normalizeInput(src []byte) []byte {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(src, '\r') >= 0 {
		src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		src = bytes.ReplaceAll(src, []byte("\r"), []byte("\n"))
	}
	return src
}

// inlineText returns the plain text of the inline children of n.
func inlineText(n ast.Node, source []byte) string {
	var b bytes.Buffer
	writeInlineText(&b, n, source)
	return string(bytes.TrimSpace(b.Bytes()))
}
