package mkdocs

import (
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rawNav is a nav entry before its page target is checked against the files.
type rawNav struct {
	title     string
	target    string // site-relative page path to look up ("" with hasTarget: the index)
	hasTarget bool
	url       string
	section   bool
	children  []rawNav
}

type navCtx struct {
	configDir string // folder !include paths are relative to
	prefix    string // "" or "alias/" inside a monorepo sub-site
	sub       bool   // inside a monorepo sub-site
	where     string // for notices
}

const (
	includePrefix         = "!include "
	wildcardIncludePrefix = "*include "
)

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*:`)

// isLink reports whether a nav value is a link rather than a page: it has a
// URL scheme or host ("https://…", "mailto:…", "//host"), or is an absolute
// path, as mkdocs' urlsplit test does.
func isLink(s string) bool {
	return schemeRE.MatchString(s) || strings.HasPrefix(s, "/")
}

func (l *loader) parseNav(list []any, ctx navCtx) []rawNav {
	var out []rawNav
	for _, it := range list {
		switch it := it.(type) {
		case nil:
		case string:
			out = append(out, l.navEntry("", it, ctx)...)
		case *mapping:
			if len(it.keys) > 1 {
				l.notef("nav", "%snav entry with %d keys (%s); each is used as its own entry", ctx.where, len(it.keys), strings.Join(it.keys, ", "))
			}
			for _, k := range it.keys {
				out = append(out, l.navEntry(k, it.vals[k], ctx)...)
			}
		case []any:
			l.notef("nav", "%snav entry is a bare list; its entries are used in place", ctx.where)
			out = append(out, l.parseNav(it, ctx)...)
		default:
			l.notef("nav", "%snav entry %v is not understood; ignored", ctx.where, it)
		}
	}
	return out
}

func (l *loader) navEntry(title string, v any, ctx navCtx) []rawNav {
	switch v := v.(type) {
	case nil:
		l.notef("nav", "%snav entry %q has no target", ctx.where, title)
		return []rawNav{{title: title}}
	case []any:
		return []rawNav{{title: title, section: true, children: l.parseNav(v, ctx)}}
	case string:
		s := strings.TrimSpace(v)
		switch {
		case strings.HasPrefix(s, includePrefix):
			return []rawNav{l.includeEntry(title, strings.TrimSpace(s[len(includePrefix):]), ctx)}
		case strings.HasPrefix(s, wildcardIncludePrefix):
			return []rawNav{l.wildcardEntry(title, strings.TrimSpace(s[len(wildcardIncludePrefix):]), ctx)}
		case s == "":
			l.notef("nav", "%snav entry %q has no target", ctx.where, title)
			return []rawNav{{title: title}}
		case isLink(s):
			return []rawNav{{title: title, url: s}}
		}
		return []rawNav{{title: title, target: joinTarget(ctx.prefix, s), hasTarget: true}}
	case bool:
		l.notef("nav", "%snav entry %q has a non-path value; ignored", ctx.where, title)
		return []rawNav{{title: title}}
	case *mapping:
		l.notef("nav", "%snav entry %q is a mapping, not a page or a list; its entries are used as a section", ctx.where, title)
		return []rawNav{{title: title, section: true, children: l.parseNav([]any{v}, ctx)}}
	}
	return []rawNav{{title: title}}
}

// joinTarget prefixes a nav page path and normalises it ("./a/../b.md" ->
// "b.md"). A trailing slash names a folder (its index page).
func joinTarget(prefix, s string) string {
	s = strings.ReplaceAll(s, "\\", "/")
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	p := path.Clean(prefix + s)
	if p == "." || p == "" {
		return ""
	}
	return strings.TrimSuffix(p, "/")
}

// resolveNav checks every page target against the pages found.
func (l *loader) resolveNav(raw []rawNav) []NavItem {
	if len(raw) == 0 {
		return nil
	}
	out := make([]NavItem, 0, len(raw))
	for _, r := range raw {
		it := NavItem{Title: r.title, URL: r.url}
		if r.section {
			it.Children = l.resolveNav(r.children)
			out = append(out, it)
			continue
		}
		if r.url != "" || !r.hasTarget {
			out = append(out, it)
			continue
		}
		t := r.target
		switch {
		case t == ".." || strings.HasPrefix(t, "../"):
			l.notef("nav", "nav target %q is outside the docs folder; kept without a page", t)
		default:
			if p, ok := l.findPage(t); ok {
				it.Page = p
				if rec := l.files[p]; rec.title == "" && r.title != "" {
					rec.title = r.title
				}
			} else if l.staticFile(t) {
				it.URL = t
			} else {
				l.missing++
				if l.missing <= maxMissingNotices {
					l.notef("nav", "nav target %q not found; kept without a page", t)
				}
			}
		}
		out = append(out, it)
	}
	return out
}

// findPage finds the page of a nav target: the file itself, or the index
// (index.md, README.md) of the folder it names.
func (l *loader) findPage(t string) (string, bool) {
	if _, ok := l.files[t]; ok && t != "" {
		return t, true
	}
	dir := t
	if dir != "" {
		dir += "/"
	}
	for _, name := range []string{"index.md", "README.md"} {
		if _, ok := l.files[dir+name]; ok {
			return dir + name, true
		}
	}
	return "", false
}

// autoNav builds the nav mkdocs builds when there is none: pages sorted
// (index first, then files, then folders), folders as sections titled from
// their names, page titles left empty. Paths are site paths; strip is a
// prefix the nesting ignores (a monorepo sub-site's folder).
func autoNav(paths []string, strip string) []rawNav {
	ps := make([]string, 0, len(paths))
	for _, p := range paths {
		if strings.HasPrefix(p, strip) {
			ps = append(ps, p)
		}
	}
	sortPaths(ps)
	var root []rawNav
	// Walk each path down the tree, creating sections as needed.
	for _, p := range ps {
		parts := strings.Split(strings.TrimPrefix(p, strip), "/")
		branch := &root
		for _, dir := range parts[:len(parts)-1] {
			title := dirnameToTitle(dir)
			found := -1
			for i := range *branch {
				if (*branch)[i].section && (*branch)[i].title == title {
					found = i
					break
				}
			}
			if found < 0 {
				*branch = append(*branch, rawNav{title: title, section: true})
				found = len(*branch) - 1
			}
			branch = &(*branch)[found].children
		}
		*branch = append(*branch, rawNav{target: p, hasTarget: true})
	}
	return root
}

// dirnameToTitle is mkdocs' dirname_to_title: "-" and "_" become spaces and
// an all-lowercase name gets a capital first letter.
func dirnameToTitle(name string) string {
	t := strings.NewReplacer("-", " ", "_", " ").Replace(name)
	if strings.ToLower(t) == t {
		r, n := utf8.DecodeRuneInString(t)
		if r != utf8.RuneError {
			t = string(unicode.ToTitle(r)) + t[n:]
		}
	}
	return t
}
