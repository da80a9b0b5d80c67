package apidoc

import (
	"strings"
)

// Caps for the outline of a GraphQL schema or protobuf file.
const (
	maxOutlineItems   = 1000
	maxOutlineMembers = 2000 // rpc methods, in all
)

// outlineItem is a top-level definition found by a scanner.
type outlineItem struct {
	kind    string
	name    string
	offset  int // where its chunk starts (its leading comment or description)
	members []string
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// scanner is a tiny tokenizer shared by the GraphQL and protobuf outlines:
// it knows about strings and comments, so that braces and keywords inside
// them are not counted.
type scanner struct {
	text string
	i    int
}

func (s *scanner) eof() bool { return s.i >= len(s.text) }

// ident reads an identifier at s.i (or returns "").
func (s *scanner) ident() string {
	start := s.i
	if s.eof() || !isIdentStart(s.text[s.i]) {
		return ""
	}
	for s.i < len(s.text) && (isIdent(s.text[s.i]) || s.text[s.i] == '.') {
		s.i++
	}
	return s.text[start:s.i]
}

// space skips blanks (not comments).
func (s *scanner) space() {
	for s.i < len(s.text) && strings.IndexByte(" \t\r\n", s.text[s.i]) >= 0 {
		s.i++
	}
}

// skipTo moves past the next occurrence of end (or to the end of the text).
func (s *scanner) skipTo(end string) {
	if j := strings.Index(s.text[s.i:], end); j >= 0 {
		s.i += j + len(end)
	} else {
		s.i = len(s.text)
	}
}

// skipQuoted moves past a string quoted with q that started at s.i-1,
// honouring backslash escapes and stopping at a line end.
func (s *scanner) skipQuoted(q byte) {
	for s.i < len(s.text) {
		c := s.text[s.i]
		s.i++
		switch c {
		case '\\':
			s.i++
		case q, '\n':
			return
		}
	}
}

// lineStart returns the offset of the start of the line holding off if
// only blanks precede off on that line, else off.
func lineStart(text string, off int) int {
	j := off
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j == 0 || text[j-1] == '\n' {
		return j
	}
	return off
}

var graphqlKinds = map[string]string{
	"type": "Types", "input": "Inputs", "enum": "Enums", "interface": "Interfaces",
	"union": "Unions", "scalar": "Scalars", "directive": "Directives",
}

// graphqlOutline finds the top-level definitions of a GraphQL SDL document.
func graphqlOutline(text string) []outlineItem {
	var out []outlineItem
	s := &scanner{text: text}
	depth := 0
	doc := -1 // start of a description string right before a definition
	extend := -1
	for !s.eof() && len(out) < maxOutlineItems {
		c := s.text[s.i]
		switch {
		case c == '#':
			s.skipTo("\n")
		case c == '"':
			start := s.i
			if strings.HasPrefix(s.text[s.i:], `"""`) {
				s.i += 3
				for !s.eof() {
					if strings.HasPrefix(s.text[s.i:], `\"""`) {
						s.i += 4
						continue
					}
					if strings.HasPrefix(s.text[s.i:], `"""`) {
						s.i += 3
						break
					}
					s.i++
				}
			} else {
				s.i++
				s.skipQuoted('"')
			}
			if depth == 0 {
				doc = start
			}
		case c == '{' || c == '(' || c == '[':
			depth++
			s.i++
		case c == '}' || c == ')' || c == ']':
			if depth > 0 {
				depth--
			}
			s.i++
			doc = -1
		case isIdentStart(c):
			start := s.i
			word := s.ident()
			if depth != 0 {
				continue
			}
			if word == "extend" {
				extend = start
				continue
			}
			section, ok := graphqlKinds[word]
			if !ok {
				if word == "schema" {
					out = append(out, outlineItem{kind: "Schema", name: "schema", offset: lineStart(text, start)})
				}
				doc, extend = -1, -1
				continue
			}
			s.space()
			if word == "directive" && !s.eof() && s.text[s.i] == '@' {
				s.i++
			}
			name := s.ident()
			if name == "" {
				doc, extend = -1, -1
				continue
			}
			if word == "directive" {
				name = "@" + name
			}
			off := lineStart(text, start)
			if extend >= 0 {
				off = lineStart(text, extend)
				name += " (extension)"
			}
			if doc >= 0 {
				off = lineStart(text, doc)
			}
			out = append(out, outlineItem{kind: section, name: name, offset: off})
			doc, extend = -1, -1
		default:
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' {
				if depth == 0 && c != '@' && c != '=' && c != '|' && c != '&' {
					doc = -1
				}
			}
			s.i++
		}
	}
	return out
}

