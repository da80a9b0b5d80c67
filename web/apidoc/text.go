package apidoc

import (
	"net/url"
	"strconv"
	"strings"
)

// maxDescription caps one description, in bytes.
const maxDescription = 8000

// paragraphs splits a description into paragraphs at blank lines. The text
// stays plain text: Markdown is not interpreted, and the components escape
// it.
func paragraphs(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if len(s) > maxDescription {
		s = truncate(s, maxDescription) + "…"
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(s, "\n\n") {
		p = strings.TrimSpace(p)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// truncate cuts s to at most n bytes at a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

// safeHref returns u if it is an absolute http or https URL, else "".
func safeHref(u string) string {
	u = strings.TrimSpace(u)
	if u == "" || len(u) > 2000 {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		return p.String()
	}
	return ""
}

// ids hands out unique, URL-fragment-friendly element ids.
type ids struct {
	used map[string]int
}

func newIDs() *ids { return &ids{used: map[string]int{}} }

// make returns "apidoc-<prefix>-<slug of name>", with a number appended
// when that id was already given out.
func (d *ids) make(prefix, name string) string {
	id := "apidoc-" + prefix + "-" + slug(name)
	n := d.used[id]
	d.used[id] = n + 1
	if n > 0 {
		id += "-" + strconv.Itoa(n+1)
	}
	return id
}

// slug keeps letters, digits, '-', '_' and '.', replacing runs of anything
// else with one '-', and shortens the result.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if ok {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 80 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

// clone copies the ids handed out so far.
func (d *ids) clone() *ids {
	c := newIDs()
	for k, v := range d.used {
		c.used[k] = v
	}
	return c
}
