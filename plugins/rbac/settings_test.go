package rbac

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/plugins"
)

func configOf(t *testing.T, doc string) *plugins.Config {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	return plugins.NewConfig(raw)
}

func TestReadSettings(t *testing.T) {
	cfg := configOf(t, `
permission:
  enabled: true
  rbac:
    policies-csv-file: /opt/rbac/policy.csv
    conditionalPoliciesFile: /opt/rbac/conditions.yaml
    policyFileReload: true
    pluginsWithPermission: [catalog, scaffolder]
    maxDepth: 2
    policyDecisionPrecedence: basic
    useOwnershipEntityRefs: true
    admin:
      users: [{name: user:default/admin}, {name: group:default/platform}]
      superUsers: [{name: user:default/root}]
    defaultPermissions:
      defaultRole: role:default/everyone
      basicPermissions: [{permission: catalog-entity, action: read}]
    conditionalMetadataRetry: {maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100}
    validation:
      conditionalPolicies: {maxConditionDepth: 4, maxConditionNodeCount: 20, maxCriteriaItems: 5}
      conditionalPoliciesFile: {maxBytes: 4096, maxDocuments: 8}
`)
	s, err := ReadSettings(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled || !s.RBAC.PolicyFileReload || *s.RBAC.MaxDepth != 2 || !s.RBAC.UseOwnershipEntityRefs ||
		!reflect.DeepEqual(s.RBAC.PluginsWithPermission, []string{"catalog", "scaffolder"}) {
		t.Errorf("settings %+v", s)
	}
	want := Config{
		CSVFile: "/opt/rbac/policy.csv", ConditionalFile: "/opt/rbac/conditions.yaml",
		AdminUsers: []string{"user:default/admin", "group:default/platform"}, SuperUsers: []string{"user:default/root"},
		DefaultRole: "role:default/everyone", DefaultPermissions: []DefaultPermission{{"catalog-entity", "read"}},
		Precedence: "basic",
		Limits:     Limits{MaxBytes: 4096, MaxDocuments: 8, MaxConditionDepth: 4, MaxConditionNodeCount: 20, MaxCriteriaItems: 5},
	}
	if got := s.Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("config\n got %+v\nwant %+v", got, want)
	}
	// The configured paths name the files in errors.
	_, err = s.Config().Load([]byte("p, x"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "/opt/rbac/policy.csv:1: ") {
		t.Errorf("error %v", err)
	}
}

func TestReadSettingsErrors(t *testing.T) {
	if s, err := ReadSettings(configOf(t, "app: {title: x}\n")); err != nil || s.Enabled {
		t.Errorf("absent: %+v, %v", s, err)
	}
	for doc, want := range map[string]string{
		"permission: {rbac: {policiesCsvFile: x}}\n":                 "config permission: unmarshal errors:\n  line 2: field policiesCsvFile not found in type rbac.RBACSettings",
		"permission: {rbac: {defaultUserAccess: {enabled: true}}}\n": "config permission.rbac.defaultUserAccess: this older form is not supported; use permission.rbac.defaultPermissions.{defaultRole, basicPermissions}",
		"permission: {rbac: {maxDepth: -1}}\n":                       "config permission.rbac.maxDepth: must be 0 or more",
		"permission: {rbac: {admin: {users: [user:default/a]}}}\n":   "config permission: unmarshal errors:\n  line 4: cannot unmarshal !!str `user:de...` into rbac.NamedRef",
	} {
		_, err := ReadSettings(configOf(t, doc))
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v\nwant %s", doc, err, want)
		}
	}
}
