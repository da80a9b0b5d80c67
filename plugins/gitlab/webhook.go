package gitlab

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

// Webhooks implements plugins.WebhookReceiver: the "gitlab" topic, for
// project webhooks (push) and system hooks (project_destroy,
// project_rename, project_transfer).
func (p *Plugin) Webhooks() []plugins.Webhook {
	return []plugins.Webhook{{Topic: "gitlab", Verify: p.verify, Handle: p.handle}}
}

// verify checks X-Gitlab-Token against events.modules.gitlab.webhookSecret,
// in constant time (over digests, so the length does not leak either).
// Without a secret every delivery is refused: an unauthenticated endpoint
// that adds and removes catalog locations is not something to run.
func (p *Plugin) verify(h http.Header, _ []byte) error {
	if p.secret == "" {
		return errors.New("GitLab webhook refused: events.modules.gitlab.webhookSecret is not configured")
	}
	got := h.Get("X-Gitlab-Token")
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(p.secret))
	if got == "" || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return errors.New("GitLab webhook refused: invalid token in X-Gitlab-Token")
	}
	return nil
}

// hookPayload holds the fields of push events and project system hooks
// that the handler reads.
type hookPayload struct {
	ObjectKind string `json:"object_kind"`
	EventName  string `json:"event_name"`
	Ref        string `json:"ref"`
	ProjectID  int64  `json:"project_id"`
	Project    struct {
		WebURL            string `json:"web_url"`
		PathWithNamespace string `json:"path_with_namespace"`
		DefaultBranch     string `json:"default_branch"`
	} `json:"project"`
	Commits []struct {
		Added    []string `json:"added"`
		Modified []string `json:"modified"`
		Removed  []string `json:"removed"`
	} `json:"commits"`
	TotalCommitsCount int `json:"total_commits_count"`
	// project system hooks
	PathWithNamespace    string `json:"path_with_namespace"`
	OldPathWithNamespace string `json:"old_path_with_namespace"`
}

func (p *Plugin) handle(ctx context.Context, loc plugins.Locations, _ http.Header, body []byte) (string, error) {
	var ev hookPayload
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("GitLab webhook: the body is not a JSON event: %v", err)
	}
	kind := ev.EventName
	if kind == "" {
		kind = ev.ObjectKind
	}
	switch kind {
	case "push":
		return p.handlePush(ctx, loc, &ev)
	case "project_destroy":
		return p.handleDestroy(ctx, loc, &ev)
	case "project_rename", "project_transfer":
		return p.handleMove(ctx, loc, &ev, kind)
	}
	return fmt.Sprintf("Ignored GitLab %s event", printable(kind)), nil
}

// printable shortens and cleans an untrusted value for a log line.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	if s == "" {
		return "(untyped)"
	}
	return strconv.Quote(s)
}

type change int

const (
	added change = iota + 1
	modified
	removed
)

// fold folds commits' file lists per path, oldest commit first: added then
// removed is nothing, removed then added is a modification.
func fold(ev *hookPayload) map[string]change {
	out := map[string]change{}
	apply := func(f string, next change) {
		if checkRepoPath(f) != nil {
			return
		}
		prev, ok := out[f]
		switch {
		case !ok:
			out[f] = next
		case prev == added && next == removed:
			delete(out, f)
		case prev == added:
			// still new to the catalog
		case next == removed:
			out[f] = removed
		default:
			out[f] = modified
		}
	}
	for _, c := range ev.Commits {
		for _, f := range c.Added {
			apply(f, added)
		}
		for _, f := range c.Modified {
			apply(f, modified)
		}
		for _, f := range c.Removed {
			apply(f, removed)
		}
	}
	return out
}

// isCatalogFile reports whether a pushed file is the provider's catalog
// file: by name (Backstage compares base names), or by its whole path when
// catalogFile names a directory.
func (pr *provider) isCatalogFile(f string) bool {
	if strings.Contains(pr.file, "/") {
		return f == pr.file
	}
	return path.Base(f) == pr.file
}

