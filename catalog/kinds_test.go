package catalog

import (
	"strings"
	"testing"
)

// entityDoc builds a document of the given apiVersion and kind named x, with
// the given spec (a YAML flow or block value; "" means no spec at all).
func entityDoc(apiVersion, kind, spec string) string {
	doc := "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: x}\n"
	if spec != "" {
		doc += "spec: " + spec + "\n"
	}
	return doc
}

// The expected messages below were checked against Backstage's own
// packages (the oracle's validate.mjs, see oracle README §4.3).
func TestKindValidators(t *testing.T) {
	const v1 = APIVersionV1alpha1
	builtin := func(kind, cause string) string {
		return kindErr("BuiltinKindsEntityProcessor", strings.ToLower(kind)+":default/x", cause)
	}
	notRecognized := func(ref string) string {
		return "InputError: No processor recognized the entity " + ref + " as valid, possibly caused by a foreign kind or apiVersion"
	}
	tests := []processCase{
		// Component
		{name: "Component minimal", yaml: entityDoc(v1, "Component", "{type: service, lifecycle: production, owner: team-a}")},
		{name: "Component v1beta1", yaml: entityDoc(APIVersionV1beta1, "Component", "{type: service, lifecycle: production, owner: team-a}")},
		{name: "Component full", yaml: entityDoc(v1, "Component",
			"{type: service, lifecycle: production, owner: team-a, system: s, subcomponentOf: c, providesApis: [a], consumesApis: [b], dependsOn: ['resource:r'], dependencyOf: ['component:y']}")},
		{name: "Component extra spec fields are kept", yaml: entityDoc(v1, "Component", "{type: service, lifecycle: production, owner: team-a, anything: [1, 2]}")},
		{name: "Component without spec", yaml: entityDoc(v1, "Component", ""),
			wantErr: builtin("Component", "<root> must have required property 'spec' - missingProperty: spec")},
		{name: "Component without type", yaml: entityDoc(v1, "Component", "{lifecycle: production, owner: team-a}"),
			wantErr: builtin("Component", "/spec must have required property 'type' - missingProperty: type")},
		{name: "Component without lifecycle", yaml: entityDoc(v1, "Component", "{type: service, owner: team-a}"),
			wantErr: builtin("Component", "/spec must have required property 'lifecycle' - missingProperty: lifecycle")},
		{name: "Component without owner", yaml: entityDoc(v1, "Component", "{type: service, lifecycle: production}"),
			wantErr: builtin("Component", "/spec must have required property 'owner' - missingProperty: owner")},
		{name: "Component with empty spec reports type first", yaml: entityDoc(v1, "Component", "{}"),
			wantErr: builtin("Component", "/spec must have required property 'type' - missingProperty: type")},
		{name: "Component with empty system", yaml: entityDoc(v1, "Component", `{type: service, lifecycle: production, owner: team-a, system: ""}`),
			wantErr: builtin("Component", "/spec/system must NOT have fewer than 1 characters - limit: 1")},
		{name: "Component with numeric owner", yaml: entityDoc(v1, "Component", "{type: service, lifecycle: production, owner: 1}"),
			wantErr: builtin("Component", "/spec/owner must be string - type: string")},
		{name: "Component with providesApis string", yaml: entityDoc(v1, "Component", "{type: service, lifecycle: production, owner: team-a, providesApis: a}"),
			wantErr: builtin("Component", "/spec/providesApis must be array - type: array")},
		{name: "Component with non-string consumesApis item", yaml: entityDoc(v1, "Component", "{type: service, lifecycle: production, owner: team-a, consumesApis: [a, 1]}"),
			wantErr: builtin("Component", "/spec/consumesApis/1 must be string - type: string")},
		{name: "Component with empty dependsOn item", yaml: entityDoc(v1, "Component", `{type: service, lifecycle: production, owner: team-a, dependsOn: [""]}`),
			wantErr: builtin("Component", "/spec/dependsOn/0 must NOT have fewer than 1 characters - limit: 1")},
		{name: "Component lower-case kind is not recognized", yaml: entityDoc(v1, "component", "{type: service, lifecycle: production, owner: team-a}"),
			wantErr: notRecognized("component:default/x")},
		{name: "Component unknown apiVersion is not recognized", yaml: entityDoc("backstage.io/v2", "Component", "{type: service, lifecycle: production, owner: team-a}"),
			wantErr: notRecognized("component:default/x")},
		// API
		{name: "API minimal", yaml: entityDoc(v1, "API", "{type: openapi, lifecycle: production, owner: team-a, definition: 'openapi: 3.0.0'}")},
		{name: "API without definition", yaml: entityDoc(v1, "API", "{type: openapi, lifecycle: production, owner: team-a}"),
			wantErr: builtin("API", "/spec must have required property 'definition' - missingProperty: definition")},
		{name: "API without type", yaml: entityDoc(v1, "API", "{lifecycle: production, owner: team-a, definition: x}"),
			wantErr: builtin("API", "/spec must have required property 'type' - missingProperty: type")},
		{name: "API without lifecycle", yaml: entityDoc(v1, "API", "{type: openapi, owner: team-a, definition: x}"),
			wantErr: builtin("API", "/spec must have required property 'lifecycle' - missingProperty: lifecycle")},
		{name: "API without owner", yaml: entityDoc(v1, "API", "{type: openapi, lifecycle: production, definition: x}"),
			wantErr: builtin("API", "/spec must have required property 'owner' - missingProperty: owner")},
		{name: "API with object definition", yaml: entityDoc(v1, "API", "{type: openapi, lifecycle: production, owner: team-a, definition: {openapi: 3.0.0}}"),
			wantErr: builtin("API", "/spec/definition must be string - type: string")},
		{name: "API with empty definition", yaml: entityDoc(v1, "API", `{type: openapi, lifecycle: production, owner: team-a, definition: ""}`),
			wantErr: builtin("API", "/spec/definition must NOT have fewer than 1 characters - limit: 1")},
		// Resource
		{name: "Resource minimal", yaml: entityDoc(v1, "Resource", "{type: database, owner: team-a}")},
		{name: "Resource without type", yaml: entityDoc(v1, "Resource", "{owner: team-a}"),
			wantErr: builtin("Resource", "/spec must have required property 'type' - missingProperty: type")},
		{name: "Resource without owner", yaml: entityDoc(v1, "Resource", "{type: database}"),
			wantErr: builtin("Resource", "/spec must have required property 'owner' - missingProperty: owner")},
		{name: "Resource with dependsOn string", yaml: entityDoc(v1, "Resource", "{type: database, owner: team-a, dependsOn: 'resource:x'}"),
			wantErr: builtin("Resource", "/spec/dependsOn must be array - type: array")},
		// System
		{name: "System minimal", yaml: entityDoc(v1, "System", "{owner: team-a}")},
		{name: "System with domain and type", yaml: entityDoc(v1, "System", "{owner: team-a, domain: d, type: product}")},
		{name: "System without owner", yaml: entityDoc(v1, "System", "{}"),
			wantErr: builtin("System", "/spec must have required property 'owner' - missingProperty: owner")},
		{name: "System with list domain", yaml: entityDoc(v1, "System", "{owner: team-a, domain: [d]}"),
			wantErr: builtin("System", "/spec/domain must be string - type: string")},
		// Domain
		{name: "Domain minimal", yaml: entityDoc(v1, "Domain", "{owner: team-a}")},
		{name: "Domain with subdomainOf", yaml: entityDoc(v1, "Domain", "{owner: team-a, subdomainOf: d}")},
		{name: "Domain without owner", yaml: entityDoc(v1, "Domain", "{}"),
			wantErr: builtin("Domain", "/spec must have required property 'owner' - missingProperty: owner")},
		{name: "Domain with empty subdomainOf", yaml: entityDoc(v1, "Domain", `{owner: team-a, subdomainOf: ""}`),
			wantErr: builtin("Domain", "/spec/subdomainOf must NOT have fewer than 1 characters - limit: 1")},
		// Group
		{name: "Group minimal with empty children", yaml: entityDoc(v1, "Group", "{type: team, children: []}")},
		{name: "Group full", yaml: entityDoc(v1, "Group",
			"{type: team, children: [a], parent: org, members: [u], profile: {displayName: A, email: a@example.com, picture: 'https://x/p.png'}}")},
		{name: "Group without type", yaml: entityDoc(v1, "Group", "{children: []}"),
			wantErr: builtin("Group", "/spec must have required property 'type' - missingProperty: type")},
		{name: "Group without children", yaml: entityDoc(v1, "Group", "{type: team}"),
			wantErr: builtin("Group", "/spec must have required property 'children' - missingProperty: children")},
		{name: "Group with string members", yaml: entityDoc(v1, "Group", "{type: team, children: [], members: u}"),
			wantErr: builtin("Group", "/spec/members must be array - type: array")},
		{name: "Group with empty profile email", yaml: entityDoc(v1, "Group", `{type: team, children: [], profile: {email: ""}}`),
			wantErr: builtin("Group", "/spec/profile/email must NOT have fewer than 1 characters - limit: 1")},
		{name: "Group with list parent", yaml: entityDoc(v1, "Group", "{type: team, children: [], parent: [a]}"),
			wantErr: builtin("Group", "/spec/parent must be string - type: string")},
		// User
		{name: "User minimal with empty memberOf", yaml: entityDoc(v1, "User", "{memberOf: []}")},
		{name: "User with profile", yaml: entityDoc(v1, "User", "{memberOf: [a], profile: {displayName: J, email: j@example.com}}")},
		{name: "User without memberOf", yaml: entityDoc(v1, "User", "{}"),
			wantErr: builtin("User", "/spec must have required property 'memberOf' - missingProperty: memberOf")},
		{name: "User with string memberOf", yaml: entityDoc(v1, "User", "{memberOf: a}"),
			wantErr: builtin("User", "/spec/memberOf must be array - type: array")},
		{name: "User with profile that is a string", yaml: entityDoc(v1, "User", "{memberOf: [], profile: x}"),
			wantErr: builtin("User", "/spec/profile must be object - type: object")},
		// Location
		{name: "Location with empty spec", yaml: entityDoc(v1, "Location", "{}")},
		{name: "Location with target and presence", yaml: entityDoc(v1, "Location", "{target: ./x.yaml, presence: optional}")},
		{name: "Location with bad presence", yaml: entityDoc(v1, "Location", "{target: ./x.yaml, presence: sometimes}"),
			wantErr: builtin("Location", "/spec/presence must be equal to one of the allowed values - allowedValues: required,optional")},
		{name: "Location with targets string", yaml: entityDoc(v1, "Location", "{targets: ./x.yaml}"),
			wantErr: builtin("Location", "/spec/targets must be array - type: array")},
		{name: "Location with empty target", yaml: entityDoc(v1, "Location", `{target: ""}`),
			wantErr: builtin("Location", "/spec/target must NOT have fewer than 1 characters - limit: 1")},
		{name: "Location without spec", yaml: entityDoc(v1, "Location", ""),
			wantErr: builtin("Location", "<root> must have required property 'spec' - missingProperty: spec")},
		// Unknown kinds
		{name: "unknown kind", yaml: entityDoc(v1, "Widget", "{}"), wantErr: notRecognized("widget:default/x")},
		{name: "unknown kind without spec", yaml: entityDoc(v1, "Widget", ""), wantErr: notRecognized("widget:default/x")},
	}
	runProcessCases(t, tests)
}

