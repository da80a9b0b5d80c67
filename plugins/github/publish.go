package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// publishAction is publish:github: create the repository, push the
// workspace, protect the default branch.
type publishAction struct{ p *Plugin }

func (publishAction) ID() string { return "publish:github" }
func (publishAction) Description() string {
	return "Initializes a git repository of contents in workspace and publishes it to GitHub."
}
func (publishAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"repoUrl"}, merge(createProps(), pushProps())),
		outputProps("remoteUrl", "repoContentsUrl", "commitHash")
}

func (a publishAction) Run(c *action.Context) error {
	t, err := a.p.resolve(c, true)
	if err != nil {
		return err
	}
	co, err := readCreateOptions(c.Input)
	if err != nil {
		return err
	}
	po, err := readPushOptions(c)
	if err != nil {
		return err
	}
	repo, err := a.p.createRepo(c, t, co)
	if err != nil {
		return err
	}
	remote, err := t.checkedRemote(repo.CloneURL)
	if err != nil {
		return err
	}
	hash, err := a.p.pushAndProtect(c, t, remote, po)
	if err != nil {
		return err
	}
	c.Output("remoteUrl", remote)
	c.Output("repoContentsUrl", webURL(repo.HTMLURL, "https://"+t.in.host+"/"+t.slug())+"/blob/"+po.branch)
	c.Output("commitHash", hash)
	return nil
}

// repoCreateAction is github:repo:create: the creation part alone.
type repoCreateAction struct{ p *Plugin }

func (repoCreateAction) ID() string          { return "github:repo:create" }
func (repoCreateAction) Description() string { return "Creates a GitHub repository." }
func (repoCreateAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"repoUrl"}, createProps()), outputProps("remoteUrl", "repoContentsUrl")
}

func (a repoCreateAction) Run(c *action.Context) error {
	t, err := a.p.resolve(c, true)
	if err != nil {
		return err
	}
	co, err := readCreateOptions(c.Input)
	if err != nil {
		return err
	}
	repo, err := a.p.createRepo(c, t, co)
	if err != nil {
		return err
	}
	branch := repo.DefaultBranch
	if !validRef(branch) {
		branch = "master"
	}
	c.Output("remoteUrl", repo.CloneURL)
	c.Output("repoContentsUrl", webURL(repo.HTMLURL, "https://"+t.in.host+"/"+t.slug())+"/blob/"+branch)
	return nil
}

// repoPushAction is github:repo:push: push the workspace to an existing
// repository and protect its branch.
type repoPushAction struct{ p *Plugin }

func (repoPushAction) ID() string { return "github:repo:push" }
func (repoPushAction) Description() string {
	return "Initializes a git repository of contents in workspace and publishes it to GitHub."
}
func (repoPushAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"repoUrl"}, pushProps()), outputProps("remoteUrl", "repoContentsUrl", "commitHash")
}

func (a repoPushAction) Run(c *action.Context) error {
	t, err := a.p.resolve(c, true)
	if err != nil {
		return err
	}
	po, err := readPushOptions(c)
	if err != nil {
		return err
	}
	var repo repository
	if err := t.c.get(ctxOf(c), t.path(), &repo); err != nil {
		return fmt.Errorf("looking up %s: %w", t.slug(), err)
	}
	remote, err := t.checkedRemote(repo.CloneURL)
	if err != nil {
		return err
	}
	hash, err := a.p.pushAndProtect(c, t, remote, po)
	if err != nil {
		return err
	}
	c.Output("remoteUrl", remote)
	c.Output("repoContentsUrl", webURL(repo.HTMLURL, "https://"+t.in.host+"/"+t.slug())+"/blob/"+po.branch)
	c.Output("commitHash", hash)
	return nil
}

// createOptions are the inputs of repository creation.
type createOptions struct {
	body          map[string]any // the creation request, less what only orgs take
	orgOnly       map[string]any
	access        string
	collaborators []collaborator
	topics        []string
	variables     map[string]string
	oidc          map[string]any
	subscribe     bool
}

type collaborator struct {
	user, team, access string
}

