// Package gitea is Greenroom's Gitea integration, the counterpart of
// Backstage's Gitea modules: a URL reader for Gitea's browser URLs
// (integrations.gitea), discovery of an organisation's catalog files
// (catalog.providers.gitea), the "gitea" webhook topic that refreshes the
// catalog on pushes (events.modules.gitea), the publish:gitea scaffolder
// action, a repository card for entity pages and a health check.
//
// It is tested against a real Gitea 1.26 (see the giteatest package).
package gitea

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// ID is the plugin's ID.
const ID = "git.gitea"

// Configuration keys.
const (
	keyIntegrations = "integrations.gitea"
	keyProviders    = "catalog.providers.gitea"
	keyEvents       = "events.modules.gitea"
)

// Info describes the plugin for the host.
func Info() plugins.Info {
	return plugins.Info{
		ID:          ID,
		Description: "Gitea: URL reader, catalog discovery, push webhooks, publish:gitea and a repository card",
		Keys:        []string{keyIntegrations, keyProviders, keyEvents},
		New:         func(env plugins.Env) (plugins.Plugin, error) { return New(env) },
	}
}

// Plugin is the enabled Gitea plugin. It offers URLReaders, EntityProviders,
// Webhooks, Actions, EntityCards and CheckHealth.
type Plugin struct {
	hosts     []*host // in configuration order
	providers []*provider
	secret    string // events.modules.gitea.webhookSecret
	http      *http.Client
	status    *plugins.Status
	log       *slog.Logger
	// defaultAuthor and defaultCommitMessage are scaffolder.* settings
	// publish:gitea honours, as Backstage's does.
	authorName, authorEmail, defaultCommitMessage string
	// pollInterval and pollLimit bound publish:gitea's wait for the new
	// branch page.
	pollInterval, pollLimit time.Duration
}

// ID implements plugins.Plugin.
func (p *Plugin) ID() string { return ID }

// host is one integrations.gitea entry.
type host struct {
	name     string   // host[:port] as configured
	base     *url.URL // baseUrl, no trailing slash
	username string
	password string // a password, or a token when username is empty
	p        *Plugin
}

type integrationConfig struct {
	Host             string `yaml:"host"`
	BaseURL          string `yaml:"baseUrl"`
	Username         string `yaml:"username"`
	Password         string `yaml:"password"`
	CommitSigningKey string `yaml:"commitSigningKey"`
}

type providerConfig struct {
	Organization string                  `yaml:"organization"`
	Host         string                  `yaml:"host"`
	Branch       string                  `yaml:"branch"`
	CatalogPath  string                  `yaml:"catalogPath"`
	Schedule     *plugins.ScheduleConfig `yaml:"schedule"`
}

type eventsConfig struct {
	WebhookSecret string `yaml:"webhookSecret"`
}

// New makes the plugin from its configuration.
func New(env plugins.Env) (*Plugin, error) {
	p := &Plugin{http: env.HTTP, status: env.Status, log: env.Log,
		pollInterval: 250 * time.Millisecond, pollLimit: 20 * time.Second}
	if p.http == nil {
		return nil, errors.New("gitea: Env.HTTP is nil")
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.status == nil {
		p.status = &plugins.Status{}
	}
	cfg := env.Config
	if cfg == nil {
		cfg = plugins.NewConfig(nil)
	}

	var ints []integrationConfig
	if err := cfg.Decode(keyIntegrations, &ints); err != nil && !errors.Is(err, plugins.ErrNotConfigured) {
		return nil, err
	}
	seen := map[string]bool{}
	for i, ic := range ints {
		path := fmt.Sprintf("%s[%d]", keyIntegrations, i)
		h, err := newHost(path, ic)
		if err != nil {
			return nil, err
		}
		if seen[strings.ToLower(h.name)] {
			return nil, fmt.Errorf("config %s.host: %s is configured twice", path, h.name)
		}
		seen[strings.ToLower(h.name)] = true
		h.p = p
		p.hosts = append(p.hosts, h)
	}

	var provs map[string]providerConfig
	if err := cfg.Decode(keyProviders, &provs); err != nil && !errors.Is(err, plugins.ErrNotConfigured) {
		return nil, err
	}
	ids := make([]string, 0, len(provs))
	for id := range provs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		pr, err := p.newProvider(id, provs[id])
		if err != nil {
			return nil, err
		}
		p.providers = append(p.providers, pr)
	}

	var ev eventsConfig
	if err := cfg.Decode(keyEvents, &ev); err != nil && !errors.Is(err, plugins.ErrNotConfigured) {
		return nil, err
	}
	p.secret = ev.WebhookSecret

	if own, ok := cfg.Plugin(ID).(map[string]any); ok {
		// nothing is configured there yet: any key is a mistake to report
		if err := plugins.DecodeValue("plugins."+ID, own, &struct{}{}); err != nil {
			return nil, err
		}
	}
	p.authorName, _ = cfg.Get("scaffolder.defaultAuthor.name").(string)
	p.authorEmail, _ = cfg.Get("scaffolder.defaultAuthor.email").(string)
	p.defaultCommitMessage, _ = cfg.Get("scaffolder.defaultCommitMessage").(string)
	return p, nil
}

