package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

// maxPages bounds one listing, so a misbehaving X-Next-Page cannot loop.
const maxPages = 1000

// probeWorkers is how many catalog-file probes run at once.
const probeWorkers = 4

// EntityProviders implements plugins.EntityProvider.
func (p *Plugin) EntityProviders() []plugins.Provider {
	out := make([]plugins.Provider, 0, len(p.providers))
	for _, pr := range p.providers {
		out = append(out, pr)
	}
	return out
}

// provider is one catalog.providers.gitlab.<id>.
type provider struct {
	p          *Plugin
	id         string
	in         *integration
	group      string
	branch     string // configured branch ("" = the project's default)
	fallback   string
	file       string
	pattern    *regexp.Regexp
	skipForks  bool
	archived   bool // includeArchivedRepos
	exclude    []string
	membership bool
	topics     []string
	every      time.Duration

	// emitted remembers the targets last emitted per project path, so that
	// system hooks (which carry only paths) can remove or move them.
	mu      sync.Mutex
	emitted map[string]map[string]bool
}

func (pr *provider) Name() string            { return "gitlab-provider:" + pr.id }
func (pr *provider) Schedule() time.Duration { return pr.every }

// project is what the projects API says about a project.
type project struct {
	ID                int64           `json:"id"`
	PathWithNamespace string          `json:"path_with_namespace"`
	DefaultBranch     string          `json:"default_branch"`
	WebURL            string          `json:"web_url"`
	HTTPURLToRepo     string          `json:"http_url_to_repo"`
	Description       string          `json:"description"`
	Archived          bool            `json:"archived"`
	ForkedFromProject json.RawMessage `json:"forked_from_project"`
	Topics            []string        `json:"topics"`
}

// branchOf is Backstage's branch ?? default_branch ?? fallbackBranch.
func (pr *provider) branchOf(defaultBranch string) string {
	switch {
	case pr.branch != "":
		return pr.branch
	case defaultBranch != "":
		return defaultBranch
	}
	return pr.fallback
}

// matches applies the path filters (group, projectPattern, excludeRepos),
// which need no more than the project's path.
func (pr *provider) matches(pathWithNamespace string) bool {
	if pr.group != "" && !strings.HasPrefix(pathWithNamespace, pr.group+"/") {
		return false
	}
	if !pr.pattern.MatchString(pathWithNamespace) {
		return false
	}
	return !slices.Contains(pr.exclude, pathWithNamespace)
}

// accepts applies every filter to a listed project.
func (pr *provider) accepts(pj *project) bool {
	if !pr.matches(pj.PathWithNamespace) {
		return false
	}
	if pr.skipForks && len(pj.ForkedFromProject) > 0 && string(pj.ForkedFromProject) != "null" {
		return false
	}
	if !pr.archived && pj.Archived {
		return false
	}
	for _, t := range pr.topics {
		if !slices.Contains(pj.Topics, t) {
			return false
		}
	}
	return true
}

// target is the location the provider emits for a project's file.
func target(webURL, branch, file string) string {
	return strings.TrimSuffix(webURL, "/") + "/-/blob/" + branch + "/" + file
}

