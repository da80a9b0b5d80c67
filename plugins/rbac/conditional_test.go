package rbac

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseConditionalTeams(t *testing.T) {
	p := loadTestdata(t, "teams", Config{})
	got := p.ConditionalPolicies()
	if len(got) != 3 {
		t.Fatalf("%d policies", len(got))
	}
	type summary struct {
		Doc, Line                   int
		Role, Plugin, Type, Mapping string
		Conditions                  string
	}
	var sums []summary
	for _, c := range got {
		b, err := json.Marshal(c.Conditions)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, summary{c.Document, c.Line, c.Role, c.PluginID, c.ResourceType, c.mappingText(), string(b)})
	}
	want := []summary{
		{1, 2, "role:default/team-a", "catalog", "catalog-entity", "[read]",
			`{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["$ownerRefs"]}},{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["API"]}}]}`},
		{2, 18, "role:default/team-a", "catalog", "catalog-entity", "[delete]",
			`{"allOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["$ownerRefs"]}},{"not":{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"protected"}}}]}`},
		{3, 35, "role:default/team-b", "scaffolder", "scaffolder-task", "[scaffolder.task.read/read]",
			`{"rule":"IS_TASK_OWNER","resourceType":"scaffolder-task","params":{"createdBy":["$currentUser"]}}`},
	}
	if !reflect.DeepEqual(sums, want) {
		t.Errorf("got\n%+v\nwant\n%+v", sums, want)
	}
}

const docHead = "result: CONDITIONAL\nroleEntityRef: role:default/a\npluginId: catalog\nresourceType: catalog-entity\npermissionMapping: [read]\n"

