package rbac

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// ParamType is the type of a rule parameter, as the rule's zod schema
// declares it.
type ParamType int

const (
	ParamString    ParamType = iota // string
	ParamStrings                    // string[]
	ParamBoolean                    // boolean
	ParamNumber                     // number
	ParamPrimitive                  // string | number | boolean | null
)

// Param is one parameter of a rule.
type Param struct {
	Name        string
	Type        ParamType
	Required    bool
	Description string
}

// Rule is a conditional rule of one resource type (Backstage's
// PermissionRule): what a condition's leaf names.
type Rule struct {
	Name         string
	ResourceType string
	Description  string
	Params       []Param
	// Apply decides the rule on one resource (the entity, template step or
	// parameter, action or task as JSON-like values). Params are valid.
	Apply func(resource map[string]any, params map[string]any) bool
	// Query, when set, is the rule as a store filter (Backstage's
	// toQuery). A rule without one cannot be part of a query.
	Query func(params map[string]any) store.Predicate
}

// ParamsSchema is the rule's parameters as JSON schema, the form of
// paramsSchema in /.well-known/backstage/permissions/metadata
// (zodToJsonSchema of the rule's schema).
func (r Rule) ParamsSchema() map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, p := range r.Params {
		var s map[string]any
		switch p.Type {
		case ParamString:
			s = map[string]any{"type": "string"}
		case ParamStrings:
			s = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		case ParamBoolean:
			s = map[string]any{"type": "boolean"}
		case ParamNumber:
			s = map[string]any{"type": "number"}
		case ParamPrimitive:
			s = map[string]any{"type": []string{"string", "number", "boolean", "null"}}
		}
		if p.Description != "" {
			s["description"] = p.Description
		}
		props[p.Name] = s
		if p.Required {
			required = append(required, p.Name)
		}
	}
	return map[string]any{
		"type": "object", "properties": props, "required": required,
		"additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#",
	}
}

// Rules is a set of rules, keyed by resource type and name.
type Rules struct {
	byKey map[string]Rule
	types map[string]bool
}

// NewRules returns Backstage's catalog and scaffolder rules plus extra
// ones (a plugin's own); an extra rule replaces a built-in one of the same
// resource type and name.
func NewRules(extra ...Rule) *Rules {
	rs := &Rules{byKey: map[string]Rule{}, types: map[string]bool{}}
	for _, r := range append(builtinRules(), extra...) {
		rs.byKey[r.ResourceType+"\x00"+r.Name] = r
		rs.types[r.ResourceType] = true
	}
	return rs
}

// Lookup finds a rule.
func (rs *Rules) Lookup(resourceType, name string) (Rule, bool) {
	r, ok := rs.byKey[resourceType+"\x00"+name]
	return r, ok
}

// ForResourceType returns the rules of one resource type, by name.
func (rs *Rules) ForResourceType(resourceType string) []Rule {
	var out []Rule
	for _, r := range rs.byKey {
		if r.ResourceType == resourceType {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// knowsType reports whether any rule is of the resource type: conditions
// on other types (another product's plugins) cannot be checked here.
func (rs *Rules) knowsType(resourceType string) bool { return rs.types[resourceType] }

// checkParams validates a leaf's parameters against its rule: required
// ones present, types right, no unknown names (a misspelt parameter would
// make a condition that never matches).
func (r Rule) checkParams(params map[string]any) error {
	known := map[string]Param{}
	for _, p := range r.Params {
		known[p.Name] = p
	}
	var names []string
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p, ok := known[k]
		if !ok {
			var want []string
			for _, q := range r.Params {
				want = append(want, q.Name)
			}
			return fmt.Errorf("rule %s has no parameter %q (its parameters: %s)", r.Name, k, strings.Join(want, ", "))
		}
		if err := p.check(params[k]); err != nil {
			return fmt.Errorf("rule %s: params.%s: %w", r.Name, k, err)
		}
	}
	for _, p := range r.Params {
		if _, ok := params[p.Name]; p.Required && !ok {
			return fmt.Errorf("rule %s needs the parameter %q", r.Name, p.Name)
		}
	}
	return nil
}

func (p Param) check(v any) error {
	switch p.Type {
	case ParamString:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("should be a string")
		}
	case ParamStrings:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("should be an array of strings")
		}
		for _, item := range arr {
			if _, ok := item.(string); !ok {
				return fmt.Errorf("should be an array of strings")
			}
		}
	case ParamBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("should be a boolean")
		}
	case ParamNumber:
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("should be a number")
		}
	case ParamPrimitive:
		switch v.(type) {
		case nil, string, bool, float64:
		default:
			return fmt.Errorf("should be a string, number, boolean or null")
		}
	}
	return nil
}

