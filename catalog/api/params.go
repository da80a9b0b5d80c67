package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// parseFilter reads repeated filter parameters into the predicate-query
// form Backstage converts them to: each parameter is a set of
// comma-separated conditions (ANDed; the same key twice means any of its
// values) and the sets are ORed. A condition is key, key=value or key=.
func parseFilter(q url.Values) (map[string]any, error) {
	params := q["filter"]
	var sets []any
	for _, p := range params {
		var keys []string
		values := map[string][]any{}
		exists := map[string]bool{}
		for _, stmt := range strings.Split(p, ",") {
			stmt = strings.TrimSpace(stmt)
			if stmt == "" {
				continue
			}
			key, value, hasValue := strings.Cut(stmt, "=")
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			if key == "" {
				return nil, inputErr("Invalid filter, '%s' is not a valid statement (expected a string on the form a=b or a= or a)", stmt)
			}
			if _, seen := values[key]; !seen && !exists[key] {
				keys = append(keys, key)
			}
			if hasValue {
				values[key] = append(values[key], value)
			} else {
				exists[key] = true
			}
		}
		if len(keys) == 0 {
			continue
		}
		var preds []any
		for _, k := range keys {
			switch vs := values[k]; {
			case len(vs) == 0:
				preds = append(preds, map[string]any{k: map[string]any{"$exists": true}})
			case len(vs) == 1:
				preds = append(preds, map[string]any{k: vs[0]})
			default:
				preds = append(preds, map[string]any{k: map[string]any{"$in": vs}})
			}
		}
		if len(preds) == 1 {
			sets = append(sets, preds[0])
		} else {
			sets = append(sets, map[string]any{"$all": preds})
		}
	}
	switch len(sets) {
	case 0:
		return nil, nil
	case 1:
		return sets[0].(map[string]any), nil
	}
	return map[string]any{"$any": sets}, nil
}

var orderRe = regexp.MustCompile(`^(asc|desc):(.+)$`)

// parseOrder reads GET /entities' order=<asc|desc>:<field> parameters.
func parseOrder(q url.Values) ([]store.Order, error) {
	var out []store.Order
	for _, o := range q["order"] {
		m := orderRe.FindStringSubmatch(o)
		if m == nil {
			return nil, inputErr(`Invalid order parameter "%s", expected "<asc or desc>:<field name>"`, o)
		}
		out = append(out, store.Order{Field: m[2], Desc: m[1] == "desc"})
	}
	return out, nil
}

// parseFields reads fields=a,b.c (repeatable), plus extra fields from a body.
func parseFields(q url.Values, extra []string) ([]string, error) {
	seen := map[string]bool{}
	var fields []string
	add := func(f string) {
		f = strings.TrimSpace(f)
		if f != "" && !seen[f] {
			seen[f] = true
			fields = append(fields, f)
		}
	}
	for _, f := range extra {
		add(f)
	}
	for _, p := range q["fields"] {
		for _, f := range strings.Split(p, ",") {
			add(f)
		}
	}
	for _, f := range fields {
		if strings.Contains(f, "[") {
			return nil, inputErr(`Invalid field "%s", array type fields are not supported`, f)
		}
	}
	return fields, nil
}

// project keeps only the given fields of an entity. A field's dotted path
// is matched greedily against keys that contain dots themselves, so
// metadata.annotations.backstage.io/orphan finds that annotation.
func project(final []byte, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return final, nil
	}
	var in map[string]any
	if err := json.Unmarshal(final, &in); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range fields {
		parts := strings.Split(f, ".")
		var path []string
		var cur any = in
		found := true
		for i := 0; i < len(parts); i++ {
			m, ok := cur.(map[string]any)
			if !ok {
				found = false
				break
			}
			if v, ok := m[parts[i]]; ok {
				path = append(path, parts[i])
				cur = v
				continue
			}
			if i+1 < len(parts) {
				parts[i+1] = parts[i] + "." + parts[i+1]
				continue
			}
			found = false
		}
		if !found || len(path) == 0 {
			continue
		}
		set(out, path, cur)
	}
	return json.Marshal(out)
}

func set(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// intParam parses an integer query parameter; absent is (0, false).
func intParam(q url.Values, name string) (int, bool, error) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil {
		return 0, false, inputErr("Invalid %s, must be an integer", name)
	}
	return n, true, nil
}

