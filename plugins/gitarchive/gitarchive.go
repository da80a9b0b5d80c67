// Package gitarchive unpacks, in memory, the gzip tar archives git hosts
// serve for a commit (GitHub's tarball, GitLab's and Gitea's
// archive.tar.gz), whose entries all stand under one top directory
// ("<repo>-<sha>/"). The archive comes from the network, so its names are
// checked and what it may hold is capped.
package gitarchive

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// Limits caps what one archive may make the reader hold or read.
type Limits struct {
	ArchiveBytes int64 // the compressed stream
	Files        int   // regular files kept
	TreeBytes    int64 // the kept files' contents, together
}

// Unpack reads a git host's archive and returns the regular files under
// sub (a slash-separated directory of the repository; "" for all), with
// paths relative to it, in archive order. found reports whether sub is in
// the archive at all (always true for "").
//
// Security: an entry whose name is absolute, holds a backslash or NUL, or
// has an empty, "." or ".." segment refuses the whole archive (git never
// writes one, so one is a sign of tampering); symbolic and hard links and
// special files are skipped, never followed; sizes are capped by lim.
func Unpack(r io.Reader, sub string, lim Limits) (files []reading.TreeFile, found bool, err error) {
	capped := &cappedReader{r: r, left: lim.ArchiveBytes, max: lim.ArchiveBytes}
	gz, err := gzip.NewReader(capped)
	if err != nil {
		return nil, false, archiveError("not a gzip archive", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	sub = strings.Trim(sub, "/")
	found = sub == ""
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, found, nil
		}
		if err != nil {
			return nil, false, archiveError("corrupt archive", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // git archive's commit comment; its name means nothing
		}
		name := strings.TrimSuffix(hdr.Name, "/") // directories end in "/"
		if !CleanRel(name) {
			return nil, false, fmt.Errorf("unsafe path %q in the archive: not a clean relative path", hdr.Name)
		}
		_, rel, ok := strings.Cut(name, "/") // strip the top directory
		if !ok {
			continue // the top directory, or a file beside it
		}
		if sub != "" {
			if rel == sub {
				found = true
				continue
			}
			r, ok := strings.CutPrefix(rel, sub+"/")
			if !ok {
				continue
			}
			found, rel = true, r
		}
		if hdr.Typeflag != tar.TypeReg {
			continue // directories are implied; links are not followed
		}
		if len(files) >= lim.Files {
			return nil, false, fmt.Errorf("the tree has more than %d files", lim.Files)
		}
		if hdr.Size < 0 || total+hdr.Size > lim.TreeBytes {
			return nil, false, fmt.Errorf("the tree is larger than %d MiB", lim.TreeBytes>>20)
		}
		data, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil {
			return nil, false, archiveError("corrupt archive at "+hdr.Name, err)
		}
		total += int64(len(data))
		files = append(files, reading.TreeFile{Path: rel, Data: data, Executable: hdr.Mode&0o111 != 0})
	}
}

// CleanRel reports whether name is a relative slash path with no empty,
// "." or ".." segment, no backslash and no NUL: a path that means the
// same to every file system and cannot leave its root.
func CleanRel(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return false
	}
	for _, s := range strings.Split(name, "/") {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

// archiveError says what went wrong, except when the cause is the size
// cap, which says it better by itself.
func archiveError(what string, err error) error {
	var big *tooLargeError
	if errors.As(err, &big) {
		return big
	}
	return fmt.Errorf("%s: %w", what, err)
}

// tooLargeError is a compressed stream over Limits.ArchiveBytes.
type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the archive is larger than %d MiB", e.max>>20)
}

// cappedReader fails, rather than ending early, once more than max bytes
// were read: a cut-off stream would otherwise show as a corrupt archive.
type cappedReader struct {
	r         io.Reader
	left, max int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, &tooLargeError{c.max}
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1] // one byte more than allowed tells "too large" from "exactly max"
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, &tooLargeError{c.max}
	}
	return n, err
}
