package gitea

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/repocard"
)

// The annotations that place an entity in a repository, in order of
// preference.
var locationAnnotations = []string{"backstage.io/source-location", "backstage.io/managed-by-location"}

// EntityCards implements plugins.CardProvider.
func (p *Plugin) EntityCards() []plugins.EntityView { return []plugins.EntityView{repoCard{p}} }

// repoCard is the "repository" card of entities kept in a Gitea
// repository.
type repoCard struct{ p *Plugin }

func (repoCard) Name() string  { return "repository" }
func (repoCard) Title() string { return "Repository" }

func (c repoCard) Applies(e *catalog.Entity) bool {
	_, _, _, ok := c.p.repoOf(e)
	return ok
}

// repoOf finds the entity's repository from its location annotations:
// url:{baseUrl}/<owner>/<repo>/… on a configured host.
func (p *Plugin) repoOf(e *catalog.Entity) (h *host, owner, repo string, ok bool) {
	if e == nil {
		return nil, "", "", false
	}
	for _, a := range locationAnnotations {
		v, found := strings.CutPrefix(e.Metadata.Annotations[a], "url:")
		if !found {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		if h = p.lookupHost(u.Host); h == nil {
			continue
		}
		rest, cut := strings.CutPrefix(u.Path, h.basePath()+"/")
		if !cut {
			continue
		}
		segs := strings.SplitN(rest, "/", 3)
		if len(segs) < 2 {
			continue
		}
		owner, repo = segs[0], strings.TrimSuffix(segs[1], ".git")
		if validName(owner) && validName(repo) {
			return h, owner, repo, true
		}
	}
	return nil, "", "", false
}

func (c repoCard) Render(ctx context.Context, e *catalog.Entity, _ plugins.Viewer) (templ.Component, error) {
	h, owner, name, ok := c.p.repoOf(e)
	if !ok {
		return nil, fmt.Errorf("the entity's location is not in a Gitea repository Greenroom is configured for")
	}
	s, err := h.summary(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	return repocard.View(*s), nil
}

// summary reads a repository and its default branch's last commit.
func (h *host) summary(ctx context.Context, owner, name string) (*repocard.Summary, error) {
	rp := repoPath(owner, name)
	var r apiRepo
	if err := h.getJSON(ctx, rp, "repository "+owner+"/"+name, &r); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("Gitea at %s has no repository %s/%s, or the integration's credentials cannot see it", h.name, owner, name)
		}
		return nil, fmt.Errorf("Could not read repository %s/%s: %w", owner, name, err)
	}
	s := &repocard.Summary{
		Host: h.name, FullName: r.FullName, URL: r.HTMLURL, Description: r.Description,
		DefaultBranch: r.DefaultBranch, OpenChanges: r.OpenPRCounter,
		ChangesLabel: "pull requests", ChangesURL: strings.TrimRight(r.HTMLURL, "/") + "/pulls",
	}
	if !validHTMLURL(r.HTMLURL) {
		// the card links to it: anything else is not shown as a link
		s.URL, s.ChangesURL = "", ""
	}
	if r.Empty {
		return s, nil
	}
	var commits []apiCommit
	q := "/commits?sha=" + url.QueryEscape(r.DefaultBranch) + "&limit=1&stat=false&verification=false&files=false"
	if err := h.getJSON(ctx, rp+q, "last commit of "+owner+"/"+name, &commits); err != nil {
		if isStatus(err, http.StatusConflict) { // Gitea's answer for an empty repository
			return s, nil
		}
		return nil, fmt.Errorf("Could not read the last commit of %s/%s: %w", owner, name, err)
	}
	if len(commits) > 0 {
		cm := commits[0]
		msg, _, _ := strings.Cut(strings.TrimSpace(cm.Commit.Message), "\n")
		link := cm.HTMLURL
		if !validHTMLURL(link) {
			link = ""
		}
		s.LastCommit = &repocard.Commit{SHA: cm.SHA, Message: msg, Author: cm.Commit.Author.Name, When: cm.Commit.Author.Date, URL: link}
	}
	return s, nil
}
