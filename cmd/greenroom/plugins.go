package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/azure"
	"github.com/greenroom-dev/greenroom/plugins/example"
	"github.com/greenroom-dev/greenroom/plugins/gitea"
	"github.com/greenroom-dev/greenroom/plugins/github"
	"github.com/greenroom-dev/greenroom/plugins/gitlab"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/plugins/roadie"
)

// builtinPlugins is every plugin compiled into this binary, in the order
// their readers and actions are consulted. Which of them run is decided by
// the configuration alone (see plugins.NewHost).
func builtinPlugins() []plugins.Info {
	return []plugins.Info{
		github.Info(),
		gitlab.Info(),
		gitea.Info(),
		azure.Info(),
		roadie.Info(),
		example.Info(),
	}
}

// startPlugins makes the enabled plugins and the URL reader every remote
// read goes through: the integrations' readers by host, then plain GETs of
// what backend.reading.allow admits, with internal addresses refused
// unless greenroom.reading.allowPrivateAddresses lists them.
func startPlugins(cfg *Config, log *slog.Logger) (*plugins.Host, *reading.Mux, error) {
	pc := plugins.NewConfig(cfg.Raw)
	allow, err := reading.DecodeAllow(pc.Get("backend.reading.allow"))
	if err != nil {
		return nil, nil, fmt.Errorf("config backend.reading.allow: %w", err)
	}
	private, err := reading.DecodePrivate(pc.Get("greenroom.reading.allowPrivateAddresses"))
	if err != nil {
		return nil, nil, fmt.Errorf("config greenroom.reading.allowPrivateAddresses: %w", err)
	}
	// The policy alone (no readers yet) carries the plugins' own calls:
	// their configured hosts are trusted, redirects elsewhere are checked.
	policy, err := reading.New(reading.Config{Allow: allow, AllowPrivate: private})
	if err != nil {
		return nil, nil, err
	}
	integ := integrationsOf(cfg)
	var hosts []string
	for _, i := range integ.List() {
		hosts = append(hosts, i.Host)
		if i.BaseURL != nil {
			hosts = append(hosts, i.BaseURL.Host)
		}
	}
	// http:backstage:request calls this portal's own /api/ (its own
	// checks confine it there), so the backend's host is trusted too.
	if pc.Plugin(roadie.ID) != nil {
		if u, err := roadie.BackendURL(pc); err == nil {
			hosts = append(hosts, u.Host)
		}
	}
	host, err := plugins.NewHost(builtinPlugins(), pc, plugins.HostOptions{
		Log: log, DataDir: filepath.Join(cfg.DataDir, "plugins"),
		Transport: policy.PluginTransport(hosts), Integrations: integ,
	})
	if err != nil {
		return nil, nil, err
	}
	mux, err := reading.New(reading.Config{Readers: host.URLReaders(), Allow: allow, AllowPrivate: private})
	if err != nil {
		host.Close()
		return nil, nil, err
	}
	return host, mux, nil
}

// integrationsOf lists the integrations.* hosts with their types and base
// URLs (baseUrl where the integration has one, else https://<host>).
func integrationsOf(cfg *Config) *plugins.Integrations {
	in := &plugins.Integrations{}
	integ, _ := cfg.Raw["integrations"].(map[string]any)
	types := make([]string, 0, len(integ))
	for t := range integ {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		list, _ := integ[t].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			h := integrationHost(t, m)
			if h == "" {
				continue
			}
			base := "https://" + h
			if b := str(m["baseUrl"]); b != "" {
				base = strings.TrimSuffix(b, "/")
			}
			u, err := url.Parse(base)
			if err != nil {
				u = nil
			}
			in.Add(plugins.Integration{Type: t, Host: h, BaseURL: u})
		}
	}
	return in
}

// pluginSearch keeps the plugins' search documents in the search index:
// each sync replaces a plugin's documents with what it offers now (a
// plugin that fails keeps its last ones). The IDs it wrote are kept in
// the index beside the documents, so a restart removes stale ones too.
type pluginSearch struct {
	host  *plugins.Host
	index *search.Index
	log   *slog.Logger
}

var pluginDocsKey = []byte("plugins:documents")

func (ps pluginSearch) sync(ctx context.Context) error {
	docs, complete, err := ps.host.SearchDocuments(ctx)
	prev := map[string][]string{}
	if raw, ierr := ps.index.Internal(pluginDocsKey); ierr == nil && len(raw) > 0 {
		json.Unmarshal(raw, &prev)
	}
	next := map[string][]string{}
	for id, ids := range prev {
		if !complete[id] {
			next[id] = ids // kept as they were
		}
	}
	var puts []search.Document
	for _, d := range docs {
		sum := sha256.Sum256([]byte(d.Type + "\x00" + d.Location + "\x00" + d.Title))
		id := "plugin:" + d.Plugin + ":" + hex.EncodeToString(sum[:8])
		next[d.Plugin] = append(next[d.Plugin], id)
		puts = append(puts, search.Document{ID: id, Type: d.Type, Title: d.Title, Text: d.Text, Location: d.Location})
	}
	var deletes []string
	for id, ids := range prev {
		if !complete[id] {
			continue
		}
		keep := map[string]bool{}
		for _, n := range next[id] {
			keep[n] = true
		}
		for _, old := range ids {
			if !keep[old] {
				deletes = append(deletes, old)
			}
		}
	}
	state, _ := json.Marshal(next)
	if aerr := ps.index.Apply(puts, deletes, pluginDocsKey, state); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// run syncs now and then every interval until ctx ends.
func (ps pluginSearch) run(ctx context.Context, every time.Duration) {
	for {
		if err := ps.sync(ctx); err != nil && ctx.Err() == nil {
			ps.log.Warn("plugins: search documents", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
