package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
)

// Predicate is a filter over entities, the form both Backstage's filter
// grammar (filter=kind=component,spec.type=service) and its predicate
// queries ({"$all": […]}) compile to. Keys are flattened entity paths,
// matched case-insensitively; values match the lower-cased stored value
// exactly.
type Predicate interface{ predicate() }

// All matches entities matching every predicate (none: every entity).
type All []Predicate

// Any matches entities matching at least one predicate (none: no entity).
type Any []Predicate

// Not matches entities the predicate does not match.
type Not struct{ P Predicate }

// Field is a condition on one key: Values set means "equals any of", Prefix
// means "starts with", and neither means "the key exists".
type Field struct {
	Key    string
	Values []string
	Prefix string
}

func (All) predicate()   {}
func (Any) predicate()   {}
func (Not) predicate()   {}
func (Field) predicate() {}

// compile turns a predicate into an SQL condition on entities aliased e.
// relations.<type> keys are answered from the relations table, the rest
// from the filter rows.
func compile(p Predicate, args *[]any) string { return onEntity.compile(p, args) }

// on says which entity a condition tests: the SQL expressions of its id
// and, when at hand, its ref. Without a ref, relation conditions find the
// ids of the matching refs through the ref index.
//
// Conditions are IN lists by default: each list is built once, which suits
// tests of many entities. With probe set they are correlated EXISTS
// subqueries, each an index seek per entity, which suits a few entities
// read in an order of their own (a page read along the uid index): an IN
// list would read every matching filter row first.
type on struct {
	id, ref string
	probe   bool
}

var onEntity = on{id: "e.id", ref: "e.ref"}

func (w on) compile(p Predicate, args *[]any) string {
	switch t := p.(type) {
	case nil:
		return "1 = 1"
	case All:
		if len(t) == 0 {
			return "1 = 1"
		}
		parts := make([]string, len(t))
		for i, sub := range t {
			parts[i] = w.compile(sub, args)
		}
		return joinBalanced(parts, "AND")
	case Any:
		if len(t) == 0 {
			return "1 = 0"
		}
		parts := make([]string, len(t))
		for i, sub := range t {
			parts[i] = w.compile(sub, args)
		}
		// Parenthesized (by joinBalanced) so that a condition ANDed after
		// it (a cursor, a full-text term) applies to every alternative.
		return joinBalanced(parts, "OR")
	case Not:
		return "NOT (" + w.compile(t.P, args) + ")"
	case Field:
		key := strings.ToLower(t.Key)
		if typ, ok := strings.CutPrefix(key, "relations."); ok {
			*args = append(*args, typ)
			sub := "SELECT source_ref FROM relations WHERE lower(type) = ?" + valueCondition("target_ref", t, args)
			if w.ref != "" {
				return w.ref + " IN (" + sub + ")"
			}
			return w.id + " IN (SELECT x.id FROM entities x WHERE x.ref IN (" + sub + "))"
		}
		*args = append(*args, key)
		switch {
		case !w.probe:
			return w.id + " IN (SELECT entity_id FROM search WHERE key = ?" + valueCondition("value", t, args) + ")"
		case t.Values != nil:
			// A seek on search_key_value (key, value, entity_id).
			return "EXISTS (SELECT 1 FROM search WHERE key = ?" + valueCondition("value", t, args) + " AND entity_id = " + w.id + ")"
		default:
			// Existence and prefixes: the entity's own rows (search_entity);
			// +key keeps the planner from scanning every row of the key.
			return "EXISTS (SELECT 1 FROM search WHERE entity_id = " + w.id + " AND +key = ?" + valueCondition("value", t, args) + ")"
		}
	}
	panic(fmt.Sprintf("store: unknown predicate %T", p))
}

func valueCondition(col string, f Field, args *[]any) string {
	switch {
	case f.Values != nil:
		if len(f.Values) == 0 {
			return " AND 1 = 0"
		}
		lower := make([]string, len(f.Values))
		for i, v := range f.Values {
			lower[i] = strings.ToLower(v)
		}
		if len(lower) > maxInlineValues {
			// One JSON argument instead of a placeholder per value: SQLite
			// allows at most 32766 variables in a statement.
			b, _ := json.Marshal(lower)
			*args = append(*args, string(b))
			return " AND " + col + " IN (SELECT value FROM json_each(?))"
		}
		marks := make([]string, len(lower))
		for i, v := range lower {
			marks[i] = "?"
			*args = append(*args, v)
		}
		return " AND " + col + " IN (" + strings.Join(marks, ", ") + ")"
	case f.Prefix != "":
		prefix := strings.ToLower(f.Prefix)
		if len(prefix) > catalog.MaxFilterLength {
			return " AND 1 = 0" // no stored value is that long
		}
		*args = append(*args, likeEscaper.Replace(prefix)+"%")
		return " AND " + col + ` LIKE ? ESCAPE '\'`
	}
	return ""
}

