package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
)

// Item is one processed entity of a crawl, ready to store.
type Item struct {
	Entity      *catalog.Entity     // processed; uid, etag, relations and status are the store's
	Body        []byte              // Entity as JSON, without uid
	Edges       []catalog.Edge      // relations its processing emitted, both directions
	Rows        []catalog.FilterRow // its flattened filter rows (without uid and relations)
	LocationKey string              // the location it was read from, e.g. "file:/srv/x.yaml"
	ParentRef   string              // the entity whose processing emitted it
	Hash        string              // content hash of everything above, to skip unchanged items
}

// ApplyStats counts what an apply changed.
type ApplyStats struct {
	Added, Updated, Unchanged, Removed, Orphaned, Conflicts, Stitched int
}

func (s ApplyStats) String() string {
	return fmt.Sprintf("%d added, %d updated, %d unchanged, %d removed, %d orphaned, %d conflicts",
		s.Added, s.Updated, s.Unchanged, s.Removed, s.Orphaned, s.Conflicts)
}

// Changed reports whether the apply wrote anything.
func (s ApplyStats) Changed() bool {
	return s.Added+s.Updated+s.Removed+s.Orphaned+s.Stitched > 0
}

type existing struct {
	id          int64
	uid         string
	hash        string
	locationKey string
	parentRef   string
	orphan      bool
}

// Applier writes one crawl of a root location as the difference against
// what the store holds for it, in a single transaction: a crash or error
// before Commit leaves the database as it was.
type Applier struct {
	s         *Store
	ctx       context.Context
	tx        *sql.Tx
	rootID    string
	now       string
	existing  map[string]existing
	seen      map[string]string // ref -> location key that claimed it in this crawl
	keepLocs  map[string]bool
	keepRefs  map[string]bool
	affected  map[string]bool
	errs      []ProcessingError
	stats     ApplyStats
	deleteAll bool
	done      bool
	// rebuildIndexes is set when BeginApply dropped the bulk indexes.
	rebuildIndexes bool
	// pendingRows and pendingEdges batch inserts across entities; they are
	// flushed before anything reads or deletes those tables.
	pendingRows  []any
	pendingEdges []any
	stmts        map[string]*sql.Stmt
	// fingerprints of clean files: as stored, and as this crawl leaves them.
	oldPrints, newPrints map[string]string
	conflictKeys         map[string]bool
	byKey                map[string][]string // location key -> existing refs
	// pending are entities put in this apply, written at stitch time.
	pending  map[string]*pendingEntity
	nextID   int64
	spill    *os.File
	spillOff int64

	insEntity, updEntity, delSearch, selRelSources, delRelations, lookup *sql.Stmt
}