func readCreateOptions(in map[string]any) (*createOptions, error) {
	o := &createOptions{body: map[string]any{}, orgOnly: map[string]any{}}
	var errs []error
	str := func(key, def string, allowed ...string) string {
		s, err := stringOr(in, key, def)
		if err == nil && len(allowed) > 0 {
			err = oneOf(key, s, allowed...)
		}
		errs = append(errs, err)
		return s
	}
	bl := func(key string, def bool) bool {
		b, err := boolOr(in, key, def)
		errs = append(errs, err)
		return b
	}
	vis := str("repoVisibility", "private", "private", "public", "internal")
	o.body["private"] = vis == "private"
	o.orgOnly["visibility"] = vis
	if d := str("description", ""); d != "" {
		o.body["description"] = d
	}
	if h := str("homepage", ""); h != "" {
		o.body["homepage"] = h
	}
	o.body["delete_branch_on_merge"] = bl("deleteBranchOnMerge", false)
	o.body["allow_merge_commit"] = bl("allowMergeCommit", true)
	o.body["allow_squash_merge"] = bl("allowSquashMerge", true)
	o.body["allow_rebase_merge"] = bl("allowRebaseMerge", true)
	o.body["allow_auto_merge"] = bl("allowAutoMerge", false)
	o.body["squash_merge_commit_title"] = str("squashMergeCommitTitle", "COMMIT_OR_PR_TITLE", "PR_TITLE", "COMMIT_OR_PR_TITLE")
	o.body["squash_merge_commit_message"] = str("squashMergeCommitMessage", "COMMIT_MESSAGES", "PR_BODY", "COMMIT_MESSAGES", "BLANK")
	for key, field := range map[string]string{"hasProjects": "has_projects", "hasWiki": "has_wiki", "hasIssues": "has_issues"} {
		b, err := optBool(in, key)
		errs = append(errs, err)
		if b != nil {
			o.body[field] = *b
		}
	}
	o.access = str("access", "")
	o.subscribe = bl("subscribe", false)
	var err error
	if err = errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.collaborators, err = readCollaborators(in); err != nil {
		return nil, err
	}
	if o.topics, err = action.StringListInput(in, "topics"); err != nil {
		return nil, err
	}
	if o.variables, err = stringMap(in, "repoVariables"); err != nil {
		return nil, err
	}
	if m, _ := action.MapInput(in, "secrets"); len(m) > 0 {
		// GitHub takes secrets sealed with libsodium, which the standard
		// library lacks; failing beats a repository whose workflows
		// silently miss them.
		return nil, errors.New("input \"secrets\": repository secrets are not supported yet; set them after the repository is created")
	}
	if o.oidc, err = action.MapInput(in, "oidcCustomization"); err != nil {
		return nil, err
	}
	props, err := action.MapInput(in, "customProperties")
	if err != nil {
		return nil, err
	}
	if props != nil {
		o.orgOnly["custom_properties"] = props
	}
	return o, nil
}

func readCollaborators(in map[string]any) ([]collaborator, error) {
	if !present(in, "collaborators") {
		return nil, nil
	}
	list, ok := in["collaborators"].([]any)
	if !ok {
		return nil, fmt.Errorf("input \"collaborators\" must be a list")
	}
	var out []collaborator
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("input \"collaborators\"[%d] must be an object", i)
		}
		var cl collaborator
		for k, val := range m {
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("input \"collaborators\"[%d].%s must be a string", i, k)
			}
			switch k {
			case "access":
				cl.access = s
			case "user":
				cl.user = entityRefToName(s)
			case "team", "username": // username is Backstage's deprecated spelling of team
				cl.team = entityRefToName(s)
			default:
				return nil, fmt.Errorf("input \"collaborators\"[%d]: unknown key %q", i, k)
			}
		}
		if cl.access == "" || (cl.user == "") == (cl.team == "") {
			return nil, fmt.Errorf("input \"collaborators\"[%d] needs access and one of user or team", i)
		}
		if !validName(cl.user) && cl.user != "" || !validName(cl.team) && cl.team != "" {
			return nil, fmt.Errorf("input \"collaborators\"[%d]: not a GitHub user or team name", i)
		}
		out = append(out, cl)
	}
	return out, nil
}

