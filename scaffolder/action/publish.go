package action

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// This file holds what the git-host plugins' publish actions share with
// publish:git: reading their inputs, parsing Backstage's repoUrl and
// pushing a workspace directory.

// StringInput, BoolInput, NumberInput and StringListInput read rendered
// inputs (JavaScript-like values); an absent or undefined input is the
// zero value, a value of another type an error naming the input.
func StringInput(in map[string]any, key string) (string, error) { return inStr(in, key) }

// BoolInput reads a boolean input.
func BoolInput(in map[string]any, key string) (bool, error) { return inBool(in, key) }

// NumberInput reads a number input; ok is false when it is absent.
func NumberInput(in map[string]any, key string) (float64, bool, error) { return inNum(in, key) }

// StringListInput reads a list of strings.
func StringListInput(in map[string]any, key string) ([]string, error) { return inStrList(in, key) }

// MapInput returns an object input as a map (nil when absent).
func MapInput(in map[string]any, key string) (map[string]any, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := asMap(v)
	if !ok {
		return nil, fmt.Errorf("input %q must be an object, got %T", key, v)
	}
	return m, nil
}

// ObjectSchema and TypeSchema build the JSON Schemas of an action's input
// and output, as Backstage's actions declare them.
func ObjectSchema(required []string, props map[string]any) map[string]any {
	return schemaObj(required, props)
}

// TypeSchema is a property of a type with a title and description.
func TypeSchema(typ, title, desc string) map[string]any { return sType(typ, title, desc) }

// StringArraySchema is a list-of-strings property.
func StringArraySchema(title, desc string) map[string]any { return sStrArray(title, desc) }

// RepoURL is a parsed "<host>?owner=<o>&repo=<r>" as the RepoUrlPicker
// writes it.
type RepoURL struct {
	Host, Owner, Repo, Organization, Workspace, Project string
}

// ParseRepoURL parses a RepoUrlPicker value as Backstage's parseRepoUrl
// does (new URL("https://" + repoUrl), parameters trimmed of "/"); need
// names the parameters the caller's host type requires ("owner", "repo",
// …), each reported as Backstage reports it when missing.
func ParseRepoURL(repoURL string, need ...string) (RepoURL, error) {
	u, err := url.Parse("https://" + repoURL)
	if err != nil || u.Host == "" || strings.HasPrefix(repoURL, "-") {
		return RepoURL{}, fmt.Errorf("Invalid repo URL passed to publisher: %s", repoURL)
	}
	q := u.Query()
	get := func(k string) string { return strings.Trim(q.Get(k), "/") }
	r := RepoURL{Host: u.Host, Owner: get("owner"), Repo: get("repo"), Organization: get("organization"),
		Workspace: get("workspace"), Project: get("project")}
	for _, n := range need {
		v := map[string]string{"owner": r.Owner, "repo": r.Repo, "organization": r.Organization,
			"workspace": r.Workspace, "project": r.Project}[n]
		if v == "" {
			return RepoURL{}, fmt.Errorf("Invalid repo URL passed to publisher: %s, missing %s", repoURL, n)
		}
	}
	for _, seg := range []string{r.Owner, r.Repo, r.Organization, r.Workspace} {
		for _, part := range strings.Split(seg, "/") {
			if seg != "" && (!repoSegRe.MatchString(part) || part == "." || part == "..") {
				return RepoURL{}, fmt.Errorf("Invalid repo URL passed to publisher: %s: %q is not a valid name", repoURL, seg)
			}
		}
	}
	return r, nil
}

// SourceDir resolves an action's sourcePath input inside the workspace
// (the workspace itself when empty).
func SourceDir(c *Context) (string, error) {
	rel, err := inStr(c.Input, "sourcePath")
	if err != nil {
		return "", err
	}
	src, err := within(c.Workspace, rel, true)
	if err != nil {
		return "", fmt.Errorf("sourcePath: %w", err)
	}
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("sourcePath %q is not a directory", rel)
	}
	return src, nil
}

