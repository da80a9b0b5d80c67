// Package azure is Greenroom's Azure DevOps (Azure Repos) integration, the
// counterpart of Backstage's integrations.azure and
// scaffolder-backend-module-azure (publish:azure), with the widely used
// community actions of @parfuemerie-douglas/scaffolder-backend-module-azure-repositories
// (azure:repo:clone, azure:repo:push, azure:repo:pr), a URL reader and a
// health check.
//
// Only personal access tokens are supported: the REST API gets them as
// "Authorization: Basic base64(':' + PAT)", git as the password of the
// user "not-empty" (Azure ignores the user name), always through a header
// in git's environment, never in argv or a URL. Entra ID credentials
// (clientId/clientSecret/tenantId, managed identities) are refused with a
// message saying so.
//
// Every URL the plugin calls, clones or pushes to is on the scheme and host
// of a configured integration's baseUrl (a Greenroom key, default
// https://<host>), so that a URL from an input or an API answer never
// takes the token elsewhere.
package azure

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
)

// ID is the plugin's ID.
const ID = "git.azure"

const (
	azureHost         = "dev.azure.com"
	defaultAPIVersion = "6.0"
)

// Info describes the plugin for the host.
func Info() plugins.Info {
	return plugins.Info{
		ID:          ID,
		Description: "Azure DevOps: publish:azure and the azure:repo:clone, azure:repo:push and azure:repo:pr actions",
		Keys:        []string{"integrations.azure"},
		New:         New,
	}
}

// Plugin is the enabled Azure DevOps plugin.
type Plugin struct {
	http         *http.Client
	log          *slog.Logger
	status       *plugins.Status
	integrations []*integration
	// defaults from scaffolder.defaultAuthor and
	// scaffolder.defaultCommitMessage, as Backstage's actions read them
	authorName, authorEmail, commitMessage string
	gitPath                                string
}

// ID implements plugins.Plugin.
func (p *Plugin) ID() string { return ID }

// integration is one entry of integrations.azure.
type integration struct {
	host       string   // host[:port] as configured
	baseURL    *url.URL // no trailing slash; its path is a collection prefix (/tfs)
	apiVersion string
	creds      []credential
	// implicit marks the dev.azure.com entry Backstage always adds: it has
	// no credentials, so only a token input makes it usable, and it is
	// not health-checked.
	implicit bool
}

// credential is a personal access token, for some organizations or (no
// organizations) for every other one of the host.
type credential struct {
	orgs []string
	pat  string
}

// base is the base URL without a trailing slash.
func (in *integration) base() string { return strings.TrimSuffix(in.baseURL.String(), "/") }

// token is Backstage's credential lookup for https://<host>/<org>: the
// credential naming the organization, else the one naming none.
func (in *integration) token(org string) string {
	for _, c := range in.creds {
		for _, o := range c.orgs {
			if strings.EqualFold(o, org) {
				return c.pat
			}
		}
	}
	for _, c := range in.creds {
		if len(c.orgs) == 0 {
			return c.pat
		}
	}
	return ""
}

// sameOrigin reports whether u is on the integration's base URL: same
// scheme and host, and under its path.
func (in *integration) sameOrigin(u *url.URL) bool {
	if u == nil || !strings.EqualFold(u.Scheme, in.baseURL.Scheme) || !strings.EqualFold(u.Host, in.baseURL.Host) {
		return false
	}
	prefix := strings.TrimSuffix(in.baseURL.Path, "/")
	return prefix == "" || u.Path == prefix || strings.HasPrefix(u.Path, prefix+"/")
}

