package markdown

import (
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/yuin/goldmark/ast"
)

// Code blocks follow pymdownx.superfences + pymdownx.highlight:
//
//	```python title="app.py" linenums="1" hl_lines="2 4-5"
//	```{ .python .extra title="app.py" }
//	```mermaid
//
// are rendered as
//
//	<div class="highlight language-python">
//	<span class="filename">app.py</span>
//	<pre class="chroma"><code class="language-python">
//	<span class="line"><span class="ln">1</span><span class="cl">…tokens…</span></span>
//	<span class="line hl">…</span>
//	</code></pre></div>
//
// Tokens are `<span class="k">` etc., chroma's standard short class names
// (the `.chroma .k` family); no inline styles. Mermaid fences become
// `<pre class="mermaid">escaped source</pre>` for the page's script.

// codeInfo is a parsed fence info string.
type codeInfo struct {
	lang     string
	classes  []string
	title    string
	linenums int // first line number; 0 = no line numbers
	hl       [][2]int
}

// maxHighlightBytes: larger blocks are emitted without highlighting (chroma
// lexers are regexp based and could be slow on huge generated blocks).
const maxHighlightBytes = 256 << 10

func parseInfo(info string) codeInfo {
	var ci codeInfo
	info = strings.TrimSpace(info)
	if info == "" {
		return ci
	}
	rest := info
	if info[0] != '{' {
		// leading bare language word
		end := strings.IndexAny(info, " \t{")
		if end < 0 {
			end = len(info)
		}
		ci.lang = strings.TrimPrefix(info[:end], ".")
		rest = info[end:]
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimPrefix(rest, "{")
	rest = strings.TrimSuffix(rest, "}")
	for _, m := range attrTokenRe.FindAllStringSubmatchIndex(rest, -1) {
		if m[2] >= 0 {
			tok := rest[m[2]:m[3]]
			if tok[0] == '.' {
				if ci.lang == "" {
					ci.lang = tok[1:]
				} else {
					ci.classes = append(ci.classes, tok[1:])
				}
			}
			continue
		}
		key := strings.ToLower(rest[m[4]:m[5]])
		val := ""
		if m[6] >= 0 {
			val = rest[m[6]:m[7]]
			if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') {
				val = val[1 : len(val)-1]
			}
		}
		switch key {
		case "title":
			ci.title = val
		case "linenums":
			if f := strings.Fields(val); len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil && n > 0 && n < 1e9 {
					ci.linenums = n
				}
			}
		case "hl_lines":
			ci.hl = parseLineRanges(val)
		}
	}
	ci.lang = strings.ToLower(ci.lang)
	return ci
}

// parseLineRanges parses "1 3-5" (pymdownx hl_lines).
func parseLineRanges(s string) [][2]int {
	var out [][2]int
	for _, f := range strings.Fields(s) {
		a, b, isRange := strings.Cut(f, "-")
		lo, err := strconv.Atoi(a)
		if err != nil || lo < 1 {
			continue
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(b); err != nil || hi < lo {
				continue
			}
		}
		out = append(out, [2]int{lo, hi})
		if len(out) > 1000 {
			break
		}
	}
	return out
}

func (ci codeInfo) highlighted(line int) bool {
	for _, r := range ci.hl {
		if line >= r[0] && line <= r[1] {
			return true
		}
	}
	return false
}

// isMermaid reports whether the fence info names mermaid.
func isMermaid(info string) bool {
	return parseInfo(info).lang == "mermaid"
}

func fenceInfo(n *ast.FencedCodeBlock, source []byte) string {
	if n.Info == nil {
		return ""
	}
	return string(n.Info.Segment.Value(source))
}

func codeLines(n ast.Node, source []byte) []byte {
	lines := n.Lines()
	var b []byte
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b = append(b, seg.Value(source)...)
	}
	return b
}

var noHighlight = map[string]bool{
	"": true, "text": true, "txt": true, "plain": true, "plaintext": true,
	"none": true, "nohighlight": true, "output": true, "raw": true,
}

var lexerCache sync.Map // lang -> chroma.Lexer (or nil)

func lexerFor(lang string) chroma.Lexer {
	if noHighlight[lang] {
		return nil
	}
	if v, ok := lexerCache.Load(lang); ok {
		l, _ := v.(chroma.Lexer)
		return l
	}
	var l chroma.Lexer
	if len(lang) <= 64 {
		if found := lexers.Get(lang); found != nil && found != lexers.Fallback {
			l = chroma.Coalesce(found)
		}
	}
	lexerCache.Store(lang, l)
	return l
}

