package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// HostOptions are what the host gives every plugin.
type HostOptions struct {
	Log *slog.Logger
	// DataDir holds one directory per plugin (<DataDir>/<ID>).
	DataDir string
	// Transport carries plugins' upstream calls (the reading policy's
	// transport, which checks where redirects lead); nil: the default.
	Transport http.RoundTripper
	// Timeout bounds one upstream call (default 30s).
	Timeout      time.Duration
	Integrations *Integrations
	// HealthInterval is how often HealthCheckers run (default 1 minute).
	HealthInterval time.Duration
}

// Instance is one installed plugin, enabled or not.
type Instance struct {
	Info    Info
	Enabled bool
	Plugin  Plugin // nil when not enabled
	Status  *Status
}

// Contributes lists what an enabled plugin offers, for the plugins page.
func (in *Instance) Contributes() []string {
	p := in.Plugin
	if p == nil {
		return nil
	}
	var out []string
	if a, ok := p.(ActionProvider); ok {
		ids := []string{}
		for _, x := range a.Actions() {
			ids = append(ids, x.ID())
		}
		out = append(out, "scaffolder actions: "+strings.Join(ids, ", "))
	}
	if r, ok := p.(URLReaderProvider); ok {
		hosts := []string{}
		for _, x := range r.URLReaders() {
			hosts = append(hosts, x.Host())
		}
		out = append(out, "URL readers: "+strings.Join(hosts, ", "))
	}
	if e, ok := p.(EntityProvider); ok {
		names := []string{}
		for _, x := range e.EntityProviders() {
			names = append(names, x.Name())
		}
		if len(names) > 0 {
			out = append(out, "entity providers: "+strings.Join(names, ", "))
		}
	}
	if w, ok := p.(WebhookReceiver); ok {
		topics := []string{}
		for _, x := range w.Webhooks() {
			topics = append(topics, "/api/events/http/"+x.Topic)
		}
		out = append(out, "webhooks: "+strings.Join(topics, ", "))
	}
	if c, ok := p.(CardProvider); ok {
		out = append(out, "entity cards: "+viewTitles(c.EntityCards()))
	}
	if t, ok := p.(TabProvider); ok {
		out = append(out, "entity tabs: "+viewTitles(t.EntityTabs()))
	}
	if _, ok := p.(RouteProvider); ok {
		out = append(out, "HTTP API: /api/"+in.Info.ID)
	}
	if _, ok := p.(SearchDocumentProvider); ok {
		out = append(out, "search documents")
	}
	if _, ok := p.(FactProvider); ok {
		out = append(out, "facts")
	}
	if _, ok := p.(HealthChecker); ok {
		out = append(out, "health check")
	}
	return out
}

func viewTitles(vs []EntityView) string {
	t := make([]string, 0, len(vs))
	for _, v := range vs {
		t = append(t, v.Title())
	}
	return strings.Join(t, ", ")
}

// Host runs the enabled plugins and gives the server what they offer.
type Host struct {
	list []*Instance
	byID map[string]*Instance
	opts HostOptions
	log  *slog.Logger

	events chan delivery
	queued atomic.Int64 // bytes of the deliveries in events
}

// maxQueuedBytes bounds the memory that waiting deliveries hold: a burst
// of large pushes is answered 503 (senders retry) rather than buffered
// without limit.
const maxQueuedBytes = 64 << 20

type delivery struct {
	hook Webhook
	id   string // plugin
	h    http.Header
	body []byte
}

