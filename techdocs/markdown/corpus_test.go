package markdown

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// corpusEnv names a directory of real-world mkdocs sites; every .md file
// under it is rendered. The test is skipped when it is unset.
const corpusEnv = "GREENROOM_TECHDOCS_CORPUS"

func corpusFiles(tb testing.TB) []string {
	dir := os.Getenv(corpusEnv)
	if dir == "" {
		tb.Skipf("%s not set", corpusEnv)
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are not the renderer's problem
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(path), ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func acceptAll(target string, image bool) (string, bool) { return target, true }

// TestCorpus renders every Markdown file of the corpus, checks that nothing
// fails or panics and that the output contains nothing unsafe, and reports
// how often each feature was seen.
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	counts := map[string]int{}
	features := []struct{ name, marker string }{
		{"admonitions", `<div class="admonition `},
		{"details", `<details class="admonition `},
		{"tab sets", `class="tabbed-set`},
		{"code blocks", `<div class="highlight`},
		{"highlighted code", `<code class="language-`},
		{"line numbers", `<span class="ln">`},
		{"code titles", `<span class="filename">`},
		{"tables", `<table>`},
		{"task lists", `class="task-list"`},
		{"footnotes", `class="footnotes"`},
		{"definition lists", `<dl>`},
		{"abbreviations", `<abbr`},
		{"mark/ins", `<mark>`},
		{"keys", `class="keys"`},
		{"icons", `class="icon"`},
		{"images", `<img`},
	}
	// Render in parallel like a site build would (one worker per CPU) and
	// collect results in file order.
	type outcome struct {
		res *Result
		err error
		dur time.Duration
		n   int
	}
	results := make([]outcome, len(files))
	start := time.Now()
	var cold200 time.Duration
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				src, err := os.ReadFile(files[i])
				if err != nil {
					results[i] = outcome{err: err}
					continue
				}
				t0 := time.Now()
				res, err := Render(src, Options{ResolveLink: acceptAll})
				results[i] = outcome{res, err, time.Since(t0), len(src)}
				mu.Lock()
				if done++; done == 200 {
					cold200 = time.Since(start)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	var failures []string
	var bytesIn int
	var slowest time.Duration
	var slowestFile string
	for i, f := range files {
		o := results[i]
		bytesIn += o.n
		if o.dur > slowest {
			slowest, slowestFile = o.dur, f
		}
		if o.err != nil {
			failures = append(failures, f+": "+o.err.Error())
			continue
		}
		res := o.res
		if bad := unsafeMarkup(res.HTML); bad != "" {
			failures = append(failures, f+": unsafe output: "+bad)
		}
		counts["pages"]++
		for _, ft := range features {
			if n := strings.Count(res.HTML, ft.marker); n > 0 {
				counts[ft.name] += n
				counts[ft.name+" (pages)"]++
			}
		}
		if res.HasMermaid {
			counts["mermaid (pages)"]++
		}
		if len(res.Meta) > 0 {
			counts["front matter (pages)"]++
		}
		if res.Title != "" {
			counts["with title (pages)"]++
		}
		counts["headings"] += len(res.Headings)
		counts["broken links"] += len(res.Broken)
	}
	elapsed := time.Since(start)
	t.Logf("%d files, %d KiB in %v with %d workers; first 200 pages (cold) in %v; slowest page %v: %s",
		len(files), bytesIn/1024, elapsed, runtime.GOMAXPROCS(0), cold200, slowest, slowestFile)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %-28s %d", k, counts[k])
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// BenchmarkCorpus renders the whole corpus once per iteration.
func BenchmarkCorpus(b *testing.B) {
	files := corpusFiles(b)
	srcs := make([][]byte, 0, len(files))
	total := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		srcs = append(srcs, src)
		total += len(src)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, src := range srcs {
			if _, err := Render(src, Options{ResolveLink: acceptAll}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
