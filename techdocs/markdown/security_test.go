package markdown

import (
	"strings"
	"testing"
)

// attacks are Markdown snippets that try to get script, styles, frames,
// event handlers or dangerous URLs into the output.
var attacks = map[string]string{
	"script block":        "<script>alert(1)</script>\n",
	"script inline":       "text <script>alert(1)</script> text\n",
	"style block":         "<style>body{display:none}</style>\n",
	"iframe":              "<iframe src=\"https://evil.example\"></iframe>\n",
	"object/embed":        "<object data=\"x.swf\"></object><embed src=\"x.swf\">\n",
	"form":                "<form action=\"https://evil.example\"><input type=\"text\" name=\"q\"><button>go</button></form>\n",
	"meta/base/link":      "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\"><base href=\"https://evil.example/\"><link rel=\"stylesheet\" href=\"x.css\">\n",
	"svg onload":          "<svg onload=\"alert(1)\"><circle r=\"1\"/></svg>\n",
	"img onerror":         "<img src=\"x\" onerror=\"alert(1)\">\n",
	"a onclick":           "<a href=\"ok.md\" onclick=\"alert(1)\" onmouseover=\"alert(1)\">x</a>\n",
	"style attribute":     "<div style=\"position:fixed;inset:0\">overlay</div>\n",
	"raw javascript href": "<a href=\"javascript:alert(1)\">a</a> <a href=\"JaVaScRiPt:alert(1)\">b</a> <a href=\" javascript:alert(1)\">c</a> <a href=\"java&#x09;script:alert(1)\">d</a> <a href=\"&#106;avascript:alert(1)\">e</a>\n",
	"raw vbscript/data":   "<a href=\"vbscript:msgbox(1)\">a</a> <img src=\"data:image/svg+xml;base64,PHN2Zz4=\"> <a href=\"data:text/html,<script>alert(1)</script>\">b</a>\n",
	"raw srcset":          "<img src=\"ok.png\" srcset=\"data:image/png;base64,AAAA 1x, javascript:alert(1) 2x\">\n",
	"md javascript link":  "[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](&#106;avascript:alert(1)) [d](<javascript:alert(1)>) [e](java\\script:alert(1))\n",
	"md other schemes":    "[a](vbscript:msgbox) [b](data:text/html;base64,PHNjcmlwdD4=) [c](file:///etc/passwd)\n",
	"md image schemes":    "![a](javascript:alert(1)) ![b](data:image/png;base64,AAAA) ![c](vbscript:x)\n",
	"reference link":      "[a][r] ![b][r]\n\n[r]: javascript:alert(1)\n",
	"autolink":            "<javascript:alert(1)> <vbscript:x> <data:text/html,x>\n",
	"link title":          "[a](ok.md \"\\\" onmouseover=\\\"alert(1)\")\n",
	"admonition title":    "!!! note \"<script>alert(1)</script><img src=x onerror=alert(1)>\"\n    body\n\n??? tip \"<a href='javascript:alert(1)'>x</a>\"\n    body\n",
	"tab title":           "=== \"<script>alert(1)</script>\"\n    a\n\n=== \"<img src=x onerror=alert(1)>\"\n    b\n",
	"code title":          "```python title=\"<script>alert(1)</script>\"\nx\n```\n\n```python title='\" onmouseover=\"alert(1)'\nx\n```\n",
	"code language":       "```\"><script>alert(1)</script>\nx\n```\n",
	"heading attributes":  "# Title {onclick=\"alert(1)\" style=\"color:red\" data-x=\"1\"}\n\n## Other {: onmouseover=\"alert(1)\" .ok }\n",
	"attr list":           "[x](y.md){onclick=\"alert(1)\" style=\"x\" href=\"javascript:alert(1)\"} ![i](i.png){onerror=alert(1) src=\"javascript:alert(1)\"}\n",
	"abbr title":          "HTML text\n\n*[HTML]: \"><script>alert(1)</script>\n",
	"footnote":            "x[^1]\n\n[^1]: <script>alert(1)</script> <img src=x onerror=alert(1)>\n",
	"noscript mxss":       "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>\n",
	"math mxss":           "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>\n",
	"svg style mxss":      "<svg><style><img src=x onerror=alert(1)></style></svg>\n",
	"inputs":              "<input type=\"text\" value=\"x\"> <input type=\"radio\" onclick=\"alert(1)\"> <select><option>x</option></select> <textarea>x</textarea>\n",
	"details":             "<details open ontoggle=\"alert(1)\"><summary>s</summary>x</details>\n",
	"in admonition":       "!!! warning\n    <script>alert(1)</script>\n\n    [x](javascript:alert(1))\n",
	"in tab":              "=== \"T\"\n    <img src=x onerror=alert(1)>\n\n    <iframe src=x></iframe>\n",
	"placeholder forgery": "&#xE000;0000000000000000" + "0&#xE001; \ue0000000000000000000" + "0\ue001\n\n```py\nx\n```\n",
}

func TestSecurity(t *testing.T) {
	for name, src := range attacks {
		t.Run(name, func(t *testing.T) {
			var targets []string
			res, err := Render([]byte(src), Options{ResolveLink: func(target string, image bool) (string, bool) {
				targets = append(targets, target)
				return target, true
			}})
			if err != nil {
				t.Fatal(err)
			}
			if bad := unsafeMarkup(res.HTML); bad != "" {
				t.Errorf("unsafe output (%s):\n%s", bad, res.HTML)
			}
			// (unsafeMarkup parses the output; this also catches what a
			// lenient parser might not see, e.g. in attribute values)
			lower := strings.ToLower(res.HTML)
			for _, s := range []string{"<script", "<iframe", "<style", "<svg", "<math", "<object", "<embed", "<form", "=\"javascript:", "=\"vbscript:", "=\"data:"} {
				if strings.Contains(lower, s) {
					t.Errorf("output contains %q:\n%s", s, res.HTML)
				}
			}
			for _, target := range targets {
				if s := urlScheme(cleanURL(target)); s != "" {
					t.Errorf("ResolveLink called with %q", target)
				}
			}
		})
	}
}

// TestSecurityResolverOutput: an href returned by ResolveLink is checked
// too.
func TestSecurityResolverOutput(t *testing.T) {
	res := render(t, "[a](x.md) ![b](y.png) <a href=\"z.md\">c</a>", Options{ResolveLink: func(string, bool) (string, bool) {
		return "javascript:alert(1)", true
	}})
	if strings.Contains(res.HTML, "javascript") {
		t.Errorf("resolver output not checked:\n%s", res.HTML)
	}
}

// TestSecurityEscaping: text that looks like markup stays text.
func TestSecurityEscaping(t *testing.T) {
	res := render(t, "Use `<script>` or \\<b> or &lt;i&gt;.\n\n!!! note \"a < b & c\"\n    x\n", Options{})
	for _, want := range []string{"<code>&lt;script&gt;</code>", "&lt;b&gt;", "&lt;i&gt;", "a &lt; b &amp; c"} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("missing %s:\n%s", want, res.HTML)
		}
	}
}
