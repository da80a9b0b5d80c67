package rbac

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseCSVRows(t *testing.T) {
	data := "# comment\n\n" +
		"p, role:default/team_a, catalog-entity, read, allow\r\n" +
		`p,role:default/team_a,"catalog.entity.create",create,deny` + "\n" +
		"  g, User:default/Bob, role:default/team_a  \n" +
		"p, user:default/bob, kubernetes.proxy, use, allow"
	f, err := parseCSV("p.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	wantP := []PolicyRow{
		{Source: Source{"p.csv", 3, "p, role:default/team_a, catalog-entity, read, allow"}, Subject: "role:default/team_a", Object: "catalog-entity", Action: "read", Effect: "allow"},
		{Source: Source{"p.csv", 4, `p,role:default/team_a,"catalog.entity.create",create,deny`}, Subject: "role:default/team_a", Object: "catalog.entity.create", Action: "create", Effect: "deny"},
		{Source: Source{"p.csv", 6, "p, user:default/bob, kubernetes.proxy, use, allow"}, Subject: "user:default/bob", Object: "kubernetes.proxy", Action: "use", Effect: "allow"},
	}
	if !reflect.DeepEqual(f.policies, wantP) {
		t.Errorf("policies:\n got %+v\nwant %+v", f.policies, wantP)
	}
	wantG := []RoleRow{{Source: Source{"p.csv", 5, "g, User:default/Bob, role:default/team_a"}, Member: "user:default/bob", Role: "role:default/team_a"}}
	if !reflect.DeepEqual(f.roles, wantG) {
		t.Errorf("roles:\n got %+v\nwant %+v", f.roles, wantG)
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"row type", "x, a, b", `p.csv:1: row type "x" is neither p (a policy) nor g (a role member)`},
		{"p fields", "p, role:default/a, catalog-entity, read", "p.csv:1: a p row has 5 fields (p, subject, permission or resource type, action, effect); this one has 4"},
		{"g fields", "g, user:default/a, role:default/b, x", "p.csv:1: a g row has 3 fields (g, user or group, role); this one has 4"},
		{"short ref", "p, role:a, catalog-entity, read, allow", `p.csv:1: subject: entity reference "role:a" is not in the full form <kind>:<namespace>/<name>`},
		{"subject kind", "p, component:default/a, catalog-entity, read, allow", `p.csv:1: subject: entity reference "component:default/a" has kind "component"; it should be "user", "group" or "role"`},
		{"bad name", "p, role:default/a--b, catalog-entity, read, allow", `p.csv:1: subject: the name "a--b" in "role:default/a--b" must be sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total`},
		{"bad namespace", "p, role:Default/a, catalog-entity, read, allow", `p.csv:1: subject: the namespace "Default" in "role:Default/a" must be sequences of [a-z0-9] separated by [-], at most 63 characters in total`},
		{"empty permission", "p, role:default/a, , read, allow", "p.csv:1: the permission field is empty"},
		{"quote in permission", `p, role:default/a, "cat""x", read, allow`, `p.csv:1: the permission cat"x contains a double quote, which RHDH does not support`},
		{"action", "p, role:default/a, catalog-entity, write, allow", `p.csv:1: action "write" is not one of create, read, update, delete, use`},
		{"effect", "p, role:default/a, catalog-entity, read, Allow", `p.csv:1: effect "Allow" is not allow or deny`},
		{"inline comment", "p, role:default/a, catalog-entity, read, allow # note", `p.csv:1: effect "allow # note" is not allow or deny (a # comment must be on a line of its own)`},
		{"malformed", `p, role:default/a, "catalog-entity, read, allow`, `p.csv:1: malformed CSV: extraneous or missing " in quoted-field`},
		{"role member", "g, role:default/a, role:default/b", "p.csv:1: role:default/a cannot be a member of role:default/b: roles do not inherit roles"},
		{"group to group", "g, group:default/a, group:default/b", "p.csv:1: group:default/a cannot be made a member of group:default/b here: group membership comes from the catalog"},
		{"user to user", "g, group:default/a, user:default/b", "p.csv:1: user:default/b is not a role (role:<namespace>/<name>)"},
		{"duplicate p", "p, role:default/a, catalog-entity, read, allow\n\np, role:default/a, catalog-entity, read, allow", "p.csv:3: duplicate policy: the same row is at line 1"},
		{"opposite effect", "p, role:default/a, catalog-entity, read, allow\np, role:default/a, catalog-entity, read, deny", "p.csv:2: policy role:default/a, catalog-entity, read has effect deny here and allow at line 1; keep one"},
		{"duplicate g", "g, user:default/a, role:default/b\ng, User:default/A, role:default/b", "p.csv:2: duplicate role: user:default/a is given role:default/b at line 1 already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCSV("p.csv", []byte(tt.data))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			if les := LineErrors(err); len(les) != 1 || les[0].File != "p.csv" {
				t.Errorf("LineErrors = %+v", les)
			}
		})
	}
}

