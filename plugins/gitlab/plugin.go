// Package gitlab is Greenroom's GitLab integration, the counterpart of
// Backstage's integrations.gitlab, catalog-backend-module-gitlab,
// events-backend-module-gitlab and scaffolder-backend-module-gitlab: a URL
// reader for blob and tree URLs, the discovery provider
// (catalog.providers.gitlab), the "gitlab" webhook topic, the publish:gitlab
// family of scaffolder actions, a repository card and a health check.
//
// The integration token is sent as PRIVATE-TOKEN; a token given to an
// action as its token input is sent as "Authorization: Bearer", as
// Backstage's actions send it (GitLab accepts OAuth and personal tokens
// that way). Git pushes authenticate as "oauth2" with the token as the
// password. Project paths in API routes are URL-encoded as one segment
// (group%2Fsub%2Fproject), as GitLab requires.
package gitlab

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
)

// ID is the plugin's ID.
const ID = "git.gitlab"

const (
	gitlabComHost = "gitlab.com"
	gitlabComAPI  = "https://gitlab.com/api/v4"
)

// Info describes the plugin for the host.
func Info() plugins.Info {
	return plugins.Info{
		ID:          ID,
		Description: "GitLab: URL reader, discovery, webhooks, publish:gitlab actions and the repository card",
		Keys:        []string{"integrations.gitlab", "catalog.providers.gitlab", "events.modules.gitlab"},
		New:         New,
	}
}

// Plugin is the enabled GitLab plugin.
type Plugin struct {
	http         *http.Client
	log          *slog.Logger
	integrations []*integration
	providers    []*provider
	secret       string // events.modules.gitlab.webhookSecret
	status       *plugins.Status
	// defaults of publish:gitlab from scaffolder.defaultAuthor and
	// scaffolder.defaultCommitMessage, as Backstage reads them
	authorName, authorEmail, commitMessage string
	gitPath                                string
	now                                    func() time.Time
}

// ID implements plugins.Plugin.
func (p *Plugin) ID() string { return ID }

// integration is one entry of integrations.gitlab.
type integration struct {
	host    string   // host[:port] as configured
	baseURL *url.URL // without a trailing slash; its path is the relative path (/gitlab)
	apiBase string   // without a trailing slash
	token   string
	// implicit marks the gitlab.com entry Backstage always adds; it is
	// not health-checked, so a server configured for another host does
	// not poll gitlab.com.
	implicit bool
}

// base is the web base URL without a trailing slash.
func (in *integration) base() string { return strings.TrimSuffix(in.baseURL.String(), "/") }

// sameOrigin reports whether u is on the integration's web origin, so that
// URLs from API answers and webhook payloads are only followed (or shown,
// or given a token) when they point back at the configured GitLab.
func (in *integration) sameOrigin(u *url.URL) bool {
	return u != nil && u.User == nil && strings.EqualFold(u.Scheme, in.baseURL.Scheme) && strings.EqualFold(u.Host, in.baseURL.Host)
}

type integrationConfig struct {
	Host       string `yaml:"host"`
	APIBaseURL string `yaml:"apiBaseUrl"`
	BaseURL    string `yaml:"baseUrl"`
	Token      string `yaml:"token"`
}

// providerConfig is one catalog.providers.gitlab.<id>.
type providerConfig struct {
	Host                 string                  `yaml:"host"`
	Group                string                  `yaml:"group"`
	Branch               string                  `yaml:"branch"`
	FallbackBranch       string                  `yaml:"fallbackBranch"`
	CatalogFile          string                  `yaml:"catalogFile"`
	EntityFilename       string                  `yaml:"entityFilename"`
	ProjectPattern       string                  `yaml:"projectPattern"`
	SkipForkedRepos      bool                    `yaml:"skipForkedRepos"`
	IncludeArchivedRepos bool                    `yaml:"includeArchivedRepos"`
	ExcludeRepos         []string                `yaml:"excludeRepos"`
	Membership           bool                    `yaml:"membership"`
	Topics               any                     `yaml:"topics"`
	Schedule             *plugins.ScheduleConfig `yaml:"schedule"`

	// Org ingestion (users and groups) is not implemented; these keys are
	// accepted so that a Backstage config decodes, and refused when they
	// would change anything.
	OrgEnabled              bool `yaml:"orgEnabled"`
	UserPattern             any  `yaml:"userPattern"`
	GroupPattern            any  `yaml:"groupPattern"`
	Relations               any  `yaml:"relations"`
	RestrictUsersToGroup    bool `yaml:"restrictUsersToGroup"`
	IncludeUsersWithoutSeat bool `yaml:"includeUsersWithoutSeat"`
	ExcludeGroups           any  `yaml:"excludeGroups"`
	AllowInherited          bool `yaml:"allowInherited"`
}

