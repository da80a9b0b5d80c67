package gitlab

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// mergeRequestAction is publish:gitlab:merge-request: commit the workspace
// to a new branch with the commits API and open a merge request.
type mergeRequestAction struct{ p *Plugin }

func (mergeRequestAction) ID() string { return "publish:gitlab:merge-request" }
func (mergeRequestAction) Description() string {
	return "Commits the workspace to a branch of a GitLab project and opens a merge request."
}

var commitActions = []string{"create", "update", "delete", "skip", "auto"}

func (mergeRequestAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema([]string{"repoUrl", "branchName"}, map[string]any{
		"repoUrl":                          repoURLSchema(),
		"projectid":                        sString("projectid", "Project ID/Name(slug) of the GitLab Project (deprecated: pass project in the repoUrl)"),
		"title":                            sString("Merge Request Name", "The name for the merge request"),
		"description":                      sString("Merge Request Description", "The description of the merge request"),
		"branchName":                       sString("Source Branch Name", "The source branch name of the merge request"),
		"targetBranchName":                 sString("Target Branch Name", "The target branch name of the merge request (defaults to the default branch of the repository)"),
		"sourcePath":                       sString("Working Subdirectory", "Subdirectory of working directory to copy changes from. For reasons of backward compatibility, any specified 'targetPath' input will be applied in place of an absent/falsy value for this input. Circumvent this behavior using '.'"),
		"targetPath":                       sString("Repository Subdirectory", "Subdirectory of repository to apply changes to"),
		"token":                            tokenSchema(),
		"commitAction":                     sString("Commit action", "The action to be used for git commit. Defaults to the custom 'auto' action provided by Backstage, which uses additional API calls in order to detect whether to 'create', 'update' or 'skip' each source file.", commitActions...),
		"removeSourceBranch":               sBool("Delete source branch", "Option to delete source branch once the MR has been merged. Default: false"),
		"assignee":                         sString("Merge Request Assignee", "User this merge request will be assigned to"),
		"reviewers":                        action.StringArraySchema("Merge Request Reviewers", "Users that will be assigned as reviewers"),
		"assignReviewersFromApprovalRules": sBool("Assign reviewers from approval rules", "Automatically assign reviewers from the approval rules of the MR. Includes CODEOWNERS (not supported yet)"),
		"labels":                           map[string]any{"title": "Labels", "description": "Labels with which to tag the created merge request", "anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}},
		"draft":                            sBool("Draft", "Open the merge request as a draft (its title is prefixed with 'Draft: ')"),
	})
	out := action.ObjectSchema(nil, map[string]any{
		"targetBranchName": sString("Target branch name of the merge request", ""),
		"projectid":        sString("GitLab Project id/Name(slug)", ""),
		"projectPath":      sString("GitLab Project path", ""),
		"mergeRequestUrl":  sString("MergeRequest(MR) URL", "Link to the merge request in GitLab"),
	})
	return in, out
}

// commitAction is one entry of the commits API's actions.
type commitAction struct {
	Action   string `json:"action"`
	FilePath string `json:"file_path"`
	Content  string `json:"content"`
	Encoding string `json:"encoding"`
	Execute  bool   `json:"execute_filemode,omitempty"`
}

func newCommitAction(act, targetPath string, f wsFile) commitAction {
	p := f.path
	if targetPath != "" {
		p = path.Join(targetPath, f.path)
	}
	return commitAction{Action: act, FilePath: p, Content: base64.StdEncoding.EncodeToString(f.data), Encoding: "base64", Execute: f.exec}
}

// lookupUser is GET /users?username=, the id of the first match.
func lookupUser(ctx context.Context, cl *client, username string) (int64, error) {
	var users []struct {
		ID int64 `json:"id"`
	}
	if _, err := cl.get(ctx, "/users", url.Values{"username": {username}}, &users); err != nil {
		return 0, err
	}
	if len(users) == 0 {
		return 0, fmt.Errorf("no GitLab user %q", username)
	}
	return users[0].ID, nil
}

func (a mergeRequestAction) Run(c *action.Context) error {
	in := c.Input
	ctx := ctxOf(c)
	repoURL, _ := action.StringInput(in, "repoUrl")
	host, repoID, err := repoOf(repoURL)
	if err != nil {
		return err
	}
	branchName, err := requireString(in, "branchName")
	if err != nil {
		return err
	}
	if !validBranch(branchName) {
		return fmt.Errorf("invalid branchName %q", branchName)
	}
	title, _ := action.StringInput(in, "title")
	description, _ := action.StringInput(in, "description")
	targetBranch, _ := action.StringInput(in, "targetBranchName")
	if targetBranch != "" && !validBranch(targetBranch) {
		return fmt.Errorf("invalid targetBranchName %q", targetBranch)
	}
	sourcePath, _ := action.StringInput(in, "sourcePath")
	targetPath, err := action.StringInput(in, "targetPath")
	if err != nil {
		return err
	}
	targetPath = strings.Trim(targetPath, "/")
	if targetPath != "" && checkRepoPath(targetPath) != nil {
		return fmt.Errorf("invalid targetPath %q", targetPath)
	}
	mode, _ := action.StringInput(in, "commitAction")
	if mode == "" {
		mode = "auto"
	}
	validMode := false
	for _, m := range commitActions {
		validMode = validMode || m == mode
	}
	if !validMode {
		return fmt.Errorf("input \"commitAction\" must be one of %s, got %q", strings.Join(commitActions, ", "), mode)
	}
	removeSource, err := action.BoolInput(in, "removeSourceBranch")
	if err != nil {
		return err
	}
	draft, err := action.BoolInput(in, "draft")
	if err != nil {
		return err
	}
	assignee, _ := action.StringInput(in, "assignee")
	reviewers, err := action.StringListInput(in, "reviewers")
	if err != nil {
		return err
	}
	labels, err := action.StringListInput(in, "labels")
	if err != nil {
		return err
	}
	if v, _ := action.BoolInput(in, "assignReviewersFromApprovalRules"); v {
		c.Logf("assignReviewersFromApprovalRules is not supported yet; reviewers come from the reviewers input only")
	}

	// Backstage: sourcePath, else targetPath (backward compatibility), else
	// the workspace.
	rel := sourcePath
	if rel == "" {
		rel = targetPath
	}
	root, err := dirInput(c, rel)
	if err != nil {
		return err
	}
	files, err := workspaceFiles(root)
	if err != nil {
		return fmt.Errorf("reading the workspace: %w", err)
	}

	cl, _, err := a.p.actionClient(c, host)
	if err != nil {
		return err
	}
	proj := "/projects/" + enc(repoID)

	var assigneeID *int64
	if assignee != "" {
		if id, err := lookupUser(ctx, cl, assignee); err != nil {
			c.Logf("Failed to find gitlab user id for %s: %v. Proceeding with MR creation without an assignee.", assignee, err)
		} else {
			assigneeID = &id
		}
	}
	var reviewerIDs []int64
	for _, r := range reviewers {
		if id, err := lookupUser(ctx, cl, r); err != nil {
			c.Logf("Failed to find gitlab user id for %s: %v. Proceeding with MR creation without reviewer.", r, err)
		} else {
			reviewerIDs = append(reviewerIDs, id)
		}
	}

	if targetBranch == "" {
		var pj project
		if _, err := cl.get(ctx, proj, nil, &pj); err != nil {
			return err
		}
		if pj.DefaultBranch == "" {
			return fmt.Errorf("The branch creation failed. Target branch was not provided, and could not find default branch from project settings. Project: %s", repoID)
		}
		targetBranch = pj.DefaultBranch
	}

	var actions []commitAction
	switch mode {
	case "skip":
	case "auto":
		remote, err := remoteFiles(ctx, cl, proj, targetBranch, targetPath)
		if err != nil {
			c.Logf("Could not retrieve the list of files for %s (branch: %s) : %v", repoID, targetBranch, err)
		}
		for _, f := range files {
			act := newCommitAction("create", targetPath, f)
			if remote[act.FilePath] {
				act.Action = "update"
				if same, err := sameContent(ctx, cl, proj, act.FilePath, targetBranch, f.data); err != nil {
					c.Logf("Unable to retrieve detailed information for remote file %s", act.FilePath)
				} else if same {
					continue
				}
			}
			actions = append(actions, act)
		}
	default:
		for _, f := range files {
			actions = append(actions, newCommitAction(mode, targetPath, f))
		}
	}

	createBranch := len(actions) > 0
	var br struct {
		WebURL string `json:"web_url"`
	}
	_, err = cl.get(ctx, proj+"/repository/branches/"+enc(branchName), nil, &br)
	switch {
	case err == nil && createBranch:
		var mrs []struct {
			WebURL string `json:"web_url"`
		}
		if _, err := cl.get(ctx, proj+"/merge_requests", url.Values{"source_branch": {branchName}}, &mrs); err == nil && len(mrs) > 0 {
			return fmt.Errorf("The branch creation failed because the branch already exists at: %s. Additionally, there is a Merge Request for this branch: %s", br.WebURL, mrs[0].WebURL)
		}
		return fmt.Errorf("The branch creation failed because the branch already exists at: %s.", br.WebURL)
	case err == nil:
		c.Logf("Using existing branch %s without modification.", branchName)
	default:
		createBranch = true
	}
	if createBranch {
		if err := cl.post(ctx, proj+"/repository/branches", map[string]any{"branch": branchName, "ref": targetBranch}, nil); err != nil {
			return fmt.Errorf("The branch creation failed. Please check that your repo does not already contain a branch named '%s'. %w", branchName, err)
		}
	}
	if len(actions) > 0 {
		body := map[string]any{"branch": branchName, "commit_message": title, "actions": actions}
		if err := cl.post(ctx, proj+"/repository/commits", body, nil); err != nil {
			return fmt.Errorf("Committing the changes to %s failed. Please check that none of the files created by the template already exists. %w", branchName, err)
		}
	}

	mrTitle := title
	if draft && !strings.HasPrefix(strings.ToLower(mrTitle), "draft:") {
		mrTitle = "Draft: " + mrTitle
	}
	mrBody := map[string]any{
		"source_branch": branchName, "target_branch": targetBranch, "title": mrTitle,
		"description": description, "remove_source_branch": removeSource,
	}
	if assigneeID != nil {
		mrBody["assignee_id"] = *assigneeID
	}
	if reviewerIDs != nil {
		mrBody["reviewer_ids"] = reviewerIDs
	}
	if len(labels) > 0 {
		mrBody["labels"] = strings.Join(labels, ",")
	}
	var mr struct {
		IID    int64  `json:"iid"`
		WebURL string `json:"web_url"`
	}
	if err := cl.post(ctx, proj+"/merge_requests", mrBody, &mr); err != nil {
		return fmt.Errorf("Merge request creation failed. %w", err)
	}
	output(c, "projectid", repoID)
	output(c, "targetBranchName", targetBranch)
	output(c, "projectPath", repoID)
	output(c, "mergeRequestUrl", mr.WebURL)
	return nil
}

// remoteFiles lists the blob paths of a branch (under targetPath) with the
// repository tree API, page by page.
func remoteFiles(ctx context.Context, cl *client, proj, ref, under string) (map[string]bool, error) {
	out := map[string]bool{}
	q := url.Values{"ref": {ref}, "recursive": {"true"}, "per_page": {"100"}}
	if under != "" {
		q.Set("path", under)
	}
	for page := 1; page > 0 && page <= maxPages; {
		q.Set("page", strconv.Itoa(page))
		var items []struct {
			Path string `json:"path"`
			Type string `json:"type"`
		}
		hdr, err := cl.get(ctx, proj+"/repository/tree", q, &items)
		if err != nil {
			return out, err
		}
		for _, it := range items {
			if it.Type == "" || it.Type == "blob" {
				out[it.Path] = true
			}
		}
		next, _ := strconv.Atoi(hdr.Get("X-Next-Page"))
		if next <= page {
			break
		}
		page = next
	}
	return out, nil
}

// sameContent compares a file's sha256 with the repository's
// content_sha256 (GET /projects/:id/repository/files/:path?ref=).
func sameContent(ctx context.Context, cl *client, proj, filePath, ref string, data []byte) (bool, error) {
	var meta struct {
		ContentSHA256 string `json:"content_sha256"`
	}
	if _, err := cl.get(ctx, proj+"/repository/files/"+enc(filePath), url.Values{"ref": {ref}}, &meta); err != nil {
		return false, err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) == meta.ContentSHA256, nil
}

// repoPushAction is gitlab:repo:push: commit the workspace to a branch of
// an existing project (created from the default branch when missing).
type repoPushAction struct{ p *Plugin }

func (repoPushAction) ID() string { return "gitlab:repo:push" }
func (repoPushAction) Description() string {
	return "Commits the workspace to a branch of an existing GitLab project."
}

func (repoPushAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema([]string{"repoUrl", "branchName", "commitMessage"}, map[string]any{
		"repoUrl":       repoURLSchema(),
		"branchName":    sString("Source Branch Name", "The branch name for the commit"),
		"commitMessage": sString("Commit Message", "The commit message"),
		"sourcePath":    sString("Working Subdirectory", "Subdirectory of working directory to copy changes from"),
		"targetPath":    sString("Repository Subdirectory", "Subdirectory of repository to apply changes to"),
		"token":         tokenSchema(),
		"commitAction":  sString("Commit action", "The action to be used for git commit. Defaults to create.", "create", "update", "delete"),
	})
	out := action.ObjectSchema(nil, map[string]any{
		"projectid":   sString("Gitlab Project id/Name(slug)", ""),
		"projectPath": sString("Gitlab Project path", ""),
		"commitHash":  sString("The git commit hash of the commit", ""),
	})
	return in, out
}

func (a repoPushAction) Run(c *action.Context) error {
	in := c.Input
	ctx := ctxOf(c)
	repoURL, _ := action.StringInput(in, "repoUrl")
	host, repoID, err := repoOf(repoURL)
	if err != nil {
		return err
	}
	branchName, err := requireString(in, "branchName")
	if err != nil {
		return err
	}
	if !validBranch(branchName) {
		return fmt.Errorf("invalid branchName %q", branchName)
	}
	message, err := requireString(in, "commitMessage")
	if err != nil {
		return err
	}
	targetPath, err := action.StringInput(in, "targetPath")
	if err != nil {
		return err
	}
	targetPath = strings.Trim(targetPath, "/")
	if targetPath != "" && checkRepoPath(targetPath) != nil {
		return fmt.Errorf("invalid targetPath %q", targetPath)
	}
	mode, _ := action.StringInput(in, "commitAction")
	switch mode {
	case "":
		mode = "create"
	case "create", "update", "delete":
	default:
		return fmt.Errorf("input \"commitAction\" must be one of create, update, delete, got %q", mode)
	}
	root, err := action.SourceDir(c)
	if err != nil {
		return err
	}
	files, err := workspaceFiles(root)
	if err != nil {
		return fmt.Errorf("reading the workspace: %w", err)
	}
	actions := make([]commitAction, 0, len(files))
	for _, f := range files {
		actions = append(actions, newCommitAction(mode, targetPath, f))
	}

	cl, _, err := a.p.actionClient(c, host)
	if err != nil {
		return err
	}
	proj := "/projects/" + enc(repoID)
	if _, err := cl.get(ctx, proj+"/repository/branches/"+enc(branchName), nil, nil); err != nil {
		if statusOf(err) != http.StatusNotFound {
			return fmt.Errorf("Failed to check status of branch '%s'. Please make sure that branch already exists or Backstage has permissions to create one. %w", branchName, err)
		}
		var pj project
		_, err := cl.get(ctx, proj, nil, &pj)
		if err == nil {
			err = cl.post(ctx, proj+"/repository/branches", map[string]any{"branch": branchName, "ref": pj.DefaultBranch}, nil)
		}
		if err != nil {
			return fmt.Errorf("The branch '%s' was not found and creation failed with error. Please make sure that branch already exists or Backstage has permissions to create one. %w", branchName, err)
		}
	}
	var commit struct {
		ID string `json:"id"`
	}
	body := map[string]any{"branch": branchName, "commit_message": message, "actions": actions}
	if err := cl.post(ctx, proj+"/repository/commits", body, &commit); err != nil {
		return fmt.Errorf("Committing the changes to %s failed. Please check that none of the files created by the template already exists. %w", branchName, err)
	}
	output(c, "projectid", repoID)
	output(c, "projectPath", repoID)
	output(c, "commitHash", commit.ID)
	return nil
}
