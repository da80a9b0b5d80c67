package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
func compile(p Predicate, args *[]any) string {
	switch t := p.(type) {
	case nil:
		return "1 = 1"
	case All:
		if len(t) == 0 {
			return "1 = 1"
		}
		parts := make([]string, len(t))
		for i, sub := range t {
			parts[i] = "(" + compile(sub, args) + ")"
		}
		return strings.Join(parts, " AND ")
	case Any:
		if len(t) == 0 {
			return "1 = 0"
		}
		parts := make([]string, len(t))
		for i, sub := range t {
			parts[i] = "(" + compile(sub, args) + ")"
		}
		return strings.Join(parts, " OR ")
	case Not:
		return "NOT (" + compile(t.P, args) + ")"
	case Field:
		key := strings.ToLower(t.Key)
		if typ, ok := strings.CutPrefix(key, "relations."); ok {
			*args = append(*args, typ)
			q := "e.ref IN (SELECT source_ref FROM relations WHERE lower(type) = ?"
			q += valueCondition("target_ref", t, args)
			return q + ")"
		}
		*args = append(*args, key)
		q := "e.id IN (SELECT entity_id FROM search WHERE key = ?"
		q += valueCondition("value", t, args)
		return q + ")"
	}
	panic(fmt.Sprintf("store: unknown predicate %T", p))
}

func valueCondition(col string, f Field, args *[]any) string {
	switch {
	case f.Values != nil:
		if len(f.Values) == 0 {
			return " AND 1 = 0"
		}
		marks := make([]string, len(f.Values))
		for i, v := range f.Values {
			marks[i] = "?"
			*args = append(*args, strings.ToLower(v))
		}
		return " AND " + col + " IN (" + strings.Join(marks, ", ") + ")"
	case f.Prefix != "":
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Prefix))
		*args = append(*args, esc+"%")
		return " AND " + col + ` LIKE ? ESCAPE '\'`
	}
	return ""
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
		v := sortValue(o.Field, &args)
		dir := "ASC"
		if o.Desc {
			dir = "DESC"
		}
		orderBy = append(orderBy, "("+v+") IS NULL", v+" "+dir)
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
	var args []any
	sortKey := strings.ToLower(req.SortField)
	from := "FROM entities e"
	valueCol := "NULL"
	if sortKey != "" {
		from = "FROM entities e JOIN search o ON o.entity_id = e.id AND o.key = ? AND o.value IS NOT NULL"
		args = append(args, sortKey)
		valueCol = "o.value"
	}
	cond := compile(req.Filter, &args)
	if req.TextTerm != "" {
		fields := req.TextFields
		if len(fields) == 0 {
			if sortKey != "" {
				fields = []string{sortKey}
			} else {
				fields = []string{"metadata.uid"}
			}
		}
		marks := make([]string, len(fields))
		for i, f := range fields {
			marks[i] = "?"
			args = append(args, strings.ToLower(f))
		}
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(req.TextTerm))
		args = append(args, "%"+esc+"%")
		cond += " AND e.id IN (SELECT entity_id FROM search WHERE key IN (" + strings.Join(marks, ", ") + `) AND value LIKE ? ESCAPE '\')`
	}
	if req.CountTotal {
		cq := "SELECT COUNT(*) " + from + " WHERE " + cond
		if err := s.db.QueryRowContext(ctx, cq, args...).Scan(&total); err != nil {
			return 0, fmt.Errorf("count entities: %w", err)
		}
	}
	if req.Limit == 0 {
		return total, nil
	}
	desc := req.Desc != req.Backwards
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	pageArgs := append([]any(nil), args...)
	page := cond
	if req.After != nil {
		if sortKey != "" && len(req.After) == 2 && req.After[0] != nil && req.After[1] != nil {
			page += fmt.Sprintf(" AND (o.value %s ? OR (o.value = ? AND e.uid %s ?))", cmp, cmp)
			pageArgs = append(pageArgs, *req.After[0], *req.After[0], *req.After[1])
		} else if len(req.After) >= 1 && req.After[len(req.After)-1] != nil {
			page += fmt.Sprintf(" AND e.uid %s ?", cmp)
			pageArgs = append(pageArgs, *req.After[len(req.After)-1])
		}
	}
	order := "e.uid " + dir
	if sortKey != "" {
		order = "o.value " + dir + ", e.uid " + dir
	}
	n := req.Limit + 1
	if req.Backwards {
		n = req.Limit
	}
	if req.Limit < 0 {
		n = -1 // everything, streamed
	}
	q := fmt.Sprintf("SELECT e.final, %s, e.uid %s WHERE %s ORDER BY %s LIMIT %d", valueCol, from, page, order, n)
	if req.Offset > 0 {
		q += fmt.Sprintf(" OFFSET %d", req.Offset)
	}
	r, err := s.db.QueryContext(ctx, q, pageArgs...)
	if err != nil {
		return 0, fmt.Errorf("query entities: %w", err)
	}
	defer r.Close()
	for r.Next() {
		var row QueryRow
		var v sql.NullString
		if err := r.Scan(&row.Final, &v, &row.UID); err != nil {
			return 0, err
		}
		if v.Valid {
			row.Value = &v.String
		}
		if err := fn(row); err != nil {
			return 0, err
		}
	}
	return total, r.Err()
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
		cond := compile(filter, &args)
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
		key := strings.ToLower(facet)
		var args []any
		var q string
		if typ, ok := strings.CutPrefix(key, "relations."); ok {
			args = append(args, typ)
			cond := compile(filter, &args)
			q = `SELECT r.target_ref, COUNT(*) FROM (SELECT DISTINCT source_ref, target_ref FROM relations WHERE lower(type) = ?) r
				JOIN entities e ON e.ref = r.source_ref WHERE ` + cond + ` GROUP BY r.target_ref ORDER BY r.target_ref`
		} else {
			args = append(args, key)
			cond := "1 = 1"
			if filter != nil {
				cond = compile(filter, &args)
				cond = "s.entity_id IN (SELECT e.id FROM entities e WHERE " + cond + ")"
			}
			q = `SELECT COALESCE(s.original_value, s.value) AS v, COUNT(*) FROM search s
				WHERE s.key = ? AND s.value IS NOT NULL AND ` + cond + ` GROUP BY v ORDER BY v`
		}
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("facet %s: %w", facet, err)
		}
		values := []FacetValue{}
		for rows.Next() {
			var fv FacetValue
			if err := rows.Scan(&fv.Value, &fv.Count); err != nil {
				rows.Close()
				return nil, err
			}
			values = append(values, fv)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[facet] = values
	}
	return out, nil
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
