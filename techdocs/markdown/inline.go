package markdown

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// This file holds the inline goldmark extensions:
//
//	~~del~~  ~sub~     pymdownx.tilde (replaces GFM strikethrough)
//	^^ins^^  ^sup^     pymdownx.caret
//	==mark==           pymdownx.mark
//	++ctrl+alt+del++   pymdownx.keys
//	:material-check:   mkdocs-material icon shortcodes (kept as a labelled span)
//
// The first three use goldmark's delimiter machinery, so they nest with
// emphasis the same way `*`/`**` do. A doubled delimiter makes the "double"
// element, a single one the "single" element (sub/sup); sub/sup whose content
// has whitespace are turned back into text afterwards (see fixSubSup), as in
// pymdownx.

type tagDelimiter struct {
	char           byte
	single, double string // element names; single may be "" (not allowed)
}

func (d *tagDelimiter) IsDelimiter(b byte) bool { return b == d.char }

func (d *tagDelimiter) CanOpenCloser(opener, closer *parser.Delimiter) bool {
	if opener.Char != closer.Char {
		return false
	}
	if d.single == "" {
		return opener.Length >= 2 && closer.Length >= 2
	}
	return true
}

func (d *tagDelimiter) OnMatch(consumes int) ast.Node {
	if consumes >= 2 || d.single == "" {
		return &tagNode{tag: d.double}
	}
	return &tagNode{tag: d.single}
}

type tagParser struct {
	delim   *tagDelimiter
	minimum int
}

func newTagParser(char byte, single, double string, minimum int) parser.InlineParser {
	return &tagParser{delim: &tagDelimiter{char: char, single: single, double: double}, minimum: minimum}
}

func (p *tagParser) Trigger() []byte { return []byte{p.delim.char} }

func (p *tagParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	before := block.PrecendingCharacter()
	line, segment := block.PeekLine()
	node := parser.ScanDelimiter(line, before, p.minimum, p.delim)
	if node == nil || node.OriginalLength > 2 || before == rune(p.delim.char) {
		return nil
	}
	node.Segment = segment.WithStop(segment.Start + node.OriginalLength)
	block.Advance(node.OriginalLength)
	pc.PushDelimiter(node)
	return node
}

// ---------------------------------------------------------------------------
// Keys

type keysParser struct{}

func (keysParser) Trigger() []byte { return []byte{'+'} }

func (keysParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if len(line) < 5 || line[0] != '+' || line[1] != '+' {
		return nil
	}
	end := strings.Index(string(line[2:]), "++")
	if end <= 0 {
		return nil
	}
	body := string(line[2 : 2+end])
	// "+++" inside (a literal plus key) is not supported; keys are
	// identifiers separated by single '+'.
	parts := strings.Split(body, "+")
	for _, k := range parts {
		if k == "" || len(k) > 32 {
			return nil
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return nil
			}
		}
	}
	block.Advance(2 + end + 2)
	return &keysNode{keys: parts}
}

// keyNames maps pymdownx.keys names to display labels (a useful subset).
var keyNames = map[string]string{
	"alt": "Alt", "option": "Option", "ctrl": "Ctrl", "control": "Ctrl", "shift": "Shift",
	"cmd": "Cmd", "command": "Cmd", "meta": "Meta", "super": "Super", "win": "Win", "windows": "Win",
	"fn": "Fn", "enter": "Enter", "return": "Return", "esc": "Esc", "escape": "Esc",
	"tab": "Tab", "space": "Space", "spacebar": "Space", "backspace": "Backspace",
	"del": "Del", "delete": "Del", "insert": "Ins", "ins": "Ins", "home": "Home", "end": "End",
	"page-up": "Page Up", "page-down": "Page Down", "caps-lock": "Caps Lock",
	"arrow-up": "Up", "arrow-down": "Down", "arrow-left": "Left", "arrow-right": "Right",
	"up": "Up", "down": "Down", "left": "Left", "right": "Right",
	"print-screen": "Print Screen", "plus": "+", "minus": "-",
}

func keyLabel(k string) string {
	if v, ok := keyNames[strings.ToLower(k)]; ok {
		return v
	}
	if len(k) == 1 {
		return strings.ToUpper(k)
	}
	if k[0] == 'f' || k[0] == 'F' { // f1..f24
		allDigits := len(k) > 1
		for i := 1; i < len(k); i++ {
			if k[i] < '0' || k[i] > '9' {
				allDigits = false
			}
		}
		if allDigits {
			return strings.ToUpper(k)
		}
	}
	return capitalize(strings.ReplaceAll(k, "-", " "))
}

// ---------------------------------------------------------------------------
// Icons

// iconPrefixes are the icon sets bundled with mkdocs-material.
var iconPrefixes = []string{"material-", "fontawesome-", "octicons-", "simple-"}

type iconParser struct{}

func (iconParser) Trigger() []byte { return []byte{':'} }

func (iconParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if len(line) < 4 {
		return nil
	}
	rest := line[1:]
	ok := false
	for _, p := range iconPrefixes {
		if len(rest) > len(p) && string(rest[:len(p)]) == p {
			ok = true
			break
		}
	}
	if !ok {
		return nil
	}
	i := 0
	for ; i < len(rest) && i < 100; i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			break
		}
	}
	if i == 0 || i >= len(rest) || rest[i] != ':' {
		return nil
	}
	block.Advance(i + 2)
	return &iconNode{name: string(rest[:i])}
}
