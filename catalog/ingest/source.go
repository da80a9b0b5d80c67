package ingest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroom-dev/greenroom/catalog"
)

// File is one file a location target expanded to.
type File struct {
	Key  catalog.LocationRef // the location entities from it are managed by
	Data []byte
	Err  error // the file matched but could not be read
	Path string
}

// Reader reads location targets of the types Greenroom supports: file
// (a path or a glob), url (http/https) and git (a repository, branch and
// path or glob, written "<repo>/blob/<branch>/<path>").
type Reader struct {
	Fetcher Fetcher
	// GitDir is where git repositories are cloned (inside the data directory).
	GitDir string

	mu      sync.Mutex
	fetched map[string]error // repos fetched during the current crawl
}

// BeginCrawl makes the next read of each git repository fetch it again.
func (r *Reader) BeginCrawl() {
	r.mu.Lock()
	r.fetched = map[string]error{}
	r.mu.Unlock()
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[{") }

// Read expands and reads a location target. A missing target yields a
// *NotFoundError; a glob that matches nothing yields no files.
func (r *Reader) Read(ctx context.Context, spec catalog.LocationSpec) ([]File, error) {
	switch spec.Type {
	case "file":
		return readFiles(spec.Target, "", func(p string) catalog.LocationRef {
			return catalog.LocationRef{Type: "file", Target: p}
		})
	case "url":
		if r.Fetcher == nil {
			return nil, errors.New("reading url locations is not enabled")
		}
		if hasGlob(spec.Target) {
			return nil, fmt.Errorf("url location %s: globs are only supported for file and git locations", spec.Target)
		}
		data, err := r.Fetcher.Fetch(ctx, spec.Target)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotFoundError{Target: spec.Target}
		}
		if err != nil {
			return nil, err
		}
		return []File{{Key: spec.Ref(), Data: data, Path: spec.Target}}, nil
	case "git":
		g, err := ParseGitTarget(spec.Target)
		if err != nil {
			return nil, err
		}
		dir, err := r.checkout(ctx, g)
		if err != nil {
			return nil, err
		}
		return readFiles(filepath.Join(dir, filepath.FromSlash(g.Path)), dir, func(p string) catalog.LocationRef {
			rel, _ := filepath.Rel(dir, p)
			return catalog.LocationRef{Type: "git", Target: GitTarget{Repo: g.Repo, Branch: g.Branch, Path: filepath.ToSlash(rel)}.String()}
		})
	}
	return nil, fmt.Errorf("unsupported location type %q (supported: file, url, git)", spec.Type)
}

// readFiles reads a file or every file a glob matches, in sorted order.
// With root set, matches must stay inside it.
func readFiles(target, root string, key func(string) catalog.LocationRef) ([]File, error) {
	if !hasGlob(target) {
		if root != "" && !within(realRoot(root), filepath.Clean(target)) {
			return nil, fmt.Errorf("%s is outside of its repository", target)
		}
		data, err := readFileUnder(realRootOrEmpty(root), target)
		if err != nil {
			return nil, err
		}
		return []File{{Key: key(target), Data: data, Path: target}}, nil
	}
	base, pattern := doublestar.SplitPattern(filepath.ToSlash(target))
	// Like Backstage's glob, ** does not descend into symlinked directories:
	// following them loops (and two loops walk exponentially many paths).
	// Symlinked files still match, and are read where they point.
	matches, err := doublestar.Glob(os.DirFS(base), pattern, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors(), doublestar.WithNoFollow())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("glob %s: %w", target, err)
	}
	sort.Strings(matches)
	var files []File
	for _, m := range matches {
		p := filepath.Join(filepath.FromSlash(base), filepath.FromSlash(m))
		f := File{Key: key(p), Path: p}
		f.Data, f.Err = readFileUnder(realRootOrEmpty(root), p)
		files = append(files, f)
	}
	return files, nil
}

func realRootOrEmpty(root string) string {
	if root == "" {
		return ""
	}
	return realRoot(root)
}

// GitTarget is a git location: a repository, a branch and a path or glob
// inside it. Its text form follows the hosting sites' blob URLs,
// "<repo>/blob/<branch>/<path>", so relative targets resolve like paths.
type GitTarget struct {
	Repo, Branch, Path string
}

func (g GitTarget) String() string { return g.Repo + "/blob/" + g.Branch + "/" + g.Path }

// ParseGitTarget parses "<repo>/blob/<branch>/<path>".
func ParseGitTarget(s string) (GitTarget, error) {
	repo, rest, ok := strings.Cut(s, "/blob/")
	if !ok {
		return GitTarget{}, fmt.Errorf("git location %q: expected <repository>/blob/<branch>/<path>", s)
	}
	branch, p, ok := strings.Cut(rest, "/")
	if !ok || branch == "" || repo == "" || p == "" {
		return GitTarget{}, fmt.Errorf("git location %q: expected <repository>/blob/<branch>/<path>", s)
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
		return GitTarget{}, fmt.Errorf("git location %q: the path leaves the repository", s)
	}
	return GitTarget{Repo: repo, Branch: branch, Path: path.Clean(p)}, nil
}

// GitWorkdir is where a git location's repository and branch are checked
// out (the last crawl's copy; it may not exist yet).
func (r *Reader) GitWorkdir(g GitTarget) string {
	sum := sha1.Sum([]byte(g.Repo + "\x00" + g.Branch))
	return filepath.Join(r.GitDir, hex.EncodeToString(sum[:8]))
}

// checkout clones the repository on first use and fetches the branch once
// per crawl, with the git command line, into GitDir.
func (r *Reader) checkout(ctx context.Context, g GitTarget) (string, error) {
	if r.GitDir == "" {
		return "", errors.New("git locations need a data directory")
	}
	dir := r.GitWorkdir(g)
	key := dir
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fetched == nil {
		r.fetched = map[string]error{}
	}
	if err, done := r.fetched[key]; done {
		return dir, err
	}
	err := r.syncRepo(ctx, g, dir)
	r.fetched[key] = err
	return dir, err
}

func (r *Reader) syncRepo(ctx context.Context, g GitTarget, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if err := git(ctx, "", "clone", "--quiet", "--depth", "1", "--branch", g.Branch, "--", g.Repo, tmp); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("clone %s (branch %s): %w", g.Repo, g.Branch, err)
		}
		return os.Rename(tmp, dir)
	}
	if err := git(ctx, dir, "fetch", "--quiet", "--depth", "1", "origin", g.Branch); err != nil {
		return fmt.Errorf("fetch %s (branch %s): %w", g.Repo, g.Branch, err)
	}
	if err := git(ctx, dir, "reset", "--quiet", "--hard", "FETCH_HEAD"); err != nil {
		return fmt.Errorf("checkout %s (branch %s): %w", g.Repo, g.Branch, err)
	}
	return nil
}

func git(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	// Never prompt for credentials: a crawl must fail, not hang.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// placeholders resolves placeholders for entities from any supported location.
func (r *Reader) placeholders(fileRoot string) catalog.PlaceholderReader {
	base := PlaceholderReader(r.Fetcher, fileRoot)
	return func(ctx context.Context, loc catalog.LocationRef, value string) ([]byte, error) {
		if loc.Type != "git" || strings.Contains(value, "://") {
			return base(ctx, loc, value)
		}
		g, err := ParseGitTarget(loc.Target)
		if err != nil {
			return nil, &catalog.ResolveError{Err: err}
		}
		dir, err := r.checkout(ctx, g)
		if err != nil {
			return nil, err
		}
		p := path.Join(path.Dir(g.Path), value)
		if strings.HasPrefix(p, "..") || path.IsAbs(value) {
			return nil, &catalog.ResolveError{Err: fmt.Errorf("%s is outside of the repository", value)}
		}
		return readFileUnder(realRoot(dir), filepath.Join(dir, filepath.FromSlash(p)))
	}
}
