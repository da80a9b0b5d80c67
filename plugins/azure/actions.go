package azure

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// Actions implements plugins.ActionProvider: Backstage's publish:azure and
// the community module's azure:repo:* actions, with their input names,
// defaults and outputs. None runs in a dry run (neither Backstage nor the
// community module marks them dry-run capable).
func (p *Plugin) Actions() []action.Action {
	return []action.Action{
		publishAction{p},
		cloneAction{p},
		pushAction{p},
		pullRequestAction{p},
	}
}

// Secret names under which an action's credentials join its context's
// masks; the NUL keeps them apart from template secrets.
const (
	secretToken       = "\x00azure token"
	secretIntegration = "\x00azure integration token"
)

// addSecret masks v in c's logs and errors; c.Secrets is copied, never
// changed in place, because the caller owns the map.
func addSecret(c *action.Context, name, v string) {
	if v == "" {
		return
	}
	m := make(map[string]string, len(c.Secrets)+2)
	for k, s := range c.Secrets {
		m[k] = s
	}
	m[name] = v
	m[name+" basic"] = strings.TrimPrefix(basicAuth(v), "Basic ")
	c.Secrets = m
}

// tokenFor is the token an action uses for an organization of an
// integration: its token input, else the integration's credential. Both
// are added to c's masks.
func tokenFor(c *action.Context, in *integration, org string) (string, error) {
	tok, err := action.StringInput(c.Input, "token")
	if err != nil {
		return "", err
	}
	for _, cr := range in.creds {
		addSecret(c, secretIntegration+" "+strings.Join(cr.orgs, ","), cr.pat)
	}
	if tok != "" {
		addSecret(c, secretToken, tok)
		return tok, nil
	}
	return in.token(org), nil
}

// remote is a git remote URL of a configured integration.
type remote struct {
	in  *integration
	url string // without user info
	org string
}

// parseRemote checks a git URL from an input, a repository's origin or an
// API answer: http(s), on a configured integration's base URL, holding no
// password (Azure's own remote URLs carry the organization as a user
// name, "https://org@dev.azure.com/org/p/_git/r", which is dropped).
func (p *Plugin) parseRemote(field, raw string) (remote, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return remote{}, fmt.Errorf("%s is not a valid URL", field)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		// not echoed: the URL holds a credential
		return remote{}, fmt.Errorf("%s must not hold credentials; configure integrations.azure or pass the token input", field)
	}
	u.User = nil
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return remote{}, fmt.Errorf("%s %q must be an http(s) git URL without a query", field, u.String())
	}
	in := p.integrationFor(u)
	if in == nil {
		return remote{}, fmt.Errorf("No matching integration configuration for %s %s, please check your integrations config (integrations.azure host and baseUrl)", field, u.String())
	}
	if !strings.Contains(u.Path, "/_git/") {
		return remote{}, fmt.Errorf("%s %q is not an Azure Repos git URL (…/<project>/_git/<repo>)", field, u.String())
	}
	for _, s := range strings.Split(strings.Trim(u.Path, "/"), "/") {
		if s == "" || s == "." || s == ".." {
			return remote{}, fmt.Errorf("%s %q has an empty, . or .. path segment", field, u.String())
		}
	}
	return remote{in: in, url: u.String(), org: in.orgOf(u)}, nil
}

func requireString(in map[string]any, key string) (string, error) {
	s, err := action.StringInput(in, key)
	if err == nil && s == "" {
		err = fmt.Errorf("input %q is required", key)
	}
	return s, err
}

// strDefault reads a string input, def when absent or empty.
func strDefault(in map[string]any, key, def string) (string, error) {
	s, err := action.StringInput(in, key)
	if s == "" {
		s = def
	}
	return s, err
}

func ctxOf(c *action.Context) context.Context {
	if c.Ctx == nil {
		return context.Background()
	}
	return c.Ctx
}

// recordPush tells the health page whether a git operation with the host
// worked; git's own message is the caller's to read.
func (p *Plugin) recordPush(in *integration, what string, err error) {
	if p.status == nil {
		return
	}
	var st error
	if err != nil {
		st = fmt.Errorf("git %s with %s failed", what, in.host)
	}
	p.status.Record(st)
}

// Schema helpers.

func sString(title, desc string) map[string]any { return action.TypeSchema("string", title, desc) }
func sBool(title, desc string) map[string]any   { return action.TypeSchema("boolean", title, desc) }

func tokenSchema() map[string]any {
	return sString("Authentication Token", "The token to use for authorization.")
}

func serverSchema() map[string]any {
	return sString("Server hostname", "The hostname of the Azure DevOps service. Defaults to dev.azure.com")
}
