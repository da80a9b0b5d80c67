// Package github is Greenroom's GitHub integration as a plugin: it reads
// GitHub URLs for the catalog and TechDocs (integrations.github), discovers
// an organization's repositories (catalog.providers.github), acts on push
// and repository webhooks (events.modules.github), offers Backstage's
// GitHub scaffolder actions and shows a repository card on entity pages.
// Everything talks to GitHub's REST API (v3) as GitHub Enterprise Server
// also serves it; GraphQL and GitHub Apps are not used.
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// ID is the plugin's ID.
const ID = "git.github"

// Info describes the plugin for the host.
func Info() plugins.Info {
	return plugins.Info{
		ID:          ID,
		Description: "GitHub: URL reading, repository discovery, push webhooks, publish actions and the repository card",
		Keys:        []string{"integrations.github", "catalog.providers.github", "events.modules.github"},
		New:         New,
	}
}

// Plugin is the enabled GitHub plugin.
type Plugin struct {
	log           *slog.Logger
	http          *http.Client
	status        *plugins.Status
	integrations  []*integration
	providers     []*providerSettings
	webhookSecret string
}

// New decodes the plugin's configuration strictly and makes the plugin.
func New(env plugins.Env) (plugins.Plugin, error) {
	ints, err := readIntegrations(env.Config)
	if err != nil {
		return nil, err
	}
	provs, err := readProviders(env.Config, ints)
	if err != nil {
		return nil, err
	}
	secret, err := readWebhookSecret(env.Config)
	if err != nil {
		return nil, err
	}
	p := &Plugin{log: env.Log, http: env.HTTP, status: env.Status, integrations: ints, providers: provs, webhookSecret: secret}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.http == nil {
		// The host always passes its client; this only keeps a bare Env
		// (a test, a tool) from panicking, with timeouts all the same.
		p.http = &http.Client{Timeout: 60 * time.Second}
	}
	if p.status == nil {
		p.status = &plugins.Status{}
	}
	return p, nil
}

// ID implements plugins.Plugin.
func (p *Plugin) ID() string { return ID }

// Integrations returns the configured hosts, for the host's registry.
func (p *Plugin) Integrations() []plugins.Integration {
	out := make([]plugins.Integration, 0, len(p.integrations))
	for _, in := range p.integrations {
		var base *url.URL
		if in.api != "" {
			base, _ = url.Parse(in.api)
		} else {
			base, _ = url.Parse(in.raw)
		}
		out = append(out, plugins.Integration{Type: "github", Host: in.host, BaseURL: base})
	}
	return out
}

// CheckHealth calls each integration's rate_limit endpoint (which does not
// count against the rate limit). The implicit github.com entry is checked
// only when a provider uses it: an installation that only configured its
// GitHub Enterprise server (perhaps without internet access) should not
// turn unhealthy over github.com.
func (p *Plugin) CheckHealth(ctx context.Context) error {
	var errs []error
	for _, in := range p.integrations {
		if in.api == "" || in.implicit && !p.providerUses(in.host) {
			continue
		}
		var rl struct{}
		if err := p.client(in, "").get(ctx, "/rate_limit", &rl); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", in.host, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Plugin) providerUses(host string) bool {
	for _, ps := range p.providers {
		if strings.EqualFold(ps.host, host) {
			return true
		}
	}
	return false
}

var (
	_ plugins.URLReaderProvider = (*Plugin)(nil)
	_ plugins.EntityProvider    = (*Plugin)(nil)
	_ plugins.WebhookReceiver   = (*Plugin)(nil)
	_ plugins.ActionProvider    = (*Plugin)(nil)
	_ plugins.CardProvider      = (*Plugin)(nil)
	_ plugins.HealthChecker     = (*Plugin)(nil)
)

// URLReaders returns one reader per integration.
func (p *Plugin) URLReaders() []reading.HostReader {
	out := make([]reading.HostReader, 0, len(p.integrations))
	for _, in := range p.integrations {
		out = append(out, &hostReader{p: p, in: in})
	}
	return out
}

// Actions returns Backstage's GitHub actions.
func (p *Plugin) Actions() []action.Action {
	return []action.Action{
		publishAction{p: p},
		repoCreateAction{p: p},
		repoPushAction{p: p},
		pullRequestAction{p: p},
		webhookAction{p: p},
		dispatchAction{p: p},
		pagesAction{p: p},
	}
}

// client is a REST client of one integration with one token.
type client struct {
	http  *http.Client
	host  string
	api   string
	token string
}

func (p *Plugin) client(in *integration, token string) *client {
	if token == "" {
		token = in.token
	}
	return &client{http: p.http, host: in.host, api: in.api, token: token}
}

// apiError is a non-2xx answer. Its message names the method, the API
// path (never a query: no secret travels in one, but paths are enough to
// act on) and GitHub's own message.
type apiError struct {
	Method, Path string
	Status       int
	Message      string
	RateLimited  bool
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("GitHub %s %s answered %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RateLimited {
		msg += " (rate limit exceeded)"
	}
	return msg
}

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

const maxJSON = 32 << 20

// request builds a request on the API; path starts with "/" and is
// already escaped.
func (c *client) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	if c.api == "" {
		return nil, fmt.Errorf("GitHub integration for '%s' has no apiBaseUrl", c.host)
	}
	return c.requestURL(ctx, method, c.api+path, body)
}