func TestTemplateValidator(t *testing.T) {
	const v3 = TemplateAPIVersion
	scaffolder := func(cause string) string {
		return kindErr("ScaffolderEntitiesProcessor", "template:default/x", cause)
	}
	runProcessCases(t, []processCase{
		{name: "minimal", yaml: entityDoc(v3, "Template", "{type: service, steps: []}")},
		{name: "full", yaml: entityDoc(v3, "Template", `
  type: service
  owner: team-a
  lifecycle: experimental
  parameters:
    - title: Fill in
      properties: {name: {type: string}}
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input: {url: ./skeleton}
      if: ${{ parameters.name }}
    - action: debug:log
      if: false
  output:
    links:
      - title: Repository
        url: https://example.com
    text:
      - title: Done
        content: ok
    remoteUrl: https://example.com`)},
		{name: "parameters may be one object", yaml: entityDoc(v3, "Template", "{type: service, steps: [], parameters: {title: x}}")},
		{name: "wrong apiVersion is not recognized", yaml: entityDoc(APIVersionV1alpha1, "Template", "{type: service, steps: []}"),
			wantErr: "InputError: No processor recognized the entity template:default/x as valid, possibly caused by a foreign kind or apiVersion"},
		{name: "v1beta2 is not recognized", yaml: entityDoc("scaffolder.backstage.io/v1beta2", "Template", "{type: service, steps: []}"),
			wantErr: "InputError: No processor recognized the entity template:default/x as valid, possibly caused by a foreign kind or apiVersion"},
		{name: "without steps", yaml: entityDoc(v3, "Template", "{type: service}"),
			wantErr: scaffolder("/spec must have required property 'steps' - missingProperty: steps")},
		{name: "without type", yaml: entityDoc(v3, "Template", "{steps: []}"),
			wantErr: scaffolder("/spec must have required property 'type' - missingProperty: type")},
		{name: "step without action", yaml: entityDoc(v3, "Template", "{type: service, steps: [{id: x}]}"),
			wantErr: scaffolder("/spec/steps/0 must have required property 'action' - missingProperty: action")},
		{name: "step input that is a string", yaml: entityDoc(v3, "Template", "{type: service, steps: [{action: a, input: x}]}"),
			wantErr: scaffolder("/spec/steps/0/input must be object - type: object")},
		{name: "step if that is a number", yaml: entityDoc(v3, "Template", "{type: service, steps: [{action: a, if: 1}]}"),
			wantErr: scaffolder("/spec/steps/0/if must be string,boolean - type: string,boolean")},
		{name: "steps that are an object", yaml: entityDoc(v3, "Template", "{type: service, steps: {action: a}}"),
			wantErr: scaffolder("/spec/steps must be array - type: array")},
		{name: "parameters that are a string", yaml: entityDoc(v3, "Template", "{type: service, steps: [], parameters: x}"),
			wantErr: scaffolder("/spec/parameters must be object - type: object")},
		{name: "output value that is a number", yaml: entityDoc(v3, "Template", "{type: service, steps: [], output: {count: 1}}"),
			wantErr: scaffolder("/spec/output/count must be string - type: string")},
		{name: "output link with empty url", yaml: entityDoc(v3, "Template", `{type: service, steps: [], output: {links: [{url: ""}]}}`),
			wantErr: scaffolder("/spec/output/links/0/url must NOT have fewer than 1 characters - limit: 1")},
		{name: "empty owner", yaml: entityDoc(v3, "Template", `{type: service, owner: "", steps: []}`),
			wantErr: scaffolder("/spec/owner must NOT have fewer than 1 characters - limit: 1")},
	})
}