// maxInlineValues is the longest IN list written with one placeholder per value.
const maxInlineValues = 500

// joinBalanced joins conditions as a balanced tree of op: SQLite refuses
// expressions nested more than 1000 deep, which a flat chain of a thousand
// ANDed or ORed conditions would be.
func joinBalanced(parts []string, op string) string {
	if len(parts) == 1 {
		return "(" + parts[0] + ")"
	}
	mid := len(parts) / 2
	return "(" + joinBalanced(parts[:mid], op) + " " + op + " " + joinBalanced(parts[mid:], op) + ")"
}

// Order is one sort key.
type Order struct {
	Field string
	Desc  bool
}

// ListRequest is GET /entities: a filter, an order and offset/limit paging.
type ListRequest struct {
	Filter Predicate
	Order  []Order
	Offset int
	Limit  int // 0: no limit
}

// sortValue is the entity's lower-cased value for a key (the least one when
// an array gives several).
func sortValue(key string, args *[]any) string {
	key = strings.ToLower(key)
	switch key {
	case "metadata.uid":
		return "lower(e.uid)"
	case "metadata.name":
		return "lower(e.name)"
	case "metadata.namespace":
		return "lower(e.namespace)"
	case "kind":
		return "lower(e.kind)"
	}
	*args = append(*args, key)
	return "(SELECT MIN(value) FROM search WHERE entity_id = e.id AND key = ?)"
}

// List returns the final JSON of matching entities in Backstage's order for
// GET /entities: by entity ref without an order; with one, by the order's
// values (entities lacking the field last, in uid order). It asks for one
// more than Limit so the caller can tell whether another page exists.
func (s *Store) List(ctx context.Context, req ListRequest, fn func(final []byte) error) error {
	var args []any
	var orderBy []string
	for _, o := range req.Order {
		// The value is used twice (nulls last, then the order), and so are
		// its arguments.
		var vargs []any
		v := sortValue(o.Field, &vargs)
		dir := "ASC"
		if o.Desc {
			dir = "DESC"
		}
		orderBy = append(orderBy, "("+v+") IS NULL", v+" "+dir)
		args = append(append(args, vargs...), vargs...)
	}
	if len(req.Order) > 0 {
		orderBy = append(orderBy, "e.uid ASC")
	} else {
		orderBy = append(orderBy, "e.ref ASC")
	}
	var where []any
	cond := compile(req.Filter, &where)
	// WHERE comes before ORDER BY in the text, so its args go first.
	all := append(where, args...)
	q := "SELECT e.final FROM entities e WHERE " + cond + " ORDER BY " + strings.Join(orderBy, ", ")
	if req.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", req.Limit+1)
	} else if req.Offset > 0 {
		q += " LIMIT -1"
	}
	if req.Offset > 0 {
		q += fmt.Sprintf(" OFFSET %d", req.Offset)
	}
	rows, err := s.db.QueryContext(ctx, q, all...)
	if err != nil {
		return fmt.Errorf("list entities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var final []byte
		if err := rows.Scan(&final); err != nil {
			return err
		}
		if err := fn(final); err != nil {
			return err
		}
	}
	return rows.Err()
}

// QueryRequest is one page of GET/POST /entities/by-query.
type QueryRequest struct {
	Filter     Predicate
	SortField  string // "" sorts by uid, Backstage's entity id
	Desc       bool
	TextTerm   string   // lower-cased substring to find
	TextFields []string // keys to look in; default the sort field or metadata.uid
	After      []*string
	Backwards  bool
	Offset     int
	Limit      int // -1: all rows
	CountTotal bool
}

// QueryRow is one entity of a query page with its sort values.
type QueryRow struct {
	Final []byte
	Value *string // sort value, nil without a sort field
	UID   string
}