func strParam(params map[string]any, name string) (string, bool) {
	s, ok := params[name].(string)
	return s, ok
}

func strsParam(params map[string]any, name string) []string {
	arr, _ := params[name].([]any)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// builtinRules are Backstage's rules of the catalog
// (plugins/catalog-backend/src/permissions/rules) and the scaffolder
// (plugins/scaffolder-backend/src/service/rules). Parameter names and
// meanings are theirs; descriptions follow theirs.
//
// The catalog rules' Apply answers from the entity's filter rows, the very
// rows the store's query reads, so an entity page and a list agree on
// every entity: values compare case-insensitively (Backstage's apply is
// case-sensitive where its SQL is not), a key "exists" when it has a row
// (Backstage's HAS_METADATA/HAS_SPEC apply also wants a truthy value), and
// values longer than catalog.MaxFilterLength only exist.
func builtinRules() []Rule {
	catalogRule := func(name, desc string, params []Param, query func(map[string]any) store.Predicate) Rule {
		return Rule{
			Name: name, ResourceType: ResourceCatalogEntity, Description: desc, Params: params, Query: query,
			Apply: func(entity map[string]any, p map[string]any) bool {
				return matchEntity(query(p), entity)
			},
		}
	}
	keyValue := func(prefix string) func(map[string]any) store.Predicate {
		return func(p map[string]any) store.Predicate {
			key, _ := strParam(p, "key")
			f := store.Field{Key: prefix + key}
			if v, ok := strParam(p, "value"); ok {
				f.Values = []string{v}
			}
			return f
		}
	}
	return []Rule{
		catalogRule("HAS_ANNOTATION", "Allow entities with the specified annotation", []Param{
			{Name: "annotation", Type: ParamString, Required: true, Description: "Name of the annotation to match on"},
			{Name: "value", Type: ParamString, Description: "Value of the annotation to match on"},
		}, func(p map[string]any) store.Predicate {
			a, _ := strParam(p, "annotation")
			f := store.Field{Key: "metadata.annotations." + a}
			if v, ok := strParam(p, "value"); ok {
				f.Values = []string{v}
			}
			return f
		}),
		catalogRule("HAS_LABEL", "Allow entities with the specified label", []Param{
			{Name: "label", Type: ParamString, Required: true, Description: "Name of the label to match on"},
		}, func(p map[string]any) store.Predicate {
			l, _ := strParam(p, "label")
			return store.Field{Key: "metadata.labels." + l}
		}),
		catalogRule("HAS_METADATA", "Allow entities with the specified metadata subfield", []Param{
			{Name: "key", Type: ParamString, Required: true, Description: "Property within the entities metadata to match on"},
			{Name: "value", Type: ParamString, Description: "Value of the given property to match on"},
		}, keyValue("metadata.")),
		catalogRule("HAS_SPEC", "Allow entities with the specified spec subfield", []Param{
			{Name: "key", Type: ParamString, Required: true, Description: "Property within the entities spec to match on"},
			{Name: "value", Type: ParamString, Description: "Value of the given property to match on"},
		}, keyValue("spec.")),
		catalogRule("IS_ENTITY_KIND", "Allow entities matching a specified kind", []Param{
			{Name: "kinds", Type: ParamStrings, Required: true, Description: "List of kinds to match at least one of"},
		}, func(p map[string]any) store.Predicate {
			kinds := strsParam(p, "kinds")
			for i, k := range kinds {
				kinds[i] = strings.ToLower(k)
			}
			return store.Field{Key: "kind", Values: kinds}
		}),
		// Backstage's isEntityOwner: some ownedBy relation's target is one
		// of the claims; the store answers relations.<type> keys from its
		// relations table.
		catalogRule("IS_ENTITY_OWNER", "Allow entities owned by a specified claim", []Param{
			{Name: "claims", Type: ParamStrings, Required: true, Description: "List of claims to match at least one on within ownedBy"},
		}, func(p map[string]any) store.Predicate {
			return store.Field{Key: "relations.ownedBy", Values: strsParam(p, "claims")}
		}),

		{
			Name: "HAS_TAG", ResourceType: ResourceScaffolderTemplate,
			Description: "Match parameters or steps with the given tag",
			Params:      []Param{{Name: "tag", Type: ParamString, Required: true, Description: "Name of the tag to match on"}},
			Apply: func(res map[string]any, p map[string]any) bool {
				tag, _ := strParam(p, "tag")
				perms, _ := res["backstage:permissions"].(map[string]any)
				tags, _ := perms["tags"].([]any)
				return slices.Contains(tags, any(tag))
			},
		},
		{
			Name: "HAS_ACTION_ID", ResourceType: ResourceScaffolderAction,
			Description: "Match actions with the given actionId",
			Params:      []Param{{Name: "actionId", Type: ParamString, Required: true, Description: "Name of the actionId to match on"}},
			Apply: func(res map[string]any, p map[string]any) bool {
				id, _ := strParam(p, "actionId")
				got, ok := res["action"].(string)
				return ok && got == id
			},
		},
		propertyRule("HAS_PROPERTY", ParamPrimitive, false),
		propertyRule("HAS_BOOLEAN_PROPERTY", ParamBoolean, true),
		propertyRule("HAS_NUMBER_PROPERTY", ParamNumber, true),
		propertyRule("HAS_STRING_PROPERTY", ParamString, true),
		{
			Name: "IS_TASK_OWNER", ResourceType: ResourceScaffolderTask,
			Description: "Allows tasks created by certain users to be accessible",
			Params: []Param{{Name: "createdBy", Type: ParamStrings, Required: true,
				Description: "List of creater entity refs; only tasks created by these users will be viewable"}},
			Apply: func(res map[string]any, p map[string]any) bool {
				by, _ := res["createdBy"].(string)
				return by != "" && slices.Contains(strsParam(p, "createdBy"), by)
			},
			// The scaffolder's task store filters on its created_by column.
			Query: func(p map[string]any) store.Predicate {
				return store.Field{Key: "created_by", Values: strsParam(p, "createdBy")}
			},
		},
	}
}

// propertyRule is scaffolder-backend's buildHasProperty: the value at key
// (a lodash path) of the action's input; typed rules also want the found
// value to be of their type.
func propertyRule(name string, typ ParamType, validateFound bool) Rule {
	return Rule{
		Name: name, ResourceType: ResourceScaffolderAction,
		Description: "Allow actions with the specified property",
		Params: []Param{
			{Name: "key", Type: ParamString, Required: true, Description: "Property within the action parameters to match on"},
			{Name: "value", Type: typ, Description: "Value of the given property to match on"},
		},
		Apply: func(res map[string]any, p map[string]any) bool {
			key, _ := strParam(p, "key")
			input, _ := res["input"].(map[string]any)
			found, ok := lookupPath(input, key)
			if n, err := normalizeParam(found, false); err == nil {
				found = n // template inputs decoded from YAML hold ints
			}
			if validateFound && (!ok || (Param{Type: typ}).check(found) != nil) {
				return false
			}
			if want, given := p["value"]; given {
				return ok && found == want
			}
			return ok
		},
	}
}

// lookupPath follows a lodash-style path ("a.b[0].c" or "a.b.0.c").
func lookupPath(v any, path string) (any, bool) {
	if path == "" {
		return nil, false
	}
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	cur := v
	for _, part := range strings.Split(path, ".") {
		switch t := cur.(type) {
		case map[string]any:
			next, ok := t[part]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			cur = t[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
