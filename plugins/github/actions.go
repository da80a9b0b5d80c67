package github

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// This file holds what the GitHub actions share: the repository they act
// on, its integration and token, and input readers with Backstage's
// defaults.

// target is the repository an action acts on.
type target struct {
	repo  action.RepoURL
	in    *integration
	c     *client
	token string
}

// path is /repos/{owner}/{repo} plus escaped segments.
func (t *target) path(segs ...string) string {
	return esc(append([]string{"repos", t.repo.Owner, t.repo.Repo}, segs...)...)
}

func (t *target) slug() string { return t.repo.Owner + "/" + t.repo.Repo }

// resolve parses repoUrl as Backstage's parseRepoUrl does, finds its
// integration and picks the token (the token input overrides the
// integration's). Both tokens join c.Secrets so that nothing logged or
// returned shows them.
func (p *Plugin) resolve(c *action.Context, needToken bool) (*target, error) {
	raw, err := action.StringInput(c.Input, "repoUrl")
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, fmt.Errorf("input \"repoUrl\" is required")
	}
	repo, err := action.ParseRepoURL(raw, "owner", "repo")
	if err != nil {
		return nil, err
	}
	in := findIntegration(p.integrations, repo.Host)
	if in == nil {
		return nil, fmt.Errorf("No matching integration configuration for host %s, please check your integrations config", repo.Host)
	}
	token, err := action.StringInput(c.Input, "token")
	if err != nil {
		return nil, err
	}
	sec := map[string]string{}
	for k, v := range c.Secrets {
		sec[k] = v
	}
	if in.token != "" {
		sec["github integration token"] = in.token
	}
	if token != "" {
		sec["github token input"] = token
	} else {
		token = in.token
	}
	c.Secrets = sec
	if needToken && token == "" {
		return nil, fmt.Errorf("No token available for host: %s, with owner %s, and repo %s", repo.Host, repo.Owner, repo.Repo)
	}
	if in.api == "" {
		return nil, fmt.Errorf("the GitHub integration for '%s' needs an apiBaseUrl for scaffolder actions", in.host)
	}
	return &target{repo: repo, in: in, c: p.client(in, token), token: token}, nil
}

// present reports whether an input was given (not absent, null or
// undefined).
func present(in map[string]any, key string) bool {
	v, ok := in[key]
	return ok && v != nil && !expr.IsUndefined(v)
}

func boolOr(in map[string]any, key string, def bool) (bool, error) {
	if !present(in, key) {
		return def, nil
	}
	return action.BoolInput(in, key)
}

// optBool is nil when the input is absent: GitHub then keeps its default.
func optBool(in map[string]any, key string) (*bool, error) {
	if !present(in, key) {
		return nil, nil
	}
	b, err := action.BoolInput(in, key)
	return &b, err
}

func stringOr(in map[string]any, key, def string) (string, error) {
	s, err := action.StringInput(in, key)
	if s == "" && err == nil {
		s = def
	}
	return s, err
}

func oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("input %q must be one of %s, got %q", key, strings.Join(allowed, ", "), v)
}

// principals reads {users, teams, apps} lists (restrictions and bypass
// allowances); nil when absent.
func principals(in map[string]any, key string) (map[string]any, error) {
	m, err := action.MapInput(in, key)
	if err != nil || m == nil {
		return nil, err
	}
	out := map[string]any{}
	for k := range m {
		switch k {
		case "users", "teams", "apps":
			l, err := action.StringListInput(m, k)
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", key, err)
			}
			if l == nil {
				l = []string{}
			}
			out[k] = l
		default:
			return nil, fmt.Errorf("input %q: unknown key %q (users, teams, apps)", key, k)
		}
	}
	return out, nil
}

// stringMap reads an object of strings (repoVariables).
func stringMap(in map[string]any, key string) (map[string]string, error) {
	m, err := action.MapInput(in, key)
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("input %q: %q must be a string", key, k)
		}
		out[k] = s
	}
	return out, nil
}

// checkedRemote admits a clone URL only on the integration's host: the
// token is sent to it.
func (t *target) checkedRemote(clone string) (string, error) {
	u, err := url.Parse(clone)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || !strings.EqualFold(u.Host, t.in.host) {
		return "", fmt.Errorf("GitHub answered a clone URL for %s that is not on %s", t.slug(), t.in.host)
	}
	return clone, nil
}

