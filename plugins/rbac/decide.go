package rbac

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Result is a decision's outcome.
type Result int

const (
	Deny Result = iota
	Allow
	Conditional
)

// String is Backstage's AuthorizeResult: DENY, ALLOW or CONDITIONAL.
func (r Result) String() string {
	switch r {
	case Allow:
		return "ALLOW"
	case Conditional:
		return "CONDITIONAL"
	}
	return "DENY"
}

// Decision is the answer for one user and permission, with why.
type Decision struct {
	Result Result
	// Conditional decisions only: the plugin that applies the conditions,
	// the resource type and the criteria, aliases resolved for the user.
	PluginID     string
	ResourceType string
	Conditions   Criteria

	Explanation Explanation

	rules *Rules
}

// Reason says which step of the precedence decided.
type Reason string

const (
	ReasonNoUser      Reason = "no-user"
	ReasonSuperUser   Reason = "super-user"
	ReasonConditional Reason = "conditional"
	ReasonAllowRow    Reason = "allow-row"
	ReasonDenyRow     Reason = "deny-row"
	ReasonNoMatch     Reason = "no-match"
	// Set by ApplyTo: the conditions were decided on a resource.
	ReasonConditionsMet    Reason = "conditions-met"
	ReasonConditionsNotMet Reason = "conditions-not-met"
	// permission.enabled is off: everything is allowed, as in Backstage.
	ReasonPermissionsDisabled Reason = "permissions-disabled"
)

// Explanation is why a decision came out as it did: the rows or
// conditional policies that produced it, for the policy page's "check
// access" and for messages to admins. It never goes over the wire of
// /api/permission/authorize.
type Explanation struct {
	Reason     Reason
	User       string
	Permission string
	// Object and Action are what rows were matched on: the permission's
	// name or its resource type, and its action ("use" when it has none).
	Object string
	Action string
	Roles  []string
	// Rows are the deciding rows: the deny rows of a denial, the allow
	// rows of an allowance.
	Rows []Source
	// Policies are the conditional policies whose conditions were OR-ed.
	Policies []ConditionalPolicy
	// Notes say what precedence left out ("rows for catalog-entity were
	// not consulted"), the usual surprises of RHDH's model.
	Notes []string
}

// Summary is the explanation in one line.
func (e Explanation) Summary() string {
	rows := func() string {
		parts := make([]string, len(e.Rows))
		for i, r := range e.Rows {
			parts[i] = r.String()
		}
		return strings.Join(parts, "; ")
	}
	switch e.Reason {
	case ReasonPermissionsDisabled:
		return "allowed: permissions are off (permission.enabled is false)"
	case ReasonNoUser:
		return "denied: the request has no signed-in user"
	case ReasonSuperUser:
		return fmt.Sprintf("allowed: %s is a super user (permission.rbac.admin.superUsers)", e.User)
	case ReasonConditional, ReasonConditionsMet, ReasonConditionsNotMet:
		parts := make([]string, len(e.Policies))
		for i, c := range e.Policies {
			parts[i] = c.Source()
		}
		of := strings.Join(parts, "; ")
		switch e.Reason {
		case ReasonConditionsMet:
			return "allowed: the conditions of " + of + " hold"
		case ReasonConditionsNotMet:
			return "denied: the conditions of " + of + " do not hold"
		}
		return "conditional on " + of
	case ReasonAllowRow:
		return "allowed by " + rows()
	case ReasonDenyRow:
		return "denied by " + rows()
	}
	who := "the user has no role"
	if len(e.Roles) > 0 {
		who = "roles " + strings.Join(e.Roles, ", ")
	}
	return fmt.Sprintf("no matching row: denied by default (no row for %s, %s; %s)", e.Object, e.Action, who)
}

// String is the summary followed by the notes, one a line.
func (e Explanation) String() string {
	s := e.Summary()
	for _, n := range e.Notes {
		s += "\n  note: " + n
	}
	return s
}

