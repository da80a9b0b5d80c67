package action

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// cleanRel validates a relative path from an input or a rendered file name:
// not absolute, no ".." segment, no NUL.
func cleanRel(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path %q contains a NUL byte", p)
	}
	s := strings.ReplaceAll(p, `\`, "/")
	if filepath.IsAbs(p) || strings.HasPrefix(s, "/") || filepath.VolumeName(p) != "" {
		return "", fmt.Errorf("path %q is absolute; only relative paths are allowed", p)
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." {
			return "", fmt.Errorf("path %q contains \"..\"; paths may not leave the workspace", p)
		}
	}
	return filepath.Clean(filepath.FromSlash(s)), nil
}

func inside(root, p string) bool {
	if p == root {
		return true
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// within joins rel to root after validating it and checks that the result
// (its deepest existing ancestor, and with followLast the path itself when
// it exists) does not lead outside root through a symbolic link.
func within(root, rel string, followLast bool) (string, error) {
	if root == "" {
		return "", fmt.Errorf("no directory to resolve %q against", rel)
	}
	r, err := cleanRel(rel)
	if err != nil {
		return "", err
	}
	full := filepath.Join(root, r)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	p := full
	if !followLast && p != root {
		p = filepath.Dir(p)
	}
	for {
		if _, err := os.Lstat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p || !inside(root, parent) {
			break
		}
		p = parent
	}
	rp, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", rel, err)
	}
	if !inside(realRoot, rp) {
		return "", fmt.Errorf("path %q leads outside its directory through a symbolic link", rel)
	}
	return full, nil
}

// limits caps copies.
type limits struct {
	maxBytes int64
	maxFiles int
	bytes    int64
	files    int
}

func (l *limits) add(size int64) error {
	l.files++
	l.bytes += size
	if l.files > l.maxFiles {
		return fmt.Errorf("too many files: more than %d", l.maxFiles)
	}
	if l.bytes > l.maxBytes {
		return fmt.Errorf("too much data: more than %d bytes", l.maxBytes)
	}
	return nil
}

// entry is one file or directory of a source tree.
type entry struct {
	rel  string // slash-separated, relative to the source root
	abs  string
	dir  bool
	mode fs.FileMode
	size int64
}

// walkSource lists a directory tree without following symbolic links;
// symbolic links and special files are an error. Counts against l.
func walkSource(root string, l *limits) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; symbolic links in templates are not supported", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out = append(out, entry{rel: rel, abs: p, dir: true, mode: info.Mode().Perm()})
			return nil
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		if err := l.add(info.Size()); err != nil {
			return err
		}
		out = append(out, entry{rel: rel, abs: p, mode: info.Mode().Perm(), size: info.Size()})
		return nil
	})
	return out, err
}

// sourcePath resolves an input url against the template directory.
func sourcePath(c *Context, url string) (string, error) {
	if url == "" {
		return "", fmt.Errorf("input \"url\" is required")
	}
	if strings.Contains(url, "://") {
		return "", fmt.Errorf("url %q: only paths relative to the template are supported", url)
	}
	root, rel := c.TemplateDir, url
	if c.TemplateRoot != "" && c.TemplateDir != "" {
		// Resolve against the template's directory, then require the result
		// to stay inside the root (cleanRel refuses a leading ..).
		dir, err := filepath.Rel(c.TemplateRoot, c.TemplateDir)
		if err != nil || dir == ".." || strings.HasPrefix(dir, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("url %q: the template directory is outside its root", url)
		}
		root, rel = c.TemplateRoot, path.Join(filepath.ToSlash(dir), url)
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("url %q: the path leaves the template's repository", url)
		}
	}
	p, err := within(root, rel, true)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", url, err)
	}
	rp, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", url, err)
	}
	return rp, nil
}

// writeFile writes data at dst (already validated with within), creating
// parent directories; it refuses to write through a symbolic link.
func writeFile(dst string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if fi, err := os.Lstat(dst); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 || fi.IsDir() {
			return fmt.Errorf("%s exists and is not a regular file", dst)
		}
	}
	if mode == 0 {
		mode = 0o644
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode|0o200)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode|0o200)
}

func readCapped(p string, max int64) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", filepath.Base(p))
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(p), max)
	}
	return os.ReadFile(p)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