func TestParseConditionalErrors(t *testing.T) {
	leaf := "conditions:\n  rule: IS_ENTITY_KIND\n  resourceType: catalog-entity\n  params: {kinds: [API]}\n"
	deep := "conditions:\n" + strings.Repeat("  ", 0)
	for i := 0; i < 12; i++ {
		deep += strings.Repeat("  ", i+1) + "not:\n"
	}
	deep += strings.Repeat("  ", 13) + "{rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}\n"
	many := "conditions:\n  anyOf:\n" + strings.Repeat("    - {rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}\n", 65)
	tests := []struct {
		name, data, want string
	}{
		{"not a mapping", "- a\n- b\n", "c.yaml:1: document 1: a conditional policy is a mapping (result, roleEntityRef, pluginId, resourceType, permissionMapping, conditions)"},
		{"unknown key", docHead + "permissionMappings: [read]\n" + leaf, `c.yaml:6: document 1: unknown key "permissionMappings" (a conditional policy has result, roleEntityRef, pluginId, resourceType, permissionMapping and conditions)`},
		{"result", strings.Replace(docHead, "CONDITIONAL", "ALLOW", 1) + leaf, `c.yaml:1: document 1: result is "ALLOW"; it must be CONDITIONAL`},
		{"no role", strings.Replace(docHead, "roleEntityRef: role:default/a\n", "", 1) + leaf, `c.yaml:1: document 1: "roleEntityRef" must be specified`},
		{"role kind", strings.Replace(docHead, "role:default/a", "group:default/a", 1) + leaf, `c.yaml:2: document 1: roleEntityRef: entity reference "group:default/a" has kind "group"; it should be "role"`},
		{"empty plugin", strings.Replace(docHead, "pluginId: catalog", "pluginId: ''", 1) + leaf, `c.yaml:3: document 1: "pluginId" must be a non-empty string`},
		{"mapping empty", strings.Replace(docHead, "[read]", "[]", 1) + leaf, "c.yaml:5: document 1: permissionMapping must be a non-empty list of actions (create, read, update, delete, use)"},
		{"mapping action", strings.Replace(docHead, "[read]", "[read, write]", 1) + leaf, `c.yaml:5: document 1: permissionMapping contains "write", which is not an action (create, read, update, delete, use)`},
		{"mapping twice", strings.Replace(docHead, "[read]", "[read, read]", 1) + leaf, `c.yaml:5: document 1: permissionMapping must not contain the action "read" twice`},
		{"mapping mix", strings.Replace(docHead, "[read]", "[{name: catalog.entity.read, action: read}, delete]", 1) + leaf, "c.yaml:5: document 1: permissionMapping must be either all action strings or all {name, action} objects, not a mix"},
		{"mapping no name", strings.Replace(docHead, "[read]", "[{action: read}]", 1) + leaf, "c.yaml:5: document 1: permissionMapping entry has an empty permission name"},
		{"policy-entity create", strings.Replace(strings.Replace(docHead, "[read]", "[create]", 1), "catalog-entity", "policy-entity", 1) + "conditions: {rule: IS_OWNER, resourceType: policy-entity, params: {owners: [x]}}\n",
			`c.yaml:5: document 1: a conditional policy cannot be made for resource type "policy-entity" with the action "create"`},
		{"no conditions", docHead, `c.yaml:1: document 1: "conditions" must be specified`},
		{"siblings", docHead + "conditions:\n  anyOf: [{rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}]\n  not: {rule: HAS_LABEL, resourceType: catalog-entity, params: {label: y}}\n",
			"c.yaml:7: document 1: conditions: anyOf and not side by side are not supported; nest one inside the other"},
		{"rule beside", docHead + "conditions:\n  rule: HAS_LABEL\n  resourceType: catalog-entity\n  not: {rule: HAS_LABEL, resourceType: catalog-entity, params: {label: y}}\n",
			`c.yaml:7: document 1: conditions: not beside rule "HAS_LABEL" is not supported; nest them`},
		{"empty allOf", docHead + "conditions:\n  allOf: []\n", "c.yaml:7: document 1: conditions.allOf must be a non-empty list"},
		{"no rule", docHead + "conditions:\n  anyOf:\n    - resourceType: catalog-entity\n", "c.yaml:8: document 1: conditions.anyOf[0]: 'rule' must be specified in the condition"},
		{"no resource type", docHead + "conditions:\n  rule: HAS_LABEL\n  params: {label: x}\n", "c.yaml:7: document 1: conditions: 'resourceType' must be specified in the condition"},
		{"other resource type", docHead + "conditions:\n  rule: HAS_TAG\n  resourceType: scaffolder-template\n  params: {tag: x}\n", `c.yaml:8: document 1: conditions: resourceType "scaffolder-template" differs from the policy's "catalog-entity"`},
		{"unknown rule", docHead + "conditions:\n  not:\n    rule: HAS_RELATION\n    resourceType: catalog-entity\n",
			`c.yaml:8: document 1: conditions.not: permission rule "HAS_RELATION" does not exist for resource type "catalog-entity" (its rules: HAS_ANNOTATION, HAS_LABEL, HAS_METADATA, HAS_SPEC, IS_ENTITY_KIND, IS_ENTITY_OWNER)`},
		{"missing param", docHead + "conditions:\n  rule: IS_ENTITY_OWNER\n  resourceType: catalog-entity\n", `c.yaml:7: document 1: conditions: rule IS_ENTITY_OWNER needs the parameter "claims"`},
		{"misspelt param", docHead + "conditions:\n  rule: IS_ENTITY_OWNER\n  resourceType: catalog-entity\n  params: {claim: [$ownerRefs]}\n", `c.yaml:7: document 1: conditions: rule IS_ENTITY_OWNER has no parameter "claim" (its parameters: claims)`},
		{"param type", docHead + "conditions:\n  rule: IS_ENTITY_KIND\n  resourceType: catalog-entity\n  params: {kinds: API}\n", "c.yaml:7: document 1: conditions: rule IS_ENTITY_KIND: params.kinds: should be an array of strings"},
		{"param nested", docHead + "conditions:\n  rule: HAS_SPEC\n  resourceType: catalog-entity\n  params: {key: {a: b}}\n", "c.yaml:9: document 1: conditions.params.key: a parameter is a string, number, boolean, null or an array of those, not map[string]interface {}"},
		{"too deep", docHead + deep, "c.yaml:19: document 1: conditions.not.not.not.not.not.not.not.not.not.not.not.not: the conditions are nested deeper than 12 levels (permission.rbac.validation.conditionalPolicies.maxConditionDepth)"},
		{"too many items", docHead + many, "c.yaml:8: document 1: conditions.anyOf has more than 64 items (permission.rbac.validation.conditionalPolicies.maxCriteriaItems)"},
		{"second document", docHead + leaf + "---\n" + docHead + "conditions: {rule: HAS_LABEL}\n", "c.yaml:16: document 2: conditions: 'resourceType' must be specified in the condition"},
		{"collision", docHead + leaf + "---\n" + strings.Replace(docHead, "[read]", "[delete, read]", 1) + leaf,
			"c.yaml:11: document 2: role:default/a already has a conditional policy for catalog-entity read in document 1 (line 1); merge them with anyOf"},
		{"invalid yaml", docHead + "conditions: [\n", "c.yaml: invalid YAML: line 6: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConditional("c.yaml", []byte(tt.data), NewRules(), DefaultLimits())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseConditionalLimits(t *testing.T) {
	doc := docHead + "conditions: {rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}\n"
	big := strings.Repeat("# padding\n", 20) + doc
	if _, err := parseConditional("c.yaml", []byte(big), NewRules(), Limits{MaxBytes: 100}.withDefaults()); err == nil ||
		err.Error() != fmt.Sprintf("c.yaml: the file has %d bytes, more than the 100 allowed (permission.rbac.validation.conditionalPoliciesFile.maxBytes)", len(big)) {
		t.Errorf("maxBytes: %v", err)
	}
	three := doc + "---\n" + strings.Replace(doc, "[read]", "[update]", 1) + "---\n" + strings.Replace(doc, "[read]", "[delete]", 1)
	if _, err := parseConditional("c.yaml", []byte(three), NewRules(), Limits{MaxDocuments: 2}.withDefaults()); err == nil ||
		err.Error() != "c.yaml:15: more than 2 documents (permission.rbac.validation.conditionalPoliciesFile.maxDocuments)" {
		t.Errorf("maxDocuments: %v", err)
	}
	var nodes strings.Builder
	nodes.WriteString("conditions:\n  anyOf:\n")
	for i := 0; i < 4; i++ {
		nodes.WriteString("    - anyOf:\n")
		for j := 0; j < 64; j++ {
			nodes.WriteString("      - {rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}\n")
		}
	}
	_, err := parseConditional("c.yaml", []byte(docHead+nodes.String()), NewRules(), DefaultLimits())
	if err == nil || !strings.HasSuffix(err.Error(), "the conditions have more than 256 nodes (permission.rbac.validation.conditionalPolicies.maxConditionNodeCount)") ||
		strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("maxConditionNodeCount: %v", err)
	}
	// Empty documents (a leading ---) are skipped and not counted.
	ps, err := parseConditional("c.yaml", []byte("---\n---\n"+doc), NewRules(), DefaultLimits())
	if err != nil || len(ps) != 1 || ps[0].Document != 1 || ps[0].Line != 3 {
		t.Errorf("leading separators: %+v, %v", ps, err)
	}
}

// Conditions on a resource type Greenroom has no rules for (another
// product's plugin) load unchecked, as RHDH loads them.
func TestParseConditionalForeignResourceType(t *testing.T) {
	doc := strings.Replace(docHead, "catalog-entity", "kubernetes-cluster", 1) + "conditions: {rule: IS_CLUSTER, resourceType: kubernetes-cluster, params: {n: 1}}\n"
	ps, err := parseConditional("c.yaml", []byte(doc), NewRules(), DefaultLimits())
	if err != nil || len(ps) != 1 || ps[0].Conditions.Params["n"] != 1.0 {
		t.Fatalf("%+v, %v", ps, err)
	}
}