// Query runs one keyset-paged query: rows after (or, backwards, before)
// the cursor position, Limit+1 of them when going forwards so the caller
// knows whether there is more. With a sort field only entities having it
// are included, as in Backstage.
func (s *Store) Query(ctx context.Context, req QueryRequest) (rows []QueryRow, total int, err error) {
	total, err = s.QueryEach(ctx, req, func(r QueryRow) error {
		rows = append(rows, r)
		return nil
	})
	return rows, total, err
}

// QueryEach is Query calling fn for each row as it is read, so a caller can
// stream any number of rows without holding them.
func (s *Store) QueryEach(ctx context.Context, req QueryRequest, fn func(QueryRow) error) (total int, err error) {
	sortKey := strings.ToLower(req.SortField)
	var text *textFilter
	if len(strings.ToLower(strings.TrimSpace(req.TextTerm))) > catalog.MaxFilterLength {
		// The term is ANDed with the rest and no stored value is that long.
		return 0, nil
	}
	if req.TextTerm != "" {
		fields := req.TextFields
		if len(fields) == 0 {
			if sortKey != "" {
				fields = []string{sortKey}
			} else {
				fields = []string{"metadata.uid"}
			}
		}
		text = &textFilter{pattern: "%" + likeEscaper.Replace(strings.ToLower(req.TextTerm)) + "%"}
		for _, f := range fields {
			text.keys = append(text.keys, strings.ToLower(f))
		}
	}
	if text != nil {
		ids, err := s.cachedTextMatches(ctx, text)
		if err != nil {
			return 0, fmt.Errorf("text filter: %w", err)
		}
		text.ids = ids
	}
	if req.CountTotal {
		cq, cargs := countQuery(req.Filter, text, sortKey)
		if total, err = s.cachedCount(ctx, cq, cargs); err != nil {
			return 0, fmt.Errorf("count entities: %w", err)
		}
	}
	if req.Limit == 0 {
		return total, nil
	}
	if sortKey == "" {
		matches := -1
		if req.CountTotal {
			matches = total
		}
		return total, s.queryByUID(ctx, req, text, matches, fn)
	}

	// Two plans, chosen by how many entities match (when counted). Few:
	// the filter's IN lists find them and only they are sorted. Many: the
	// sort key's rows are read in order and each entity is probed with
	// index seeks until the page is full — building IN lists of tens of
	// thousands of ids for every page would cost more than the page.
	var args []any
	var from, cond string
	filterFirst := req.CountTotal && total < fewSortedMatches && (text != nil || selectiveLead(req.Filter))
	val := "o.value"
	if filterFirst {
		c := leadingCompile(req.Filter, text, &args)
		from = "FROM (SELECT m.id FROM entities m WHERE " + c + ") ids CROSS JOIN entities e ON e.id = ids.id"
		if sortKey == "metadata.name" {
			// Names are ASCII (Backstage's name rule), so SQLite's lower()
			// gives the filter row's value without reading it.
			val = "lower(e.name)"
		} else {
			// +o.key: the sort row is found among the entity's own rows
			// (search_entity), not by scanning the key's rows per match.
			args = append(args, sortKey)
			from += " CROSS JOIN search o ON o.entity_id = e.id AND +o.key = ? AND o.value IS NOT NULL"
		}
		cond = "1 = 1"
	} else {
		// +e.ref: a relation condition's list must not drive the scan.
		w := on{id: "e.id", ref: "+e.ref", probe: true}
		args = append(args, sortKey)
		from = "FROM entities e JOIN search o ON o.entity_id = e.id AND o.key = ? AND o.value IS NOT NULL"
		cond = w.compile(req.Filter, &args)
		if text != nil {
			cond += " AND " + text.compile(w, &args)
		}
	}
	desc := req.Desc != req.Backwards
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	page := cond
	if req.After != nil {
		if len(req.After) == 2 && req.After[0] != nil && req.After[1] != nil {
			page += fmt.Sprintf(" AND (%s %s ? OR (%s = ? AND e.uid %s ?))", val, cmp, val, cmp)
			args = append(args, *req.After[0], *req.After[0], *req.After[1])
		} else if len(req.After) >= 1 && req.After[len(req.After)-1] != nil {
			page += fmt.Sprintf(" AND e.uid %s ?", cmp)
			args = append(args, *req.After[len(req.After)-1])
		}
	}
	q := fmt.Sprintf("SELECT e.final, o.value, e.uid %s WHERE %s ORDER BY o.value %s, e.uid %s LIMIT %d%s",
		from, page, dir, dir, pageSize(req), offsetClause(req.Offset))
	if filterFirst {
		// Sort the matches without their (large) entity JSON, then read
		// it for the page only.
		q = fmt.Sprintf("SELECT e.final, p.value, p.uid FROM (SELECT e.id, %s AS value, e.uid %s WHERE %s ORDER BY 2 %s, e.uid %s LIMIT %d%s) p"+
			" CROSS JOIN entities e ON e.id = p.id ORDER BY p.value %s, p.uid %s",
			val, from, page, dir, dir, pageSize(req), offsetClause(req.Offset), dir, dir)
	}
	return total, s.scanRows(ctx, q, args, fn)
}

