package rbac

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var (
	alice = Identity{Ref: "user:default/alice", OwnershipRefs: []string{"user:default/alice", "group:default/engineering"}}
	bob   = Identity{Ref: "user:default/bob", OwnershipRefs: []string{"user:default/bob", "group:default/engineering"}}
	carol = Identity{Ref: "user:default/carol", OwnershipRefs: []string{"user:default/carol"}}
)

func decisionJSON(t *testing.T, d Decision) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The worked example of the reference (§2.7), every row as documented.
func TestWorkedExample(t *testing.T) {
	p := loadTestdata(t, "worked-example", Config{})
	tests := []struct {
		name    string
		user    Identity
		perm    Permission
		want    string
		explain string
	}{
		{"alice reads", alice, CatalogEntityRead, `{"result":"ALLOW"}`,
			"allowed by worked-example.csv:1 (p, role:default/developer, catalog-entity, read, allow)"},
		{"alice deletes", alice, CatalogEntityDelete,
			`{"result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/alice","group:default/engineering"]}}]}}`,
			"conditional on worked-example.yaml:2 (document 1, role:default/developer, catalog-entity [delete])"},
		{"bob reads", bob, CatalogEntityRead, `{"result":"DENY"}`,
			"denied by worked-example.csv:5 (p, role:default/contractor, catalog.entity.read, read, deny)\n" +
				"  note: a role has a row naming catalog.entity.read, so rows for the resource type catalog-entity were not consulted"},
		{"alice refreshes", alice, CatalogEntityRefresh, `{"result":"DENY"}`,
			"no matching row: denied by default (no row for catalog-entity, update; roles role:default/developer)"},
		{"alice executes an action", alice, ScaffolderActionExecute, `{"result":"ALLOW"}`,
			"allowed by worked-example.csv:4 (p, role:default/developer, scaffolder-action, use, allow)"},
		{"carol has no roles", carol, CatalogEntityRead, `{"result":"DENY"}`,
			"no matching row: denied by default (no row for catalog-entity, read; the user has no role)"},
		{"alice creates", alice, CatalogEntityCreate, `{"result":"ALLOW"}`,
			"allowed by worked-example.csv:3 (p, role:default/developer, catalog.entity.create, create, allow)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.user, tt.perm)
			if got := decisionJSON(t, d); got != tt.want {
				t.Errorf("decision %s\nwant     %s", got, tt.want)
			}
			if got := d.Explanation.String(); got != tt.explain {
				t.Errorf("explanation %q\nwant        %q", got, tt.explain)
			}
		})
	}
}

