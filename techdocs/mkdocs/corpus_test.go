package mkdocs

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCorpus loads every mkdocs site under $GREENROOM_TECHDOCS_CORPUS (every
// folder with an mkdocs.yml/.yaml, plus folders with a catalog-info.yaml and
// a docs/ folder but no mkdocs.yml) and reports what it found.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("GREENROOM_TECHDOCS_CORPUS")
	if dir == "" {
		t.Skip("GREENROOM_TECHDOCS_CORPUS is not set")
	}
	var sites []string
	noConfig := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "mkdocs.yml", "mkdocs.yaml":
			sites = append(sites, filepath.Dir(p))
		case "catalog-info.yaml":
			base := filepath.Dir(p)
			_, e1 := os.Stat(filepath.Join(base, "mkdocs.yml"))
			_, e2 := os.Stat(filepath.Join(base, "mkdocs.yaml"))
			if fi, err := os.Stat(filepath.Join(base, "docs")); err == nil && fi.IsDir() && e1 != nil && e2 != nil {
				sites = append(sites, base)
				noConfig[base] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(sites)
	sites = dedupe(sites)

	var nSites, nPages, nNav, nNotices int
	kinds := map[string]int{}
	for _, s := range sites {
		rel, _ := filepath.Rel(dir, s)
		site, err := LoadWith(s, Options{LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		nSites++
		nPages += len(site.Pages)
		nNav += countNavPages(site.Nav)
		checkSite(t, rel, site)
		tag := ""
		if noConfig[s] {
			tag = " (no mkdocs.yml)"
		}
		t.Logf("%s%s: %q, %d pages, %d nav pages, %d notices", rel, tag, site.Name, len(site.Pages), countNavPages(site.Nav), len(site.Notices))
		for _, n := range site.Notices {
			nNotices++
			kind, _, _ := strings.Cut(n, ":")
			kinds[kind]++
			t.Logf("    %s", n)
		}
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, k+"="+itoa(kinds[k]))
	}
	t.Logf("TOTAL: %d sites loaded of %d, %d pages, %d nav page links, %d notices (%s)",
		nSites, len(sites), nPages, nNav, nNotices, strings.Join(parts, " "))
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func countNavPages(items []NavItem) int {
	n := 0
	for _, it := range items {
		if it.Page != "" {
			n++
		}
		n += countNavPages(it.Children)
	}
	return n
}

// checkSite verifies invariants every loaded site must satisfy.
func checkSite(t *testing.T, name string, s *Site) {
	t.Helper()
	paths := map[string]bool{}
	for _, p := range s.Pages {
		if paths[p.Path] {
			t.Errorf("%s: page %s listed twice", name, p.Path)
		}
		paths[p.Path] = true
		if !within(s.Root, p.Source) {
			t.Errorf("%s: page %s source %s is outside the root %s", name, p.Path, p.Source, s.Root)
		}
		if !strings.HasSuffix(strings.ToLower(p.Path), ".md") {
			t.Errorf("%s: page %s is not Markdown", name, p.Path)
		}
		got, ok := s.PageForURL(URLPath(p.Path))
		if !ok {
			t.Errorf("%s: PageForURL(%q) found nothing for %s", name, URLPath(p.Path), p.Path)
		} else if got.Path != p.Path && strings.Trim(URLPath(got.Path), "/") != strings.Trim(URLPath(p.Path), "/") {
			t.Errorf("%s: PageForURL(%q) = %s, want %s", name, URLPath(p.Path), got.Path, p.Path)
		}
	}
	var walk func([]NavItem)
	walk = func(items []NavItem) {
		for _, it := range items {
			if it.Page != "" && !paths[it.Page] {
				t.Errorf("%s: nav page %s is not in Pages", name, it.Page)
			}
			walk(it.Children)
		}
	}
	walk(s.Nav)
}