// BeginApply starts applying a crawl of the root location rootID.
func (s *Store) BeginApply(ctx context.Context, rootID string) (*Applier, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin apply: %w", err)
	}
	a := &Applier{s: s, ctx: ctx, tx: tx, rootID: rootID, now: s.timestamp(),
		existing: map[string]existing{}, seen: map[string]string{}, keepLocs: map[string]bool{},
		keepRefs: map[string]bool{}, affected: map[string]bool{}, pending: map[string]*pendingEntity{},
		oldPrints: map[string]string{}, newPrints: map[string]string{}, conflictKeys: map[string]bool{}}
	fail := func(err error) (*Applier, error) {
		tx.Rollback()
		return nil, fmt.Errorf("begin apply: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, uid, ref, hash, location_key, COALESCE(parent_ref, ''), orphan FROM entities WHERE root_id = ?`, rootID)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var e existing
		var ref string
		if err := rows.Scan(&e.id, &e.uid, &ref, &e.hash, &e.locationKey, &e.parentRef, &e.orphan); err != nil {
			rows.Close()
			return fail(err)
		}
		a.existing[ref] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	prints, err := tx.QueryContext(ctx, `SELECT key, fingerprint FROM location_files WHERE root_id = ?`, rootID)
	if err != nil {
		return fail(err)
	}
	for prints.Next() {
		var k, f string
		if err := prints.Scan(&k, &f); err != nil {
			prints.Close()
			return fail(err)
		}
		a.oldPrints[k] = f
	}
	prints.Close()
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	a.insEntity = prep(`INSERT INTO entities (id, uid, ref, kind, namespace, name, root_id, location_key, parent_ref, hash, etag, orphan, final, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`)
	a.updEntity = prep(`UPDATE entities SET kind = ?, namespace = ?, name = ?, location_key = ?, parent_ref = ?, hash = ?, etag = ?, orphan = 0, final = ?, updated_at = ? WHERE id = ?`)
	a.delSearch = prep(`DELETE FROM search WHERE entity_id = ?`)
	a.selRelSources = prep(`SELECT DISTINCT source_ref FROM relations WHERE originating_id = ?`)
	a.delRelations = prep(`DELETE FROM relations WHERE originating_id = ?`)
	a.lookup = prep(`SELECT root_id, location_key FROM entities WHERE ref = ?`)
	if err != nil {
		return fail(err)
	}
	// A first load into an empty catalog drops the lookup indexes and builds
	// them once at commit: sorting millions of rows once is several times
	// faster than inserting each into a B-tree. It is all one transaction,
	// so a crash restores the indexes with everything else.
	var any int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM search LIMIT 1)`).Scan(&any); err != nil {
		return fail(err)
	}
	if any == 0 {
		for _, ix := range bulkIndexes {
			if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
				return fail(err)
			}
		}
		a.rebuildIndexes = true
	}
	return a, nil
}

// bulkIndexes are rebuilt after a first load; their definitions must match
// the migrations.
var bulkIndexes = []struct{ name, def string }{
	{"search_key_value", `CREATE INDEX search_key_value ON search (key, value, entity_id, original_value)`},
	{"search_entity", `CREATE INDEX search_entity ON search (entity_id)`},
	{"relations_source", `CREATE INDEX relations_source ON relations (source_ref, type, target_ref)`},
	{"relations_type_target", `CREATE INDEX relations_type_target ON relations (lower(type), target_ref, source_ref)`},
}

// KeepLocation keeps every entity read from the location key as it is: its
// file could not be read, and Backstage keeps the last good version.
func (a *Applier) KeepLocation(key string) { a.keepLocs[key] = true }

// Fingerprints returns the stored fingerprints of this root's clean files.
// The map must not be modified; it is safe for concurrent reads.
func (a *Applier) Fingerprints() map[string]string { return a.oldPrints }

// SetFingerprint records that a file was read cleanly with this fingerprint.
func (a *Applier) SetFingerprint(key, fingerprint string) { a.newPrints[key] = fingerprint }

// KeepFile keeps the entities of a file whose fingerprint is unchanged, as
// if each had been put again unchanged.
func (a *Applier) KeepFile(key string) {
	if a.byKey == nil {
		a.byKey = map[string][]string{}
		for ref, ex := range a.existing {
			a.byKey[ex.locationKey] = append(a.byKey[ex.locationKey], ref)
		}
	}
	for _, ref := range a.byKey[key] {
		if _, done := a.seen[ref]; !done {
			a.seen[ref] = key
			a.stats.Unchanged++
		}
	}
	a.newPrints[key] = a.oldPrints[key]
}

// KeepRef keeps the last good version of an entity whose new version failed.
func (a *Applier) KeepRef(ref string) { a.keepRefs[strings.ToLower(ref)] = true }

// AddError records an error of this crawl.
func (a *Applier) AddError(location, entityRef, message string) {
	a.errs = append(a.errs, ProcessingError{RootID: a.rootID, Location: location, EntityRef: strings.ToLower(entityRef), Message: message})
}

// Put stores one entity of the crawl, unless it is unchanged or another
// location already claims its ref (the first claimant keeps it).
func (a *Applier) Put(it Item) error {
	ref := it.Entity.Ref().String()
	if key, done := a.seen[ref]; done {
		// The same file reached twice is the same claim, not a conflict.
		if key != it.LocationKey {
			a.conflict(ref, it.LocationKey, key)
		}
		return nil
	}
	ex, mine := a.existing[ref]
	if !mine {
		var root, key string
		err := a.lookup.QueryRowContext(a.ctx, ref).Scan(&root, &key)
		if err == nil {
			// Another root location owns the entity. Reading the very same
			// file is no conflict (Backstage compares location keys); the
			// owner keeps it either way.
			if key != it.LocationKey {
				a.conflict(ref, it.LocationKey, key)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("put %s: %w", ref, err)
		}
	}
	a.seen[ref] = it.LocationKey
	if mine && ex.hash == it.Hash && !ex.orphan {
		a.stats.Unchanged++
		return nil
	}
	uid := ex.uid
	if !mine {
		uid = newID()
	}
	final, err := withUID(it, uid)
	if err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	// The entity row itself is written once, at stitch time, when its
	// relations are known; until then its served form waits in memory.
	r := it.Entity.Ref()
	off, err := a.spillWrite(final)
	if err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	p := &pendingEntity{uid: uid, kind: r.Kind, namespace: r.Namespace, name: r.Name,
		locationKey: it.LocationKey, parentRef: it.ParentRef, hash: it.Hash, off: off, size: len(final)}
	var id int64
	if mine {
		id = ex.id
		if err := a.dropRelations(id); err != nil {
			return err
		}
		if _, err := a.delSearch.ExecContext(a.ctx, id); err != nil {
			return fmt.Errorf("put %s: %w", ref, err)
		}
		a.stats.Updated++
	} else {
		if a.nextID == 0 {
			if err := a.tx.QueryRowContext(a.ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM entities`).Scan(&a.nextID); err != nil {
				return fmt.Errorf("put %s: %w", ref, err)
			}
		}
		id = a.nextID
		a.nextID++
		p.isNew = true
		a.stats.Added++
	}
	p.id = id
	a.pending[ref] = p
	rows := append(it.Rows, uidRow(uid))
	if err := a.insertRows(id, rows); err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	if err := a.insertEdges(id, it.Edges); err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	a.affected[ref] = true
	return nil
}