// Push is one push of a directory as a new commit.
type Push struct {
	Dir       string // what to commit (the whole tree)
	RemoteURL string // http(s) or file URL, without credentials
	Branch    string // pushed as refs/heads/<Branch>
	Message   string
	// AuthorName/AuthorEmail default to Scaffolder/scaffolder@backstage.io.
	AuthorName, AuthorEmail string
	// Username and Password authenticate over http(s) through an
	// Authorization header in git's environment (never argv, never the
	// URL, so neither ps nor git's errors show it).
	Username, Password string
	// Bearer, when set, is sent as "Authorization: Bearer <token>" instead.
	Bearer string
	// FetchBranch, when set, is fetched first and becomes the new
	// commit's parent (a branch for a pull request); Dir is then the
	// whole new tree, so files Dir lacks are deleted by the commit.
	FetchBranch string
	// Force pushes even when the remote branch moved (a new repository's
	// auto-initialised branch).
	Force   bool
	GitPath string
}

// PushDir commits p.Dir and pushes it; it returns the commit hash. Secrets
// (the password, the header) are added to c's masks for its errors.
func PushDir(c *Context, p Push) (string, error) {
	if p.Branch == "" {
		p.Branch = "main"
	}
	if !branchRe.MatchString(p.Branch) || strings.HasPrefix(p.Branch, "-") || strings.Contains(p.Branch, "..") {
		return "", fmt.Errorf("invalid branch %q", p.Branch)
	}
	if p.Message == "" {
		p.Message = "initial commit"
	}
	if p.AuthorName == "" {
		p.AuthorName = "Scaffolder"
	}
	if p.AuthorEmail == "" {
		p.AuthorEmail = "scaffolder@backstage.io"
	}
	u, err := url.Parse(p.RemoteURL)
	if err != nil || u.User != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
		return "", fmt.Errorf("invalid remote URL %q", p.RemoteURL)
	}
	gitBin := p.GitPath
	if gitBin == "" {
		gitBin = "git"
	}
	tmp, err := os.MkdirTemp("", "greenroom-push-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	home := filepath.Join(tmp, "home")
	gitDir := filepath.Join(tmp, "repo.git")
	if err := os.Mkdir(home, 0o700); err != nil {
		return "", err
	}
	env := []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false",
		"GIT_AUTHOR_NAME=" + p.AuthorName, "GIT_AUTHOR_EMAIL=" + p.AuthorEmail,
		"GIT_COMMITTER_NAME=" + p.AuthorName, "GIT_COMMITTER_EMAIL=" + p.AuthorEmail,
		"LC_ALL=C", "GIT_ALLOW_PROTOCOL=" + u.Scheme,
	}
	header := ""
	switch {
	case p.Bearer != "":
		header = "Authorization: Bearer " + p.Bearer
	case p.Password != "":
		header = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password))
	}
	if header != "" {
		env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0="+header)
		sec := map[string]string{"push password": p.Password, "push token": p.Bearer, "push header": header}
		for k, v := range c.Secrets {
			sec[k] = v
		}
		c.Secrets = sec // a copy: the caller's map is left alone
	}
	git := func(args ...string) (string, error) {
		full := append([]string{"--git-dir=" + gitDir, "--work-tree=" + p.Dir}, args...)
		cmd := exec.CommandContext(c.ctx(), gitBin, full...)
		cmd.Dir = p.Dir
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, c.Mask(strings.TrimSpace(errb.String())))
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := git("init", "-q", "--initial-branch="+p.Branch); err != nil {
		return "", err
	}
	if p.FetchBranch != "" {
		if _, err := git("fetch", "-q", "--depth", "1", p.RemoteURL, "refs/heads/"+p.FetchBranch); err != nil {
			return "", err
		}
		// the fetched tip becomes the parent; the index is the directory
		if _, err := git("reset", "-q", "--soft", "FETCH_HEAD"); err != nil {
			return "", err
		}
	}
	if _, err := git("add", "--all"); err != nil {
		return "", err
	}
	if _, err := git("commit", "-q", "--allow-empty", "--no-verify", "-m", p.Message); err != nil {
		return "", err
	}
	hash, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	args := []string{"push", "-q"}
	if p.Force {
		args = append(args, "--force")
	}
	if _, err := git(append(args, p.RemoteURL, "HEAD:refs/heads/"+p.Branch)...); err != nil {
		return "", err
	}
	return hash, nil
}

// SetOutput sets one of the step's outputs (a no-op without an Output
// function, as in some tests).
func (c *Context) SetOutput(name string, v any) { c.out(name, v) }

// WriteWorkspaceFile writes a file at a relative path inside the
// workspace, refusing paths that leave it.
func WriteWorkspaceFile(c *Context, rel string, data []byte) error {
	dst, err := within(c.Workspace, rel, false)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return writeFile(dst, data, 0o644)
}
