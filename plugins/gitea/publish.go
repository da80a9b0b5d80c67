package gitea

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// publishAction is Backstage's publish:gitea (scaffolder-backend-module-
// gitea, gitea.ts): it creates a repository in an existing organisation
// and pushes the workspace to it. Like Backstage's, it does not support
// dry runs, so a dry run skips it.
type publishAction struct{ p *Plugin }

func (publishAction) ID() string { return "publish:gitea" }

func (publishAction) Description() string {
	return "Initializes a git repository using the content of the workspace, and publishes it to Gitea."
}

func (publishAction) Schema() (in, out map[string]any) {
	visibility := action.TypeSchema("string", "Repository Visibility", "Sets the visibility of the repository. The default value is 'public'.")
	visibility["enum"] = []any{"private", "public"}
	in = action.ObjectSchema([]string{"repoUrl"}, map[string]any{
		"repoUrl":          map[string]any{"title": "Repository Location", "type": "string"},
		"description":      map[string]any{"title": "Repository Description", "type": "string"},
		"defaultBranch":    action.TypeSchema("string", "Default Branch", "Sets the default branch on the repository. The default value is 'main'"),
		"repoVisibility":   visibility,
		"gitCommitMessage": action.TypeSchema("string", "Git Commit Message", "Sets the commit message on the repository. The default value is 'initial commit'"),
		"gitAuthorName":    action.TypeSchema("string", "Default Author Name", "Sets the default author name for the commit. The default value is 'Scaffolder'"),
		"gitAuthorEmail":   action.TypeSchema("string", "Default Author Email", "Sets the default author email for the commit."),
		"sourcePath":       action.TypeSchema("string", "Source Path", "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."),
		"signCommit":       action.TypeSchema("boolean", "Sign commit", "Sign commit with configured PGP private key"),
	})
	out = map[string]any{"type": "object", "properties": map[string]any{
		"remoteUrl":       map[string]any{"title": "A URL to the repository with the provider", "type": "string"},
		"repoContentsUrl": map[string]any{"title": "A URL to the root of the repository", "type": "string"},
		"commitHash":      map[string]any{"title": "The git commit hash of the initial commit", "type": "string"},
	}}
	return in, out
}

func (a publishAction) Run(c *action.Context) error {
	p := a.p
	in := c.Input
	repoURL, err := action.StringInput(in, "repoUrl")
	if err != nil {
		return err
	}
	if repoURL == "" {
		return errors.New("input repoUrl is required")
	}
	strs := map[string]string{}
	for _, k := range []string{"description", "defaultBranch", "repoVisibility", "gitCommitMessage", "gitAuthorName", "gitAuthorEmail"} {
		if strs[k], err = action.StringInput(in, k); err != nil {
			return err
		}
	}
	signCommit, err := action.BoolInput(in, "signCommit")
	if err != nil {
		return err
	}
	branch := strs["defaultBranch"]
	if branch == "" {
		branch = "main"
	}
	if !validBranch(branch) {
		return fmt.Errorf("input defaultBranch: %q is not a branch name", branch)
	}
	switch strs["repoVisibility"] {
	case "", "public", "private":
	default:
		return fmt.Errorf("input repoVisibility must be private or public, got %q", strs["repoVisibility"])
	}

	// As Backstage's parseRepoUrl: the host first, then owner and repo.
	r, err := action.ParseRepoURL(repoURL)
	if err != nil {
		return err
	}
	h := p.lookupHost(r.Host)
	if h == nil {
		return fmt.Errorf("No matching integration configuration for host %s, please check your integrations config", r.Host)
	}
	if r, err = action.ParseRepoURL(repoURL, "owner", "repo"); err != nil {
		return err
	}
	if strings.Contains(r.Owner, "/") || strings.Contains(r.Repo, "/") {
		return fmt.Errorf("Invalid repo URL passed to publisher: %s: a Gitea owner and repository are single names", repoURL)
	}
	if h.username == "" || h.password == "" {
		return fmt.Errorf("Credentials for the gitea %s required (integrations.gitea username and password).", h.name)
	}
	if signCommit {
		// commitSigningKey is refused at start, so there never is one
		return errors.New("Signing commits is enabled but no signing key is provided in the configuration")
	}
	src, err := action.SourceDir(c)
	if err != nil {
		return err
	}
	ctx := c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}

	if err := h.checkOrg(ctx, r.Owner); err != nil {
		return err
	}
	if err := h.createRepo(ctx, r.Owner, r.Repo, strs["description"], strs["repoVisibility"] == "private", branch); err != nil {
		return err
	}
	c.Logf("Created repository %s/%s on %s", r.Owner, r.Repo, h.name)

	subject := p.defaultCommitMessage
	if subject == "" {
		subject = strs["gitCommitMessage"]
	}
	if subject == "" {
		subject = "initial commit"
	}
	authorName, authorEmail := strs["gitAuthorName"], strs["gitAuthorEmail"]
	if authorName == "" {
		authorName = p.authorName
	}
	if authorEmail == "" {
		authorEmail = p.authorEmail
	}
	base := h.baseURL()
	remote := base + "/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Repo) + ".git"
	hash, err := action.PushDir(c, action.Push{
		Dir: src, RemoteURL: remote, Branch: branch, Message: subject + "\n\nChange-Id: I" + changeID(),
		AuthorName: authorName, AuthorEmail: authorEmail,
		Username: h.username, Password: h.password,
	})
	p.status.Record(err)
	if err != nil {
		return fmt.Errorf("push to %s: %w", remote, err)
	}
	c.Logf("Pushed commit %s to %s branch %s", hash, remote, branch)
	h.waitForBranch(ctx, r.Owner, r.Repo, branch, hash, p.pollInterval, p.pollLimit)

	if c.Output != nil {
		c.Output("remoteUrl", remote)
		c.Output("repoContentsUrl", base+"/"+url.PathEscape(r.Owner)+"/"+url.PathEscape(r.Repo)+"/src/branch/"+url.PathEscape(branch)+"/")
		c.Output("commitHash", hash)
	}
	return nil
}

