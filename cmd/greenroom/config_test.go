package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("GR_TEST_TARGET", "services/a.yaml")
	p := writeConfig(t, `
app:
  title: Acme
catalog:
  rules:
    - allow: [Component, {kind: Resource, spec.type: database}]
      locations:
        - type: file
          pattern: "**/org/*.yaml"
  processingInterval: { minutes: 2 }
  orphanStrategy: keep
  locations:
    - type: file
      target: ./${GR_TEST_TARGET}
    - type: file
      target: org.yaml
      rules:
        - allow: [User, Group]
    - type: url
      target: https://example.com/catalog-info.yaml
      presence: optional
    - type: git
      target: https://git.example.com/team/repo.git
      path: catalog/**/*.yaml
backend:
  listen: { port: 7100 }
  database:
    client: better-sqlite3
    connection: ./db/catalog.db
scaffolder:
  defaultAuthor: { name: x }
`)
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Dir(p)
	want := []catalog.LocationSpec{
		{Type: "file", Target: filepath.Join(base, "services/a.yaml")},
		{Type: "file", Target: filepath.Join(base, "org.yaml")},
		{Type: "url", Target: "https://example.com/catalog-info.yaml", Presence: "optional"},
		{Type: "git", Target: "https://git.example.com/team/repo.git/blob/main/catalog/**/*.yaml"},
	}
	if len(cfg.Locations) != len(want) {
		t.Fatalf("locations = %+v", cfg.Locations)
	}
	for i := range want {
		if cfg.Locations[i] != want[i] {
			t.Errorf("location %d = %+v, want %+v", i, cfg.Locations[i], want[i])
		}
	}
	if cfg.ProcessingInterval != 2*time.Minute {
		t.Errorf("processingInterval = %v", cfg.ProcessingInterval)
	}
	if cfg.OrphanStrategy != "keep" || !cfg.RulesSet || len(cfg.Rules) != 1 || len(cfg.LocationRules) != 1 {
		t.Errorf("config = %+v", cfg)
	}
	if got := cfg.Rules[0].Allow[1]; got.Kind != "Resource" || got.SpecType != "database" {
		t.Errorf("rule kind = %+v", got)
	}
	if cfg.Addr != ":7100" || cfg.DatabaseFile != filepath.Join(base, "db/catalog.db") {
		t.Errorf("addr %q database %q", cfg.Addr, cfg.DatabaseFile)
	}
	if !slicesContain(cfg.Warnings, "config key scaffolder is not used by Greenroom") {
		t.Errorf("unknown keys not reported: %v", cfg.Warnings)
	}
	if slicesContain(cfg.Warnings, "config key app.title is not used by Greenroom") {
		t.Errorf("known key reported: %v", cfg.Warnings)
	}

	rules, err := catalog.NewRules(append(cfg.Rules, cfg.LocationRules...))
	if err != nil {
		t.Fatal(err)
	}
	org := catalog.LocationRef{Type: "file", Target: filepath.Join(base, "org.yaml")}
	if !rules.IsAllowed("User", "", org) || rules.IsAllowed("User", "", catalog.LocationRef{Type: "file", Target: "/x.yaml"}) {
		t.Error("per-location rule not applied to its location only")
	}
}

func TestLoadConfigErrors(t *testing.T) {
	cases := map[string]string{
		"location without target": "catalog:\n  locations:\n    - type: file\n",
		"unknown location type":   "catalog:\n  locations:\n    - type: s3\n      target: x\n",
		"bad orphan strategy":     "catalog:\n  orphanStrategy: sometimes\n",
		"bad interval":            "catalog:\n  processingInterval: { fortnights: 1 }\n",
		"bad database client":     "backend:\n  database:\n    client: mysql\n",
		"rules not a list":        "catalog:\n  rules: {allow: [Component]}\n",
		"bad yaml":                "catalog: [\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadConfig(writeConfig(t, text)); err == nil {
				t.Fatal("no error")
			} else if !strings.Contains(err.Error(), "app-config.yaml") && !strings.Contains(err.Error(), "config") {
				t.Errorf("error does not name the config: %v", err)
			}
		})
	}
}

func TestEnvSubstitution(t *testing.T) {
	t.Setenv("GR_A", "alpha")
	var missing []string
	got := substituteEnv("x ${GR_A} $${GR_A} ${GR_MISSING_VAR}", &missing)
	if got != "x alpha ${GR_A} " {
		t.Errorf("got %q", got)
	}
	if len(missing) != 1 || missing[0] != "GR_MISSING_VAR" {
		t.Errorf("missing = %v", missing)
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   any
		want time.Duration
	}{
		{map[string]any{"minutes": 2}, 2 * time.Minute},
		{map[string]any{"hours": 1, "seconds": 30}, time.Hour + 30*time.Second},
		{"PT1H30M", 90 * time.Minute},
		{"P1D", 24 * time.Hour},
		{"90s", 90 * time.Second},
		{false, 0},
	}
	for _, c := range cases {
		got, err := parseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseDuration(%v) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []any{"soon", map[string]any{"minutes": "two"}, true, []any{}} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%v) accepted", bad)
		}
	}
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// catalog.import.allowPaths lets users register local paths.
func TestImportPathsSetting(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(p, []byte("catalog:\n  import:\n    allowPaths: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ImportPaths || len(cfg.Warnings) != 0 {
		t.Errorf("ImportPaths %v, warnings %v", cfg.ImportPaths, cfg.Warnings)
	}
}

func TestConfigGitHosts(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app-config.yaml")
	os.WriteFile(p, []byte(`integrations:
  github:
    - host: github.com
      token: x
  gitlab:
    - host: gitlab.example.com
greenroom:
  scaffolder:
    localGitHosts: [git.internal.example]
`), 0o644)
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.GitHosts) != "[github.com gitlab.example.com]" || fmt.Sprint(cfg.LocalGitHosts) != "[git.internal.example]" {
		t.Errorf("hosts %v, local %v", cfg.GitHosts, cfg.LocalGitHosts)
	}
	if cfg.Integrations["gitlab.example.com"] != "gitlab" || cfg.Integrations["github.com"] != "github" {
		t.Errorf("integrations %v", cfg.Integrations)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	os.WriteFile(p, []byte("greenroom:\n  scaffolder:\n    localGitHosts: [../x]\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "invalid host") {
		t.Errorf("a host with a slash: %v", err)
	}
}