// afterCursor is GET /entities' opaque next-page cursor.
type afterCursor struct {
	Limit  *int `json:"limit,omitempty"`
	Offset *int `json:"offset,omitempty"`
}

func encodeAfter(limit, offset int) string {
	b, _ := json.Marshal(afterCursor{Limit: &limit, Offset: &offset})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeAfter(s string) (afterCursor, error) {
	var c afterCursor
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return c, inputErr("Malformed after cursor, could not be parsed")
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return c, inputErr("Malformed after cursor, could not be parsed")
	}
	// Backstage's own messages, typo included.
	if v, ok := raw["limit"]; ok && v != nil {
		n, isInt := v.(float64)
		if !isInt || n != float64(int(n)) {
			return c, inputErr("Malformed after cursor, limit was not an number")
		}
		limit := int(n)
		c.Limit = &limit
	}
	if v, ok := raw["offset"]; ok && v != nil {
		n, isInt := v.(float64)
		if !isInt || n != float64(int(n)) {
			return c, inputErr("Malformed after cursor, offset was not a number")
		}
		offset := int(n)
		c.Offset = &offset
	}
	return c, nil
}

// nextPageQuery is the query of GET /entities' next page, built as
// Backstage builds it with URLSearchParams: the request's parameters in
// their order, offset removed, after replacing the first after (or
// appended).
func nextPageQuery(rawQuery, after string) string {
	var parts []string
	placed := false
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue // net/url drops such pairs too
		}
		switch key {
		case "offset":
			continue
		case "after":
			if placed {
				continue
			}
			placed = true
			value = after
		}
		parts = append(parts, formEncode(key)+"="+formEncode(value))
	}
	if !placed {
		parts = append(parts, "after="+formEncode(after))
	}
	return strings.Join(parts, "&")
}

// formEncode is application/x-www-form-urlencoded as URLSearchParams
// writes it: alphanumerics and *-._ kept, space as +, the rest %XX.
func formEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// queryCursor is the by-query cursor, in Backstage's shape so that one
// server's cursors mean the same to clients: the original query and the
// position in it.
type queryCursor struct {
	OrderFields          []orderField    `json:"orderFields"`
	FullTextFilter       *fullTextFilter `json:"fullTextFilter,omitempty"`
	OrderFieldValues     []*string       `json:"orderFieldValues"`
	Filter               json.RawMessage `json:"filter,omitempty"`
	Query                json.RawMessage `json:"query,omitempty"`
	IsPrevious           bool            `json:"isPrevious"`
	FirstSortFieldValues []*string       `json:"firstSortFieldValues,omitempty"`
	TotalItems           *int            `json:"totalItems,omitempty"`
}

type orderField struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

type fullTextFilter struct {
	Term   string   `json:"term"`
	Fields []string `json:"fields,omitempty"`
}

func encodeCursor(c queryCursor) string {
	b, _ := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (queryCursor, error) {
	var c queryCursor
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return c, inputErr("Malformed cursor: could not be decoded")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&c); err != nil {
		return c, inputErr("Malformed cursor: %v", err)
	}
	if c.OrderFields == nil || c.OrderFieldValues == nil {
		return c, inputErr("Malformed cursor: orderFields and orderFieldValues are required")
	}
	for _, o := range c.OrderFields {
		if o.Order != "asc" && o.Order != "desc" {
			return c, inputErr("Malformed cursor: order must be asc or desc")
		}
	}
	return c, nil
}

// parsePredicate reads a predicate query ($all, $any, $not, $exists, $in,
// $hasPrefix, $contains) into a store predicate.
func parsePredicate(raw any) (store.Predicate, error) {
	return parsePredicateAt(raw, 0)
}

// maxPredicateDepth bounds the nesting of $all, $any and $not: each level
// is a level of SQL, and the database refuses deep enough ones.
const maxPredicateDepth = 100