// webURL admits the API's html_url when it is an http(s) address.
func webURL(s, fallback string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fallback
	}
	return strings.TrimRight(s, "/")
}

// prop is a JSON Schema property.
func prop(typ, title, desc string, def ...any) map[string]any {
	s := action.TypeSchema(typ, title, desc)
	if len(def) > 0 {
		s["default"] = def[0]
	}
	return s
}

func withEnum(s map[string]any, values ...string) map[string]any {
	e := make([]any, len(values))
	for i, v := range values {
		e[i] = v
	}
	s["enum"] = e
	return s
}

func principalsSchema(title, desc string) map[string]any {
	s := prop("object", title, desc)
	s["additionalProperties"] = false
	list := map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	s["properties"] = map[string]any{"apps": list, "users": list, "teams": list}
	return s
}

const repoURLDesc = "Accepts the format `github.com?repo=reponame&owner=owner` where `reponame` is the new repository name and `owner` is an organization or username"

func tokenSchema() map[string]any {
	return prop("string", "Authentication Token", "The token to use for authorization to GitHub")
}

// createProps are the repository options of publish:github and
// github:repo:create (Backstage's inputProperties.ts).
func createProps() map[string]any {
	collab := prop("array", "Collaborators", "Provide additional users or teams with permissions")
	collab["items"] = map[string]any{
		"type": "object", "additionalProperties": false, "required": []any{"access"},
		"properties": map[string]any{
			"access": map[string]any{"type": "string", "description": "The type of access for the user"},
			"user":   map[string]any{"type": "string", "description": "The name of the user that will be added as a collaborator"},
			"team":   map[string]any{"type": "string", "description": "The name of the team that will be added as a collaborator"},
		},
		"oneOf": []any{map[string]any{"required": []any{"user"}}, map[string]any{"required": []any{"team"}}},
	}
	oidc := prop("object", "Repository OIDC customization template", "OIDC customization template attached to the repository.")
	oidc["additionalProperties"] = false
	oidc["properties"] = map[string]any{
		"useDefault":       prop("boolean", "Use Default", "Whether to use the default OIDC template or not."),
		"includeClaimKeys": action.StringArraySchema("Include claim keys", "Array of unique strings. Each claim key can only contain alphanumeric characters and underscores."),
	}
	return map[string]any{
		"repoUrl":                  prop("string", "Repository Location", repoURLDesc),
		"description":              prop("string", "Repository Description", ""),
		"homepage":                 prop("string", "Repository Homepage", ""),
		"access":                   prop("string", "Repository Access", "Sets an admin collaborator on the repository. Can either be a user reference different from `owner` in `repoUrl` or team reference, eg. `org/team-name`"),
		"repoVisibility":           withEnum(prop("string", "Repository Visibility", ""), "private", "public", "internal"),
		"deleteBranchOnMerge":      prop("boolean", "Delete Branch On Merge", "Delete the branch after merging the PR. The default value is `false`", false),
		"allowMergeCommit":         prop("boolean", "Allow Merge Commits", "Allow merge commits. The default value is `true`", true),
		"allowSquashMerge":         prop("boolean", "Allow Squash Merges", "Allow squash merges. The default value is `true`", true),
		"squashMergeCommitTitle":   withEnum(prop("string", "Default squash merge commit title", "Sets the default value for a squash merge commit title. The default value is `COMMIT_OR_PR_TITLE`", "COMMIT_OR_PR_TITLE"), "PR_TITLE", "COMMIT_OR_PR_TITLE"),
		"squashMergeCommitMessage": withEnum(prop("string", "Default squash merge commit message", "Sets the default value for a squash merge commit message. The default value is `COMMIT_MESSAGES`", "COMMIT_MESSAGES"), "PR_BODY", "COMMIT_MESSAGES", "BLANK"),
		"allowRebaseMerge":         prop("boolean", "Allow Rebase Merges", "Allow rebase merges. The default value is `true`", true),
		"allowAutoMerge":           prop("boolean", "Allow Auto Merges", "Allow individual PRs to merge automatically when all merge requirements are met. The default value is `false`", false),
		"collaborators":            collab,
		"hasProjects":              prop("boolean", "Enable projects", "Enable projects for the repository. The default value is `true` unless the organization has disabled repository projects"),
		"hasWiki":                  prop("boolean", "Enable the wiki", "Enable the wiki for the repository. The default value is `true`", true),
		"hasIssues":                prop("boolean", "Enable issues", "Enable issues for the repository. The default value is `true`", true),
		"token":                    tokenSchema(),
		"topics":                   action.StringArraySchema("Topics", ""),
		"repoVariables":            prop("object", "Repository Variables", "Variables attached to the repository"),
		"secrets":                  prop("object", "Repository Secrets", "Secrets attached to the repository (not supported by Greenroom yet)"),
		"oidcCustomization":        oidc,
		"customProperties":         prop("object", "Custom Repository Properties", "Custom properties to be added to the repository (note, this only works for organization repositories)"),
		"subscribe":                prop("boolean", "Subscribe to repository", "Subscribe to the repository. The default value is 'false'"),
	}
}

