package github

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// pullRequestAction is publish:github:pull-request. It writes the
// workspace's files over the target branch through the Git Data API
// (blobs, a tree on the base tree, a commit, a ref), as Backstage's
// octokit-plugin-create-pull-request does: files the workspace lacks stay
// as they are on the branch, and no clone is needed.
type pullRequestAction struct{ p *Plugin }

func (pullRequestAction) ID() string { return "publish:github:pull-request" }
func (pullRequestAction) Description() string {
	return "Creates a pull request on GitHub with the workspace's files."
}
func (pullRequestAction) SupportsDryRun() bool { return true }

func (pullRequestAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema([]string{"repoUrl", "title", "description", "branchName"}, map[string]any{
		"repoUrl":             prop("string", "Repository Location", "Accepts the format `github.com?repo=reponame&owner=owner` where `reponame` is the repository name and `owner` is an organization or username"),
		"branchName":          prop("string", "Branch Name", "The name for the branch"),
		"targetBranchName":    prop("string", "Target Branch Name", "The target branch name of the pull request"),
		"title":               prop("string", "Pull Request Name", "The name for the pull request"),
		"description":         prop("string", "Pull Request Description", "The description of the pull request"),
		"draft":               prop("boolean", "Create as Draft", "Create a draft pull request"),
		"sourcePath":          prop("string", "Working Subdirectory", "Subdirectory of working directory to copy changes from"),
		"targetPath":          prop("string", "Repository Subdirectory", "Subdirectory of repository to apply changes to"),
		"token":               tokenSchema(),
		"reviewers":           action.StringArraySchema("Pull Request Reviewers", "The users that will be added as reviewers to the pull request"),
		"teamReviewers":       action.StringArraySchema("Pull Request Team Reviewers", "The teams that will be added as reviewers to the pull request"),
		"commitMessage":       prop("string", "Commit Message", "The commit message for the pull request commit"),
		"update":              prop("boolean", "Update", "Update pull request if already exists"),
		"forceFork":           prop("boolean", "Force Fork", "Create pull request from a fork (not supported by Greenroom yet)"),
		"gitAuthorName":       prop("string", "Default Author Name", "Sets the default author name for the commit. The default value is the authenticated user or `Scaffolder`"),
		"gitAuthorEmail":      prop("string", "Default Author Email", "Sets the default author email for the commit. The default value is the authenticated user or `scaffolder@backstage.io`"),
		"forceEmptyGitAuthor": prop("boolean", "Force Empty Git Author", "Forces the author to be empty. This is useful when using a Github App, it permit the commit to be verified on Github"),
		"createWhenEmpty":     prop("boolean", "Create When Empty", "Set whether to create pull request when there are no changes to commit. The default value is true. If set to false, remoteUrl is no longer a required output."),
	})
	out := action.ObjectSchema(nil, map[string]any{
		"targetBranchName":  prop("string", "Target branch name of the merge request", ""),
		"remoteUrl":         prop("string", "Pull Request URL", "Link to the pull request in Github"),
		"pullRequestNumber": prop("number", "Pull Request Number", "The pull request number"),
	})
	return in, out
}

// prFile is one file of the change.
type prFile struct {
	path    string // in the repository
	mode    string // 100644, 100755, 120000
	content []byte
}

// Caps on one pull request's files.
const (
	maxPRFiles = 10000
	maxPRBytes = 100 << 20
)

