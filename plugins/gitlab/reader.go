package gitlab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins/gitarchive"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// Caps on what one ReadTree unpacks.
const (
	maxTreeBytes = 100 << 20
	maxTreeFiles = 10000
)

// URLReaders implements plugins.URLReaderProvider: one reader per
// configured host.
func (p *Plugin) URLReaders() []reading.HostReader {
	out := make([]reading.HostReader, 0, len(p.integrations))
	for _, in := range p.integrations {
		out = append(out, &hostReader{p: p, in: in})
	}
	return out
}

type hostReader struct {
	p  *Plugin
	in *integration
}

func (r *hostReader) Host() string { return r.in.host }

// location is a browser URL split into project, kind, ref and path.
type location struct {
	project string // group/sub/project
	kind    string // blob, raw, tree, or "" for the repository itself
	ref     string
	path    string // inside the repository, no leading slash
}

// parseWebURL splits <baseUrl>/<group…>/<project>/-/<kind>/<ref>/<path>
// (also the older form without "-"), honouring a baseUrl's relative path
// (/gitlab).
func (in *integration) parseWebURL(u *url.URL) (location, error) {
	if !strings.EqualFold(u.Host, in.host) && !strings.EqualFold(u.Host, in.baseURL.Host) {
		return location{}, fmt.Errorf("%s is not on GitLab host %s", redact(u), in.host)
	}
	p := u.Path
	rel := strings.TrimSuffix(in.baseURL.Path, "/")
	if rel != "" {
		if !strings.HasPrefix(p, rel+"/") {
			return location{}, fmt.Errorf("%s is not under GitLab's base URL %s", redact(u), in.base())
		}
		p = strings.TrimPrefix(p, rel)
	}
	p = strings.Trim(p, "/")
	var loc location
	if i := strings.Index(p, "/-/"); i >= 0 {
		loc.project = p[:i]
		rest := p[i+3:]
		kind, rest, _ := strings.Cut(rest, "/")
		loc.kind = kind
		loc.ref, loc.path, _ = strings.Cut(rest, "/")
	} else {
		// legacy routes: <project>/blob/<ref>/<path>
		parts := strings.Split(p, "/")
		loc.project = p
		for i := 2; i < len(parts); i++ { // a project has at least a namespace and a name
			if k := parts[i]; k == "blob" || k == "raw" || k == "tree" {
				loc.project = strings.Join(parts[:i], "/")
				loc.kind = k
				if i+1 < len(parts) {
					loc.ref = parts[i+1]
					loc.path = strings.Join(parts[i+2:], "/")
				}
				break
			}
		}
	}
	loc.project = strings.TrimSuffix(loc.project, ".git")
	if err := checkProjectPath(loc.project); err != nil {
		return location{}, fmt.Errorf("%s: %v", redact(u), err)
	}
	loc.path = strings.Trim(loc.path, "/")
	if loc.path != "" {
		if err := checkRepoPath(loc.path); err != nil {
			return location{}, fmt.Errorf("%s: path %v", redact(u), err)
		}
	}
	if loc.ref != "" && !validBranch(loc.ref) {
		return location{}, fmt.Errorf("%s: %q is not a valid ref", redact(u), loc.ref)
	}
	return loc, nil
}

// redact drops credentials and the query from a URL for messages.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// ReadURL reads a blob (or raw) URL with the repository files API.
func (r *hostReader) ReadURL(ctx context.Context, u *url.URL, o reading.Options) (*reading.File, error) {
	loc, err := r.in.parseWebURL(u)
	if err != nil {
		return nil, err
	}
	if (loc.kind != "blob" && loc.kind != "raw") || loc.ref == "" || loc.path == "" {
		return nil, fmt.Errorf("%s is not a GitLab file URL (<project>/-/blob/<ref>/<path>)", redact(u))
	}
	c := r.p.client(r.in)
	route := "/projects/" + enc(loc.project) + "/repository/files/" + enc(loc.path) + "/raw"
	hdr := http.Header{}
	if o.ETag != "" {
		hdr.Set("If-None-Match", o.ETag)
	}
	resp, err := c.do(ctx, http.MethodGet, route, url.Values{"ref": {loc.ref}}, nil, hdr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, reading.ErrNotModified
	case resp.StatusCode == http.StatusNotFound:
		return nil, &reading.NotFoundError{URL: redact(u)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fmt.Errorf("could not read %s: %w", redact(u), c.errorOf(http.MethodGet, route, resp))
	}
	data, err := readCapped(resp.Body, maxBody)
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %v", redact(u), err)
	}
	return &reading.File{Data: data, ETag: resp.Header.Get("ETag")}, nil
}

func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return b, nil
}

// ReadTree reads a tree (or repository) URL: the last commit touching the
// directory is the tree's ETag, and its content comes from the archive.
func (r *hostReader) ReadTree(ctx context.Context, u *url.URL, o reading.Options) (*reading.Tree, error) {
	loc, err := r.in.parseWebURL(u)
	if err != nil {
		return nil, err
	}
	if loc.kind != "" && loc.kind != "tree" {
		return nil, fmt.Errorf("%s is not a GitLab tree URL (<project>/-/tree/<ref>/<dir>)", redact(u))
	}
	c := r.p.client(r.in)
	proj := "/projects/" + enc(loc.project)
	notFound := func(err error) error {
		if statusOf(err) == http.StatusNotFound {
			return &reading.NotFoundError{URL: redact(u)}
		}
		return fmt.Errorf("could not read %s: %w", redact(u), err)
	}
	if loc.ref == "" {
		var pr struct {
			DefaultBranch string `json:"default_branch"`
		}
		if _, err := c.get(ctx, proj, nil, &pr); err != nil {
			return nil, notFound(err)
		}
		if pr.DefaultBranch == "" {
			return nil, &reading.NotFoundError{URL: redact(u)}
		}
		loc.ref = pr.DefaultBranch
	}
	q := url.Values{"ref_name": {loc.ref}, "per_page": {"1"}}
	if loc.path != "" {
		q.Set("path", loc.path)
	}
	var commits []struct {
		ID string `json:"id"`
	}
	if _, err := c.get(ctx, proj+"/repository/commits", q, &commits); err != nil {
		return nil, notFound(err)
	}
	if len(commits) == 0 || commits[0].ID == "" {
		return nil, &reading.NotFoundError{URL: redact(u)}
	}
	sha := commits[0].ID
	if o.ETag != "" && o.ETag == sha {
		return nil, reading.ErrNotModified
	}
	aq := url.Values{"sha": {loc.ref}}
	if loc.path != "" {
		aq.Set("path", loc.path)
	}
	route := proj + "/repository/archive.tar.gz"
	resp, err := c.do(ctx, http.MethodGet, route, aq, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, &reading.NotFoundError{URL: redact(u)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("could not read %s: %w", redact(u), c.errorOf(http.MethodGet, route, resp))
	}
	files, err := untar(resp.Body, loc.path)
	if err != nil {
		return nil, fmt.Errorf("could not read %s: archive: %v", redact(u), err)
	}
	return &reading.Tree{ETag: sha, Files: files}, nil
}

// untar unpacks a GitLab archive in memory: the top directory
// (<project>-<ref>-<sha>) and the subpath are stripped; gitarchive checks
// the names and caps the sizes.
func untar(r io.Reader, subpath string) ([]reading.TreeFile, error) {
	files, _, err := gitarchive.Unpack(r, subpath, gitarchive.Limits{ArchiveBytes: maxBody, Files: maxTreeFiles, TreeBytes: maxTreeBytes})
	return files, err
}
