package catalog

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Rule is one entry of catalog.rules: which kinds (optionally with a
// spec.type) may come from which locations.
type Rule struct {
	Allow     []RuleKind
	Locations []RuleLocation // nil: any location
}

// RuleKind matches entities by kind and, when set, spec.type (case-insensitive).
type RuleKind struct {
	Kind     string
	SpecType string
}

// RuleLocation matches a root location by type and exact target or glob pattern.
type RuleLocation struct {
	Type    string
	Exact   string
	Pattern string
}

// Rules decides which entities locations may emit.
type Rules struct {
	rules []Rule
}

// DefaultRules are Backstage's rules when catalog.rules is not configured:
// only Components, APIs and Locations may come from registered locations.
func DefaultRules() *Rules {
	return &Rules{rules: []Rule{{Allow: []RuleKind{{Kind: "Component"}, {Kind: "API"}, {Kind: "Location"}}}}}
}

// AllowAll accepts every entity, for the bundled demo catalog and tests.
func AllowAll() *Rules { return nil }

// NewRules builds a rule set; per-location rules are appended after the
// global ones, as Backstage does.
func NewRules(rules []Rule) (*Rules, error) {
	for _, r := range rules {
		for _, l := range r.Locations {
			if l.Exact != "" && l.Pattern != "" {
				return nil, fmt.Errorf("A catalog rule location cannot have both exact and pattern values")
			}
			if l.Type == "" {
				return nil, fmt.Errorf("a catalog rule location needs a type")
			}
		}
	}
	return &Rules{rules: rules}, nil
}

// IsAllowed reports whether the entity may come from the origin location.
// A nil *Rules allows everything.
func (r *Rules) IsAllowed(kind, specType string, origin LocationRef) bool {
	if r == nil {
		return true
	}
	for _, rule := range r.rules {
		if !matchLocation(origin, rule.Locations) {
			continue
		}
		for _, a := range rule.Allow {
			if !strings.EqualFold(a.Kind, kind) {
				continue
			}
			if a.SpecType != "" && !strings.EqualFold(a.SpecType, specType) {
				continue
			}
			return true
		}
	}
	return false
}

func matchLocation(loc LocationRef, matchers []RuleLocation) bool {
	if matchers == nil {
		return true
	}
	for _, m := range matchers {
		if m.Type != loc.Type {
			continue
		}
		if m.Exact != "" && m.Exact != loc.Target {
			continue
		}
		if m.Pattern != "" {
			// minimatch with nocase and dot, as Backstage matches patterns.
			ok, err := doublestar.Match(strings.ToLower(filepath.ToSlash(m.Pattern)), strings.ToLower(filepath.ToSlash(loc.Target)))
			if err != nil || !ok {
				continue
			}
		}
		return true
	}
	return false
}

// ResolveRuleTarget makes a file location's exact target absolute, as
// Backstage does for per-location rules.
func ResolveRuleTarget(typ, target string) string {
	if typ != "file" {
		return target
	}
	if abs, err := filepath.Abs(target); err == nil {
		return abs
	}
	return path.Clean(target)
}

// NotAllowedError is the rejection of an entity the rules do not allow.
func NotAllowedError(ref string, loc, origin LocationRef) error {
	return &Error{Name: "NotAllowedError", Message: fmt.Sprintf("Entity %s at %s, originated at %s, is not of an allowed kind for that location", ref, loc, origin)}
}
