package azure

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// pullRequestAction is the community module's azure:repo:pr: open a pull
// request from sourceBranch to targetBranch, optionally set to complete
// itself (and delete its branch) once the policies pass.
type pullRequestAction struct{ p *Plugin }

func (pullRequestAction) ID() string          { return "azure:repo:pr" }
func (pullRequestAction) Description() string { return "Create a PR to a repository in Azure DevOps." }

func (pullRequestAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema([]string{"repoId", "title"}, map[string]any{
		"organization":       sString("Organization Name", "The name of the organization in Azure DevOps."),
		"sourceBranch":       sString("Source Branch", "The branch to merge into the source."),
		"targetBranch":       sString("Target Branch", "The branch to merge into (default: main)."),
		"title":              sString("Title", "The title of the pull request."),
		"description":        sString("Description", "The description of the pull request."),
		"repoId":             sString("Remote Repo ID", "Repo ID of the pull request."),
		"project":            sString("ADO Project", "The Project in Azure DevOps."),
		"supportsIterations": sBool("Supports Iterations", "Whether or not the PR supports iterations."),
		"server":             serverSchema(),
		"token":              sString("Authentication Token", "The token to use for authorization."),
		"autoComplete":       sBool("Enable auto-completion", "Enable auto-completion of the pull request once policies are met"),
	})
	out := action.ObjectSchema(nil, map[string]any{
		"pullRequestId": action.TypeSchema("number", "The ID of the created pull request", ""),
	})
	return in, out
}

// refName makes a branch input a ref, once: "main" and "refs/heads/main"
// are the same branch (the community module would send
// refs/heads/refs/heads/main for the second).
func refName(key, b string) (string, error) {
	b = strings.TrimPrefix(b, "refs/heads/")
	if !validBranch(b) {
		return "", fmt.Errorf("input %q: invalid branch %q", key, b)
	}
	return "refs/heads/" + b, nil
}

func (a pullRequestAction) Run(c *action.Context) error {
	in := c.Input
	title, err := requireString(in, "title")
	if err != nil {
		return err
	}
	repoID, err := requireString(in, "repoId")
	if err != nil {
		return err
	}
	if !validName(repoID) {
		return fmt.Errorf("input \"repoId\" %q is not a repository ID or name", repoID)
	}
	host, err := strDefault(in, "server", azureHost)
	if err != nil {
		return err
	}
	org, err := action.StringInput(in, "organization")
	if err != nil {
		return err
	}
	// The community module builds https://<server>/<organization> and
	// would call https://<server>/not-empty without one: it is required.
	if org == "" {
		return fmt.Errorf("input %q is required", "organization")
	}
	if !validOrg(org) {
		return fmt.Errorf("input \"organization\" %q is not a valid organization name", org)
	}
	project, err := action.StringInput(in, "project")
	if err != nil {
		return err
	}
	if project != "" && !validName(project) {
		return fmt.Errorf("input \"project\" %q is not a valid project name", project)
	}
	srcBranch, err := strDefault(in, "sourceBranch", "scaffolder")
	if err != nil {
		return err
	}
	tgtBranch, err := strDefault(in, "targetBranch", "main")
	if err != nil {
		return err
	}
	srcRef, err := refName("sourceBranch", srcBranch)
	if err != nil {
		return err
	}
	tgtRef, err := refName("targetBranch", tgtBranch)
	if err != nil {
		return err
	}
	desc, err := action.StringInput(in, "description")
	if err != nil {
		return err
	}
	autoComplete, err := action.BoolInput(in, "autoComplete")
	if err != nil {
		return err
	}
	q := url.Values{}
	if v, ok := in["supportsIterations"]; ok && v != nil {
		si, err := action.BoolInput(in, "supportsIterations")
		if err != nil {
			return err
		}
		q.Set("supportsIterations", strconv.FormatBool(si))
	}

	integ := a.p.integration(host)
	if integ == nil {
		return fmt.Errorf("No matching integration configuration for host %s, please check your integrations config", host)
	}
	token, err := tokenFor(c, integ, org)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("No token credentials provided for %s/%s", integ.base(), org)
	}
	cl := a.p.client(integ, token)
	prs := "/" + seg(org)
	if project != "" {
		prs += "/" + seg(project)
	}
	prs += "/_apis/git/repositories/" + seg(repoID) + "/pullrequests"

	var pr struct {
		PullRequestID int64 `json:"pullRequestId"`
		CreatedBy     struct {
			ID string `json:"id"`
		} `json:"createdBy"`
	}
	body := map[string]any{"sourceRefName": srcRef, "targetRefName": tgtRef, "title": title, "description": desc}
	if err := cl.call(ctxOf(c), "POST", prs, q, body, &pr); err != nil {
		return err
	}
	if pr.PullRequestID == 0 {
		return fmt.Errorf("Azure DevOps %s: POST %s: the answer has no pullRequestId", integ.host, prs)
	}
	c.Logf("Created pull request %d from %s to %s", pr.PullRequestID, srcBranch, tgtBranch)
	if autoComplete {
		if pr.CreatedBy.ID == "" {
			return fmt.Errorf("Azure DevOps %s: pull request %d: the answer has no createdBy.id to set auto-complete with", integ.host, pr.PullRequestID)
		}
		// as the community module: whoever fires and forgets a pull
		// request does not want its branch kept afterwards
		upd := map[string]any{
			"autoCompleteSetBy": map[string]any{"id": pr.CreatedBy.ID},
			"completionOptions": map[string]any{"deleteSourceBranch": true},
		}
		if err := cl.call(ctxOf(c), "PATCH", prs+"/"+strconv.FormatInt(pr.PullRequestID, 10), nil, upd, nil); err != nil {
			return fmt.Errorf("pull request %d was created, but setting auto-complete failed: %w", pr.PullRequestID, err)
		}
	}
	c.SetOutput("pullRequestId", float64(pr.PullRequestID))
	return nil
}

// CheckHealth implements plugins.HealthChecker: one project of the first
// organization each configured host has a credential for. A host whose
// credentials name no organization has nothing to ask (the API has no
// organization-less route a PAT may call), and is skipped.
func (p *Plugin) CheckHealth(ctx context.Context) error {
	var errs []error
	for _, in := range p.integrations {
		if in.implicit {
			continue
		}
		for _, cr := range in.creds {
			if len(cr.orgs) == 0 {
				continue
			}
			org := cr.orgs[0]
			err := p.client(in, cr.pat).call(ctx, "GET", "/"+seg(org)+"/_apis/projects", url.Values{"$top": {"1"}}, nil, &struct{}{})
			if err != nil {
				errs = append(errs, err)
			}
			break
		}
	}
	return errors.Join(errs...)
}
