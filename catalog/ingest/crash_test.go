package ingest_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/generate"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

const (
	crashEnvDB     = "GREENROOM_CRASH_HELPER_DB"
	crashEnvTarget = "GREENROOM_CRASH_HELPER_TARGET"
	crashEntities  = 20000
)

// TestCrashHelper is the child of TestCrashConsistency: it crawls the
// generated catalog into the database until it is killed.
func TestCrashHelper(t *testing.T) {
	dbPath, target := os.Getenv(crashEnvDB), os.Getenv(crashEnvTarget)
	if dbPath == "" {
		t.Skip("only run as the child of TestCrashConsistency")
	}
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := st.AddLocation(ctx, "file", target, "config")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.BeginApply(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("crash-helper: ingesting")
	cr := &ingest.Crawler{Reader: &ingest.Reader{}}
	if _, err := cr.Crawl(ctx, catalog.LocationSpec{Type: "file", Target: target}, a); err != nil {
		t.Fatal(err)
	}
	fmt.Println("crash-helper: committed")
	st.Close()
}

// TestCrashConsistency kills a process mid-ingest with SIGKILL and checks
// the database it leaves: intact, and holding either none or all of the
// generated catalog, never part of it.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: ingests a 20k-entity catalog")
	}
	dir := t.TempDir()
	catDir := filepath.Join(dir, "catalog")
	if _, err := generate.Write(catDir, crashEntities, 1); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(catDir, "all.yaml")
	dbPath := filepath.Join(dir, "catalog.db")

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), crashEnvDB+"="+dbPath, crashEnvTarget+"="+target)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child is ingesting, then kill it 300–800 ms later.
	lines := bufio.NewScanner(stdout)
	started := false
	for lines.Scan() {
		if strings.Contains(lines.Text(), "crash-helper: ingesting") {
			started = true
			break
		}
	}
	if !started {
		cmd.Wait()
		t.Fatalf("the helper did not start ingesting:\n%s", stderr.String())
	}
	delay := time.Duration(300+rand.IntN(500)) * time.Millisecond
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	committed := false
	for lines.Scan() {
		if strings.Contains(lines.Text(), "crash-helper: committed") {
			committed = true
		}
	}
	cmd.Wait()

	// The database is intact.
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Fatalf("integrity_check after SIGKILL: %s", check)
	}

	// It opens, and holds none or all of the catalog.
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer st.Close()
	counts, err := st.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	var searchRows, relations int
	db.QueryRow(`SELECT COUNT(*) FROM search`).Scan(&searchRows)
	db.QueryRow(`SELECT COUNT(*) FROM relations`).Scan(&relations)
	want := crashEntities + 2 // and all.yaml's Location and the generated root
	t.Logf("killed after %v (committed: %v): %d entities, %d filter rows, %d relation rows", delay, committed, total, searchRows, relations)
	switch total {
	case 0:
		if searchRows != 0 || relations != 0 {
			t.Errorf("no entities, but %d filter rows and %d relations survived", searchRows, relations)
		}
	case want:
	default:
		t.Fatalf("a partial catalog survived the crash: %d entities of %d (%v)", total, want, counts)
	}
	// The bulk load's dropped indexes are back (the drop rolled back too).
	for _, ix := range []string{"search_key_value", "search_entity", "relations_source"} {
		var n int
		db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, ix).Scan(&n)
		if n != 1 {
			t.Errorf("index %s missing after the crash", ix)
		}
	}
	// Locations survive: the one the helper registered is there once.
	locs, err := st.Locations(ctx)
	if err != nil || len(locs) != 1 || locs[0].Target != target {
		t.Fatalf("locations after the crash: %v %v", locs, err)
	}

	// Reopening removed the killed apply's spill file.
	if spills, _ := filepath.Glob(filepath.Join(dir, "*.spill")); len(spills) > 0 {
		t.Errorf("spill files left after reopening: %v", spills)
	}

	// The crashed database takes the ingest the helper did not finish.
	if total == want {
		return
	}
	a, err := st.BeginApply(ctx, locs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cs, err := (&ingest.Crawler{Reader: &ingest.Reader{}}).Crawl(ctx, catalog.LocationSpec{Type: "file", Target: target}, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ingest after the crash: %+v in %v", cs.Apply, time.Since(start).Round(time.Millisecond))
	if cs.Apply.Added != want || cs.Errors != 0 {
		t.Errorf("ingest after the crash: %+v", cs)
	}
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check after the ingest: %s %v", check, err)
	}
}
