// Package roadie offers Roadie's widely used scaffolder utility actions,
// the counterparts of the npm modules @roadiehq/scaffolder-backend-module-utils
// (roadiehq:utils:fs:append, fs:write, fs:replace, fs:parse, merge,
// json:merge, serialize:yaml, serialize:json, sleep and zip) and
// @roadiehq/scaffolder-backend-module-http-request (http:backstage:request),
// so templates written for a Backstage with those modules run unchanged.
//
// Enable it with:
//
//	plugins:
//	  roadie.utils: {}
//
// The section may hold baseUrl, where http:backstage:request sends its
// requests (default backend.baseUrl, else http://127.0.0.1:7007), and
// maxSleep, the longest roadiehq:utils:sleep in seconds (default 600).
//
// Every file action is confined to the task's workspace through the
// scaffolder/action helpers: relative paths only, no "..", no escape
// through a symbolic link. http:backstage:request only reaches the
// portal's own backend, under /api/.
//
// Roadie's jsonata actions (roadiehq:utils:jsonata, :jsonata:yaml:transform,
// :jsonata:json:transform) and yq are not offered: no JSONata
// implementation is among the module's dependencies.
package roadie

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// ID is the plugin's ID.
const ID = "roadie.utils"

const (
	defaultBaseURL  = "http://127.0.0.1:7007"
	defaultMaxSleep = 600 // seconds, as debug:wait's ten minutes
	maxMaxSleep     = 3600
)

// Info registers the plugin. Only plugins.roadie.utils turns it on: the
// actions are a choice of the portal's operator, not implied by any other
// setting.
func Info() plugins.Info {
	return plugins.Info{
		ID:          ID,
		Description: "Roadie's scaffolder utility actions (roadiehq:utils:*) and http:backstage:request",
		New:         func(env plugins.Env) (plugins.Plugin, error) { return New(env) },
	}
}

// Config is the plugins.roadie.utils section. Unknown keys are errors.
type Config struct {
	// BaseURL is the backend http:backstage:request calls (its paths are
	// appended to it).
	BaseURL string `yaml:"baseUrl"`
	// MaxSleep caps roadiehq:utils:sleep, in seconds (Roadie's maxSleep
	// option).
	MaxSleep *float64 `yaml:"maxSleep"`
}

// Plugin is the enabled plugin; it offers Actions.
type Plugin struct {
	base     *url.URL // no trailing slash
	maxSleep float64  // seconds
	http     *http.Client
	log      *slog.Logger
}

// ID implements plugins.Plugin.
func (p *Plugin) ID() string { return ID }

// New reads the plugin's section.
func New(env plugins.Env) (*Plugin, error) {
	if env.HTTP == nil {
		return nil, errors.New("roadie: Env.HTTP is nil")
	}
	cfg := env.Config
	if cfg == nil {
		cfg = plugins.NewConfig(nil)
	}
	var c Config
	if v := cfg.Plugin(ID); v != nil {
		if err := plugins.DecodeValue("plugins."+ID, v, &c); err != nil {
			return nil, err
		}
	}
	p := &Plugin{http: env.HTTP, log: env.Log, maxSleep: defaultMaxSleep}
	var err error
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.base, err = backendURL(cfg, c.BaseURL); err != nil {
		return nil, err
	}
	if c.MaxSleep != nil {
		if *c.MaxSleep <= 0 || *c.MaxSleep > maxMaxSleep {
			return nil, fmt.Errorf("config plugins.%s.maxSleep: must be more than 0 and at most %d seconds", ID, maxMaxSleep)
		}
		p.maxSleep = *c.MaxSleep
	}
	return p, nil
}

// BackendURL is where http:backstage:request sends its requests:
// plugins.roadie.utils.baseUrl, else backend.baseUrl, else
// http://127.0.0.1:7007. The server trusts its host for the plugin's
// calls (it is the portal itself, often a loopback address the reading
// policy would refuse).
func BackendURL(cfg *plugins.Config) (*url.URL, error) {
	var own string
	if m, ok := cfg.Plugin(ID).(map[string]any); ok {
		own, _ = m["baseUrl"].(string)
	}
	return backendURL(cfg, own)
}

func backendURL(cfg *plugins.Config, own string) (*url.URL, error) {
	raw, key := strings.TrimSpace(own), "plugins."+ID+".baseUrl"
	if raw == "" {
		raw, _ = cfg.Get("backend.baseUrl").(string)
		raw, key = strings.TrimSpace(raw), "backend.baseUrl"
	}
	if raw == "" {
		raw, key = defaultBaseURL, "the default base URL"
	}
	base, err := parseBaseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", key, err)
	}
	return base, nil
}

// parseBaseURL accepts an http(s) URL without credentials, query or
// fragment; a path prefix (a backend behind /backstage) is kept.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an http(s) URL without credentials, query or fragment", raw)
	}
	return u, nil
}

// Actions offers Roadie's actions.
func (p *Plugin) Actions() []action.Action {
	return []action.Action{
		appendAction{},
		writeAction{},
		replaceAction{},
		parseAction{},
		mergeAction{},
		jsonMergeAction{},
		serializeYAMLAction{},
		serializeJSONAction{},
		sleepAction{max: time.Duration(p.maxSleep * float64(time.Second)), maxSeconds: p.maxSleep},
		zipAction{},
		backstageRequest{p: p},
	}
}
