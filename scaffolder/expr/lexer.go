package expr

import (
	"fmt"
	"strings"
)

// Error is a template error, formatted like nunjitsu's TemplateRenderError.
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "Template error: " + e.Msg
	}
	return fmt.Sprintf("Template error at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

type tokKind int

const (
	tEOF tokKind = iota
	tName
	tNumber
	tString
	tRegex
	tOp
	tEnd // end of tag
)

type token struct {
	kind  tokKind
	val   string
	flags string // regex flags
	pos   int
}

// segment kinds
const (
	segText = iota
	segVar
	segBlock
)

type segment struct {
	kind   int
	text   string
	toks   []token
	pos    int
	trimL  bool // strip whitespace before (from "${{-" / "{%-")
	trimR  bool // strip whitespace after ("-}}" / "-%}")
	endPos int
}

type lexer struct {
	src                      string
	varStart, varEnd         string
	trimBlocks, lstripBlocks bool
}

func (l *lexer) errAt(pos int, format string, a ...any) *Error {
	line, col := lineCol(l.src, pos)
	return &Error{Line: line, Column: col, Msg: fmt.Sprintf(format, a...)}
}

func lineCol(src string, pos int) (int, int) {
	if pos > len(src) {
		pos = len(src)
	}
	line := 1 + strings.Count(src[:pos], "\n")
	start := strings.LastIndex(src[:pos], "\n") + 1
	return line, len([]rune(src[start:pos])) + 1
}

// segments splits the template into text, variable and block segments.
func (l *lexer) segments() ([]segment, error) {
	src := l.src
	var segs []segment
	i := 0
	for i < len(src) {
		// find the next opening delimiter
		next, kind := -1, 0
		for j := i; j < len(src); j++ {
			if strings.HasPrefix(src[j:], l.varStart) {
				next, kind = j, segVar
				break
			}
			if strings.HasPrefix(src[j:], "{%") {
				next, kind = j, segBlock
				break
			}
			if strings.HasPrefix(src[j:], "{#") {
				next, kind = j, -1
				break
			}
		}
		if next < 0 {
			segs = append(segs, segment{kind: segText, text: src[i:], pos: i})
			break
		}
		if next > i {
			segs = append(segs, segment{kind: segText, text: src[i:next], pos: i})
		}
		if kind == -1 { // comment
			end := strings.Index(src[next+2:], "#}")
			if end < 0 {
				return nil, l.errAt(next, "Unterminated comment")
			}
			body := src[next+2 : next+2+end]
			seg := segment{kind: -1, pos: next}
			seg.trimL = strings.HasPrefix(body, "-")
			seg.trimR = strings.HasSuffix(body, "-")
			segs = append(segs, seg)
			i = next + 2 + end + 2
			continue
		}
		start := next + 2
		endDelim := "%}"
		if kind == segVar {
			start = next + len(l.varStart)
			endDelim = l.varEnd
		}
		seg := segment{kind: kind, pos: next}
		if start < len(src) && src[start] == '-' {
			seg.trimL = true
			start++
		}
		toks, end, trimR, err := l.lexTag(start, endDelim)
		if err != nil {
			return nil, err
		}
		if end < 0 {
			if kind == segVar {
				return nil, l.errAt(next, "Unterminated variable tag")
			}
			return nil, l.errAt(next, "Unterminated block tag")
		}
		seg.toks, seg.trimR, seg.endPos = toks, trimR, end
		segs = append(segs, seg)
		i = end
		if kind == segBlock && len(toks) > 0 && toks[0].kind == tName && (toks[0].val == "raw" || toks[0].val == "verbatim") {
			// capture raw text up to the matching end tag
			closeName := "end" + toks[0].val
			j := i
			found := false
			for j < len(src) {
				k := strings.Index(src[j:], "{%")
				if k < 0 {
					break
				}
				k += j
				p := k + 2
				tl := false
				if p < len(src) && src[p] == '-' {
					tl = true
					p++
				}
				rest := strings.TrimLeft(src[p:], " \t\r\n")
				if strings.HasPrefix(rest, closeName) {
					ct, cend, ctr, err := l.lexTag(p, "%}")
					if err == nil && cend >= 0 && len(ct) == 2 && ct[0].val == closeName {
						segs = append(segs, segment{kind: segText, text: src[i:k], pos: i})
						segs = append(segs, segment{kind: segBlock, toks: ct, pos: k, trimL: tl, trimR: ctr, endPos: cend})
						i = cend
						found = true
						break
					}
				}
				j = k + 2
			}
			if !found {
				return nil, l.errAt(next, "Missing end%s tag", toks[0].val)
			}
		}
	}
	// whitespace control, trimBlocks, lstripBlocks
	for n := range segs {
		s := &segs[n]
		if s.kind == segText {
			continue
		}
		if s.trimL && n > 0 && segs[n-1].kind == segText {
			segs[n-1].text = strings.TrimRight(segs[n-1].text, " \t\r\n")
		}
		if s.trimR && n+1 < len(segs) && segs[n+1].kind == segText {
			segs[n+1].text = strings.TrimLeft(segs[n+1].text, " \t\r\n")
		}
	}
	if l.trimBlocks || l.lstripBlocks {
		for n := range segs {
			s := &segs[n]
			if s.kind != segBlock && s.kind != -1 {
				continue
			}
			if l.trimBlocks && n+1 < len(segs) && segs[n+1].kind == segText {
				t := segs[n+1].text
				if strings.HasPrefix(t, "\r\n") {
					segs[n+1].text = t[2:]
				} else if strings.HasPrefix(t, "\n") {
					segs[n+1].text = t[1:]
				}
			}
			if l.lstripBlocks && n > 0 && segs[n-1].kind == segText {
				t := segs[n-1].text
				k := strings.LastIndexByte(t, '\n')
				tail := t[k+1:]
				if strings.Trim(tail, " \t") == "" && (k >= 0 || n-1 == 0) {
					segs[n-1].text = t[:k+1]
				}
			}
		}
	}
	return segs, nil
}

const opChars = "+-*/%~=!<>()[]{}.,:|?"

// lexTag tokenizes expression text starting at pos until endDelim.
// Returns the tokens, the offset just after endDelim (-1 if not found).
func (l *lexer) lexTag(pos int, endDelim string) ([]token, int, bool, error) {
	src := l.src
	var toks []token
	i := pos
	for i < len(src) {
		c := src[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		if strings.HasPrefix(src[i:], endDelim) {
			toks = append(toks, token{kind: tEnd, pos: i})
			return toks, i + len(endDelim), false, nil
		}
		if c == '-' && strings.HasPrefix(src[i+1:], endDelim) {
			toks = append(toks, token{kind: tEnd, pos: i})
			return toks, i + 1 + len(endDelim), true, nil
		}
		switch {
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				ch := src[j]
				if ch == '\\' && j+1 < len(src) {
					j++
					switch src[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					default:
						b.WriteByte(src[j])
					}
					j++
					continue
				}
				if ch == c {
					closed = true
					j++
					break
				}
				b.WriteByte(ch)
				j++
			}
			if !closed {
				return nil, 0, false, l.errAt(i, "Unterminated string")
			}
			toks = append(toks, token{kind: tString, val: b.String(), pos: i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j+1 < len(src) && src[j] == '.' && src[j+1] >= '0' && src[j+1] <= '9' {
				j++
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			if j < len(src) && (isIdentChar(src[j])) {
				return nil, 0, false, l.errAt(i, "Invalid numeric literal")
			}
			toks = append(toks, token{kind: tNumber, val: src[i:j], pos: i})
			i = j
		case c == 'r' && i+1 < len(src) && src[i+1] == '/':
			j := i + 2
			var b strings.Builder
			closed := false
			inClass := false
			for j < len(src) {
				ch := src[j]
				if ch == '\\' && j+1 < len(src) {
					b.WriteByte(ch)
					b.WriteByte(src[j+1])
					j += 2
					continue
				}
				if ch == '[' {
					inClass = true
				} else if ch == ']' {
					inClass = false
				} else if ch == '/' && !inClass {
					closed = true
					j++
					break
				} else if ch == '\n' {
					break
				}
				b.WriteByte(ch)
				j++
			}
			if !closed {
				return nil, 0, false, l.errAt(i, "Unterminated regular expression")
			}
			k := j
			for k < len(src) && strings.IndexByte("gimsuy", src[k]) >= 0 {
				k++
			}
			toks = append(toks, token{kind: tRegex, val: b.String(), flags: src[j:k], pos: i})
			i = k
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tName, val: src[i:j], pos: i})
			i = j
		case strings.IndexByte(opChars, c) >= 0:
			op := string(c)
			for _, cand := range []string{"===", "!==", "//", "**", "==", "!=", "<=", ">="} {
				if strings.HasPrefix(src[i:], cand) {
					op = cand
					break
				}
			}
			toks = append(toks, token{kind: tOp, val: op, pos: i})
			i += len(op)
		default:
			return nil, 0, false, l.errAt(i, "Unexpected character %q", string(c))
		}
		if len(toks) > 10000 {
			return nil, 0, false, l.errAt(pos, "Template tag too long")
		}
	}
	return toks, -1, false, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
