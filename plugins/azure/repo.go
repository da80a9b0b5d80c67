package azure

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// cloneAction is the community module's azure:repo:clone: a shallow clone
// of one branch into a directory of the workspace, its origin set to the
// remote URL, for azure:repo:push to commit on.
type cloneAction struct{ p *Plugin }

func (cloneAction) ID() string { return "azure:repo:clone" }
func (cloneAction) Description() string {
	return "Clone an Azure repository into the workspace directory."
}

func (cloneAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema([]string{"remoteUrl"}, map[string]any{
		"remoteUrl":  sString("Remote URL", "The Git URL to the repository."),
		"branch":     sString("Repository Branch", "The branch to checkout to."),
		"targetPath": sString("Working Subdirectory", "The subdirectory of the working directory to clone the repository into."),
		"server":     serverSchema(),
		"token":      tokenSchema(),
	})
	return in, action.ObjectSchema(nil, map[string]any{})
}

func (a cloneAction) Run(c *action.Context) error {
	raw, err := requireString(c.Input, "remoteUrl")
	if err != nil {
		return err
	}
	branch, err := strDefault(c.Input, "branch", "main")
	if err != nil {
		return err
	}
	if !validBranch(branch) {
		return fmt.Errorf("invalid branch %q", branch)
	}
	target, err := strDefault(c.Input, "targetPath", "./")
	if err != nil {
		return err
	}
	// server is read for its type only: as in the community module, the
	// host is the remote URL's
	if _, err := action.StringInput(c.Input, "server"); err != nil {
		return err
	}
	rem, err := a.p.parseRemote("remoteUrl", raw)
	if err != nil {
		return err
	}
	token, err := tokenFor(c, rem.in, rem.org)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("No token credentials provided for Azure repository %s", rem.url)
	}
	rel := filepath.Clean(filepath.FromSlash(target))
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("targetPath %q must be a relative path inside the workspace", target)
	}
	if c.Workspace == "" {
		return fmt.Errorf("no workspace to clone into")
	}
	root, err := os.OpenRoot(c.Workspace)
	if err != nil {
		return err
	}
	defer root.Close()
	// Root refuses a path that leaves the workspace, through ".." or a
	// symbolic link, on every step.
	if err := root.MkdirAll(rel, 0o755); err != nil {
		return fmt.Errorf("targetPath %q: %w", target, cleanRootErr(err))
	}

	// git clone wants an empty directory; the target may already hold
	// files of earlier steps, so the clone is made beside it (in the
	// workspace, for a rename) and moved in entry by entry.
	tmp, err := os.MkdirTemp(c.Workspace, ".azure-clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	c.Logf("Cloning %s (branch %s) into %s", rem.url, branch, target)
	err = a.p.runGit(c, rem, token, tmp, "clone", "-q", "--depth", "1", "--branch", branch, "--single-branch", "--", rem.url, tmp)
	a.p.recordPush(rem.in, "clone", err)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	tmpRel := filepath.Base(tmp)
	for _, e := range entries {
		to := filepath.Join(rel, e.Name())
		if _, err := root.Lstat(to); err == nil {
			return fmt.Errorf("targetPath %q already holds %s, which the clone also has", target, e.Name())
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("targetPath %q: %w", target, cleanRootErr(err))
		}
		if err := root.Rename(filepath.Join(tmpRel, e.Name()), to); err != nil {
			return fmt.Errorf("targetPath %q: %w", target, cleanRootErr(err))
		}
	}
	return nil
}

// cleanRootErr drops the absolute workspace path os.Root's errors hold.
func cleanRootErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %v", le.Op, le.Err)
	}
	return err
}

// runGit runs git for a remote with the token as an Authorization header
// in git's environment (never argv nor the URL), no system or global
// configuration, no prompts, and only the remote's protocol allowed.
func (p *Plugin) runGit(c *action.Context, rem remote, token, dir string, args ...string) error {
	home, err := os.MkdirTemp("", "greenroom-azure-git-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	u, _ := url.Parse(rem.url)
	header := basicAuth(token)
	addSecret(c, "\x00azure git header", header)
	env := []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false", "LC_ALL=C",
		"GIT_ALLOW_PROTOCOL=" + u.Scheme,
		// no repository above the scratch directory is ever discovered
		"GIT_CEILING_DIRECTORIES=" + filepath.Dir(home),
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: " + header,
	}
	cmd := exec.CommandContext(ctxOf(c), p.gitPath, args...)
	cmd.Dir = home
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		// git names the temporary directory it cloned into; the
		// workspace path means nothing to the template's author
		msg = strings.ReplaceAll(msg, dir, "<target>")
		if strings.Contains(msg, "askpass") || strings.Contains(msg, "Authentication failed") {
			msg = "the token was not accepted: " + msg
		}
		return fmt.Errorf("git %s %s: %v: %s", args[0], rem.url, err, c.Mask(msg))
	}
	return nil
}

