package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

// Config is what Greenroom reads from Backstage's app-config.yaml layout,
// plus its own settings. Every setting also has a flag and an environment
// variable (GREENROOM_…); flags win over the environment, which wins over
// the file.
type Config struct {
	Addr    string
	DataDir string

	Locations          []catalog.LocationSpec
	LocationRules      []catalog.Rule // per-location rules, after the global ones
	Rules              []catalog.Rule
	RulesSet           bool // catalog.rules given (else Backstage's default rules)
	ProcessingInterval time.Duration
	OrphanStrategy     string
	Readonly           bool
	// ImportPaths lets users register file locations (local paths).
	ImportPaths bool

	DatabaseClient string // "better-sqlite3"/"sqlite3" or "pg"
	DatabaseFile   string // for SQLite: the file (default: <data-dir>/catalog.db)

	Demo bool // no config: serve the bundled demo catalog

	// GitHosts are the hosts of Backstage's integrations.* config
	// (github, gitlab, …): publish:git may push there over https and the
	// RepoUrlPicker offers them.
	GitHosts []string
	// Integrations maps those hosts to their integration type (the
	// integrations key: github, gitlab, bitbucketServer, …), for
	// templates' parseRepoUrl.
	Integrations map[string]string
	// LocalGitHosts (greenroom.scaffolder.localGitHosts) are hosts whose
	// repositories are bare repositories under <data-dir>/repos/<host>:
	// publish:git creates them and the catalog crawls them, so the golden
	// path runs with no git service. The demo maps its own host.
	LocalGitHosts []string

	// Raw is the whole document after ${ENV} substitution: plugins read
	// their own keys from it (nil: no config file, the demo).
	Raw map[string]any

	// Warnings are keys we read but do not act on, or do not know.
	Warnings []string
}

// knownKeys are the app-config keys Greenroom understands. Others are
// reported: Backstage configs carry many keys for plugins we do not have,
// and a silent ignore would hide typos in the ones we do.
var knownKeys = map[string]bool{
	"app.title": true, "app.baseUrl": true, "organization.name": true,
	"backend.baseUrl": true, "backend.listen": true, "backend.listen.port": true, "backend.listen.host": true,
	"backend.database": true, "backend.database.client": true, "backend.database.connection": true,
	"catalog.locations": true, "catalog.rules": true, "catalog.processingInterval": true,
	"catalog.orphanStrategy": true, "catalog.readonly": true, "catalog.import": true, "catalog.import.allowPaths": true,
	"greenroom.addr": true, "greenroom.dataDir": true,
	"greenroom.scaffolder.localGitHosts": true, "integrations": true,
	// read and checked by the plugins and the URL reader
	"plugins": true, "catalog.providers": true, "events": true,
	"backend.reading": true, "greenroom.reading": true,
	// read and checked by sign-in (web/auth)
	"auth": true, "backend.auth": true, "includeTransitiveGroupOwnership": true,
	// read and checked by the permission policy (plugins/rbac)
	"permission": true,
}

var envRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// substituteEnv replaces ${VAR} as Backstage does; $${VAR} escapes it.
func substituteEnv(s string, missing *[]string) string {
	var b strings.Builder
	for {
		loc := envRe.FindStringSubmatchIndex(s)
		if loc == nil {
			b.WriteString(s)
			return b.String()
		}
		if loc[0] > 0 && s[loc[0]-1] == '$' {
			b.WriteString(s[:loc[0]-1])
			b.WriteString(s[loc[0]:loc[1]])
			s = s[loc[1]:]
			continue
		}
		name := s[loc[2]:loc[3]]
		v, ok := os.LookupEnv(name)
		if !ok {
			*missing = append(*missing, name)
		}
		b.WriteString(s[:loc[0]])
		b.WriteString(v)
		s = s[loc[1]:]
	}
}

