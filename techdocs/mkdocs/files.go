package mkdocs

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxDirDepth bounds folder nesting under a docs dir.
const maxDirDepth = 64

// isMarkdownName reports whether a file name is a Markdown page (.md, any
// case) and not hidden.
func isMarkdownName(name string) bool {
	return !strings.HasPrefix(name, ".") && strings.EqualFold(filepath.Ext(name), ".md")
}

// scan walks a docs dir (already real and inside the root) and records its
// Markdown pages under prefix ("" or "alias/"). It returns the site paths it
// added, in walk order. Hidden files and folders are skipped; symlinks are
// followed only while they stay inside the site root.
func (l *loader) scan(dir, prefix string) []string {
	var added []string
	visited := map[string]bool{}
	var walk func(real, rel string, depth int)
	walk = func(real, rel string, depth int) {
		if l.capped {
			return
		}
		if depth > maxDirDepth {
			l.notef("files", "folders nested deeper than %d under %s are ignored", maxDirDepth, l.rel(dir))
			return
		}
		if visited[real] {
			return // a symlink loop
		}
		visited[real] = true
		entries, err := os.ReadDir(real)
		if err != nil {
			l.notef("files", "cannot read %s: %v", l.rel(real), err)
			return
		}
		type entry struct{ name, target string }
		var pages, dirs []entry
		names := map[string]bool{}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			full := filepath.Join(real, name)
			typ := e.Type()
			target := full
			if typ&fs.ModeSymlink != 0 {
				rp, err := l.realInside(full)
				if err == errOutside {
					l.notef("files", "%s is a symlink out of the site root; ignored", l.rel(full))
					continue
				}
				if err != nil {
					l.notef("files", "%s is a broken symlink; ignored", l.rel(full))
					continue
				}
				fi, err := os.Stat(rp)
				if err != nil {
					continue
				}
				typ, target = fi.Mode().Type(), rp
			}
			switch {
			case typ.IsDir():
				dirs = append(dirs, entry{name, target})
			case typ.IsRegular() && isMarkdownName(name):
				pages = append(pages, entry{name, target})
				names[name] = true
			}
		}
		// mkdocs order: the index first, then the other files by name.
		sort.SliceStable(pages, func(i, j int) bool {
			ii, ij := isIndexName(pages[i].name), isIndexName(pages[j].name)
			if ii != ij {
				return ii
			}
			return pages[i].name < pages[j].name
		})
		for _, pg := range pages {
			p := prefix + rel + pg.name
			if pg.name == "README.md" && names["index.md"] {
				l.notef("files", "%s is skipped because index.md is in the same folder (as mkdocs does)", p)
				continue
			}
			if len(l.files) >= l.maxPages {
				if _, replacing := l.files[p]; !replacing {
					l.capped = true
					l.notef("files", "more than %d pages; the rest are ignored", l.maxPages)
					return
				}
			}
			if old, ok := l.files[p]; ok && old.source != pg.target {
				l.notef("monorepo", "%s from %s replaces the page of the same path", p, l.rel(pg.target))
			}
			l.files[p] = &fileRec{path: p, source: pg.target}
			added = append(added, p)
		}
		for _, d := range dirs {
			walk(d.target, rel+d.name+"/", depth+1)
		}
	}
	walk(dir, "", 0)
	return added
}

// staticFile reports whether a site-relative path names an existing
// non-Markdown file of one of the mounted docs dirs.
func (l *loader) staticFile(p string) bool {
	for i := len(l.mounts) - 1; i >= 0; i-- {
		m := l.mounts[i]
		if m.prefix != "" && !strings.HasPrefix(p, m.prefix) {
			continue
		}
		rest := strings.TrimPrefix(p, m.prefix)
		if rest == "" {
			continue
		}
		for _, part := range strings.Split(rest, "/") {
			if strings.HasPrefix(part, ".") {
				return false
			}
		}
		rp, err := l.realInside(filepath.Join(m.dir, filepath.FromSlash(rest)))
		if err != nil {
			continue
		}
		if fi, err := os.Stat(rp); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
