package gitea

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins/gitarchive"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// Limits of what one read brings in.
const (
	maxFileBytes       = 32 << 20  // one file
	maxTreeBytes       = 100 << 20 // a tree's files, uncompressed
	maxTreeFiles       = 10000
	maxArchiveBytes    = 200 << 20 // the compressed archive
	emptyRetries       = 3
	emptyRetryInterval = 500 * time.Millisecond
)

// emptyBlobTag is the raw endpoint's ETag of a file that is really empty
// (git's SHA-1 of the empty blob), as opposed to the empty answer Gitea
// can give for a file created a moment ago.
const emptyBlobTag = `"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"`

// Host implements reading.HostReader.
func (h *host) Host() string { return h.name }

// location is a parsed browser URL of the host:
// {baseUrl}/<owner>/<repo>[/src|raw|media/<branch|commit|tag>/<ref>[/<path>]].
type location struct {
	owner, repo string
	ref         string // "" when the URL is the repository's own
	path        string // slash-separated, "" for the root
}

func (h *host) parse(u *url.URL) (location, error) {
	bad := func(why string) (location, error) {
		return location{}, fmt.Errorf("gitea %s: %s is not a Gitea URL of the form %s/<owner>/<repo>/src/branch/<branch>/<path>: %s",
			h.name, u.Redacted(), h.baseURL(), why)
	}
	if !strings.EqualFold(u.Host, h.name) {
		return bad("another host")
	}
	rest, ok := strings.CutPrefix(u.Path, h.basePath()+"/")
	if !ok {
		return bad("outside the base URL")
	}
	rest = strings.TrimSuffix(rest, "/")
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "\\\x00") {
			return bad("empty, relative or invalid path segment")
		}
	}
	if len(segs) < 2 {
		return bad("no repository")
	}
	loc := location{owner: segs[0], repo: strings.TrimSuffix(segs[1], ".git")}
	if len(segs) == 2 {
		return loc, nil
	}
	if len(segs) < 5 {
		return bad("no ref")
	}
	switch segs[2] {
	case "src", "raw", "media":
	default:
		return bad("expected src or raw after the repository")
	}
	switch segs[3] {
	case "branch", "commit", "tag":
	default:
		return bad("expected branch, commit or tag")
	}
	// As Backstage's reader does, the ref is one segment: Gitea's own
	// URLs are ambiguous for a branch with a slash in its name.
	loc.ref = segs[4]
	loc.path = strings.Join(segs[5:], "/")
	return loc, nil
}

// ReadURL reads a file through the raw endpoint,
// GET /api/v1/repos/<o>/<r>/raw/<path>?ref=<ref>.
//
// Backstage reads the contents API, which sends no ETag, so its reader
// ignores etags. Gitea 1.26's raw endpoint answers with ETag "<blob sha>"
// and honours If-None-Match with 304 (checked against the real server in
// this package's tests), so an unchanged file costs a 304 and no body.
// Backstage retries an empty answer for a just-created file up to three
// times 500 ms apart; that retry is kept, except for a file whose ETag is
// the empty blob's, which really is empty.
func (h *host) ReadURL(ctx context.Context, u *url.URL, o reading.Options) (*reading.File, error) {
	loc, err := h.parse(u)
	if err != nil {
		return nil, err
	}
	if loc.ref == "" || loc.path == "" {
		return nil, fmt.Errorf("gitea %s: %s names no file (expected …/src/branch/<branch>/<path>)", h.name, u.Redacted())
	}
	api := h.api(repoPath(loc.owner, loc.repo) + "/raw/" + escapePath(loc.path) + "?ref=" + url.QueryEscape(loc.ref))
	for attempt := 1; ; attempt++ {
		hdr := http.Header{"Accept": {"*/*"}}
		if o.ETag != "" {
			hdr.Set("If-None-Match", quoteTag(o.ETag))
		}
		resp, err := h.get(ctx, api, hdr)
		if err != nil {
			return nil, err
		}
		f, err := h.fileAnswer(resp, u, o)
		if err != nil || len(f.Data) > 0 || f.ETag == emptyBlobTag || attempt == emptyRetries {
			return f, err
		}
		h.p.log.Debug("gitea: empty answer for a file, retrying", "url", u.Redacted(), "attempt", attempt)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(emptyRetryInterval):
		}
	}
}

