package gitea

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins/gitarchive"
)

// Discovery limits.
const (
	pageSize        = 50
	maxPages        = 2000 // 100,000 repositories: a server that never answers an empty page stops here
	probeLimit      = 5    // Backstage's pLimit(5)
	defaultSchedule = 30 * time.Minute
)

// provider is one catalog.providers.gitea.<id>: Backstage's
// GiteaEntityProvider.
type provider struct {
	id, org string
	h       *host
	// branch is the configured branch; "" reads each repository's
	// default branch, as Backstage's provider does since it stopped
	// assuming main (Gitea's own default is main, so the usual result is
	// the same).
	branch      string
	catalogPath string
	every       time.Duration
	timeout     time.Duration
	pageSize    int // Backstage's page of 50; tests make it small
}

// branchNameRe is a branch the reader can read back from a src/branch
// URL: one segment, so no slash.
var branchNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (p *Plugin) newProvider(id string, c providerConfig) (*provider, error) {
	path := keyProviders + "." + id
	pr := &provider{id: id, org: strings.TrimSpace(c.Organization), branch: strings.TrimSpace(c.Branch),
		catalogPath: strings.TrimPrefix(strings.TrimSpace(c.CatalogPath), "/"), every: defaultSchedule, pageSize: pageSize}
	if pr.org == "" {
		return nil, fmt.Errorf("config %s.organization is required", path)
	}
	if !gitarchive.CleanRel(pr.org) || strings.Contains(pr.org, "/") {
		return nil, fmt.Errorf("config %s.organization: %q is not an organisation name", path, pr.org)
	}
	if c.Host == "" {
		return nil, fmt.Errorf("config %s.host is required", path)
	}
	if pr.h = p.lookupHost(strings.TrimSpace(c.Host)); pr.h == nil {
		return nil, fmt.Errorf("config %s.host: no %s entry has host %s", path, keyIntegrations, c.Host)
	}
	if pr.branch != "" && (!branchNameRe.MatchString(pr.branch) || strings.Contains(pr.branch, "..")) {
		return nil, fmt.Errorf("config %s.branch: %q is not a branch name Greenroom can read (letters, digits, . _ -)", path, pr.branch)
	}
	if pr.catalogPath == "" {
		pr.catalogPath = "catalog-info.yaml"
	}
	if !gitarchive.CleanRel(pr.catalogPath) || strings.ContainsAny(pr.catalogPath, "*?[") {
		return nil, fmt.Errorf("config %s.catalogPath: %q must be a relative file path (no globs, no ..)", path, c.CatalogPath)
	}
	if c.Schedule != nil {
		// initialDelay is checked so a typo is reported, and unused: the
		// host starts discovery at once
		s, err := c.Schedule.Parse(path + ".schedule")
		if err != nil {
			return nil, err
		}
		pr.every, pr.timeout = s.Frequency, s.Timeout
	}
	return pr, nil
}

// Name implements plugins.Provider.
func (pr *provider) Name() string { return "gitea-provider:" + pr.id }

// Schedule implements plugins.Provider (schedule.frequency, 30 minutes
// when unset: Backstage requires a schedule, Greenroom has a default).
func (pr *provider) Schedule() time.Duration { return pr.every }

// branchOf is the branch the provider reads in a repository.
func (pr *provider) branchOf(defaultBranch string) string {
	switch {
	case pr.branch != "":
		return pr.branch
	case defaultBranch != "":
		return defaultBranch
	}
	return "main"
}

// spec is the location the provider owns for a repository.
func (pr *provider) spec(htmlURL, branch string) catalog.LocationSpec {
	return catalog.LocationSpec{Type: "url", Target: fileURL(htmlURL, branch, pr.catalogPath), Presence: "optional"}
}

// fileURL is a file's browser URL, <html_url>/src/branch/<branch>/<path>.
func fileURL(htmlURL, branch, path string) string {
	return strings.TrimRight(htmlURL, "/") + "/src/branch/" + url.PathEscape(branch) + "/" + escapePath(path)
}

// Discover implements plugins.Provider: every non-empty repository of the
// organisation that has the catalog file on the branch.
func (pr *provider) Discover(ctx context.Context) ([]catalog.LocationSpec, error) {
	if pr.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pr.timeout)
		defer cancel()
	}
	repos, err := pr.listRepos(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: list repositories of %s: %w", pr.Name(), pr.org, err)
	}
	found := make([]bool, len(repos))
	errs := make([]error, len(repos))
	next := make(chan int)
	var wg sync.WaitGroup
	for range probeLimit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := repos[i]
				found[i], errs[i] = pr.h.hasFile(ctx, pr.org, r.Name, pr.branchOf(r.DefaultBranch), pr.catalogPath)
			}
		}()
	}
	for i, r := range repos {
		if !r.Empty {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	var out []catalog.LocationSpec
	for i, r := range repos {
		// a failed probe fails the whole discovery: its result is a full
		// mutation, so a repository left out would be removed
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: %w", pr.Name(), errs[i])
		}
		if found[i] {
			out = append(out, pr.spec(r.HTMLURL, pr.branchOf(r.DefaultBranch)))
		}
	}
	pr.h.p.log.Info("gitea discovery", "provider", pr.Name(), "organization", pr.org, "repositories", len(repos), "locations", len(out))
	return out, nil
}

// listRepos pages through GET /orgs/<org>/repos until a page is empty.
func (pr *provider) listRepos(ctx context.Context) ([]apiRepo, error) {
	var all []apiRepo
	for page := 1; page <= maxPages; page++ {
		var batch []apiRepo
		path := "/orgs/" + url.PathEscape(pr.org) + "/repos?limit=" + strconv.Itoa(pr.pageSize) + "&page=" + strconv.Itoa(page)
		if err := pr.h.getJSON(ctx, path, "GET /api/v1/orgs/"+pr.org+"/repos page "+strconv.Itoa(page), &batch); err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			return all, nil
		}
		for _, r := range batch {
			if !validName(r.Name) || !validHTMLURL(r.HTMLURL) {
				return nil, fmt.Errorf("gitea %s: repository %q has an invalid name or html_url", pr.h.name, r.Name)
			}
		}
		all = append(all, batch...)
	}
	return nil, fmt.Errorf("gitea %s: more than %d pages of repositories", pr.h.name, maxPages)
}

// hasFile probes GET /repos/<o>/<r>/contents/<path>?ref=<branch>: 200 is
// there, 404 is not, anything else an error.
func (h *host) hasFile(ctx context.Context, owner, repo, branch, path string) (bool, error) {
	u := h.api(repoPath(owner, repo) + "/contents/" + escapePath(path) + "?ref=" + url.QueryEscape(branch))
	resp, err := h.get(ctx, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSON))
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, h.statusError(resp, "probe "+owner+"/"+repo+"/"+path+" on "+branch)
}

// validName is a repository or owner name: one clean path segment.
func validName(s string) bool { return s != "" && gitarchive.CleanRel(s) && !strings.Contains(s, "/") }

// validHTMLURL is an http(s) URL without credentials, query or fragment.
func validHTMLURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && u.Fragment == "" && !strings.Contains(u.Path, "..")
}
