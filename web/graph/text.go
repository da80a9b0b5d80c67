package graph

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// textWidth estimates the width of s in px at the given font size in a
// system sans-serif font. The estimate errs on the wide side so that
// shortened labels fit; the node's clip path hides any rest.
func textWidth(s string, size float64) float64 {
	em := 0.0
	for _, r := range s {
		em += runeWidth(r)
	}
	return em * size
}

func runeWidth(r rune) float64 {
	switch {
	case r == ' ':
		return 0.28
	case strings.ContainsRune("iljI!|.,:;'`", r):
		return 0.28
	case strings.ContainsRune("frt()[]{}-/\\\"", r):
		return 0.38
	case r == 'm' || r == 'w':
		return 0.86
	case r == 'M' || r == 'W' || r == '@' || r == '%':
		return 0.94
	case r >= 'A' && r <= 'Z':
		return 0.7
	case r >= '0' && r <= '9':
		return 0.58
	case r < 0x80:
		return 0.58
	case r == '…':
		return 0.9
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200d || (r >= 0xfe00 && r <= 0xfe0f):
		return 0
	case r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
		(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) ||
		(r >= 0xffe0 && r <= 0xffe6) || r >= 0x1f300):
		return 1.05
	default:
		return 0.68
	}
}

// fit returns s shortened with "…" so that it is at most maxW px wide at
// the given font size.
func fit(s string, size, maxW float64) string {
	if textWidth(s, size) <= maxW {
		return s
	}
	limit := maxW/size - runeWidth('…')
	em := 0.0
	for i, r := range s {
		em += runeWidth(r)
		if em > limit {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…"
		}
	}
	return s
}

// clean makes s safe to put in XML text: invalid UTF-8 and characters XML
// does not allow (most control characters, U+FFFE, U+FFFF) become U+FFFD;
// newlines and tabs become spaces.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || !xmlChar(r) || r == '\n' || r == '\t' || r == '\r' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case !xmlChar(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlChar reports whether r is allowed in XML 1.0 text.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
