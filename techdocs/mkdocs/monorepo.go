package mkdocs

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// includedSite is a monorepo sub-site once loaded.
type includedSite struct {
	name  string // site_name
	alias string // folder it is mounted under
	nav   []rawNav
}

var aliasRE = regexp.MustCompile(`^[a-zA-Z0-9_\-/]+$`)

// aliasFor is the folder a sub-site is mounted under, as the
// mkdocs-monorepo-plugin computes it: the site_name itself when it only has
// letters, digits, "_", "-" and "/", else its slug ("Plugin A" -> "plugin-a").
func aliasFor(siteName string) string {
	a := siteName
	if !aliasRE.MatchString(a) {
		a = slugify(a)
	}
	var parts []string
	for _, p := range strings.Split(a, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// Latin letters with diacritics mapped to ASCII, standing in for the
// transliteration python-slugify does.
var translit = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae",
	'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i",
	'î': "i", 'ï': "i", 'ð': "d", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o",
	'õ': "o", 'ö': "o", 'ø': "o", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u",
	'ý': "y", 'ÿ': "y", 'þ': "th", 'ß': "ss", 'œ': "oe", 'ł': "l", 'š': "s",
	'ž': "z", 'č': "c", 'ř': "r", 'ě': "e", 'ů': "u", 'ą': "a", 'ę': "e",
	'ś': "s", 'ź': "z", 'ż': "z", 'ń': "n", 'ő': "o", 'ű': "u", 'ğ': "g",
	'ı': "i", 'ş': "s",
}

// slugify approximates python-slugify's default: lower case, ASCII letters
// and digits kept, every other run of characters becomes one "-".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if t, ok := translit[r]; ok {
			b.WriteString(t)
			dash = false
			continue
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if r == '\'' {
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

func (l *loader) warnNoMonorepo(ctx navCtx) {
	if !l.monorepo && !l.warnedMR {
		l.warnedMR = true
		l.notef("monorepo", "%snav uses !include but neither the monorepo nor the techdocs-core plugin is enabled; including anyway", ctx.where)
	}
}

// includeEntry handles `Title: '!include ./sub/mkdocs.yml'`.
func (l *loader) includeEntry(title, spec string, ctx navCtx) rawNav {
	if ctx.sub {
		l.notef("monorepo", "%snested !include %q is not supported (as in mkdocs-monorepo-plugin); kept without a page", ctx.where, spec)
		return rawNav{title: title}
	}
	l.warnNoMonorepo(ctx)
	p := filepath.FromSlash(spec)
	if !filepath.IsAbs(p) {
		p = filepath.Join(ctx.configDir, p)
	}
	sub, ok := l.loadSubSite(filepath.Clean(p), spec)
	if !ok {
		return rawNav{title: title}
	}
	if title == "" {
		title = sub.name
	}
	return rawNav{title: title, section: true, children: sub.nav}
}

// wildcardEntry handles `Title: '*include ./components/*/mkdocs.yml'`: every
// matching mkdocs.yml (sorted) becomes a child section titled with its
// site_name.
func (l *loader) wildcardEntry(title, pattern string, ctx navCtx) rawNav {
	sec := rawNav{title: title, section: true}
	if ctx.sub {
		l.notef("monorepo", "%snested *include %q is not supported; kept empty", ctx.where, pattern)
		return sec
	}
	l.warnNoMonorepo(ctx)
	if !isYAMLName(pattern) {
		l.notef("monorepo", "*include %q does not end with .yml or .yaml; ignored", pattern)
		return sec
	}
	pat := path.Clean(strings.ReplaceAll(pattern, "\\", "/"))
	relDir, err := filepath.Rel(l.root, ctx.configDir)
	if err != nil || !within(l.root, ctx.configDir) {
		return sec
	}
	if relDir != "." {
		pat = path.Join(filepath.ToSlash(relDir), pat)
	}
	if path.IsAbs(pat) || pat == ".." || strings.HasPrefix(pat, "../") {
		l.notef("monorepo", "*include %q reaches outside the site root; ignored", pattern)
		return sec
	}
	r, err := os.OpenRoot(l.root)
	if err != nil {
		return sec
	}
	defer r.Close()
	matches, err := doublestar.Glob(r.FS(), pat)
	if err != nil {
		l.notef("monorepo", "*include %q: %v", pattern, err)
		return sec
	}
	sort.Slice(matches, func(i, j int) bool {
		return lessKey(strings.Split(matches[i], "/"), strings.Split(matches[j], "/"))
	})
	for _, m := range matches {
		sub, ok := l.loadSubSite(filepath.Join(l.root, filepath.FromSlash(m)), m)
		if !ok {
			continue
		}
		sec.children = append(sec.children, rawNav{title: sub.name, section: true, children: sub.nav})
	}
	if len(sec.children) == 0 {
		l.notef("monorepo", "*include %q matched no usable mkdocs.yml", pattern)
	}
	return sec
}

// loadSubSite reads a sub-site's mkdocs.yml, mounts its docs under its alias
// and returns its nav with page paths prefixed by the alias.
func (l *loader) loadSubSite(p, spec string) (*includedSite, bool) {
	if !isYAMLName(p) {
		l.notef("monorepo", "!include %q does not point to a .yml or .yaml file; ignored", spec)
		return nil, false
	}
	rp, err := l.realInside(p)
	if err == errOutside || (err == nil && !within(l.root, p)) {
		l.notef("monorepo", "!include %q is outside the site root; ignored", spec)
		return nil, false
	}
	if err != nil {
		l.notef("monorepo", "!include %q not found; ignored", spec)
		return nil, false
	}
	if s, ok := l.included[rp]; ok {
		return s, s != nil
	}
	l.included[rp] = nil
	cfg, err := l.readConfig(rp, nil)
	if err != nil {
		l.notef("monorepo", "!include %q: %v; ignored", spec, err)
		return nil, false
	}
	nv, _ := cfg.get("site_name")
	name := strings.TrimSpace(scalarString(nv))
	if name == "" {
		l.notef("monorepo", "!include %q has no site_name (it names the folder the docs go to); ignored", spec)
		return nil, false
	}
	alias := aliasFor(name)
	if alias == "" {
		l.notef("monorepo", "!include %q: site_name %q gives no folder name; ignored", spec, name)
		return nil, false
	}
	if prev, dup := l.aliases[alias]; dup {
		l.notef("monorepo", "!include %q: site_name %q is already used by %s; ignored", spec, name, l.rel(prev))
		return nil, false
	}
	l.aliases[alias] = rp

	where := "(" + l.rel(rp) + ") "
	dv, _ := cfg.get("docs_dir")
	docsDir := strings.TrimSpace(scalarString(dv))
	if docsDir == "" {
		docsDir = "docs"
	}
	dd := filepath.FromSlash(docsDir)
	if !filepath.IsAbs(dd) {
		dd = filepath.Join(filepath.Dir(p), dd)
	}
	rd, err := l.realInside(filepath.Clean(dd))
	switch {
	case err == errOutside:
		l.notef("monorepo", "%sdocs_dir %q is outside the site root; no pages read", where, docsDir)
	case err != nil || !isDir(rd):
		l.notef("monorepo", "%sdocs_dir %q does not exist; no pages read", where, docsDir)
	default:
		prefix := alias + "/"
		l.mounts = append(l.mounts, mount{prefix: prefix, dir: rd})
		l.scan(rd, prefix)
	}

	sub := &includedSite{name: name, alias: alias}
	navVal, hasNav := cfg.get("nav")
	if list, ok := navVal.([]any); hasNav && ok {
		sub.nav = l.parseNav(list, navCtx{configDir: filepath.Dir(p), prefix: alias + "/", sub: true, where: where})
	} else {
		if hasNav && navVal != nil {
			l.notef("nav", "%snav is not a list; building it from the files", where)
		}
		var paths []string
		for fp := range l.files {
			if strings.HasPrefix(fp, alias+"/") {
				paths = append(paths, fp)
			}
		}
		sub.nav = autoNav(paths, alias+"/")
	}
	l.included[rp] = sub
	return sub, true
}