// Every bad row is reported, not only the first, and good rows around
// them do not hide them.
func TestParseCSVReportsEveryBadRow(t *testing.T) {
	data := "p, role:default/a, catalog-entity, read, allow\np, role:default/a, x, nope, allow\ng, role:default/a, role:default/b\n"
	_, err := Config{CSVFile: "/etc/rbac/policy.csv"}.Load([]byte(data), nil)
	les := LineErrors(err)
	var got []string
	for _, le := range les {
		got = append(got, le.Error())
	}
	want := []string{
		`/etc/rbac/policy.csv:2: action "nope" is not one of create, read, update, delete, use`,
		"/etc/rbac/policy.csv:3: role:default/a cannot be a member of role:default/b: roles do not inherit roles",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestLoadTestdata(t *testing.T) {
	want := map[string][]string{
		// RHDH's README asks for an allow row in every role; the
		// contractor role of its worked example has only a deny.
		"worked-example": {"worked-example.csv:7 (g, user:default/bob, role:default/contractor): role:default/contractor allows nothing (no allow row, no conditional policy)"},
		"teams":          nil,
	}
	for name, w := range want {
		p := loadTestdata(t, name, Config{})
		if got := p.Warnings(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: warnings %q, want %q", name, got, w)
		}
	}
}

func loadTestdata(t *testing.T, name string, cfg Config) *Policy {
	t.Helper()
	csvData, err := os.ReadFile("testdata/" + name + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	yamlData, err := os.ReadFile("testdata/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.CSVFile, cfg.ConditionalFile = name+".csv", name+".yaml"
	p, err := cfg.Load(csvData, yamlData)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return p
}

func TestWarnings(t *testing.T) {
	data := strings.Join([]string{
		"p, role:default/a, catalog.entity.reed, read, allow",
		"p, role:default/a, catalog.entity.read, update, allow",
		"p, role:default/a, catalog-entity, use, allow",
		"p, role:default/lonely, catalog-entity, read, allow",
		"g, user:default/x, role:default/a",
		"g, user:default/y, role:default/denier",
		"p, role:default/denier, catalog-entity, read, deny",
	}, "\n")
	conds := "result: CONDITIONAL\nroleEntityRef: role:default/a\npluginId: catalog\nresourceType: catalog-entity\npermissionMapping: [use, update]\n" +
		"conditions: {rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}\n---\n" +
		"result: CONDITIONAL\nroleEntityRef: role:default/a\npluginId: k8s\nresourceType: kubernetes-cluster\npermissionMapping: [read]\n" +
		"conditions: {rule: X, resourceType: kubernetes-cluster}\n"
	p, err := Load([]byte(data), []byte(conds))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"rbac-policy.csv:1 (p, role:default/a, catalog.entity.reed, read, allow): catalog.entity.reed is neither a permission nor a resource type Greenroom knows; only other clients' permissions can match it",
		"rbac-policy.csv:2 (p, role:default/a, catalog.entity.read, update, allow): catalog.entity.read is decided with the action read, so a row with update never applies to it",
		"rbac-policy.csv:3 (p, role:default/a, catalog-entity, use, allow): no permission of catalog-entity that Greenroom knows has the action use",
		"rbac-conditional-policies.yaml:1 (document 1, role:default/a, catalog-entity [use, update]): no permission of catalog-entity that Greenroom knows matches use",
		"rbac-conditional-policies.yaml:8 (document 2, role:default/a, kubernetes-cluster [read]): Greenroom has no permission of the resource type kubernetes-cluster",
		"rbac-policy.csv:6 (g, user:default/y, role:default/denier): role:default/denier allows nothing (no allow row, no conditional policy)",
		"rbac-policy.csv:4 (p, role:default/lonely, catalog-entity, read, allow): role:default/lonely has no members (no g row names it)",
	}
	if got := p.Warnings(); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