// leadingCompile compiles a filter on entities aliased m so that one
// condition finds the matches (an IN list) and the rest only test them
// (index seeks per match). SQLite has no statistics on the filter rows,
// and left to itself may seek every id of a broad list (kind=component)
// once per row of a narrow one, or build that list of tens of thousands
// of ids to test a few matches; the unary + keeps a condition from being
// used as an index constraint. The leader is
// the condition likely to match fewest: a relation, then a field of many
// values, then one of few values (kind, namespace, lifecycle).
func leadingCompile(filter Predicate, text *textFilter, args *[]any) string {
	lead := on{id: "m.id", ref: "m.ref"}
	test := on{id: "+m.id", ref: "+m.ref", probe: true}
	parts, ok := filter.(All)
	if !ok {
		parts = All{filter}
	}
	best, bestRank := -1, 5
	for i, p := range parts {
		if r := leadRank(p); r < bestRank {
			best, bestRank = i, r
		}
	}
	var conds []string
	if text != nil && bestRank > 1 {
		best = -1
	}
	for i, p := range parts {
		w := test
		if i == best {
			w = lead
		}
		conds = append(conds, w.compile(p, args))
	}
	if text != nil {
		// A text term is one scan of the keys' rows: it leads rather than
		// a list of every entity of a kind.
		w := test
		if bestRank > 1 {
			w = lead
		}
		conds = append(conds, text.compile(w, args))
	}
	if len(conds) == 0 {
		return "1 = 1"
	}
	return joinBalanced(conds, "AND")
}

// selectiveLead reports whether a filter has a condition worth finding
// the matches by: a relation or a field of many values. Kind, namespace
// and lifecycle lists are tens of thousands of ids at 100k entities, and
// a text term cannot use an index; with only those, reading the sort key
// in order and probing each entity finds a page sooner.
func selectiveLead(filter Predicate) bool {
	parts, ok := filter.(All)
	if !ok {
		parts = All{filter}
	}
	for _, p := range parts {
		if leadRank(p) <= 1 {
			return true
		}
	}
	return false
}

func leadRank(p Predicate) int {
	f, ok := p.(Field)
	if !ok || f.Values == nil {
		return 5
	}
	key := strings.ToLower(f.Key)
	switch {
	case strings.HasPrefix(key, "relations."):
		return 0
	case key == "kind" || key == "metadata.namespace" || key == "spec.lifecycle" || key == "apiversion":
		return 3
	}
	return 1
}

// likeEscaper escapes LIKE's wildcards for ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// textFilter is a full-text condition: some filter row of one of the keys
// contains the (lower-cased, escaped) term.
type textFilter struct {
	keys    []string
	pattern string // %term%
	// ids, when set, are the matching entities as a JSON array, found once
	// and cached until the data changes: a term cannot use an index, so
	// finding it means reading every row of the keys.
	ids string
}

func (t *textFilter) keyList(args *[]any) string {
	marks := make([]string, len(t.keys))
	for i, k := range t.keys {
		marks[i] = "?"
		*args = append(*args, k)
	}
	return strings.Join(marks, ", ")
}

func (t *textFilter) compile(w on, args *[]any) string {
	if t.ids != "" && !w.probe {
		// Where the term would lead (a scan), its known matches lead;
		// probes of single entities stay seeks on their own rows.
		*args = append(*args, t.ids)
		return w.id + " IN (SELECT value FROM json_each(?))"
	}
	if !w.probe {
		q := w.id + " IN (SELECT entity_id FROM search WHERE key IN (" + t.keyList(args) + `) AND value LIKE ? ESCAPE '\')`
		*args = append(*args, t.pattern)
		return q
	}
	// The entity's own rows (search_entity): a leading % cannot seek, and
	// +key keeps the planner from scanning every row of the keys.
	q := "EXISTS (SELECT 1 FROM search WHERE entity_id = " + w.id + " AND +key IN (" + t.keyList(args) + `) AND value LIKE ? ESCAPE '\')`
	*args = append(*args, t.pattern)
	return q
}

