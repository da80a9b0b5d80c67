package markdown

import (
	"strings"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// unsafeMarkup parses sanitized output as a browser would and returns a
// description of the first dangerous construct, or "" when there is none:
// script-capable or embedding elements, event handler / style attributes,
// URLs with a scheme other than http, https, mailto and tel, and ids or
// classes outside the allowed character set.
func unsafeMarkup(html string) string {
	nodes, err := xhtml.ParseFragment(strings.NewReader(html), &xhtml.Node{Type: xhtml.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return "unparseable: " + err.Error()
	}
	var walk func(n *xhtml.Node) string
	walk = func(n *xhtml.Node) string {
		if n.Type == xhtml.ElementNode {
			switch n.Data {
			case "script", "style", "iframe", "frame", "object", "embed", "form", "svg", "math",
				"link", "meta", "base", "textarea", "select", "button", "template", "noscript":
				return "element <" + n.Data + ">"
			case "input":
				for _, a := range n.Attr {
					if a.Key == "type" && a.Val != "checkbox" && a.Val != "radio" {
						return "input type " + a.Val
					}
				}
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					return "event handler " + key + " on <" + n.Data + ">"
				case key == "style", key == "srcdoc", key == "formaction", key == "action":
					return "attribute " + key + " on <" + n.Data + ">"
				case key == "href" || key == "src" || key == "cite" || key == "srcset" || key == "poster" || key == "background":
					if s := urlScheme(cleanURL(a.Val)); s != "" && !passThroughSchemes[s] {
						return "url " + a.Val + " on <" + n.Data + ">"
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if bad := walk(c); bad != "" {
				return bad
			}
		}
		return ""
	}
	for _, n := range nodes {
		if bad := walk(n); bad != "" {
			return bad
		}
	}
	return ""
}