// Decide decides one permission for one user with RHDH's precedence
// (policies/permission-policy.ts handle):
//
//  1. no user: deny;
//  2. a super user: allow;
//  3. for a resource permission, a conditional policy of one of the
//     user's roles for the resource type and action: CONDITIONAL, the
//     roles' conditions OR-ed (with precedence "basic", only when no row
//     names the permission or its resource type);
//  4. rows keyed by the permission's name, if any role has one, else (for
//     a resource permission) rows keyed by its resource type; among them
//     any deny denies, else any allow allows;
//  5. nothing matched: deny.
//
// Rows naming users or groups directly are consulted only for a user
// with no role, as RHDH does.
func (p *Policy) Decide(user Identity, perm Permission) Decision {
	action := perm.PolicyAction()
	ex := Explanation{User: user.Ref, Permission: perm.Name, Action: action}
	d := Decision{rules: p.rules}
	if user.Ref == "" {
		ex.Reason = ReasonNoUser
		d.Explanation = ex
		return d
	}
	if p.IsSuperUser(user) {
		ex.Reason = ReasonSuperUser
		d.Result, d.Explanation = Allow, ex
		return d
	}
	roles := p.RolesOf(user)
	ex.Roles = roles
	hasNamed := p.hasRow(roles, perm.Name, action)
	// RHDH's workaround since policy.entity.create lost its resource
	// type: without a row naming it, it is decided as a policy-entity
	// permission, so "policy-entity, create" rows still work.
	if perm.Name == PolicyEntityCreate.Name && !hasNamed {
		perm.Type, perm.ResourceType, perm.Action = TypeResource, ResourcePolicyEntity, ActionCreate
		action = ActionCreate
	}
	object := perm.Name
	if perm.IsResource() {
		conds := p.conditionsFor(roles, perm, action)
		useConds := len(conds) > 0
		if useConds && p.basicPrec && (hasNamed || p.hasRow(roles, perm.ResourceType, action)) {
			useConds = false
			ex.Notes = append(ex.Notes, "policyDecisionPrecedence is basic and rows match, so the conditional policies were not consulted")
		}
		if useConds {
			return p.conditional(user, perm, conds, ex)
		}
		if !hasNamed {
			object = perm.ResourceType
		} else if p.hasRow(roles, perm.ResourceType, action) {
			ex.Notes = append(ex.Notes, fmt.Sprintf("a role has a row naming %s, so rows for the resource type %s were not consulted", perm.Name, perm.ResourceType))
		}
	}
	ex.Object = object
	return p.byRows(user, roles, perm.Name, object, action, ex)
}

func (p *Policy) hasRow(roles []string, object, action string) bool {
	return slices.ContainsFunc(p.rows, func(r PolicyRow) bool {
		return r.Object == object && r.Action == action && slices.Contains(roles, r.Subject)
	})
}

func (p *Policy) conditionsFor(roles []string, perm Permission, action string) []ConditionalPolicy {
	var out []ConditionalPolicy
	for _, role := range roles {
		for _, c := range p.conds {
			if c.Role == role && c.ResourceType == perm.ResourceType &&
				slices.ContainsFunc(c.Mapping, func(m PermissionMapping) bool { return m.matches(perm, action) }) {
				out = append(out, c)
				break // Load refuses a second one for the same role
			}
		}
	}
	return out
}

func (p *Policy) conditional(user Identity, perm Permission, conds []ConditionalPolicy, ex Explanation) Decision {
	alts := make([]Criteria, len(conds))
	for i, c := range conds {
		alts[i] = ResolveAliases(c.Conditions, user)
	}
	ex.Reason = ReasonConditional
	ex.Object = perm.ResourceType
	ex.Policies = conds
	return Decision{
		Result: Conditional,
		// RHDH reports the last role's pluginId.
		PluginID:     conds[len(conds)-1].PluginID,
		ResourceType: perm.ResourceType,
		Conditions:   Criteria{AnyOf: alts},
		Explanation:  ex,
		rules:        p.rules,
	}
}

