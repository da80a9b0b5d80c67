package gitlab

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// publishAction is publish:gitlab: create a project in a namespace and
// push the workspace to it. It has no dry run (Backstage skips it).
type publishAction struct{ p *Plugin }

func (publishAction) ID() string { return "publish:gitlab" }
func (publishAction) Description() string {
	return "Initializes a git repository of the content in the workspace, and publishes it to GitLab."
}

func (publishAction) Schema() (map[string]any, map[string]any) {
	visibility := []string{"private", "public", "internal"}
	settings := action.ObjectSchema(nil, map[string]any{
		"path":                sString("Project path", "Repository name for new project. Generated based on name if not provided (generated as lowercase with dashes)."),
		"auto_devops_enabled": sBool("Auto DevOps enabled", "Enable Auto DevOps for this project"),
		"ci_config_path":      sString("CI config path", "Custom CI config path for this project"),
		"description":         sString("Project description", "Short project description"),
		"merge_method":        sString("Merge Method to use", "Merge Methods (merge, rebase_merge, ff)", "merge", "rebase_merge", "ff"),
		"squash_option":       sString("Squash option", "Set squash option for the project (never, always, default_on, default_off)", "default_off", "default_on", "never", "always"),
		"topics":              action.StringArraySchema("Topic labels", "Topic labels to apply on the repository"),
		"visibility":          sString("Project visibility", "The visibility of the project. Can be private, internal, or public. The default value is private.", visibility...),
		"only_allow_merge_if_all_discussions_are_resolved": sBool("All threads must be resolved", "Set whether merge requests can only be merged when all the discussions are resolved."),
		"only_allow_merge_if_pipeline_succeeds":            sBool("Pipelines must succeed", "Set whether merge requests can only be merged with successful pipelines. This setting is named Pipelines must succeed in the project settings."),
		"allow_merge_on_skipped_pipeline":                  sBool("Skipped pipelines are considered successful", "Set whether or not merge requests can be merged with skipped jobs."),
	})
	settings["title"] = "Project settings"
	settings["description"] = "Additional project settings, based on https://docs.gitlab.com/ee/api/projects.html#create-project attributes"
	branch := action.ObjectSchema([]string{"name"}, map[string]any{
		"name":    sString("Branch name", ""),
		"protect": sBool("Should branch be protected", "Will mark branch as protected. The default value is 'false'"),
		"create":  sBool("Should branch be created", "If branch does not exist, it will be created from provided ref. The default value is 'false'"),
		"ref":     sString("Branch reference", "Branch reference to create branch from. The default value is 'master'"),
	})
	variable := action.ObjectSchema([]string{"key", "value"}, map[string]any{
		"key":               sString("Variable key", "The key of a variable; must have no more than 255 characters; only A-Z, a-z, 0-9, and _ are allowed"),
		"value":             sString("Variable value", "The value of a variable"),
		"description":       sString("Variable description", "The description of the variable. The default value is 'null'"),
		"variable_type":     sString("Variable type", "The type of a variable. The default value is 'env_var'", "env_var", "file"),
		"protected":         sBool("Variable protection", "Whether the variable is protected. The default value is 'false'"),
		"masked":            sBool("Variable masked", "Whether the variable is masked. The default value is 'false'"),
		"raw":               sBool("Variable raw", "Whether the variable is in raw format. The default value is 'false'"),
		"environment_scope": sString("Variable environment scope", "The environment_scope of the variable. The default value is '*'"),
	})
	in := action.ObjectSchema([]string{"repoUrl"}, map[string]any{
		"repoUrl":          repoURLSchema(),
		"repoVisibility":   sString("Repository Visibility", "Sets the visibility of the repository. The default value is 'private'. (deprecated, use settings.visibility instead)", visibility...),
		"defaultBranch":    sString("Default Branch", "Sets the default branch on the repository. The default value is 'master'"),
		"gitCommitMessage": sString("Git Commit Message", "Sets the commit message on the repository. The default value is 'initial commit'"),
		"gitAuthorName":    sString("Default Author Name", "Sets the default author name for the commit. The default value is 'Scaffolder'"),
		"gitAuthorEmail":   sString("Default Author Email", "Sets the default author email for the commit."),
		"sourcePath":       sString("Source Path", "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."),
		"token":            tokenSchema(),
		"setUserAsOwner":   sBool("Set User As Owner", "Set the token user as owner of the newly created repository. Requires a token authorized to do the edit in the integration configuration for the matching host"),
		"topics":           action.StringArraySchema("Topic labels", "Topic labels to apply on the repository. (deprecated, use settings.topics instead)"),
		"settings":         settings,
		"branches":         map[string]any{"title": "Project branches settings", "type": "array", "items": branch},
		"projectVariables": map[string]any{"title": "Project variables", "description": "Project variables settings based on Gitlab Project Environments API - https://docs.gitlab.com/ee/api/project_level_variables.html#create-a-variable", "type": "array", "items": variable},
	})
	out := action.ObjectSchema(nil, map[string]any{
		"remoteUrl":       sString("A URL to the repository with the provider", ""),
		"repoContentsUrl": sString("A URL to the root of the repository", ""),
		"projectId":       sNumber("The ID of the project", ""),
		"commitHash":      sString("The git commit hash of the initial commit", ""),
	})
	return in, out
}

