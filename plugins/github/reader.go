package github

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// hostReader reads one integration's browser URLs, as Backstage's
// GithubUrlReader does.
type hostReader struct {
	p  *Plugin
	in *integration
}

func (r *hostReader) Host() string { return r.in.host }

// Caps on what one read holds in memory.
const (
	maxFileBytes = 50 << 20
	maxTreeBytes = 200 << 20
	maxTreeFiles = 20000
	maxArchive   = 200 << 20 // compressed
)

// ghURL is a parsed browser URL: https://host/o/r[/blob|tree|raw/<ref>[/<path>]].
type ghURL struct {
	owner, repo, kind, ref, path string
}

func parseBrowserURL(u *url.URL) (ghURL, error) {
	p := strings.Trim(u.Path, "/")
	segs := strings.Split(p, "/")
	if len(segs) < 2 || !validName(segs[0]) || !validName(strings.TrimSuffix(segs[1], ".git")) {
		return ghURL{}, fmt.Errorf("%s is not a GitHub repository URL (https://host/owner/repo/...)", u.Redacted())
	}
	g := ghURL{owner: segs[0], repo: strings.TrimSuffix(segs[1], ".git")}
	if len(segs) == 2 {
		return g, nil
	}
	if len(segs) < 4 {
		return ghURL{}, fmt.Errorf("%s is not a GitHub blob or tree URL", u.Redacted())
	}
	g.kind, g.ref = segs[2], segs[3]
	switch g.kind {
	case "blob", "tree", "raw", "edit":
	default:
		return ghURL{}, fmt.Errorf("%s is not a GitHub blob or tree URL", u.Redacted())
	}
	if !validRef(g.ref) {
		return ghURL{}, fmt.Errorf("%s: %q is not a branch, tag or commit", u.Redacted(), g.ref)
	}
	g.path = strings.Join(segs[4:], "/")
	if hasDotDot(g.path) {
		return ghURL{}, fmt.Errorf("%s: the path may not hold \"..\"", u.Redacted())
	}
	return g, nil
}