func (p *Policy) byRows(user Identity, roles []string, name, object, action string, ex Explanation) Decision {
	d := Decision{rules: p.rules}
	var direct []string
	for _, r := range user.refs() {
		if k := refKind(r); k == "user" || k == "group" {
			direct = append(direct, r)
		}
	}
	var allows, denies []Source
	for _, r := range p.rows {
		isDirect := slices.Contains(direct, strings.ToLower(r.Subject))
		if r.Action != action || (r.Object != object && !(isDirect && r.Object == name)) {
			continue
		}
		switch {
		case len(roles) > 0 && isDirect:
			ex.Notes = append(ex.Notes, fmt.Sprintf("%s names %s directly and was not consulted: RHDH consults rows of users and groups only for users without a role", r.Source, r.Subject))
		case isDirect && r.Object != object:
			ex.Notes = append(ex.Notes, fmt.Sprintf("%s was not consulted: for a user without a role RHDH matches a resource permission by its resource type %s only", r.Source, object))
		case (len(roles) > 0 && slices.Contains(roles, r.Subject)) || (len(roles) == 0 && isDirect):
			if r.Effect == "deny" {
				denies = append(denies, r.Source)
			} else {
				allows = append(allows, r.Source)
			}
		}
	}
	switch {
	case len(denies) > 0:
		ex.Reason, ex.Rows = ReasonDenyRow, denies
		if len(allows) > 0 {
			ex.Notes = append(ex.Notes, fmt.Sprintf("any deny wins: %d allow row(s) matched too", len(allows)))
		}
	case len(allows) > 0:
		ex.Reason, ex.Rows = ReasonAllowRow, allows
		d.Result = Allow
	default:
		ex.Reason = ReasonNoMatch
	}
	d.Explanation = ex
	return d
}

// ApplyTo decides a conditional decision on one resource (the entity,
// template step or parameter, action or task, as JSON-like values), as a
// plugin's apply-conditions does; allow and deny are returned unchanged.
func (d Decision) ApplyTo(resource map[string]any) Decision {
	if d.Result != Conditional {
		return d
	}
	rules := d.rules
	if rules == nil {
		rules = builtin
	}
	out := d
	out.Explanation.Notes = slices.Clone(d.Explanation.Notes)
	if rules.Evaluate(d.Conditions, resource) {
		out.Result = Allow
		out.Explanation.Reason = ReasonConditionsMet
	} else {
		out.Result = Deny
		out.Explanation.Reason = ReasonConditionsNotMet
	}
	return out
}

// Predicate is the decision as a filter on catalog entities, to be ANDed
// with a query's own: nil (everything) when allowed, an empty store.Any
// (nothing) when denied, the conditions' translation when conditional.
// An error means the conditions cannot become a query; deny then.
func (d Decision) Predicate() (store.Predicate, error) {
	switch d.Result {
	case Allow:
		return nil, nil
	case Conditional:
		rules := d.rules
		if rules == nil {
			rules = builtin
		}
		return rules.ToPredicate(d.Conditions)
	}
	return store.Any{}, nil
}

// AuthorizeItem is one item of POST /api/permission/authorize's response.
type AuthorizeItem struct {
	ID           string    `json:"id"`
	Result       string    `json:"result"`
	PluginID     string    `json:"pluginId,omitempty"`
	ResourceType string    `json:"resourceType,omitempty"`
	Conditions   *Criteria `json:"conditions,omitempty"`
}

// Item is the decision as a response item of /api/permission/authorize:
// {id, result: ALLOW|DENY} or {id, result: CONDITIONAL, pluginId,
// resourceType, conditions}. The explanation stays out: it names policy
// rows an ordinary user should not read.
func (d Decision) Item(id string) AuthorizeItem {
	it := AuthorizeItem{ID: id, Result: d.Result.String()}
	if d.Result == Conditional {
		c := d.Conditions
		it.PluginID, it.ResourceType, it.Conditions = d.PluginID, d.ResourceType, &c
	}
	return it
}

// MarshalJSON writes the decision as Backstage's PolicyDecision (an item
// without its id).
func (d Decision) MarshalJSON() ([]byte, error) {
	it := d.Item("")
	return json.Marshal(struct {
		Result       string    `json:"result"`
		PluginID     string    `json:"pluginId,omitempty"`
		ResourceType string    `json:"resourceType,omitempty"`
		Conditions   *Criteria `json:"conditions,omitempty"`
	}{it.Result, it.PluginID, it.ResourceType, it.Conditions})
}
