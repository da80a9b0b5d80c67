package rbac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Criteria is a node of Backstage's criteria tree: a leaf condition (Rule
// set) or one of allOf, anyOf and not. Exactly one of Rule, AllOf, AnyOf
// and Not is set.
type Criteria struct {
	// A leaf: a rule of a resource type with its parameters, whose values
	// are JSON primitives (string, float64, bool, nil) or []any of them.
	Rule         string
	ResourceType string
	Params       map[string]any

	AllOf []Criteria
	AnyOf []Criteria
	Not   *Criteria
}

// IsLeaf reports whether c is a condition rather than a node.
func (c Criteria) IsLeaf() bool { return c.Rule != "" }

// Conditions of the wire form: {rule, resourceType, params?},
// {allOf: […]}, {anyOf: […]} or {not: {…}} (not takes one object, as
// permission-common's types and zod schema say; its openapi.yaml is stale).
type wireCriteria struct {
	Rule         string          `json:"rule,omitempty"`
	ResourceType string          `json:"resourceType,omitempty"`
	Params       map[string]any  `json:"params,omitempty"`
	AllOf        []Criteria      `json:"allOf,omitempty"`
	AnyOf        []Criteria      `json:"anyOf,omitempty"`
	Not          json.RawMessage `json:"not,omitempty"`
}

// MarshalJSON writes the criteria in Backstage's wire form.
func (c Criteria) MarshalJSON() ([]byte, error) {
	switch {
	case c.IsLeaf():
		w := struct {
			Rule         string         `json:"rule"`
			ResourceType string         `json:"resourceType"`
			Params       map[string]any `json:"params,omitempty"`
		}{c.Rule, c.ResourceType, c.Params}
		return json.Marshal(w)
	case c.AllOf != nil:
		return json.Marshal(struct {
			AllOf []Criteria `json:"allOf"`
		}{c.AllOf})
	case c.AnyOf != nil:
		return json.Marshal(struct {
			AnyOf []Criteria `json:"anyOf"`
		}{c.AnyOf})
	case c.Not != nil:
		return json.Marshal(struct {
			Not *Criteria `json:"not"`
		}{c.Not})
	}
	return nil, fmt.Errorf("criteria: empty node")
}

// UnmarshalJSON reads Backstage's wire form, as a plugin's apply-conditions
// request carries it. Like Backstage it tolerates unknown keys; the node's
// shape is checked (one of rule, allOf, anyOf, not; non-empty arrays).
func (c *Criteria) UnmarshalJSON(data []byte) error {
	var w wireCriteria
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	kinds := 0
	out := Criteria{}
	if w.Rule != "" {
		kinds++
		out.Rule, out.ResourceType = w.Rule, w.ResourceType
		params, err := normalizeParams(w.Params)
		if err != nil {
			return fmt.Errorf("condition %s: %w", w.Rule, err)
		}
		out.Params = params
		if out.ResourceType == "" {
			return fmt.Errorf("condition %s: resourceType is missing", w.Rule)
		}
	}
	if w.AllOf != nil {
		kinds++
		if len(w.AllOf) == 0 {
			return fmt.Errorf("allOf must not be empty")
		}
		out.AllOf = w.AllOf
	}
	if w.AnyOf != nil {
		kinds++
		if len(w.AnyOf) == 0 {
			return fmt.Errorf("anyOf must not be empty")
		}
		out.AnyOf = w.AnyOf
	}
	if len(w.Not) > 0 && string(w.Not) != "null" {
		kinds++
		var n Criteria
		if err := json.Unmarshal(w.Not, &n); err != nil {
			return fmt.Errorf("not: %w", err)
		}
		out.Not = &n
	}
	switch kinds {
	case 0:
		return fmt.Errorf("criteria: a node needs one of rule, allOf, anyOf or not")
	case 1:
		*c = out
		return nil
	}
	return fmt.Errorf("criteria: a node has only one of rule, allOf, anyOf or not; nest them instead")
}

// normalizeParams turns decoded parameter values into JSON primitives
// (numbers as float64) and arrays of them, refusing anything deeper.
func normalizeParams(in map[string]any) (map[string]any, error) {
	if in == nil {
		return nil, nil
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		n, err := normalizeParam(v, true)
		if err != nil {
			return nil, fmt.Errorf("params.%s: %w", k, err)
		}
		out[k] = n
	}
	return out, nil
}

func normalizeParam(v any, arrayOK bool) (any, error) {
	switch t := v.(type) {
	case nil, string, bool, float64:
		return t, nil
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, err
		}
		return f, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case float32:
		return float64(t), nil
	case []any:
		if !arrayOK {
			return nil, fmt.Errorf("an array may hold only strings, numbers, booleans or null")
		}
		out := make([]any, len(t))
		for i, item := range t {
			n, err := normalizeParam(item, false)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("a parameter is a string, number, boolean, null or an array of those, not %T", v)
}

// Clone returns a deep copy, so a stored policy's conditions are never
// changed by alias resolution.
func (c Criteria) Clone() Criteria {
	out := Criteria{Rule: c.Rule, ResourceType: c.ResourceType}
	if c.Params != nil {
		out.Params = make(map[string]any, len(c.Params))
		for k, v := range c.Params {
			if arr, ok := v.([]any); ok {
				v = slices.Clone(arr)
			}
			out.Params[k] = v
		}
	}
	if c.AllOf != nil {
		out.AllOf = make([]Criteria, len(c.AllOf))
		for i, s := range c.AllOf {
			out.AllOf[i] = s.Clone()
		}
	}
	if c.AnyOf != nil {
		out.AnyOf = make([]Criteria, len(c.AnyOf))
		for i, s := range c.AnyOf {
			out.AnyOf[i] = s.Clone()
		}
	}
	if c.Not != nil {
		n := c.Not.Clone()
		out.Not = &n
	}
	return out
}

// The aliases RHDH replaces in conditions at decision time
// (rbac-backend conditional-aliases/alias-resolver.ts).
const (
	AliasCurrentUser = "$currentUser"
	AliasOwnerRefs   = "$ownerRefs"
)

// ResolveAliases returns c with the aliases replaced for the user, as
// RHDH's replaceAliases does: in an array parameter "$currentUser" becomes
// the user's ref and "$ownerRefs" is expanded into the user's ownership
// refs; a scalar parameter "$currentUser" becomes the ref ("$ownerRefs" as
// a scalar is left alone, having no scalar value).
func ResolveAliases(c Criteria, user Identity) Criteria {
	out := c.Clone()
	resolveAliases(&out, user)
	return out
}

func resolveAliases(c *Criteria, user Identity) {
	for i := range c.AllOf {
		resolveAliases(&c.AllOf[i], user)
	}
	for i := range c.AnyOf {
		resolveAliases(&c.AnyOf[i], user)
	}
	if c.Not != nil {
		resolveAliases(c.Not, user)
	}
	for k, v := range c.Params {
		switch t := v.(type) {
		case string:
			if t == AliasCurrentUser {
				c.Params[k] = user.Ref
			}
		case []any:
			out := make([]any, 0, len(t))
			for _, item := range t {
				switch item {
				case AliasCurrentUser:
					out = append(out, user.Ref)
				case AliasOwnerRefs:
					for _, r := range user.OwnershipRefs {
						out = append(out, r)
					}
				default:
					out = append(out, item)
				}
			}
			c.Params[k] = out
		}
	}
}