// protoOutline finds the services (with their rpc methods), messages and
// enums at the top level of a protobuf file.
func protoOutline(text string) []outlineItem {
	var out []outlineItem
	s := &scanner{text: text}
	depth := 0
	doc := -1      // start of a comment run right before a definition
	service := -1  // index in out of the service being read
	lastLine := -1 // offset just past the last comment, to join runs
	members := 0
	for !s.eof() && len(out) < maxOutlineItems {
		c := s.text[s.i]
		switch {
		case c == '/' && strings.HasPrefix(s.text[s.i:], "//"), c == '/' && strings.HasPrefix(s.text[s.i:], "/*"):
			start := s.i
			if s.text[s.i+1] == '/' {
				s.skipTo("\n")
			} else {
				s.i += 2
				s.skipTo("*/")
			}
			if depth == 0 && (doc < 0 || strings.TrimSpace(s.text[lastLine:start]) != "") {
				doc = start
			}
			lastLine = s.i
		case c == '"' || c == '\'':
			s.i++
			s.skipQuoted(c)
			doc = -1
		case c == '{':
			depth++
			s.i++
		case c == '}':
			if depth > 0 {
				depth--
			}
			if depth == 0 {
				service = -1
			}
			s.i++
			doc = -1
		case isIdentStart(c):
			start := s.i
			word := s.ident()
			switch {
			case depth == 0 && (word == "service" || word == "message" || word == "enum"):
				s.space()
				name := s.ident()
				if name == "" {
					break
				}
				off := lineStart(text, start)
				if doc >= 0 && strings.TrimSpace(text[lastLine:start]) == "" {
					off = lineStart(text, doc)
				}
				section := map[string]string{"service": "Services", "message": "Messages", "enum": "Enums"}[word]
				out = append(out, outlineItem{kind: section, name: name, offset: off})
				if word == "service" {
					service = len(out) - 1
				}
			case depth == 1 && service >= 0 && word == "rpc":
				end := s.i
				for end < len(text) && text[end] != ';' && text[end] != '{' && end-s.i < 500 {
					end++
				}
				sig := strings.Join(strings.Fields(text[s.i:end]), " ")
				if name, rest, ok := strings.Cut(sig, " ("); ok && !strings.Contains(name, " ") {
					sig = name + "(" + rest
				}
				if members < maxOutlineMembers {
					out[service].members = append(out[service].members, sig)
					members++
				}
				s.i = end
			}
			doc = -1
		default:
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				doc = -1
			}
			s.i++
		}
	}
	return out
}

// outlineOf groups scanned items into sections (in a fixed order) and
// gives each an element id; it returns the splits for highlight.
func outlineOf(items []outlineItem, order []string, prefix string) (Outline, []split) {
	d := newIDs()
	bySection := map[string][]OutlineItem{}
	var splits []split
	for _, it := range items {
		id := d.make(prefix, it.name)
		bySection[it.kind] = append(bySection[it.kind], OutlineItem{Name: it.name, ID: id, Kind: it.kind, Members: it.members})
		splits = append(splits, split{offset: it.offset, id: id})
	}
	var o Outline
	for _, sec := range order {
		if len(bySection[sec]) > 0 {
			o.Sections = append(o.Sections, OutlineSection{Title: sec, Items: bySection[sec]})
		}
	}
	return o, splits
}

// dropMissing clears the ids of outline items whose chunk is not shown
// (the text was cut), so that they are not links to nothing.
func (o *Outline) dropMissing(c Code) {
	shown := map[string]bool{}
	for _, ch := range c.Chunks {
		if ch.ID != "" {
			shown[ch.ID] = true
		}
	}
	for i := range o.Sections {
		for j := range o.Sections[i].Items {
			if !shown[o.Sections[i].Items[j].ID] {
				o.Sections[i].Items[j].ID = ""
			}
		}
	}
}
