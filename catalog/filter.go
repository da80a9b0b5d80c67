package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// FilterRow is one flattened key/value of an entity, the rows the catalog
// API filters, orders and counts facets on. Keys and values are lower-cased;
// Value is nil for a null value or one longer than 200 characters, which
// then only satisfies an existence filter.
type FilterRow struct {
	Key      string
	Value    *string
	Original *string
}

// MaxFilterLength is the longest key or value a filter row holds; longer
// values are stored as null, so no longer term can ever match one.
const MaxFilterLength = 200

// skippedFilterKeys are not flattened from the entity body: relations and
// the metadata identity fields get rows of their own, the rest are not
// searchable in Backstage.
var skippedFilterKeys = map[string]bool{
	"attachments": true, "relations": true, "status": true,
	"metadata.name": true, "metadata.namespace": true, "metadata.uid": true, "metadata.etag": true,
}

// FilterRows flattens an entity as Backstage's buildEntitySearch does:
// leaf values under their dotted path, string array items also as
// "<path>.<item>" = true, metadata name/namespace/uid, and one
// "relations.<type>" row per relation. An entity with two keys differing only
// in case is rejected, as Backstage rejects it.
func FilterRows(e *Entity) ([]FilterRow, error) {
	rows, err := FilterRowsOf(e.Map(), e.Relations)
	if err != nil || e.Metadata.UID == "" {
		return rows, err
	}
	uid := strings.ToLower(e.Metadata.UID)
	return append(rows, FilterRow{Key: "metadata.uid", Value: &uid, Original: &e.Metadata.UID}), nil
}

// FilterRowsOf is FilterRows on an entity already in its JSON-like form
// (as processing leaves it), which saves a round trip through JSON. It
// leaves out metadata.uid, which is the store's to add.
func FilterRowsOf(m map[string]any, relations []Relation) ([]FilterRow, error) {
	type kv struct {
		key   string
		value any
	}
	var raw []kv
	seenPathKeys := map[string]bool{}
	var visit func(path string, v any)
	visit = func(path string, v any) {
		if skippedFilterKeys[path] {
			return
		}
		switch t := v.(type) {
		case nil, string, float64, bool:
			raw = append(raw, kv{path, v})
		case []any:
			for _, item := range t {
				visit(path, item)
				if s, ok := item.(string); ok {
					pk := path + "." + s
					if lk := strings.ToLower(pk); !seenPathKeys[lk] {
						seenPathKeys[lk] = true
						raw = append(raw, kv{pk, true})
					}
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				p := k
				if path != "" {
					p = path + "." + k
				}
				visit(p, t[k])
			}
		}
	}
	visit("", m)
	md, _ := m["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if ns == "" {
		ns = DefaultNamespace
	}
	raw = append(raw, kv{"metadata.name", name}, kv{"metadata.namespace", ns})
	for _, r := range relations {
		raw = append(raw, kv{"relations." + r.Type, r.TargetRef})
	}

	lowerOf := map[string]string{}
	var dups []string
	for _, r := range raw {
		l := strings.ToLower(r.key)
		if prev, ok := lowerOf[l]; ok && prev != r.key {
			dups = append(dups, l)
		}
		lowerOf[l] = r.key
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		return nil, inputError(nil, "Entity has duplicate keys that vary only in casing, '%s'", strings.Join(dups, "', '"))
	}

	rows := make([]FilterRow, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for _, r := range raw {
		key := strings.ToLower(r.key)
		if len(key) > MaxFilterLength {
			continue
		}
		row := FilterRow{Key: key}
		if r.value != nil {
			orig := jsString(r.value)
			val := strings.ToLower(orig)
			if len(val) <= MaxFilterLength {
				row.Value, row.Original = &val, &orig
			}
		}
		dedup := key + "\x00"
		if row.Value != nil {
			dedup += *row.Value
		} else {
			dedup += "\x01null"
		}
		if seen[dedup] {
			continue
		}
		seen[dedup] = true
		rows = append(rows, row)
	}
	return rows, nil
}

// String renders a row for debugging.
func (r FilterRow) String() string {
	if r.Value == nil {
		return r.Key + "=<null>"
	}
	return fmt.Sprintf("%s=%s", r.Key, *r.Value)
}
