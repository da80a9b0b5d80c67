package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/example"
	"github.com/greenroom-dev/greenroom/plugins/gitea"
	"github.com/greenroom-dev/greenroom/plugins/github"
	"github.com/greenroom-dev/greenroom/plugins/gitlab"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// builtinPlugins is every plugin compiled into this binary, in the order
// their readers and actions are consulted. Which of them run is decided by
// the configuration alone (see plugins.NewHost).
func builtinPlugins() []plugins.Info {
	return []plugins.Info{
		github.Info(),
		gitlab.Info(),
		gitea.Info(),
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
			h := str(m["host"])
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
