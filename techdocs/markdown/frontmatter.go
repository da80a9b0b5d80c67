package markdown

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// splitFrontMatter separates a leading YAML front matter block from the
// Markdown body, like mkdocs' meta.get_data: the page must start with a
// "---" line and the block ends at the next "---" or "..." line. When the
// YAML does not parse, or is not a mapping, the page is left untouched (mkdocs
// then renders the dashes as Markdown too).
func splitFrontMatter(src []byte) (body []byte, meta map[string]any) {
	meta = map[string]any{}
	first, rest, ok := cutLine(src)
	if !ok || !isFence(first, "---") {
		return src, meta
	}
	yamlStart := len(src) - len(rest)
	for pos := yamlStart; pos < len(src); {
		line, next, _ := cutLine(src[pos:])
		if isFence(line, "---") || isFence(line, "...") {
			raw := src[yamlStart:pos]
			var v any
			if len(bytes.TrimSpace(raw)) > 0 {
				if err := yaml.Unmarshal(raw, &v); err != nil {
					return src, meta
				}
			}
			switch m := v.(type) {
			case nil:
				// empty front matter
			case map[string]any:
				meta = m
			case map[any]any:
				for k, val := range m {
					meta[fmt.Sprint(k)] = val
				}
			default:
				return src, meta
			}
			body = src[len(src)-len(next):]
			return bytes.TrimLeft(body, "\n"), meta
		}
		pos = len(src) - len(next)
	}
	return src, meta
}

// cutLine returns the first line of b (without its newline) and the rest.
// ok is false when b is empty.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, true
}

func isFence(line []byte, fence string) bool {
	return string(bytes.TrimRight(line, " \t")) == fence
}

// applyMeta copies the well-known front matter keys into the result.
func applyMeta(res *Result) {
	if t, ok := res.Meta["title"]; ok && t != nil {
		switch v := t.(type) {
		case string:
			res.Title = strings.TrimSpace(v)
		case map[string]any, []any:
			// not a usable title
		default:
			res.Title = fmt.Sprint(v)
		}
	}
	var hide []string
	switch v := res.Meta["hide"].(type) {
	case string:
		hide = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				hide = append(hide, s)
			}
		}
	}
	for _, h := range hide {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "navigation", "nav":
			res.HideNav = true
		case "toc":
			res.HideTOC = true
		}
	}
}
