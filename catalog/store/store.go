// Package store keeps the catalog in SQL: final entities with their
// provenance, relations, the flattened filter rows the API queries,
// registered locations and processing errors. It is the only writer of the
// database. SQLite (mattn/go-sqlite3, WAL) is the default; the SQL is kept
// portable so PostgreSQL can share it.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/greenroom-dev/greenroom/catalog"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when an entity or location does not exist.
var ErrNotFound = errors.New("not found")

// Store is the catalog database.
type Store struct {
	db *sql.DB
	// OrphanStrategy is "delete" (Backstage's default) or "keep", which marks
	// entities no longer emitted with backstage.io/orphan: "true".
	OrphanStrategy string
	now            func() time.Time
	spillDir       string // temporary files of large applies, beside the database
	background     sync.WaitGroup
	checkpointing  atomic.Bool
	results        resultCache
}

// OpenSQLite opens (creating if needed) a SQLite database file and applies
// pending migrations. path ":memory:" is not supported: tests use a temp file.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	// _stmt_cache_size keeps each connection's last prepared statements:
	// the API's queries repeat, and preparing them took ~7% of a page's CPU.
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate&_cache_size=-49152&_stmt_cache_size=32"
	// Automatic checkpoints would run inside the commit of a big apply and
	// copy the whole WAL into the database before the commit returns; the
	// store checkpoints in the background after each apply instead.
	drv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
		return err
	}}
	db := sql.OpenDB(connector{drv: drv, dsn: dsn})
	// One writer at a time is all SQLite allows; readers run beside it in WAL.
	// One more is the result cache's, which only watches for changes.
	db.SetMaxOpenConns(9)
	// Keep them all open: database/sql keeps 2 idle by default, so under
	// load it would close and reopen connections (and their page caches)
	// all the time.
	db.SetMaxIdleConns(9)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, OrphanStrategy: "delete", now: time.Now, spillDir: filepath.Dir(path)}
	s.results.db = db
	// Spill files of applies cut short by a crash are of no further use:
	// their transaction never committed.
	if stale, err := filepath.Glob(filepath.Join(s.spillDir, "greenroom-apply-*.spill")); err == nil {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// connector opens SQLite connections with the store's connect hook,
// without registering a driver globally.
type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// Close waits for a running checkpoint and closes the database (SQLite
// checkpoints what is left when its last connection closes).
func (s *Store) Close() error {
	s.background.Wait()
	s.results.close()
	return s.db.Close()
}

// checkpointSoon copies the WAL into the database in the background, at
// most one at a time. PASSIVE never blocks readers or writers.
func (s *Store) checkpointSoon() {
	if !s.checkpointing.CompareAndSwap(false, true) {
		return
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer s.checkpointing.Store(false)
		s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	}()
}

// migrate applies the numbered migrations not yet recorded, each in its own
// transaction, so a crash leaves the schema at a known version.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, s.timestamp()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) timestamp() string { return s.now().UTC().Format(time.RFC3339Nano) }

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Location is a registered root location.
type Location struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Target      string    `json:"target"`
	Source      string    `json:"-"` // "config" or "api"
	CreatedAt   time.Time `json:"-"`
	LastCrawlAt time.Time `json:"-"`
	LastCrawlMS int64     `json:"-"`
}

// AddLocation registers a root location, returning the existing one (and
// false) when the same type and target are already registered.
func (s *Store) AddLocation(ctx context.Context, typ, target, source string) (Location, bool, error) {
	if l, err := s.LocationByTarget(ctx, typ, target); err == nil {
		return l, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Location{}, false, err
	}
	l := Location{ID: newID(), Type: typ, Target: target, Source: source, CreatedAt: s.now().UTC()}
	_, err := s.db.ExecContext(ctx, `INSERT INTO locations (id, type, target, source, created_at) VALUES (?, ?, ?, ?, ?)`,
		l.ID, l.Type, l.Target, l.Source, l.CreatedAt.Format(time.RFC3339Nano))
	if err != nil {
		return Location{}, false, fmt.Errorf("add location %s:%s: %w", typ, target, err)
	}
	return l, true, nil
}

