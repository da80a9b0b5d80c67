package rbac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConditionalPolicy is one document of the conditional-policies file:
// for members of Role, permissions of ResourceType whose action is in
// Mapping are decided by Conditions.
type ConditionalPolicy struct {
	File     string
	Document int // 1-based, among the file's non-empty documents
	Line     int // where the document starts

	Role         string
	PluginID     string
	ResourceType string
	Mapping      []PermissionMapping
	Conditions   Criteria
}

// Source describes where the policy came from, for explanations.
func (c ConditionalPolicy) Source() string {
	return fmt.Sprintf("%s:%d (document %d, %s, %s %s)", c.File, c.Line, c.Document, c.Role, c.ResourceType, c.mappingText())
}

func (c ConditionalPolicy) mappingText() string {
	parts := make([]string, len(c.Mapping))
	for i, m := range c.Mapping {
		parts[i] = m.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// PermissionMapping is one entry of permissionMapping: an action alone
// ("read", which matches every permission of the resource type with that
// action) or a named permission with its action, which matches only that
// permission (the newer RBAC's two forms).
type PermissionMapping struct {
	Name   string // "" for the action-only form
	Action string
}

func (m PermissionMapping) String() string {
	if m.Name == "" {
		return m.Action
	}
	return m.Name + "/" + m.Action
}

// matches reports whether the entry covers a permission decided with action.
func (m PermissionMapping) matches(perm Permission, action string) bool {
	return m.Action == action && (m.Name == "" || m.Name == perm.Name)
}

// Limits bound the conditional-policies file, with RHDH's defaults
// (permission.rbac.validation.*).
type Limits struct {
	MaxBytes              int // conditionalPoliciesFile.maxBytes
	MaxDocuments          int // conditionalPoliciesFile.maxDocuments
	MaxConditionDepth     int // conditionalPolicies.maxConditionDepth
	MaxConditionNodeCount int // conditionalPolicies.maxConditionNodeCount
	MaxCriteriaItems      int // conditionalPolicies.maxCriteriaItems
}

// DefaultLimits are RHDH's (validation/condition-validation.ts,
// yaml-conditional-file-watcher.ts).
func DefaultLimits() Limits {
	return Limits{MaxBytes: 1 << 20, MaxDocuments: 256, MaxConditionDepth: 12, MaxConditionNodeCount: 256, MaxCriteriaItems: 64}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDocuments <= 0 {
		l.MaxDocuments = d.MaxDocuments
	}
	if l.MaxConditionDepth <= 0 {
		l.MaxConditionDepth = d.MaxConditionDepth
	}
	if l.MaxConditionNodeCount <= 0 {
		l.MaxConditionNodeCount = d.MaxConditionNodeCount
	}
	if l.MaxCriteriaItems <= 0 {
		l.MaxCriteriaItems = d.MaxCriteriaItems
	}
	return l
}

// parseConditional parses the multi-document conditional-policies YAML.
// Every problem is a *LineError; a file with any is refused whole.
func parseConditional(name string, data []byte, rules *Rules, limits Limits) ([]ConditionalPolicy, error) {
	if len(data) > limits.MaxBytes {
		return nil, &LineError{File: name, Msg: fmt.Sprintf("the file has %d bytes, more than the %d allowed (permission.rbac.validation.conditionalPoliciesFile.maxBytes)", len(data), limits.MaxBytes)}
	}
	var out []ConditionalPolicy
	var errs []error
	dec := yaml.NewDecoder(bytes.NewReader(data))
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &LineError{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")})
			break
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue
		}
		docs++
		index := docs
		if index > limits.MaxDocuments {
			errs = append(errs, &LineError{File: name, Line: doc.Content[0].Line, Msg: fmt.Sprintf("more than %d documents (permission.rbac.validation.conditionalPoliciesFile.maxDocuments)", limits.MaxDocuments)})
			break
		}
		p := documentParser{file: name, doc: index, rules: rules, limits: limits}
		cp, ok := p.parse(doc.Content[0])
		errs = append(errs, p.errs...)
		if ok {
			out = append(out, cp)
		}
	}
	errs = append(errs, checkCollisions(out)...)
	return out, errors.Join(errs...)
}

type documentParser struct {
	file   string
	doc    int
	rules  *Rules
	limits Limits
	errs   []error
	nodes  int
}

func (p *documentParser) fail(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &LineError{File: p.file, Line: line,
		Msg: fmt.Sprintf("document %d: ", p.doc) + fmt.Sprintf(format, args...)})
}