// pageSize is the number of rows a page query reads: one more than the
// limit going forwards (to tell whether there is more), all for -1.
func pageSize(req QueryRequest) int {
	switch {
	case req.Limit < 0:
		return -1
	case req.Backwards:
		return req.Limit
	}
	return req.Limit + 1
}

func offsetClause(offset int) string {
	if offset > 0 {
		return fmt.Sprintf(" OFFSET %d", offset)
	}
	return ""
}

// countQuery counts the entities matching a filter and full-text
// condition, or with a sort field their rows of that field (the page query
// joins them). The filter rows are one per entity, key and value (see
// catalog.FilterRowsOf), and each belongs to an existing entity, so a
// condition on one key can be counted from search_key_value alone, without
// reading the (wide) entity rows; the rest of the filter is tested on the
// counted rows' entity ids.
func countQuery(filter Predicate, text *textFilter, sortKey string) (string, []any) {
	var args []any
	if everyEntityHas(sortKey) {
		// Counting the sort key's rows would read one per entity.
		sortKey = ""
	}
	if sortKey != "" {
		args = append(args, sortKey)
		idOf := on{id: "o.entity_id"}
		q := "SELECT COUNT(*) FROM search o WHERE o.key = ? AND o.value IS NOT NULL AND " + idOf.compile(filter, &args)
		if text != nil {
			q += " AND " + text.compile(idOf, &args)
		}
		return q, args
	}
	// The first condition on a filter key of a top-level conjunction leads.
	var parts []Predicate
	var flatten func(p Predicate)
	flatten = func(p Predicate) {
		if all, ok := p.(All); ok {
			for _, sub := range all {
				flatten(sub)
			}
			return
		}
		if p != nil {
			parts = append(parts, p)
		}
	}
	flatten(filter)
	// The condition likely to match fewest leads (see leadRank); the
	// first among equals.
	lead, leadR := -1, 6
	for i, p := range parts {
		if f, ok := p.(Field); ok && !strings.HasPrefix(strings.ToLower(f.Key), "relations.") && (f.Values == nil || len(f.Values) > 0) {
			if r := leadRank(p); r < leadR {
				lead, leadR = i, r
			}
		}
	}
	if text != nil && leadR > 1 {
		// A text term narrows more than a kind or a lifecycle: it leads,
		// and the rest is tested with seeks.
		lead, leadR = -1, 0
	}
	var q string
	switch {
	case lead >= 0:
		f := parts[lead].(Field)
		args = append(args, strings.ToLower(f.Key))
		if len(f.Values) == 1 {
			args = append(args, strings.ToLower(f.Values[0]))
			q = "SELECT COUNT(*) FROM search d WHERE d.key = ? AND d.value = ?"
		} else {
			q = "SELECT COUNT(DISTINCT d.entity_id) FROM search d WHERE d.key = ?" + valueCondition("d.value", f, &args)
		}
		parts = append(parts[:lead:lead], parts[lead+1:]...)
	case text != nil && text.ids != "":
		// The matches are known: count those passing the rest.
		args = append(args, text.ids)
		q = "SELECT COUNT(*) FROM json_each(?) j WHERE 1 = 1"
		if len(parts) > 0 {
			q += " AND " + on{id: "j.value", probe: true}.compile(All(parts), &args)
		}
		return q, args
	case text != nil:
		q = "SELECT COUNT(DISTINCT d.entity_id) FROM search d WHERE d.key IN (" + text.keyList(&args) + `) AND d.value LIKE ? ESCAPE '\'`
		args = append(args, text.pattern)
		text = nil
	default:
		q = "SELECT COUNT(*) FROM entities e WHERE " + compile(filter, &args)
		if text != nil {
			q += " AND " + text.compile(onEntity, &args)
		}
		return q, args
	}
	// A selective leader's rows are few: the rest is tested by a seek
	// each, rather than by building lists of every entity of a kind.
	idOf := on{id: "d.entity_id", probe: leadR <= 1}
	if len(parts) > 0 {
		q += " AND " + idOf.compile(All(parts), &args)
	}
	if text != nil {
		q += " AND " + text.compile(on{id: "d.entity_id"}, &args)
	}
	return q, args
}

// everyEntityHas reports filter keys every stored entity has one row of.
func everyEntityHas(key string) bool {
	switch key {
	case "metadata.name", "metadata.namespace", "kind", "metadata.uid":
		return true
	}
	return false
}

