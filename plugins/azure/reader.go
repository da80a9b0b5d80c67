package azure

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// Caps on what one read may hold.
const (
	maxFileBytes = 100 << 20
	maxZipBytes  = 200 << 20 // the compressed archive
	maxTreeBytes = 100 << 20 // its files' contents, together
	maxTreeFiles = 10000
)

// URLReaders implements plugins.URLReaderProvider: one reader per
// configured host, reading Azure Repos browser URLs
// (https://dev.azure.com/<org>/<project>/_git/<repo>?path=/x&version=GB<branch>)
// as Backstage's AzureUrlReader does.
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

// location is a parsed browser URL (Backstage's AzureUrl).
type location struct {
	org, project, repo string
	path               string // as given, "" for the repository's root
	ref                string // a branch, "" for the default branch
}

// shown is a URL for messages: without its query, which is the reader's
// own, and user info.
func shown(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// parse splits a browser URL as Backstage's AzureUrl.fromRepoUrl does:
// <org>/<project>/_git/<repo>, <org>/_git/<repo> (the project named as
// the repository) and, on <org>.visualstudio.com, <project>/_git/<repo>;
// the path parameter is the file or directory and version must be
// GB<branch>.
func (in *integration) parse(u *url.URL) (location, error) {
	if !in.sameOrigin(u) && !strings.EqualFold(u.Host, in.host) {
		return location{}, fmt.Errorf("%s is not on Azure DevOps host %s", shown(u), in.host)
	}
	prefix := strings.TrimSuffix(in.baseURL.EscapedPath(), "/")
	rest, ok := strings.CutPrefix(u.EscapedPath(), prefix+"/")
	if !ok {
		return location{}, fmt.Errorf("%s is not under Azure DevOps base URL %s", shown(u), in.base())
	}
	var parts []string
	for _, s := range strings.Split(strings.Trim(rest, "/"), "/") {
		d, err := url.PathUnescape(s)
		if err != nil {
			return location{}, fmt.Errorf("%s: %v", shown(u), err)
		}
		parts = append(parts, d)
	}
	var loc location
	vs := strings.HasSuffix(strings.ToLower(u.Hostname()), ".visualstudio.com")
	switch {
	case vs && len(parts) == 3 && parts[1] == "_git":
		loc = location{org: in.orgOf(u), project: parts[0], repo: parts[2]}
	case len(parts) == 3 && parts[1] == "_git":
		loc = location{org: parts[0], project: parts[2], repo: parts[2]}
	case len(parts) == 4 && parts[2] == "_git":
		loc = location{org: parts[0], project: parts[1], repo: parts[3]}
	default:
		return location{}, fmt.Errorf("Azure URL must point to a git repository: %s", shown(u))
	}
	if !validOrg(loc.org) || !validName(loc.project) || !validName(loc.repo) {
		return location{}, fmt.Errorf("%s: organization, project or repository is not a valid Azure DevOps name", shown(u))
	}
	q := u.Query()
	loc.path = q.Get("path")
	for _, r := range loc.path {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return location{}, fmt.Errorf("%s: the path holds a forbidden character", shown(u))
		}
	}
	for _, s := range strings.Split(loc.path, "/") {
		if s == "." || s == ".." {
			return location{}, fmt.Errorf("%s: the path must not hold . or .. segments", shown(u))
		}
	}
	if v := q.Get("version"); v != "" {
		ref, ok := strings.CutPrefix(v, "GB")
		if !ok || !validBranch(ref) {
			return location{}, fmt.Errorf("Azure URL version must point to a git branch: %s", shown(u))
		}
		loc.ref = ref
	}
	return loc, nil
}

func (l location) repoPath() string {
	return "/" + seg(l.org) + "/" + seg(l.project) + "/_apis/git/repositories/" + seg(l.repo)
}

// get sends an authenticated GET to the integration and returns the open
// response of a 2xx answer; 404 is a reading.NotFoundError for shownURL.
func (r *hostReader) get(ctx context.Context, loc location, path string, q url.Values, accept, shownURL string) (*http.Response, error) {
	token := r.in.token(loc.org)
	cl := r.p.client(r.in, token)
	q.Set("api-version", r.in.apiVersion)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.in.base()+path+"?"+strings.ReplaceAll(q.Encode(), "%24", "$"), nil)
	if err != nil {
		return nil, fmt.Errorf("Azure DevOps %s: GET %s: %v", r.in.host, path, err)
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", basicAuth(token))
	}
	resp, err := r.p.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("Azure DevOps %s: GET %s: %s", r.in.host, path, cl.scrub(err.Error()))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, &reading.NotFoundError{URL: shownURL}
	case resp.StatusCode == http.StatusNonAuthoritativeInfo:
		// Azure's answer to a token it does not accept: its sign-in page
		resp.Body.Close()
		return nil, fmt.Errorf("%s could not be read: Azure DevOps %s answered 203 with a sign-in page, so the token was not accepted", shownURL, r.in.host)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		defer resp.Body.Close()
		return nil, cl.errorOf("GET", path, resp)
	}
	return resp, nil
}