// pushAction is the community module's azure:repo:push: commit the
// directory a clone made (sourcePath) as a new commit on top of the
// cloned branch and push it to branch, by default "scaffolder".
type pushAction struct{ p *Plugin }

func (pushAction) ID() string { return "azure:repo:push" }
func (pushAction) Description() string {
	return "Push the content in the workspace to a remote Azure repository."
}

func (pushAction) Schema() (map[string]any, map[string]any) {
	in := action.ObjectSchema(nil, map[string]any{
		"branch":           sString("Repository Branch", "The branch to checkout to."),
		"sourcePath":       sString("Working Subdirectory", "The subdirectory of the working directory containing the repository."),
		"gitCommitMessage": sString("Git Commit Message", "Sets the commit message on the repository. The default value is 'Initial commit'"),
		"gitAuthorName":    sString("Default Author Name", "Sets the default author name for the commit. The default value is 'Scaffolder'."),
		"gitAuthorEmail":   sString("Default Author Email", "Sets the default author email for the commit."),
		"remoteUrl":        sString("Remote URL", "The Git URL to the repository (older versions of the action; default: the clone's origin)."),
		"token":            tokenSchema(),
	})
	return in, action.ObjectSchema(nil, map[string]any{})
}

func (a pushAction) Run(c *action.Context) error {
	in := c.Input
	branch, err := strDefault(in, "branch", "scaffolder")
	if err != nil {
		return err
	}
	if !validBranch(branch) {
		return fmt.Errorf("invalid branch %q", branch)
	}
	msg, err := strDefault(in, "gitCommitMessage", a.p.commitMessage)
	if err != nil {
		return err
	}
	if msg == "" {
		msg = "Initial commit"
	}
	authorName, err := strDefault(in, "gitAuthorName", a.p.authorName)
	if err != nil {
		return err
	}
	authorEmail, err := strDefault(in, "gitAuthorEmail", a.p.authorEmail)
	if err != nil {
		return err
	}
	remoteInput, err := action.StringInput(in, "remoteUrl")
	if err != nil {
		return err
	}
	src, err := action.SourceDir(c)
	if err != nil {
		return err
	}
	origin, current, err := a.p.cloneInfo(c, src)
	if err != nil {
		return err
	}
	raw, field := origin, "the origin of sourcePath"
	if remoteInput != "" {
		raw, field = remoteInput, "remoteUrl"
	}
	if raw == "" {
		return fmt.Errorf("sourcePath has no origin remote; clone it with azure:repo:clone or pass remoteUrl")
	}
	rem, err := a.p.parseRemote(field, raw)
	if err != nil {
		return err
	}
	token, err := tokenFor(c, rem.in, rem.org)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("No token credentials provided for %s", rem.url)
	}
	shown := "the workspace"
	if rel, err := filepath.Rel(c.Workspace, src); err == nil && rel != "." {
		shown = filepath.ToSlash(rel)
	}
	c.Logf("Pushing %s onto %s as branch %s of %s", shown, current, branch, rem.url)
	// PushDir commits with its own git directory: the clone's .git is
	// the workspace's, which earlier steps could have written (hooks,
	// core.fsmonitor), so git never runs inside it.
	_, err = action.PushDir(c, action.Push{
		Dir: src, RemoteURL: rem.url, Branch: branch, FetchBranch: current, Message: msg,
		AuthorName: authorName, AuthorEmail: authorEmail,
		Username: "not-empty", Password: token, GitPath: a.p.gitPath,
	})
	a.p.recordPush(rem.in, "push", err)
	return err
}

// cloneInfo reads a clone's origin URL and its checked-out branch without
// running git in it: HEAD is read as a file and the configuration with
// git config --file, which parses and never executes (includes are off
// for a file given that way).
func (p *Plugin) cloneInfo(c *action.Context, dir string) (origin, branch string, err error) {
	gitDir := filepath.Join(dir, ".git")
	fi, err := os.Lstat(gitDir)
	if err != nil || !fi.IsDir() {
		return "", "", fmt.Errorf("sourcePath is not a clone (no .git directory); clone it with azure:repo:clone first")
	}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return "", "", fmt.Errorf("sourcePath's .git has no HEAD")
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: refs/heads/")
	if !ok || !validBranch(ref) {
		return "", "", fmt.Errorf("sourcePath's HEAD is not on a branch")
	}
	cfg := filepath.Join(gitDir, "config")
	if fi, err := os.Lstat(cfg); err != nil || !fi.Mode().IsRegular() {
		return "", ref, nil
	}
	scratch, err := os.MkdirTemp("", "greenroom-azure-config-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(scratch)
	cmd := exec.CommandContext(ctxOf(c), p.gitPath, "config", "--file", cfg, "--get", "remote.origin.url")
	cmd.Dir = scratch
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + scratch, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_CEILING_DIRECTORIES=" + filepath.Dir(scratch), "LC_ALL=C"}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 { // no such key
		return "", ref, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("reading sourcePath's .git/config: %v", err)
	}
	return strings.TrimSpace(string(out)), ref, nil
}
