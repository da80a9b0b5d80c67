package catalog

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// schema is the small subset of JSON Schema that Backstage's entity and kind
// schemas use. validate reports the first violation in the order Ajv (the
// validator Backstage uses) would report it, with Ajv's wording, so that
// messages read the same as Backstage's:
// untyped keywords (enum, oneOf) first, then the type, then for strings
// minLength, for arrays items, for objects required → additionalProperties →
// properties → patternProperties.
type schema struct {
	types      []string // empty: any type
	minLength  int
	enum       []string
	oneOf      []*schema
	required   []string
	props      []prop
	noExtra    bool    // additionalProperties: false
	extra      *schema // additionalProperties: {schema}
	anyKeyProp *schema // patternProperties "^.+$"
	items      *schema
}

type prop struct {
	name string
	s    *schema
}

type schemaError struct {
	path    string // JSON pointer, "" for the root
	message string
	params  string
}

func (e *schemaError) Error() string {
	p := e.path
	if p == "" {
		p = "<root>"
	}
	return p + " " + e.message
}

// Detailed is Ajv's message with its params, as Backstage's kind validators print it.
func (e *schemaError) Detailed() string {
	if e.params == "" {
		return e.Error()
	}
	return e.Error() + " - " + e.params
}

func jsonType(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if t == float64(int64(t)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func typeMatches(want string, v any) bool {
	got := jsonType(v)
	return got == want || (want == "number" && got == "integer")
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (s *schema) validate(v any, path string) *schemaError {
	if len(s.enum) > 0 {
		str, ok := v.(string)
		found := false
		for _, e := range s.enum {
			if ok && e == str {
				found = true
			}
		}
		if !found {
			return &schemaError{path, "must be equal to one of the allowed values", "allowedValues: " + strings.Join(s.enum, ",")}
		}
	}
	if len(s.oneOf) > 0 {
		var first *schemaError
		passing := 0
		for _, alt := range s.oneOf {
			if err := alt.validate(v, path); err != nil {
				if first == nil {
					first = err
				}
			} else {
				passing++
			}
		}
		if passing == 0 {
			return first
		}
		if passing > 1 {
			return &schemaError{path, "must match exactly one schema in oneOf", "passingSchemas: 0,1"}
		}
	}
	if len(s.types) > 0 {
		ok := false
		for _, t := range s.types {
			if typeMatches(t, v) {
				ok = true
			}
		}
		if !ok {
			t := strings.Join(s.types, ",")
			return &schemaError{path, "must be " + t, "type: " + t}
		}
	}
	switch t := v.(type) {
	case string:
		if s.minLength > 0 && utf8.RuneCountInString(t) < s.minLength {
			return &schemaError{path, fmt.Sprintf("must NOT have fewer than %d characters", s.minLength), fmt.Sprintf("limit: %d", s.minLength)}
		}
	case []any:
		if s.items != nil {
			for i, item := range t {
				if err := s.items.validate(item, fmt.Sprintf("%s/%d", path, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		for _, r := range s.required {
			if _, ok := t[r]; !ok {
				return &schemaError{path, fmt.Sprintf("must have required property '%s'", r), "missingProperty: " + r}
			}
		}
		if s.noExtra || s.extra != nil {
			for _, k := range sortedKeys(t) {
				if s.hasProp(k) {
					continue
				}
				if s.noExtra {
					return &schemaError{path, "must NOT have additional properties", "additionalProperty: " + k}
				}
				if err := s.extra.validate(t[k], path+"/"+pointerEscape(k)); err != nil {
					return err
				}
			}
		}
		for _, p := range s.props {
			if pv, ok := t[p.name]; ok {
				if err := p.s.validate(pv, path+"/"+pointerEscape(p.name)); err != nil {
					return err
				}
			}
		}
		if s.anyKeyProp != nil {
			for _, k := range sortedKeys(t) {
				if k == "" {
					continue
				}
				if err := s.anyKeyProp.validate(t[k], path+"/"+pointerEscape(k)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *schema) hasProp(k string) bool {
	for _, p := range s.props {
		if p.name == k {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Schema building blocks.
func typed(t ...string) *schema { return &schema{types: t} }

func nonEmptyString() *schema { return &schema{types: []string{"string"}, minLength: 1} }

func object(required []string, props ...prop) *schema {
	return &schema{types: []string{"object"}, required: required, props: props}
}

func arrayOf(items *schema) *schema { return &schema{types: []string{"array"}, items: items} }

func p(name string, s *schema) prop { return prop{name, s} }
