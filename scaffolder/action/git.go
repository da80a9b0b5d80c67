package action

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ---- publish:git

type publishGit struct{ o BuiltinOptions }

func (publishGit) ID() string { return "publish:git" }
func (publishGit) Description() string {
	return "Initializes a git repository of the content in the workspace, and publishes it to a git remote: a local bare repository or an allowed https host."
}
func (publishGit) Schema() (map[string]any, map[string]any) {
	return schemaObj([]string{"repoUrl"}, map[string]any{
			"repoUrl":          sType("string", "Repository Location", "A local bare repository (path or file:// URL), an https URL of an allowed host, or \"<host>?owner=<o>&repo=<r>\""),
			"defaultBranch":    sType("string", "Default Branch", "Sets the default branch on the repository. The default value is 'main'"),
			"gitCommitMessage": sType("string", "Git Commit Message", "Sets the commit message on the repository. The default value is 'initial commit'"),
			"gitAuthorName":    sType("string", "Default Author Name", "Sets the default author name for the commit. The default value is 'Scaffolder'"),
			"gitAuthorEmail":   sType("string", "Default Author Email", "Sets the default author email for the commit."),
			"sourcePath":       sType("string", "Source Path", "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."),
			"token":            sType("string", "Authentication Token", "The token to use for authorization to an https remote"),
		}), schemaObj(nil, map[string]any{
			"remoteUrl":       sType("string", "A URL to the repository with the provider", ""),
			"repoContentsUrl": sType("string", "A URL to the root of the repository", "\"<repo>/blob/<branch>/\""),
			"commitHash":      sType("string", "The git commit hash of the initial commit", ""),
		})
}

