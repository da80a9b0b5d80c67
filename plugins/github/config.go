package github

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroom-dev/greenroom/plugins"
)

// integrationConfig is one integrations.github entry as Backstage writes it.
type integrationConfig struct {
	Host       string `yaml:"host"`
	APIBaseURL string `yaml:"apiBaseUrl"`
	RawBaseURL string `yaml:"rawBaseUrl"`
	Token      string `yaml:"token"`
	// Apps are accepted so that a Backstage config decodes, and refused
	// when non-empty: app authentication (JWT, installation tokens) is not
	// implemented.
	Apps any `yaml:"apps"`
}

// integration is a configured GitHub host, its base URLs resolved.
type integration struct {
	host  string // host[:port], as configured
	api   string // no trailing slash; "" when only raw is set
	raw   string // no trailing slash; may be ""
	token string
	// implicit marks the github.com entry added because none was
	// configured.
	implicit bool
}

const (
	publicHost = "github.com"
	publicAPI  = "https://api.github.com"
	publicRaw  = "https://raw.githubusercontent.com"
)

// readIntegrations decodes integrations.github (absent: none) and adds a
// github.com entry when none is configured, as Backstage does.
func readIntegrations(cfg *plugins.Config) ([]*integration, error) {
	var list []integrationConfig
	if err := cfg.Decode("integrations.github", &list); err != nil && !errors.Is(err, plugins.ErrNotConfigured) {
		return nil, err
	}
	var out []*integration
	seen := map[string]bool{}
	for i, ic := range list {
		path := fmt.Sprintf("integrations.github[%d]", i)
		if !emptyValue(ic.Apps) {
			return nil, fmt.Errorf("%s.apps: GitHub Apps are not supported yet; use a token", path)
		}
		host := strings.TrimSpace(ic.Host)
		if host == "" {
			host = publicHost
		}
		if strings.ContainsAny(host, "/?#@ ") {
			return nil, fmt.Errorf("%s.host: %q is not a host[:port]", path, host)
		}
		in := &integration{host: host, token: ic.Token}
		var err error
		if in.api, err = baseURL(path+".apiBaseUrl", ic.APIBaseURL); err != nil {
			return nil, err
		}
		if in.raw, err = baseURL(path+".rawBaseUrl", ic.RawBaseURL); err != nil {
			return nil, err
		}
		if strings.EqualFold(host, publicHost) {
			if in.api == "" {
				in.api = publicAPI
			}
			if in.raw == "" {
				in.raw = publicRaw
			}
		}
		if in.api == "" && in.raw == "" {
			return nil, fmt.Errorf("%s: GitHub integration for '%s' must configure an explicit apiBaseUrl and rawBaseUrl", path, host)
		}
		k := strings.ToLower(host)
		if seen[k] {
			return nil, fmt.Errorf("%s.host: %s is configured twice", path, host)
		}
		seen[k] = true
		out = append(out, in)
	}
	if !seen[publicHost] {
		out = append(out, &integration{host: publicHost, api: publicAPI, raw: publicRaw, implicit: true})
	}
	return out, nil
}

func emptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

func baseURL(path, v string) (string, error) {
	v = strings.TrimRight(strings.TrimSpace(v), "/")
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("%s: %q is not an http(s) URL", path, v)
	}
	return v, nil
}

// providerConfig is one catalog.providers.github entry.
type providerConfig struct {
	Host                   string                  `yaml:"host"`
	Organization           string                  `yaml:"organization"`
	App                    any                     `yaml:"app"`
	CatalogPath            string                  `yaml:"catalogPath"`
	Filters                *filtersConfig          `yaml:"filters"`
	ValidateLocationsExist bool                    `yaml:"validateLocationsExist"`
	Schedule               *plugins.ScheduleConfig `yaml:"schedule"`
	PageSizes              map[string]int64        `yaml:"pageSizes"` // GraphQL page sizes: accepted, unused (we list over REST)
}

type filtersConfig struct {
	Branch        string   `yaml:"branch"`
	Repository    string   `yaml:"repository"`
	Topic         any      `yaml:"topic"`
	Visibility    []string `yaml:"visibility"`
	AllowForks    *bool    `yaml:"allowForks"`
	AllowArchived bool     `yaml:"allowArchived"`
}

type topicConfig struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// providerSettings is a decoded, validated provider.
type providerSettings struct {
	id            string
	host          string
	org           string
	catalogPath   string // without the leading "/"
	glob          bool
	branch        string // "" : the repository's default branch
	repoRe        *regexp.Regexp
	topicInclude  []string
	topicExclude  []string
	visibility    []string
	allowForks    bool
	allowArchived bool
	validate      bool
	frequency     time.Duration
	timeout       time.Duration
	initialDelay  time.Duration
}

// defaultFrequency is used when a provider has no schedule. Backstage
// refuses such a config; a portal that never refreshes discovery would be
// a worse surprise than a default.
const defaultFrequency = 30 * time.Minute

