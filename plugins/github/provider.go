package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

// EntityProviders returns one provider per catalog.providers.github entry.
func (p *Plugin) EntityProviders() []plugins.Provider {
	out := make([]plugins.Provider, 0, len(p.providers))
	for _, s := range p.providers {
		out = append(out, &provider{p: p, s: s})
	}
	return out
}

// provider discovers an organization's (or a user's) repositories over
// REST: Backstage uses GraphQL, which we do not implement, and the REST
// listing carries every field its filters need.
type provider struct {
	p *Plugin
	s *providerSettings
}

func (pr *provider) Name() string { return "github-provider:" + pr.s.id }

func (pr *provider) Schedule() time.Duration { return pr.s.frequency }

// InitialDelay is the schedule's initialDelay, for a host that honours it.
func (pr *provider) InitialDelay() time.Duration { return pr.s.initialDelay }

const maxPages = 1000 // 100,000 repositories

// Discover lists the account's repositories, keeps those the filters
// admit and returns one optional url location per catalog file.
func (pr *provider) Discover(ctx context.Context) ([]catalog.LocationSpec, error) {
	if pr.s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pr.s.timeout)
		defer cancel()
	}
	in := findIntegration(pr.p.integrations, pr.s.host)
	c := pr.p.client(in, "")
	var acct account
	if err := c.get(ctx, esc("users", pr.s.org), &acct); err != nil {
		return nil, fmt.Errorf("%s: looking up %s: %w", pr.Name(), pr.s.org, err)
	}
	list := esc("orgs", pr.s.org, "repos")
	if acct.Type == "User" {
		list = esc("users", pr.s.org, "repos")
	}
	var repos []repository
	for page := 1; page <= maxPages; page++ {
		var batch []repository
		if err := c.get(ctx, fmt.Sprintf("%s?per_page=100&page=%d", list, page), &batch); err != nil {
			return nil, fmt.Errorf("%s: listing the repositories of %s: %w", pr.Name(), pr.s.org, err)
		}
		repos = append(repos, batch...)
		if len(batch) < 100 {
			break
		}
	}
	var out []catalog.LocationSpec
	for i := range repos {
		r := &repos[i]
		if !pr.matches(r) {
			continue
		}
		specs, err := pr.locations(ctx, c, r)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", pr.Name(), r.FullName, err)
		}
		out = append(out, specs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out, nil
}

// matches applies the provider's filters to a repository.
func (pr *provider) matches(r *repository) bool {
	s := pr.s
	if !validName(r.Name) || !strings.EqualFold(r.Owner.Login, s.org) && r.Owner.Login != "" {
		return false
	}
	if r.Archived && !s.allowArchived {
		return false
	}
	if r.Fork && !s.allowForks {
		return false
	}
	if s.repoRe != nil && !s.repoRe.MatchString(r.Name) {
		return false
	}
	for _, t := range s.topicExclude {
		if slices.Contains(r.Topics, t) {
			return false // exclude wins
		}
	}
	if len(s.topicInclude) > 0 && !slices.ContainsFunc(s.topicInclude, func(t string) bool { return slices.Contains(r.Topics, t) }) {
		return false
	}
	if len(s.visibility) > 0 && !slices.Contains(s.visibility, r.visibility()) {
		return false
	}
	return pr.branch(r) != ""
}

// branch is the filter branch or the repository's default branch.
func (pr *provider) branch(r *repository) string {
	if pr.s.branch != "" {
		return pr.s.branch
	}
	if validRef(r.DefaultBranch) {
		return r.DefaultBranch
	}
	return ""
}

// repoURL is the repository's web page, checked to be on the provider's
// host: html_url comes from the API (or a webhook) and becomes a location
// that the catalog will read with the integration's token.
func (pr *provider) repoURL(r *repository) (string, bool) {
	u, err := url.Parse(r.HTMLURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.EqualFold(u.Host, pr.s.host) ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) != 2 || !validName(segs[0]) || !validName(segs[1]) {
		return "", false
	}
	// a lower-case host, as webhook events build their URLs
	return u.Scheme + "://" + strings.ToLower(u.Host) + "/" + segs[0] + "/" + segs[1], true
}

func (pr *provider) spec(base, branch, file string) catalog.LocationSpec {
	return catalog.LocationSpec{Type: "url", Target: base + "/blob/" + branch + "/" + file, Presence: "optional"}
}

// locations are the catalog files of one admitted repository.
func (pr *provider) locations(ctx context.Context, c *client, r *repository) ([]catalog.LocationSpec, error) {
	base, ok := pr.repoURL(r)
	if !ok {
		pr.p.log.Warn("skipping a repository whose html_url is not on the provider's host", "provider", pr.Name(), "repository", r.FullName)
		return nil, nil
	}
	branch := pr.branch(r)
	repoPath := esc("repos", r.Owner.Login, r.Name)
	if r.Owner.Login == "" {
		repoPath = esc("repos", pr.s.org, r.Name)
	}
	if !pr.s.glob {
		if pr.s.validate {
			err := c.call(ctx, http.MethodGet, repoPath+"/contents/"+escPath(pr.s.catalogPath)+"?ref="+url.QueryEscape(branch), nil, nil)
			switch st := statusOf(err); {
			case st == http.StatusNotFound || st == http.StatusConflict:
				return nil, nil
			case err != nil:
				return nil, err
			}
		}
		return []catalog.LocationSpec{pr.spec(base, branch, pr.s.catalogPath)}, nil
	}
	files, err := pr.treeFiles(ctx, c, repoPath, branch)
	if err != nil {
		return nil, err
	}
	var out []catalog.LocationSpec
	for _, f := range files {
		out = append(out, pr.spec(base, branch, f))
	}
	return out, nil
}

// treeFiles are the files of the branch that match the glob catalogPath.
func (pr *provider) treeFiles(ctx context.Context, c *client, repoPath, branch string) ([]string, error) {
	var tree struct {
		Tree []struct {
			Path string `json:"path"`
			Type string `json:"type"`
		} `json:"tree"`
		Truncated bool `json:"truncated"`
	}
	err := c.get(ctx, repoPath+"/git/trees/"+escPath(branch)+"?recursive=1", &tree)
	switch st := statusOf(err); {
	case st == http.StatusNotFound || st == http.StatusConflict: // no such branch; an empty repository
		return nil, nil
	case err != nil:
		return nil, err
	}
	if tree.Truncated {
		pr.p.log.Warn("the repository's tree is too large for one listing; some catalog files may be missed", "provider", pr.Name(), "repository", repoPath)
	}
	var out []string
	for _, e := range tree.Tree {
		if e.Type != "blob" || hasDotDot(e.Path) || strings.HasPrefix(e.Path, "/") {
			continue
		}
		if ok, _ := doublestar.Match(pr.s.catalogPath, e.Path); ok {
			out = append(out, e.Path)
		}
	}
	return out, nil
}