// ReadURL reads a file through the contents API (raw media type), or the
// raw host when the integration has only rawBaseUrl or no token for it.
func (r *hostReader) ReadURL(ctx context.Context, u *url.URL, o reading.Options) (*reading.File, error) {
	g, err := parseBrowserURL(u)
	if err != nil {
		return nil, err
	}
	if g.ref == "" || g.path == "" {
		return nil, fmt.Errorf("%s is not a GitHub file URL (https://host/owner/repo/blob/<ref>/<path>)", u.Redacted())
	}
	var target string
	accept := ""
	// As Backstage: the API when there is one and either a token or no
	// raw host to fall back on.
	if r.in.api != "" && (r.in.token != "" || r.in.raw == "") {
		target = r.in.api + esc("repos", g.owner, g.repo, "contents") + "/" + escPath(g.path) + "?ref=" + url.QueryEscape(g.ref)
		accept = "application/vnd.github.v3.raw"
	} else {
		target = r.in.raw + esc(g.owner, g.repo) + "/" + escPath(g.ref) + "/" + escPath(g.path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", "Greenroom")
	if r.in.token != "" {
		req.Header.Set("Authorization", "token "+r.in.token)
	}
	if o.ETag != "" {
		req.Header.Set("If-None-Match", o.ETag)
	}
	resp, err := r.p.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %s", u.Redacted(), r.p.client(r.in, "").mask(err.Error()))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, reading.ErrNotModified
	case resp.StatusCode == http.StatusNotFound:
		return nil, &reading.NotFoundError{URL: u.Redacted()}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		msg := fmt.Sprintf("could not read %s, %d %s", u.Redacted(), resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0" {
			msg += " (rate limit exceeded)"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %v", u.Redacted(), err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("could not read %s: larger than %d bytes", u.Redacted(), maxFileBytes)
	}
	return &reading.File{Data: data, ETag: resp.Header.Get("ETag")}, nil
}

// commitStatus is the combined status of a ref: its commit and the
// repository's archive URL template.
type commitStatus struct {
	SHA        string `json:"sha"`
	Repository struct {
		ArchiveURL string `json:"archive_url"`
	} `json:"repository"`
}

// ReadTree reads a directory at a ref: the ref's commit SHA is the tree's
// ETag, and the tarball of that commit is unpacked in memory.
func (r *hostReader) ReadTree(ctx context.Context, u *url.URL, o reading.Options) (*reading.Tree, error) {
	g, err := parseBrowserURL(u)
	if err != nil {
		return nil, err
	}
	if r.in.api == "" {
		return nil, fmt.Errorf("reading the tree %s needs the apiBaseUrl of the GitHub integration for '%s'", u.Redacted(), r.in.host)
	}
	c := r.p.client(r.in, "")
	repoPath := esc("repos", g.owner, g.repo)
	notFound := func(err error) error {
		if statusOf(err) == http.StatusNotFound {
			return &reading.NotFoundError{URL: u.Redacted()}
		}
		return fmt.Errorf("reading %s: %w", u.Redacted(), err)
	}
	ref := g.ref
	if ref == "" {
		var repo repository
		if err := c.get(ctx, repoPath, &repo); err != nil {
			return nil, notFound(err)
		}
		if !validRef(repo.DefaultBranch) {
			return nil, fmt.Errorf("reading %s: the repository has no usable default branch", u.Redacted())
		}
		ref = repo.DefaultBranch
	}
	var st commitStatus
	err = c.get(ctx, repoPath+"/commits/"+escPath(ref)+"/status?per_page=0", &st)
	if statusOf(err) == http.StatusNotFound {
		return nil, notFound(err)
	}
	if err != nil || st.SHA == "" {
		// The combined status needs the statuses permission; the commit
		// itself gives the SHA too.
		var cm struct {
			SHA string `json:"sha"`
		}
		if err := c.get(ctx, repoPath+"/commits/"+escPath(ref), &cm); err != nil {
			return nil, notFound(err)
		}
		st.SHA = cm.SHA
	}
	if !shaRe.MatchString(st.SHA) {
		return nil, fmt.Errorf("reading %s: GitHub answered no commit SHA for %s", u.Redacted(), ref)
	}
	if o.ETag != "" && o.ETag == st.SHA {
		return nil, reading.ErrNotModified
	}
	archive := r.archiveURL(st.Repository.ArchiveURL, repoPath, st.SHA)
	req, err := c.requestURL(ctx, http.MethodGet, archive, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s: downloading the archive: %s", u.Redacted(), c.mask(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, &reading.NotFoundError{URL: u.Redacted()}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s: downloading the archive: %d %s", u.Redacted(), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	files, err := untar(resp.Body, g.path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u.Redacted(), err)
	}
	return &reading.Tree{ETag: st.SHA, Files: files}, nil
}

// archiveURL fills the repository's archive_url template as Backstage
// does; a template that leaves the API's origin is not followed (the
// token goes with the request), the documented tarball route is used.
func (r *hostReader) archiveURL(tmpl, repoPath, sha string) string {
	fallback := r.in.api + repoPath + "/tarball/" + sha
	if tmpl == "" {
		return fallback
	}
	s := strings.ReplaceAll(tmpl, "{archive_format}", "tarball")
	s = strings.ReplaceAll(s, "{/ref}", "/"+sha)
	au, err1 := url.Parse(s)
	base, err2 := url.Parse(r.in.api)
	if err1 != nil || err2 != nil || au.Scheme != base.Scheme || !strings.EqualFold(au.Host, base.Host) ||
		!strings.HasPrefix(au.Path, strings.TrimSuffix(base.Path, "/")+"/") || strings.ContainsAny(s, "{}") {
		return fallback
	}
	return s
}
