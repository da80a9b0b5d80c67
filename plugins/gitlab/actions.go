package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// Actions implements plugins.ActionProvider with Backstage's
// scaffolder-backend-module-gitlab actions, their input names, defaults
// and outputs.
func (p *Plugin) Actions() []action.Action {
	return []action.Action{
		publishAction{p},
		mergeRequestAction{p},
		repoPushAction{p},
		pipelineTriggerAction{p},
		projectVariableAction{p},
		accessTokenAction{p},
		groupEnsureExistsAction{p},
	}
}

// Secret names under which an action's credentials are added to its
// context's masks; the NUL keeps them apart from template secrets.
const (
	secretToken       = "\x00gitlab token"
	secretIntegration = "\x00gitlab integration token"
)

// addSecret masks v in c's logs and errors; c.Secrets is copied, never
// changed in place, because the caller owns the map.
func addSecret(c *action.Context, name, v string) {
	if v == "" {
		return
	}
	m := make(map[string]string, len(c.Secrets)+1)
	for k, s := range c.Secrets {
		m[k] = s
	}
	m[name] = v
	c.Secrets = m
}

// actionClient is Backstage's getClient: the integration of the host, with
// the token input (sent as a Bearer token) or else the integration's.
func (p *Plugin) actionClient(c *action.Context, host string) (*client, *integration, error) {
	in := p.integration(host)
	if in == nil {
		return nil, nil, fmt.Errorf("No matching integration configuration for host %s, please check your integrations config", host)
	}
	tok, err := action.StringInput(c.Input, "token")
	if err != nil {
		return nil, nil, err
	}
	addSecret(c, secretIntegration, in.token)
	cl := p.client(in)
	if tok != "" {
		cl.token, cl.bearer = tok, true
		addSecret(c, secretToken, tok)
	}
	if cl.token == "" {
		return nil, nil, fmt.Errorf("No token available for host %s", host)
	}
	return cl, in, nil
}

// hostOf parses a repoUrl for its host only (the actions that take a
// projectId).
func hostOf(repoURL string) (string, error) {
	if repoURL == "" {
		return "", fmt.Errorf("input %q is required", "repoUrl")
	}
	r, err := action.ParseRepoURL(repoURL)
	if err != nil {
		return "", err
	}
	return r.Host, nil
}

var digitsRe = regexp.MustCompile(`^[0-9]+$`)

// repoOf returns a repoUrl's host and the project it names: its project
// parameter (an ID or a path) when given, else owner/repo.
func repoOf(repoURL string) (host, id string, err error) {
	if repoURL == "" {
		return "", "", fmt.Errorf("input %q is required", "repoUrl")
	}
	r, err := action.ParseRepoURL(repoURL)
	if err != nil {
		return "", "", err
	}
	if r.Project != "" {
		if !digitsRe.MatchString(r.Project) && checkProjectPath(r.Project) != nil {
			return "", "", fmt.Errorf("Invalid repo URL passed to publisher: %s: %q is not a project ID or path", repoURL, r.Project)
		}
		return r.Host, r.Project, nil
	}
	if r, err = action.ParseRepoURL(repoURL, "owner", "repo"); err != nil {
		return "", "", err
	}
	id = r.Owner + "/" + r.Repo
	if err := checkProjectPath(id); err != nil {
		return "", "", fmt.Errorf("Invalid repo URL passed to publisher: %s: %v", repoURL, err)
	}
	return r.Host, id, nil
}

// projectIDInput reads a projectId input, a number or a string.
func projectIDInput(in map[string]any, key string) (string, error) {
	switch v := in[key].(type) {
	case float64:
		if v != float64(int64(v)) || v <= 0 {
			return "", fmt.Errorf("input %q must be a positive integer, got %v", key, v)
		}
		return strconv.FormatInt(int64(v), 10), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case json.Number:
		return projectIDInput(map[string]any{key: mustFloat(v)}, key)
	case string:
		if v == "" {
			break
		}
		if !digitsRe.MatchString(v) && checkProjectPath(v) != nil {
			return "", fmt.Errorf("input %q: %q is not a project ID or path", key, v)
		}
		return v, nil
	case nil:
	default:
		return "", fmt.Errorf("input %q must be a number or a string, got %T", key, v)
	}
	return "", fmt.Errorf("input %q is required", key)
}

func mustFloat(n json.Number) float64 { f, _ := n.Float64(); return f }

// decodeInput reads a structured input (a list of objects, a record)
// through JSON into out; an absent input leaves out alone.
func decodeInput(in map[string]any, key string, out any) error {
	v, ok := in[key]
	if !ok || v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("input %q: %v", key, err)
	}
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("input %q has the wrong shape: %v", key, err)
	}
	return nil
}

func requireString(in map[string]any, key string) (string, error) {
	s, err := action.StringInput(in, key)
	if err == nil && s == "" {
		err = fmt.Errorf("input %q is required", key)
	}
	return s, err
}

// wsFile is one file of the workspace to commit.
type wsFile struct {
	path string // slash-separated, relative to the root
	data []byte
	exec bool
}

// Caps on what one commit action sends.
const (
	maxCommitBytes = 100 << 20
	maxCommitFiles = 10000
)

// workspaceFiles lists the regular files under root, as Backstage's
// serializeDirectoryContents does, without .git directories. A symbolic
// link is refused: committing it could publish a file from outside the
// workspace.
func workspaceFiles(root string) ([]wsFile, error) {
	var out []wsFile
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link, which is not committed", rel)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if len(out) >= maxCommitFiles {
			return fmt.Errorf("more than %d files to commit", maxCommitFiles)
		}
		if total += info.Size(); total > maxCommitBytes {
			return fmt.Errorf("more than %d MiB to commit", maxCommitBytes>>20)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, wsFile{path: rel, data: data, exec: info.Mode()&0o111 != 0})
		return nil
	})
	return out, err
}

// dirInput resolves a workspace-relative directory input through
// action.SourceDir, which confines it to the workspace.
func dirInput(c *action.Context, rel string) (string, error) {
	cc := *c
	cc.Input = map[string]any{"sourcePath": rel}
	return action.SourceDir(&cc)
}

var varKeyRe = regexp.MustCompile(`^[A-Za-z0-9_]{1,255}$`)

func output(c *action.Context, name string, v any) {
	if c.Output != nil {
		c.Output(name, v)
	}
}

func ctxOf(c *action.Context) context.Context {
	if c.Ctx == nil {
		return context.Background()
	}
	return c.Ctx
}

// Schema helpers.

func sString(title, desc string, enum ...string) map[string]any {
	s := action.TypeSchema("string", title, desc)
	if len(enum) > 0 {
		e := make([]any, len(enum))
		for i, v := range enum {
			e[i] = v
		}
		s["enum"] = e
	}
	return s
}

func sBool(title, desc string) map[string]any   { return action.TypeSchema("boolean", title, desc) }
func sNumber(title, desc string) map[string]any { return action.TypeSchema("number", title, desc) }

const repoURLDesc = "Accepts the format 'gitlab.com?repo=project_name&owner=group_name' where 'project_name' is the repository name and 'group_name' is a group or username"

func repoURLSchema() map[string]any { return sString("Repository Location", repoURLDesc) }
func tokenSchema() map[string]any {
	return sString("Authentication Token", "The token to use for authorization to GitLab")
}

// trimGit strips ".git" from a clone URL, as Backstage's remoteUrl does.
func trimGit(s string) string { return strings.TrimSuffix(s, ".git") }