type branchSetting struct {
	Name    string `json:"name"`
	Protect bool   `json:"protect"`
	Create  bool   `json:"create"`
	Ref     string `json:"ref"`
}

type projectVariable struct {
	Key              string  `json:"key"`
	Value            string  `json:"value"`
	Description      *string `json:"description"`
	VariableType     string  `json:"variable_type"`
	Protected        bool    `json:"protected"`
	Masked           bool    `json:"masked"`
	Raw              bool    `json:"raw"`
	EnvironmentScope string  `json:"environment_scope"`
}

func (a publishAction) Run(c *action.Context) error {
	in := c.Input
	repoURL, err := requireString(in, "repoUrl")
	if err != nil {
		return err
	}
	r, err := action.ParseRepoURL(repoURL, "owner", "repo")
	if err != nil {
		return err
	}
	if err := checkProjectPath(r.Owner + "/" + r.Repo); err != nil {
		return fmt.Errorf("Invalid repo URL passed to publisher: %s: %v", repoURL, err)
	}
	str := func(k, def string) (string, error) {
		s, err := action.StringInput(in, k)
		if s == "" {
			s = def
		}
		return s, err
	}
	visibility, err := str("repoVisibility", "private")
	if err != nil {
		return err
	}
	defaultBranch, err := str("defaultBranch", "master")
	if err != nil {
		return err
	}
	if !validBranch(defaultBranch) {
		return fmt.Errorf("invalid defaultBranch %q", defaultBranch)
	}
	msg, err := str("gitCommitMessage", a.p.commitMessage)
	if err != nil {
		return err
	}
	if msg == "" {
		msg = "initial commit"
	}
	authorName, err := str("gitAuthorName", a.p.authorName)
	if err != nil {
		return err
	}
	authorEmail, err := str("gitAuthorEmail", a.p.authorEmail)
	if err != nil {
		return err
	}
	setOwner, err := action.BoolInput(in, "setUserAsOwner")
	if err != nil {
		return err
	}
	topics, err := action.StringListInput(in, "topics")
	if err != nil {
		return err
	}
	var settings map[string]any
	if err := decodeInput(in, "settings", &settings); err != nil {
		return err
	}
	var branches []branchSetting
	if err := decodeInput(in, "branches", &branches); err != nil {
		return err
	}
	for i, b := range branches {
		if b.Name == "" || !validBranch(b.Name) || (b.Ref != "" && !validBranch(b.Ref)) {
			return fmt.Errorf("input \"branches\"[%d]: invalid branch name or ref", i)
		}
	}
	var vars []projectVariable
	if err := decodeInput(in, "projectVariables", &vars); err != nil {
		return err
	}
	for i, v := range vars {
		if !varKeyRe.MatchString(v.Key) {
			return fmt.Errorf("input \"projectVariables\"[%d]: key %q must be 1-255 characters of A-Z, a-z, 0-9 and _", i, v.Key)
		}
		addSecret(c, "\x00gitlab variable "+v.Key, v.Value)
	}
	src, err := action.SourceDir(c)
	if err != nil {
		return err
	}

	cl, integ, err := a.p.actionClient(c, r.Host)
	if err != nil {
		return err
	}
	ctx := ctxOf(c)

	var ns struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
	}
	if _, err := cl.get(ctx, "/namespaces/"+enc(r.Owner), nil, &ns); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return fmt.Errorf("The namespace %s is not found or the user doesn't have permissions to access it", r.Owner)
		}
		return err
	}
	var userID int64
	if setOwner || ns.ID == 0 {
		var me struct {
			ID int64 `json:"id"`
		}
		if _, err := cl.get(ctx, "/user", nil, &me); err != nil {
			return err
		}
		userID = me.ID
		if ns.ID == 0 {
			ns.ID = userID
		}
	}

	body := map[string]any{"namespace_id": ns.ID, "name": r.Repo, "path": r.Repo, "visibility": visibility}
	if len(topics) > 0 {
		body["topics"] = topics
	}
	for k, v := range settings {
		if v != nil {
			body[k] = v
		}
	}
	c.Logf("Creating repo %s in namespace %s.", r.Repo, r.Owner)
	var created project
	if err := cl.post(ctx, "/projects", body, &created); err != nil {
		return err
	}
	if created.ID == 0 || created.HTTPURLToRepo == "" {
		return fmt.Errorf("GitLab %s: POST /projects: the answer has no id or http_url_to_repo", integ.host)
	}
	pid := "/projects/" + strconv.FormatInt(created.ID, 10)

	// Backstage: with setUserAsOwner the token input is an unprivileged
	// user's, who may create the project but not push its protected
	// default branch; the integration token makes them an owner.
	if setOwner && integ.token != "" {
		admin := a.p.client(integ)
		if err := admin.post(ctx, pid+"/members", map[string]any{"user_id": userID, "access_level": 50}, nil); err != nil {
			return err
		}
	}

	remote, err := url.Parse(created.HTTPURLToRepo)
	if err != nil || !integ.sameOrigin(remote) {
		// the token goes with the push: only to the configured GitLab
		return fmt.Errorf("GitLab %s: http_url_to_repo %q is not on the integration's base URL %s", integ.host, created.HTTPURLToRepo, integ.base())
	}
	hash, err := action.PushDir(c, action.Push{
		Dir: src, RemoteURL: created.HTTPURLToRepo, Branch: defaultBranch, Message: msg,
		AuthorName: authorName, AuthorEmail: authorEmail,
		Username: "oauth2", Password: cl.token, GitPath: a.p.gitPath,
	})
	if a.p.status != nil {
		// git's errors are the caller's to read; the health page only
		// needs to know that pushing to this GitLab failed
		var st error
		if err != nil {
			st = fmt.Errorf("git push to %s failed", integ.host)
		}
		a.p.status.Record(st)
	}
	if err != nil {
		return err
	}

	for _, b := range branches {
		if b.Create {
			ref := b.Ref
			if ref == "" {
				ref = "master"
			}
			if err := cl.post(ctx, pid+"/repository/branches", map[string]any{"branch": b.Name, "ref": ref}, nil); err != nil {
				return fmt.Errorf("Branch creation failed for %s. %w", b.Name, err)
			}
			c.Logf("Branch %s created for %d with ref %s", b.Name, created.ID, ref)
		}
		if b.Protect {
			if err := cl.post(ctx, pid+"/protected_branches", map[string]any{"name": b.Name}, nil); err != nil {
				return fmt.Errorf("Branch protection failed for %s. %w", b.Name, err)
			}
			c.Logf("Branch %s protected for %d", b.Name, created.ID)
		}
	}

	for _, v := range vars {
		vb := map[string]any{
			"key": v.Key, "value": v.Value, "variable_type": orDefault(v.VariableType, "env_var"),
			"protected": v.Protected, "masked": v.Masked, "raw": v.Raw,
			"environment_scope": orDefault(v.EnvironmentScope, "*"),
		}
		if v.Description != nil {
			vb["description"] = *v.Description
		}
		if err := cl.post(ctx, pid+"/variables", vb, nil); err != nil {
			return fmt.Errorf("Environment variable creation failed for %s. %w", v.Key, err)
		}
	}

	remoteURL := trimGit(created.HTTPURLToRepo)
	output(c, "remoteUrl", remoteURL)
	output(c, "repoContentsUrl", remoteURL+"/-/blob/"+defaultBranch)
	output(c, "projectId", float64(created.ID))
	output(c, "commitHash", hash)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
