package gitea

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gitarchive"
)

// Topic is the events topic: deliveries are posted to
// /api/events/http/gitea.
const Topic = "gitea"

// Webhooks implements plugins.WebhookReceiver.
func (p *Plugin) Webhooks() []plugins.Webhook {
	return []plugins.Webhook{{Topic: Topic, Verify: p.verify, Handle: p.handle}}
}

// verify checks X-Gitea-Signature, the bare hex HMAC-SHA256 of the raw
// body, as Backstage's createGiteaSignatureValidator does (hex-decoded,
// compared in constant time). Backstage registers the topic only when a
// secret is set; here the topic exists and refuses everything instead, so
// a delivery to an unconfigured server says what to configure.
func (p *Plugin) verify(h http.Header, body []byte) error {
	if p.secret == "" {
		return errors.New("gitea webhook refused: " + keyEvents + ".webhookSecret is not configured")
	}
	sig := strings.TrimSpace(h.Get("X-Gitea-Signature"))
	if sig == "" {
		return errors.New("gitea webhook refused: no X-Gitea-Signature header (give the webhook a secret in Gitea)")
	}
	if !plugins.ValidHMACSHA256(p.secret, body, sig) {
		return errors.New("gitea webhook refused: invalid signature")
	}
	return nil
}

// eventNameRe bounds what of an untrusted header reaches the log.
var eventNameRe = regexp.MustCompile(`^[a-z_]{1,40}$`)

func (p *Plugin) handle(ctx context.Context, loc plugins.Locations, h http.Header, body []byte) (string, error) {
	event := h.Get("X-Gitea-Event")
	switch event {
	case "push":
		return p.onPush(ctx, loc, body)
	case "repository":
		return p.onRepository(ctx, loc, body)
	}
	if !eventNameRe.MatchString(event) {
		event = "unnamed"
	}
	return "ignored " + event + " event", nil
}

// payloadRepo is the repository of a webhook payload.
type payloadRepo struct {
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	HTMLURL       string `json:"html_url"`
	DefaultBranch string `json:"default_branch"`
	Empty         bool   `json:"empty"`
	Owner         struct {
		Login string `json:"login"`
	} `json:"owner"`
}

// repoOf validates a payload's repository: its names are path segments
// and its html_url an http(s) URL, since both end up in location targets.
func repoOf(r *payloadRepo) (owner string, err error) {
	if r == nil {
		return "", errors.New("gitea webhook: payload has no repository")
	}
	owner = r.Owner.Login
	if owner == "" {
		owner, _, _ = strings.Cut(r.FullName, "/")
	}
	if !validName(owner) || !validName(r.Name) || !validHTMLURL(r.HTMLURL) {
		return "", errors.New("gitea webhook: payload repository has an invalid owner, name or html_url")
	}
	if r.DefaultBranch != "" && !validBranch(r.DefaultBranch) {
		return "", errors.New("gitea webhook: payload repository has an invalid default_branch")
	}
	return owner, nil
}

func validBranch(b string) bool {
	return b != "" && !strings.HasPrefix(b, "-") && !strings.Contains(b, "..") && gitarchive.CleanRel(b) && !strings.ContainsAny(b, "?#% ")
}

// providersFor are the providers of the repository's organisation on the
// host its html_url names.
func (p *Plugin) providersFor(owner, htmlURL string) []*provider {
	u, err := url.Parse(htmlURL)
	if err != nil {
		return nil
	}
	var out []*provider
	for _, pr := range p.providers {
		// html_url is on Gitea's ROOT_URL, which is usually the baseUrl's
		// host, and at least the configured host
		if strings.EqualFold(pr.org, owner) && (strings.EqualFold(pr.h.name, u.Host) || strings.EqualFold(pr.h.base.Host, u.Host)) {
			out = append(out, pr)
		}
	}
	return out
}

type pushPayload struct {
	Ref          string       `json:"ref"`
	Commits      []pushCommit `json:"commits"`
	TotalCommits int          `json:"total_commits"`
	Repository   *payloadRepo `json:"repository"`
}

type pushCommit struct {
	ID       string   `json:"id"`
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Modified []string `json:"modified"`
}

// change is what a push did to one path, all its commits folded.
type change int

const (
	added change = iota + 1
	modified
	removed
)

func (c change) String() string {
	return map[change]string{added: "added", modified: "modified", removed: "removed"}[c]
}

// relevant are the paths the bridge looks at: YAML files with clean
// relative paths.
func relevant(p string) bool {
	l := strings.ToLower(p)
	return (strings.HasSuffix(l, ".yaml") || strings.HasSuffix(l, ".yml")) && gitarchive.CleanRel(p)
}