// NewHost makes the enabled plugins among infos, in their order. A plugin
// is enabled when plugins.<ID> or any of its Info.Keys is in cfg; a key
// under plugins: naming no installed plugin is an error, as is a plugin's
// own constructor failing (both name the plugin).
func NewHost(infos []Info, cfg *Config, opts HostOptions) (*Host, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.HealthInterval <= 0 {
		opts.HealthInterval = time.Minute
	}
	h := &Host{byID: map[string]*Instance{}, opts: opts, log: opts.Log, events: make(chan delivery, 256)}
	for _, info := range infos {
		if _, dup := h.byID[info.ID]; dup {
			return nil, fmt.Errorf("plugin %s is installed twice", info.ID)
		}
		in := &Instance{Info: info, Status: &Status{}}
		h.byID[info.ID] = in
		h.list = append(h.list, in)
	}
	if ps, ok := cfg.Get("plugins").(map[string]any); ok {
		var unknown []string
		for id := range ps {
			if _, ok := h.byID[id]; !ok {
				unknown = append(unknown, id)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("config plugins.%s: no installed plugin has this ID (installed: %s)", unknown[0], strings.Join(h.ids(), ", "))
		}
	} else if cfg.Get("plugins") != nil {
		return nil, errors.New("config plugins must be a map of plugin IDs to their settings")
	}
	for _, in := range h.list {
		if !enabled(in.Info, cfg) {
			continue
		}
		log := opts.Log.With("plugin", in.Info.ID)
		var rt http.RoundTripper = http.DefaultTransport
		if opts.Transport != nil {
			rt = opts.Transport
		}
		env := Env{
			Config:       cfg,
			Log:          log,
			HTTP:         &http.Client{Transport: recordingTransport{next: rt, status: in.Status}, Timeout: opts.Timeout},
			Status:       in.Status,
			Integrations: opts.Integrations,
		}
		if opts.DataDir != "" {
			env.DataDir = filepath.Join(opts.DataDir, in.Info.ID)
			if err := os.MkdirAll(env.DataDir, 0o755); err != nil {
				return nil, fmt.Errorf("plugin %s: data directory: %w", in.Info.ID, err)
			}
		}
		p, err := in.Info.New(env)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("plugin %s: %w", in.Info.ID, err)
		}
		if p.ID() != in.Info.ID {
			h.Close()
			return nil, fmt.Errorf("plugin %s: its New returned a plugin with ID %q", in.Info.ID, p.ID())
		}
		in.Plugin, in.Enabled = p, true
	}
	return h, nil
}

func enabled(info Info, cfg *Config) bool {
	if v := cfg.Plugin(info.ID); v != nil {
		if m, ok := v.(map[string]any); ok && m["disabled"] == true {
			return false
		}
		return true
	}
	for _, k := range info.Keys {
		if cfg.Has(k) {
			return true
		}
	}
	return false
}

func (h *Host) ids() []string {
	ids := make([]string, 0, len(h.list))
	for _, in := range h.list {
		ids = append(ids, in.Info.ID)
	}
	return ids
}

// Instances lists every installed plugin, enabled or not.
func (h *Host) Instances() []*Instance { return append([]*Instance(nil), h.list...) }

// Instance returns an installed plugin by ID.
func (h *Host) Instance(id string) (*Instance, bool) {
	in, ok := h.byID[id]
	return in, ok
}

func (h *Host) enabledPlugins() []*Instance {
	var out []*Instance
	for _, in := range h.list {
		if in.Enabled {
			out = append(out, in)
		}
	}
	return out
}

// Actions are every enabled plugin's scaffolder actions.
func (h *Host) Actions() []action.Action {
	var out []action.Action
	for _, in := range h.enabledPlugins() {
		if a, ok := in.Plugin.(ActionProvider); ok {
			out = append(out, a.Actions()...)
		}
	}
	return out
}

// URLReaders are every enabled plugin's URL readers, in plugin order.
func (h *Host) URLReaders() []reading.HostReader {
	var out []reading.HostReader
	for _, in := range h.enabledPlugins() {
		if r, ok := in.Plugin.(URLReaderProvider); ok {
			out = append(out, r.URLReaders()...)
		}
	}
	return out
}

// Routes are the plugins' HTTP APIs by plugin ID (mounted at /api/<ID>).
func (h *Host) Routes() map[string]http.Handler {
	out := map[string]http.Handler{}
	for _, in := range h.enabledPlugins() {
		if r, ok := in.Plugin.(RouteProvider); ok {
			out[in.Info.ID] = r.Routes()
		}
	}
	return out
}

// ViewRef names one card or tab: the plugin and the view's name.
type ViewRef struct {
	Plugin, Name, Title string
}

// Path is the view's part of the URL that renders it.
func (v ViewRef) Path() string { return v.Plugin + "/" + v.Name }

