package rbac

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// AdminRole is the role permission.rbac.admin.users are given, with RHDH's
// policies for it (admin-permissions/admin-creation.ts).
const AdminRole = "role:default/rbac_admin"

// Config is what a Policy is made with besides the two files: RHDH's
// permission.rbac settings.
type Config struct {
	// CSVFile and ConditionalFile name the files in messages and
	// explanations (defaults "rbac-policy.csv" and
	// "rbac-conditional-policies.yaml").
	CSVFile, ConditionalFile string
	// AdminUsers (permission.rbac.admin.users[].name) are users or groups
	// made members of role:default/rbac_admin.
	AdminUsers []string
	// SuperUsers (permission.rbac.admin.superUsers[].name) are allowed
	// everything: users, or groups among a user's ownership refs.
	SuperUsers []string
	// DefaultRole (permission.rbac.defaultPermissions.defaultRole) is a
	// role every signed-in user has; DefaultPermissions are allow rows
	// of it (…basicPermissions[{permission, action}]).
	DefaultRole        string
	DefaultPermissions []DefaultPermission
	// Precedence (permission.rbac.policyDecisionPrecedence) is
	// "conditional" (the default: a conditional policy wins over rows) or
	// "basic" (rows of the permission or its resource type win, and
	// conditions apply only where there are none).
	Precedence string
	Limits     Limits
	// Rules are extra conditional rules (a plugin's own) beside
	// Backstage's.
	Rules []Rule
}

// DefaultPermission is one of permission.rbac.defaultPermissions.basicPermissions.
type DefaultPermission struct {
	Permission string // a permission name or resource type
	Action     string
}

// Policy is a loaded, immutable policy; it is safe for concurrent use.
type Policy struct {
	cfg       Config
	rows      []PolicyRow
	members   []RoleRow
	conds     []ConditionalPolicy
	rules     *Rules
	super     map[string]bool
	warnings  []string
	basicPrec bool
}

// Load reads the CSV policy file and the conditional-policies YAML (either
// may be empty) with no further settings.
func Load(csvData, yamlData []byte) (*Policy, error) { return Config{}.Load(csvData, yamlData) }

