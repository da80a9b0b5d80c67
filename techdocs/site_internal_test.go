package techdocs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/techdocs/mkdocs"
)

// loadSite reads a site directory the way the service does.
func loadSite(t testing.TB, dir string) *site {
	t.Helper()
	mk, err := mkdocs.LoadWith(dir, mkdocs.Options{ConfigBoundary: dir})
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return &site{ref: catalog.Ref{Kind: "component", Namespace: "default", Name: "x"}, dir: dir, mk: mk, pages: map[string]*pageEntry{}}
}

// TestCorpus renders every page of every site under
// GREENROOM_TECHDOCS_CORPUS (real-world docs; skipped when unset) and
// reports pages, failures and links the sites themselves leave broken.
func TestCorpus(t *testing.T) {
	root := os.Getenv("GREENROOM_TECHDOCS_CORPUS")
	if root == "" {
		t.Skip("GREENROOM_TECHDOCS_CORPUS is not set")
	}
	var dirs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "mkdocs.yml" || d.Name() == "mkdocs.yaml") {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	sort.Strings(dirs)
	sites, pages, failed, broken := 0, 0, 0, 0
	mermaid := 0
	for _, dir := range dirs {
		mk, err := mkdocs.LoadWith(dir, mkdocs.Options{ConfigBoundary: dir})
		if err != nil {
			t.Logf("site %s not loaded: %v", dir, err)
			continue
		}
		st := &site{ref: catalog.Ref{Kind: "component", Namespace: "default", Name: "x"}, dir: dir, mk: mk, pages: map[string]*pageEntry{}}
		sites++
		for _, pg := range mk.Pages {
			res, err := st.render(pg)
			if err != nil {
				failed++
				t.Errorf("%s: %s: %v", dir, pg.Path, err)
				continue
			}
			pages++
			broken += len(res.Broken)
			if res.HasMermaid {
				mermaid++
			}
		}
	}
	t.Logf("%d sites, %d pages rendered, %d failed, %d broken links left by the sites, %d pages with Mermaid", sites, pages, failed, broken, mermaid)
}

// writeSite makes a synthetic site of n pages using every feature.
func writeSite(t testing.TB, n int) string {
	dir := t.TempDir()
	var nav strings.Builder
	nav.WriteString("site_name: Big\nnav:\n")
	for i := range n {
		sec := i / 20
		p := fmt.Sprintf("section-%d/page-%d.md", sec, i)
		if i%20 == 0 {
			fmt.Fprintf(&nav, "  - Section %d:\n", sec)
		}
		fmt.Fprintf(&nav, "      - Page %d: %s\n", i, p)
		body := fmt.Sprintf(`# Page %d

Intro with **bold**, ==mark==, a [link](page-%d.md#usage) and a footnote.[^1]

!!! note "Heads up"
    Nested admonition text with `+"`code`"+`.

## Usage

=== "Shell"

    `+"```bash"+`
    make run --page %d
    `+"```"+`

=== "Go"

    `+"```go title=\"main.go\" linenums=\"1\""+`
    package main

    func main() { println(%d) }
    `+"```"+`

| a | b |
|---|---|
| %d | two |

- [x] done
- [ ] todo

??? tip "More"
    Collapsed content.

[^1]: The footnote.
`, i, i+1, i, i, i)
		path := filepath.Join(dir, "docs", filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(strings.Repeat(body, 3)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "docs", "index.md"), []byte("# Big\n"), 0o644)
	if err := os.WriteFile(filepath.Join(dir, "mkdocs.yml"), []byte(nav.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// BenchmarkSiteCold loads a 200-page site and renders every page from
// nothing (the first reader of a site, or search indexing after a change).
func BenchmarkSiteCold(b *testing.B) {
	dir := writeSite(b, 200)
	for i := 0; i < b.N; i++ {
		st := loadSite(b, dir)
		for _, pg := range st.mk.Pages {
			if _, err := st.render(pg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/site")
}

// BenchmarkPageCached serves a page whose site and render are cached:
// what every later view of the page costs in the service.
func BenchmarkPageCached(b *testing.B) {
	dir := writeSite(b, 200)
	st := loadSite(b, dir)
	svc := &Service{Recheck: time.Hour, sites: map[string]*site{st.ref.String(): st}}
	st.checked.Store(time.Now().UnixNano())
	times := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := svc.Page(b.Context(), st.ref, fmt.Sprintf("section-%d/page-%d/", (i%200)/20, i%200)); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}
