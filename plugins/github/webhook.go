package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

// Webhooks returns the "github" events topic.
func (p *Plugin) Webhooks() []plugins.Webhook {
	return []plugins.Webhook{{Topic: "github", Verify: p.verify, Handle: p.handle}}
}

var (
	errNoSecret = errors.New("GitHub webhook deliveries are refused: events.modules.github.webhookSecret must be set")
	errBadSig   = errors.New("invalid signature")
)

// verify checks X-Hub-Signature-256 against the raw body. Backstage skips
// validation when no secret is configured; we refuse instead, since an
// unsigned delivery can make the catalog add and remove locations.
func (p *Plugin) verify(h http.Header, body []byte) error {
	if p.webhookSecret == "" {
		return errNoSecret
	}
	sig, ok := strings.CutPrefix(h.Get("X-Hub-Signature-256"), "sha256=")
	if !ok || !plugins.ValidHMACSHA256(p.webhookSecret, body, sig) {
		return errBadSig
	}
	return nil
}

// Limits on what one delivery may ask of the catalog.
const (
	maxCommits    = 4096
	maxEventPaths = 10000
	maxPathLen    = 4096
)

type login struct {
	Login string `json:"login"`
}

type pushEvent struct {
	Ref          string     `json:"ref"`
	Repository   repository `json:"repository"`
	Organization *login     `json:"organization"`
	Commits      []struct {
		Added    []string `json:"added"`
		Removed  []string `json:"removed"`
		Modified []string `json:"modified"`
	} `json:"commits"`
}

type repositoryEvent struct {
	Action       string     `json:"action"`
	Repository   repository `json:"repository"`
	Organization *login     `json:"organization"`
	Changes      struct {
		Repository struct {
			Name struct {
				From string `json:"from"`
			} `json:"name"`
		} `json:"repository"`
		Owner struct {
			From struct {
				Organization *login `json:"organization"`
				User         *login `json:"user"`
			} `json:"from"`
		} `json:"owner"`
	} `json:"changes"`
}

func (p *Plugin) handle(ctx context.Context, loc plugins.Locations, h http.Header, body []byte) (string, error) {
	switch ev := h.Get("X-GitHub-Event"); ev {
	case "push":
		return p.handlePush(ctx, loc, body)
	case "repository":
		return p.handleRepository(ctx, loc, body)
	case "ping":
		return "Github ping: ok", nil
	case "":
		return "", errors.New("the delivery has no X-GitHub-Event header")
	default:
		return fmt.Sprintf("Ignored Github %s event", safeText(ev)), nil
	}
}

// repoSite is the checked web address of the repository in a payload.
type repoSite struct {
	host, owner, name, base string
}

// site checks the payload's repository: its html_url must be on a
// configured host and name the repository it claims to be.
func (p *Plugin) site(r *repository) (repoSite, error) {
	u, err := url.Parse(r.HTMLURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return repoSite{}, errors.New("the payload's repository.html_url is not a repository URL")
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) != 2 || !validName(segs[0]) || !validName(segs[1]) || !strings.EqualFold(segs[1], r.Name) {
		return repoSite{}, errors.New("the payload's repository.html_url is not a repository URL")
	}
	in := findIntegration(p.integrations, u.Host)
	if in == nil {
		return repoSite{}, fmt.Errorf("the payload's repository is on %s, which no integrations.github entry configures", safeText(u.Host))
	}
	if r.Owner.Login == "" {
		r.Owner.Login = segs[0]
	}
	// a lower-case host, as the provider's locations have it
	host := strings.ToLower(in.host)
	return repoSite{host: host, owner: segs[0], name: segs[1], base: u.Scheme + "://" + host + "/" + segs[0] + "/" + segs[1]}, nil
}

// providersFor are the providers of the repository's host and account.
func (p *Plugin) providersFor(s repoSite, org *login) []*provider {
	account := s.owner
	if org != nil && org.Login != "" {
		account = org.Login
	}
	var out []*provider
	for _, ps := range p.providers {
		if strings.EqualFold(ps.host, s.host) && strings.EqualFold(ps.org, account) {
			out = append(out, &provider{p: p, s: ps})
		}
	}
	return out
}

type change int

const (
	added change = iota + 1
	removed
	modified
)