func (h *host) fileAnswer(resp *http.Response, u *url.URL, o reading.Options) (*reading.File, error) {
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, reading.ErrNotModified
	case http.StatusNotFound:
		return nil, &reading.NotFoundError{URL: u.String()}
	default:
		return nil, h.statusError(resp, "read "+u.Redacted())
	}
	tag := resp.Header.Get("ETag")
	if o.ETag != "" && tag != "" && quoteTag(o.ETag) == tag {
		return nil, reading.ErrNotModified
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFileBytes+1))
	if err != nil {
		return nil, h.transportError(err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("gitea %s: %s is larger than %d MiB", h.name, u.Redacted(), maxFileBytes>>20)
	}
	return &reading.File{Data: data, ETag: tag}, nil
}

// quoteTag makes a bare tag (a SHA kept from elsewhere) an HTTP entity
// tag.
func quoteTag(t string) string {
	if strings.HasPrefix(t, `"`) || strings.HasPrefix(t, `W/"`) {
		return t
	}
	return `"` + t + `"`
}

// ReadTree reads a directory as Backstage's Gitea reader does: the ref's
// commit (GET …/git/commits/<ref>) gives the tree's ETag, and an unchanged
// SHA is ErrNotModified before anything else is fetched; otherwise the
// archive of that commit (…/archive/<sha>.tar.gz) is unpacked in memory.
// A repository URL without /src/… reads the default branch.
func (h *host) ReadTree(ctx context.Context, u *url.URL, o reading.Options) (*reading.Tree, error) {
	loc, err := h.parse(u)
	if err != nil {
		return nil, err
	}
	rp := repoPath(loc.owner, loc.repo)
	if loc.ref == "" {
		var r apiRepo
		if err := h.getJSON(ctx, rp, "repository "+loc.owner+"/"+loc.repo, &r); err != nil {
			if isStatus(err, http.StatusNotFound) {
				return nil, &reading.NotFoundError{URL: u.String()}
			}
			return nil, err
		}
		if r.Empty {
			return nil, &reading.NotFoundError{URL: u.String()}
		}
		loc.ref = r.DefaultBranch
	}
	var c apiCommit
	// stat, verification and files are costly for Gitea and unused here
	q := "?stat=false&verification=false&files=false"
	if err := h.getJSON(ctx, rp+"/git/commits/"+url.PathEscape(loc.ref)+q, "commit "+loc.ref+" of "+loc.owner+"/"+loc.repo, &c); err != nil {
		if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusConflict) {
			return nil, &reading.NotFoundError{URL: u.String()}
		}
		return nil, err
	}
	if !shaRe.MatchString(c.SHA) {
		return nil, fmt.Errorf("gitea %s: commit %s of %s/%s: no SHA in the answer", h.name, loc.ref, loc.owner, loc.repo)
	}
	if o.ETag != "" && o.ETag == c.SHA {
		return nil, reading.ErrNotModified
	}
	resp, err := h.get(ctx, h.api(rp+"/archive/"+c.SHA+".tar.gz"), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, h.statusError(resp, "archive of "+loc.owner+"/"+loc.repo+" at "+c.SHA)
	}
	files, found, err := untar(resp.Body, loc.path)
	if err != nil {
		return nil, fmt.Errorf("gitea %s: archive of %s/%s at %s: %w", h.name, loc.owner, loc.repo, c.SHA, err)
	}
	if !found {
		return nil, &reading.NotFoundError{URL: u.String()}
	}
	return &reading.Tree{ETag: c.SHA, Files: files}, nil
}

// untar reads a git archive (one top directory) and keeps the regular
// files under sub, relative to it. found reports whether sub exists.
// gitarchive checks the names and caps the sizes.
func untar(r io.Reader, sub string) (files []reading.TreeFile, found bool, err error) {
	return gitarchive.Unpack(r, sub, gitarchive.Limits{ArchiveBytes: maxArchiveBytes, Files: maxTreeFiles, TreeBytes: maxTreeBytes})
}