var branchRe = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// repoSegRe is one segment of an owner/repo path: what hosted git services
// allow, and nothing a file system or git argument would read specially.
var repoSegRe = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*$`)

type remote struct {
	url      string // what git pushes to
	local    bool
	contents string // base of repoContentsUrl (without /blob/...)
	create   string // a bare repository to create before pushing (LocalGitHosts)
}

func (a publishGit) resolveRemote(repoURL string) (remote, error) {
	if repoURL == "" {
		return remote{}, fmt.Errorf("input \"repoUrl\" is required")
	}
	if strings.HasPrefix(repoURL, "-") {
		return remote{}, fmt.Errorf("invalid repoUrl %q", repoURL)
	}
	var localPath string
	switch {
	case strings.HasPrefix(repoURL, "file://"):
		u, err := url.Parse(repoURL)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return remote{}, fmt.Errorf("invalid file repoUrl %q", repoURL)
		}
		localPath = u.Path
	case filepath.IsAbs(repoURL):
		localPath = repoURL
	}
	if localPath != "" {
		localPath = filepath.Clean(localPath)
		real, err := filepath.EvalSymlinks(localPath)
		if err != nil {
			return remote{}, fmt.Errorf("repoUrl %q: %w", repoURL, err)
		}
		ok := false
		for _, root := range a.o.LocalGitRoots {
			if rr, err := filepath.EvalSymlinks(root); err == nil && inside(rr, real) && rr != real {
				ok = true
			}
		}
		if !ok {
			return remote{}, fmt.Errorf("repoUrl %q: local repositories outside the configured roots are not allowed", repoURL)
		}
		if fi, err := os.Stat(filepath.Join(real, "HEAD")); err != nil || !fi.Mode().IsRegular() {
			return remote{}, fmt.Errorf("repoUrl %q is not a bare git repository", repoURL)
		}
		u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(real)}).String()
		return remote{url: u, local: true, contents: u}, nil
	}
	var host, p string
	if strings.HasPrefix(repoURL, "https://") {
		u, err := url.Parse(repoURL)
		if err != nil || u.User != nil || u.Host == "" {
			return remote{}, fmt.Errorf("invalid repoUrl %q", repoURL)
		}
		host, p = u.Host, strings.Trim(u.Path, "/")
	} else if h, q, ok := strings.Cut(repoURL, "?"); ok && !strings.Contains(h, "/") {
		vals, err := url.ParseQuery(q)
		if err != nil {
			return remote{}, fmt.Errorf("invalid repoUrl %q: %w", repoURL, err)
		}
		owner := vals.Get("owner")
		if owner == "" {
			owner = vals.Get("organization")
		}
		repo := vals.Get("repo")
		if owner == "" || repo == "" {
			return remote{}, fmt.Errorf("invalid repoUrl %q: missing owner or repo", repoURL)
		}
		host, p = h, owner+"/"+repo
	} else {
		return remote{}, fmt.Errorf("unsupported repoUrl %q: use a local bare repository, an https URL or <host>?owner=<o>&repo=<r>", repoURL)
	}
	for _, seg := range strings.Split(p, "/") {
		if !repoSegRe.MatchString(seg) || seg == "." || seg == ".." {
			return remote{}, fmt.Errorf("invalid repository path in repoUrl %q", repoURL)
		}
	}
	for h, dir := range a.o.LocalGitHosts {
		if !strings.EqualFold(h, host) {
			continue
		}
		bare := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(p, ".git"))+".git")
		u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(bare)}).String()
		return remote{url: u, local: true, contents: u, create: bare}, nil
	}
	allowed := false
	for _, h := range a.o.AllowedGitHosts {
		if strings.EqualFold(h, host) {
			allowed = true
		}
	}
	if !allowed {
		return remote{}, fmt.Errorf("repoUrl host %q is not in the allowed git hosts", host)
	}
	base := "https://" + host + "/" + strings.TrimSuffix(p, ".git")
	return remote{url: base + ".git", contents: base}, nil
}

func (a publishGit) Run(c *Context) error {
	repoURL, err := inStr(c.Input, "repoUrl")
	if err != nil {
		return err
	}
	branch, _ := inStr(c.Input, "defaultBranch")
	if branch == "" {
		branch = "main"
	}
	if !branchRe.MatchString(branch) || strings.HasPrefix(branch, "-") || strings.Contains(branch, "..") {
		return fmt.Errorf("invalid defaultBranch %q", branch)
	}
	msg, _ := inStr(c.Input, "gitCommitMessage")
	if msg == "" {
		msg = "initial commit"
	}
	name, _ := inStr(c.Input, "gitAuthorName")
	if name == "" {
		name = a.o.GitAuthorName
	}
	if name == "" {
		name = "Scaffolder"
	}
	email, _ := inStr(c.Input, "gitAuthorEmail")
	if email == "" {
		email = a.o.GitAuthorEmail
	}
	if email == "" {
		email = "scaffolder@backstage.io"
	}
	token, _ := inStr(c.Input, "token")
	srcRel, _ := inStr(c.Input, "sourcePath")
	src, err := within(c.Workspace, srcRel, true)
	if err != nil {
		return fmt.Errorf("sourcePath: %w", err)
	}
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		return fmt.Errorf("sourcePath %q is not a directory", srcRel)
	}
	rem, err := a.resolveRemote(repoURL)
	if err != nil {
		return err
	}
	contents := rem.contents + "/blob/" + branch + "/"
	if c.DryRun {
		c.Logf("Would publish %s to %s (dry run)", srcRel, rem.url)
		c.out("remoteUrl", rem.url)
		c.out("repoContentsUrl", contents)
		return nil
	}
	if rem.create != "" {
		if err := initBare(c, a.gitBin(), rem.create); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "greenroom-publish-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	home := filepath.Join(tmp, "home")
	gitDir := filepath.Join(tmp, "repo.git")
	if err := os.Mkdir(home, 0o700); err != nil {
		return err
	}
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=/bin/false",
		"GIT_AUTHOR_NAME=" + name,
		"GIT_AUTHOR_EMAIL=" + email,
		"GIT_COMMITTER_NAME=" + name,
		"GIT_COMMITTER_EMAIL=" + email,
		"LC_ALL=C",
	}
	if rem.local {
		env = append(env, "GIT_ALLOW_PROTOCOL=file")
	} else {
		env = append(env, "GIT_ALLOW_PROTOCOL=https")
		if token != "" {
			// through the environment, not argv, so it stays out of ps
			auth := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
			env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader",
				"GIT_CONFIG_VALUE_0=Authorization: Basic "+auth)
			sec := map[string]string{"publish:git token": token, "publish:git auth": auth}
			for k, v := range c.Secrets {
				sec[k] = v
			}
			c.Secrets = sec // a copy: the caller's map is left alone
		}
	}
	gitBin := a.gitBin()
	git := func(args ...string) (string, error) {
		full := append([]string{"--git-dir=" + gitDir, "--work-tree=" + src}, args...)
		cmd := exec.CommandContext(c.ctx(), gitBin, full...)
		cmd.Dir = src
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, c.Mask(strings.TrimSpace(errb.String())))
		}
		return strings.TrimSpace(out.String()), nil
	}
	c.Logf("Initializing a git repository of %s", displayPath(srcRel))
	if _, err := git("init", "-q", "--initial-branch="+branch); err != nil {
		return err
	}
	if _, err := git("add", "--all"); err != nil {
		return err
	}
	if _, err := git("commit", "-q", "--allow-empty", "--no-verify", "-m", msg); err != nil {
		return err
	}
	hash, err := git("rev-parse", "HEAD")
	if err != nil {
		return err
	}
	c.Logf("Pushing to %s (branch %s)", rem.url, branch)
	if _, err := git("push", "-q", rem.url, "HEAD:refs/heads/"+branch); err != nil {
		return err
	}
	if rem.local {
		// a fresh bare repository's HEAD names "master"; point it at the
		// pushed branch so clones check it out
		u, _ := url.Parse(rem.url)
		bare := filepath.FromSlash(u.Path)
		cmd := exec.CommandContext(c.ctx(), gitBin, "--git-dir="+bare, "rev-parse", "--verify", "-q", "HEAD")
		cmd.Env = env
		if cmd.Run() != nil {
			cmd = exec.CommandContext(c.ctx(), gitBin, "--git-dir="+bare, "symbolic-ref", "HEAD", "refs/heads/"+branch)
			cmd.Env = env
			_ = cmd.Run()
		}
	}
	c.out("remoteUrl", rem.url)
	c.out("repoContentsUrl", contents)
	c.out("commitHash", hash)
	return nil
}

func displayPath(p string) string {
	if p == "" || p == "." {
		return "the workspace"
	}
	return p
}

func (a publishGit) gitBin() string {
	if a.o.GitPath != "" {
		return a.o.GitPath
	}
	return "git"
}

// initBare creates the bare repository of a LocalGitHosts remote unless it
// exists. An existing non-repository directory is refused rather than
// written into.
func initBare(c *Context, gitBin, dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if hf, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !hf.Mode().IsRegular() || !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a bare git repository", dir)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create repository: %w", err)
	}
	c.Logf("Creating the repository %s", filepath.Base(dir))
	cmd := exec.CommandContext(c.ctx(), gitBin, "init", "-q", "--bare", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "HOME=" + os.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git init --bare: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