// orgOf returns the organization a URL on the integration names: the
// first path segment after the base path, or for a legacy
// <org>.visualstudio.com host its first label.
func (in *integration) orgOf(u *url.URL) string {
	if h := strings.ToLower(u.Hostname()); strings.HasSuffix(h, ".visualstudio.com") {
		return strings.SplitN(h, ".", 2)[0]
	}
	rest := strings.TrimPrefix(u.Path, strings.TrimSuffix(in.baseURL.Path, "/"))
	seg := strings.SplitN(strings.TrimPrefix(rest, "/"), "/", 2)[0]
	if seg, err := url.PathUnescape(seg); err == nil && validOrg(seg) {
		return seg
	}
	return ""
}

type integrationConfig struct {
	Host string `yaml:"host"`
	// BaseURL is Greenroom's: where the host's API and git are served
	// (an on-premises Azure DevOps Server's collection URL such as
	// https://tfs.example.com/tfs, or a test server).
	BaseURL     string             `yaml:"baseUrl"`
	APIVersion  string             `yaml:"apiVersion"`
	Token       string             `yaml:"token"`
	Credential  any                `yaml:"credential"`
	Credentials []credentialConfig `yaml:"credentials"`
	// CommitSigningKey is accepted so a Backstage config decodes;
	// signCommit, which would use it, is refused.
	CommitSigningKey string `yaml:"commitSigningKey"`
}

type credentialConfig struct {
	Organizations           []string `yaml:"organizations"`
	PersonalAccessToken     string   `yaml:"personalAccessToken"`
	ClientID                string   `yaml:"clientId"`
	ClientSecret            string   `yaml:"clientSecret"`
	TenantID                string   `yaml:"tenantId"`
	ManagedIdentityClientID string   `yaml:"managedIdentityClientId"`
}

// New makes the plugin from integrations.azure.
func New(env plugins.Env) (plugins.Plugin, error) {
	p := &Plugin{http: env.HTTP, log: env.Log, status: env.Status, gitPath: "git"}
	if p.http == nil {
		p.http = &http.Client{Timeout: 60 * time.Second}
	}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := env.Config
	if cfg == nil {
		cfg = plugins.NewConfig(nil)
	}
	list, err := plugins.DecodeIntegrations(cfg, "integrations.azure", func(i int, ic integrationConfig) (*integration, string, error) {
		in, err := readIntegration(i, ic)
		if err != nil {
			return nil, "", err
		}
		return in, in.host, nil
	})
	if err != nil {
		return nil, err
	}
	p.integrations = append(p.integrations, list...)
	// As Backstage does, dev.azure.com is always known (here without
	// credentials: only a token input can use it).
	if p.integration(azureHost) == nil {
		base, _ := url.Parse("https://" + azureHost)
		p.integrations = append(p.integrations, &integration{host: azureHost, baseURL: base, apiVersion: defaultAPIVersion, implicit: true})
	}
	str := func(path string) string { s, _ := cfg.Get(path).(string); return s }
	p.authorName = str("scaffolder.defaultAuthor.name")
	p.authorEmail = str("scaffolder.defaultAuthor.email")
	p.commitMessage = str("scaffolder.defaultCommitMessage")
	return p, nil
}

var hostRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
var apiVersionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+(-preview(\.[0-9]+)?)?$`)

func readIntegration(i int, ic integrationConfig) (*integration, error) {
	at := fmt.Sprintf("config integrations.azure[%d]", i)
	host := strings.TrimSpace(ic.Host)
	if host == "" {
		host = azureHost // Backstage's default
	}
	if !hostRe.MatchString(host) {
		return nil, fmt.Errorf("%s: host %q must be a host name with an optional port, not a URL", at, host)
	}
	baseStr := strings.TrimRight(strings.TrimSpace(ic.BaseURL), "/")
	if baseStr == "" {
		baseStr = "https://" + host
	}
	base, err := url.Parse(baseStr)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil ||
		base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("%s: baseUrl %q is not a valid http(s) URL without credentials or query", at, ic.BaseURL)
	}
	apiVersion := strings.TrimSpace(ic.APIVersion)
	if apiVersion == "" {
		apiVersion = defaultAPIVersion
	}
	if !apiVersionRe.MatchString(apiVersion) {
		return nil, fmt.Errorf("%s: apiVersion %q is not an API version such as 6.0 or 7.1-preview.1", at, apiVersion)
	}
	if ic.Credential != nil {
		return nil, fmt.Errorf("%s: 'credential' has been removed from Backstage; use 'credentials' instead", at)
	}
	if ic.Token != "" && ic.Credentials != nil {
		return nil, fmt.Errorf("%s: 'token' and 'credentials' cannot be used together; use 'credentials' instead", at)
	}
	in := &integration{host: host, baseURL: base, apiVersion: apiVersion}
	if t := strings.TrimSpace(ic.Token); t != "" {
		in.creds = append(in.creds, credential{pat: t})
	}
	orgAt := map[string]int{}
	withoutOrgs := 0
	for j, cc := range ic.Credentials {
		cat := fmt.Sprintf("%s: credentials[%d]", at, j)
		pat := strings.TrimSpace(cc.PersonalAccessToken)
		entra := cc.ClientID != "" || cc.ClientSecret != "" || cc.TenantID != "" || cc.ManagedIdentityClientID != ""
		switch {
		case entra:
			return nil, fmt.Errorf("%s: Entra ID credentials (clientId, clientSecret, tenantId, managedIdentityClientId) are not supported yet; use a personalAccessToken", cat)
		case pat == "":
			return nil, fmt.Errorf("%s: personalAccessToken is required", cat)
		}
		for _, o := range cc.Organizations {
			if !validOrg(o) {
				return nil, fmt.Errorf("%s: organization %q is not a valid organization name", cat, o)
			}
			k := strings.ToLower(o)
			if prev, ok := orgAt[k]; ok {
				return nil, fmt.Errorf("%s: organization %s is also in credentials[%d]", cat, o, prev)
			}
			orgAt[k] = j
		}
		if len(cc.Organizations) == 0 {
			if withoutOrgs++; withoutOrgs > 1 {
				return nil, fmt.Errorf("%s: only one credential may have no organizations", cat)
			}
		}
		in.creds = append(in.creds, credential{orgs: cc.Organizations, pat: pat})
	}
	return in, nil
}

// integration returns the integration of a host (host[:port]), or nil.
func (p *Plugin) integration(host string) *integration {
	for _, in := range p.integrations {
		if strings.EqualFold(in.host, host) {
			return in
		}
	}
	return nil
}

// integrationFor returns the integration whose base URL u is on.
func (p *Plugin) integrationFor(u *url.URL) *integration {
	for _, in := range p.integrations {
		if in.sameOrigin(u) {
			return in
		}
	}
	return nil
}

// orgRe is an Azure DevOps organization name: letters, digits and
// hyphens (dots and underscores are accepted for Azure DevOps Server
// collections).
var orgRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func validOrg(s string) bool {
	return len(s) <= 100 && orgRe.MatchString(s) && !strings.HasSuffix(s, ".")
}

// validName checks a project or repository name (or a repository ID), each
// one path segment: Azure allows spaces and most punctuation, but not
// these characters, nor a leading dot or underscore.
func validName(s string) bool {
	if s == "" || len(s) > 256 || s == "." || s == ".." || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "_") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`\/:*?"<>|;#$%{},+=[]&`, r) {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

var branchRe = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

func validBranch(b string) bool {
	return branchRe.MatchString(b) && !strings.HasPrefix(b, "-") && !strings.Contains(b, "..") &&
		!strings.HasPrefix(b, "/") && !strings.HasSuffix(b, "/") && !strings.Contains(b, "//") &&
		!strings.HasSuffix(b, ".lock")
}

// The capabilities the host discovers.
var (
	_ plugins.ActionProvider    = (*Plugin)(nil)
	_ plugins.HealthChecker     = (*Plugin)(nil)
	_ plugins.URLReaderProvider = (*Plugin)(nil)
)