// ReadURL reads a file through the items API, as Backstage's reader does.
// Azure's answer has no usable ETag (Backstage ignores them too), so the
// file is always returned.
func (r *hostReader) ReadURL(ctx context.Context, u *url.URL, _ reading.Options) (*reading.File, error) {
	loc, err := r.in.parse(u)
	if err != nil {
		return nil, err
	}
	if loc.path == "" {
		return nil, fmt.Errorf("Azure URL must point to a specific path to be able to download a file: %s", shown(u))
	}
	q := url.Values{"path": {loc.path}}
	if loc.ref != "" {
		q.Set("version", loc.ref)
	}
	resp, err := r.get(ctx, loc, loc.repoPath()+"/items", q, "*/*", u.String())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", shown(u), err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", shown(u), maxFileBytes>>20)
	}
	return &reading.File{Data: data}, nil
}

// ReadTree reads a directory as Backstage does: the branch's last commit
// is the ETag, then a zip of the directory. The archive is asked for at
// that commit (Backstage asks for the branch again), so the files are the
// ETag's.
func (r *hostReader) ReadTree(ctx context.Context, u *url.URL, o reading.Options) (*reading.Tree, error) {
	loc, err := r.in.parse(u)
	if err != nil {
		return nil, err
	}
	q := url.Values{"searchCriteria.$top": {"1"}}
	if loc.ref != "" {
		q.Set("searchCriteria.itemVersion.version", loc.ref)
	}
	resp, err := r.get(ctx, loc, loc.repoPath()+"/commits", q, "application/json", u.String())
	if err != nil {
		return nil, err
	}
	var commits struct {
		Value []struct {
			CommitID string `json:"commitId"`
		} `json:"value"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(&commits)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("Azure DevOps %s: reading the commits of %s: %v", r.in.host, shown(u), err)
	}
	if len(commits.Value) == 0 || !shaRe.MatchString(commits.Value[0].CommitID) {
		return nil, fmt.Errorf("Azure DevOps %s: %s has no commit", r.in.host, shown(u))
	}
	sha := commits.Value[0].CommitID
	if o.ETag != "" && o.ETag == sha {
		return nil, reading.ErrNotModified
	}
	aq := url.Values{"recursionLevel": {"full"}, "download": {"true"}, "versionType": {"commit"}, "version": {sha}}
	if loc.path != "" {
		aq.Set("scopePath", loc.path)
	}
	resp, err = r.get(ctx, loc, loc.repoPath()+"/items", aq, "application/zip", u.String())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "" && ct != "application/zip" && ct != "application/octet-stream" {
		return nil, fmt.Errorf("Azure DevOps %s: the archive of %s is %s, not a zip", r.in.host, shown(u), ct)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxZipBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the archive of %s: %v", shown(u), err)
	}
	if len(data) > maxZipBytes {
		return nil, fmt.Errorf("the archive of %s is larger than %d MiB", shown(u), maxZipBytes>>20)
	}
	// A directory's archive has it as its top directory (/a/b gives
	// b/c.txt), which Backstage strips.
	top := ""
	if segs := strings.FieldsFunc(loc.path, func(r rune) bool { return r == '/' }); len(segs) > 0 {
		top = segs[len(segs)-1]
	}
	files, err := unzip(data, top)
	if err != nil {
		return nil, fmt.Errorf("the archive of %s: %w", shown(u), err)
	}
	return &reading.Tree{ETag: sha, Files: files}, nil
}

var shaRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// unzip returns the regular files of a zip archive, with top/ stripped
// from their names.
//
// Security: the archive comes from the network. A name that is absolute,
// holds a backslash or NUL, or has an empty, "." or ".." segment refuses
// the whole archive; symbolic links and other non-regular entries are
// skipped, never followed; the count and the uncompressed size are
// capped while reading, not trusted from the headers.
func unzip(data []byte, top string) ([]reading.TreeFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %v", err)
	}
	var out []reading.TreeFile
	var total int64
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		if name == "" {
			continue
		}
		if strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
			return nil, fmt.Errorf("entry %q has a forbidden name", f.Name)
		}
		for _, s := range strings.Split(name, "/") {
			if s == "" || s == "." || s == ".." {
				return nil, fmt.Errorf("entry %q has a forbidden name", f.Name)
			}
		}
		if !f.Mode().IsRegular() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if top != "" {
			rest, ok := strings.CutPrefix(name, top+"/")
			if !ok {
				continue
			}
			name = rest
		}
		if len(out) >= maxTreeFiles {
			return nil, fmt.Errorf("more than %d files", maxTreeFiles)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxTreeBytes-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", f.Name, err)
		}
		if total += int64(len(b)); total > maxTreeBytes {
			return nil, fmt.Errorf("more than %d MiB of files", maxTreeBytes>>20)
		}
		out = append(out, reading.TreeFile{Path: name, Data: b, Executable: f.Mode()&0o111 != 0})
	}
	return out, nil
}