func (p *documentParser) parse(n *yaml.Node) (ConditionalPolicy, bool) {
	cp := ConditionalPolicy{File: p.file, Document: p.doc, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "a conditional policy is a mapping (result, roleEntityRef, pluginId, resourceType, permissionMapping, conditions)")
		return cp, false
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "result", "roleEntityRef", "pluginId", "resourceType", "permissionMapping", "conditions":
			fields[k.Value] = v
		default:
			p.fail(k, "unknown key %q (a conditional policy has result, roleEntityRef, pluginId, resourceType, permissionMapping and conditions)", k.Value)
		}
	}
	str := func(key string) string {
		v, ok := fields[key]
		if !ok {
			p.fail(n, "%q must be specified", key)
			return ""
		}
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			p.fail(v, "%q must be a non-empty string", key)
			return ""
		}
		return v.Value
	}
	if r := str("result"); r != "" && r != "CONDITIONAL" {
		p.fail(fields["result"], "result is %q; it must be CONDITIONAL", r)
	}
	cp.Role = str("roleEntityRef")
	if cp.Role != "" {
		if err := validateRef(cp.Role, "role"); err != nil {
			p.fail(fields["roleEntityRef"], "roleEntityRef: %v", err)
		}
	}
	cp.PluginID = str("pluginId")
	cp.ResourceType = str("resourceType")
	cp.Mapping = p.mapping(n, fields["permissionMapping"], cp.ResourceType)
	if c, ok := fields["conditions"]; !ok {
		p.fail(n, "%q must be specified", "conditions")
	} else if cp.ResourceType != "" {
		cp.Conditions = p.criteria(c, "conditions", 1, cp.ResourceType)
	}
	return cp, len(p.errs) == 0
}

func (p *documentParser) mapping(doc, n *yaml.Node, resourceType string) []PermissionMapping {
	if n == nil {
		p.fail(doc, "%q must be specified", "permissionMapping")
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.fail(n, "permissionMapping must be a non-empty list of actions (%s)", strings.Join(Actions(), ", "))
		return nil
	}
	if len(n.Content) > len(Actions()) {
		p.fail(n, "permissionMapping can have at most %d items (one per distinct action)", len(Actions()))
		return nil
	}
	var out []PermissionMapping
	named := n.Content[0].Kind == yaml.MappingNode
	seen := map[string]bool{}
	for _, item := range n.Content {
		var m PermissionMapping
		switch {
		case item.Kind == yaml.ScalarNode && !named:
			m.Action = item.Value
		case item.Kind == yaml.MappingNode && named:
			for i := 0; i+1 < len(item.Content); i += 2 {
				k, v := item.Content[i], item.Content[i+1]
				switch k.Value {
				case "name":
					m.Name = strings.TrimSpace(v.Value)
				case "action":
					m.Action = v.Value
				default:
					p.fail(k, "permissionMapping: unknown key %q (an entry is an action, or {name, action})", k.Value)
				}
			}
			if m.Name == "" {
				p.fail(item, "permissionMapping entry has an empty permission name")
				continue
			}
		default:
			p.fail(item, "permissionMapping must be either all action strings or all {name, action} objects, not a mix")
			continue
		}
		if !isAction(m.Action) {
			p.fail(item, "permissionMapping contains %q, which is not an action (%s)", m.Action, strings.Join(Actions(), ", "))
			continue
		}
		if seen[m.Action] {
			p.fail(item, "permissionMapping must not contain the action %q twice", m.Action)
			continue
		}
		seen[m.Action] = true
		if resourceType == ResourcePolicyEntity && m.Action == ActionCreate {
			p.fail(item, "a conditional policy cannot be made for resource type %q with the action %q", ResourcePolicyEntity, ActionCreate)
			continue
		}
		out = append(out, m)
	}
	return out
}