func (a pullRequestAction) Run(c *action.Context) error {
	in := c.Input
	// a dry run has no secrets, hence maybe no token: it touches nothing
	t, err := a.p.resolve(c, !c.DryRun)
	if err != nil {
		return err
	}
	var errs []error
	str := func(key string, required bool) string {
		s, err := action.StringInput(in, key)
		if err == nil && required && s == "" {
			err = fmt.Errorf("input %q is required", key)
		}
		errs = append(errs, err)
		return s
	}
	bl := func(key string, def bool) bool {
		b, err := boolOr(in, key, def)
		errs = append(errs, err)
		return b
	}
	branch := str("branchName", true)
	title := str("title", true)
	description := str("description", false)
	base := str("targetBranchName", false)
	targetPath := str("targetPath", false)
	commitMessage := str("commitMessage", false)
	authorName := str("gitAuthorName", false)
	authorEmail := str("gitAuthorEmail", false)
	draft := bl("draft", false)
	update := bl("update", false)
	forceFork := bl("forceFork", false)
	emptyAuthor := bl("forceEmptyGitAuthor", false)
	createWhenEmpty := bl("createWhenEmpty", true)
	reviewers, err := action.StringListInput(in, "reviewers")
	errs = append(errs, err)
	teamReviewers, err := action.StringListInput(in, "teamReviewers")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !validRef(branch) {
		return fmt.Errorf("input \"branchName\": %q is not a branch name", branch)
	}
	if base != "" && !validRef(base) {
		return fmt.Errorf("input \"targetBranchName\": %q is not a branch name", base)
	}
	if forceFork {
		return errors.New("input \"forceFork\": pull requests from a fork are not supported yet")
	}
	targetPath, err = cleanTargetPath(targetPath)
	if err != nil {
		return err
	}
	dir, err := action.SourceDir(c)
	if err != nil {
		return err
	}
	files, err := collectFiles(dir, targetPath)
	if err != nil {
		return err
	}
	if c.DryRun {
		c.Logf("Performing dry run of creating pull request")
		c.Output("targetBranchName", branch)
		c.Output("remoteUrl", in["repoUrl"])
		c.Output("pullRequestNumber", 43)
		c.Logf("Dry run complete")
		return nil
	}
	if commitMessage == "" {
		commitMessage = title
	}
	var author map[string]any
	if !emptyAuthor && (authorName != "" || authorEmail != "") {
		author = map[string]any{"name": or(authorName, "Scaffolder"), "email": or(authorEmail, "scaffolder@backstage.io")}
	}
	pr, err := a.create(c, t, prRequest{files: files, branch: branch, base: base, title: title, body: description,
		message: commitMessage, author: author, draft: draft, update: update, createWhenEmpty: createWhenEmpty})
	if err != nil {
		return fmt.Errorf("Pull request creation failed: %w", err)
	}
	if pr == nil {
		c.Logf("No changes to commit, pull request was not created")
		return nil
	}
	if len(reviewers) > 0 || len(teamReviewers) > 0 {
		body := map[string]any{}
		if reviewers != nil {
			body["reviewers"] = reviewers
		}
		if teamReviewers != nil {
			body["team_reviewers"] = dedupe(teamReviewers)
		}
		if err := t.c.call(ctxOf(c), http.MethodPost, t.path("pulls", fmt.Sprint(pr.Number), "requested_reviewers"), body, nil); err != nil {
			c.Logf("Failure when adding reviewers to Pull request %d: %v", pr.Number, err)
		} else {
			c.Logf("Added users [%s] and teams [%s] as reviewers to Pull request %d", strings.Join(reviewers, ", "), strings.Join(teamReviewers, ", "), pr.Number)
		}
	}
	c.Output("targetBranchName", pr.Base.Ref)
	c.Output("remoteUrl", pr.HTMLURL)
	c.Output("pullRequestNumber", pr.Number)
	return nil
}

type prRequest struct {
	files                     []prFile
	branch, base, title, body string
	message                   string
	author                    map[string]any
	draft, update             bool
	createWhenEmpty           bool
}

type pullRequest struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Base    struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

type shaOnly struct {
	SHA string `json:"sha"`
}