// EntityCards are the cards that apply to e.
func (h *Host) EntityCards(e *catalog.Entity) []ViewRef { return h.views(e, false) }

// EntityTabs are the tabs that apply to e.
func (h *Host) EntityTabs(e *catalog.Entity) []ViewRef { return h.views(e, true) }

func (h *Host) views(e *catalog.Entity, tabs bool) []ViewRef {
	var out []ViewRef
	for _, in := range h.enabledPlugins() {
		for _, v := range pluginViews(in.Plugin, tabs) {
			if v.Applies(e) {
				out = append(out, ViewRef{Plugin: in.Info.ID, Name: v.Name(), Title: v.Title()})
			}
		}
	}
	return out
}

func pluginViews(p Plugin, tabs bool) []EntityView {
	if tabs {
		if t, ok := p.(TabProvider); ok {
			return t.EntityTabs()
		}
		return nil
	}
	if c, ok := p.(CardProvider); ok {
		return c.EntityCards()
	}
	return nil
}

// viewTimeout bounds a card's or tab's render: past it the card says the
// upstream did not answer in time, rather than spinning on.
const viewTimeout = 10 * time.Second

// ErrNoView is returned for a card or tab that does not exist or does
// not apply to the entity.
var ErrNoView = errors.New("no such card or tab for this entity")

// RenderView renders one card or tab of e, bounded by viewTimeout.
// A panic in the plugin is an error, not a crash.
func (h *Host) RenderView(ctx context.Context, pluginID, name string, tab bool, e *catalog.Entity, v Viewer) (c templ.Component, err error) {
	in, ok := h.byID[pluginID]
	if !ok || !in.Enabled {
		return nil, ErrNoView
	}
	for _, view := range pluginViews(in.Plugin, tab) {
		if view.Name() != name || !view.Applies(e) {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, min(h.opts.Timeout, viewTimeout))
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("the %s plugin failed: %v", pluginID, p)
				in.Status.Record(err)
				h.log.Error("plugin view panicked", "plugin", pluginID, "view", name, "panic", p)
			}
		}()
		return view.Render(ctx, e, v)
	}
	return nil, ErrNoView
}

// Webhook returns the receiver of an events topic.
func (h *Host) Webhook(topic string) (Webhook, string, bool) {
	for _, in := range h.enabledPlugins() {
		if w, ok := in.Plugin.(WebhookReceiver); ok {
			for _, hook := range w.Webhooks() {
				if hook.Topic == topic {
					return hook, in.Info.ID, true
				}
			}
		}
	}
	return Webhook{}, "", false
}

// Topics lists the events topics plugins receive.
func (h *Host) Topics() []string {
	var out []string
	for _, in := range h.enabledPlugins() {
		if w, ok := in.Plugin.(WebhookReceiver); ok {
			for _, hook := range w.Webhooks() {
				out = append(out, hook.Topic)
			}
		}
	}
	return out
}

// Deliver queues an accepted webhook delivery for Run to handle. It
// reports false when the queue is full (the sender should retry).
func (h *Host) Deliver(pluginID string, hook Webhook, hd http.Header, body []byte) bool {
	n := int64(len(body))
	if h.queued.Add(n) > maxQueuedBytes {
		h.queued.Add(-n)
		return false
	}
	select {
	case h.events <- delivery{hook: hook, id: pluginID, h: hd, body: body}:
		return true
	default:
		h.queued.Add(-n)
		return false
	}
}

// ProviderLocations is what the host needs of the catalog to run entity
// providers and their webhooks.
type ProviderLocations interface {
	Locations
	// ReplaceProviderLocations makes the provider's locations exactly
	// specs: a full mutation, Backstage's applyMutation({type: 'full'}).
	ReplaceProviderLocations(ctx context.Context, provider string, specs []catalog.LocationSpec) error
}

// Run runs the entity providers on their schedules, the health checks,
// and the queued webhook deliveries, until ctx ends. It returns when all
// of its goroutines have stopped.
func (h *Host) Run(ctx context.Context, loc ProviderLocations) {
	var wg sync.WaitGroup
	for _, in := range h.enabledPlugins() {
		if ep, ok := in.Plugin.(EntityProvider); ok {
			for _, p := range ep.EntityProviders() {
				wg.Go(func() { h.runProvider(ctx, in, p, loc) })
			}
		}
		if hc, ok := in.Plugin.(HealthChecker); ok {
			wg.Go(func() { h.runHealth(ctx, in, hc) })
		}
	}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case d := <-h.events:
				h.handle(ctx, d, loc)
			}
		}
	})
	wg.Wait()
}