// readProviders decodes catalog.providers.github: a map of id → provider,
// or one provider without the id level (id "default"), as Backstage reads
// it (a map holding "organization" is a single provider).
func readProviders(cfg *plugins.Config, ints []*integration) ([]*providerSettings, error) {
	const root = "catalog.providers.github"
	v := cfg.Get(root)
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config %s: must be an object", root)
	}
	entries := m
	_, single := m["organization"]
	if _, app := m["app"]; app {
		single = true
	}
	if single {
		entries = map[string]any{"default": m}
	}
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*providerSettings
	for _, id := range ids {
		path := root + "." + id
		if single {
			path = root
		}
		if _, isMap := entries[id].(map[string]any); !isMap {
			if isProviderKey(id) {
				return nil, fmt.Errorf("config %s: a single provider needs organization", root)
			}
			return nil, fmt.Errorf("config %s: must be an object", path)
		}
		var pc providerConfig
		if err := plugins.DecodeValue(path, entries[id], &pc); err != nil {
			return nil, err
		}
		ps, err := settings(path, id, pc, ints)
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

func settings(path, id string, pc providerConfig, ints []*integration) (*providerSettings, error) {
	if !emptyValue(pc.App) {
		return nil, fmt.Errorf("%s.app: GitHub Apps are not supported yet; use a token", path)
	}
	if strings.TrimSpace(pc.Organization) == "" {
		return nil, fmt.Errorf("%s.organization: required", path)
	}
	if !nameRe.MatchString(pc.Organization) {
		return nil, fmt.Errorf("%s.organization: %q is not a GitHub account name", path, pc.Organization)
	}
	ps := &providerSettings{id: id, host: pc.Host, org: pc.Organization, allowForks: true,
		validate: pc.ValidateLocationsExist, frequency: defaultFrequency}
	if ps.host == "" {
		ps.host = publicHost
	}
	if findIntegration(ints, ps.host) == nil {
		return nil, fmt.Errorf("%s.host: There is no GitHub config that matches host %s. Please add a configuration entry for it under integrations.github", path, ps.host)
	}
	cp := pc.CatalogPath
	if cp == "" {
		cp = "/catalog-info.yaml"
	}
	cp = strings.TrimPrefix(cp, "/")
	if cp == "" || hasDotDot(cp) {
		return nil, fmt.Errorf("%s.catalogPath: %q is not a path inside a repository", path, pc.CatalogPath)
	}
	if !doublestar.ValidatePattern(cp) {
		return nil, fmt.Errorf("%s.catalogPath: %q is not a valid glob", path, pc.CatalogPath)
	}
	ps.catalogPath = cp
	ps.glob = strings.ContainsAny(cp, "*?[{")
	if ps.glob && ps.validate {
		return nil, fmt.Errorf("%s: The catalog path %s contains a wildcard, which is incompatible with validation of locations existing before emitting them. Ensure that validateLocationsExist is set to false.", path, pc.CatalogPath)
	}
	if f := pc.Filters; f != nil {
		if strings.Contains(f.Branch, "/") || !refRe.MatchString(f.Branch) && f.Branch != "" {
			return nil, fmt.Errorf("%s.filters.branch: %q is not allowed (no \"/\")", path, f.Branch)
		}
		ps.branch = f.Branch
		if f.Repository != "" {
			// Backstage anchors the pattern at both ends.
			p := f.Repository
			if !strings.HasPrefix(p, "^") {
				p = "^" + p
			}
			if !strings.HasSuffix(p, "$") {
				p += "$"
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%s.filters.repository: %v", path, err)
			}
			ps.repoRe = re
		}
		switch t := f.Topic.(type) {
		case nil:
		case string:
			ps.topicInclude = []string{t}
		default:
			var tc topicConfig
			if err := plugins.DecodeValue(path+".filters.topic", t, &tc); err != nil {
				return nil, err
			}
			ps.topicInclude, ps.topicExclude = tc.Include, tc.Exclude
		}
		for _, v := range f.Visibility {
			switch v {
			case "public", "private", "internal":
			default:
				return nil, fmt.Errorf("%s.filters.visibility: %q is not one of public, private, internal", path, v)
			}
		}
		ps.visibility = f.Visibility
		if f.AllowForks != nil {
			ps.allowForks = *f.AllowForks
		}
		ps.allowArchived = f.AllowArchived
	}
	if pc.Schedule != nil {
		s, err := pc.Schedule.Parse(path + ".schedule")
		if err != nil {
			return nil, err
		}
		ps.frequency, ps.timeout, ps.initialDelay = s.Frequency, s.Timeout, s.InitialDelay
	}
	return ps, nil
}

// readWebhookSecret reads events.modules.github.webhookSecret.
func readWebhookSecret(cfg *plugins.Config) (string, error) {
	var ev struct {
		WebhookSecret string `yaml:"webhookSecret"`
	}
	if err := cfg.Decode("events.modules.github", &ev); err != nil && !errors.Is(err, plugins.ErrNotConfigured) {
		return "", err
	}
	return ev.WebhookSecret, nil
}

func findIntegration(ints []*integration, host string) *integration {
	for _, in := range ints {
		if strings.EqualFold(in.host, host) {
			return in
		}
	}
	return nil
}

// nameRe is a GitHub account or repository name: what GitHub allows, and
// nothing a URL path or a file system reads specially.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*$`)

// refRe is a branch name we put in URLs and API paths.
var refRe = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

func validName(s string) bool { return nameRe.MatchString(s) && s != "." && s != ".." && len(s) <= 100 }

func validRef(s string) bool {
	return refRe.MatchString(s) && !strings.HasPrefix(s, "-") && !strings.Contains(s, "..") &&
		!strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/") && len(s) <= 255
}

func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// isProviderKey tells a single provider's key (a config that forgot
// organization) from a provider id.
func isProviderKey(k string) bool {
	switch k {
	case "host", "organization", "app", "catalogPath", "filters", "validateLocationsExist", "schedule", "pageSizes":
		return true
	}
	return false
}