// create makes the branch's commit and opens the pull request; nil when
// there was nothing to change and createWhenEmpty is false.
func (a pullRequestAction) create(c *action.Context, t *target, r prRequest) (*pullRequest, error) {
	ctx := ctxOf(c)
	if r.base == "" {
		var repo repository
		if err := t.c.get(ctx, t.path(), &repo); err != nil {
			return nil, fmt.Errorf("looking up %s: %w", t.slug(), err)
		}
		if !validRef(repo.DefaultBranch) {
			return nil, fmt.Errorf("%s has no default branch", t.slug())
		}
		r.base = repo.DefaultBranch
	}
	var ref struct {
		Object shaOnly `json:"object"`
	}
	if err := t.c.get(ctx, t.path("git", "ref", "heads")+"/"+escPath(r.base), &ref); err != nil {
		return nil, fmt.Errorf("reading the branch %s: %w", r.base, err)
	}
	var parent struct {
		Tree shaOnly `json:"tree"`
	}
	if err := t.c.get(ctx, t.path("git", "commits", ref.Object.SHA), &parent); err != nil {
		return nil, fmt.Errorf("reading the commit %s: %w", ref.Object.SHA, err)
	}
	entries := make([]map[string]any, 0, len(r.files))
	for _, f := range r.files {
		blob := map[string]any{"content": base64.StdEncoding.EncodeToString(f.content), "encoding": "base64"}
		if f.mode == "120000" {
			blob = map[string]any{"content": string(f.content), "encoding": "utf-8"}
		}
		var b shaOnly
		if err := t.c.call(ctx, http.MethodPost, t.path("git", "blobs"), blob, &b); err != nil {
			return nil, fmt.Errorf("uploading %s: %w", f.path, err)
		}
		entries = append(entries, map[string]any{"path": f.path, "mode": f.mode, "type": "blob", "sha": b.SHA})
	}
	var tree shaOnly
	if err := t.c.call(ctx, http.MethodPost, t.path("git", "trees"), map[string]any{"base_tree": parent.Tree.SHA, "tree": entries}, &tree); err != nil {
		return nil, fmt.Errorf("creating the tree: %w", err)
	}
	if tree.SHA == parent.Tree.SHA && !r.createWhenEmpty {
		return nil, nil
	}
	commitBody := map[string]any{"message": r.message, "tree": tree.SHA, "parents": []string{ref.Object.SHA}}
	if r.author != nil {
		commitBody["author"] = r.author
	}
	var commit shaOnly
	if err := t.c.call(ctx, http.MethodPost, t.path("git", "commits"), commitBody, &commit); err != nil {
		return nil, fmt.Errorf("creating the commit: %w", err)
	}
	err := t.c.call(ctx, http.MethodPost, t.path("git", "refs"), map[string]any{"ref": "refs/heads/" + r.branch, "sha": commit.SHA}, nil)
	if statusOf(err) == http.StatusUnprocessableEntity {
		if !r.update {
			return nil, fmt.Errorf("the branch %s already exists in %s (set update to replace it)", r.branch, t.slug())
		}
		err = t.c.call(ctx, http.MethodPatch, t.path("git", "refs", "heads")+"/"+escPath(r.branch), map[string]any{"sha": commit.SHA, "force": true}, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the branch %s: %w", r.branch, err)
	}
	var pr pullRequest
	err = t.c.call(ctx, http.MethodPost, t.path("pulls"), map[string]any{
		"title": r.title, "head": r.branch, "base": r.base, "body": r.body, "draft": r.draft}, &pr)
	if statusOf(err) == http.StatusUnprocessableEntity && r.update {
		var open []pullRequest
		q := "?state=open&head=" + url.QueryEscape(t.repo.Owner+":"+r.branch)
		if e := t.c.get(ctx, t.path("pulls")+q, &open); e == nil && len(open) > 0 {
			err = t.c.call(ctx, http.MethodPatch, t.path("pulls", fmt.Sprint(open[0].Number)), map[string]any{"title": r.title, "body": r.body}, &pr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening the pull request: %w", err)
	}
	return &pr, nil
}

func cleanTargetPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || hasDotDot(p) {
		return "", fmt.Errorf("input \"targetPath\": %q must be a relative path inside the repository", p)
	}
	return cleanSlash(p), nil
}

// collectFiles reads the directory's files (not .git) with their git
// modes. Symbolic links become links (their target text), never followed.
func collectFiles(dir, targetPath string) ([]prFile, error) {
	var out []prFile
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if targetPath != "" {
			rel = path.Join(targetPath, rel)
		}
		if len(out) >= maxPRFiles {
			return fmt.Errorf("the pull request would hold more than %d files", maxPRFiles)
		}
		f := prFile{path: rel, mode: "100644"}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			f.mode, f.content = "120000", []byte(link)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if total += info.Size(); total > maxPRBytes {
				return fmt.Errorf("the pull request's files are larger than %d bytes", maxPRBytes)
			}
			if f.content, err = os.ReadFile(p); err != nil {
				return err
			}
			if info.Mode()&0o111 != 0 {
				f.mode = "100755"
			}
		default:
			return nil
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the workspace: %w", err)
	}
	return out, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dedupe(l []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
