package mkdocs

import (
	"net/url"
	"path"
	"strings"
)

// URLPath is the reader URL path of a page, mkdocs "use_directory_urls"
// style: "index.md" -> "", "guide/setup.md" -> "guide/setup/",
// "guide/index.md" -> "guide/"; README.md counts as a folder's index.
func URLPath(page string) string {
	p := strings.ReplaceAll(page, "\\", "/")
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return ""
	}
	dir, file := path.Split(p)
	if isIndexName(file) {
		return dir
	}
	return dir + strings.TrimSuffix(file, path.Ext(file)) + "/"
}

// PageForURL finds the page of a reader URL path (the inverse of URLPath:
// "" is the index, leading and trailing slashes are optional). A trailing
// "index.html", a query or fragment, and percent-encoding are tolerated, and
// a page's own path ("guide/setup.md") is accepted too.
func (s *Site) PageForURL(p string) (Page, bool) {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if pg, ok := s.pageForKey(urlKey(p)); ok {
		return pg, true
	}
	if strings.Contains(p, "%") {
		if u, err := url.PathUnescape(p); err == nil {
			if pg, ok := s.pageForKey(urlKey(u)); ok {
				return pg, true
			}
			p = u
		}
	}
	// A page path given instead of a URL.
	clean := strings.Trim(p, "/")
	for _, pg := range s.Pages {
		if pg.Path == clean {
			return pg, true
		}
	}
	return Page{}, false
}

func urlKey(p string) string {
	k := strings.Trim(p, "/")
	if k == "index.html" {
		return ""
	}
	k = strings.TrimSuffix(k, "/index.html")
	if k == "" {
		return ""
	}
	return strings.Trim(path.Clean(k), "/")
}

func (s *Site) pageForKey(k string) (Page, bool) {
	if k == "." {
		k = ""
	}
	if s.byURL != nil {
		i, ok := s.byURL[k]
		if !ok {
			return Page{}, false
		}
		return s.Pages[i], true
	}
	for _, pg := range s.Pages {
		if strings.Trim(URLPath(pg.Path), "/") == k {
			return pg, true
		}
	}
	return Page{}, false
}
