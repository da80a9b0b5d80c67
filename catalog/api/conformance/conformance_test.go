// Package conformance drives Greenroom's catalog API with Backstage's own
// client, @backstage/catalog-client (pinned in package.json), on Node.
//
// TestCatalogClientConformance wires the server in-process as
// `greenroom serve` does (SQLite store, ingest engine, api.Server mounted at
// /api/catalog by web.Server), loads the fixture catalog in
// testdata/catalog, serves testdata/remote over HTTP for url locations, and
// runs `node conformance.mjs`, which calls every CatalogClient method and
// compares the answers with testdata/expected.jsonl (Backstage's own
// processing of the fixtures, see testdata/README.md).
//
// The test needs node and the npm packages (`make conformance-deps`). Without
// them it is skipped, unless GREENROOM_REQUIRE_NODE=1 (CI), when it fails.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/web"
)

// nodePrerequisites returns why the Node side cannot run ("" if it can).
func nodePrerequisites() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed"
	}
	// The script uses Node's global fetch (Node 18 and later).
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "node --version: " + err.Error()
	}
	version := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if major < 18 {
		return "node " + version + " is too old (18 or later is needed)"
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile("package.json")
	if err != nil {
		return "package.json: " + err.Error()
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "package.json: " + err.Error()
	}
	for name, want := range pkg.Dependencies {
		b, err := os.ReadFile(filepath.Join("node_modules", filepath.FromSlash(name), "package.json"))
		if err != nil {
			return name + " is not installed in catalog/api/conformance/node_modules (run `make conformance-deps`)"
		}
		var got struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(b, &got) != nil || got.Version != want {
			return name + " " + got.Version + " is installed but package.json pins " + want + " (run `make conformance-deps`)"
		}
	}
	return ""
}

// syncBuffer collects the engine's log for the failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCatalogClientConformance(t *testing.T) {
	if why := nodePrerequisites(); why != "" {
		if os.Getenv("GREENROOM_REQUIRE_NODE") == "1" {
			t.Fatalf("GREENROOM_REQUIRE_NODE=1 but the catalog-client conformance test cannot run: %s", why)
		}
		t.Skipf("skipping the catalog-client conformance test: %s (set GREENROOM_REQUIRE_NODE=1 to make this a failure)", why)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	root, err := filepath.Abs(filepath.Join("testdata", "catalog", "all.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	var engineLog syncBuffer
	engine := &ingest.Engine{
		Store: st,
		Crawler: &ingest.Crawler{
			Reader: &ingest.Reader{
				Fetcher: ingesttest.LoopbackFetcher{Client: &http.Client{Timeout: 10 * time.Second}},
				GitDir:  filepath.Join(dir, "git"),
			},
			Rules: nil, // allow every kind, like the demo catalog
		},
		Log: slog.New(slog.NewTextHandler(&engineLog, nil)),
	}
	if err := engine.SyncConfigLocations(ctx, []catalog.LocationSpec{{Type: "file", Target: root}}); err != nil {
		t.Fatal(err)
	}
	if err := engine.CrawlAll(ctx); err != nil {
		t.Fatalf("initial crawl: %v", err)
	}
	if errs, err := st.Errors(ctx, ""); err != nil {
		t.Fatal(err)
	} else if len(errs) > 0 {
		t.Fatalf("the fixture catalog must load without errors, got %+v", errs)
	}
	runCtx, stopEngine := context.WithCancel(ctx)
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		if err := engine.Run(runCtx); err != nil {
			t.Errorf("engine: %v", err)
		}
	}()
	defer func() { stopEngine(); <-engineDone }()

	// url locations registered by the script are read from here.
	remote := httptest.NewServer(http.StripPrefix("/remote/", http.FileServer(http.Dir(filepath.Join("testdata", "remote")))))
	defer remote.Close()

	srv := httptest.NewServer((&web.Server{Catalog: st, Ready: func() bool { return true }, CatalogAPI: (&api.Server{
		Store: st, Ingester: engine, AllowedLocationTypes: []string{"url", "git"},
	}).Routes()}).Handler())
	defer srv.Close()

	cmd := exec.CommandContext(ctx, "node", "conformance.mjs", srv.URL,
		filepath.Join("testdata", "expected.jsonl"), "--remote="+remote.URL+"/remote", "--root="+root)
	out, err := cmd.CombinedOutput()
	if testing.Verbose() || err != nil {
		t.Logf("node conformance.mjs:\n%s", out)
	}
	if err != nil {
		var failed []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "FAIL ") || strings.HasPrefix(l, "XPASS ") {
				failed = append(failed, l)
			}
		}
		t.Fatalf("catalog-client conformance failed (%v):\n%s\n\nengine log:\n%s", err, strings.Join(failed, "\n"), engineLog.String())
	}
	t.Logf("conformance run took %s", time.Since(start).Round(time.Millisecond))
}
