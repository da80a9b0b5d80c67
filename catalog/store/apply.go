package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
	seen      map[string]bool
	keepLocs  map[string]bool
	keepRefs  map[string]bool
	affected  map[string]bool
	errs      []ProcessingError
	stats     ApplyStats
	deleteAll bool
	done      bool
	// rebuildIndexes is set when BeginApply dropped the bulk indexes.
	rebuildIndexes bool

	insEntity, updEntity, delSearch, selRelSources, delRelations, lookup *sql.Stmt
}

// BeginApply starts applying a crawl of the root location rootID.
func (s *Store) BeginApply(ctx context.Context, rootID string) (*Applier, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin apply: %w", err)
	}
	a := &Applier{s: s, ctx: ctx, tx: tx, rootID: rootID, now: s.timestamp(),
		existing: map[string]existing{}, seen: map[string]bool{}, keepLocs: map[string]bool{},
		keepRefs: map[string]bool{}, affected: map[string]bool{}}
	fail := func(err error) (*Applier, error) {
		tx.Rollback()
		return nil, fmt.Errorf("begin apply: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, uid, ref, hash, location_key, orphan FROM entities WHERE root_id = ?`, rootID)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var e existing
		var ref string
		if err := rows.Scan(&e.id, &e.uid, &ref, &e.hash, &e.locationKey, &e.orphan); err != nil {
			rows.Close()
			return fail(err)
		}
		a.existing[ref] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	a.insEntity = prep(`INSERT INTO entities (uid, ref, kind, namespace, name, root_id, location_key, parent_ref, hash, etag, orphan, final, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?, ?)`)
	a.updEntity = prep(`UPDATE entities SET kind = ?, namespace = ?, name = ?, location_key = ?, parent_ref = ?, hash = ?, etag = '', orphan = 0, final = ?, updated_at = ? WHERE id = ?`)
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
	{"search_key_value", `CREATE INDEX search_key_value ON search (key, value)`},
	{"search_entity", `CREATE INDEX search_entity ON search (entity_id)`},
	{"relations_source", `CREATE INDEX relations_source ON relations (source_ref)`},
}

// KeepLocation keeps every entity read from the location key as it is: its
// file could not be read, and Backstage keeps the last good version.
func (a *Applier) KeepLocation(key string) { a.keepLocs[key] = true }

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
	if a.seen[ref] {
		a.conflict(ref, it.LocationKey, "an earlier location of this crawl")
		return nil
	}
	ex, mine := a.existing[ref]
	if !mine {
		var root, key string
		err := a.lookup.QueryRowContext(a.ctx, ref).Scan(&root, &key)
		if err == nil {
			a.conflict(ref, it.LocationKey, key)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("put %s: %w", ref, err)
		}
	}
	a.seen[ref] = true
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
	r := it.Entity.Ref()
	var id int64
	if mine {
		id = ex.id
		if _, err := a.updEntity.ExecContext(a.ctx, r.Kind, r.Namespace, r.Name, it.LocationKey, nullable(it.ParentRef), it.Hash, final, a.now, id); err != nil {
			return fmt.Errorf("put %s: %w", ref, err)
		}
		if err := a.dropRelations(id); err != nil {
			return err
		}
		if _, err := a.delSearch.ExecContext(a.ctx, id); err != nil {
			return fmt.Errorf("put %s: %w", ref, err)
		}
		a.stats.Updated++
	} else {
		res, err := a.insEntity.ExecContext(a.ctx, uid, ref, r.Kind, r.Namespace, r.Name, a.rootID, it.LocationKey, nullable(it.ParentRef), it.Hash, final, a.now, a.now)
		if err != nil {
			return fmt.Errorf("put %s: %w", ref, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		a.stats.Added++
	}
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
	const marker = `"metadata":{`
	i := bytes.Index(body, []byte(marker))
	if i < 0 {
		return nil, errors.New("entity JSON has no metadata")
	}
	i += len(marker)
	out := make([]byte, 0, len(body)+64)
	out = append(out, body[:i]...)
	out = append(out, `"uid":"`...)
	out = append(out, uid...)
	out = append(out, `",`...)
	out = append(out, body[i:]...)
	return out, nil
}

func (a *Applier) conflict(ref, newKey, existingKey string) {
	a.stats.Conflicts++
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
const chunkRows = 100

func (a *Applier) insertEdges(id int64, edges []catalog.Edge) error {
	for start := 0; start < len(edges); start += chunkRows {
		end := min(start+chunkRows, len(edges))
		var q strings.Builder
		q.WriteString(`INSERT INTO relations (originating_id, source_ref, type, target_ref) VALUES `)
		args := make([]any, 0, 4*(end-start))
		for i, e := range edges[start:end] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?)")
			src := e.Source.String()
			args = append(args, id, src, e.Type, e.Target.String())
			a.affected[src] = true
		}
		if _, err := a.tx.ExecContext(a.ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func (a *Applier) insertRows(id int64, rows []catalog.FilterRow) error {
	for start := 0; start < len(rows); start += chunkRows {
		end := min(start+chunkRows, len(rows))
		var q strings.Builder
		q.WriteString(`INSERT INTO search (entity_id, key, value, original_value) VALUES `)
		args := make([]any, 0, 4*(end-start))
		for i, r := range rows[start:end] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?)")
			var v, o any
			if r.Value != nil {
				v = *r.Value
			}
			if r.Original != nil {
				o = *r.Original
			}
			args = append(args, id, r.Key, v, o)
		}
		if _, err := a.tx.ExecContext(a.ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// Rollback abandons the apply.
func (a *Applier) Rollback() {
	if !a.done {
		a.done = true
		a.tx.Rollback()
	}
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
	for ref, ex := range a.existing {
		if a.seen[ref] {
			continue
		}
		if !a.deleteAll && (a.keepRefs[ref] || a.keepLocs[ex.locationKey]) {
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
			if ix.name == "search_key_value" {
				continue // the stitch below does not need it; build it after
			}
			if _, err := a.tx.ExecContext(ctx, ix.def); err != nil {
				return a.stats, fmt.Errorf("rebuild index %s: %w", ix.name, err)
			}
		}
	}
	if err := a.stitch(); err != nil {
		return a.stats, err
	}
	if a.rebuildIndexes {
		if _, err := a.tx.ExecContext(ctx, bulkIndexes[0].def); err != nil {
			return a.stats, fmt.Errorf("rebuild index search_key_value: %w", err)
		}
	}
	if a.deleteAll {
		if _, err := a.tx.ExecContext(ctx, `DELETE FROM locations WHERE id = ?`, a.rootID); err != nil {
			return a.stats, err
		}
	} else if _, err := a.tx.ExecContext(ctx, `UPDATE locations SET last_crawl_at = ? WHERE id = ?`, a.now, a.rootID); err != nil {
		return a.stats, err
	}
	if err := a.tx.Commit(); err != nil {
		return a.stats, fmt.Errorf("commit: %w", err)
	}
	a.done = true
	return a.stats, nil
}

func (a *Applier) errorRefs() ([]string, error) {
	rows, err := a.tx.QueryContext(a.ctx, `SELECT DISTINCT entity_ref FROM errors WHERE root_id = ? AND entity_ref IS NOT NULL`, a.rootID)
	if err != nil {
		return nil, err
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
// orphan annotation and the etag. Filter rows for relations follow.
func (a *Applier) stitch() error {
	refs := make([]string, 0, len(a.affected))
	for r := range a.affected {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	ctx := a.ctx
	selEntity, err := a.tx.PrepareContext(ctx, `SELECT id, final, etag, orphan FROM entities WHERE ref = ?`)
	if err != nil {
		return err
	}
	defer selEntity.Close()
	selRels, err := a.tx.PrepareContext(ctx, `SELECT DISTINCT type, target_ref FROM relations WHERE source_ref = ? ORDER BY type, target_ref`)
	if err != nil {
		return err
	}
	defer selRels.Close()
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
	delRelRows, err := a.tx.PrepareContext(ctx, `DELETE FROM search WHERE entity_id = ? AND key >= 'relations.' AND key < 'relations/'`)
	if err != nil {
		return err
	}
	defer delRelRows.Close()
	delOrphanRow, err := a.tx.PrepareContext(ctx, `DELETE FROM search WHERE entity_id = ? AND key = 'metadata.annotations.backstage.io/orphan'`)
	if err != nil {
		return err
	}
	defer delOrphanRow.Close()
	var hasErrors bool
	if err := a.tx.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM (SELECT 1 FROM errors WHERE entity_ref IS NOT NULL LIMIT 1)`).Scan(&hasErrors); err != nil {
		return err
	}

	for _, ref := range refs {
		var id int64
		var final []byte
		var etag string
		var orphan bool
		err := selEntity.QueryRowContext(ctx, ref).Scan(&id, &final, &etag, &orphan)
		if errors.Is(err, sql.ErrNoRows) {
			continue // a relation target that is not (yet) in the catalog
		}
		if err != nil {
			return err
		}
		var doc stitchDoc
		if err := json.Unmarshal(final, &doc); err != nil {
			return fmt.Errorf("stitch %s: %w", ref, err)
		}
		before := doc.Relations
		doc.Relations = nil
		rows, err := selRels.QueryContext(ctx, ref)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r catalog.Relation
			if err := rows.Scan(&r.Type, &r.TargetRef); err != nil {
				rows.Close()
				return err
			}
			doc.Relations = append(doc.Relations, r)
		}
		rows.Close()
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
		body, err := json.Marshal(&doc)
		if err != nil {
			return err
		}
		newEtag := etagOf(body)
		if newEtag == etag {
			continue
		}
		doc.Metadata["etag"], _ = json.Marshal(newEtag)
		if body, err = json.Marshal(&doc); err != nil {
			return err
		}
		if _, err := upd.ExecContext(ctx, body, newEtag, a.now, id); err != nil {
			return err
		}
		if !relationsEqual(before, doc.Relations) || etag == "" {
			if _, err := delRelRows.ExecContext(ctx, id); err != nil {
				return err
			}
			var relRows []catalog.FilterRow
			seen := map[string]bool{}
			for _, r := range doc.Relations {
				k := "relations." + strings.ToLower(r.Type)
				v := strings.ToLower(r.TargetRef)
				if seen[k+"\x00"+v] || len(k) > 200 {
					continue
				}
				seen[k+"\x00"+v] = true
				orig := r.TargetRef
				relRows = append(relRows, catalog.FilterRow{Key: k, Value: &v, Original: &orig})
			}
			if err := a.insertRows(id, relRows); err != nil {
				return err
			}
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
	Relations  []catalog.Relation         `json:"relations,omitempty"`
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

func relationsEqual(a, b []catalog.Relation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var _ = time.Now