// The permission matrix of a two-team policy with an admin, a super user,
// owner conditions and a deny row.
func TestDecideTeams(t *testing.T) {
	p := loadTestdata(t, "teams", Config{AdminUsers: []string{"user:default/admin"}, SuperUsers: []string{"group:default/ops"}})
	ann := Identity{Ref: "user:default/ann", OwnershipRefs: []string{"user:default/ann", "group:default/team-a"}}
	ben := Identity{Ref: "user:default/ben", OwnershipRefs: []string{"user:default/ben", "group:default/team-b"}}
	dave := Identity{Ref: "user:default/dave", OwnershipRefs: []string{"user:default/dave"}}
	admin := Identity{Ref: "user:default/admin", OwnershipRefs: []string{"user:default/admin"}}
	root := Identity{Ref: "user:default/root", OwnershipRefs: []string{"user:default/root", "group:default/ops"}}
	nobody := Identity{}
	annRead := `{"result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"anyOf":[{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/ann","group:default/team-a"]}},{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["API"]}}]}]}}`
	annDelete := `{"result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"anyOf":[{"allOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/ann","group:default/team-a"]}},{"not":{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"protected"}}}]}]}}`
	benTask := `{"result":"CONDITIONAL","pluginId":"scaffolder","resourceType":"scaffolder-task","conditions":{"anyOf":[{"rule":"IS_TASK_OWNER","resourceType":"scaffolder-task","params":{"createdBy":["user:default/ben"]}}]}}`
	const A, D = `{"result":"ALLOW"}`, `{"result":"DENY"}`
	matrix := []struct {
		perm                                Permission
		ann, ben, dave, admin, root, nobody string
	}{
		{CatalogEntityRead, annRead, A, A, A, A, D},
		{CatalogEntityDelete, annDelete, D, D, D, A, D},
		{CatalogEntityRefresh, D, D, D, D, A, D},
		{CatalogEntityCreate, A, D, D, D, A, D},
		{CatalogLocationCreate, A, D, D, D, A, D},
		{CatalogLocationDelete, D, D, D, D, A, D},
		{ScaffolderTemplateStepRead, D, A, D, D, A, D},
		{ScaffolderTemplateParameterRead, D, A, D, D, A, D},
		{ScaffolderActionExecute, D, A, D, D, A, D},
		{ScaffolderTaskCreate, D, A, D, D, A, D},
		{ScaffolderTaskRead, D, benTask, D, D, A, D},
		{ScaffolderTaskCancel, D, D, D, D, A, D},
		{PolicyEntityRead, D, D, D, A, A, D},
		{PolicyEntityCreate, D, D, D, A, A, D},
		{PolicyEntityUpdate, D, D, D, A, A, D},
		{GreenroomAuditRead, D, D, D, A, A, D},
		{GreenroomPluginsRead, D, D, D, A, A, D},
	}
	for _, row := range matrix {
		for _, c := range []struct {
			who  string
			user Identity
			want string
		}{{"ann", ann, row.ann}, {"ben", ben, row.ben}, {"dave", dave, row.dave}, {"admin", admin, row.admin}, {"root", root, row.root}, {"nobody", nobody, row.nobody}} {
			if got := decisionJSON(t, p.Decide(c.user, row.perm)); got != c.want {
				t.Errorf("%s %s: %s\n want %s", c.who, row.perm.Name, got, c.want)
			}
		}
	}

	explain := []struct {
		user Identity
		perm Permission
		want string
	}{
		{ben, CatalogEntityDelete, "denied by teams.csv:14 (p, role:default/viewer, catalog.entity.delete, delete, deny)"},
		{ben, CatalogEntityRead, "allowed by teams.csv:7 (p, role:default/team-b, catalog-entity, read, allow); teams.csv:13 (p, role:default/viewer, catalog-entity, read, allow)"},
		{admin, PolicyEntityRead, "allowed by permission.rbac.admin (p, role:default/rbac_admin, policy-entity, read, allow)"},
		{admin, PolicyEntityCreate, "allowed by permission.rbac.admin (p, role:default/rbac_admin, policy.entity.create, create, allow)"},
		{root, CatalogEntityDelete, "allowed: user:default/root is a super user (permission.rbac.admin.superUsers)"},
		{nobody, CatalogEntityRead, "denied: the request has no signed-in user"},
		{ben, ScaffolderTaskRead, "conditional on teams.yaml:35 (document 3, role:default/team-b, scaffolder-task [scaffolder.task.read/read])"},
	}
	for _, e := range explain {
		if got := p.Decide(e.user, e.perm).Explanation.String(); got != e.want {
			t.Errorf("%s %s:\n got %q\nwant %q", e.user.Ref, e.perm.Name, got, e.want)
		}
	}
	if got, want := p.RolesOf(ben), []string{"role:default/team-b", "role:default/viewer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("roles of ben %q", got)
	}
}

