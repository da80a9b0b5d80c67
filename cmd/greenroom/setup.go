package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/service"
	"github.com/greenroom-dev/greenroom/techdocs"
)

// settings are the flags shared by serve and ingest. Each has an
// environment variable; a flag given on the command line wins.
type settings struct {
	config             string
	addr               string
	dataDir            string
	database           string
	processingInterval string
	orphanStrategy     string
	locations          locationFlags
	allowKinds         string
	readonly           bool
	importPaths        bool
	quiet              bool // log warnings and errors only (commands whose output is for people)
}

// locationFlags collects repeated --location type:target flags.
type locationFlags []string

func (l *locationFlags) String() string     { return strings.Join(*l, ",") }
func (l *locationFlags) Set(v string) error { *l = append(*l, v); return nil }

func (s *settings) register(fl *flag.FlagSet, withAddr bool) {
	fl.StringVar(&s.config, "config", env("GREENROOM_CONFIG", ""), "app-config.yaml to read (env GREENROOM_CONFIG); without it the bundled demo catalog is served")
	if withAddr {
		fl.StringVar(&s.addr, "addr", env("GREENROOM_ADDR", ""), "listen address (env GREENROOM_ADDR; default 127.0.0.1:7007, Backstage's backend port)")
	}
	fl.StringVar(&s.dataDir, "data-dir", env("GREENROOM_DATA_DIR", ""), "directory for the database and git checkouts (env GREENROOM_DATA_DIR; default ./data)")
	fl.StringVar(&s.database, "database", env("GREENROOM_DATABASE", ""), "SQLite database file (env GREENROOM_DATABASE; default <data-dir>/catalog.db)")
	fl.StringVar(&s.processingInterval, "processing-interval", env("GREENROOM_PROCESSING_INTERVAL", ""), "refresh interval such as 2m, or 0 to disable (env GREENROOM_PROCESSING_INTERVAL; config catalog.processingInterval)")
	fl.Var(&s.locations, "location", "a location to crawl as type:target, e.g. file:./catalog-info.yaml; repeatable, added to the config's catalog.locations (env GREENROOM_LOCATIONS, comma-separated)")
	if v := env("GREENROOM_LOCATIONS", ""); v != "" {
		for _, l := range strings.Split(v, ",") {
			s.locations = append(s.locations, strings.TrimSpace(l))
		}
	}
	fl.StringVar(&s.allowKinds, "allow-kinds", env("GREENROOM_ALLOW_KINDS", ""), "kinds locations may emit, comma-separated, replacing catalog.rules (env GREENROOM_ALLOW_KINDS)")
	fl.BoolVar(&s.importPaths, "import-paths", env("GREENROOM_IMPORT_PATHS", "") == "true", "let users register local paths (file locations) from the import page and the API, for a portal on your own machine (env GREENROOM_IMPORT_PATHS=true; config catalog.import.allowPaths)")
	fl.BoolVar(&s.readonly, "readonly", env("GREENROOM_READONLY", "") == "true", "refuse location changes through the API (env GREENROOM_READONLY=true; config catalog.readonly)")
	fl.StringVar(&s.orphanStrategy, "orphan-strategy", env("GREENROOM_ORPHAN_STRATEGY", ""), "delete or keep entities no longer emitted (env GREENROOM_ORPHAN_STRATEGY; config catalog.orphanStrategy)")
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// startCommand parses the shared flags of serve and ingest and wires the
// app. On failure it returns a nil app and the exit code.
func startCommand(ctx context.Context, name string, args []string, stderr io.Writer) (*app, settings, int) {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	var s settings
	s.register(fl, name == "serve")
	if err := fl.Parse(args); err != nil {
		return nil, s, 2
	}
	a, err := setup(ctx, s, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom %s: %v\n", name, err)
		return nil, s, 1
	}
	return a, s, 0
}

// app is the wired catalog: config, store and ingestion engine.
type app struct {
	cfg    *Config
	store  *store.Store
	engine *ingest.Engine
	log    *slog.Logger
	// plugins are the enabled plugins; urls reads every remote URL.
	plugins *plugins.Host
	urls    *reading.Mux
}

// close releases what setup opened.
func (a *app) close() {
	a.store.Close()
	a.plugins.Close()
}

func setup(ctx context.Context, s settings, stderr io.Writer) (*app, error) {
	level := slog.LevelInfo
	if s.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var cfg *Config
	if s.config != "" {
		c, err := LoadConfig(s.config)
		if err != nil {
			return nil, err
		}
		cfg = c
		for _, w := range cfg.Warnings {
			log.Warn(w)
		}
	} else {
		cfg = &Config{Demo: true, OrphanStrategy: "delete", ProcessingInterval: 100 * time.Second}
	}
	if s.addr != "" {
		cfg.Addr = s.addr
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:7007"
	}
	if s.dataDir != "" {
		cfg.DataDir = s.dataDir
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if s.database != "" {
		cfg.DatabaseFile = s.database
	}
	if cfg.DatabaseFile == "" {
		cfg.DatabaseFile = filepath.Join(cfg.DataDir, "catalog.db")
	}
	if s.processingInterval != "" {
		d, err := parseDuration(s.processingInterval)
		if err != nil {
			return nil, fmt.Errorf("--processing-interval: %w", err)
		}
		cfg.ProcessingInterval = d
	}
	if s.orphanStrategy != "" {
		if s.orphanStrategy != "keep" && s.orphanStrategy != "delete" {
			return nil, fmt.Errorf("--orphan-strategy must be keep or delete, got %q", s.orphanStrategy)
		}
		cfg.OrphanStrategy = s.orphanStrategy
	}
	cwd, _ := os.Getwd()
	for _, l := range s.locations {
		ref, err := catalog.ParseLocationRef(l)
		if err != nil {
			return nil, fmt.Errorf("--location: %w", err)
		}
		spec, err := locationFromConfig(map[string]any{"type": ref.Type, "target": ref.Target}, cwd)
		if err != nil {
			return nil, fmt.Errorf("--location %s: %w", l, err)
		}
		cfg.Locations = append(cfg.Locations, spec)
		cfg.Demo = false
	}
	if s.allowKinds != "" {
		var kinds []catalog.RuleKind
		for _, k := range strings.Split(s.allowKinds, ",") {
			kinds = append(kinds, catalog.RuleKind{Kind: strings.TrimSpace(k)})
		}
		cfg.Rules, cfg.RulesSet = []catalog.Rule{{Allow: kinds}}, true
	}
	if s.readonly {
		cfg.Readonly = true
	}
	if s.importPaths {
		cfg.ImportPaths = true
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DatabaseFile), 0o755); err != nil {
		return nil, fmt.Errorf("database directory: %w", err)
	}

	var rules *catalog.Rules
	if cfg.Demo {
		root, err := writeDemo(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		cfg.Locations = []catalog.LocationSpec{{Type: "file", Target: root}}
		rules = catalog.AllowAll() // the demo carries its own groups and users
		// The demo's golden-path template publishes to its company's git
		// host; here that host is a directory of bare repositories.
		cfg.LocalGitHosts = append(cfg.LocalGitHosts, demo.GitHost)
	} else {
		list := cfg.Rules
		if !cfg.RulesSet {
			list = []catalog.Rule{{Allow: []catalog.RuleKind{{Kind: "Component"}, {Kind: "API"}, {Kind: "Location"}}}}
		}
		r, err := catalog.NewRules(append(append([]catalog.Rule(nil), list...), cfg.LocationRules...))
		if err != nil {
			return nil, err
		}
		rules = r
	}

	host, urls, err := startPlugins(cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenSQLite(ctx, cfg.DatabaseFile)
	if err != nil {
		host.Close()
		return nil, err
	}
	st.OrphanStrategy = cfg.OrphanStrategy
	reader := &ingest.Reader{
		Fetcher: urls,
		GitDir:  filepath.Join(cfg.DataDir, "git"),
	}
	eng := &ingest.Engine{
		Store:    st,
		Crawler:  &ingest.Crawler{Reader: reader, Rules: rules},
		Interval: cfg.ProcessingInterval,
		Log:      log,
	}
	if err := eng.SyncConfigLocations(ctx, cfg.Locations); err != nil {
		st.Close()
		host.Close()
		return nil, err
	}
	return &app{cfg: cfg, store: st, engine: eng, log: log, plugins: host, urls: urls}, nil
}

// writeDemo copies the embedded demo catalog into the data directory, so
// it is read like any file location (and can be edited to try the watcher).
func writeDemo(dataDir string) (string, error) {
	return demo.Write(filepath.Join(dataDir, "demo"))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// docs is the TechDocs service over the app's catalog: local and git
// docs from their checkouts, url: docs trees through the reader, kept in
// <data-dir>/techdocs.
func (a *app) docs() *techdocs.Service {
	return &techdocs.Service{Catalog: a.store, Git: a.engine.Crawler.Reader,
		Reader: a.urls, DataDir: filepath.Join(a.cfg.DataDir, "techdocs")}
}

// scaffolder opens the template runner over the app's catalog, with its
// tasks in <data-dir>/tasks.db.
func (a *app) scaffolder() (*service.Service, error) {
	s, interrupted, err := service.Open(a.store, a.engine, service.Config{
		DataDir: a.cfg.DataDir, GitHosts: a.cfg.GitHosts, LocalGitHosts: a.cfg.LocalGitHosts,
		Integrations: a.cfg.Integrations,
		Actions:      a.plugins.Actions(),
		Reader:       a.urls.Plain(),
	})
	if err != nil {
		return nil, err
	}
	if len(interrupted) > 0 {
		a.log.Warn("scaffolder: tasks interrupted by the last shutdown marked failed; they can be retried", "tasks", len(interrupted))
	}
	return s, nil
}
