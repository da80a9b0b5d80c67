package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/repocard"
)

// The annotations of @immobiliarelabs/backstage-plugin-gitlab.
const (
	annotationSlug     = "gitlab.com/project-slug"
	annotationID       = "gitlab.com/project-id"
	annotationInstance = "gitlab.com/instance"
	annotationSource   = "backstage.io/source-location"
	annotationManaged  = "backstage.io/managed-by-location"
)

// EntityCards implements plugins.CardProvider.
func (p *Plugin) EntityCards() []plugins.EntityView { return []plugins.EntityView{repoCard{p}} }

type repoCard struct{ p *Plugin }

func (repoCard) Name() string  { return "repository" }
func (repoCard) Title() string { return "Repository" }

func (c repoCard) Applies(e *catalog.Entity) bool {
	_, _, ok := c.p.projectOf(e)
	return ok
}

// projectOf finds, without I/O, the GitLab and the project (a path or an
// ID) an entity is about. An annotation set to "" turns the card off, as
// in the GitLab plugin.
func (p *Plugin) projectOf(e *catalog.Entity) (*integration, string, bool) {
	if e == nil {
		return nil, "", false
	}
	a := e.Metadata.Annotations
	slug, hasSlug := a[annotationSlug]
	id, hasID := a[annotationID]
	if (hasSlug && slug == "") || (hasID && id == "" && !hasSlug) {
		return nil, "", false
	}
	var in *integration
	var fromLocation string
	for _, k := range []string{annotationSource, annotationManaged} {
		if i, proj := p.locationProject(a[k]); i != nil {
			in, fromLocation = i, proj
			break
		}
	}
	if h := a[annotationInstance]; h != "" && (hasSlug || hasID) {
		in = p.integration(h)
		if in == nil {
			return nil, "", false
		}
	}
	ref := ""
	switch {
	case hasSlug:
		if checkProjectPath(slug) != nil {
			return nil, "", false
		}
		ref = slug
	case hasID:
		if !digitsRe.MatchString(id) {
			return nil, "", false
		}
		ref = id
	case fromLocation != "":
		if h := a[annotationInstance]; h != "" && !strings.EqualFold(h, in.host) {
			return nil, "", false
		}
		return in, fromLocation, true
	default:
		return nil, "", false
	}
	if in == nil {
		in = p.defaultIntegration()
	}
	return in, ref, in != nil
}

// locationProject reads "url:<baseUrl>/<project>/-/tree/<ref>/…".
func (p *Plugin) locationProject(v string) (*integration, string) {
	s, ok := strings.CutPrefix(v, "url:")
	if !ok {
		return nil, ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, ""
	}
	in := p.integrationFor(u)
	if in == nil {
		in = p.integration(u.Host)
	}
	if in == nil {
		return nil, ""
	}
	loc, err := in.parseWebURL(u)
	if err != nil || (!strings.Contains(u.Path, "/-/") && loc.kind == "") {
		return nil, ""
	}
	return in, loc.project
}

// defaultIntegration is the GitLab an annotation without a host means:
// the first configured one, else gitlab.com.
func (p *Plugin) defaultIntegration() *integration {
	for _, in := range p.integrations {
		if !in.implicit {
			return in
		}
	}
	if len(p.integrations) > 0 {
		return p.integrations[0]
	}
	return nil
}

func (c repoCard) Render(ctx context.Context, e *catalog.Entity, _ plugins.Viewer) (templ.Component, error) {
	in, ref, ok := c.p.projectOf(e)
	if !ok {
		return nil, errors.New("This entity has no GitLab project annotation (gitlab.com/project-slug) or GitLab source location.")
	}
	s, err := c.p.summary(ctx, in, ref)
	if err != nil {
		return nil, err
	}
	return repocard.View(s), nil
}

// summary reads a project, its last commit and its open merge requests.
func (p *Plugin) summary(ctx context.Context, in *integration, ref string) (repocard.Summary, error) {
	cl := p.client(in)
	var pj project
	if _, err := cl.get(ctx, "/projects/"+enc(ref), nil, &pj); err != nil {
		return repocard.Summary{}, humanError(in, ref, err)
	}
	web, err := url.Parse(pj.WebURL)
	if err != nil || !in.sameOrigin(web) || pj.ID == 0 {
		return repocard.Summary{}, fmt.Errorf("GitLab %s answered with a project outside %s.", in.host, in.base())
	}
	s := repocard.Summary{
		Host: in.host, FullName: pj.PathWithNamespace, URL: pj.WebURL, Description: pj.Description,
		DefaultBranch: pj.DefaultBranch, ChangesLabel: "merge requests", ChangesURL: pj.WebURL + "/-/merge_requests",
	}
	id := "/projects/" + strconv.FormatInt(pj.ID, 10)
	if pj.DefaultBranch != "" {
		var commits []struct {
			ID            string    `json:"id"`
			Title         string    `json:"title"`
			AuthorName    string    `json:"author_name"`
			CommittedDate time.Time `json:"committed_date"`
			WebURL        string    `json:"web_url"`
		}
		q := url.Values{"ref_name": {pj.DefaultBranch}, "per_page": {"1"}}
		if _, err := cl.get(ctx, id+"/repository/commits", q, &commits); err != nil && statusOf(err) != http.StatusNotFound {
			return repocard.Summary{}, humanError(in, ref, err)
		}
		if len(commits) > 0 {
			cm := commits[0]
			link := pj.WebURL + "/-/commit/" + cm.ID
			if u, err := url.Parse(cm.WebURL); err == nil && in.sameOrigin(u) {
				link = cm.WebURL
			}
			s.LastCommit = &repocard.Commit{SHA: cm.ID, Message: cm.Title, Author: cm.AuthorName, When: cm.CommittedDate, URL: link}
		}
	}
	hdr, err := cl.get(ctx, id+"/merge_requests", url.Values{"state": {"opened"}, "per_page": {"1"}}, nil)
	if err != nil {
		return repocard.Summary{}, humanError(in, ref, err)
	}
	s.OpenChanges, _ = strconv.Atoi(hdr.Get("X-Total"))
	return s, nil
}

// humanError turns an API failure into a sentence for the card.
func humanError(in *integration, ref string, err error) error {
	switch statusOf(err) {
	case http.StatusNotFound:
		return fmt.Errorf("GitLab project %s was not found on %s, or the integration's token cannot see it.", ref, in.host)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("GitLab %s refused the request (%d): check the token of integrations.gitlab for %s.", in.host, statusOf(err), in.host)
	case 0:
		return fmt.Errorf("Could not reach GitLab %s: %v", in.host, err)
	}
	return fmt.Errorf("GitLab %s could not answer for project %s: %v", in.host, ref, err)
}

// CheckHealth implements plugins.HealthChecker: GET /version with a token
// (it needs one), else GET /projects?per_page=1.
func (p *Plugin) CheckHealth(ctx context.Context) error {
	var errs []error
	for _, in := range p.integrations {
		if in.implicit {
			continue
		}
		cl := p.client(in)
		var err error
		if in.token != "" {
			_, err = cl.get(ctx, "/version", nil, nil)
		} else {
			_, err = cl.get(ctx, "/projects", url.Values{"per_page": {"1"}}, nil)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
