package azure

import (
	"fmt"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// publishAction is publish:azure: create a repository in a project and
// push the workspace to it. It has no dry run (Backstage skips it).
type publishAction struct{ p *Plugin }

func (publishAction) ID() string { return "publish:azure" }
func (publishAction) Description() string {
	return "Initializes a git repository of the content in the workspace, and publishes it to Azure."
}

func (publishAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema([]string{"repoUrl"}, map[string]any{
		"repoUrl":          map[string]any{"title": "Repository Location", "type": "string"},
		"description":      map[string]any{"title": "Repository Description", "type": "string"},
		"defaultBranch":    sString("Default Branch", "Sets the default branch on the repository. The default value is 'master'"),
		"gitCommitMessage": sString("Git Commit Message", "Sets the commit message on the repository. The default value is 'initial commit'"),
		"gitAuthorName":    sString("Default Author Name", "Sets the default author name for the commit. The default value is 'Scaffolder'"),
		"gitAuthorEmail":   sString("Default Author Email", "Sets the default author email for the commit."),
		"sourcePath":       sString("Source Path", "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."),
		"token":            sString("Authentication Token", "The token to use for authorization to Azure"),
		"signCommit":       sBool("Sign commit", "Sign commit with configured PGP private key"),
	})
	out := action.ObjectSchema(nil, map[string]any{
		"remoteUrl":       map[string]any{"title": "A URL to the repository with the provider", "type": "string"},
		"repoContentsUrl": map[string]any{"title": "A URL to the root of the repository", "type": "string"},
		"repositoryId":    map[string]any{"title": "The Id of the created repository", "type": "string"},
		"commitHash":      map[string]any{"title": "The git commit hash of the initial commit", "type": "string"},
	})
	return in, out
}

// createdRepo is the part of Azure's GitRepository answer the action uses.
type createdRepo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	RemoteURL string `json:"remoteUrl"`
	WebURL    string `json:"webUrl"`
}

func (a publishAction) Run(c *action.Context) error {
	in := c.Input
	repoURL, err := requireString(in, "repoUrl")
	if err != nil {
		return err
	}
	r, err := action.ParseRepoURL(repoURL, "project", "repo")
	if err != nil {
		return err
	}
	if r.Organization == "" {
		return fmt.Errorf("Invalid URL provider was included in the repo URL to create %s, missing organization", repoURL)
	}
	if !validOrg(r.Organization) || !validName(r.Project) || !validName(r.Repo) {
		return fmt.Errorf("Invalid repo URL passed to publisher: %s: organization, project or repo is not a valid Azure DevOps name", repoURL)
	}
	defaultBranch, err := strDefault(in, "defaultBranch", "master")
	if err != nil {
		return err
	}
	if !validBranch(defaultBranch) {
		return fmt.Errorf("invalid defaultBranch %q", defaultBranch)
	}
	// Backstage: an absent message is "initial commit"; an empty one
	// falls back to scaffolder.defaultCommitMessage.
	msg := "initial commit"
	if v, ok := in["gitCommitMessage"]; ok && v != nil {
		if msg, err = strDefault(in, "gitCommitMessage", a.p.commitMessage); err != nil {
			return err
		}
	}
	authorName, err := strDefault(in, "gitAuthorName", a.p.authorName)
	if err != nil {
		return err
	}
	authorEmail, err := strDefault(in, "gitAuthorEmail", a.p.authorEmail)
	if err != nil {
		return err
	}
	// description is in Backstage's schema but not sent to Azure (its
	// create call takes only the name); it is read so a wrong type is
	// still reported.
	if _, err := action.StringInput(in, "description"); err != nil {
		return err
	}
	sign, err := action.BoolInput(in, "signCommit")
	if err != nil {
		return err
	}
	if sign {
		return fmt.Errorf("signCommit is not supported yet: Greenroom does not sign commits")
	}
	src, err := action.SourceDir(c)
	if err != nil {
		return err
	}

	integ := a.p.integration(r.Host)
	if integ == nil {
		return fmt.Errorf("No matching integration configuration for host %s, please check your integrations config", r.Host)
	}
	token, err := tokenFor(c, integ, r.Organization)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("No credentials provided %s/%s, please check your integrations config", integ.base(), r.Organization)
	}
	cl := a.p.client(integ, token)

	c.Logf("Creating repository %s in project %s of %s.", r.Repo, r.Project, r.Organization)
	var created createdRepo
	path := "/" + seg(r.Organization) + "/" + seg(r.Project) + "/_apis/git/repositories"
	if err := cl.call(ctxOf(c), "POST", path, nil, map[string]any{"name": r.Repo}, &created); err != nil {
		return err
	}
	switch {
	case created.RemoteURL == "":
		return fmt.Errorf("No remote URL returned from create repository for Azure")
	case created.ID == "":
		return fmt.Errorf("No Id returned from create repository for Azure")
	case created.WebURL == "":
		return fmt.Errorf("No web URL returned from create repository for Azure")
	}
	// the token goes with the push: only to the configured host
	rem, err := a.p.parseRemote("the created repository's remoteUrl", created.RemoteURL)
	if err != nil {
		return err
	}
	if rem.in != integ {
		return fmt.Errorf("Azure DevOps %s: the created repository's remoteUrl %s is not on the integration's base URL %s", integ.host, rem.url, integ.base())
	}

	hash, err := action.PushDir(c, action.Push{
		Dir: src, RemoteURL: rem.url, Branch: defaultBranch, Message: msg,
		AuthorName: authorName, AuthorEmail: authorEmail,
		Username: "notempty", Password: token, GitPath: a.p.gitPath,
	})
	a.p.recordPush(integ, "push", err)
	if err != nil {
		return err
	}
	c.SetOutput("commitHash", hash)
	c.SetOutput("remoteUrl", created.RemoteURL)
	c.SetOutput("repoContentsUrl", created.WebURL)
	c.SetOutput("repositoryId", created.ID)
	return nil
}