// fold folds commits, oldest first, into one change per relevant path as
// Backstage's analyzeGiteaWebhookEvent does: a path added then removed is
// no change, removed then added is a modification, and an added or
// removed path stays so whatever else touched it.
func fold(commits []pushCommit) map[string]change {
	state := map[string]change{}
	for _, c := range commits {
		for _, p := range c.Modified {
			if relevant(p) {
				if _, ok := state[p]; !ok {
					state[p] = modified
				}
			}
		}
		for _, p := range c.Added {
			if !relevant(p) {
				continue
			}
			switch prev, ok := state[p]; {
			case !ok:
				state[p] = added
			case prev == removed:
				state[p] = modified
			}
		}
		for _, p := range c.Removed {
			if !relevant(p) {
				continue
			}
			switch prev, ok := state[p]; {
			case !ok:
				state[p] = removed
			case prev == added:
				delete(state, p)
			case prev == modified:
				state[p] = removed
			}
		}
	}
	return state
}

// onPush acts on a push to the default branch (or a provider's branch).
// Gitea lists a push's commits newest first (git log order, keeping the
// newest [ui] FEED_MAX_COMMIT_NUM, 5 by default) where GitHub lists them
// oldest first, so they are reversed before folding.
func (p *Plugin) onPush(ctx context.Context, loc plugins.Locations, body []byte) (string, error) {
	var ev pushPayload
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("gitea push: payload is not JSON: %w", err)
	}
	owner, err := repoOf(ev.Repository)
	if err != nil {
		return "", err
	}
	repo := ev.Repository
	name := owner + "/" + repo.Name
	branch, ok := strings.CutPrefix(ev.Ref, "refs/heads/")
	if !ok || !validBranch(branch) {
		return "push " + name + ": ignored, not a branch", nil
	}
	var provs []*provider // the providers that read this branch
	for _, pr := range p.providersFor(owner, repo.HTMLURL) {
		if pr.branchOf(repo.DefaultBranch) == branch {
			provs = append(provs, pr)
		}
	}
	if branch != repo.DefaultBranch && len(provs) == 0 {
		return "push " + name + ": ignored, " + branch + " is not the default branch", nil
	}
	if len(ev.Commits) == 0 {
		return "push " + name + ": ignored, no commits", nil
	}

	if ev.TotalCommits > len(ev.Commits) {
		return p.reconcile(ctx, loc, name, owner, repo, branch, provs,
			fmt.Sprintf("%d of %d commits in the payload", len(ev.Commits), ev.TotalCommits))
	}

	oldestFirst := make([]pushCommit, len(ev.Commits))
	for i, c := range ev.Commits {
		oldestFirst[len(ev.Commits)-1-i] = c
	}
	changes := fold(oldestFirst)
	if len(changes) == 0 {
		return "push " + name + ": no catalog files changed", nil
	}
	paths := make([]string, 0, len(changes))
	for path := range changes {
		paths = append(paths, path)
	}
	sort.Strings(paths)

	var refresh []string
	adds := map[*provider][]catalog.LocationSpec{}
	removes := map[*provider][]catalog.LocationSpec{}
	var counts [removed + 1]int
	for _, path := range paths {
		c := changes[path]
		counts[c]++
		owned := false
		for _, pr := range provs {
			if path != pr.catalogPath {
				continue
			}
			switch c {
			case added:
				adds[pr] = append(adds[pr], pr.spec(repo.HTMLURL, branch))
				owned = true
			case removed:
				removes[pr] = append(removes[pr], pr.spec(repo.HTMLURL, branch))
				owned = true
			}
		}
		// Modified files are refreshed whoever registered them (a
		// provider or a user's url location); an added or removed file
		// that no provider owns may still be read by a location (one
		// that failed to find it, or a Location entity's target).
		if !owned {
			refresh = append(refresh, fileURL(repo.HTMLURL, branch, path))
		}
	}
	var errs []error
	summary := fmt.Sprintf("push %s: added %d - removed %d - modified %d", name, counts[added], counts[removed], counts[modified])
	for _, pr := range p.providers { // configuration order, for a stable summary
		if specs := adds[pr]; len(specs) > 0 {
			if err := loc.AddProviderLocations(ctx, pr.Name(), specs); err != nil {
				errs = append(errs, fmt.Errorf("%s: add %s: %w", pr.Name(), specs[0].Target, err))
			} else {
				summary += "; " + pr.Name() + " added " + specs[0].Target
			}
		}
		if specs := removes[pr]; len(specs) > 0 {
			if err := loc.RemoveProviderLocations(ctx, pr.Name(), specs); err != nil {
				errs = append(errs, fmt.Errorf("%s: remove %s: %w", pr.Name(), specs[0].Target, err))
			} else {
				summary += "; " + pr.Name() + " removed " + specs[0].Target
			}
		}
	}
	if len(refresh) > 0 {
		n, err := loc.RefreshURLs(ctx, refresh)
		if err != nil {
			errs = append(errs, fmt.Errorf("refresh: %w", err))
		}
		summary += fmt.Sprintf("; refreshed %d %s", n, plural(n, "location"))
	}
	return summary, errors.Join(errs...)
}