// requestURL builds an authenticated request on a full URL.
func (c *client) requestURL(ctx context.Context, method, target string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "Greenroom")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "token "+c.token)
	}
	return req, nil
}

// call sends a JSON request and decodes a JSON answer into out (nil: the
// body is dropped).
func (c *client) call(ctx context.Context, method, path string, body, out any) error {
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	return c.send(req, out)
}

func (c *client) send(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("GitHub %s %s: %s", req.Method, req.URL.Path, c.mask(err.Error()))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		return fmt.Errorf("GitHub %s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	if len(data) > maxJSON {
		return fmt.Errorf("GitHub %s %s: answer larger than %d bytes", req.Method, req.URL.Path, maxJSON)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.errorOf(req, resp, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GitHub %s %s: decoding the answer: %v", req.Method, req.URL.Path, err)
	}
	return nil
}

func (c *client) errorOf(req *http.Request, resp *http.Response, data []byte) error {
	var m struct {
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Code    string `json:"code"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(data, &m)
	msg := m.Message
	for _, e := range m.Errors {
		d := e.Message
		if d == "" {
			d = strings.TrimSpace(e.Field + " " + e.Code)
		}
		if d != "" {
			msg += "; " + d
		}
	}
	return &apiError{Method: req.Method, Path: strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(apiPath(c.api), "/")),
		Status: resp.StatusCode, Message: plugins.UpstreamMessage(msg, 300, c.token),
		RateLimited: resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0"}
}

// mask keeps the token out of anything an upstream echoes back.
func (c *client) mask(s string) string { return plugins.Scrub(s, c.token) }

func apiPath(api string) string {
	u, err := url.Parse(api)
	if err != nil {
		return ""
	}
	return u.Path
}

func (c *client) get(ctx context.Context, path string, out any) error {
	return c.call(ctx, http.MethodGet, path, nil, out)
}

// esc joins escaped path segments: "/repos/o/r" from "repos", "o", "r".
func esc(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// escPath escapes a slash-separated path segment by segment.
func escPath(p string) string {
	if p == "" {
		return ""
	}
	return esc(strings.Split(p, "/")...)[1:]
}

// account is GET /users/{name}.
type account struct {
	Login string `json:"login"`
	Type  string `json:"type"` // "User" or "Organization"
}

// repository is what the REST API says about a repository.
type repository struct {
	Name          string   `json:"name"`
	FullName      string   `json:"full_name"`
	HTMLURL       string   `json:"html_url"`
	CloneURL      string   `json:"clone_url"`
	Description   string   `json:"description"`
	DefaultBranch string   `json:"default_branch"`
	Archived      bool     `json:"archived"`
	Fork          bool     `json:"fork"`
	Private       bool     `json:"private"`
	Visibility    string   `json:"visibility"`
	Topics        []string `json:"topics"`
	Owner         struct {
		Login string `json:"login"`
	} `json:"owner"`
}

func (r *repository) visibility() string {
	if r.Visibility != "" {
		return r.Visibility
	}
	if r.Private {
		return "private"
	}
	return "public"
}