// Discover lists the projects, filters them and keeps those whose catalog
// file exists on the branch.
func (pr *provider) Discover(ctx context.Context) ([]catalog.LocationSpec, error) {
	c := pr.p.client(pr.in)
	route := "/projects"
	q := url.Values{"per_page": {"100"}}
	if pr.group != "" {
		route = "/groups/" + enc(pr.group) + "/projects"
		q.Set("include_subgroups", "true")
	}
	if !pr.archived {
		q.Set("archived", "false")
	}
	if pr.membership {
		q.Set("membership", "true")
	}
	if len(pr.topics) > 0 {
		q.Set("topic", strings.Join(pr.topics, ","))
	}
	var candidates []*project
	for page := 1; page > 0; {
		if page > maxPages {
			return nil, fmt.Errorf("%s: more than %d pages of projects", pr.Name(), maxPages)
		}
		q.Set("page", strconv.Itoa(page))
		var items []*project
		hdr, err := c.get(ctx, route, q, &items)
		if err != nil {
			return nil, fmt.Errorf("%s: listing projects: %w", pr.Name(), err)
		}
		for _, pj := range items {
			if pj == nil || checkProjectPath(pj.PathWithNamespace) != nil {
				continue
			}
			if pr.accepts(pj) {
				candidates = append(candidates, pj)
			}
		}
		next, present := hdr.Get("X-Next-Page"), len(hdr.Values("X-Next-Page")) > 0
		switch {
		case present && next == "":
			page = 0
		case present:
			n, err := strconv.Atoi(next)
			if err != nil || n <= page {
				page = 0
			} else {
				page = n
			}
		case len(items) == 0: // no pagination headers: page until empty
			page = 0
		default:
			page++
		}
	}

	found := make([]bool, len(candidates))
	errs := make([]error, len(candidates))
	var wg sync.WaitGroup
	work := make(chan int)
	for range probeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				found[i], errs[i] = pr.hasFile(ctx, c, candidates[i])
			}
		}()
	}
	for i := range candidates {
		work <- i
	}
	close(work)
	wg.Wait()

	var specs []catalog.LocationSpec
	emitted := map[string]map[string]bool{}
	for i, pj := range candidates {
		if errs[i] != nil {
			// A failed probe fails the run: the full mutation would
			// otherwise delete the project's entities until the next one.
			return nil, errs[i]
		}
		if !found[i] {
			continue
		}
		t := target(pj.WebURL, pr.branchOf(pj.DefaultBranch), pr.file)
		specs = append(specs, catalog.LocationSpec{Type: "url", Target: t, Presence: "optional"})
		emitted[pj.PathWithNamespace] = map[string]bool{t: true}
	}
	pr.mu.Lock()
	pr.emitted = emitted
	pr.mu.Unlock()
	pr.p.log.Info(fmt.Sprintf("Processed %d from scanned %d projects.", len(specs), len(candidates)), "provider", pr.Name())
	return specs, nil
}

// hasFile probes the catalog file with HEAD on the files API.
func (pr *provider) hasFile(ctx context.Context, c *client, pj *project) (bool, error) {
	web, err := url.Parse(pj.WebURL)
	if err != nil || !pr.in.sameOrigin(web) {
		pr.p.log.Warn("GitLab project skipped: its web_url is not on the integration's base URL",
			"provider", pr.Name(), "project", pj.PathWithNamespace)
		return false, nil
	}
	branch := pr.branchOf(pj.DefaultBranch)
	if !validBranch(branch) {
		return false, nil
	}
	route := "/projects/" + enc(pj.PathWithNamespace) + "/repository/files/" + enc(pr.file)
	_, err = c.call(ctx, http.MethodHead, route, url.Values{"ref": {branch}}, nil, nil)
	switch statusOf(err) {
	case 0:
		if err != nil {
			return false, fmt.Errorf("%s: %w", pr.Name(), err)
		}
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("%s: probing %s in %s: %w", pr.Name(), pr.file, pj.PathWithNamespace, err)
}

// remember and forget keep emitted in step with the deltas of events.
func (pr *provider) remember(projectPath string, targets ...string) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.emitted[projectPath] == nil {
		pr.emitted[projectPath] = map[string]bool{}
	}
	for _, t := range targets {
		pr.emitted[projectPath][t] = true
	}
}

func (pr *provider) forget(projectPath string, targets ...string) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, t := range targets {
		delete(pr.emitted[projectPath], t)
	}
	if len(pr.emitted[projectPath]) == 0 {
		delete(pr.emitted, projectPath)
	}
}

// forgetProject removes and returns every target of a project.
func (pr *provider) forgetProject(projectPath string) []string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var out []string
	for t := range pr.emitted[projectPath] {
		out = append(out, t)
	}
	slices.Sort(out)
	delete(pr.emitted, projectPath)
	return out
}

func (pr *provider) knows(projectPath string) bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return len(pr.emitted[projectPath]) > 0
}