// reconcile is the coarse path: Gitea truncated the payload, or a
// repository appeared, so the changed files are unknown. Each provider's
// catalog file is probed and its location added or removed to match, and
// every location reading it (or, without a provider, the default
// catalog-info.yaml) is refreshed.
func (p *Plugin) reconcile(ctx context.Context, loc plugins.Locations, name, owner string, repo *payloadRepo, branch string, provs []*provider, why string) (string, error) {
	var errs []error
	summary := "push " + name + ": " + why
	refresh := []string{}
	for _, pr := range provs {
		spec := pr.spec(repo.HTMLURL, branch)
		refresh = append(refresh, spec.Target)
		there, err := pr.h.hasFile(ctx, owner, repo.Name, branch, pr.catalogPath)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", pr.Name(), err))
		case there:
			if err := loc.AddProviderLocations(ctx, pr.Name(), []catalog.LocationSpec{spec}); err != nil {
				errs = append(errs, fmt.Errorf("%s: add %s: %w", pr.Name(), spec.Target, err))
			}
		default:
			if err := loc.RemoveProviderLocations(ctx, pr.Name(), []catalog.LocationSpec{spec}); err != nil {
				errs = append(errs, fmt.Errorf("%s: remove %s: %w", pr.Name(), spec.Target, err))
			}
		}
	}
	if len(provs) == 0 {
		refresh = append(refresh, fileURL(repo.HTMLURL, branch, "catalog-info.yaml"))
	}
	n, err := loc.RefreshURLs(ctx, refresh)
	if err != nil {
		errs = append(errs, fmt.Errorf("refresh: %w", err))
	}
	summary += fmt.Sprintf("; refreshed %d %s", n, plural(n, "location"))
	return summary, errors.Join(errs...)
}

type repositoryPayload struct {
	Action     string       `json:"action"`
	Repository *payloadRepo `json:"repository"`
	// Changes is sent by GitHub-like senders for a rename; Gitea 1.26
	// sends no rename event at all, only created and deleted.
	Changes struct {
		Name struct {
			From string `json:"from"`
		} `json:"name"`
	} `json:"changes"`
}

// onRepository acts on an organisation's repository created, deleted or
// renamed.
func (p *Plugin) onRepository(ctx context.Context, loc plugins.Locations, body []byte) (string, error) {
	var ev repositoryPayload
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("gitea repository: payload is not JSON: %w", err)
	}
	owner, err := repoOf(ev.Repository)
	if err != nil {
		return "", err
	}
	repo := ev.Repository
	name := owner + "/" + repo.Name
	provs := p.providersFor(owner, repo.HTMLURL)
	action := ev.Action
	if !eventNameRe.MatchString(action) {
		action = "unnamed"
	}
	if len(provs) == 0 {
		return "repository " + action + " " + name + ": no " + keyProviders + " entry for " + owner, nil
	}
	var errs []error
	summary := "repository " + action + " " + name
	add := func(pr *provider) {
		branch := pr.branchOf(repo.DefaultBranch)
		there, err := pr.h.hasFile(ctx, owner, repo.Name, branch, pr.catalogPath)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pr.Name(), err))
			return
		}
		if !there {
			summary += "; " + pr.Name() + ": no " + pr.catalogPath + " yet"
			return
		}
		spec := pr.spec(repo.HTMLURL, branch)
		if err := loc.AddProviderLocations(ctx, pr.Name(), []catalog.LocationSpec{spec}); err != nil {
			errs = append(errs, fmt.Errorf("%s: add %s: %w", pr.Name(), spec.Target, err))
			return
		}
		summary += "; " + pr.Name() + " added " + spec.Target
	}
	remove := func(pr *provider, htmlURL string) {
		spec := pr.spec(htmlURL, pr.branchOf(repo.DefaultBranch))
		if err := loc.RemoveProviderLocations(ctx, pr.Name(), []catalog.LocationSpec{spec}); err != nil {
			errs = append(errs, fmt.Errorf("%s: remove %s: %w", pr.Name(), spec.Target, err))
			return
		}
		summary += "; " + pr.Name() + " removed " + spec.Target
	}
	switch ev.Action {
	case "created":
		// Gitea creates repositories empty: the catalog file, if any,
		// comes with a later push, which adds the location then.
		if repo.Empty {
			return summary + ": empty, nothing to add until a catalog file is pushed", nil
		}
		for _, pr := range provs {
			add(pr)
		}
	case "deleted":
		for _, pr := range provs {
			remove(pr, repo.HTMLURL)
		}
	case "renamed":
		from := ev.Changes.Name.From
		if !validName(from) {
			return "", errors.New("gitea repository renamed: payload has no valid changes.name.from")
		}
		oldURL := strings.TrimRight(repo.HTMLURL, "/")
		oldURL = oldURL[:strings.LastIndex(oldURL, "/")+1] + url.PathEscape(from)
		for _, pr := range provs {
			remove(pr, oldURL)
			add(pr)
		}
	default:
		return summary + ": ignored", nil
	}
	return summary, errors.Join(errs...)
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