func (h *Host) handle(ctx context.Context, d delivery, loc Locations) {
	defer h.queued.Add(-int64(len(d.body)))
	in := h.byID[d.id]
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("webhook handler panicked: %v", p)
			in.Status.Record(err)
			h.log.Error("webhook", "plugin", d.id, "topic", d.hook.Topic, "error", err)
		}
	}()
	summary, err := d.hook.Handle(ctx, loc, d.h, d.body)
	if err != nil {
		in.Status.Record(fmt.Errorf("webhook %s: %w", d.hook.Topic, err))
		h.log.Warn("webhook not processed", "plugin", d.id, "topic", d.hook.Topic, "error", err)
		return
	}
	h.log.Info("webhook", "plugin", d.id, "topic", d.hook.Topic, "result", summary)
}

// ProcessNext handles one queued delivery, waiting for it; for tests and
// benchmarks that drive the host without Run.
func (h *Host) ProcessNext(ctx context.Context, loc Locations) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case d := <-h.events:
		h.handle(ctx, d, loc)
		return nil
	}
}

// DiscoverNow runs every entity provider once and applies its result.
func (h *Host) DiscoverNow(ctx context.Context, loc ProviderLocations) error {
	var errs []error
	for _, in := range h.enabledPlugins() {
		if ep, ok := in.Plugin.(EntityProvider); ok {
			for _, p := range ep.EntityProviders() {
				if err := h.discover(ctx, in, p, loc); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (h *Host) discover(ctx context.Context, in *Instance, p Provider, loc ProviderLocations) error {
	specs, err := p.Discover(ctx)
	if err == nil {
		err = loc.ReplaceProviderLocations(ctx, p.Name(), specs)
	}
	if err != nil {
		err = fmt.Errorf("provider %s: %w", p.Name(), err)
		in.Status.Record(err)
		h.log.Warn("entity provider failed; its locations are kept as they were", "plugin", in.Info.ID, "error", err)
		return err
	}
	h.log.Info("entity provider", "plugin", in.Info.ID, "provider", p.Name(), "locations", len(specs))
	return nil
}

func (h *Host) runProvider(ctx context.Context, in *Instance, p Provider, loc ProviderLocations) {
	for {
		h.discover(ctx, in, p, loc)
		every := p.Schedule()
		if every <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (h *Host) runHealth(ctx context.Context, in *Instance, hc HealthChecker) {
	for {
		cctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
		err := hc.CheckHealth(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		in.Status.Record(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(h.opts.HealthInterval):
		}
	}
}

// Close closes the plugins that hold resources.
func (h *Host) Close() error {
	var errs []error
	for _, in := range h.list {
		if c, ok := in.Plugin.(Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", in.Info.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// PluginDocument is a search document with the plugin that offered it.
type PluginDocument struct {
	Plugin string
	SearchDocument
}

// SearchDocuments collects every enabled plugin's search documents. A
// plugin that fails is skipped (its error recorded in its status and
// returned joined), so one upstream cannot empty the others' results.
func (h *Host) SearchDocuments(ctx context.Context) ([]PluginDocument, map[string]bool, error) {
	var out []PluginDocument
	ok := map[string]bool{} // plugins whose documents are complete
	var errs []error
	for _, in := range h.enabledPlugins() {
		sp, is := in.Plugin.(SearchDocumentProvider)
		if !is {
			continue
		}
		docs, err := sp.SearchDocuments(ctx)
		if err != nil {
			err = fmt.Errorf("plugin %s: search documents: %w", in.Info.ID, err)
			in.Status.Record(err)
			errs = append(errs, err)
			continue
		}
		ok[in.Info.ID] = true
		for _, d := range docs {
			out = append(out, PluginDocument{Plugin: in.Info.ID, SearchDocument: d})
		}
	}
	return out, ok, errors.Join(errs...)
}
