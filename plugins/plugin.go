// Package plugins holds Greenroom's plugin interface and the host that runs
// plugins. A plugin is a Go value with a namespaced ID ("git.gitea") made by
// its Info.New from its own part of the configuration. What it offers is
// expressed by small optional interfaces (ActionProvider, URLReaderProvider,
// EntityProvider, WebhookReceiver, CardProvider, TabProvider, RouteProvider,
// SearchDocumentProvider, FactProvider, HealthChecker) that the host discovers
// with type assertions, as Caddy discovers its modules' capabilities.
//
// Built-in plugins are listed explicitly in cmd/greenroom; which of them run
// is decided by configuration alone: a plugin whose keys are absent stays
// off, and a key under plugins: that names no installed plugin is an error.
package plugins

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// Plugin is an enabled plugin. Everything else it offers is an optional
// interface of this package.
type Plugin interface {
	ID() string
}

// Info describes an installed plugin: what turns it on and how to make it.
type Info struct {
	// ID is namespaced with dots: "git.github", "example.hello".
	ID string
	// Description is one line for the plugins page.
	Description string
	// Keys are the configuration paths that enable the plugin when any of
	// them is present (Backstage's own keys where they exist, such as
	// "integrations.gitea" or "catalog.providers.gitea"). "plugins.<ID>"
	// always enables it too.
	Keys []string
	// New makes the plugin from its environment. It is called once, at
	// start, only for enabled plugins; an error stops the server with the
	// plugin's ID in the message.
	New func(env Env) (Plugin, error)
}

// Env is what a plugin is made with.
type Env struct {
	// Config is the whole configuration (after ${ENV} substitution); a
	// plugin reads its keys with Config.Decode.
	Config *Config
	// Log is tagged with the plugin's ID.
	Log *slog.Logger
	// HTTP is the client for calls to the plugin's upstream: it has
	// timeouts, it refuses redirects to addresses the reading policy does
	// not allow, and it records every call's outcome for the plugin's
	// health (last error, last success). Plugins should use it, not
	// http.DefaultClient.
	HTTP *http.Client
	// Status records calls made other ways (git pushes, say).
	Status *Status
	// DataDir is a directory of the plugin's own (created on demand).
	DataDir string
	// Integrations are the hosts of every enabled integration, so a plugin
	// can answer parseRepoUrl-like questions about others' hosts.
	Integrations *Integrations
}

// ActionProvider contributes scaffolder actions.
type ActionProvider interface {
	Actions() []action.Action
}

// URLReaderProvider contributes URL readers, each answering for one host
// (host[:port]), as Backstage's integrations do.
type URLReaderProvider interface {
	URLReaders() []reading.HostReader
}

// EntityProvider contributes discovery: providers whose locations the host
// keeps in the catalog, refreshed on each provider's schedule.
type EntityProvider interface {
	EntityProviders() []Provider
}

// Provider discovers catalog locations (Backstage's entity providers).
type Provider interface {
	// Name is Backstage's provider name, "gitea-provider:<id>"; the
	// locations it emits are owned by it.
	Name() string
	// Schedule is how often Discover runs (0: only at start).
	Schedule() time.Duration
	// Discover returns every location the provider currently finds: a full
	// mutation, so what it no longer returns is removed with its entities.
	Discover(ctx context.Context) ([]catalog.LocationSpec, error)
}

// WebhookReceiver contributes webhook topics, served at Backstage's events
// route POST /api/events/http/<topic>.
type WebhookReceiver interface {
	Webhooks() []Webhook
}

// Webhook is one events topic.
type Webhook struct {
	Topic string // "github", "gitlab", "gitea"
	// Verify checks the delivery's signature over the raw body. A nil
	// error accepts it; an error refuses it with 403 and is logged.
	// Verify must refuse every delivery when no secret is configured.
	Verify func(h http.Header, body []byte) error
	// Handle acts on an accepted delivery through loc and returns a
	// one-line summary for the log ("push: refreshed 1 location").
	Handle func(ctx context.Context, loc Locations, h http.Header, body []byte) (string, error)
}

