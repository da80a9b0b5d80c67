package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/repocard"
)

// Annotations the card reads.
const (
	slugAnnotation      = "github.com/project-slug"
	sourceAnnotation    = "backstage.io/source-location"
	managedByAnnotation = "backstage.io/managed-by-location"
)

// EntityCards returns the repository card.
func (p *Plugin) EntityCards() []plugins.EntityView { return []plugins.EntityView{repoCard{p: p}} }

type repoCard struct{ p *Plugin }

func (repoCard) Name() string  { return "repository" }
func (repoCard) Title() string { return "Repository" }

func (c repoCard) Applies(e *catalog.Entity) bool {
	_, ok := c.p.cardTarget(e)
	return ok
}

// cardRepo is the repository an entity's card shows, and the annotation
// that named it (for error messages).
type cardRepo struct {
	in          *integration
	owner, repo string
	annotation  string
}

// cardTarget finds the entity's repository: github.com/project-slug
// (on the host of its source or managed-by location when that host is a
// configured GitHub one, else github.com, as the GitHub Actions plugin
// does), or else a source or managed-by location on a configured host.
func (p *Plugin) cardTarget(e *catalog.Entity) (cardRepo, bool) {
	if e == nil {
		return cardRepo{}, false
	}
	ann := e.Metadata.Annotations
	if slug := strings.TrimSpace(ann[slugAnnotation]); slug != "" {
		owner, repo, ok := strings.Cut(slug, "/")
		if !ok || !validName(owner) || !validName(repo) {
			return cardRepo{}, false
		}
		in := findIntegration(p.integrations, publicHost)
		for _, k := range []string{sourceAnnotation, managedByAnnotation} {
			if u, ok := locationURL(ann[k]); ok {
				if i := findIntegration(p.integrations, u.Host); i != nil {
					in = i
					break
				}
			}
		}
		if in == nil || in.api == "" {
			return cardRepo{}, false
		}
		return cardRepo{in: in, owner: owner, repo: repo, annotation: slugAnnotation}, true
	}
	for _, k := range []string{sourceAnnotation, managedByAnnotation} {
		u, ok := locationURL(ann[k])
		if !ok {
			continue
		}
		in := findIntegration(p.integrations, u.Host)
		if in == nil || in.api == "" {
			continue
		}
		g, err := parseBrowserURL(u)
		if err != nil {
			continue
		}
		return cardRepo{in: in, owner: g.owner, repo: g.repo, annotation: k}, true
	}
	return cardRepo{}, false
}

// locationURL reads a "url:https://…" location annotation.
func locationURL(v string) (*url.URL, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "url:")
	if !ok {
		return nil, false
	}
	u, err := url.Parse(rest)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false
	}
	return u, true
}

type commitInfo struct {
	SHA     string `json:"sha"`
	HTMLURL string `json:"html_url"`
	Commit  struct {
		Message string `json:"message"`
		Author  struct {
			Name string    `json:"name"`
			Date time.Time `json:"date"`
		} `json:"author"`
	} `json:"commit"`
}

func (c repoCard) Render(ctx context.Context, e *catalog.Entity, _ plugins.Viewer) (templ.Component, error) {
	t, ok := c.p.cardTarget(e)
	if !ok {
		return nil, errors.New("this entity names no GitHub repository")
	}
	s, err := c.p.summary(ctx, t)
	if err != nil {
		return nil, err
	}
	return repocard.View(s), nil
}

func (p *Plugin) summary(ctx context.Context, t cardRepo) (repocard.Summary, error) {
	cl := p.client(t.in, "")
	slug := t.owner + "/" + t.repo
	repoPath := esc("repos", t.owner, t.repo)
	var repo repository
	if err := cl.get(ctx, repoPath, &repo); err != nil {
		return repocard.Summary{}, cardError(err, t, slug)
	}
	web := webURL(repo.HTMLURL, "https://"+t.in.host+"/"+slug)
	s := repocard.Summary{Host: t.in.host, FullName: slug, URL: web, Description: repo.Description,
		DefaultBranch: repo.DefaultBranch, ChangesLabel: "pull requests", ChangesURL: web + "/pulls"}
	if repo.FullName != "" {
		s.FullName = repo.FullName
	}
	if validRef(repo.DefaultBranch) {
		var cm commitInfo
		err := cl.get(ctx, repoPath+"/commits/"+escPath(repo.DefaultBranch), &cm)
		switch st := statusOf(err); {
		case st == http.StatusConflict || st == http.StatusNotFound: // an empty repository
		case err != nil:
			return repocard.Summary{}, cardError(err, t, slug)
		default:
			msg, _, _ := strings.Cut(cm.Commit.Message, "\n")
			s.LastCommit = &repocard.Commit{SHA: cm.SHA, Message: strings.TrimSpace(msg), Author: cm.Commit.Author.Name,
				When: cm.Commit.Author.Date, URL: webURL(cm.HTMLURL, web+"/commit/"+cm.SHA)}
		}
	}
	n, err := p.openPulls(ctx, cl, t)
	if err != nil {
		return repocard.Summary{}, cardError(err, t, slug)
	}
	s.OpenChanges = n
	return s, nil
}

// openPulls counts open pull requests with one search call; where search
// is refused (its own, lower rate limit; disabled on some GHE servers) it
// counts the first 100 listed.
func (p *Plugin) openPulls(ctx context.Context, cl *client, t cardRepo) (int, error) {
	q := url.Values{"q": {"repo:" + t.owner + "/" + t.repo + " is:pr is:open"}, "per_page": {"1"}}
	var res struct {
		TotalCount int `json:"total_count"`
	}
	if err := cl.get(ctx, "/search/issues?"+q.Encode(), &res); err == nil {
		return res.TotalCount, nil
	}
	var pulls []struct{}
	if err := cl.get(ctx, esc("repos", t.owner, t.repo, "pulls")+"?state=open&per_page=100", &pulls); err != nil {
		return 0, err
	}
	return len(pulls), nil
}

// cardError turns an API failure into something a reader of the entity
// page can act on.
func cardError(err error, t cardRepo, slug string) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return fmt.Errorf("GitHub could not be reached for %s on %s: %v", slug, t.in.host, err)
	}
	switch {
	case ae.Status == http.StatusNotFound:
		return fmt.Errorf("GitHub answered 404 for %s: check the %s annotation", slug, t.annotation)
	case ae.Status == http.StatusUnauthorized:
		return fmt.Errorf("GitHub answered 401 for %s: check the integrations.github token for %s", slug, t.in.host)
	case ae.RateLimited:
		return fmt.Errorf("GitHub's rate limit for %s is exhausted; the card will show again later", t.in.host)
	case ae.Status == http.StatusForbidden:
		return fmt.Errorf("GitHub answered 403 for %s: the integrations.github token for %s has no access to it", slug, t.in.host)
	}
	return fmt.Errorf("GitHub answered %d for %s", ae.Status, slug)
}
