package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
)

// MaxFileSize bounds every file and response the ingester reads, so one
// huge file cannot exhaust memory; a larger one is an error on its location.
const MaxFileSize = 20 << 20

// Fetcher reads URLs: url locations and remote placeholders. Production
// passes the server's URL reader (plugins/reading's Mux), which decides
// which hosts may be read and through which integration, and refuses
// internal addresses; its refusals surface as the location's error. A
// missing file is an error matching fs.ErrNotExist.
type Fetcher interface {
	Fetch(ctx context.Context, rawURL string) ([]byte, error)
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than the %d MiB limit", name, MaxFileSize>>20)
	}
	return data, nil
}

// NotFoundError means a target does not exist, which is only an error for
// required locations.
type NotFoundError struct{ Target string }

func (e *NotFoundError) Error() string { return e.Target + " does not exist" }

// readFileUnder reads a file that must resolve, after symlinks, to a path
// inside root.
func readFileUnder(root, name string) ([]byte, error) {
	real, err := filepath.EvalSymlinks(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &NotFoundError{Target: name}
		}
		return nil, err
	}
	if root != "" && !within(root, real) {
		return nil, fmt.Errorf("%s resolves outside of %s", name, root)
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, name)
}

// within reports whether path is root or inside it. Both must be clean and
// have their symlinks resolved.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// realRoot resolves a root directory's symlinks so within() compares like with like.
func realRoot(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return real
	}
	return filepath.Clean(dir)
}

// PlaceholderReader returns the reader placeholders use: absolute http(s)
// URLs are fetched; anything else is a path relative to the file the entity
// came from, which may not leave root (a directory; "" means the file's own
// directory). Backstage resolves relative placeholders only for url
// locations; Greenroom also resolves them for files, inside the root.
func PlaceholderReader(fetch Fetcher, root string) catalog.PlaceholderReader {
	return func(ctx context.Context, base catalog.LocationRef, value string) ([]byte, error) {
		if u, err := url.Parse(value); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
			if fetch == nil {
				return nil, errors.New("reading URLs is not enabled")
			}
			return fetch.Fetch(ctx, value)
		}
		switch base.Type {
		case "url":
			b, err := url.Parse(base.Target)
			if err != nil {
				return nil, &catalog.ResolveError{Err: err}
			}
			u, err := b.Parse(value)
			if err != nil {
				return nil, &catalog.ResolveError{Err: err}
			}
			if u.Host != b.Host {
				return nil, &catalog.ResolveError{Err: errors.New("Placeholder may only reference files from the same repository as the entity")}
			}
			if fetch == nil {
				return nil, errors.New("reading URLs is not enabled")
			}
			return fetch.Fetch(ctx, u.String())
		case "file":
			r := root
			if r == "" {
				r = filepath.Dir(base.Target)
			}
			r = realRoot(r)
			target := filepath.Join(realRoot(filepath.Dir(base.Target)), filepath.FromSlash(value))
			if filepath.IsAbs(value) {
				target = filepath.Clean(value)
			}
			if !within(r, target) {
				return nil, &catalog.ResolveError{Err: fmt.Errorf("the path leaves the location's root %s (placeholders may read files of the same repository only)", r)}
			}
			return readFileUnder(r, target)
		}
		return nil, &catalog.ResolveError{Err: fmt.Errorf("placeholders are not supported for %s locations", base.Type)}
	}
}
