package rbac

import (
	"fmt"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// builtin is the rule set of Backstage's rules, never changed after it is
// made; Evaluate and ToPredicate use it.
var builtin = NewRules()

// Evaluate decides criteria (aliases already resolved) on one resource
// with Backstage's rules: allOf is every, anyOf is some, not negates, and a
// leaf whose rule is unknown is false, so an unknown rule never grants.
func Evaluate(c Criteria, resource map[string]any) bool { return builtin.Evaluate(c, resource) }

// ToPredicate translates catalog criteria into the store's predicate, the
// form the catalog compiles to SQL. See Rules.ToPredicate.
func ToPredicate(c Criteria) (store.Predicate, error) { return builtin.ToPredicate(c) }

// Evaluate decides criteria on one resource with this rule set.
func (rs *Rules) Evaluate(c Criteria, resource map[string]any) bool {
	e := evaluation{rules: rs, resource: resource}
	return e.eval(c)
}

type evaluation struct {
	rules    *Rules
	resource map[string]any
	rows     []catalog.FilterRow
	rowsErr  error
	rowsDone bool
}

func (e *evaluation) eval(c Criteria) bool {
	switch {
	case c.IsLeaf():
		r, ok := e.rules.Lookup(c.ResourceType, c.Rule)
		if !ok || r.checkParams(c.Params) != nil {
			return false
		}
		if r.ResourceType == ResourceCatalogEntity && r.Query != nil {
			// One flattening per evaluation, however many leaves.
			if !e.rowsDone {
				e.rows, e.rowsErr = entityRows(e.resource)
				e.rowsDone = true
			}
			return e.rowsErr == nil && matchRows(r.Query(c.Params), e.rows)
		}
		return r.Apply(e.resource, c.Params)
	case c.AllOf != nil:
		for _, s := range c.AllOf {
			if !e.eval(s) {
				return false
			}
		}
		return len(c.AllOf) > 0
	case c.AnyOf != nil:
		for _, s := range c.AnyOf {
			if e.eval(s) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !e.eval(*c.Not)
	}
	return false
}

// ToPredicate translates criteria into store predicates: allOf into
// store.All, anyOf into store.Any, not into store.Not and each leaf
// through its rule's Query (Backstage's toQuery), e.g. IS_ENTITY_OWNER
// into store.Field{Key: "relations.ownedBy", Values: claims}. A leaf whose
// rule is unknown or has no query form is an error: the caller must then
// deny rather than drop the condition.
func (rs *Rules) ToPredicate(c Criteria) (store.Predicate, error) {
	switch {
	case c.IsLeaf():
		r, ok := rs.Lookup(c.ResourceType, c.Rule)
		if !ok {
			return nil, fmt.Errorf("permission rule %q does not exist for resource type %q", c.Rule, c.ResourceType)
		}
		if err := r.checkParams(c.Params); err != nil {
			return nil, err
		}
		if r.Query == nil {
			return nil, fmt.Errorf("permission rule %q of %q cannot be part of a query", c.Rule, c.ResourceType)
		}
		return r.Query(c.Params), nil
	case c.AllOf != nil:
		if len(c.AllOf) == 0 {
			return nil, fmt.Errorf("allOf is empty")
		}
		out := make(store.All, len(c.AllOf))
		for i, s := range c.AllOf {
			p, err := rs.ToPredicate(s)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case c.AnyOf != nil:
		if len(c.AnyOf) == 0 {
			return nil, fmt.Errorf("anyOf is empty")
		}
		out := make(store.Any, len(c.AnyOf))
		for i, s := range c.AnyOf {
			p, err := rs.ToPredicate(s)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case c.Not != nil:
		p, err := rs.ToPredicate(*c.Not)
		if err != nil {
			return nil, err
		}
		return store.Not{P: p}, nil
	}
	return nil, fmt.Errorf("criteria: empty node")
}

// entityRows flattens an entity into its filter rows, relations included,
// as the store indexes it.
func entityRows(entity map[string]any) ([]catalog.FilterRow, error) {
	var rels []catalog.Relation
	list, _ := entity["relations"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		typ, _ := m["type"].(string)
		target, _ := m["targetRef"].(string)
		if typ != "" && target != "" {
			rels = append(rels, catalog.Relation{Type: typ, TargetRef: target})
		}
	}
	return catalog.FilterRowsOf(entity, rels)
}

// matchEntity decides one store predicate on one entity.
func matchEntity(p store.Predicate, entity map[string]any) bool {
	rows, err := entityRows(entity)
	return err == nil && matchRows(p, rows)
}

// matchRows decides a store predicate on an entity's filter rows with the
// store's own meaning: keys and values compare lower-cased, Values is
// "equals any of", Prefix "starts with", neither "the key has a row".
func matchRows(p store.Predicate, rows []catalog.FilterRow) bool {
	switch t := p.(type) {
	case nil:
		return true
	case store.All:
		for _, s := range t {
			if !matchRows(s, rows) {
				return false
			}
		}
		return true
	case store.Any:
		for _, s := range t {
			if matchRows(s, rows) {
				return true
			}
		}
		return false
	case store.Not:
		return !matchRows(t.P, rows)
	case store.Field:
		key := strings.ToLower(t.Key)
		for _, r := range rows {
			if r.Key != key {
				continue
			}
			switch {
			case t.Values != nil:
				if r.Value == nil {
					continue
				}
				for _, v := range t.Values {
					if *r.Value == strings.ToLower(v) {
						return true
					}
				}
			case t.Prefix != "":
				if r.Value != nil && strings.HasPrefix(*r.Value, strings.ToLower(t.Prefix)) {
					return true
				}
			default:
				return true
			}
		}
		return false
	}
	return false
}
