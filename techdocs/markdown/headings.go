package markdown

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// slugify mirrors Python-Markdown's toc.slugify (the mkdocs default):
//
//	value = unicodedata.normalize('NFKD', value).encode('ascii', 'ignore')
//	value = re.sub(r'[^\w\s-]', '', value).strip().lower()
//	return re.sub(r'[-\s]+', '-', value)
//
// NFKD + ASCII folding is approximated with a table covering Latin-1,
// Latin Extended-A, full-width ASCII and common compatibility characters;
// any other non-ASCII character is dropped, as Python does for characters
// without an ASCII decomposition.
func slugify(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		b.WriteString(foldRune(r))
	}
	// [^\w\s-] removed; \s kept for now.
	folded := b.String()
	b.Reset()
	for i := 0; i < len(folded); i++ {
		c := folded[i]
		if isASCIIWord(c) || c == '-' || isPySpace(c) {
			b.WriteByte(c)
		}
	}
	v := strings.ToLower(strings.TrimFunc(b.String(), func(r rune) bool { return r < 128 && isPySpace(byte(r)) }))
	b.Reset()
	inSep := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '-' || isPySpace(c) {
			if !inSep {
				b.WriteByte('-')
			}
			inSep = true
			continue
		}
		inSep = false
		b.WriteByte(c)
	}
	return b.String()
}

func isASCIIWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isPySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// foldTable maps precomposed characters to their NFKD ASCII remainder.
var foldTable = func() map[rune]string {
	m := map[rune]string{}
	add := func(ascii string, chars string) {
		for _, r := range chars {
			m[r] = ascii
		}
	}
	add("A", "ÀÁÂÃÄÅĀĂĄǍǞǠǺȀȂȦ")
	add("a", "àáâãäåāăąǎǟǡǻȁȃȧª")
	add("C", "ÇĆĈĊČ")
	add("c", "çćĉċč")
	add("D", "Ď")
	add("d", "ď")
	add("E", "ÈÉÊËĒĔĖĘĚȄȆȨ")
	add("e", "èéêëēĕėęěȅȇȩ")
	add("G", "ĜĞĠĢǦǴ")
	add("g", "ĝğġģǧǵ")
	add("H", "ĤȞ")
	add("h", "ĥȟ")
	add("I", "ÌÍÎÏĨĪĬĮİǏȈȊ")
	add("i", "ìíîïĩīĭįǐȉȋ")
	add("J", "Ĵ")
	add("j", "ĵǰ")
	add("K", "ĶǨ")
	add("k", "ķǩ")
	add("L", "ĹĻĽ")
	add("l", "ĺļľ")
	add("N", "ÑŃŅŇǸ")
	add("n", "ñńņňǹ")
	add("O", "ÒÓÔÕÖŌŎŐƠǑǪǬȌȎȪȬȮȰ")
	add("o", "òóôõöōŏőơǒǫǭȍȏȫȭȯȱº")
	add("R", "ŔŖŘȐȒ")
	add("r", "ŕŗřȑȓ")
	add("S", "ŚŜŞŠȘ")
	add("s", "śŝşšș")
	add("T", "ŢŤȚ")
	add("t", "ţťț")
	add("U", "ÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛȔȖ")
	add("u", "ùúûüũūŭůűųưǔǖǘǚǜȕȗ")
	add("W", "Ŵ")
	add("w", "ŵ")
	add("Y", "ÝŶŸȲ")
	add("y", "ýÿŷȳ")
	add("Z", "ŹŻŽ")
	add("z", "źżž")
	add("1", "¹")
	add("2", "²")
	add("3", "³")
	add(" ", "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000")
	add("...", "…")
	add("IJ", "Ĳ")
	add("ij", "ĳ")
	add("L", "Ŀ")
	add("l", "ŀ")
	add("'n", "ŉ")
	add("DZ", "Ǳ")
	add("Dz", "ǲ")
	add("dz", "ǳ")
	add("LJ", "Ǉ")
	add("Lj", "ǈ")
	add("lj", "ǉ")
	add("NJ", "Ǌ")
	add("Nj", "ǋ")
	add("nj", "ǌ")
	add("ff", "ﬀ")
	add("fi", "ﬁ")
	add("fl", "ﬂ")
	add("ffi", "ﬃ")
	add("ffl", "ﬄ")
	add("st", "ﬅﬆ")
	add("TM", "™")
	add("1/4", "¼")
	add("1/2", "½")
	add("3/4", "¾")
	return m
}()

func foldRune(r rune) string {
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		return string(r - 0xFF01 + '!')
	}
	if s, ok := foldTable[r]; ok {
		return s
	}
	if unicode.IsSpace(r) {
		return " "
	}
	return ""
}

// idSet hands out unique heading ids like Python-Markdown's toc.unique:
//
//	while id in ids or not id:
//	    m = re.match(r'^(.*)_([0-9]+)$', id)
//	    id = '%s_%d' % (m.group(1), int(m.group(2))+1) if m else '%s_%d' % (id, 1)
//
// without its quadratic cost on pages that repeat a heading hundreds of
// times (changelogs): filled[prefix] = n records that prefix_1 … prefix_n are
// all taken, so the search resumes after them.
type idSet struct {
	used   map[string]bool
	filled map[string]int
}

func newIDSet() *idSet {
	return &idSet{used: map[string]bool{}, filled: map[string]int{}}
}

func (s *idSet) reserve(id string) { s.used[id] = true }

func (s *idSet) unique(id string) string {
	if id != "" && !s.used[id] {
		s.used[id] = true
		return id
	}
	prefix, n := splitIDCount(id)
	f := s.filled[prefix]
	contiguous := n <= f+1
	if contiguous {
		n = f + 1
	}
	for {
		cand := prefix + "_" + strconv.Itoa(n)
		if !s.used[cand] {
			s.used[cand] = true
			if contiguous {
				s.filled[prefix] = n
			}
			return cand
		}
		n++
	}
}

// splitIDCount splits "name_12" into ("name", 13): the next number to try.
// An id without a numeric suffix gives (id, 1).
func splitIDCount(id string) (string, int) {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	if i == len(id) || i == 0 || id[i-1] != '_' || len(id)-i > 9 {
		return id, 1
	}
	n, _ := strconv.Atoi(id[i:])
	return id[:i-1], n + 1
}