// Load reads both files. Every problem of either file is reported,
// each a *LineError naming file and line (see LineErrors); on error the
// Policy is nil and the caller keeps the one it had.
func (c Config) Load(csvData, yamlData []byte) (*Policy, error) {
	if c.CSVFile == "" {
		c.CSVFile = "rbac-policy.csv"
	}
	if c.ConditionalFile == "" {
		c.ConditionalFile = "rbac-conditional-policies.yaml"
	}
	c.Limits = c.Limits.withDefaults()
	p := &Policy{cfg: c, rules: NewRules(c.Rules...), super: map[string]bool{}}
	var errs []error
	cfgErr := func(format string, args ...any) {
		errs = append(errs, &LineError{File: "app-config", Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Precedence {
	case "", "conditional":
	case "basic":
		p.basicPrec = true
	default:
		cfgErr("permission.rbac.policyDecisionPrecedence is %q; it must be conditional or basic", c.Precedence)
	}
	for i, u := range c.SuperUsers {
		u = strings.ToLower(u)
		if err := validateRef(u, "user", "group"); err != nil {
			cfgErr("permission.rbac.admin.superUsers[%d].name: %v", i, err)
		}
		p.super[u] = true
	}
	adminSrc := func(text string) Source {
		return Source{File: "permission.rbac.admin", Text: text}
	}
	for i, u := range c.AdminUsers {
		u = strings.ToLower(u)
		if err := validateRef(u, "user", "group"); err != nil {
			cfgErr("permission.rbac.admin.users[%d].name: %v", i, err)
			continue
		}
		p.members = append(p.members, RoleRow{Source: adminSrc("g, " + u + ", " + AdminRole), Member: u, Role: AdminRole})
	}
	for _, r := range adminRows() {
		p.rows = append(p.rows, PolicyRow{Source: adminSrc(r.text()), Subject: AdminRole, Object: r.Object, Action: r.Action, Effect: r.Effect})
	}
	if c.DefaultRole != "" {
		if err := validateRef(c.DefaultRole, "role"); err != nil {
			cfgErr("permission.rbac.defaultPermissions.defaultRole: %v", err)
		}
	}
	for i, d := range c.DefaultPermissions {
		if c.DefaultRole == "" {
			cfgErr("permission.rbac.defaultPermissions.basicPermissions needs a defaultRole")
			break
		}
		if d.Permission == "" || !isAction(d.Action) {
			cfgErr("permission.rbac.defaultPermissions.basicPermissions[%d]: needs a permission and an action (%s)", i, strings.Join(Actions(), ", "))
			continue
		}
		row := PolicyRow{Subject: c.DefaultRole, Object: d.Permission, Action: d.Action, Effect: "allow"}
		row.Source = Source{File: "permission.rbac.defaultPermissions", Text: row.text()}
		p.rows = append(p.rows, row)
	}

	file, err := parseCSV(c.CSVFile, csvData)
	if err != nil {
		errs = append(errs, err)
	}
	p.rows = append(p.rows, file.policies...)
	p.members = append(p.members, file.roles...)
	conds, err := parseConditional(c.ConditionalFile, yamlData, p.rules, c.Limits)
	if err != nil {
		errs = append(errs, err)
	}
	p.conds = conds
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p.warnings = p.lint()
	return p, nil
}

type adminRow struct{ Object, Action, Effect string }

func (r adminRow) text() string {
	return "p, " + AdminRole + ", " + r.Object + ", " + r.Action + ", " + r.Effect
}

func (r PolicyRow) text() string {
	return "p, " + r.Subject + ", " + r.Object + ", " + r.Action + ", " + r.Effect
}

// adminRows are RHDH's policies of the admin role, and Greenroom's: its
// admins read the audit log and the plugins page.
func adminRows() []adminRow {
	return []adminRow{
		{ResourcePolicyEntity, ActionRead, "allow"},
		{PolicyEntityCreate.Name, ActionCreate, "allow"},
		{ResourcePolicyEntity, ActionDelete, "allow"},
		{ResourcePolicyEntity, ActionUpdate, "allow"},
		{ResourceCatalogEntity, ActionRead, "allow"},
		{GreenroomAuditRead.Name, ActionRead, "allow"},
		{GreenroomPluginsRead.Name, ActionRead, "allow"},
	}
}

// Identity is who is asking: the user's entity ref and its ownership refs
// (the user and the groups it is a member of, parents included when the
// caller resolves them). Ref is empty for an unauthenticated caller.
type Identity struct {
	Ref           string
	OwnershipRefs []string
}

func (id Identity) refs() []string {
	out := []string{strings.ToLower(id.Ref)}
	for _, r := range id.OwnershipRefs {
		if r := strings.ToLower(r); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// IsSuperUser reports whether permission.rbac.admin.superUsers names the
// user or one of its groups.
func (p *Policy) IsSuperUser(user Identity) bool {
	if user.Ref == "" {
		return false
	}
	for _, r := range user.refs() {
		if p.super[r] {
			return true
		}
	}
	return false
}

// RolesOf returns the user's roles, sorted: those of g rows (and
// permission.rbac.admin.users) naming the user or one of its groups, and
// the default role.
func (p *Policy) RolesOf(user Identity) []string {
	if user.Ref == "" {
		return nil
	}
	refs := user.refs()
	var roles []string
	for _, m := range p.members {
		if slices.Contains(refs, m.Member) && !slices.Contains(roles, m.Role) {
			roles = append(roles, m.Role)
		}
	}
	if p.cfg.DefaultRole != "" && !slices.Contains(roles, p.cfg.DefaultRole) {
		roles = append(roles, p.cfg.DefaultRole)
	}
	sort.Strings(roles)
	return roles
}

// Rows returns every policy row: permission.rbac.admin's and the default
// role's first, then the file's in order.
func (p *Policy) Rows() []PolicyRow { return slices.Clone(p.rows) }

// Members returns every role membership: permission.rbac.admin.users'
// first, then the file's g rows.
func (p *Policy) Members() []RoleRow { return slices.Clone(p.members) }

// ConditionalPolicies returns the conditional policies in file order.
func (p *Policy) ConditionalPolicies() []ConditionalPolicy { return slices.Clone(p.conds) }

// Rules returns the policy's conditional rules.
func (p *Policy) Rules() *Rules { return p.rules }

// Warnings are things that load but probably do not do what was meant
// (a row naming a permission Greenroom does not know, a role without
// members), for the admin page.
func (p *Policy) Warnings() []string { return slices.Clone(p.warnings) }

// Role is one role with what the policy says of it, for the policy page.
type Role struct {
	Ref        string
	Members    []RoleRow
	Rows       []PolicyRow
	Conditions []ConditionalPolicy
}

// Roles returns every role the policy mentions, sorted by ref.
func (p *Policy) Roles() []Role {
	byRef := map[string]*Role{}
	get := func(ref string) *Role {
		if r, ok := byRef[ref]; ok {
			return r
		}
		r := &Role{Ref: ref}
		byRef[ref] = r
		return r
	}
	for _, m := range p.members {
		r := get(m.Role)
		r.Members = append(r.Members, m)
	}
	for _, row := range p.rows {
		if refKind(row.Subject) == "role" {
			r := get(row.Subject)
			r.Rows = append(r.Rows, row)
		}
	}
	for _, c := range p.conds {
		r := get(c.Role)
		r.Conditions = append(r.Conditions, c)
	}
	out := make([]Role, 0, len(byRef))
	for _, r := range byRef {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

func (p *Policy) lint() []string {
	var out []string
	known := map[string]bool{}
	for _, t := range resourceTypes() {
		known[t] = true
	}
	for _, row := range p.rows {
		if row.Line == 0 {
			continue
		}
		if perm, ok := Lookup(row.Object); ok {
			if perm.PolicyAction() != row.Action {
				out = append(out, fmt.Sprintf("%s: %s is decided with the action %s, so a row with %s never applies to it", row.Source, perm.Name, perm.PolicyAction(), row.Action))
			}
			continue
		}
		if known[row.Object] {
			if !slices.ContainsFunc(Catalogue(), func(perm Permission) bool {
				return perm.ResourceType == row.Object && perm.PolicyAction() == row.Action
			}) {
				out = append(out, fmt.Sprintf("%s: no permission of %s that Greenroom knows has the action %s", row.Source, row.Object, row.Action))
			}
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s is neither a permission nor a resource type Greenroom knows; only other clients' permissions can match it", row.Source, row.Object))
	}
	for _, c := range p.conds {
		if !known[c.ResourceType] {
			out = append(out, fmt.Sprintf("%s: Greenroom has no permission of the resource type %s", c.Source(), c.ResourceType))
			continue
		}
		for _, m := range c.Mapping {
			if !slices.ContainsFunc(Catalogue(), func(perm Permission) bool {
				return perm.ResourceType == c.ResourceType && m.matches(perm, perm.PolicyAction())
			}) {
				out = append(out, fmt.Sprintf("%s: no permission of %s that Greenroom knows matches %s", c.Source(), c.ResourceType, m))
			}
		}
	}
	hasMembers := map[string]bool{}
	for _, m := range p.members {
		hasMembers[m.Role] = true
	}
	for _, r := range p.Roles() {
		implicit := r.Ref == AdminRole || r.Ref == p.cfg.DefaultRole
		if !implicit && !hasMembers[r.Ref] {
			where := ""
			switch {
			case len(r.Rows) > 0:
				where = r.Rows[0].Source.String()
			case len(r.Conditions) > 0:
				where = r.Conditions[0].Source()
			}
			out = append(out, fmt.Sprintf("%s: %s has no members (no g row names it)", where, r.Ref))
		}
		if !implicit && len(r.Members) > 0 && !slices.ContainsFunc(r.Rows, func(row PolicyRow) bool { return row.Effect == "allow" }) && len(r.Conditions) == 0 {
			out = append(out, fmt.Sprintf("%s: %s allows nothing (no allow row, no conditional policy)", r.Members[0].Source, r.Ref))
		}
	}
	return out
}