// LoadConfig reads an app-config.yaml. Relative file targets resolve
// against the config file's directory, as Backstage resolves them against
// its working directory (usually where the config lives).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var missing []string
	text := substituteEnv(string(data), &missing)
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg := &Config{OrphanStrategy: "delete", ProcessingInterval: 100 * time.Second, Raw: raw}
	for _, m := range missing {
		cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("environment variable %s is not set; substituted an empty string", m))
	}
	flattenUnknown("", raw, &cfg.Warnings)
	base, _ := filepath.Abs(filepath.Dir(path))

	catalogCfg, _ := raw["catalog"].(map[string]any)
	if locs, ok := catalogCfg["locations"].([]any); ok {
		for i, l := range locs {
			m, ok := l.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config %s: catalog.locations[%d] must be an object with type and target", path, i)
			}
			spec, err := locationFromConfig(m, base)
			if err != nil {
				return nil, fmt.Errorf("config %s: catalog.locations[%d]: %w", path, i, err)
			}
			cfg.Locations = append(cfg.Locations, spec)
			if rules, ok := m["rules"].([]any); ok {
				for j, r := range rules {
					rm, _ := r.(map[string]any)
					kinds, err := ruleKinds(rm["allow"])
					if err != nil {
						return nil, fmt.Errorf("config %s: catalog.locations[%d].rules[%d]: %w", path, i, j, err)
					}
					cfg.LocationRules = append(cfg.LocationRules, catalog.Rule{Allow: kinds,
						Locations: []catalog.RuleLocation{{Type: spec.Type, Exact: spec.Target}}})
				}
			}
		}
	}
	if rules, ok := catalogCfg["rules"]; ok {
		cfg.RulesSet = true
		list, ok := rules.([]any)
		if !ok {
			return nil, fmt.Errorf("config %s: catalog.rules must be a list", path)
		}
		for i, r := range list {
			rm, _ := r.(map[string]any)
			kinds, err := ruleKinds(rm["allow"])
			if err != nil {
				return nil, fmt.Errorf("config %s: catalog.rules[%d]: %w", path, i, err)
			}
			rule := catalog.Rule{Allow: kinds}
			if locs, ok := rm["locations"].([]any); ok {
				rule.Locations = []catalog.RuleLocation{}
				for _, l := range locs {
					lm, _ := l.(map[string]any)
					rl := catalog.RuleLocation{Type: str(lm["type"]), Exact: str(lm["exact"]), Pattern: str(lm["pattern"])}
					if rl.Exact != "" {
						rl.Exact = catalog.ResolveRuleTarget(rl.Type, absIfFile(rl.Type, rl.Exact, base))
					}
					rule.Locations = append(rule.Locations, rl)
				}
			}
			cfg.Rules = append(cfg.Rules, rule)
		}
	}
	if v, ok := catalogCfg["processingInterval"]; ok {
		d, err := parseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("config %s: catalog.processingInterval: %w", path, err)
		}
		cfg.ProcessingInterval = d
	}
	if v, ok := catalogCfg["orphanStrategy"]; ok {
		s := str(v)
		if s != "keep" && s != "delete" {
			return nil, fmt.Errorf("config %s: catalog.orphanStrategy must be keep or delete, got %q", path, s)
		}
		cfg.OrphanStrategy = s
	}
	if v, ok := catalogCfg["readonly"].(bool); ok {
		cfg.Readonly = v
	}
	if imp, ok := catalogCfg["import"].(map[string]any); ok {
		if v, ok := imp["allowPaths"].(bool); ok {
			cfg.ImportPaths = v
		}
	}
	backend, _ := raw["backend"].(map[string]any)
	if db, ok := backend["database"].(map[string]any); ok {
		cfg.DatabaseClient = str(db["client"])
		switch conn := db["connection"].(type) {
		case string:
			if conn != ":memory:" {
				cfg.DatabaseFile = absIfFile("file", conn, base)
			}
		case map[string]any:
			if d := str(conn["directory"]); d != "" {
				cfg.DatabaseFile = filepath.Join(absIfFile("file", d, base), "catalog.db")
			}
		}
		switch cfg.DatabaseClient {
		case "", "better-sqlite3", "sqlite3":
		default:
			return nil, fmt.Errorf("config %s: backend.database.client %q is not supported yet (use better-sqlite3 or sqlite3)", path, cfg.DatabaseClient)
		}
	}
	if listen, ok := backend["listen"].(map[string]any); ok {
		host := str(listen["host"])
		if port := listen["port"]; port != nil {
			cfg.Addr = fmt.Sprintf("%s:%v", host, port)
		}
	}
	if integ, ok := raw["integrations"].(map[string]any); ok {
		providers := make([]string, 0, len(integ))
		for k := range integ {
			providers = append(providers, k)
		}
		sort.Strings(providers)
		for _, prov := range providers {
			list, ok := integ[prov].([]any)
			if !ok {
				return nil, fmt.Errorf("config %s: integrations.%s must be a list", path, prov)
			}
			for i, item := range list {
				m, _ := item.(map[string]any)
				host := integrationHost(prov, m)
				if host == "" {
					return nil, fmt.Errorf("config %s: integrations.%s[%d] has no host", path, prov, i)
				}
				cfg.GitHosts = append(cfg.GitHosts, host)
				if cfg.Integrations == nil {
					cfg.Integrations = map[string]string{}
				}
				cfg.Integrations[strings.ToLower(host)] = prov
			}
		}
	}
	if g, ok := raw["greenroom"].(map[string]any); ok {
		if sc, ok := g["scaffolder"].(map[string]any); ok {
			if hosts, ok := sc["localGitHosts"]; ok {
				list, ok := hosts.([]any)
				if !ok {
					return nil, fmt.Errorf("config %s: greenroom.scaffolder.localGitHosts must be a list of hosts", path)
				}
				for _, h := range list {
					hs := str(h)
					if hs == "" || strings.ContainsAny(hs, "/\\ ") || hs == "." || hs == ".." {
						return nil, fmt.Errorf("config %s: greenroom.scaffolder.localGitHosts: invalid host %q", path, hs)
					}
					cfg.LocalGitHosts = append(cfg.LocalGitHosts, hs)
				}
			}
		}
		if v := str(g["addr"]); v != "" {
			cfg.Addr = v
		}
		if v := str(g["dataDir"]); v != "" {
			cfg.DataDir = absIfFile("file", v, base)
		}
	}
	return cfg, nil
}