type eventsConfig struct {
	WebhookSecret string `yaml:"webhookSecret"`
}

// New makes the plugin from integrations.gitlab, catalog.providers.gitlab
// and events.modules.gitlab.
func New(env plugins.Env) (plugins.Plugin, error) {
	p := &Plugin{http: tokenSafe(env.HTTP), log: env.Log, status: env.Status, gitPath: "git", now: time.Now}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := env.Config
	if cfg == nil {
		cfg = plugins.NewConfig(nil)
	}

	list, err := plugins.DecodeIntegrations(cfg, "integrations.gitlab", func(i int, ic integrationConfig) (*integration, string, error) {
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
	// As Backstage does, gitlab.com is always readable, anonymously unless
	// configured.
	if p.integration(gitlabComHost) == nil {
		base, _ := url.Parse("https://" + gitlabComHost)
		p.integrations = append(p.integrations, &integration{host: gitlabComHost, baseURL: base, apiBase: gitlabComAPI, implicit: true})
	}

	if v := cfg.Get("catalog.providers.gitlab"); v != nil {
		var m map[string]providerConfig
		if err := plugins.DecodeValue("catalog.providers.gitlab", v, &m); err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			pr, err := p.readProvider(id, m[id])
			if err != nil {
				return nil, err
			}
			p.providers = append(p.providers, pr)
		}
	}

	if v := cfg.Get("events.modules.gitlab"); v != nil {
		var ec eventsConfig
		if err := plugins.DecodeValue("events.modules.gitlab", v, &ec); err != nil {
			return nil, err
		}
		p.secret = ec.WebhookSecret
	}

	str := func(path string) string { s, _ := cfg.Get(path).(string); return s }
	p.authorName = str("scaffolder.defaultAuthor.name")
	p.authorEmail = str("scaffolder.defaultAuthor.email")
	p.commitMessage = str("scaffolder.defaultCommitMessage")
	return p, nil
}

// tokenSafe returns a copy of the host's client that drops PRIVATE-TOKEN
// on a redirect to another host: Go's client strips Authorization there,
// but it does not know GitLab's header, and an archive or a raw file may
// well be redirected to object storage.
func tokenSafe(h *http.Client) *http.Client {
	if h == nil {
		h = &http.Client{Timeout: 60 * time.Second}
	}
	c := *h
	next := h.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			req.Header.Del("PRIVATE-TOKEN")
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

func readIntegration(i int, ic integrationConfig) (*integration, error) {
	at := fmt.Sprintf("config integrations.gitlab[%d]", i)
	host := strings.TrimSpace(ic.Host)
	if host == "" {
		return nil, fmt.Errorf("%s: host is required", at)
	}
	if strings.ContainsAny(host, "/?#@ ") {
		return nil, fmt.Errorf("%s: host %q must be a host name with an optional port, not a URL", at, host)
	}
	baseStr := strings.TrimRight(ic.BaseURL, "/")
	if baseStr == "" {
		baseStr = "https://" + host
	}
	base, err := url.Parse(baseStr)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil || base.RawQuery != "" {
		return nil, fmt.Errorf("%s: baseUrl %q is not a valid http(s) URL", at, ic.BaseURL)
	}
	api := strings.TrimRight(ic.APIBaseURL, "/")
	switch {
	case api != "":
		u, err := url.Parse(api)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("%s: apiBaseUrl %q is not a valid http(s) URL", at, ic.APIBaseURL)
		}
	case strings.EqualFold(host, gitlabComHost):
		api = gitlabComAPI
	default:
		api = baseStr + "/api/v4"
	}
	return &integration{host: host, baseURL: base, apiBase: api, token: ic.Token}, nil
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

// integrationFor returns the integration whose web origin u is on.
func (p *Plugin) integrationFor(u *url.URL) *integration {
	for _, in := range p.integrations {
		if in.sameOrigin(u) {
			return in
		}
	}
	return nil
}

func (p *Plugin) readProvider(id string, pc providerConfig) (*provider, error) {
	at := "config catalog.providers.gitlab." + id
	unsupported := []struct {
		key string
		set bool
	}{
		{"orgEnabled", pc.OrgEnabled},
		{"userPattern", nonEmpty(pc.UserPattern)},
		{"groupPattern", nonEmpty(pc.GroupPattern)},
		{"relations", nonEmpty(pc.Relations)},
		{"restrictUsersToGroup", pc.RestrictUsersToGroup},
		{"includeUsersWithoutSeat", pc.IncludeUsersWithoutSeat},
		{"excludeGroups", nonEmpty(pc.ExcludeGroups)},
		{"allowInherited", pc.AllowInherited},
	}
	for _, u := range unsupported {
		if u.set {
			return nil, fmt.Errorf("%s: %s is not supported yet (GitLab users and groups are not ingested; remove the key or set it to false)", at, u.key)
		}
	}
	if pc.Host == "" {
		return nil, fmt.Errorf("%s: host is required", at)
	}
	in := p.integration(pc.Host)
	if in == nil {
		return nil, fmt.Errorf("%s: no integrations.gitlab entry matches host %s", at, pc.Host)
	}
	file := pc.CatalogFile
	if file == "" {
		file = pc.EntityFilename
	}
	if file == "" {
		file = "catalog-info.yaml"
	}
	file = strings.TrimPrefix(file, "/")
	if err := checkRepoPath(file); err != nil {
		return nil, fmt.Errorf("%s: catalogFile %q: %v", at, file, err)
	}
	pattern := pc.ProjectPattern
	if pattern == "" {
		pattern = `[\s\S]*`
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: projectPattern %q: %v", at, pattern, err)
	}
	topics, err := stringOrList(pc.Topics)
	if err != nil {
		return nil, fmt.Errorf("%s: topics: %v", at, err)
	}
	every := 30 * time.Minute
	if pc.Schedule != nil {
		// timeout and initialDelay are checked so a typo is reported,
		// and unused
		s, err := pc.Schedule.Parse("catalog.providers.gitlab." + id + ".schedule")
		if err != nil {
			return nil, err
		}
		every = s.Frequency
	}
	fallback := pc.FallbackBranch
	if fallback == "" {
		fallback = "master"
	}
	for _, b := range []string{pc.Branch, fallback} {
		if b != "" && !validBranch(b) {
			return nil, fmt.Errorf("%s: branch %q is not a valid branch name", at, b)
		}
	}
	group := strings.Trim(pc.Group, "/")
	return &provider{
		p: p, id: id, in: in, group: group, branch: pc.Branch, fallback: fallback,
		file: file, pattern: re, skipForks: pc.SkipForkedRepos, archived: pc.IncludeArchivedRepos,
		exclude: pc.ExcludeRepos, membership: pc.Membership, topics: topics, every: every,
		emitted: map[string]map[string]bool{},
	}, nil
}

func nonEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case bool:
		return t
	}
	return true
}