var tokenClassCache sync.Map // chroma.TokenType -> string

func tokenClass(tt chroma.TokenType) string {
	if v, ok := tokenClassCache.Load(tt); ok {
		return v.(string)
	}
	cls := ""
	for t := tt; ; t = t.Parent() {
		if c, ok := chroma.StandardTypes[t]; ok {
			cls = c
			break
		}
		if t == 0 {
			break
		}
	}
	tokenClassCache.Store(tt, cls)
	return cls
}

// highlight tokenises code; it returns nil when the language is unknown or
// lexing fails, and the caller then emits the escaped source.
func highlight(lang string, code []byte) (lines [][]chroma.Token) {
	lexer := lexerFor(lang)
	if lexer == nil || len(code) > maxHighlightBytes {
		return nil
	}
	defer func() {
		if recover() != nil {
			lines = nil
		}
	}()
	it, err := lexer.Tokenise(nil, string(code))
	if err != nil {
		return nil
	}
	return chroma.SplitTokensIntoLines(it.Tokens())
}

// stringWriter is what the HTML writers here need (util.BufWriter and
// *bytes.Buffer both qualify).
type stringWriter interface {
	WriteString(s string) (int, error)
	WriteByte(c byte) error
}

func writeEscaped(w stringWriter, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&quot;"
		default:
			continue
		}
		_, _ = w.WriteString(s[last:i])
		_, _ = w.WriteString(esc)
		last = i + 1
	}
	_, _ = w.WriteString(s[last:])
}

// renderCode writes a code block (see the comment at the top of the file).
func renderCode(w stringWriter, ci codeInfo, code []byte) {
	if ci.lang == "mermaid" {
		_, _ = w.WriteString(`<pre class="mermaid">`)
		writeEscaped(w, string(code))
		_, _ = w.WriteString("</pre>\n")
		return
	}
	langClass := ""
	if ci.lang != "" {
		langClass = "language-" + sanitizeClass(ci.lang)
	}
	_, _ = w.WriteString(`<div class="highlight`)
	if langClass != "" {
		_, _ = w.WriteString(" " + langClass)
	}
	for _, c := range ci.classes {
		_, _ = w.WriteString(" " + sanitizeClass(c))
	}
	_, _ = w.WriteString(`">`)
	if ci.title != "" {
		_, _ = w.WriteString(`<span class="filename">`)
		writeEscaped(w, ci.title)
		_, _ = w.WriteString(`</span>`)
	}
	_, _ = w.WriteString(`<pre class="chroma"><code`)
	if langClass != "" {
		_, _ = w.WriteString(` class="` + langClass + `"`)
	}
	_ = w.WriteByte('>')

	lines := highlight(ci.lang, code)
	if lines == nil {
		// plain: one text token per line
		src := string(code)
		for src != "" {
			i := strings.IndexByte(src, '\n')
			if i < 0 {
				i = len(src) - 1
			}
			lines = append(lines, []chroma.Token{{Type: chroma.Text, Value: src[:i+1]}})
			src = src[i+1:]
		}
	}
	for i, toks := range lines {
		n := i + 1
		if ci.highlighted(n) {
			_, _ = w.WriteString(`<span class="line hl">`)
		} else {
			_, _ = w.WriteString(`<span class="line">`)
		}
		if ci.linenums > 0 {
			_, _ = w.WriteString(`<span class="ln">`)
			_, _ = w.WriteString(strconv.Itoa(ci.linenums + i))
			_, _ = w.WriteString(`</span>`)
		}
		_, _ = w.WriteString(`<span class="cl">`)
		for _, tok := range toks {
			if cls := tokenClass(tok.Type); cls != "" {
				_, _ = w.WriteString(`<span class="` + cls + `">`)
				writeEscaped(w, tok.Value)
				_, _ = w.WriteString(`</span>`)
			} else {
				writeEscaped(w, tok.Value)
			}
		}
		_, _ = w.WriteString(`</span></span>`)
	}
	_, _ = w.WriteString("</code></pre></div>\n")
}

// sanitizeClass keeps [A-Za-z0-9_-] of a class name.
func sanitizeClass(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (isASCIIWord(byte(r)) || r == '-') {
			return r
		}
		return -1
	}, s)
}