// pushProps are the push and branch protection options of publish:github
// and github:repo:push.
func pushProps() map[string]any {
	return map[string]any{
		"repoUrl":                        prop("string", "Repository Location", repoURLDesc),
		"defaultBranch":                  prop("string", "Default Branch", "Sets the default branch on the repository. The default value is `master`", "master"),
		"sourcePath":                     prop("string", "Source Path", "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."),
		"gitCommitMessage":               prop("string", "Git Commit Message", "Sets the commit message on the repository. The default value is `initial commit`", "initial commit"),
		"gitAuthorName":                  prop("string", "Default Author Name", "Sets the default author name for the commit. The default value is `Scaffolder`", "Scaffolder"),
		"gitAuthorEmail":                 prop("string", "Default Author Email", "Sets the default author email for the commit."),
		"protectDefaultBranch":           prop("boolean", "Protect Default Branch", "Protect the default branch after creating the repository. The default value is `true`", true),
		"protectEnforceAdmins":           prop("boolean", "Enforce Admins On Protected Branches", "Enforce admins to adhere to default branch protection. The default value is `true`", true),
		"requireCodeOwnerReviews":        prop("boolean", "Require CODEOWNER Reviews?", "Require an approved review in PR including files with a designated Code Owner"),
		"dismissStaleReviews":            prop("boolean", "Dismiss Stale Reviews", "New reviewable commits pushed to a matching branch will dismiss pull request review approvals."),
		"requiredStatusCheckContexts":    action.StringArraySchema("Required Status Check Contexts", "The list of status checks to require in order to merge into this branch"),
		"requireBranchesToBeUpToDate":    prop("boolean", "Require Branches To Be Up To Date?", "Require branches to be up to date before merging. The default value is `true`", true),
		"requiredConversationResolution": prop("boolean", "Required Conversation Resolution", "Requires all conversations on code to be resolved before a pull request can be merged into this branch"),
		"requireLastPushApproval":        prop("boolean", "Require last push approval", "Whether the most recent push to a PR must be approved by someone other than the person who pushed it. The default value is `false`", false),
		"requiredApprovingReviewCount":   prop("number", "Required approving review count", "Specify the number of reviewers required to approve pull requests. Use a number between `1` and `6` or `0` to not require reviewers. Defaults to `1`."),
		"bypassPullRequestAllowances":    principalsSchema("Bypass pull request requirements", "Allow specific users, teams, or apps to bypass pull request requirements."),
		"restrictions":                   principalsSchema("Restrict who can push to the protected branch", "Restrict who can push to the protected branch. User, app, and team restrictions are only available for organization-owned repositories."),
		"requiredCommitSigning":          prop("boolean", "Require commit signing", "Require commit signing so that you must sign commits on this branch."),
		"requiredLinearHistory":          prop("boolean", "Require linear history", "Prevent merge commits from being pushed to matching branches."),
		"token":                          tokenSchema(),
	}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func outputProps(names ...string) map[string]any {
	all := map[string]any{
		"remoteUrl":       prop("string", "", "A URL to the repository with the provider"),
		"repoContentsUrl": prop("string", "", "A URL to the root of the repository"),
		"commitHash":      prop("string", "", "The git commit hash of the initial commit"),
	}
	props := map[string]any{}
	for _, n := range names {
		s := all[n].(map[string]any)
		delete(s, "title")
		props[n] = s
	}
	return action.ObjectSchema(nil, props)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ctxOf(c *action.Context) context.Context {
	if c.Ctx == nil {
		return context.Background()
	}
	return c.Ctx
}