func parsePredicateAt(raw any, depth int) (store.Predicate, error) {
	if depth > maxPredicateDepth {
		return nil, inputErr("Invalid query: predicates may not be nested more than %d levels deep", maxPredicateDepth)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		b, _ := json.Marshal(raw)
		return nil, inputErr(`Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. { "kind": %s }`, b)
	}
	if v, ok := obj["$not"]; ok && len(obj) == 1 {
		p, err := parsePredicateAt(v, depth+1)
		if err != nil {
			return nil, err
		}
		return store.Not{P: p}, nil
	}
	for _, op := range []string{"$all", "$any"} {
		v, ok := obj[op]
		if !ok || len(obj) != 1 {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			return nil, inputErr("Invalid query: %s must be an array", op)
		}
		var subs []store.Predicate
		for _, item := range list {
			p, err := parsePredicateAt(item, depth+1)
			if err != nil {
				return nil, err
			}
			subs = append(subs, p)
		}
		if op == "$all" {
			return store.All(subs), nil
		}
		return store.Any(subs), nil
	}
	all := store.All{}
	for _, key := range sortedKeys(obj) {
		if strings.HasPrefix(key, "$") {
			return nil, inputErr("Invalid query: unknown operator %s", key)
		}
		p, err := fieldCondition(strings.ToLower(key), obj[key])
		if err != nil {
			return nil, err
		}
		all = append(all, p)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func fieldCondition(key string, v any) (store.Predicate, error) {
	if s, ok := primitive(v); ok {
		return store.Field{Key: key, Values: []string{s}}, nil
	}
	obj, ok := v.(map[string]any)
	if ok && len(obj) == 1 {
		if e, ok := obj["$exists"]; ok {
			b, isBool := e.(bool)
			if !isBool {
				return nil, inputErr(`Invalid query: $exists for field "%s" must be a boolean`, key)
			}
			if b {
				return store.Field{Key: key}, nil
			}
			return store.Not{P: store.Field{Key: key}}, nil
		}
		if in, ok := obj["$in"]; ok {
			list, isList := in.([]any)
			if !isList {
				return nil, inputErr(`Invalid query: $in for field "%s" must be an array`, key)
			}
			values := []string{}
			for _, item := range list {
				s, ok := primitive(item)
				if !ok {
					return nil, inputErr(`Invalid query: $in for field "%s" must hold primitive values`, key)
				}
				values = append(values, s)
			}
			return store.Field{Key: key, Values: values}, nil
		}
		if p, ok := obj["$hasPrefix"]; ok {
			s, isString := p.(string)
			if !isString {
				return nil, inputErr(`Invalid query: $hasPrefix for field "%s" must be a string`, key)
			}
			if s == "" {
				return store.Field{Key: key}, nil
			}
			return store.Field{Key: key, Prefix: s}, nil
		}
		if c, ok := obj["$contains"]; ok {
			if s, ok := primitive(c); ok {
				return store.Field{Key: key, Values: []string{s}}, nil
			}
			if target, ok := c.(map[string]any); ok && key == "relations" {
				return containsRelation(target)
			}
			b, _ := json.Marshal(c)
			if _, isObj := c.(map[string]any); isObj {
				return nil, inputErr(`Object form of $contains is not supported for field "%s"`, key)
			}
			return nil, inputErr(`Unsupported $contains target for field "%s": %s`, key, b)
		}
	}
	b, _ := json.Marshal(v)
	return nil, inputErr(`Invalid filter predicate value for field "%s": expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got %s`, key, b)
}

// containsRelation is {"relations": {"$contains": {"type": t, "targetRef": r}}}.
func containsRelation(target map[string]any) (store.Predicate, error) {
	var typ string
	var refs []string
	for rawKey, v := range target {
		switch strings.ToLower(rawKey) {
		case "type":
			s, ok := v.(string)
			if !ok {
				return nil, inputErr(`The $contains operator for "relations" requires a "type" string property`)
			}
			typ = s
		case "targetref":
			switch t := v.(type) {
			case string:
				refs = []string{t}
			default:
				unsupported := func() error {
					b, _ := json.Marshal(v)
					return inputErr(`Unsupported value in $contains for "relations": expected a string or { "$in": [strings] }, but got %s`, b)
				}
				m, isObj := t.(map[string]any)
				list, isList := m["$in"].([]any)
				if !isObj || len(m) != 1 || !isList {
					return nil, unsupported()
				}
				for _, item := range list {
					s, ok := item.(string)
					if !ok {
						return nil, unsupported()
					}
					refs = append(refs, s)
				}
				if len(refs) == 0 {
					return nil, inputErr(`Empty "$in" array for $contains on "relations" is not allowed`)
				}
			}
		default:
			return nil, inputErr(`Unsupported key "%s" in $contains for "relations". Only "type" and "targetRef" are supported`, rawKey)
		}
	}
	if typ == "" {
		return nil, inputErr(`The $contains operator for "relations" requires a "type" string property`)
	}
	return store.Field{Key: "relations." + typ, Values: refs}, nil
}

func primitive(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

var _ = fmt.Sprint
