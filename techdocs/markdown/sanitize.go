package markdown

import (
	"bytes"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

var (
	policyOnce sync.Once
	policy     *bluemonday.Policy
)

// newPolicy is bluemonday's UGC policy plus what the renderer itself emits:
//
//   - class on every element (classes carry the admonition / tab / chroma /
//     task-list styling), id on every element (bluemonday's standard id
//     pattern: heading anchors, footnotes, tab inputs)
//   - details/summary with open, kbd, mark, ins, del, sub, sup, abbr[title]
//   - input: type checkbox (task lists, always disabled by goldmark) and radio
//     (tabs) with name/id/checked/disabled; label[for]
//   - align on table cells, paragraphs, divs and images; width/height on
//     images; loading on images; tabindex="0" on pre
//   - role for goldmark's footnote markup
//
// URLs: http, https, mailto, tel and relative URLs; everything else
// (javascript:, vbscript:, data:, file:, …) is removed. rel="nofollow" is
// added to links with a host. script/style/iframe/object/embed/form/svg
// and event handler or style attributes never pass.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.AllowURLSchemes("mailto", "http", "https", "tel")

	p.AllowAttrs("class").Matching(regexp.MustCompile(`^[A-Za-z0-9_\- ]+$`)).Globally()
	p.AllowElements("kbd", "mark", "ins", "del", "sub", "sup", "abbr", "summary", "figure", "figcaption", "center", "picture")
	p.AllowAttrs("title").OnElements("abbr")
	p.AllowAttrs("open").Matching(regexp.MustCompile(`(?i)^(|open)$`)).OnElements("details")

	p.AllowAttrs("type").Matching(regexp.MustCompile(`(?i)^(checkbox|radio)$`)).OnElements("input")
	p.AllowAttrs("checked").Matching(regexp.MustCompile(`(?i)^(|checked)$`)).OnElements("input")
	p.AllowAttrs("disabled").Matching(regexp.MustCompile(`(?i)^(|disabled)$`)).OnElements("input")
	p.AllowAttrs("name").Matching(regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)).OnElements("input")
	p.AllowAttrs("for").Matching(regexp.MustCompile(`^[A-Za-z0-9_\-:.]+$`)).OnElements("label")

	align := regexp.MustCompile(`(?i)^(left|right|center|justify)$`)
	p.AllowAttrs("align").Matching(align).OnElements("p", "div", "img", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("img")
	p.AllowAttrs("loading").Matching(regexp.MustCompile(`^(lazy|eager)$`)).OnElements("img")
	p.AllowAttrs("tabindex").Matching(regexp.MustCompile(`^0$`)).OnElements("pre")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^(doc-noteref|doc-endnotes|doc-backlink|note)$`)).Globally()
	return p
}

func getPolicy() *bluemonday.Policy {
	policyOnce.Do(func() { policy = newPolicy() })
	return policy
}

var fragmentContext = &xhtml.Node{Type: xhtml.ElementNode, Data: "div", DataAtom: atom.Div}

// sanitize normalises the HTML with an HTML5 parser — which closes what the
// author left open and drops stray end tags, so nothing can close the page's
// own containers — and then filters it through the allow-list policy.
// Without raw HTML, goldmark's output is balanced by construction and the
// normalisation is skipped.
func sanitize(raw []byte, balance bool) string {
	if !balance {
		return string(getPolicy().SanitizeBytes(raw))
	}
	nodes, err := xhtml.ParseFragment(bytes.NewReader(raw), fragmentContext)
	var balanced bytes.Buffer
	balanced.Grow(len(raw) + len(raw)/8)
	if err == nil {
		for _, n := range nodes {
			if err = xhtml.Render(&balanced, n); err != nil {
				break
			}
		}
	}
	if err != nil {
		// cannot happen with an in-memory reader; escape everything rather
		// than pass unbalanced markup on
		balanced.Reset()
		balanced.WriteString(xhtml.EscapeString(string(raw)))
	}
	return string(getPolicy().SanitizeBytes(balanced.Bytes()))
}
