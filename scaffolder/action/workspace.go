package action

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/bmatcuk/doublestar/v4"
)

// This file gives plugins' actions the same confinement the built-in
// actions have: paths relative to the workspace, no "..", no escape
// through a symbolic link.

// ResolveWorkspacePath returns the absolute path of rel inside the
// workspace ("" or "." is the workspace itself). It refuses absolute
// paths, ".." segments and paths that lead outside the workspace through
// a symbolic link, the last element included when it exists.
func ResolveWorkspacePath(c *Context, rel string) (string, error) {
	p, err := within(c.Workspace, rel, true)
	if err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	return p, nil
}

// ReadWorkspaceFile reads a regular file at a relative path inside the
// workspace, capped at 100 MiB. A missing file is an error that
// errors.Is(err, fs.ErrNotExist) recognises.
func ReadWorkspaceFile(c *Context, rel string) ([]byte, error) {
	p, err := ResolveWorkspacePath(c, rel)
	if err != nil {
		return nil, err
	}
	data, err := readCapped(p, defaultMaxBytes)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			// the path error names the absolute path; the relative one is
			// what the template author wrote
			return nil, fmt.Errorf("%s: %w", rel, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return data, nil
}

// UpdateWorkspaceFile writes a file at a relative path inside the
// workspace as WriteWorkspaceFile does, but keeps the permission bits of
// the file it replaces, so that editing a script leaves it executable.
func UpdateWorkspaceFile(c *Context, rel string, data []byte) error {
	dst, err := within(c.Workspace, rel, false)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Lstat(dst); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	return writeFile(dst, data, mode)
}

// GlobWorkspace returns the regular files of the workspace that match a
// doublestar pattern relative to it, as slash-separated relative paths in
// lexical order. Symbolic links are neither followed nor returned.
func GlobWorkspace(c *Context, pattern string) ([]string, error) {
	clean, err := cleanRel(pattern)
	if err != nil {
		return nil, err
	}
	if c.Workspace == "" {
		return nil, fmt.Errorf("no workspace to match %q against", pattern)
	}
	pat := filepath.ToSlash(clean)
	if !doublestar.ValidatePattern(pat) {
		return nil, fmt.Errorf("bad glob pattern %q", pattern)
	}
	matches, err := doublestar.Glob(os.DirFS(c.Workspace), pat, doublestar.WithNoFollow(), doublestar.WithFilesOnly())
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	out := matches[:0]
	for _, m := range matches {
		fi, err := os.Lstat(filepath.Join(c.Workspace, filepath.FromSlash(m)))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if _, err := within(c.Workspace, m, true); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}
