package apidoc

import (
	"html"
	"strings"
	"time"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
)

// maxHighlight caps the source text shown, in bytes; longer definitions
// are cut at a line end (the page says so).
const maxHighlight = 256 << 10

// Highlighting stops after so many tokens or so much time (chroma's
// lexers can be slow on odd input); the rest of the text is shown plain.
// That keeps a page's HTML to about a megabyte even for text that is all
// tokens.
const (
	maxTokens     = 12000
	highlightTime = 100 * time.Millisecond
)

// budget is what is left for highlighting one definition.
type budget struct {
	tokens   int
	deadline time.Time
	spent    bool
}

// formatter writes chroma's token spans only; the components put them in
// a <pre>, one chunk per outlined definition (each in an element with an
// id, so the outline can link to it).
var formatter = chromahtml.New(
	chromahtml.WithClasses(true),
	chromahtml.PreventSurroundingPre(true),
)

// Code is source text prepared for display.
type Code struct {
	Language string
	Chunks   []CodeChunk
	// Truncated is set when the text was longer than maxHighlight and
	// only its start is shown; Bytes is the size of the whole text.
	Truncated bool
	Bytes     int
}

// CodeChunk is a piece of highlighted source. HTML is chroma's output
// (chroma escapes the source text itself); ID, when set, is the element
// id of the definition the chunk starts with.
type CodeChunk struct {
	ID   string
	HTML string
}

// split marks where an outlined definition starts in the source.
type split struct {
	offset int
	id     string
}

// highlight renders text with the chroma lexer of the given name ("yaml",
// "json", "graphql", "protobuf", "xml"; anything else is plain text),
// cut into chunks at the splits (in ascending offset order).
func highlight(text, language string, splits []split) Code {
	c := Code{Bytes: len(text), Language: language}
	if len(text) > maxHighlight {
		cut := strings.LastIndexByte(text[:maxHighlight], '\n')
		if cut <= 0 {
			cut = len(truncate(text, maxHighlight))
		}
		text = text[:cut]
		c.Truncated = true
	}
	lexer := lexers.Get(language)
	if lexer == nil {
		lexer = lexers.Fallback
	}
	lexer = chroma.Coalesce(lexer)
	bud := &budget{tokens: maxTokens, deadline: time.Now().Add(highlightTime)}
	start, id := 0, ""
	if len(splits) > 0 && splits[0].offset == 0 {
		id = splits[0].id
	}
	for _, sp := range splits {
		if sp.offset <= start || sp.offset >= len(text) {
			continue
		}
		c.Chunks = append(c.Chunks, CodeChunk{ID: id, HTML: format(lexer, text[start:sp.offset], bud)})
		start, id = sp.offset, sp.id
	}
	c.Chunks = append(c.Chunks, CodeChunk{ID: id, HTML: format(lexer, text[start:], bud)})
	return c
}

// format highlights one piece of text; if chroma fails it falls back to
// the escaped text. Once the budget is spent, the rest of the text is one
// plain token (still written, and escaped, by chroma's formatter).
func format(lexer chroma.Lexer, text string, bud *budget) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = html.EscapeString(text)
		}
	}()
	if bud.spent {
		return html.EscapeString(text)
	}
	it, err := lexer.Tokenise(nil, text)
	if err != nil {
		return html.EscapeString(text)
	}
	offset := 0 // of the text the tokens so far cover
	plain := func() chroma.Token {
		if bud.spent {
			if offset < len(text) {
				t := chroma.Token{Type: chroma.Text, Value: text[offset:]}
				offset = len(text)
				return t
			}
			return chroma.EOF
		}
		t := it()
		if t == chroma.EOF {
			return t
		}
		offset += len(t.Value)
		bud.tokens--
		if bud.tokens <= 0 || time.Now().After(bud.deadline) {
			bud.spent = true
		}
		// Whitespace needs no span of its own; leaving it plain text
		// keeps the page smaller.
		if t.Type == chroma.TextWhitespace {
			t.Type = chroma.Text
		}
		return t
	}
	var b strings.Builder
	b.Grow(len(text) * 3)
	if err := formatter.Format(&b, styles.Get(lightStyle), plain); err != nil {
		return html.EscapeString(text)
	}
	return b.String()
}

// guessLanguage picks a lexer for a definition of unknown type.
func guessLanguage(text string) string {
	t := strings.TrimLeft(text, " \t\r\n\ufeff")
	switch {
	case strings.HasPrefix(t, "{") || strings.HasPrefix(t, "["):
		return "json"
	case strings.HasPrefix(t, "<"):
		return "xml"
	case strings.HasPrefix(t, "syntax") || strings.HasPrefix(t, "package ") && strings.Contains(t, "message "):
		return "protobuf"
	}
	// YAML if one of the first lines looks like "key: value".
	for i, line := range strings.SplitN(t, "\n", 20) {
		if i >= 19 {
			break
		}
		line = strings.TrimSpace(line)
		if line == "---" || strings.HasPrefix(line, "- ") {
			return "yaml"
		}
		if k, _, ok := strings.Cut(line, ":"); ok && k != "" && !strings.ContainsAny(k, " \t{}()") {
			return "yaml"
		}
	}
	return "plaintext"
}

// The chroma styles the stylesheet was generated from (see
// TestChromaCSS); light is also the one passed to the formatter, which in
// class mode only decides the wrapper's classes.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)
