// Package reading reads remote URLs for the catalog, TechDocs and the
// scaffolder, as Backstage's UrlReader does: each configured integration
// contributes a HostReader matched on the URL's host (host plus port), the
// first match wins, and a host no integration answers for is read with a
// plain GET only if backend.reading.allow admits it. Every connection is
// checked on the address it resolves to: loopback, private, link-local and
// unspecified addresses are refused unless explicitly allowed, and so is
// every redirect that would lead there.
package reading

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
)

// Options are per-read options.
type Options struct {
	// ETag is the tag of the copy the caller holds; a reader that sees it
	// unchanged returns ErrNotModified.
	ETag string
}

// File is a read file.
type File struct {
	Data []byte
	ETag string // the host's ETag ("" if it gives none)
}

// TreeFile is one file of a read tree.
type TreeFile struct {
	Path       string // slash-separated, relative to the tree's root
	Data       []byte
	Executable bool
}

// Tree is a read directory. Its ETag is the commit SHA it was read at.
type Tree struct {
	ETag  string
	Files []TreeFile
}

// HostReader reads the browser URLs of one host (a blob URL for a file, a
// tree or repository URL for a directory) through that host's API, with
// its credentials.
type HostReader interface {
	// Host is host[:port] as the integration configures it.
	Host() string
	ReadURL(ctx context.Context, u *url.URL, o Options) (*File, error)
	ReadTree(ctx context.Context, u *url.URL, o Options) (*Tree, error)
}

// ErrNotModified is returned when Options.ETag is still current.
var ErrNotModified = errors.New("not modified")

// NotFoundError is a URL that the host says does not exist. It matches
// fs.ErrNotExist with errors.Is.
type NotFoundError struct{ URL string }

func (e *NotFoundError) Error() string { return e.URL + " does not exist" }

// Is makes errors.Is(err, fs.ErrNotExist) hold.
func (e *NotFoundError) Is(target error) bool { return target == fs.ErrNotExist }

// NotAllowedError is a URL no integration answers for and no
// backend.reading.allow rule admits, or one whose address is refused.
// Its message names the configuration key that would allow it.
type NotAllowedError struct {
	URL    string
	Reason string
}

func (e *NotAllowedError) Error() string { return e.Reason }

// Is makes errors.Is(err, fs.ErrPermission) hold, so consumers that must
// not import this package (the catalog's API) can answer 403 for it.
func (e *NotAllowedError) Is(target error) bool { return target == fs.ErrPermission }