// Locations is what providers' event handlers change in the catalog.
type Locations interface {
	// AddProviderLocations and RemoveProviderLocations are delta mutations
	// of a provider's locations (a repository created, deleted, renamed).
	AddProviderLocations(ctx context.Context, provider string, specs []catalog.LocationSpec) error
	RemoveProviderLocations(ctx context.Context, provider string, specs []catalog.LocationSpec) error
	// RefreshURLs re-reads, now, the root locations that read any of the
	// URLs (as their target or as a file they reached); it returns how
	// many locations were refreshed.
	RefreshURLs(ctx context.Context, urls []string) (int, error)
}

// CardProvider contributes entity-page cards; TabProvider contributes
// entity-page tabs. Both are rendered lazily, after the page, so a slow or
// failing upstream never delays or breaks the entity page.
type CardProvider interface {
	EntityCards() []EntityView
}

// TabProvider contributes entity-page tabs.
type TabProvider interface {
	EntityTabs() []EntityView
}

// EntityView is a card or a tab of the entity page.
type EntityView interface {
	// Name is unique within the plugin ("repository").
	Name() string
	// Title is the card's heading or the tab's label.
	Title() string
	// Applies reports, without I/O, whether the entity gets this view
	// (by its annotations, say).
	Applies(e *catalog.Entity) bool
	// Render returns the view's body. An error is shown in the card as a
	// message; the page around it is unaffected.
	Render(ctx context.Context, e *catalog.Entity, v Viewer) (templ.Component, error)
}

// Viewer is who is looking at the page ("" ref: not signed in).
type Viewer struct {
	Ref       string   // user:default/jane
	Ownership []string // the user and the groups it belongs to
}

// RouteProvider contributes an HTTP API, mounted at /api/<plugin ID>.
type RouteProvider interface {
	Routes() http.Handler
}

// SearchDocumentProvider contributes documents to the search index.
type SearchDocumentProvider interface {
	SearchDocuments(ctx context.Context) ([]SearchDocument, error)
}

// SearchDocument is one search result a plugin offers.
type SearchDocument struct {
	Type     string // the search result type ("git-repository")
	Title    string
	Text     string
	Location string // a URL or portal path
}

// FactProvider contributes facts about entities (for scorecards).
type FactProvider interface {
	Facts(ctx context.Context, e *catalog.Entity) (map[string]any, error)
}

// HealthChecker reports whether the plugin's upstream answers. The host
// calls it periodically; its result counts as a call for Status.
type HealthChecker interface {
	CheckHealth(ctx context.Context) error
}

// Closer is called when the server stops.
type Closer interface {
	Close() error
}

// ErrNotConfigured is what a plugin's Decode returns for an absent key.
var ErrNotConfigured = errors.New("not configured")

// Integrations are the configured git hosts, by host (host[:port],
// lower-case), with their integration type ("github", "gitlab", "gitea").
type Integrations struct {
	byHost map[string]Integration
	order  []string
}

// Integration is one configured host.
type Integration struct {
	Type    string // the integrations key: github, gitlab, gitea, …
	Host    string // host[:port] as configured
	BaseURL *url.URL
}

// Add records a host; the first integration of a host wins.
func (in *Integrations) Add(i Integration) {
	if in.byHost == nil {
		in.byHost = map[string]Integration{}
	}
	k := lowerHost(i.Host)
	if _, ok := in.byHost[k]; ok {
		return
	}
	in.byHost[k] = i
	in.order = append(in.order, k)
}

// Lookup returns the integration of a host.
func (in *Integrations) Lookup(host string) (Integration, bool) {
	if in == nil {
		return Integration{}, false
	}
	i, ok := in.byHost[lowerHost(host)]
	return i, ok
}

// List returns the integrations in configuration order.
func (in *Integrations) List() []Integration {
	if in == nil {
		return nil
	}
	out := make([]Integration, 0, len(in.order))
	for _, k := range in.order {
		out = append(out, in.byHost[k])
	}
	return out
}