func TestDecideEdges(t *testing.T) {
	csvData := strings.Join([]string{
		"p, role:default/dev, catalog-entity, read, allow",
		"p, user:default/solo, catalog-entity, read, allow",
		"p, user:default/solo, catalog.entity.create, create, allow",
		"p, group:default/lone, catalog.entity.read, read, allow",
		"p, user:default/both, catalog.entity.create, create, allow",
		"p, role:default/ops, policy-entity, create, allow",
		"g, user:default/dev1, role:default/dev",
		"g, user:default/both, role:default/dev",
		"g, user:default/opsy, role:default/ops",
	}, "\n")
	yamlData := "result: CONDITIONAL\nroleEntityRef: role:default/dev\npluginId: catalog\nresourceType: catalog-entity\npermissionMapping: [read]\n" +
		"conditions: {rule: IS_ENTITY_OWNER, resourceType: catalog-entity, params: {claims: [$currentUser, group:default/x]}}\n"
	dev1 := Identity{Ref: "user:default/dev1"}
	tests := []struct {
		name string
		cfg  Config
		user Identity
		perm Permission
		want string
		note string
	}{
		{"conditional precedence", Config{}, dev1, CatalogEntityRead,
			`{"result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/dev1","group:default/x"]}}]}}`, ""},
		{"basic precedence: rows win", Config{Precedence: "basic"}, dev1, CatalogEntityRead, `{"result":"ALLOW"}`,
			"policyDecisionPrecedence is basic and rows match, so the conditional policies were not consulted"},
		// A user without roles is decided by rows naming the user or its
		// groups, and for a resource permission by its resource type only.
		{"direct rows without roles", Config{}, Identity{Ref: "user:default/solo"}, CatalogEntityRead, `{"result":"ALLOW"}`, ""},
		{"direct basic row", Config{}, Identity{Ref: "user:default/solo"}, CatalogEntityCreate, `{"result":"ALLOW"}`, ""},
		{"direct named resource row ignored", Config{}, Identity{Ref: "user:default/lo", OwnershipRefs: []string{"group:default/lone"}}, CatalogEntityRead, `{"result":"DENY"}`,
			"rbac-policy.csv:4 (p, group:default/lone, catalog.entity.read, read, allow) was not consulted: for a user without a role RHDH matches a resource permission by its resource type catalog-entity only"},
		{"direct rows ignored with a role", Config{}, Identity{Ref: "user:default/both"}, CatalogEntityCreate, `{"result":"DENY"}`,
			"rbac-policy.csv:5 (p, user:default/both, catalog.entity.create, create, allow) names user:default/both directly and was not consulted: RHDH consults rows of users and groups only for users without a role"},
		{"policy.entity.create by resource type", Config{}, Identity{Ref: "user:default/opsy"}, PolicyEntityCreate, `{"result":"ALLOW"}`, ""},
		{"default role", Config{DefaultRole: "role:default/everyone", DefaultPermissions: []DefaultPermission{{"catalog.location.read", "read"}}},
			carol, CatalogLocationRead, `{"result":"ALLOW"}`, ""},
		{"super user by name is case-insensitive", Config{SuperUsers: []string{"User:default/Carol"}}, carol, CatalogLocationDelete, `{"result":"ALLOW"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cfg.Load([]byte(csvData), []byte(yamlData))
			if err != nil {
				t.Fatal(err)
			}
			d := p.Decide(tt.user, tt.perm)
			if got := decisionJSON(t, d); got != tt.want {
				t.Errorf("decision %s\nwant     %s", got, tt.want)
			}
			notes := strings.Join(d.Explanation.Notes, "\n")
			if notes != tt.note {
				t.Errorf("notes %q\nwant  %q", notes, tt.note)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := Config{
		AdminUsers: []string{"user:admin"}, SuperUsers: []string{"role:default/x"},
		Precedence: "first", DefaultRole: "group:default/all",
	}.Load(nil, nil)
	want := strings.Join([]string{
		"app-config: permission.rbac.policyDecisionPrecedence is \"first\"; it must be conditional or basic",
		"app-config: permission.rbac.admin.superUsers[0].name: entity reference \"role:default/x\" has kind \"role\"; it should be \"user\" or \"group\"",
		"app-config: permission.rbac.admin.users[0].name: entity reference \"user:admin\" is not in the full form <kind>:<namespace>/<name>",
		"app-config: permission.rbac.defaultPermissions.defaultRole: entity reference \"group:default/all\" has kind \"group\"; it should be \"role\"",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// A broken file fails Load whole, with both files' errors, so the caller
// keeps the last good policy in force.
func TestLoadBrokenKeepsNothing(t *testing.T) {
	p, err := Load([]byte("p, role:default/a, catalog-entity, read, allow\np, oops"), []byte("result: CONDITIONAL\n"))
	if p != nil {
		t.Error("a policy from a broken file")
	}
	les := LineErrors(err)
	if len(les) < 2 || les[0].File != "rbac-policy.csv" || les[0].Line != 2 || les[len(les)-1].File != "rbac-conditional-policies.yaml" {
		t.Errorf("errors %v", les)
	}
}

func TestApplyToAndPredicate(t *testing.T) {
	p := loadTestdata(t, "worked-example", Config{})
	d := p.Decide(alice, CatalogEntityDelete)
	mine := entity("Component", "svc", "group:default/engineering", nil, nil)
	theirs := entity("Component", "other", "group:default/sales", nil, nil)
	if got := d.ApplyTo(mine); got.Result != Allow || got.Explanation.Reason != ReasonConditionsMet ||
		got.Explanation.Summary() != "allowed: the conditions of worked-example.yaml:2 (document 1, role:default/developer, catalog-entity [delete]) hold" {
		t.Errorf("mine: %v %q", got.Result, got.Explanation.Summary())
	}
	if got := d.ApplyTo(theirs); got.Result != Deny || got.Explanation.Reason != ReasonConditionsNotMet ||
		got.Explanation.Summary() != "denied: the conditions of worked-example.yaml:2 (document 1, role:default/developer, catalog-entity [delete]) do not hold" {
		t.Errorf("theirs: %v %q", got.Result, got.Explanation.Summary())
	}
	if d.Result != Conditional {
		t.Error("ApplyTo changed the decision it was called on")
	}
	pred, err := d.Predicate()
	if err != nil {
		t.Fatal(err)
	}
	if got := predString(pred); got != "any(relations.ownedBy in [user:default/alice group:default/engineering])" {
		t.Errorf("predicate %s", got)
	}
	if pred, _ := p.Decide(alice, CatalogEntityRead).Predicate(); pred != nil {
		t.Errorf("allow predicate %v", pred)
	}
	if pred, _ := p.Decide(carol, CatalogEntityRead).Predicate(); predString(pred) != "any()" {
		t.Errorf("deny predicate %v", predString(pred))
	}
}

func TestAuthorizeItem(t *testing.T) {
	p := loadTestdata(t, "worked-example", Config{})
	items := []AuthorizeItem{
		p.Decide(alice, CatalogEntityRead).Item("1"),
		p.Decide(alice, CatalogEntityDelete).Item("2"),
		p.Decide(carol, CatalogEntityRead).Item("3"),
	}
	b, err := json.Marshal(map[string]any{"items": items})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"items":[{"id":"1","result":"ALLOW"},` +
		`{"id":"2","result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/alice","group:default/engineering"]}}]}},` +
		`{"id":"3","result":"DENY"}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if strings.Contains(string(b), "worked-example") {
		t.Error("the wire form names policy files")
	}
}

func TestPermissionJSON(t *testing.T) {
	for _, perm := range []Permission{CatalogEntityDelete, CatalogEntityCreate, ScaffolderActionExecute} {
		b, err := json.Marshal(perm)
		if err != nil {
			t.Fatal(err)
		}
		var back Permission
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		back.PluginID = perm.PluginID
		if back != perm {
			t.Errorf("%s: round trip %+v", b, back)
		}
	}
	b, _ := json.Marshal(CatalogEntityDelete)
	if string(b) != `{"type":"resource","name":"catalog.entity.delete","attributes":{"action":"delete"},"resourceType":"catalog-entity"}` {
		t.Errorf("wire %s", b)
	}
	b, _ = json.Marshal(ScaffolderActionExecute)
	if string(b) != `{"type":"resource","name":"scaffolder.action.execute","attributes":{},"resourceType":"scaffolder-action"}` {
		t.Errorf("wire %s", b)
	}
	for _, bad := range []string{
		`{"type":"basic","name":"x","attributes":{},"resourceType":"catalog-entity"}`,
		`{"type":"resource","name":"x","attributes":{}}`,
		`{"type":"other","name":"x"}`,
		`{"type":"basic","name":"x","attributes":{"action":"use"}}`,
		`{"type":"basic","name":"x","attributes":{"color":"red"}}`,
		`{"type":"basic","name":"","attributes":{}}`,
	} {
		var p Permission
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Catalogue() {
		if seen[p.Name] {
			t.Errorf("%s twice", p.Name)
		}
		seen[p.Name] = true
		if p.IsResource() != (p.ResourceType != "") || p.PluginID == "" {
			t.Errorf("%+v", p)
		}
	}
	if got, ok := Lookup("scaffolder.task.cancel"); !ok || got.PolicyAction() != "use" || got.ResourceType != ResourceScaffolderTask {
		t.Errorf("lookup %+v", got)
	}
	var names []string
	for _, p := range PluginPermissions("scaffolder") {
		names = append(names, p.Name)
	}
	if strings.Join(names, " ") != "scaffolder.action.execute scaffolder.template.parameter.read scaffolder.template.step.read scaffolder.template.management scaffolder.task.create scaffolder.task.read scaffolder.task.cancel" {
		t.Errorf("scaffolder permissions %q", names)
	}
}

func TestRoles(t *testing.T) {
	p := loadTestdata(t, "teams", Config{AdminUsers: []string{"Group:default/Platform"}})
	var got []string
	for _, r := range p.Roles() {
		var members []string
		for _, m := range r.Members {
			members = append(members, m.Member)
		}
		got = append(got, fmt.Sprintf("%s members=%v rows=%d conditions=%d", r.Ref, members, len(r.Rows), len(r.Conditions)))
	}
	want := []string{
		"role:default/rbac_admin members=[group:default/platform] rows=7 conditions=0",
		"role:default/team-a members=[group:default/team-a] rows=4 conditions=2",
		"role:default/team-b members=[group:default/team-b] rows=5 conditions=1",
		"role:default/viewer members=[user:default/dave group:default/team-b] rows=2 conditions=0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