// withMetadataField splices "key":"value" into the start of an encoded
// entity's metadata object, saving a decode and re-encode.
func withMetadataField(body []byte, key, value string) ([]byte, error) {
	const marker = `"metadata":{`
	i := bytes.Index(body, []byte(marker))
	if i < 0 {
		return nil, errors.New("entity JSON has no metadata")
	}
	i += len(marker)
	kv, _ := json.Marshal(key)
	vv, _ := json.Marshal(value)
	out := make([]byte, 0, len(body)+len(kv)+len(vv)+2)
	out = append(out, body[:i]...)
	out = append(out, kv...)
	out = append(out, ':')
	out = append(out, vv...)
	out = append(out, ',')
	out = append(out, body[i:]...)
	return out, nil
}

// withUID returns the item's JSON with metadata.uid set. The body comes from
// encoding/json, so "metadata":{ appears once, before any user content.
func withUID(it Item, uid string) ([]byte, error) {
	body := it.Body
	if body == nil {
		e := *it.Entity
		e.Relations, e.Status = nil, nil
		var err error
		if body, err = json.Marshal(&e); err != nil {
			return nil, err
		}
	}
	return withMetadataField(body, "uid", uid)
}

func (a *Applier) conflict(ref, newKey, existingKey string) {
	a.stats.Conflicts++
	a.conflictKeys[newKey] = true
	a.AddError(newKey, "", fmt.Sprintf("ConflictError: Source %s detected conflicting entityRef %s already referenced by %s and now also %s",
		newKey, ref, existingKey, newKey))
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func uidRow(uid string) catalog.FilterRow {
	v := strings.ToLower(uid)
	return catalog.FilterRow{Key: "metadata.uid", Value: &v, Original: &uid}
}

// dropRelations removes the relations an entity emitted, marking their
// sources for restitching.
func (a *Applier) dropRelations(id int64) error {
	rows, err := a.selRelSources.QueryContext(a.ctx, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var src string
		if err := rows.Scan(&src); err != nil {
			rows.Close()
			return err
		}
		a.affected[src] = true
	}
	rows.Close()
	_, err = a.delRelations.ExecContext(a.ctx, id)
	return err
}

// Multi-row inserts: one statement per chunk is several times faster in
// SQLite than one per row.
const chunkRows = 200

func (a *Applier) insertEdges(id int64, edges []catalog.Edge) error {
	for _, e := range edges {
		src := e.Source.String()
		a.pendingEdges = append(a.pendingEdges, id, src, e.Type, e.Target.String())
		a.affected[src] = true
	}
	if len(a.pendingEdges) >= 4*chunkRows {
		return a.flushEdges()
	}
	return nil
}

func (a *Applier) insertRows(id int64, rows []catalog.FilterRow) error {
	for _, r := range rows {
		var v, o any
		if r.Value != nil {
			v = *r.Value
		}
		// original_value is only stored when it differs from the lower-cased
		// value: most values are lower case already, and the table is the
		// biggest in the database.
		if r.Original != nil && (r.Value == nil || *r.Original != *r.Value) {
			o = *r.Original
		}
		a.pendingRows = append(a.pendingRows, id, r.Key, v, o)
	}
	if len(a.pendingRows) >= 4*chunkRows {
		return a.flushRows()
	}
	return nil
}

func (a *Applier) flush() error {
	if err := a.flushRows(); err != nil {
		return err
	}
	return a.flushEdges()
}

func (a *Applier) flushRows() error {
	err := a.insertChunks(`INSERT INTO search (entity_id, key, value, original_value) VALUES `, a.pendingRows)
	a.pendingRows = a.pendingRows[:0]
	return err
}

func (a *Applier) flushEdges() error {
	err := a.insertChunks(`INSERT INTO relations (originating_id, source_ref, type, target_ref) VALUES `, a.pendingEdges)
	a.pendingEdges = a.pendingEdges[:0]
	return err
}

// insertChunks inserts 4-column rows, chunkRows per statement.
func (a *Applier) insertChunks(prefix string, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/4, chunkRows)
		st, err := a.chunkStmt(prefix, n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(a.ctx, args[:4*n]...); err != nil {
			return err
		}
		args = args[4*n:]
	}
	return nil
}