// criteria parses one node of the conditions tree; path locates it in
// messages ("conditions.anyOf[1].not").
func (p *documentParser) criteria(n *yaml.Node, path string, depth int, resourceType string) Criteria {
	if depth > p.limits.MaxConditionDepth {
		p.fail(n, "%s: the conditions are nested deeper than %d levels (permission.rbac.validation.conditionalPolicies.maxConditionDepth)", path, p.limits.MaxConditionDepth)
		return Criteria{}
	}
	p.nodes++
	if p.nodes == p.limits.MaxConditionNodeCount+1 {
		p.fail(n, "%s: the conditions have more than %d nodes (permission.rbac.validation.conditionalPolicies.maxConditionNodeCount)", path, p.limits.MaxConditionNodeCount)
	}
	if p.nodes > p.limits.MaxConditionNodeCount {
		return Criteria{}
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must be a condition {rule, resourceType, params} or one of allOf, anyOf, not", path)
		return Criteria{}
	}
	fields := map[string]*yaml.Node{}
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch k.Value {
		case "rule", "resourceType", "params", "allOf", "anyOf", "not":
			fields[k.Value] = n.Content[i+1]
			order = append(order, k.Value)
		default:
			p.fail(k, "%s: unknown key %q", path, k.Value)
		}
	}
	var crit []string
	for _, k := range order {
		if k == "allOf" || k == "anyOf" || k == "not" {
			crit = append(crit, k)
		}
	}
	_, hasRule := fields["rule"]
	switch {
	case len(crit) > 1:
		p.fail(n, "%s: %s side by side are not supported; nest one inside the other", path, strings.Join(crit, " and "))
		return Criteria{}
	case len(crit) == 1 && hasRule:
		p.fail(n, "%s: %s beside rule %q is not supported; nest them", path, crit[0], fields["rule"].Value)
		return Criteria{}
	case len(crit) == 1 && crit[0] == "not":
		sub := p.criteria(fields["not"], path+".not", depth+1, resourceType)
		return Criteria{Not: &sub}
	case len(crit) == 1:
		key := crit[0]
		list := fields[key]
		if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
			p.fail(list, "%s.%s must be a non-empty list", path, key)
			return Criteria{}
		}
		if len(list.Content) > p.limits.MaxCriteriaItems {
			p.fail(list, "%s.%s has more than %d items (permission.rbac.validation.conditionalPolicies.maxCriteriaItems)", path, key, p.limits.MaxCriteriaItems)
			return Criteria{}
		}
		items := make([]Criteria, len(list.Content))
		for i, item := range list.Content {
			items[i] = p.criteria(item, fmt.Sprintf("%s.%s[%d]", path, key, i), depth+1, resourceType)
		}
		if key == "allOf" {
			return Criteria{AllOf: items}
		}
		return Criteria{AnyOf: items}
	}
	return p.leaf(n, fields, path, resourceType)
}

func (p *documentParser) leaf(n *yaml.Node, fields map[string]*yaml.Node, path, resourceType string) Criteria {
	rule, rt := fields["rule"], fields["resourceType"]
	if rule == nil || rule.Kind != yaml.ScalarNode || rule.Value == "" {
		p.fail(n, "%s: 'rule' must be specified in the condition", path)
		return Criteria{}
	}
	if rt == nil || rt.Kind != yaml.ScalarNode || rt.Value == "" {
		p.fail(n, "%s: 'resourceType' must be specified in the condition", path)
		return Criteria{}
	}
	c := Criteria{Rule: rule.Value, ResourceType: rt.Value}
	if c.ResourceType != resourceType {
		p.fail(rt, "%s: resourceType %q differs from the policy's %q", path, c.ResourceType, resourceType)
		return c
	}
	if pn := fields["params"]; pn != nil {
		var raw map[string]any
		if err := pn.Decode(&raw); err != nil {
			p.fail(pn, "%s.params must be a mapping", path)
			return c
		}
		params, err := normalizeParams(raw)
		if err != nil {
			p.fail(pn, "%s.%v", path, err)
			return c
		}
		c.Params = params
	}
	if r, ok := p.rules.Lookup(c.ResourceType, c.Rule); ok {
		if err := r.checkParams(c.Params); err != nil {
			p.fail(n, "%s: %v", path, err)
		}
	} else if p.rules.knowsType(c.ResourceType) {
		var names []string
		for _, r := range p.rules.ForResourceType(c.ResourceType) {
			names = append(names, r.Name)
		}
		p.fail(rule, "%s: permission rule %q does not exist for resource type %q (its rules: %s)", path, c.Rule, c.ResourceType, strings.Join(names, ", "))
	}
	return c
}

// checkCollisions refuses two policies of one role that would both decide
// a permission: RHDH stores one condition per role, resource type and
// action (and denies on a collision at decision time).
func checkCollisions(policies []ConditionalPolicy) []error {
	var errs []error
	for i, a := range policies {
		for _, b := range policies[:i] {
			if a.Role != b.Role || a.ResourceType != b.ResourceType {
				continue
			}
			for _, ma := range a.Mapping {
				if slices.ContainsFunc(b.Mapping, func(mb PermissionMapping) bool {
					return ma.Action == mb.Action && (ma.Name == "" || mb.Name == "" || ma.Name == mb.Name)
				}) {
					errs = append(errs, &LineError{File: a.File, Line: a.Line, Msg: fmt.Sprintf(
						"document %d: %s already has a conditional policy for %s %s in document %d (line %d); merge them with anyOf",
						a.Document, a.Role, a.ResourceType, ma, b.Document, b.Line)})
					break
				}
			}
		}
	}
	return errs
}