// changeID is the Gerrit-style Change-Id Backstage adds to the message.
func changeID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkOrg requires GET /orgs/<owner> to answer 200, with Backstage's
// message otherwise.
func (h *host) checkOrg(ctx context.Context, owner string) error {
	resp, err := h.get(ctx, h.api("/orgs/"+url.PathEscape(owner)), http.Header{"Accept": {"application/json"}})
	if err != nil {
		return fmt.Errorf("Unable to get the Organization: %s; %w", owner, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSON))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("Organization %s do not exist. Please create it first !", owner)
	}
	return nil
}

// createRepo is POST /orgs/<owner>/repos, which must answer 201.
func (h *host) createRepo(ctx context.Context, owner, name, description string, private bool, branch string) error {
	body, _ := json.Marshal(map[string]any{"name": name, "description": description, "private": private, "default_branch": branch})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.api("/orgs/"+url.PathEscape(owner)+"/repos"), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	h.authorize(req)
	resp, err := h.p.http.Do(req)
	if err != nil {
		return fmt.Errorf("Unable to create repository, %w", h.transportError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("Unable to create repository, %d %s, %s", resp.StatusCode, http.StatusText(resp.StatusCode), plugins.UpstreamMessage(strings.TrimSpace(string(text)), 500, h.password))
	}
	return nil
}

// waitForBranch waits until Gitea serves the pushed commit on the new
// branch, as Backstage does before it reports the repository (a
// catalog:register right after would otherwise read a repository Gitea is
// still processing). Backstage polls the branch's web page without
// credentials, which never answers 200 for a private repository and so
// always waits its full 20 seconds there; this polls the API's
// GET /repos/<o>/<r>/branches/<branch> with the integration's credentials
// until it names the commit. Like Backstage, it gives up quietly after
// limit.
func (h *host) waitForBranch(ctx context.Context, owner, repo, branch, hash string, every, limit time.Duration) {
	path := repoPath(owner, repo) + "/branches/" + url.PathEscape(branch)
	deadline := time.Now().Add(limit)
	for {
		var b struct {
			Commit struct {
				ID string `json:"id"`
			} `json:"commit"`
		}
		if err := h.getJSON(ctx, path, "branch "+branch+" of "+owner+"/"+repo, &b); err == nil && b.Commit.ID == hash {
			return
		}
		if time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
