package action

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Reader reads template files and skeleton directories from their browser
// URLs, as the server's URL reader does (an integration for the host, or
// backend.reading.allow): fetch:* read remote urls through it.
type Reader interface {
	// ReadURL returns the bytes of a file (a blob URL).
	ReadURL(ctx context.Context, rawURL string) ([]byte, error)
	// ReadTree calls visit for every file of a directory (a tree URL),
	// with its slash-separated path relative to the directory.
	ReadTree(ctx context.Context, rawURL string, visit func(path string, data []byte, executable bool) error) error
}

// remoteURL decides whether a fetch url is read through the Reader: an
// absolute http(s) URL, or a relative one of a template whose descriptor
// came from a url location (TemplateURL, with no local TemplateDir). It
// returns the URL to read, or "" for a local path.
func remoteURL(c *Context, raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("input \"url\" is required")
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("url %q: only http(s) URLs and paths relative to the template are supported", redactURL(raw))
		}
		return u.String(), nil
	}
	if c.TemplateDir != "" || c.TemplateURL == "" {
		return "", nil
	}
	base, err := url.Parse(c.TemplateURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("url %q: the template's location %s is not an http(s) URL", raw, redactURL(c.TemplateURL))
	}
	rel, err := url.Parse(raw)
	if err != nil || rel.Scheme != "" || rel.Host != "" || strings.HasPrefix(raw, "/") || strings.ContainsRune(raw, '\\') {
		return "", fmt.Errorf("url %q: only paths relative to the template are supported; this path is absolute", raw)
	}
	u := base.ResolveReference(rel)
	// ../ may climb, as in a repository, but not above its root: the
	// hosting sites put the repository and ref before the file's path.
	if root := repoRoot(base.Path); root != "" && !strings.HasPrefix(u.Path+"/", root) {
		return "", fmt.Errorf("url %q: the path leaves the template's repository", raw)
	}
	return u.String(), nil
}

// readerFor returns the configured Reader or says what is missing.
func (o BuiltinOptions) readerFor(u string) (Reader, error) {
	if o.Reader == nil {
		host := u
		if p, err := url.Parse(u); err == nil {
			host = p.Host
		}
		return nil, fmt.Errorf("url %q: this scaffolder has no URL reader, so only paths relative to the template are supported; run the template on the server with an integration for %s (or %s in backend.reading.allow)", redactURL(u), host, host)
	}
	return o.Reader, nil
}

// fetchTree reads a remote directory into a new temporary directory beside
// the workspace, confined and capped like a local copy; the caller removes
// it with cleanup.
func (o BuiltinOptions) fetchTree(c *Context, u string) (dir string, cleanup func(), err error) {
	r, err := o.readerFor(u)
	if err != nil {
		return "", nil, err
	}
	parent := filepath.Dir(c.Workspace)
	if c.Workspace == "" {
		parent = ""
	}
	dir, err = os.MkdirTemp(parent, "fetch-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	root, err := os.OpenRoot(dir)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	defer root.Close()
	l := o.limits()
	n := 0
	err = r.ReadTree(c.Ctx, u, func(p string, data []byte, executable bool) error {
		rel, err := cleanRel(p)
		if err != nil || rel == "." {
			return fmt.Errorf("the tree holds a file with an unsafe path %q", p)
		}
		if err := l.add(int64(len(data))); err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d := filepath.Dir(filepath.FromSlash(rel)); d != "." {
			if err := root.MkdirAll(filepath.ToSlash(d), 0o755); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
		mode := fs.FileMode(0o644)
		if executable {
			mode = 0o755
		}
		if _, err := root.Lstat(rel); err == nil {
			return fmt.Errorf("the tree holds %s twice (or as a file and a directory)", rel)
		}
		if err := root.WriteFile(rel, data, mode); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if err := root.Chmod(rel, mode); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("url %q: %w", redactURL(u), err)
	}
	if n == 0 {
		cleanup()
		return "", nil, fmt.Errorf("url %q: the directory is empty or does not exist", redactURL(u))
	}
	return dir, cleanup, nil
}

// fetchFile reads a remote file, capped.
func (o BuiltinOptions) fetchFile(c *Context, u string) ([]byte, error) {
	r, err := o.readerFor(u)
	if err != nil {
		return nil, err
	}
	data, err := r.ReadURL(c.Ctx, u)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", redactURL(u), err)
	}
	if max := o.limits().maxBytes; int64(len(data)) > max {
		return nil, fmt.Errorf("url %q is larger than %d bytes", redactURL(u), max)
	}
	return data, nil
}

// dirSource resolves a fetch url naming a directory: a local path inside
// the template's directory, or a remote tree read into a temporary copy.
func (o BuiltinOptions) dirSource(c *Context, raw string) (src string, cleanup func(), err error) {
	u, err := remoteURL(c, raw)
	if err != nil {
		return "", nil, err
	}
	if u != "" {
		return o.fetchTree(c, u)
	}
	src, err = sourcePath(c, raw)
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return "", nil, err
	}
	if !fi.IsDir() {
		return "", nil, errNotDir
	}
	return src, func() {}, nil
}

var errNotDir = errors.New("not a directory")

// fileSource reads a fetch url naming a file: local (inside the
// template's directory) or remote. mode is the local file's.
func (o BuiltinOptions) fileSource(c *Context, raw string) (data []byte, mode fs.FileMode, err error) {
	u, err := remoteURL(c, raw)
	if err != nil {
		return nil, 0, err
	}
	if u != "" {
		data, err := o.fetchFile(c, u)
		return data, 0o644, err
	}
	src, err := sourcePath(c, raw)
	if err != nil {
		return nil, 0, err
	}
	data, err = readCapped(src, o.limits().maxBytes)
	if err != nil {
		return nil, 0, err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, 0, err
	}
	return data, fi.Mode().Perm(), nil
}

// repoRoot is the part of a hosting site's file URL path that names the
// repository and ref ("/o/r/blob/main/"), or "" when the layout is not
// known: GitHub's /blob/<ref>/ and /tree/<ref>/, GitLab's /-/blob/<ref>/
// and /-/tree/<ref>/, Gitea's /src/branch|commit|tag/<ref>/.
func repoRoot(p string) string {
	segs := strings.Split(p, "/")
	for i := 1; i < len(segs); i++ {
		n := 0
		switch {
		case segs[i] == "-" && i+1 < len(segs) && (segs[i+1] == "blob" || segs[i+1] == "tree"):
			n = 2
		case segs[i] == "src" && i+1 < len(segs) && (segs[i+1] == "branch" || segs[i+1] == "commit" || segs[i+1] == "tag"):
			n = 2
		case (segs[i] == "blob" || segs[i] == "tree") && i >= 3:
			n = 1
		}
		if n > 0 && i+n < len(segs) && segs[i+n] != "" {
			return strings.Join(segs[:i+n+1], "/") + "/"
		}
	}
	return ""
}

// redactURL keeps credentials and query strings (tokens) out of messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#@"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