// RestoreLocation registers a location under a given id (updating a
// registered location keeps its id).
func (s *Store) RestoreLocation(ctx context.Context, l Location) error {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now().UTC()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO locations (id, type, target, source, created_at) VALUES (?, ?, ?, ?, ?)`,
		l.ID, l.Type, l.Target, l.Source, l.CreatedAt.Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("register location %s:%s: %w", l.Type, l.Target, err)
	}
	return nil
}

const locationColumns = `id, type, target, source, created_at, COALESCE(last_crawl_at, ''), COALESCE(last_crawl_ms, 0)`

func scanLocation(row interface{ Scan(...any) error }) (Location, error) {
	var l Location
	var created, crawled string
	if err := row.Scan(&l.ID, &l.Type, &l.Target, &l.Source, &created, &crawled, &l.LastCrawlMS); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return l, ErrNotFound
		}
		return l, err
	}
	l.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	l.LastCrawlAt, _ = time.Parse(time.RFC3339Nano, crawled)
	return l, nil
}

// LocationByTarget finds a registered location.
func (s *Store) LocationByTarget(ctx context.Context, typ, target string) (Location, error) {
	return scanLocation(s.db.QueryRowContext(ctx, `SELECT `+locationColumns+` FROM locations WHERE type = ? AND target = ?`, typ, target))
}

// Location finds a registered location by id.
func (s *Store) Location(ctx context.Context, id string) (Location, error) {
	return scanLocation(s.db.QueryRowContext(ctx, `SELECT `+locationColumns+` FROM locations WHERE id = ?`, id))
}

// Locations lists registered locations, oldest first.
func (s *Store) Locations(ctx context.Context) ([]Location, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+locationColumns+` FROM locations ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Location
	for rows.Next() {
		l, err := scanLocation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DeleteLocation unregisters a root location and removes every entity it
// alone emitted, in one transaction.
func (s *Store) DeleteLocation(ctx context.Context, id string) error {
	if _, err := s.Location(ctx, id); err != nil {
		return err
	}
	a, err := s.BeginApply(ctx, id)
	if err != nil {
		return err
	}
	a.deleteAll = true
	if _, err := a.Commit(); err != nil {
		return err
	}
	return nil
}

// Entity returns the final entity with the given ref (any case).
func (s *Store) Entity(ctx context.Context, ref string) (*catalog.Entity, error) {
	var final string
	err := s.db.QueryRowContext(ctx, `SELECT final FROM entities WHERE ref = ?`, strings.ToLower(ref)).Scan(&final)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var e catalog.Entity
	if err := json.Unmarshal([]byte(final), &e); err != nil {
		return nil, fmt.Errorf("entity %s: %w", ref, err)
	}
	return &e, nil
}

// Reachable lists the refs reachable from ref by following relations of
// one type (e.g. parentOf: a group and every group below it), ref first,
// at most limit of them. Cycles are harmless.
func (s *Store) Reachable(ctx context.Context, ref, relType string, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE d(ref) AS (
		SELECT ? UNION
		SELECT r.target_ref FROM relations r JOIN d ON r.source_ref = d.ref WHERE r.type = ?
	) SELECT ref FROM d LIMIT ?`, strings.ToLower(ref), relType, limit)
	if err != nil {
		return nil, fmt.Errorf("reachable from %s: %w", ref, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Provenance says where a stored entity came from.
type Provenance struct {
	RootID      string
	LocationKey string
	ParentRef   string
	Orphan      bool
}

// Provenance returns where the entity came from.
func (s *Store) Provenance(ctx context.Context, ref string) (Provenance, error) {
	var p Provenance
	var parent sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT root_id, location_key, parent_ref, orphan FROM entities WHERE ref = ?`, strings.ToLower(ref)).
		Scan(&p.RootID, &p.LocationKey, &parent, &p.Orphan)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	p.ParentRef = parent.String
	return p, err
}

// EachEntity calls fn with every final entity's JSON in ref order, streaming
// rows so the whole catalog is never in memory.
func (s *Store) EachEntity(ctx context.Context, fn func(ref string, final []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT ref, final FROM entities ORDER BY ref`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var final []byte
		if err := rows.Scan(&ref, &final); err != nil {
			return err
		}
		if err := fn(ref, final); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count returns the number of entities, per kind (lower-case).
func (s *Store) Count(ctx context.Context) (map[string]int, error) {
	// Every catalog page shows these counts: cached until the data changes
	// (a scan of the kind index costs ~10 ms at 100k entities).
	v, ok := s.results.dataVersion(ctx)
	if !ok {
		return s.countKinds(ctx)
	}
	counts, err := s.results.do(ctx, v, "kinds", func() (any, int, error) {
		m, err := s.countKinds(ctx)
		return m, 64 * len(m), err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for k, n := range counts.(map[string]int) {
		out[k] = n
	}
	return out, nil
}

func (s *Store) countKinds(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, COUNT(*) FROM entities GROUP BY kind`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[strings.ToLower(k)] = n
	}
	return out, rows.Err()
}

// ProcessingError is an error of a location's last crawl.
type ProcessingError struct {
	RootID    string    `json:"rootId"`
	Location  string    `json:"location"`  // the file or URL concerned, as a location ref
	EntityRef string    `json:"entityRef"` // the entity concerned, if known
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"createdAt"`
}

// Errors lists the errors of a root location's last crawl ("" for all).
func (s *Store) Errors(ctx context.Context, rootID string) ([]ProcessingError, error) {
	if rootID == "" {
		return s.errors(ctx, "")
	}
	return s.errors(ctx, ` WHERE root_id = ?`, rootID)
}

// EntityErrors lists the errors of the last crawl that concern an entity:
// those naming it and those of the file it was read from (a file that no
// longer parses keeps its entities' last good version, with this error).
func (s *Store) EntityErrors(ctx context.Context, ref string) ([]ProcessingError, error) {
	ref = strings.ToLower(ref)
	return s.errors(ctx, ` WHERE entity_ref = ? OR location IN (SELECT location_key FROM entities WHERE ref = ?)`, ref, ref)
}

func (s *Store) errors(ctx context.Context, where string, args ...any) ([]ProcessingError, error) {
	q := `SELECT root_id, location, COALESCE(entity_ref, ''), message, created_at FROM errors` + where
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ProcessingError
	for rows.Next() {
		var e ProcessingError
		var created string
		if err := rows.Scan(&e.RootID, &e.Location, &e.EntityRef, &e.Message, &created); err != nil {
			return nil, err
		}
		e.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// etagOf is a content hash of the final entity, so an unchanged entity
// keeps its etag and any change gives a new one.
func etagOf(final []byte) string {
	sum := sha1.Sum(final)
	return hex.EncodeToString(sum[:])
}

// LocationKeys lists the files and URLs a root location's last crawl read:
// those its entities came from and those it reported errors for.
func (s *Store) LocationKeys(ctx context.Context, rootID string) ([]string, error) {
	return queryStrings(ctx, s.db, `SELECT DISTINCT location_key FROM entities WHERE root_id = ?
		UNION SELECT DISTINCT location FROM errors WHERE root_id = ?`, rootID, rootID)
}

// queryStrings runs a query of one text column and collects the values.
func queryStrings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// RootsReading returns the ids of the root locations whose last crawl read
// any of keys (location refs such as "url:https://…"): a root itself, the
// file one of its entities came from, or a file it reported an error for.
func (s *Store) RootsReading(ctx context.Context, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []string
	for start := 0; start < len(keys); start += 400 {
		part := keys[start:min(start+400, len(keys))]
		marks := strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")
		args := make([]any, 0, 2*len(part))
		for _, k := range part {
			args = append(args, k)
		}
		for _, k := range part {
			args = append(args, k)
		}
		ids, err := queryStrings(ctx, s.db, `SELECT DISTINCT root_id FROM entities WHERE location_key IN (`+marks+`)
			UNION SELECT DISTINCT root_id FROM errors WHERE location IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("locations reading %d files: %w", len(part), err)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// LocationsBySource lists the root locations registered by one source
// ("config", "api", "provider:<name>").
func (s *Store) LocationsBySource(ctx context.Context, source string) ([]Location, error) {
	all, err := s.Locations(ctx)
	if err != nil {
		return nil, err
	}
	var out []Location
	for _, l := range all {
		if l.Source == source {
			out = append(out, l)
		}
	}
	return out, nil
}