// fold reduces the commits of a push to one change per path, in order: a
// file added then removed is no change, removed then added is modified.
func fold(ev *pushEvent) (map[string]change, error) {
	if len(ev.Commits) > maxCommits {
		return nil, fmt.Errorf("the push has more than %d commits", maxCommits)
	}
	out := map[string]change{}
	n := 0
	apply := func(paths []string, c change) error {
		for _, f := range paths {
			if n++; n > maxEventPaths {
				return fmt.Errorf("the push names more than %d files", maxEventPaths)
			}
			if !safeRepoPath(f) {
				continue
			}
			prev, seen := out[f]
			switch {
			case !seen:
				out[f] = c
			case c == removed && prev == added:
				delete(out, f)
			case c == added && prev == removed:
				out[f] = modified
			case c == removed:
				out[f] = removed
			case c == modified && prev == added:
				// still new to the catalog
			default:
				out[f] = c
			}
		}
		return nil
	}
	for _, c := range ev.Commits {
		if err := apply(c.Added, added); err != nil {
			return nil, err
		}
		if err := apply(c.Removed, removed); err != nil {
			return nil, err
		}
		if err := apply(c.Modified, modified); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// safeRepoPath admits a relative slash path without "..", control
// characters or an absurd length.
func safeRepoPath(f string) bool {
	if f == "" || len(f) > maxPathLen || strings.HasPrefix(f, "/") || hasDotDot(f) || strings.Contains(f, "\\") {
		return false
	}
	for _, r := range f {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (p *Plugin) handlePush(ctx context.Context, loc plugins.Locations, body []byte) (string, error) {
	var ev pushEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("push event: %v", err)
	}
	branch, ok := strings.CutPrefix(ev.Ref, "refs/heads/")
	if !ok || !validRef(branch) {
		return "Ignored Github push event: not a branch push", nil
	}
	s, err := p.site(&ev.Repository)
	if err != nil {
		return "", fmt.Errorf("push event: %w", err)
	}
	changes, err := fold(&ev)
	if err != nil {
		return "", fmt.Errorf("push event for %s/%s: %w", s.owner, s.name, err)
	}
	paths := make([]string, 0, len(changes))
	for f := range changes {
		paths = append(paths, f)
	}
	sort.Strings(paths)

	refresh := map[string]bool{}
	modifiedFiles := map[string]bool{}
	nAdded, nRemoved := 0, 0
	var errs []error
	for _, pr := range p.providersFor(s, ev.Organization) {
		b := pr.branch(&ev.Repository)
		if b != branch || !pr.matches(&ev.Repository) {
			continue
		}
		var add, rm []catalog.LocationSpec
		for _, f := range paths {
			if ok, _ := doublestar.Match(pr.s.catalogPath, f); !ok {
				continue
			}
			switch changes[f] {
			case added:
				add = append(add, pr.spec(s.base, b, f))
			case removed:
				rm = append(rm, pr.spec(s.base, b, f))
			case modified:
				refresh[s.base+"/blob/"+b+"/"+f] = true
				refresh[s.base+"/tree/"+b+"/"+f] = true
				modifiedFiles[f] = true
			}
		}
		if len(add) > 0 {
			if err := loc.AddProviderLocations(ctx, pr.Name(), add); err != nil {
				errs = append(errs, fmt.Errorf("%s: adding locations: %w", pr.Name(), err))
			} else {
				nAdded += len(add)
			}
		}
		if len(rm) > 0 {
			if err := loc.RemoveProviderLocations(ctx, pr.Name(), rm); err != nil {
				errs = append(errs, fmt.Errorf("%s: removing locations: %w", pr.Name(), err))
			} else {
				nRemoved += len(rm)
			}
		}
	}
	// Registered url locations (not a provider's) refresh too, whatever
	// the branch: every modified YAML file of the push may be one.
	for _, f := range paths {
		if changes[f] == modified && (strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")) {
			refresh[s.base+"/blob/"+branch+"/"+f] = true
			refresh[s.base+"/tree/"+branch+"/"+f] = true
			modifiedFiles[f] = true
		}
	}
	refreshed := 0
	if len(refresh) > 0 {
		urls := make([]string, 0, len(refresh))
		for u := range refresh {
			urls = append(urls, u)
		}
		sort.Strings(urls)
		n, err := loc.RefreshURLs(ctx, urls)
		if err != nil {
			errs = append(errs, fmt.Errorf("refreshing: %w", err))
		}
		refreshed = n
	}
	summary := fmt.Sprintf("Processed Github push event: added %d - removed %d - modified %d", nAdded, nRemoved, len(modifiedFiles))
	if refreshed > 0 {
		summary += fmt.Sprintf(" (refreshed %d locations)", refreshed)
	}
	return summary, errors.Join(errs...)
}

func (p *Plugin) handleRepository(ctx context.Context, loc plugins.Locations, body []byte) (string, error) {
	var ev repositoryEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("repository event: %v", err)
	}
	act := safeText(ev.Action)
	s, err := p.site(&ev.Repository)
	if err != nil {
		return "", fmt.Errorf("repository event: %w", err)
	}
	nAdded, nRemoved := 0, 0
	var errs []error
	apply := func(pr *provider, add, rm []catalog.LocationSpec, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pr.Name(), err))
		}
		if len(rm) > 0 {
			if err := loc.RemoveProviderLocations(ctx, pr.Name(), rm); err != nil {
				errs = append(errs, fmt.Errorf("%s: removing locations: %w", pr.Name(), err))
			} else {
				nRemoved += len(rm)
			}
		}
		if len(add) > 0 {
			if err := loc.AddProviderLocations(ctx, pr.Name(), add); err != nil {
				errs = append(errs, fmt.Errorf("%s: adding locations: %w", pr.Name(), err))
			} else {
				nAdded += len(add)
			}
		}
	}
	// A repository transferred away from a provider's account leaves it.
	if ev.Action == "transferred" {
		from := ev.Changes.Owner.From.Organization
		if from == nil {
			from = ev.Changes.Owner.From.User
		}
		if from != nil && validName(from.Login) && !strings.EqualFold(from.Login, s.owner) {
			old := repoSite{host: s.host, owner: from.Login, name: s.name,
				base: strings.TrimSuffix(s.base, "/"+s.owner+"/"+s.name) + "/" + from.Login + "/" + s.name}
			for _, pr := range p.providersFor(old, &login{Login: from.Login}) {
				rm, err := pr.repoSpecs(ctx, old, &ev.Repository, true)
				apply(pr, nil, rm, err)
			}
		}
	}
	for _, pr := range p.providersFor(s, ev.Organization) {
		var add, rm []catalog.LocationSpec
		var err error
		switch ev.Action {
		case "deleted":
			rm, err = pr.repoSpecs(ctx, s, &ev.Repository, false)
		case "archived", "edited", "privatized", "publicized":
			// the filters decide, on the repository as it is now
			specs, e := pr.repoSpecs(ctx, s, &ev.Repository, true)
			err = e
			switch {
			case !pr.matches(&ev.Repository):
				rm = specs
			case ev.Action != "archived":
				add = specs
			}
		case "renamed":
			if from := ev.Changes.Repository.Name.From; validName(from) {
				old := repoSite{host: s.host, owner: s.owner, name: from,
					base: strings.TrimSuffix(s.base, "/"+s.name) + "/" + from}
				var e error
				rm, e = pr.repoSpecs(ctx, old, &ev.Repository, true)
				err = errors.Join(err, e)
			}
			if pr.matches(&ev.Repository) {
				var e error
				add, e = pr.repoSpecs(ctx, s, &ev.Repository, true)
				err = errors.Join(err, e)
			}
		case "transferred", "unarchived", "created":
			if pr.matches(&ev.Repository) {
				add, err = pr.repoSpecs(ctx, s, &ev.Repository, true)
			}
		}
		apply(pr, add, rm, err)
	}
	return fmt.Sprintf("Processed Github repository %s event: added %d - removed %d", act, nAdded, nRemoved), errors.Join(errs...)
}

