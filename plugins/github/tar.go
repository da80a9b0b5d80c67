package github

import (
	"io"
	"regexp"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins/gitarchive"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

var shaRe = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// untar unpacks a GitHub tarball (everything under one top directory
// "<owner>-<repo>-<sha>/") in memory, keeping the files under sub with
// paths relative to it; gitarchive checks the names and caps the sizes.
func untar(r io.Reader, sub string) ([]reading.TreeFile, error) {
	files, _, err := gitarchive.Unpack(r, sub, gitarchive.Limits{ArchiveBytes: maxArchive, Files: maxTreeFiles, TreeBytes: maxTreeBytes})
	return files, err
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
