package markdown

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func render(t *testing.T, src string, opts Options) *Result {
	t.Helper()
	res, err := Render([]byte(src), opts)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if bad := unsafeMarkup(res.HTML); bad != "" {
		t.Fatalf("unsafe output (%s):\n%s", bad, res.HTML)
	}
	return res
}

// TestFixtures renders testdata/features/NAME.md and checks the fragments
// listed in NAME.want: "+ fragment" must appear in the HTML, "- fragment"
// must not.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/features/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, md := range files {
		name := strings.TrimSuffix(filepath.Base(md), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(md)
			if err != nil {
				t.Fatal(err)
			}
			res := render(t, string(src), Options{ResolveLink: acceptAll})
			f, err := os.Open(strings.TrimSuffix(md, ".md") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			checked := 0
			for sc.Scan() {
				line := sc.Text()
				if len(line) < 2 || line[0] == '#' {
					continue
				}
				frag := line[2:]
				switch line[0] {
				case '+':
					if !strings.Contains(res.HTML, frag) {
						t.Errorf("missing %q", frag)
					}
				case '-':
					if strings.Contains(res.HTML, frag) {
						t.Errorf("unexpected %q", frag)
					}
				default:
					t.Fatalf("bad .want line %q", line)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("empty .want file")
			}
			if t.Failed() {
				t.Logf("HTML:\n%s", res.HTML)
			}
		})
	}
}

func TestFrontMatter(t *testing.T) {
	res := render(t, "---\ntitle: From Meta\nhide:\n  - navigation\n  - toc\nowner: team-a\ntags: [x, y]\n---\n\n# Heading One\n\nBody.\n", Options{})
	if res.Title != "From Meta" {
		t.Errorf("Title = %q", res.Title)
	}
	if !res.HideNav || !res.HideTOC {
		t.Errorf("HideNav=%v HideTOC=%v", res.HideNav, res.HideTOC)
	}
	if res.Meta["owner"] != "team-a" || !reflect.DeepEqual(res.Meta["tags"], []any{"x", "y"}) {
		t.Errorf("Meta = %#v", res.Meta)
	}
	if strings.Contains(res.HTML, "owner") || strings.Contains(res.HTML, "<hr") {
		t.Errorf("front matter leaked into HTML:\n%s", res.HTML)
	}

	// no front matter title: the first h1
	res = render(t, "Intro\n\n# First `H1`\n\n# Second\n", Options{})
	if res.Title != "First H1" {
		t.Errorf("Title = %q", res.Title)
	}
	if len(res.Meta) != 0 || res.HideNav || res.HideTOC {
		t.Errorf("unexpected meta %#v", res.Meta)
	}

	// invalid YAML: mkdocs leaves the page alone
	res = render(t, "---\ntitle: [unclosed\n---\n\nText\n", Options{})
	if len(res.Meta) != 0 || !strings.Contains(res.HTML, "Text") {
		t.Errorf("invalid front matter: meta=%#v html=%s", res.Meta, res.HTML)
	}

	// a thematic break that is not front matter
	res = render(t, "Para\n\n---\n\nMore\n", Options{})
	if !strings.Contains(res.HTML, "<hr") || len(res.Meta) != 0 {
		t.Errorf("hr: %s", res.HTML)
	}

	// hide as a string, CRLF line endings, BOM
	res = render(t, "\ufeff---\r\nhide: toc\r\n---\r\n# T\r\n", Options{})
	if !res.HideTOC || res.HideNav || res.Title != "T" {
		t.Errorf("CRLF front matter: %+v", res)
	}

	// no title anywhere
	res = render(t, "## Only h2\n", Options{})
	if res.Title != "" {
		t.Errorf("Title = %q", res.Title)
	}
}