func (p *Plugin) handlePush(ctx context.Context, loc plugins.Locations, ev *hookPayload) (string, error) {
	web, err := url.Parse(ev.Project.WebURL)
	if err != nil {
		return "Ignored GitLab push event: project.web_url is not a URL", nil
	}
	in := p.integrationFor(web)
	if in == nil {
		return fmt.Sprintf("Ignored GitLab push event: %s is not a configured GitLab", printable(web.Host)), nil
	}
	proj := ev.Project.PathWithNamespace
	rel := strings.TrimSuffix(in.baseURL.Path, "/")
	if checkProjectPath(proj) != nil || strings.TrimSuffix(web.Path, "/") != rel+"/"+proj || web.RawQuery != "" {
		return "Ignored GitLab push event: the project's path and web_url do not agree", nil
	}
	webURL := in.base() + "/" + proj
	pushed, ok := strings.CutPrefix(ev.Ref, "refs/heads/")
	if !ok || !validBranch(pushed) {
		return fmt.Sprintf("Ignored GitLab push event from %s: %s is not a branch", webURL, printable(ev.Ref)), nil
	}
	changes := fold(ev)
	files := make([]string, 0, len(changes))
	for f := range changes {
		files = append(files, f)
	}
	slices.Sort(files)
	truncated := ev.TotalCommitsCount > len(ev.Commits)

	var refresh []string
	addRefresh := func(u string) {
		if !slices.Contains(refresh, u) {
			refresh = append(refresh, u)
		}
	}
	nAdded, nRemoved := 0, 0
	for _, pr := range p.providers {
		if pr.in != in || !pr.matches(proj) {
			continue
		}
		branch := pr.branchOf(ev.Project.DefaultBranch)
		if pushed != branch {
			continue
		}
		var add, remove []catalog.LocationSpec
		for _, f := range files {
			if !pr.isCatalogFile(f) {
				continue
			}
			t := target(webURL, branch, f)
			switch changes[f] {
			case added:
				add = append(add, catalog.LocationSpec{Type: "url", Target: t, Presence: "optional"})
			case removed:
				remove = append(remove, catalog.LocationSpec{Type: "url", Target: t, Presence: "optional"})
			case modified:
				addRefresh(t)
			}
		}
		if truncated {
			// GitLab lists at most 20 commits: what the rest changed is
			// unknown, so the project's catalog file is re-read.
			addRefresh(target(webURL, branch, pr.file))
		}
		if len(add) > 0 {
			if err := loc.AddProviderLocations(ctx, pr.Name(), add); err != nil {
				return "", fmt.Errorf("GitLab push event from %s: adding locations: %w", webURL, err)
			}
			for _, s := range add {
				pr.remember(proj, s.Target)
			}
			nAdded += len(add)
		}
		if len(remove) > 0 {
			if err := loc.RemoveProviderLocations(ctx, pr.Name(), remove); err != nil {
				return "", fmt.Errorf("GitLab push event from %s: removing locations: %w", webURL, err)
			}
			for _, s := range remove {
				pr.forget(proj, s.Target)
			}
			nRemoved += len(remove)
		}
	}
	// Locations registered by hand (catalog.locations, catalog:register)
	// are refreshed too when a YAML file they may read changes on the
	// default branch, whether or not a provider covers the project.
	if pushed == ev.Project.DefaultBranch {
		for _, f := range files {
			if changes[f] == modified && (strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")) {
				addRefresh(target(webURL, pushed, f))
			}
		}
	}
	refreshed := 0
	if len(refresh) > 0 {
		if refreshed, err = loc.RefreshURLs(ctx, refresh); err != nil {
			return "", fmt.Errorf("GitLab push event from %s: refreshing: %w", webURL, err)
		}
	}
	return fmt.Sprintf("Processed GitLab push event from %s: added %d - removed %d - modified %d (refreshed %d locations)",
		webURL, nAdded, nRemoved, len(refresh), refreshed), nil
}

