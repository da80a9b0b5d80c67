package techdocs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// TreeReader reads a directory from its browser URL (a repository, tree
// or blob-directory URL), as the server's URL reader does through the
// integrations; the tree's ETag is its commit SHA.
type TreeReader interface {
	ReadTree(ctx context.Context, rawURL string, o reading.Options) (*reading.Tree, error)
}

const (
	defaultRemoteRecheck = 5 * time.Minute
	// Bounds on one docs tree written to disk.
	maxTreeBytes = 256 << 20
	maxTreeFiles = 20000
)

// remoteTree is the local copy of one docs tree.
type remoteTree struct {
	mu      sync.Mutex // one read of the tree at a time
	checked time.Time  // when the remote was last asked
	etag    string
}

// remoteDocs returns the directory holding the local copy of the docs
// tree at rawURL, reading it (again) when it is missing or RemoteRecheck
// has passed and its commit changed. A failed re-read keeps the copy.
func (s *Service) remoteDocs(ctx context.Context, rawURL string) (string, error) {
	if s.Reader == nil {
		return "", &NoDocsError{fmt.Sprintf("Docs at %s are not read: this server has no URL reader for TechDocs (configure an integration for the host).", redact(rawURL))}
	}
	if s.DataDir == "" {
		return "", &NoDocsError{fmt.Sprintf("Docs at %s are not read: TechDocs has no data directory to keep them in.", redact(rawURL))}
	}
	sum := sha256.Sum256([]byte(rawURL))
	base := filepath.Join(s.DataDir, "trees", hex.EncodeToString(sum[:12]))
	dir := filepath.Join(base, "tree")
	s.mu.Lock()
	if s.trees == nil {
		s.trees = map[string]*remoteTree{}
	}
	rt := s.trees[rawURL]
	if rt == nil {
		rt = &remoteTree{}
		if b, err := os.ReadFile(filepath.Join(base, "etag")); err == nil {
			rt.etag = strings.TrimSpace(string(b)) // a copy from before a restart
		}
		s.trees[rawURL] = rt
	}
	s.mu.Unlock()

	rt.mu.Lock()
	defer rt.mu.Unlock()
	recheck := s.RemoteRecheck
	if recheck <= 0 {
		recheck = defaultRemoteRecheck
	}
	have := rt.etag != "" && isDir(dir)
	if have && time.Since(rt.checked) < recheck {
		return dir, nil
	}
	var o reading.Options
	if have {
		o.ETag = rt.etag
	}
	tree, err := s.Reader.ReadTree(ctx, rawURL, o)
	switch {
	case errors.Is(err, reading.ErrNotModified) && have:
		rt.checked = time.Now()
		return dir, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission):
		// Gone, or no longer allowed: the copy must not outlive that.
		rt.etag = ""
		os.RemoveAll(base)
		return "", &NoDocsError{fmt.Sprintf("The docs at %s could not be read: %v", redact(rawURL), err)}
	case err != nil && have:
		// The remote is down or refuses for a while: the last copy is
		// better than no docs. It is asked again after the next recheck.
		rt.checked = time.Now()
		return dir, nil
	case err != nil:
		return "", &NoDocsError{fmt.Sprintf("The docs at %s could not be read: %v", redact(rawURL), err)}
	}
	if err := writeTree(base, tree); err != nil {
		if have {
			rt.checked = time.Now()
			return dir, nil
		}
		return "", &NoDocsError{fmt.Sprintf("The docs at %s could not be stored: %v", redact(rawURL), err)}
	}
	rt.etag, rt.checked = tree.ETag, time.Now()
	if rt.etag == "" {
		rt.etag = "-" // no commit SHA: read again at each recheck
	}
	if err := os.WriteFile(filepath.Join(base, "etag"), []byte(rt.etag), 0o644); err != nil {
		return "", &NoDocsError{fmt.Sprintf("The docs at %s could not be stored: %v", redact(rawURL), err)}
	}
	return dir, nil
}

// writeTree writes a tree's files into base/tree, replacing what was
// there only once the whole tree is written. Paths must stay inside the
// tree; the files are written through os.Root so no link leads out.
func writeTree(base string, tree *reading.Tree) error {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	if len(tree.Files) > maxTreeFiles {
		return fmt.Errorf("the tree has %d files, more than %d", len(tree.Files), maxTreeFiles)
	}
	tmp, err := os.MkdirTemp(base, "tree-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	var total int64
	for _, f := range tree.Files {
		rel, err := treePath(f.Path)
		if err != nil {
			return err
		}
		total += int64(len(f.Data))
		if total > maxTreeBytes {
			return fmt.Errorf("the tree is larger than %d MiB", maxTreeBytes>>20)
		}
		if d := path.Dir(rel); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
		if err := root.WriteFile(rel, f.Data, 0o644); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	dir := filepath.Join(base, "tree")
	old := filepath.Join(base, "tree.old")
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	os.RemoveAll(old)
	return nil
}

// treePath validates a tree file's path: relative, without .. or empty
// segments, without NUL or backslashes.
func treePath(p string) (string, error) {
	if p == "" || strings.ContainsAny(p, "\x00\\") || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("the tree holds a file with an unsafe path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("the tree holds a file with an unsafe path %q", p)
		}
	}
	return p, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// docsURL resolves a dir: techdocs-ref against the URL of the catalog
// file the entity came from, as Backstage does (new URL(target, file));
// the result may not leave the file's repository: its host, and the
// /blob/<ref>/-like segment of the hosting sites' URLs.
func docsURL(fileURL, target string) (string, error) {
	base, err := url.Parse(fileURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("the entity's location %s is not an http(s) URL", redact(fileURL))
	}
	rel, err := url.Parse(target)
	if err != nil || rel.Scheme != "" || rel.Host != "" || strings.HasPrefix(target, "/") {
		return "", fmt.Errorf("dir:%s is not a relative path", target)
	}
	u := base.ResolveReference(rel)
	if root := repoRoot(base.Path); root != "" && !strings.HasPrefix(u.Path+"/", root) {
		return "", fmt.Errorf("dir:%s leaves the repository", target)
	}
	return u.String(), nil
}

// repoRoot is the part of a hosting site's file URL path that names the
// repository and ref ("/o/r/blob/main/"), or "" when the layout is not
// known.
func repoRoot(p string) string {
	segs := strings.Split(p, "/")
	for i := 1; i < len(segs); i++ {
		n := 0 // segments of the marker after segs[i]
		switch {
		case segs[i] == "-" && i+1 < len(segs) && (segs[i+1] == "blob" || segs[i+1] == "tree"):
			n = 2 // GitLab: /-/blob/<ref>/
		case segs[i] == "src" && i+1 < len(segs) && (segs[i+1] == "branch" || segs[i+1] == "commit" || segs[i+1] == "tag"):
			n = 2 // Gitea: /src/branch/<ref>/
		case (segs[i] == "blob" || segs[i] == "tree") && i >= 3:
			n = 1 // GitHub: /o/r/blob/<ref>/
		}
		if n > 0 && i+n < len(segs) && segs[i+n] != "" {
			return strings.Join(segs[:i+n+1], "/") + "/"
		}
	}
	return ""
}

// redact drops a URL's user info and query from messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
