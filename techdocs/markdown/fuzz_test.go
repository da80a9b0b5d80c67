package markdown

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzRender checks that any input renders without error or panic, that the
// output is safe, and that rendering is deterministic.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob("testdata/features/*.md")
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(string(src))
		}
	}
	for _, src := range attacks {
		f.Add(src)
	}
	for _, s := range []string{
		"", "\x00", "!!!", "!!! note", "???+", "=== \"\"", "*[]:", "*[x]:",
		"---\n---\n", "---\ntitle: [\n---\n", "~~~~~~", "^^^^", "====", "++++++",
		"!!! note\n    === \"t\"\n        !!! tip\n            ```\n            x\n",
		"[x](y){: .a #b c=d}", "# {: #}", "<div>\n\n</span></div></main>",
		"```py linenums=\"99999999999\" hl_lines=\"1-1000000000\"\nx\n```",
		"> [!NOTE]\n", "> [!TIP]\n> x\n> [!NOTE]", ":material-:", "++a+++b++", "H~2 O~ x^a b^",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 64<<10 {
			return
		}
		opts := Options{ResolveLink: func(target string, image bool) (string, bool) {
			if s := urlScheme(cleanURL(target)); s != "" {
				t.Fatalf("ResolveLink got %q", target)
			}
			return target, !strings.Contains(target, "broken")
		}}
		var res *Result
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			res, err = Render([]byte(src), opts)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Render(%q) does not finish", src)
		}
		if err != nil {
			t.Fatalf("Render(%q): %v", src, err)
		}
		if bad := unsafeMarkup(res.HTML); bad != "" {
			t.Fatalf("Render(%q): unsafe output (%s):\n%s", src, bad, res.HTML)
		}
		if strings.Contains(res.HTML, markClose) && !strings.Contains(src, markClose) && !strings.Contains(strings.ToLower(src), "&#xe001") && !strings.Contains(src, "&#57345") {
			t.Fatalf("Render(%q): placeholder left in output:\n%q", src, res.HTML)
		}
		again, err := Render([]byte(src), opts)
		if err != nil || again.HTML != res.HTML || again.Text != res.Text {
			t.Fatalf("Render(%q) is not deterministic", src)
		}
	})
}