func TestHeadingsAndTOC(t *testing.T) {
	src, err := os.ReadFile("testdata/features/headings.md")
	if err != nil {
		t.Fatal(err)
	}
	res := render(t, string(src), Options{})
	if res.Title != "Page Title" {
		t.Errorf("Title = %q", res.Title)
	}
	wantHeadings := []Heading{
		{1, "page-title", "Page Title"},
		{2, "getting-started", "Getting Started!"},
		{2, "getting-started_1", "Getting Started"},
		{2, "getting-started_2", "Getting Started?"},
		{2, "cafe-creme-unicode", "Café & Crème: Ünïcödé"},
		{2, "api-v2-whats-new", "API v2 -- what's new"},
		{3, "my-id", "Custom"},
		{3, "py-id", "Python style"},
		{4, "level-four", "Level four"},
		{5, "level-five", "Level five"},
		{1, "second-h1", "Second H1"},
	}
	if !reflect.DeepEqual(res.Headings, wantHeadings) {
		t.Errorf("Headings =\n%v\nwant\n%v", res.Headings, wantHeadings)
	}
	// h2–h4, plus h1s after the first; no h5
	var tocIDs []string
	for _, h := range res.TOC {
		tocIDs = append(tocIDs, h.ID)
	}
	wantTOC := []string{"getting-started", "getting-started_1", "getting-started_2", "cafe-creme-unicode",
		"api-v2-whats-new", "my-id", "py-id", "level-four", "second-h1"}
	if !reflect.DeepEqual(tocIDs, wantTOC) {
		t.Errorf("TOC = %v\nwant %v", tocIDs, wantTOC)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Hello World":            "hello-world",
		"  Trim  me  ":           "trim-me",
		"A -- B":                 "a-b",
		"snake_case stays":       "snake_case-stays",
		"Ünïcödé Çafé":           "unicode-cafe",
		"日本語":                    "",
		"100% done!":             "100-done",
		"Full-width ＡＢＣ":         "full-width-abc",
		"Tab\tand\nnewline":      "tab-and-newline",
		"What's new in v1.2.3?":  "whats-new-in-v123",
		"-leading and trailing-": "-leading-and-trailing-",
	} {
		if got := slugify(in); got != want {
			t.Errorf("slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUniqueIDs(t *testing.T) {
	s := newIDSet()
	var got []string
	for _, id := range []string{"a", "a", "a", "a_1", "", "", "b_2", "b_2", "x_9"} {
		got = append(got, s.unique(id))
	}
	// Python-Markdown: a, a_1, a_2, then "a_1" taken → a_3; "" → _1, _2;
	// b_2, then b_3; x_9
	want := []string{"a", "a_1", "a_2", "a_3", "_1", "_2", "b_2", "b_3", "x_9"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	// many duplicates stay fast and correct
	s = newIDSet()
	for i := 0; i < 5000; i++ {
		s.unique("patch-changes")
	}
	if id := s.unique("patch-changes"); id != "patch-changes_5000" {
		t.Errorf("got %s", id)
	}
}

func TestLinks(t *testing.T) {
	var calls []string
	resolve := func(target string, image bool) (string, bool) {
		kind := "link"
		if image {
			kind = "image"
		}
		calls = append(calls, kind+":"+target)
		switch {
		case strings.HasPrefix(target, "missing"):
			return "", false
		case strings.HasPrefix(target, "../../"):
			return "/outside", false // resolver refuses paths that climb out
		}
		return "/docs/" + strings.Replace(target, ".md", "/", 1), true
	}
	src := `[rel](../other.md#sec) [anchor](#local) [abs](https://example.com/x?a=1&b=2) [mail](mailto:a@b.c)
![img](img/a.png "Title") [ref][r] [missing](missing.md) [climb](../../../etc/passwd)
[missing again](missing.md) ![missing img](missing.png) [spaces](<my page.md>) [empty]()

[r]: ref.md#part

<a href="raw.md">raw</a> <img src="raw.png" alt="raw"> <a href="missing-raw.md" class="btn">x</a>

[button](start.md){ .md-button .md-button--primary } ![sized](pic.png){: width="120" align=right }
`
	res := render(t, src, Options{ResolveLink: resolve})
	for _, want := range []string{
		`<a href="/docs/../other/#sec">rel</a>`,
		`<a href="/docs/#local">anchor</a>`,
		`<a href="https://example.com/x?a=1&amp;b=2" rel="nofollow">abs</a>`,
		`<a href="mailto:a@b.c">mail</a>`,
		`<img src="/docs/img/a.png" alt="img" title="Title"`,
		`<a href="/docs/ref/#part">ref</a>`,
		`<a class="broken-link">missing</a>`,
		`<a href="/outside" class="broken-link">climb</a>`,
		`<img alt="missing img" class="broken-link"`,
		`<a href="/docs/my%20page/">spaces</a>`,
		`<a href="/docs/raw/">raw</a>`,
		`<img src="/docs/raw.png" alt="raw"`,
		`<a class="btn broken-link">x</a>`,
		`<a href="/docs/start/" class="md-button md-button--primary">button</a>`,
		`<img src="/docs/pic.png" alt="sized" width="120" align="right"`,
	} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(res.HTML, "{") {
		t.Errorf("attribute list left in output:\n%s", res.HTML)
	}
	wantBroken := []string{"missing.md", "../../../etc/passwd", "missing.png", "missing-raw.md"}
	if !reflect.DeepEqual(res.Broken, wantBroken) {
		t.Errorf("Broken = %q, want %q", res.Broken, wantBroken)
	}
	for _, c := range calls {
		if strings.Contains(c, "example.com") || strings.Contains(c, "mailto") {
			t.Errorf("absolute URL passed to ResolveLink: %s", c)
		}
	}
	if !contains(calls, "link:#local") || !contains(calls, "image:img/a.png") || !contains(calls, "link:my page.md") {
		t.Errorf("calls = %q", calls)
	}
	if t.Failed() {
		t.Logf("HTML:\n%s", res.HTML)
	}

	// nil ResolveLink keeps targets
	res = render(t, "[a](b.md#c) ![i](i.png)", Options{})
	if !strings.Contains(res.HTML, `<a href="b.md#c">a</a>`) || !strings.Contains(res.HTML, `src="i.png"`) || len(res.Broken) != 0 {
		t.Errorf("nil resolver: %s %v", res.HTML, res.Broken)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMermaid(t *testing.T) {
	res := render(t, "```mermaid\ngraph LR\n  A --> B\n```\n", Options{})
	if !res.HasMermaid || !strings.Contains(res.HTML, "<pre class=\"mermaid\">graph LR\n  A --&gt; B\n</pre>") {
		t.Errorf("mermaid: %v %s", res.HasMermaid, res.HTML)
	}
	if strings.Contains(res.Text, "graph LR") {
		t.Errorf("mermaid source in search text: %q", res.Text)
	}
	res = render(t, "```python\nx = 1\n```\n", Options{})
	if res.HasMermaid {
		t.Error("HasMermaid without mermaid")
	}
}

func TestPlainText(t *testing.T) {
	res := render(t, "---\ntitle: T\n---\n# Title\n\nSome **bold** and `code` text &amp; [a link](x.md).\n\n!!! note \"Heads up\"\n    Admonition body.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div><p>Raw <b>html</b></p><script>var hidden = 1;</script></div>\n\n*[HTML]: Hyper Text\n", Options{})
	for _, want := range []string{"Title", "Some bold and code text & a link.", "Heads up", "Admonition body.", "Raw html"} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("Text lacks %q:\n%s", want, res.Text)
		}
	}
	for _, bad := range []string{"<", "**", "hidden", "*[HTML]", "title: T", "¶"} {
		if strings.Contains(res.Text, bad) {
			t.Errorf("Text contains %q:\n%s", bad, res.Text)
		}
	}
}

func TestBrokenAlwaysNonNil(t *testing.T) {
	res := render(t, "", Options{})
	if res.Broken == nil || res.HTML != "" || res.Text != "" {
		t.Errorf("empty page: %+v", res)
	}
}

func TestGitHubAlert(t *testing.T) {
	res := render(t, "> [!WARNING]\n> Careful **now**.\n\n> [!unknown]\n> stays a quote\n", Options{})
	if !strings.Contains(res.HTML, `<div class="admonition warning">`+"\n"+`<p class="admonition-title">Warning</p>`+"\n"+`<p>Careful <strong>now</strong>.</p>`) {
		t.Errorf("alert:\n%s", res.HTML)
	}
	if !strings.Contains(res.HTML, "<blockquote>") {
		t.Errorf("unknown alert type should stay a quote:\n%s", res.HTML)
	}
}

func TestRawHTMLBalancing(t *testing.T) {
	// stray closing tags cannot close the page's containers; unclosed
	// elements are closed
	res := render(t, "</div></div></main>\n\nText\n\n<div class=\"grid\" markdown>\n\n**inside**\n\n</div>\n\n<section>\n\nopen\n", Options{})
	if strings.Count(res.HTML, "<div") != strings.Count(res.HTML, "</div>") {
		t.Errorf("unbalanced divs:\n%s", res.HTML)
	}
	if !strings.Contains(res.HTML, `<div class="grid">`+"\n<p><strong>inside</strong></p>\n</div>") {
		t.Errorf("md in html:\n%s", res.HTML)
	}
	if strings.Contains(res.HTML, "</main>") || !strings.HasSuffix(strings.TrimSpace(res.HTML), "</section>") {
		t.Errorf("balancing:\n%s", res.HTML)
	}
	// a div opened in a list item and "closed" outside it would close the
	// page's container once the browser ends the list item
	res = render(t, "- <div>\n- item\n\n</div>\n\nAfter\n", Options{})
	if strings.Count(res.HTML, "<div") != strings.Count(res.HTML, "</div>") {
		t.Errorf("cross-container div:\n%s", res.HTML)
	}
	// an unclosed comment or script cannot swallow the rest of the page
	// (at top level CommonMark itself runs such an HTML block to the end of
	// the page; inside a container it ends with the container)
	res = render(t, "!!! note\n    <!-- unclosed\n\nAfter comment\n\n!!! note\n    <script>alert(1)\n\nAfter script\n\n!!! note\n    <textarea>\n\nAfter textarea\n", Options{})
	for _, want := range []string{"<p>After comment</p>", "<p>After script</p>", "<p>After textarea</p>"} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("content swallowed, missing %s:\n%s", want, res.HTML)
		}
	}
}

func TestConcurrentRender(t *testing.T) {
	src, err := os.ReadFile("testdata/bench.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(src, Options{ResolveLink: acceptAll})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := Render(src, Options{ResolveLink: acceptAll})
			if err != nil || got.HTML != want.HTML || got.Text != want.Text {
				t.Error("concurrent render differs")
			}
		}()
	}
	wg.Wait()
}

func TestBenchPage(t *testing.T) {
	src, err := os.ReadFile("testdata/bench.md")
	if err != nil {
		t.Fatal(err)
	}
	res := render(t, string(src), Options{ResolveLink: func(target string, image bool) (string, bool) {
		return target, target != "missing.md"
	}})
	if res.Title != "Payments Service" || !res.HideNav || res.HideTOC || !res.HasMermaid {
		t.Errorf("meta: %q %v %v %v", res.Title, res.HideNav, res.HideTOC, res.HasMermaid)
	}
	if !reflect.DeepEqual(res.Broken, []string{"missing.md"}) {
		t.Errorf("Broken = %v", res.Broken)
	}
	for _, want := range []string{`class="admonition`, `class="tabbed-set`, `<span class="filename">client.py</span>`,
		`<abbr title="Application Programming Interface">API</abbr>`, `class="footnotes"`, `<mark>`, `<dl>`} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("bench page lacks %s", want)
		}
	}
}
