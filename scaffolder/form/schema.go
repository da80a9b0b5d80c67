// Package form renders one Backstage scaffolder parameter page (a JSON
// Schema object with react-jsonschema-form `ui:*` keys) as a server-side
// HTML form, decodes the submitted form back into typed values and
// validates them with JSON Schema.
package form

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Path helpers. A field name is the dotted path of its property names
// ("app.owner"); array items use their index ("hosts.0.name"). A '.' or
// '~' inside a property name is escaped as "~1" / "~0".

func escapeSeg(s string) string {
	if !strings.ContainsAny(s, ".~") {
		return s
	}
	return strings.NewReplacer("~", "~0", ".", "~1").Replace(s)
}

func joinPath(base, seg string) string {
	if base == "" {
		return escapeSeg(seg)
	}
	return base + "." + escapeSeg(seg)
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// typeOf returns the schema's type; for a type list the first non-null one.
func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if x != "null" {
				if st, ok := x.(string); ok {
					return st
				}
			}
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	if _, ok := s["items"]; ok {
		return "array"
	}
	if e := listOf(s["enum"]); len(e) > 0 {
		switch e[0].(type) {
		case bool:
			return "boolean"
		case float64, int:
			return "number"
		}
		return "string"
	}
	return "string"
}

func stringList(v any) []string {
	var out []string
	for _, x := range listOf(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// scalarString renders a JSON value the way it appears in an input.
func scalarString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case json.Number:
		return t.String()
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// uiOptions returns the property's ui:options object (never nil).
func uiOptions(s map[string]any) map[string]any {
	if m := mapOf(s["ui:options"]); m != nil {
		return m
	}
	return map[string]any{}
}

// uiKey reads a ui key from the schema itself or from its ui:options
// (rjsf accepts both spellings, e.g. ui:placeholder / ui:options.placeholder).
func uiKey(s map[string]any, key string) any {
	if v, ok := s["ui:"+key]; ok {
		return v
	}
	return uiOptions(s)[key]
}

// effective merges allOf members, the matching dependencies and a chosen
// oneOf/anyOf branch into one flat object schema, shallowly: properties
// and required are unioned; other keys keep the first value seen.
func effective(s map[string]any, value map[string]any) map[string]any {
	return effectiveDepth(s, value, 0)
}

func effectiveDepth(s map[string]any, value map[string]any, depth int) map[string]any {
	if depth > 8 || s == nil {
		return s
	}
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	props := map[string]any{}
	for k, v := range mapOf(s["properties"]) {
		props[k] = v
	}
	var required []string
	required = append(required, stringList(s["required"])...)
	var order []string // property order: the schema's own, then merged ones
	order = append(order, propOrder(s)...)

	merge := func(sub map[string]any) {
		sub = effectiveDepth(sub, value, depth+1)
		for _, k := range propOrder(sub) {
			if _, ok := props[k]; !ok {
				order = append(order, k)
				props[k] = mapOf(sub["properties"])[k]
			} else if mp := mapOf(props[k]); mp != nil {
				// Add what the branch says about an existing property, without
				// overriding it (a dependencies branch narrows the
				// discriminator's enum only to be selected).
				np := map[string]any{}
				for kk, vv := range mp {
					np[kk] = vv
				}
				for kk, vv := range mapOf(mapOf(sub["properties"])[k]) {
					if _, ok := np[kk]; !ok {
						np[kk] = vv
					}
				}
				props[k] = np
			}
		}
		for _, r := range stringList(sub["required"]) {
			if !contains(required, r) {
				required = append(required, r)
			}
		}
		for k, v := range sub {
			if _, ok := out[k]; !ok && k != "properties" && k != "required" && k != "allOf" && k != "oneOf" && k != "anyOf" && k != "dependencies" && k != "if" && k != "then" && k != "else" {
				out[k] = v
			}
		}
	}

	for _, x := range listOf(s["allOf"]) {
		if m := mapOf(x); m != nil {
			merge(m)
		}
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if br := chooseBranch(listOf(s[key]), value, ""); br != nil {
			merge(br)
		}
	}
	if ifs := mapOf(s["if"]); ifs != nil {
		if ifMatches(ifs, value) {
			if m := mapOf(s["then"]); m != nil {
				merge(m)
			}
		} else if m := mapOf(s["else"]); m != nil {
			merge(m)
		}
	}
	deps := mapOf(s["dependencies"])
	depKeys := make([]string, 0, len(deps))
	for k := range deps {
		depKeys = append(depKeys, k)
	}
	sort.Strings(depKeys)
	for _, k := range depKeys {
		_, present := value[k]
		switch d := deps[k].(type) {
		case []any:
			if present {
				for _, r := range stringList(d) {
					if !contains(required, r) {
						required = append(required, r)
					}
				}
			}
		case map[string]any:
			if br := listOf(d["oneOf"]); len(br) > 0 {
				if b := chooseBranch(br, value, k); b != nil {
					merge(b)
				}
				rest := map[string]any{}
				for kk, vv := range d {
					if kk != "oneOf" {
						rest[kk] = vv
					}
				}
				if present && len(rest) > 0 {
					merge(rest)
				}
			} else if present {
				merge(d)
			}
		}
	}
	if len(props) > 0 {
		out["properties"] = props
	}
	if len(required) > 0 {
		r := make([]any, len(required))
		for i, x := range required {
			r[i] = x
		}
		out["required"] = r
	}
	out["x-order"] = order
	delete(out, "allOf")
	delete(out, "oneOf")
	delete(out, "anyOf")
	delete(out, "dependencies")
	return out
}

// propOrder lists the schema's property names in source order when known
// (x-order, set by effective), else by ui:order, else sorted.
func propOrder(s map[string]any) []string {
	if o, ok := s["x-order"].([]string); ok {
		return o
	}
	props := mapOf(s["properties"])
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return orderKeys(nil, props, stringList(s["ui:order"]))
}

// chooseBranch picks the oneOf/anyOf branch matching the current values.
// With key set (a dependencies oneOf) the branch must constrain that key
// to the current value; nothing is chosen while the key has no value.
// Otherwise the first branch whose constraints all match wins, falling
// back to the first branch with properties.
func chooseBranch(branches []any, value map[string]any, key string) map[string]any {
	if key != "" {
		v, ok := value[key]
		if !ok {
			return nil
		}
		for _, b := range branches {
			m := mapOf(b)
			if m == nil {
				continue
			}
			if p := mapOf(mapOf(m["properties"])[key]); p != nil && valueAllowed(p, v) {
				return m
			}
		}
		return nil
	}
	var first map[string]any
	for _, b := range branches {
		m := mapOf(b)
		if m == nil || m["properties"] == nil {
			continue
		}
		if first == nil {
			first = m
		}
		if matches(m, value) && hasConstraint(m) {
			return m
		}
	}
	return first
}

func hasConstraint(m map[string]any) bool {
	for _, p := range mapOf(m["properties"]) {
		pm := mapOf(p)
		if pm == nil {
			continue
		}
		if _, ok := pm["const"]; ok {
			return true
		}
		if _, ok := pm["enum"]; ok {
			return true
		}
	}
	return false
}

// matches reports whether every const/enum property constraint of s holds
// for value (properties without such a constraint are ignored).
func matches(s map[string]any, value map[string]any) bool {
	for k, p := range mapOf(s["properties"]) {
		pm := mapOf(p)
		if pm == nil {
			continue
		}
		_, hasConst := pm["const"]
		_, hasEnum := pm["enum"]
		if !hasConst && !hasEnum {
			continue
		}
		v, ok := value[k]
		if !ok || !valueAllowed(pm, v) {
			return false
		}
	}
	for _, r := range stringList(s["required"]) {
		if _, ok := value[r]; !ok {
			return false
		}
	}
	return true
}

func valueAllowed(p map[string]any, v any) bool {
	if c, ok := p["const"]; ok {
		return scalarString(c) == scalarString(v)
	}
	if e, ok := p["enum"]; ok {
		for _, x := range listOf(e) {
			if scalarString(x) == scalarString(v) {
				return true
			}
		}
		return false
	}
	return true
}

// Defaults returns the page's default values (the `default` keywords of
// its properties, nested objects included), as rjsf pre-fills them.
func Defaults(schema map[string]any) map[string]any {
	out := map[string]any{}
	fillDefaults(schema, out, 0)
	return out
}

// WithDefaults returns values with the missing defaults of schema filled in.
func WithDefaults(schema map[string]any, values map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range values {
		out[k] = v
	}
	fillDefaults(schema, out, 0)
	return out
}

func fillDefaults(schema map[string]any, into map[string]any, depth int) {
	if depth > 16 {
		return
	}
	s := effective(schema, into)
	for _, k := range propOrder(s) {
		p := mapOf(mapOf(s["properties"])[k])
		if p == nil {
			continue
		}
		if _, ok := into[k]; ok {
			if sub := mapOf(into[k]); sub != nil && typeOf(p) == "object" {
				fillDefaults(p, sub, depth+1)
			}
			continue
		}
		if d, ok := p["default"]; ok {
			into[k] = d
			continue
		}
		if typeOf(p) == "object" && p["properties"] != nil {
			sub := map[string]any{}
			fillDefaults(p, sub, depth+1)
			if len(sub) > 0 {
				into[k] = sub
			}
		}
	}
	// A dependency branch chosen by a default may add more defaults.
	s2 := effective(schema, into)
	if len(mapOf(s2["properties"])) != len(mapOf(s["properties"])) && depth < 16 {
		fillDefaults(schema, into, depth+1)
	}
}

// ifMatches approximates JSON Schema `if` on the current values: every
// const/enum constraint of a property that has a value must hold (an
// absent property passes, as in JSON Schema), and required names must be
// present.
func ifMatches(s map[string]any, value map[string]any) bool {
	for k, p := range mapOf(s["properties"]) {
		pm := mapOf(p)
		v, ok := value[k]
		if pm == nil || !ok {
			continue
		}
		if !valueAllowed(pm, v) {
			return false
		}
	}
	for _, r := range stringList(s["required"]) {
		if _, ok := value[r]; !ok {
			return false
		}
	}
	return true
}

// PageField is a top-level field a parameter page can set, with its
// schema.
type PageField struct {
	Key    string
	Schema map[string]any
}

// PageFields are the top-level fields a parameter page can set — its
// properties and those of its dependencies and oneOf/anyOf/allOf/
// if-then-else branches (the page's own definition first) — in the order
// its form shows them. A wizard replaces exactly these keys with what the
// page submitted, so a field the user cleared is removed, not kept.
func PageFields(page map[string]any) []PageField {
	props := map[string]any{}
	var walk func(s map[string]any, depth int)
	walk = func(s map[string]any, depth int) {
		if s == nil || depth > 8 {
			return
		}
		for k, p := range mapOf(s["properties"]) {
			if _, seen := props[k]; !seen && len(mapOf(p)) > 0 {
				props[k] = p
			}
		}
		deps := mapOf(s["dependencies"])
		names := make([]string, 0, len(deps))
		for k := range deps {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			walk(mapOf(deps[k]), depth+1)
		}
		for _, kw := range []string{"oneOf", "anyOf", "allOf"} {
			for _, br := range listOf(s[kw]) {
				walk(mapOf(br), depth+1)
			}
		}
		for _, kw := range []string{"if", "then", "else"} {
			walk(mapOf(s[kw]), depth+1)
		}
	}
	walk(page, 0)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]PageField, 0, len(keys))
	for _, k := range orderKeys(keys, props, stringList(page["ui:order"])) {
		out = append(out, PageField{Key: k, Schema: mapOf(props[k])})
	}
	return out
}

// SplitSecrets moves the values of `ui:field: Secret` fields out of the
// parameters into the task's secrets, as Backstage's form does: they reach
// the steps as ${{ secrets.<name> }}, and are never stored or logged.
func SplitSecrets(pages []map[string]any, values map[string]any) (map[string]any, map[string]string) {
	params := make(map[string]any, len(values))
	for k, v := range values {
		params[k] = v
	}
	var secrets map[string]string
	for _, page := range pages {
		for _, f := range PageFields(page) {
			if f.Schema["ui:field"] != "Secret" {
				continue
			}
			if v, ok := params[f.Key]; ok {
				if secrets == nil {
					secrets = map[string]string{}
				}
				secrets[f.Key] = scalarString(v)
				delete(params, f.Key)
			}
		}
	}
	return params, secrets
}