// chunkStmt prepares (once per apply) a multi-row insert of n rows.
func (a *Applier) chunkStmt(prefix string, n int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s%d", prefix, n)
	if st, ok := a.stmts[key]; ok {
		return st, nil
	}
	var q strings.Builder
	q.WriteString(prefix)
	for i := 0; i < n; i++ {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?)")
	}
	st, err := a.tx.PrepareContext(a.ctx, q.String())
	if err != nil {
		return nil, err
	}
	if a.stmts == nil {
		a.stmts = map[string]*sql.Stmt{}
	}
	a.stmts[key] = st
	return st, nil
}

// Rollback abandons the apply.
func (a *Applier) Rollback() {
	a.closeSpill()
	if !a.done {
		a.done = true
		a.tx.Rollback()
	}
}

// keptDescendants lists what kept entities led to and this crawl did not
// emit again: the files a kept Location named were not read, and Backstage
// keeps a failed Location's children as they were rather than orphan them.
func (a *Applier) keptDescendants() map[string]bool {
	kept := map[string]bool{}
	if a.deleteAll || len(a.keepRefs)+len(a.keepLocs) == 0 {
		return kept
	}
	children := map[string][]string{}
	var queue []string
	for ref, ex := range a.existing {
		if ex.parentRef != "" {
			children[ex.parentRef] = append(children[ex.parentRef], ref)
		}
		if _, done := a.seen[ref]; !done && (a.keepRefs[ref] || a.keepLocs[ex.locationKey]) {
			queue = append(queue, ref)
		}
	}
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		for _, c := range children[ref] {
			if _, done := a.seen[c]; done || kept[c] {
				continue
			}
			kept[c] = true
			queue = append(queue, c)
		}
	}
	return kept
}

// Commit removes or orphans what the crawl no longer emitted (keeping what
// failed to read or process), replaces the root's errors, restitches every
// entity whose relations or status changed, and commits.
func (a *Applier) Commit() (ApplyStats, error) {
	if a.done {
		return a.stats, errors.New("apply already finished")
	}
	defer a.Rollback()
	ctx := a.ctx
	trace := newTracer()
	if err := a.flush(); err != nil {
		return a.stats, err
	}
	trace("flush")
	kept := a.keptDescendants()
	for ref, ex := range a.existing {
		if _, done := a.seen[ref]; done {
			continue
		}
		if !a.deleteAll && (a.keepRefs[ref] || a.keepLocs[ex.locationKey] || kept[ref]) {
			continue
		}
		if a.deleteAll || a.s.OrphanStrategy != "keep" {
			if err := a.dropRelations(ex.id); err != nil {
				return a.stats, err
			}
			for _, q := range []string{`DELETE FROM search WHERE entity_id = ?`, `DELETE FROM entities WHERE id = ?`} {
				if _, err := a.tx.ExecContext(ctx, q, ex.id); err != nil {
					return a.stats, fmt.Errorf("remove %s: %w", ref, err)
				}
			}
			delete(a.affected, ref)
			a.stats.Removed++
			continue
		}
		if ex.orphan {
			continue
		}
		if _, err := a.tx.ExecContext(ctx, `UPDATE entities SET orphan = 1, updated_at = ? WHERE id = ?`, a.now, ex.id); err != nil {
			return a.stats, err
		}
		a.affected[ref] = true
		a.stats.Orphaned++
	}

	// Errors: replace the root's, restitching entities whose status changes.
	oldErrRefs, err := a.errorRefs()
	if err != nil {
		return a.stats, err
	}
	if _, err := a.tx.ExecContext(ctx, `DELETE FROM errors WHERE root_id = ?`, a.rootID); err != nil {
		return a.stats, err
	}
	if !a.deleteAll {
		for _, e := range a.errs {
			if _, err := a.tx.ExecContext(ctx, `INSERT INTO errors (root_id, location, entity_ref, message, created_at) VALUES (?, ?, ?, ?, ?)`,
				e.RootID, e.Location, nullable(e.EntityRef), e.Message, a.now); err != nil {
				return a.stats, err
			}
			if e.EntityRef != "" {
				a.affected[e.EntityRef] = true
			}
		}
	}
	for _, r := range oldErrRefs {
		a.affected[r] = true
	}

	if a.rebuildIndexes {
		for _, ix := range bulkIndexes {
			if ix.name != "relations_source" {
				continue // only the stitch's relation reads need an index now
			}
			if _, err := a.tx.ExecContext(ctx, ix.def); err != nil {
				return a.stats, fmt.Errorf("rebuild index %s: %w", ix.name, err)
			}
		}
	}
	trace("indexes")
	if err := a.stitch(); err != nil {
		return a.stats, err
	}
	if err := a.flush(); err != nil {
		return a.stats, err
	}
	trace("stitch")
	if a.rebuildIndexes {
		for _, ix := range bulkIndexes {
			if ix.name == "relations_source" {
				continue
			}
			if _, err := a.tx.ExecContext(ctx, ix.def); err != nil {
				return a.stats, fmt.Errorf("rebuild index %s: %w", ix.name, err)
			}
		}
	}
	if err := a.writeFingerprints(); err != nil {
		return a.stats, err
	}
	if a.deleteAll {
		if _, err := a.tx.ExecContext(ctx, `DELETE FROM locations WHERE id = ?`, a.rootID); err != nil {
			return a.stats, err
		}
	} else if _, err := a.tx.ExecContext(ctx, `UPDATE locations SET last_crawl_at = ? WHERE id = ?`, a.now, a.rootID); err != nil {
		return a.stats, err
	}
	trace("key index")
	if err := a.tx.Commit(); err != nil {
		return a.stats, fmt.Errorf("commit: %w", err)
	}
	trace("commit")
	a.done = true
	a.s.checkpointSoon()
	return a.stats, nil
}