// repoSpecs are the provider's locations in a repository at site s (which
// may be the repository's old name or owner). A glob catalogPath is
// listed through the API (the repository, at its current name, must
// exist: canList); when it cannot be, the provider's next full discovery
// removes what is gone.
func (pr *provider) repoSpecs(ctx context.Context, s repoSite, r *repository, canList bool) ([]catalog.LocationSpec, error) {
	branch := pr.branch(r)
	if branch == "" {
		return nil, nil
	}
	if !pr.s.glob {
		return []catalog.LocationSpec{pr.spec(s.base, branch, pr.s.catalogPath)}, nil
	}
	if !canList {
		pr.p.log.Info("a glob catalogPath cannot be listed in a deleted repository; the next discovery removes its locations", "provider", pr.Name())
		return nil, nil
	}
	in := findIntegration(pr.p.integrations, pr.s.host)
	files, err := pr.treeFiles(ctx, pr.p.client(in, ""), esc("repos", r.Owner.Login, r.Name), branch)
	if err != nil {
		return nil, err
	}
	out := make([]catalog.LocationSpec, 0, len(files))
	for _, f := range files {
		out = append(out, pr.spec(s.base, branch, f))
	}
	return out, nil
}

// safeText shortens and cleans a payload value for a log line.
func safeText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
