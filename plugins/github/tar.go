package github

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

var shaRe = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// untar unpacks a GitHub tarball (gzip tar, everything under one top
// directory "<owner>-<repo>-<sha>/") in memory, keeping the files under
// sub with paths relative to it.
//
// Security: the archive comes from the network. A name that is absolute or
// holds ".." refuses the whole archive (GitHub never writes one, so one is
// a sign of tampering); links and special files are skipped, never
// followed; the file count and the unpacked size are capped.
func untar(r io.Reader, sub string) ([]reading.TreeFile, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("the archive is not gzip: %v", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	sub = strings.Trim(sub, "/")
	var files []reading.TreeFile
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the archive is corrupt: %v", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeXHeader {
			continue
		}
		name := h.Name
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || hasDotDot(name) || strings.ContainsRune(name, 0) {
			return nil, fmt.Errorf("the archive holds an unsafe path %q", name)
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories are implied; links are not followed
		}
		// strip the top directory
		i := strings.IndexByte(name, '/')
		if i < 0 {
			continue
		}
		rel := strings.TrimPrefix(cleanSlash(name[i+1:]), "/")
		if rel == "" {
			continue
		}
		if sub != "" {
			if !strings.HasPrefix(rel, sub+"/") {
				continue
			}
			rel = rel[len(sub)+1:]
		}
		if len(files) >= maxTreeFiles {
			return nil, fmt.Errorf("the tree has more than %d files", maxTreeFiles)
		}
		if h.Size < 0 || total+h.Size > maxTreeBytes {
			return nil, fmt.Errorf("the tree is larger than %d bytes", maxTreeBytes)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size+1))
		if err != nil {
			return nil, fmt.Errorf("the archive is corrupt at %s: %v", name, err)
		}
		if int64(len(data)) > h.Size {
			return nil, fmt.Errorf("the archive is corrupt at %s", name)
		}
		total += int64(len(data))
		files = append(files, reading.TreeFile{Path: rel, Data: data, Executable: h.Mode&0o111 != 0})
	}
	return files, nil
}

// cleanSlash drops empty and "." segments.
func cleanSlash(p string) string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}