// uidWindow is how many entities, in uid order, a page without a sort
// field first tests against the filter (at least; more for big pages).
// With fewer than fewMatches matches in all (when counted), sorting them
// is cheaper than probing a window.
const (
	uidWindow  = 1024
	fewMatches = 256
	// fewSortedMatches: below it a sorted page sorts the matches; above, it
	// reads the sort key in order (see QueryEach).
	fewSortedMatches = 2048
)

// queryByUID reads a page (or, with Limit -1, all) of the entities matching
// the filter in uid order. Sorting every match by uid would read each
// matching (wide) entity row, so a page instead walks the uid index from
// the cursor and tests each entity with index probes: with a filter most
// entities match, a page needs a few dozen. Only if a window of the index
// holds too few matches (or the count, matches, is known to be small;
// -1 when unknown) does it sort the matches' uids.
func (s *Store) queryByUID(ctx context.Context, req QueryRequest, text *textFilter, matches int, fn func(QueryRow) error) error {
	desc := req.Desc != req.Backwards
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	var after *string
	if len(req.After) >= 1 && req.After[len(req.After)-1] != nil {
		after = req.After[len(req.After)-1]
	}
	n := pageSize(req)
	cond := func(w on, alias string, args *[]any) string {
		c := w.compile(req.Filter, args)
		if text != nil {
			c += " AND " + text.compile(w, args)
		}
		if after != nil {
			c += fmt.Sprintf(" AND %s.uid %s ?", alias, cmp)
			*args = append(*args, *after)
		}
		return c
	}
	if n < 0 {
		// Everything, streamed along the uid index: no sort, flat memory.
		var args []any
		q := fmt.Sprintf("SELECT e.final, NULL, e.uid FROM entities e WHERE %s ORDER BY e.uid %s LIMIT -1%s",
			cond(on{id: "e.id", ref: "e.ref", probe: true}, "e", &args), dir, offsetClause(req.Offset))
		return s.scanRows(ctx, q, args, fn)
	}

	if matches >= 0 && matches < fewMatches {
		return s.sortedByUID(ctx, req, n, cond, dir, fn)
	}
	window := max(uidWindow, 16*(n+req.Offset))
	var args []any
	var span string
	if after != nil {
		span = fmt.Sprintf(" WHERE uid %s ?", cmp)
		args = append(args, *after)
	}
	inner := fmt.Sprintf("SELECT id, uid FROM entities%s ORDER BY uid %s LIMIT %d", span, dir, window)
	probe := on{id: "w.id", probe: true}
	c := probe.compile(req.Filter, &args)
	if text != nil {
		c += " AND " + text.compile(probe, &args)
	}
	q := fmt.Sprintf("SELECT e.final, NULL, e.uid FROM entities e WHERE e.id IN (SELECT w.id FROM (%s) w WHERE %s ORDER BY w.uid %s LIMIT %d%s) ORDER BY e.uid %s",
		inner, c, dir, n, offsetClause(req.Offset), dir)
	var rows []QueryRow
	if err := s.scanRows(ctx, q, args, func(r QueryRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		return err
	}
	complete := len(rows) == n
	if !complete {
		// Fewer matches than asked: the answer if the window reached the
		// end of the index.
		var wargs []any
		if after != nil {
			wargs = append(wargs, *after)
		}
		var uid string
		err := s.db.QueryRowContext(ctx, fmt.Sprintf("SELECT uid FROM entities%s ORDER BY uid %s LIMIT 1 OFFSET %d", span, dir, window), wargs...).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			complete = true
		} else if err != nil {
			return fmt.Errorf("query entities: %w", err)
		}
	}
	if complete {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	return s.sortedByUID(ctx, req, n, cond, dir, fn)
}

// sortedByUID reads a page for a filter few entities match: it sorts the
// matches' uids, then reads the page's entities.
func (s *Store) sortedByUID(ctx context.Context, req QueryRequest, n int, cond func(on, string, *[]any) string, dir string, fn func(QueryRow) error) error {
	var args []any
	q := fmt.Sprintf("SELECT e.final, NULL, e.uid FROM entities e WHERE e.id IN (SELECT m.id FROM entities m WHERE %s ORDER BY m.uid %s LIMIT %d%s) ORDER BY e.uid %s",
		cond(on{id: "m.id", ref: "m.ref"}, "m", &args), dir, n, offsetClause(req.Offset), dir)
	return s.scanRows(ctx, q, args, fn)
}

// scanRows runs a page query of (final, sort value, uid) rows.
func (s *Store) scanRows(ctx context.Context, q string, args []any, fn func(QueryRow) error) error {
	r, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query entities: %w", err)
	}
	defer r.Close()
	for r.Next() {
		var row QueryRow
		var v sql.NullString
		if err := r.Scan(&row.Final, &v, &row.UID); err != nil {
			return err
		}
		if v.Valid {
			row.Value = &v.String
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return r.Err()
}

// count runs a COUNT query.
func (s *Store) count(ctx context.Context, q string, args []any) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// ByRefs returns final entities for canonical refs, in request order, with
// nil for refs that do not exist or do not match the filter.
func (s *Store) ByRefs(ctx context.Context, refs []string, filter Predicate) ([][]byte, error) {
	found := make(map[string][]byte, len(refs))
	for start := 0; start < len(refs); start += 200 {
		chunk := refs[start:min(start+200, len(refs))]
		var args []any
		marks := make([]string, len(chunk))
		for i, r := range chunk {
			marks[i] = "?"
			args = append(args, r)
		}
		// The refs lead; the filter only tests the rows they find (see
		// relationFacet for why its lists must not become index seeks).
		cond := on{id: "+e.id", ref: "+e.ref"}.compile(filter, &args)
		rows, err := s.db.QueryContext(ctx, "SELECT e.ref, e.final FROM entities e WHERE e.ref IN ("+strings.Join(marks, ", ")+") AND "+cond, args...)
		if err != nil {
			return nil, fmt.Errorf("entities by refs: %w", err)
		}
		for rows.Next() {
			var ref string
			var final []byte
			if err := rows.Scan(&ref, &final); err != nil {
				rows.Close()
				return nil, err
			}
			found[ref] = final
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, len(refs))
	for i, r := range refs {
		out[i] = found[r]
	}
	return out, nil
}

// FinalByRef returns an entity's served JSON by canonical (lower-case) ref.
func (s *Store) FinalByRef(ctx context.Context, ref string) ([]byte, error) {
	var final []byte
	err := s.db.QueryRowContext(ctx, `SELECT final FROM entities WHERE ref = ?`, ref).Scan(&final)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return final, err
}

// FinalByUID returns an entity's served JSON by uid.
func (s *Store) FinalByUID(ctx context.Context, uid string) ([]byte, error) {
	var final []byte
	err := s.db.QueryRowContext(ctx, `SELECT final FROM entities WHERE uid = ?`, uid).Scan(&final)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return final, err
}

// FacetValue is one value of a facet with the number of entities having it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets counts the values of each facet key over the entities matching
// the filter, grouped by original (case-kept) value and ordered by it, as
// Backstage does.
func (s *Store) Facets(ctx context.Context, facets []string, filter Predicate) (map[string][]FacetValue, error) {
	out := make(map[string][]FacetValue, len(facets))
	for _, facet := range facets {
		values, err := s.cachedFacet(ctx, facet, filter, func() ([]FacetValue, error) {
			if typ, ok := strings.CutPrefix(strings.ToLower(facet), "relations."); ok {
				return s.relationFacet(ctx, typ, filter)
			}
			return s.facet(ctx, strings.ToLower(facet), filter)
		})
		if err != nil {
			return nil, fmt.Errorf("facet %s: %w", facet, err)
		}
		out[facet] = append([]FacetValue{}, values...) // the cache's are shared
	}
	return out, nil
}

func (s *Store) relationFacet(ctx context.Context, typ string, filter Predicate) ([]FacetValue, error) {
	args := []any{typ}
	// The unary + keeps the filter's IN lists from becoming index
	// constraints of the entity lookup: SQLite would otherwise seek
	// (ref, rowid) once per listed id for every relation row — 7 s for a
	// kind filter on 10k entities instead of milliseconds.
	cond := on{id: "+e.id", ref: "+e.ref"}.compile(filter, &args)
	q := `SELECT r.target_ref, COUNT(*) FROM (SELECT DISTINCT source_ref, target_ref FROM relations WHERE lower(type) = ?) r
		JOIN entities e ON e.ref = r.source_ref WHERE ` + cond + ` GROUP BY r.target_ref ORDER BY r.target_ref`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	values := []FacetValue{}
	for rows.Next() {
		var fv FacetValue
		if err := rows.Scan(&fv.Value, &fv.Count); err != nil {
			return nil, err
		}
		values = append(values, fv)
	}
	return values, rows.Err()
}

// facet counts a filter key's values by original value. Rows keep an
// original value only where it differs from the lower-cased one, so it
// counts by lower-cased value along search_key_value (which holds the
// original values too, so the rows are never read), noting whether a value
// has originals and which; only a value whose rows disagree (some with an
// original, or different ones) is counted again by original value.
func (s *Store) facet(ctx context.Context, key string, filter Predicate) ([]FacetValue, error) {
	args := []any{key}
	cond := ""
	if filter != nil {
		cond = " AND " + on{id: "s.entity_id"}.compile(filter, &args)
	}
	q := `SELECT s.value, COUNT(*), COUNT(s.original_value), MIN(s.original_value), MAX(s.original_value)
		FROM search s WHERE s.key = ? AND s.value IS NOT NULL` + cond + ` GROUP BY s.value`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	var mixed []string
	for rows.Next() {
		var value string
		var n, withOriginal int
		var lo, hi sql.NullString
		if err := rows.Scan(&value, &n, &withOriginal, &lo, &hi); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case withOriginal == 0:
			counts[value] += n
		case withOriginal == n && lo.String == hi.String:
			counts[lo.String] += n
		default:
			mixed = append(mixed, value)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, value := range mixed {
		margs := append([]any{key, value}, args[1:]...)
		rows, err := s.db.QueryContext(ctx, `SELECT COALESCE(s.original_value, s.value), COUNT(*)
			FROM search s WHERE s.key = ? AND s.value = ?`+cond+` GROUP BY 1`, margs...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v string
			var n int
			if err := rows.Scan(&v, &n); err != nil {
				rows.Close()
				return nil, err
			}
			counts[v] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Ordered as SQLite's BINARY collation orders them: by bytes.
	values := make([]FacetValue, 0, len(counts))
	for v, n := range counts {
		values = append(values, FacetValue{Value: v, Count: n})
	}
	sort.Slice(values, func(i, j int) bool { return values[i].Value < values[j].Value })
	return values, nil
}

// AncestryItem is one entity of an ancestry walk with its parents' refs.
type AncestryItem struct {
	Final      json.RawMessage
	ParentRefs []string
}

// Ancestry walks from an entity up through the entities that emitted it
// (Locations) to its root, as Backstage's ancestry route does.
func (s *Store) Ancestry(ctx context.Context, ref string) ([]AncestryItem, error) {
	seen := map[string]bool{}
	var items []AncestryItem
	current := ref
	for current != "" && !seen[current] {
		seen[current] = true
		var final []byte
		var parent sql.NullString
		err := s.db.QueryRowContext(ctx, `SELECT final, parent_ref FROM entities WHERE ref = ?`, current).Scan(&final, &parent)
		if errors.Is(err, sql.ErrNoRows) {
			if len(items) == 0 {
				return nil, ErrNotFound
			}
			break
		}
		if err != nil {
			return nil, err
		}
		item := AncestryItem{Final: final, ParentRefs: []string{}}
		next := ""
		if parent.Valid && parent.String != "" {
			var exists int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM entities WHERE ref = ?`, parent.String).Scan(&exists); err != nil {
				return nil, err
			}
			if exists > 0 {
				item.ParentRefs = append(item.ParentRefs, parent.String)
				next = parent.String
			}
		}
		items = append(items, item)
		current = next
	}
	return items, nil
}

// EntityRoot returns the id of the root location that owns an entity.
func (s *Store) EntityRoot(ctx context.Context, ref string) (string, error) {
	var root string
	err := s.db.QueryRowContext(ctx, `SELECT root_id FROM entities WHERE ref = ?`, ref).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return root, err
}

// DeleteByUID removes one entity (and the relations it emitted), restitching
// the entities those relations touched. If a location still emits it, the
// next crawl brings it back, as in Backstage.
func (s *Store) DeleteByUID(ctx context.Context, uid string) error {
	var root, ref string
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id, ref, root_id FROM entities WHERE uid = ?`, uid).Scan(&id, &ref, &root)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // Backstage answers 204 either way
	}
	if err != nil {
		return err
	}
	a, err := s.BeginApply(ctx, root)
	if err != nil {
		return err
	}
	defer a.Rollback()
	return a.deleteOne(ref, id)
}

// And is a AND b, where a nil predicate means "every entity".
func And(a, b Predicate) Predicate {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return All{a, b}
}
