package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("validate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	format := fl.String("format", "text", "output format: text or jsonl")
	rules := fl.String("rules", "", `catalog rules to apply: "default" (Component, API, Location) or empty for none`)
	config := fl.String("config", env("GREENROOM_CONFIG", ""), "app-config.yaml whose integrations and backend.reading.allow decide which remote $text/$json/$yaml placeholders may be read (none without it)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: greenroom validate [--format text|jsonl] [--rules default] [--config app-config.yaml] PATH...")
		fmt.Fprintln(stderr, "Lints catalog descriptor files (directories are searched for *.yaml and *.yml) the way Backstage would ingest them.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 {
		fl.Usage()
		return 2
	}
	// Remote placeholders are read as the server reads them: through the
	// integrations and backend.reading.allow of the config, if one is given.
	cfg := &Config{DataDir: os.TempDir()}
	if *config != "" {
		c, err := LoadConfig(*config)
		if err != nil {
			fmt.Fprintf(stderr, "greenroom validate: %v\n", err)
			return 2
		}
		cfg = c
		cfg.DataDir = filepath.Join(os.TempDir(), "greenroom-validate")
	}
	host, urls, err := startPlugins(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintf(stderr, "greenroom validate: %v\n", err)
		return 2
	}
	defer host.Close()
	opts := ingest.LintOptions{Fetcher: urls}
	switch *rules {
	case "":
	case "default":
		opts.Rules = catalog.DefaultRules()
	default:
		fmt.Fprintf(stderr, "greenroom validate: unknown --rules %q (want \"default\")\n", *rules)
		return 2
	}
	if *format != "text" && *format != "jsonl" {
		fmt.Fprintf(stderr, "greenroom validate: unknown --format %q (want text or jsonl)\n", *format)
		return 2
	}
	files, err := collectYAML(fl.Args())
	if err != nil {
		fmt.Fprintf(stderr, "greenroom validate: %v\n", err)
		return 2
	}
	results := ingest.Lint(ctx, files, opts)
	failed := 0
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, r := range results {
		if !r.OK {
			failed++
		}
		if *format == "jsonl" {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintf(stderr, "greenroom validate: %v\n", err)
				return 2
			}
			continue
		}
		switch {
		case r.Ignored:
		case r.OK:
			fmt.Fprintf(stdout, "ok    %s#%d %s\n", r.File, r.Index, r.Ref)
		default:
			fmt.Fprintf(stdout, "FAIL  %s#%d %s\n      %s\n", r.File, r.Index, r.Ref, strings.ReplaceAll(r.Error, "\n", "\n      "))
		}
	}
	if *format == "text" {
		fmt.Fprintf(stdout, "%d documents, %d rejected\n", len(results), failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// collectYAML expands directories into their *.yaml and *.yml files, sorted,
// skipping hidden directories and node_modules.
func collectYAML(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}