func (a *Applier) errorRefs() ([]string, error) {
	return queryStrings(a.ctx, a.tx, `SELECT DISTINCT entity_ref FROM errors WHERE root_id = ? AND entity_ref IS NOT NULL`, a.rootID)
}

// deleteOne removes a single entity outside of a crawl (DELETE
// /entities/by-uid), restitches what its relations touched and commits. Its
// file's fingerprint is dropped so the next crawl reads the file again and,
// if the entity is still there, brings it back.
func (a *Applier) deleteOne(ref string, id int64) error {
	ctx := a.ctx
	var key string
	if err := a.tx.QueryRowContext(ctx, `SELECT location_key FROM entities WHERE id = ?`, id).Scan(&key); err != nil {
		return err
	}
	if err := a.dropRelations(id); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM search WHERE entity_id = ?`, `DELETE FROM entities WHERE id = ?`} {
		if _, err := a.tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete %s: %w", ref, err)
		}
	}
	if _, err := a.tx.ExecContext(ctx, `DELETE FROM location_files WHERE root_id = ? AND key = ?`, a.rootID, key); err != nil {
		return err
	}
	delete(a.affected, ref)
	if err := a.stitch(); err != nil {
		return err
	}
	if err := a.flush(); err != nil {
		return err
	}
	if err := a.tx.Commit(); err != nil {
		return err
	}
	a.done = true
	return nil
}

// writeFingerprints stores this crawl's clean-file fingerprints, only when
// they differ from the stored ones (an unchanged crawl writes nothing).
func (a *Applier) writeFingerprints() error {
	for k := range a.conflictKeys {
		delete(a.newPrints, k)
	}
	if a.deleteAll {
		a.newPrints = map[string]string{}
	}
	same := len(a.newPrints) == len(a.oldPrints)
	for k, v := range a.newPrints {
		if a.oldPrints[k] != v {
			same = false
			break
		}
	}
	if same {
		return nil
	}
	if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM location_files WHERE root_id = ?`, a.rootID); err != nil {
		return err
	}
	for k, v := range a.newPrints {
		if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO location_files (root_id, key, fingerprint) VALUES (?, ?, ?)`, a.rootID, k, v); err != nil {
			return err
		}
	}
	return nil
}

// statusOf builds status.items from the errors naming the entity.
func (a *Applier) statusOf(selErrs *sql.Stmt, ref string) (*catalog.Status, error) {
	rows, err := selErrs.QueryContext(a.ctx, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var st *catalog.Status
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return nil, err
		}
		if st == nil {
			st = &catalog.Status{}
		}
		name, text, _ := strings.Cut(msg, ": ")
		st.Items = append(st.Items, catalog.StatusItem{
			Type: "backstage.io/catalog-processing", Level: "error", Message: msg,
			Error: &catalog.StatusError{Name: name, Message: text}})
	}
	return st, rows.Err()
}

// stitch recomputes the served form of every affected entity: its relations
// (every stored edge whose source it is), its status (errors naming it), the
// orphan annotation and the etag. Relations are filtered on through the
// relations table, so they need no filter rows of their own.
func (a *Applier) stitch() error {
	refs := make([]string, 0, len(a.affected))
	for r := range a.affected {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	ctx := a.ctx
	selErrs, err := a.tx.PrepareContext(ctx, `SELECT message FROM errors WHERE entity_ref = ? ORDER BY id`)
	if err != nil {
		return err
	}
	defer selErrs.Close()
	upd, err := a.tx.PrepareContext(ctx, `UPDATE entities SET final = ?, etag = ?, updated_at = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	delOrphanRow, err := a.tx.PrepareContext(ctx, `DELETE FROM search WHERE entity_id = ? AND key = 'metadata.annotations.backstage.io/orphan'`)
	if err != nil {
		return err
	}
	defer delOrphanRow.Close()
	var hasErrors bool
	if err := a.tx.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM (SELECT 1 FROM errors WHERE entity_ref IS NOT NULL LIMIT 1)`).Scan(&hasErrors); err != nil {
		return err
	}
	st := stitchStmts{upd: upd, delOrphanRow: delOrphanRow, selErrs: selErrs}

	// Bulk stitches (a first load, a big change) read entities and relations
	// in ref-ordered ranges, one query each per chunk; small ones look each
	// entity up. Both leave no cursor open while rows are updated.
	bulk := len(refs) > 5000
	const chunk = 2000
	for lo := 0; lo < len(refs); lo += chunk {
		part := refs[lo:min(lo+chunk, len(refs))]
		ents, rels, err := a.loadForStitch(part, bulk)
		if err != nil {
			return err
		}
		for _, ref := range part {
			ent, ok := ents[ref]
			if !ok {
				continue // a relation target that is not (yet) in the catalog
			}
			if err := a.stitchOne(ref, ent, rels[ref], hasErrors, st); err != nil {
				return err
			}
		}
	}
	return nil
}

type stitchEntity struct {
	id      int64
	final   []byte
	etag    string
	orphan  bool
	pending *pendingEntity
}

// pendingEntity is an entity put in this apply and not yet written.
type pendingEntity struct {
	id                           int64
	isNew                        bool
	uid, kind, namespace, name   string
	locationKey, parentRef, hash string
	off                          int64 // of its JSON in the spill file
	size                         int
}

// spillWrite appends an entity's JSON to the apply's spill file. Pending
// entities wait there rather than in memory, so a 100k-entity load stays
// small; the file is read back at stitch time and removed at the end.
func (a *Applier) spillWrite(b []byte) (int64, error) {
	if a.spill == nil {
		f, err := os.CreateTemp(a.s.spillDir, "greenroom-apply-*.spill")
		if err != nil {
			return 0, err
		}
		a.spill = f
	}
	off := a.spillOff
	if _, err := a.spill.Write(b); err != nil {
		return 0, err
	}
	a.spillOff += int64(len(b))
	return off, nil
}

func (a *Applier) spillRead(p *pendingEntity) ([]byte, error) {
	b := make([]byte, p.size)
	_, err := a.spill.ReadAt(b, p.off)
	return b, err
}

func (a *Applier) closeSpill() {
	if a.spill != nil {
		a.spill.Close()
		os.Remove(a.spill.Name())
		a.spill = nil
	}
}

type stitchStmts struct {
	upd, delOrphanRow, selErrs *sql.Stmt
}

// loadForStitch reads the entities and their outgoing relations for a
// sorted slice of refs.
func (a *Applier) loadForStitch(refs []string, bulk bool) (map[string]stitchEntity, map[string][]catalog.Relation, error) {
	ctx := a.ctx
	ents := make(map[string]stitchEntity, len(refs))
	rels := make(map[string][]catalog.Relation, len(refs))
	want := make(map[string]bool, len(refs))
	for _, r := range refs {
		want[r] = true
		if p, ok := a.pending[r]; ok {
			final, err := a.spillRead(p)
			if err != nil {
				return nil, nil, fmt.Errorf("read pending %s: %w", r, err)
			}
			ents[r] = stitchEntity{id: p.id, final: final, pending: p}
		}
	}
	var erows, rrows *sql.Rows
	var err error
	if bulk {
		first, last := refs[0], refs[len(refs)-1]
		erows, err = a.tx.QueryContext(ctx, `SELECT ref, id, final, etag, orphan FROM entities WHERE ref >= ? AND ref <= ?`, first, last)
		if err != nil {
			return nil, nil, err
		}
		if err := scanStitchEntities(erows, want, ents); err != nil {
			return nil, nil, err
		}
		// One row per source with its relations concatenated: SQLite
		// groups in C, and Go pays the per-row cost 8x less often.
		rrows, err = a.tx.QueryContext(ctx, `SELECT source_ref, group_concat(type || char(31) || target_ref, char(30))
			FROM relations WHERE source_ref >= ? AND source_ref <= ? GROUP BY source_ref`, first, last)
		if err != nil {
			return nil, nil, err
		}
		if err := scanGroupedRelations(rrows, want, rels); err != nil {
			return nil, nil, err
		}
	} else {
		for _, r := range refs {
			if _, ok := ents[r]; !ok {
				erows, err = a.tx.QueryContext(ctx, `SELECT ref, id, final, etag, orphan FROM entities WHERE ref = ?`, r)
				if err != nil {
					return nil, nil, err
				}
				if err := scanStitchEntities(erows, want, ents); err != nil {
					return nil, nil, err
				}
			}
			if _, ok := ents[r]; !ok {
				continue
			}
			rrows, err = a.tx.QueryContext(ctx, `SELECT source_ref, type, target_ref FROM relations WHERE source_ref = ?`, r)
			if err != nil {
				return nil, nil, err
			}
			if err := scanStitchRelations(rrows, want, rels); err != nil {
				return nil, nil, err
			}
		}
	}
	for r, list := range rels {
		rels[r] = catalog.SortRelations(list)
	}
	return ents, rels, nil
}

func scanStitchEntities(rows *sql.Rows, want map[string]bool, out map[string]stitchEntity) error {
	defer rows.Close()
	for rows.Next() {
		var ref string
		var e stitchEntity
		if err := rows.Scan(&ref, &e.id, &e.final, &e.etag, &e.orphan); err != nil {
			return err
		}
		if _, done := out[ref]; want[ref] && !done {
			out[ref] = e
		}
	}
	return rows.Err()
}

func scanGroupedRelations(rows *sql.Rows, want map[string]bool, out map[string][]catalog.Relation) error {
	defer rows.Close()
	for rows.Next() {
		var src, list string
		if err := rows.Scan(&src, &list); err != nil {
			return err
		}
		if !want[src] {
			continue
		}
		// Unit and record separators: neither occurs in a relation type, and
		// a ref containing them would have to be written on purpose.
		for _, item := range strings.Split(list, "\x1e") {
			typ, target, _ := strings.Cut(item, "\x1f")
			out[src] = append(out[src], catalog.Relation{Type: typ, TargetRef: target})
		}
	}
	return rows.Err()
}

func scanStitchRelations(rows *sql.Rows, want map[string]bool, out map[string][]catalog.Relation) error {
	defer rows.Close()
	for rows.Next() {
		var src string
		var r catalog.Relation
		if err := rows.Scan(&src, &r.Type, &r.TargetRef); err != nil {
			return err
		}
		if want[src] {
			out[src] = append(out[src], r)
		}
	}
	return rows.Err()
}

// writeStitched stores an entity's served form: inserting or fully updating
// entities put in this apply, updating final and etag of the others.
func (a *Applier) writeStitched(ref string, ent stitchEntity, body []byte, etag string, upd *sql.Stmt) error {
	p := ent.pending
	var err error
	switch {
	case p == nil:
		_, err = upd.ExecContext(a.ctx, body, etag, a.now, ent.id)
	case p.isNew:
		_, err = a.insEntity.ExecContext(a.ctx, p.id, p.uid, ref, p.kind, p.namespace, p.name, a.rootID, p.locationKey,
			nullable(p.parentRef), p.hash, etag, body, a.now, a.now)
	default:
		_, err = a.updEntity.ExecContext(a.ctx, p.kind, p.namespace, p.name, p.locationKey, nullable(p.parentRef), p.hash, etag, body, a.now, p.id)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", ref, err)
	}
	return nil
}

// appendStitched adds relations and status to an entity encoded without them.
func appendStitched(final []byte, relations []catalog.Relation, status *catalog.Status) ([]byte, error) {
	if len(final) < 2 || final[len(final)-1] != '}' {
		return nil, errors.New("entity JSON is not an object")
	}
	out := make([]byte, 0, len(final)+len(relations)*64+16)
	out = append(out, final[:len(final)-1]...)
	// Backstage's stitcher always serves a relations array, empty or not.
	if relations == nil {
		relations = []catalog.Relation{}
	}
	rb, err := json.Marshal(relations)
	if err != nil {
		return nil, err
	}
	out = append(out, `,"relations":`...)
	out = append(out, rb...)
	if status != nil {
		sb, err := json.Marshal(status)
		if err != nil {
			return nil, err
		}
		out = append(out, `,"status":`...)
		out = append(out, sb...)
	}
	return append(out, '}'), nil
}

// stitchOne writes one entity's served form if it changed.
func (a *Applier) stitchOne(ref string, ent stitchEntity, relations []catalog.Relation, hasErrors bool, st stitchStmts) error {
	ctx := a.ctx
	id, final, etag, orphan := ent.id, ent.final, ent.etag, ent.orphan
	upd, delOrphanRow, selErrs := st.upd, st.delOrphanRow, st.selErrs
	var err error
	if ent.pending != nil && !orphan {
		// Fast path for entities put in this apply: their JSON is ours,
		// encoded without relations or status, which go last.
		var status *catalog.Status
		if hasErrors {
			if status, err = a.statusOf(selErrs, ref); err != nil {
				return err
			}
		}
		body, err := appendStitched(final, relations, status)
		if err != nil {
			return fmt.Errorf("stitch %s: %w", ref, err)
		}
		newEtag := etagOf(body)
		if body, err = withMetadataField(body, "etag", newEtag); err != nil {
			return err
		}
		a.stats.Stitched++
		return a.writeStitched(ref, ent, body, newEtag, upd)
	}
	{
		var doc stitchDoc
		if err := json.Unmarshal(final, &doc); err != nil {
			return fmt.Errorf("stitch %s: %w", ref, err)
		}
		doc.Relations = relations
		if doc.Relations == nil {
			doc.Relations = []catalog.Relation{}
		}
		doc.Status = nil
		if hasErrors {
			if doc.Status, err = a.statusOf(selErrs, ref); err != nil {
				return err
			}
		}
		hadOrphan, err := doc.setOrphan(orphan)
		if err != nil {
			return fmt.Errorf("stitch %s: %w", ref, err)
		}
		delete(doc.Metadata, "etag")
		// uid goes first in metadata, as the fast path writes it, so the
		// same entity always hashes to the same etag.
		var uid string
		if raw, ok := doc.Metadata["uid"]; ok {
			if err := json.Unmarshal(raw, &uid); err != nil {
				return fmt.Errorf("stitch %s: %w", ref, err)
			}
			delete(doc.Metadata, "uid")
		}
		body, err := json.Marshal(&doc)
		if err != nil {
			return err
		}
		if uid != "" {
			if body, err = withMetadataField(body, "uid", uid); err != nil {
				return err
			}
		}
		newEtag := etagOf(body)
		if newEtag == etag {
			return nil
		}
		if body, err = withMetadataField(body, "etag", newEtag); err != nil {
			return err
		}
		if err := a.writeStitched(ref, ent, body, newEtag, upd); err != nil {
			return err
		}
		if orphan != hadOrphan {
			if _, err := delOrphanRow.ExecContext(ctx, id); err != nil {
				return err
			}
			if orphan {
				t := "true"
				if err := a.insertRows(id, []catalog.FilterRow{{Key: "metadata.annotations.backstage.io/orphan", Value: &t, Original: &t}}); err != nil {
					return err
				}
			}
		}
		a.stats.Stitched++
	}
	return nil
}

// stitchDoc is a stored entity decoded only as far as stitching needs:
// everything it does not change stays raw JSON.
type stitchDoc struct {
	APIVersion json.RawMessage            `json:"apiVersion"`
	Kind       json.RawMessage            `json:"kind"`
	Metadata   map[string]json.RawMessage `json:"metadata"`
	Spec       json.RawMessage            `json:"spec,omitempty"`
	Relations  []catalog.Relation         `json:"relations"`
	Status     *catalog.Status            `json:"status,omitempty"`
}

// setOrphan adds or removes the orphan annotation, reporting whether it was set.
func (d *stitchDoc) setOrphan(orphan bool) (had bool, err error) {
	raw, ok := d.Metadata["annotations"]
	if !ok && !orphan {
		return false, nil
	}
	if ok && !orphan && !bytes.Contains(raw, []byte(catalog.AnnotationOrphan)) {
		return false, nil
	}
	ann := map[string]string{}
	if ok {
		if err := json.Unmarshal(raw, &ann); err != nil {
			return false, err
		}
	}
	had = ann[catalog.AnnotationOrphan] == "true"
	if orphan == had {
		return had, nil
	}
	if orphan {
		ann[catalog.AnnotationOrphan] = "true"
	} else {
		delete(ann, catalog.AnnotationOrphan)
	}
	if d.Metadata["annotations"], err = json.Marshal(ann); err != nil {
		return had, err
	}
	return had, nil
}

// newTracer prints phase timings when GREENROOM_TRACE is set.
func newTracer() func(string) {
	if os.Getenv("GREENROOM_TRACE") == "" {
		return func(string) {}
	}
	last := time.Now()
	return func(phase string) {
		fmt.Fprintf(os.Stderr, "apply: %s %s\n", phase, time.Since(last).Round(time.Millisecond))
		last = time.Now()
	}
}