func newHost(path string, ic integrationConfig) (*host, error) {
	name := strings.TrimSpace(ic.Host)
	if name == "" {
		return nil, fmt.Errorf("config %s.host is required", path)
	}
	if strings.ContainsAny(name, "/?#@ ") {
		return nil, fmt.Errorf("config %s.host: %q must be a host[:port], not a URL", path, name)
	}
	if ic.CommitSigningKey != "" {
		return nil, fmt.Errorf("config %s.commitSigningKey: signing commits is not supported yet", path)
	}
	raw := strings.TrimRight(strings.TrimSpace(ic.BaseURL), "/")
	if raw == "" {
		raw = "https://" + name
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("config %s.baseUrl: %q is not an http(s) URL without credentials or query", path, ic.BaseURL)
	}
	return &host{name: name, base: base, username: ic.Username, password: ic.Password}, nil
}

// lookupHost returns the integration of a URL host (host[:port]).
func (p *Plugin) lookupHost(h string) *host {
	for _, x := range p.hosts {
		if strings.EqualFold(x.name, h) {
			return x
		}
	}
	return nil
}

// baseURL is the base URL as a string, without a trailing slash.
func (h *host) baseURL() string { return h.base.String() }

// basePath is the base URL's path prefix ("" or "/gitea").
func (h *host) basePath() string { return strings.TrimRight(h.base.Path, "/") }

// api is the URL of an API path ("/repos/o/r"), whose segments the caller
// has escaped.
func (h *host) api(path string) string { return h.baseURL() + "/api/v1" + path }

// authorize adds the integration's credentials as Backstage's
// getGiteaRequestOptions does: basic auth with a username, else the
// password as a token.
func (h *host) authorize(req *http.Request) {
	switch {
	case h.username != "":
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(h.username+":"+h.password)))
	case h.password != "":
		req.Header.Set("Authorization", "token "+h.password)
	}
}

// get makes an authorised GET of an absolute URL.
func (h *host) get(ctx context.Context, u string, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	h.authorize(req)
	resp, err := h.p.http.Do(req)
	if err != nil {
		return nil, h.transportError(err)
	}
	return resp, nil
}

// transportError names the host, not the URL: a URL error repeats the
// whole URL, which is long and adds nothing a user can act on.
func (h *host) transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("gitea %s: %w", h.name, err)
}

// statusError is a non-2xx answer of the API.
type statusError struct {
	host, what string
	status     int
	message    string // Gitea's "message" field, if any
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("gitea %s: %s: %d %s", e.host, e.what, e.status, http.StatusText(e.status))
	switch e.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		s += " (check the credentials of integrations.gitea for " + e.host + ")"
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

func (h *host) statusError(resp *http.Response, what string) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct {
		Message string `json:"message"`
	}
	json.Unmarshal(data, &m)
	return &statusError{host: h.name, what: what, status: resp.StatusCode, message: plugins.UpstreamMessage(m.Message, 300, h.password)}
}

// getJSON GETs an API path and decodes a 200 answer into out; other
// answers are *statusError.
func (h *host) getJSON(ctx context.Context, path, what string, out any) error {
	resp, err := h.get(ctx, h.api(path), http.Header{"Accept": {"application/json"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h.statusError(resp, what)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(out); err != nil {
		return fmt.Errorf("gitea %s: %s: decode answer: %w", h.name, what, err)
	}
	return nil
}

// maxJSON caps an API answer (a page of 50 repositories is ~250 KB).
const maxJSON = 16 << 20

func isStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.status == code
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// repoPath is "/repos/<o>/<r>" escaped.
func repoPath(owner, repo string) string {
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)
}

// URLReaders implements plugins.URLReaderProvider: one reader per host.
func (p *Plugin) URLReaders() []reading.HostReader {
	out := make([]reading.HostReader, len(p.hosts))
	for i, h := range p.hosts {
		out[i] = h
	}
	return out
}

// EntityProviders implements plugins.EntityProvider.
func (p *Plugin) EntityProviders() []plugins.Provider {
	out := make([]plugins.Provider, len(p.providers))
	for i, pr := range p.providers {
		out[i] = pr
	}
	return out
}

// Actions implements plugins.ActionProvider.
func (p *Plugin) Actions() []action.Action { return []action.Action{publishAction{p}} }

// CheckHealth implements plugins.HealthChecker: every integration's
// version endpoint must answer.
func (p *Plugin) CheckHealth(ctx context.Context) error {
	var errs []error
	for _, h := range p.hosts {
		var v struct {
			Version string `json:"version"`
		}
		if err := h.getJSON(ctx, "/version", "GET /api/v1/version", &v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