// integrationHost is an integrations.<type>[] entry's host, with
// Backstage's defaults for the types that have one.
func integrationHost(typ string, m map[string]any) string {
	if h := str(m["host"]); h != "" {
		return h
	}
	return map[string]string{"github": "github.com", "azure": "dev.azure.com"}[typ]
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func absIfFile(typ, target, base string) string {
	if typ != "file" || filepath.IsAbs(target) {
		return target
	}
	return filepath.Join(base, target)
}

// locationFromConfig reads {type, target, presence?} and, for git,
// {branch, path} into the "<repo>/blob/<branch>/<path>" form.
func locationFromConfig(m map[string]any, base string) (catalog.LocationSpec, error) {
	spec := catalog.LocationSpec{Type: str(m["type"]), Target: str(m["target"]), Presence: str(m["presence"])}
	if spec.Type == "" || spec.Target == "" {
		return spec, errors.New("type and target are required")
	}
	switch spec.Type {
	case "file":
		spec.Target = absIfFile("file", spec.Target, base)
	case "url":
	case "git":
		repo := spec.Target
		if !strings.Contains(repo, "://") && !strings.Contains(repo, "@") && !filepath.IsAbs(repo) {
			repo = filepath.Join(base, repo)
		}
		branch, p := str(m["branch"]), str(m["path"])
		if branch == "" {
			branch = "main"
		}
		if p == "" {
			p = "catalog-info.yaml"
		}
		if strings.Contains(repo, "/blob/") {
			spec.Target = repo
		} else {
			spec.Target = strings.TrimSuffix(repo, "/") + "/blob/" + branch + "/" + strings.TrimPrefix(p, "/")
		}
	default:
		return spec, fmt.Errorf("unsupported location type %q (supported: file, url, git)", spec.Type)
	}
	if spec.Presence != "" && spec.Presence != "required" && spec.Presence != "optional" {
		return spec, fmt.Errorf("presence must be required or optional, got %q", spec.Presence)
	}
	return spec, nil
}

func ruleKinds(v any) ([]catalog.RuleKind, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("allow must be a list of kinds")
	}
	var out []catalog.RuleKind
	for _, item := range list {
		switch t := item.(type) {
		case string:
			out = append(out, catalog.RuleKind{Kind: t})
		case map[string]any:
			out = append(out, catalog.RuleKind{Kind: str(t["kind"]), SpecType: str(t["spec.type"])})
		default:
			return nil, fmt.Errorf("allow entries must be kinds or {kind, spec.type}, got %v", item)
		}
	}
	return out, nil
}

// flattenUnknown reports keys outside knownKeys. Subtrees of known keys are
// not descended into (their contents are validated where they are read).
func flattenUnknown(prefix string, m map[string]any, warnings *[]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if knownKeys[full] {
			continue
		}
		if sub, ok := m[k].(map[string]any); ok && hasKnownPrefix(full) {
			flattenUnknown(full, sub, warnings)
			continue
		}
		*warnings = append(*warnings, fmt.Sprintf("config key %s is not used by Greenroom", full))
	}
}

func hasKnownPrefix(p string) bool {
	for k := range knownKeys {
		if strings.HasPrefix(k, p+".") {
			return true
		}
	}
	return false
}

// parseDuration reads catalog.processingInterval (and its flag): the
// forms of plugins.ParseDuration, a number of milliseconds, or false to
// disable processing.
func parseDuration(v any) (time.Duration, error) {
	switch t := v.(type) {
	case bool:
		if !t {
			return 0, nil
		}
	case int:
		return time.Duration(t) * time.Millisecond, nil
	case string, map[string]any:
		return plugins.ParseDuration(v)
	}
	return 0, fmt.Errorf("expected a duration such as {minutes: 2}, PT2M or false, got %v", v)
}