// entityRefToName is Backstage's: "user:default/jane" → "jane".
func entityRefToName(s string) string {
	if i := strings.LastIndexAny(s, ":/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// createRepo creates the repository in an organization or for the
// authenticated user (GET /users/{owner} decides), then sets access,
// collaborators, topics, variables, OIDC and subscription as Backstage's
// createGithubRepoWithCollaboratorsAndTopics does; the extras only warn
// when they fail, as there.
func (p *Plugin) createRepo(c *action.Context, t *target, o *createOptions) (*repository, error) {
	ctx := ctxOf(c)
	var owner account
	if err := t.c.get(ctx, esc("users", t.repo.Owner), &owner); err != nil {
		return nil, fmt.Errorf("looking up the owner %s: %w", t.repo.Owner, err)
	}
	body := map[string]any{"name": t.repo.Repo}
	for k, v := range o.body {
		body[k] = v
	}
	path := "/user/repos"
	if owner.Type == "Organization" {
		path = esc("orgs", t.repo.Owner, "repos")
		for k, v := range o.orgOnly {
			body[k] = v
		}
	}
	c.Logf("Creating the %s repository %s on %s", strings.ToLower(owner.Type), t.slug(), t.in.host)
	var repo repository
	if err := t.c.call(ctx, http.MethodPost, path, body, &repo); err != nil {
		if strings.Contains(err.Error(), "Resource not accessible by integration") {
			c.Logf("The GitHub app or token provided may not have the required permissions to create the %s repository %s.", owner.Type, t.slug())
		}
		return nil, fmt.Errorf("Failed to create the %s repository %s, %w", owner.Type, t.slug(), err)
	}
	if team, ok := strings.CutPrefix(o.access, t.repo.Owner+"/"); ok && o.access != "" {
		if err := t.c.call(ctx, http.MethodPut, esc("orgs", t.repo.Owner, "teams", team, "repos", t.repo.Owner, t.repo.Repo),
			map[string]any{"permission": "admin"}, nil); err != nil {
			return nil, fmt.Errorf("giving %s admin access to %s: %w", o.access, t.slug(), err)
		}
	} else if o.access != "" && o.access != t.repo.Owner {
		if err := t.c.call(ctx, http.MethodPut, t.path("collaborators", entityRefToName(o.access)),
			map[string]any{"permission": "admin"}, nil); err != nil {
			return nil, fmt.Errorf("giving %s admin access to %s: %w", o.access, t.slug(), err)
		}
	}
	for _, cl := range o.collaborators {
		var err error
		name := cl.user
		if cl.user != "" {
			err = t.c.call(ctx, http.MethodPut, t.path("collaborators", cl.user), map[string]any{"permission": cl.access}, nil)
		} else {
			name = cl.team
			err = t.c.call(ctx, http.MethodPut, esc("orgs", t.repo.Owner, "teams", cl.team, "repos", t.repo.Owner, t.repo.Repo),
				map[string]any{"permission": cl.access}, nil)
		}
		if err != nil {
			c.Logf("Skipping %s access for %s, %v", cl.access, name, err)
		}
	}
	if o.topics != nil {
		names := make([]string, len(o.topics))
		for i, tp := range o.topics {
			names[i] = strings.ToLower(tp)
		}
		if err := t.c.call(ctx, http.MethodPut, t.path("topics"), map[string]any{"names": names}, nil); err != nil {
			c.Logf("Skipping topics %s, %v", strings.Join(o.topics, " "), err)
		}
	}
	for _, k := range sortedKeys(o.variables) {
		if err := t.c.call(ctx, http.MethodPost, t.path("actions", "variables"), map[string]any{"name": k, "value": o.variables[k]}, nil); err != nil {
			return nil, fmt.Errorf("creating the repository variable %s: %w", k, err)
		}
	}
	if o.oidc != nil {
		body := map[string]any{"use_default": o.oidc["useDefault"]}
		if keys, ok := o.oidc["includeClaimKeys"]; ok {
			body["include_claim_keys"] = keys
		}
		if err := t.c.call(ctx, http.MethodPut, t.path("actions", "oidc", "customization", "sub"), body, nil); err != nil {
			return nil, fmt.Errorf("setting the OIDC customization: %w", err)
		}
	}
	if o.subscribe {
		if err := t.c.call(ctx, http.MethodPut, t.path("subscription"), map[string]any{"subscribed": true, "ignored": false}, nil); err != nil {
			return nil, fmt.Errorf("subscribing to %s: %w", t.slug(), err)
		}
	}
	return &repo, nil
}

// pushOptions are the inputs of the push and the branch protection.
type pushOptions struct {
	dir, branch, message, authorName, authorEmail string
	protect                                       bool
	protection                                    map[string]any
	commitSigning                                 bool
}

func readPushOptions(c *action.Context) (*pushOptions, error) {
	in := c.Input
	dir, err := action.SourceDir(c)
	if err != nil {
		return nil, err
	}
	o := &pushOptions{dir: dir}
	var errs []error
	str := func(key, def string) string {
		s, err := stringOr(in, key, def)
		errs = append(errs, err)
		return s
	}
	bl := func(key string, def bool) bool {
		b, err := boolOr(in, key, def)
		errs = append(errs, err)
		return b
	}
	o.branch = str("defaultBranch", "master")
	o.message = str("gitCommitMessage", "initial commit")
	o.authorName = str("gitAuthorName", "")
	o.authorEmail = str("gitAuthorEmail", "")
	o.protect = bl("protectDefaultBranch", true)
	enforceAdmins := bl("protectEnforceAdmins", true)
	codeOwners := bl("requireCodeOwnerReviews", false)
	dismissStale := bl("dismissStaleReviews", false)
	upToDate := bl("requireBranchesToBeUpToDate", true)
	conversations := bl("requiredConversationResolution", false)
	lastPush := bl("requireLastPushApproval", false)
	linear := bl("requiredLinearHistory", false)
	o.commitSigning = bl("requiredCommitSigning", false)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if !validRef(o.branch) {
		return nil, fmt.Errorf("input \"defaultBranch\": %q is not a branch name", o.branch)
	}
	count, ok, err := action.NumberInput(in, "requiredApprovingReviewCount")
	if err != nil {
		return nil, err
	}
	if !ok {
		count = 1
	}
	if count < 0 || count > 6 || count != float64(int(count)) {
		return nil, fmt.Errorf("input \"requiredApprovingReviewCount\" must be a whole number from 0 to 6")
	}
	contexts, err := action.StringListInput(in, "requiredStatusCheckContexts")
	if err != nil {
		return nil, err
	}
	if contexts == nil {
		contexts = []string{}
	}
	restrictions, err := principals(in, "restrictions")
	if err != nil {
		return nil, err
	}
	bypass, err := principals(in, "bypassPullRequestAllowances")
	if err != nil {
		return nil, err
	}
	reviews := map[string]any{
		"required_approving_review_count": int(count),
		"require_code_owner_reviews":      codeOwners,
		"dismiss_stale_reviews":           dismissStale,
		"require_last_push_approval":      lastPush,
	}
	if bypass != nil {
		reviews["bypass_pull_request_allowances"] = bypass
	}
	var restr any // null: no push restrictions, as GitHub requires the key
	if restrictions != nil {
		for _, k := range []string{"users", "teams"} {
			if _, ok := restrictions[k]; !ok {
				restrictions[k] = []string{}
			}
		}
		restr = restrictions
	}
	o.protection = map[string]any{
		"required_status_checks":           map[string]any{"strict": upToDate, "contexts": contexts},
		"restrictions":                     restr,
		"enforce_admins":                   enforceAdmins,
		"required_pull_request_reviews":    reviews,
		"required_conversation_resolution": conversations,
		"required_linear_history":          linear,
	}
	return o, nil
}

// pushAndProtect pushes the workspace as the branch's first commit and
// protects the branch; a failed protection only warns, as in Backstage.
func (p *Plugin) pushAndProtect(c *action.Context, t *target, remote string, o *pushOptions) (string, error) {
	c.Logf("Pushing %s to %s", o.branch, remote)
	hash, err := action.PushDir(c, action.Push{
		Dir: o.dir, RemoteURL: remote, Branch: o.branch, Message: o.message,
		AuthorName: o.authorName, AuthorEmail: o.authorEmail,
		Username: "x-access-token", Password: t.token,
	})
	p.status.Record(err)
	if err != nil {
		return "", fmt.Errorf("pushing to %s: %w", t.slug(), err)
	}
	if o.protect {
		if err := p.protect(c, t, o); err != nil {
			c.Logf("Skipping: default branch protection on '%s', %v", t.repo.Repo, err)
		}
	}
	return hash, nil
}

func (p *Plugin) protect(c *action.Context, t *target, o *pushOptions) error {
	ctx := ctxOf(c)
	once := func() error {
		req, err := t.c.request(ctx, http.MethodPut, t.path("branches", o.branch, "protection"), o.protection)
		if err != nil {
			return err
		}
		// custom review counts were a preview once; GHE may still want it
		req.Header.Set("Accept", "application/vnd.github.luke-cage-preview+json")
		if err := t.c.send(req, nil); err != nil {
			if strings.Contains(err.Error(), "Upgrade to GitHub Pro or make this repository public to enable this feature") {
				c.Logf("Branch protection was not enabled as it requires GitHub Pro for private repositories")
				return nil
			}
			return err
		}
		if o.commitSigning {
			return t.c.call(ctx, http.MethodPost, t.path("branches", o.branch, "protection", "required_signatures"), nil, nil)
		}
		return nil
	}
	err := once()
	if err != nil && strings.Contains(err.Error(), "Branch not found") {
		// GitHub is eventually consistent just after a push.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(600 * time.Millisecond):
		}
		err = once()
	}
	return err
}