func stringOrList(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		var out []string
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("item %d must be a string", i)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a string or a list of strings")
}

var branchRe = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

func validBranch(b string) bool {
	return branchRe.MatchString(b) && !strings.HasPrefix(b, "-") && !strings.Contains(b, "..") &&
		!strings.HasPrefix(b, "/") && !strings.HasSuffix(b, "/")
}

// segRe is one segment of a GitLab namespace or project path.
var segRe = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.+-]*$`)

// checkProjectPath validates a namespace/project path from a URL, an
// input or a payload.
func checkProjectPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty project path")
	}
	for _, s := range strings.Split(p, "/") {
		if !segRe.MatchString(s) || s == "." || s == ".." {
			return fmt.Errorf("%q is not a valid GitLab project path", p)
		}
	}
	return nil
}

// checkRepoPath validates a file path inside a repository: relative, no
// dot-dot segments, no control characters.
func checkRepoPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Errorf("must be a relative path")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("contains a forbidden character")
		}
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("must not contain empty, . or .. segments")
		}
	}
	return nil
}

// The capabilities the host discovers.
var (
	_ plugins.URLReaderProvider = (*Plugin)(nil)
	_ plugins.EntityProvider    = (*Plugin)(nil)
	_ plugins.WebhookReceiver   = (*Plugin)(nil)
	_ plugins.ActionProvider    = (*Plugin)(nil)
	_ plugins.CardProvider      = (*Plugin)(nil)
	_ plugins.HealthChecker     = (*Plugin)(nil)
)