func (p *Plugin) handleDestroy(ctx context.Context, loc plugins.Locations, ev *hookPayload) (string, error) {
	proj := ev.PathWithNamespace
	if checkProjectPath(proj) != nil {
		return "Ignored GitLab project_destroy event: invalid path_with_namespace", nil
	}
	n := 0
	for _, pr := range p.providers {
		ts := pr.forgetProject(proj)
		if len(ts) == 0 {
			continue
		}
		if err := loc.RemoveProviderLocations(ctx, pr.Name(), specs(ts)); err != nil {
			return "", fmt.Errorf("GitLab project_destroy event for %s: %w", proj, err)
		}
		n += len(ts)
	}
	return fmt.Sprintf("Processed GitLab project_destroy event for %s: removed %d", proj, n), nil
}

func specs(targets []string) []catalog.LocationSpec {
	out := make([]catalog.LocationSpec, 0, len(targets))
	for _, t := range targets {
		out = append(out, catalog.LocationSpec{Type: "url", Target: t, Presence: "optional"})
	}
	return out
}

// handleMove handles project_rename and project_transfer: the old path's
// locations are removed, and the project at its new path is added if it
// still passes the provider's filters and has its catalog file.
func (p *Plugin) handleMove(ctx context.Context, loc plugins.Locations, ev *hookPayload, kind string) (string, error) {
	oldPath, newPath := ev.OldPathWithNamespace, ev.PathWithNamespace
	if checkProjectPath(oldPath) != nil || checkProjectPath(newPath) != nil || ev.ProjectID <= 0 {
		return fmt.Sprintf("Ignored GitLab %s event: invalid project paths or id", kind), nil
	}
	// System hooks do not say which GitLab sent them: a provider that
	// emitted the old path is on that GitLab; without one, a provider can
	// only be picked when every provider reads the same GitLab.
	var candidates []*provider
	for _, pr := range p.providers {
		if pr.knows(oldPath) {
			candidates = append(candidates, pr)
		}
	}
	if len(candidates) == 0 && len(p.providers) > 0 {
		one := true
		for _, pr := range p.providers {
			one = one && pr.in == p.providers[0].in
		}
		if one {
			candidates = p.providers
		}
	}
	nRemoved, nAdded := 0, 0
	for _, pr := range candidates {
		if ts := pr.forgetProject(oldPath); len(ts) > 0 {
			if err := loc.RemoveProviderLocations(ctx, pr.Name(), specs(ts)); err != nil {
				return "", fmt.Errorf("GitLab %s event for %s: %w", kind, oldPath, err)
			}
			nRemoved += len(ts)
		}
		if !pr.matches(newPath) {
			continue
		}
		c := p.client(pr.in)
		var pj project
		if _, err := c.get(ctx, "/projects/"+strconv.FormatInt(ev.ProjectID, 10), nil, &pj); err != nil {
			if statusOf(err) == http.StatusNotFound {
				continue
			}
			return "", fmt.Errorf("GitLab %s event for %s: %w", kind, newPath, err)
		}
		if pj.PathWithNamespace != newPath || !pr.accepts(&pj) {
			continue
		}
		ok, err := pr.hasFile(ctx, c, &pj)
		if err != nil {
			return "", fmt.Errorf("GitLab %s event for %s: %w", kind, newPath, err)
		}
		if !ok {
			continue
		}
		t := target(pj.WebURL, pr.branchOf(pj.DefaultBranch), pr.file)
		if err := loc.AddProviderLocations(ctx, pr.Name(), specs([]string{t})); err != nil {
			return "", fmt.Errorf("GitLab %s event for %s: %w", kind, newPath, err)
		}
		pr.remember(newPath, t)
		nAdded++
	}
	return fmt.Sprintf("Processed GitLab %s event: %s → %s: removed %d - added %d", kind, oldPath, newPath, nRemoved, nAdded), nil
}
