package catalog

import (
	"reflect"
	"strings"
	"testing"
)

func edgeStrings(edges []Edge) []string {
	out := make([]string, 0, len(edges))
	for _, e := range edges {
		out = append(out, e.Source.String()+" -"+e.Type+"-> "+e.Target.String())
	}
	return out
}

// nsDoc is a document of the given kind named x in namespace ns.
func nsDoc(apiVersion, kind, ns, spec string) string {
	return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: x, namespace: " + ns + "}\nspec: " + spec + "\n"
}

// TestEmitRelations covers every row of relationFields: the default kind,
// the entity's namespace for refs without one, and the inverse edge. The
// expected edges were checked against the `emitted` output of Backstage's
// processors (oracle validate.mjs).
func TestEmitRelations(t *testing.T) {
	const v1 = APIVersionV1alpha1
	const comp = "{type: service, lifecycle: production, owner: 'user:admin', "
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "Component owner defaults to Group in own namespace", yaml: nsDoc(v1, "Component", "ns1", "{type: service, lifecycle: production, owner: team-a}"),
			want: []string{"component:ns1/x -ownedBy-> group:ns1/team-a", "group:ns1/team-a -ownerOf-> component:ns1/x"}},
		{name: "Component owner with kind and namespace", yaml: nsDoc(v1, "Component", "ns1", "{type: service, lifecycle: production, owner: 'User:Other/Jane'}"),
			want: []string{"component:ns1/x -ownedBy-> user:other/jane", "user:other/jane -ownerOf-> component:ns1/x"}},
		{name: "Component owner with namespace only", yaml: nsDoc(v1, "Component", "ns1", "{type: service, lifecycle: production, owner: ns2/team-a}"),
			want: []string{"component:ns1/x -ownedBy-> group:ns2/team-a", "group:ns2/team-a -ownerOf-> component:ns1/x"}},
		{name: "Component subcomponentOf defaults to Component", yaml: nsDoc(v1, "Component", "ns1", comp+"subcomponentOf: parent}"),
			want: []string{"component:ns1/x -ownedBy-> user:ns1/admin", "user:ns1/admin -ownerOf-> component:ns1/x",
				"component:ns1/x -partOf-> component:ns1/parent", "component:ns1/parent -hasPart-> component:ns1/x"}},
		{name: "Component providesApis defaults to API, sorted", yaml: nsDoc(v1, "Component", "ns1", comp+"providesApis: [zeta, alpha]}"),
			want: []string{"component:ns1/x -ownedBy-> user:ns1/admin", "user:ns1/admin -ownerOf-> component:ns1/x",
				"component:ns1/x -providesApi-> api:ns1/alpha", "api:ns1/alpha -apiProvidedBy-> component:ns1/x",
				"component:ns1/x -providesApi-> api:ns1/zeta", "api:ns1/zeta -apiProvidedBy-> component:ns1/x"}},
		{name: "Component consumesApis defaults to API", yaml: nsDoc(v1, "Component", "ns1", comp+"consumesApis: ['api:other/ext']}"),
			want: []string{"component:ns1/x -ownedBy-> user:ns1/admin", "user:ns1/admin -ownerOf-> component:ns1/x",
				"component:ns1/x -consumesApi-> api:other/ext", "api:other/ext -apiConsumedBy-> component:ns1/x"}},
		{name: "Component dependsOn needs a kind", yaml: nsDoc(v1, "Component", "ns1", comp+"dependsOn: ['resource:db', 'component:a']}"),
			want: []string{"component:ns1/x -ownedBy-> user:ns1/admin", "user:ns1/admin -ownerOf-> component:ns1/x",
				"component:ns1/x -dependsOn-> component:ns1/a", "component:ns1/a -dependencyOf-> component:ns1/x",
				"component:ns1/x -dependsOn-> resource:ns1/db", "resource:ns1/db -dependencyOf-> component:ns1/x"}},
		{name: "Component dependencyOf", yaml: nsDoc(v1, "Component", "ns1", comp+"dependencyOf: ['component:y']}"),
			want: []string{"component:ns1/x -ownedBy-> user:ns1/admin", "user:ns1/admin -ownerOf-> component:ns1/x",
				"component:ns1/x -dependencyOf-> component:ns1/y", "component:ns1/y -dependsOn-> component:ns1/x"}},
		{name: "Component system defaults to System", yaml: nsDoc(v1, "Component", "ns1", comp+"system: s1}"),
			want: []string{"component:ns1/x -ownedBy-> user:ns1/admin", "user:ns1/admin -ownerOf-> component:ns1/x",
				"component:ns1/x -partOf-> system:ns1/s1", "system:ns1/s1 -hasPart-> component:ns1/x"}},
		{name: "API owner and system", yaml: nsDoc(v1, "API", "ns1", "{type: openapi, lifecycle: production, owner: team-a, definition: x, system: s1}"),
			want: []string{"api:ns1/x -ownedBy-> group:ns1/team-a", "group:ns1/team-a -ownerOf-> api:ns1/x",
				"api:ns1/x -partOf-> system:ns1/s1", "system:ns1/s1 -hasPart-> api:ns1/x"}},
		{name: "Resource owner, dependsOn, dependencyOf and system", yaml: nsDoc(v1, "Resource", "ns1",
			"{type: database, owner: team-a, dependsOn: ['resource:storage'], dependencyOf: ['component:c1'], system: s1}"),
			want: []string{"resource:ns1/x -ownedBy-> group:ns1/team-a", "group:ns1/team-a -ownerOf-> resource:ns1/x",
				"resource:ns1/x -dependsOn-> resource:ns1/storage", "resource:ns1/storage -dependencyOf-> resource:ns1/x",
				"resource:ns1/x -dependencyOf-> component:ns1/c1", "component:ns1/c1 -dependsOn-> resource:ns1/x",
				"resource:ns1/x -partOf-> system:ns1/s1", "system:ns1/s1 -hasPart-> resource:ns1/x"}},
		{name: "System owner and domain", yaml: nsDoc(v1, "System", "ns1", "{owner: team-a, domain: d1}"),
			want: []string{"system:ns1/x -ownedBy-> group:ns1/team-a", "group:ns1/team-a -ownerOf-> system:ns1/x",
				"system:ns1/x -partOf-> domain:ns1/d1", "domain:ns1/d1 -hasPart-> system:ns1/x"}},
		{name: "Domain owner and subdomainOf", yaml: nsDoc(v1, "Domain", "ns1", "{owner: team-a, subdomainOf: d0}"),
			want: []string{"domain:ns1/x -ownedBy-> group:ns1/team-a", "group:ns1/team-a -ownerOf-> domain:ns1/x",
				"domain:ns1/x -partOf-> domain:ns1/d0", "domain:ns1/d0 -hasPart-> domain:ns1/x"}},
		{name: "User memberOf defaults to Group, sorted", yaml: nsDoc(v1, "User", "ns1", "{memberOf: [team-b, 'group:other/guild']}"),
			want: []string{"user:ns1/x -memberOf-> group:other/guild", "group:other/guild -hasMember-> user:ns1/x",
				"user:ns1/x -memberOf-> group:ns1/team-b", "group:ns1/team-b -hasMember-> user:ns1/x"}},
		{name: "Group parent, children and members", yaml: nsDoc(v1, "Group", "ns1",
			"{type: team, parent: org, children: [sub-b, sub-a], members: [jdoe, 'user:other/alice']}"),
			want: []string{"group:ns1/x -childOf-> group:ns1/org", "group:ns1/org -parentOf-> group:ns1/x",
				"group:ns1/x -parentOf-> group:ns1/sub-a", "group:ns1/sub-a -childOf-> group:ns1/x",
				"group:ns1/x -parentOf-> group:ns1/sub-b", "group:ns1/sub-b -childOf-> group:ns1/x",
				"group:ns1/x -hasMember-> user:ns1/jdoe", "user:ns1/jdoe -memberOf-> group:ns1/x",
				"group:ns1/x -hasMember-> user:other/alice", "user:other/alice -memberOf-> group:ns1/x"}},
		{name: "Group with empty children emits nothing", yaml: nsDoc(v1, "Group", "ns1", "{type: team, children: []}"),
			want: []string{}},
		{name: "Template owner", yaml: nsDoc(TemplateAPIVersion, "Template", "ns1", "{type: service, owner: team-a, steps: []}"),
			want: []string{"template:ns1/x -ownedBy-> group:ns1/team-a", "group:ns1/team-a -ownerOf-> template:ns1/x"}},
		{name: "Location emits nothing", yaml: nsDoc(v1, "Location", "ns1", "{target: ./a.yaml}"),
			want: []string{}},
		{name: "default namespace when none is given", yaml: "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: S}\nspec: {owner: Team-A}\n",
			want: []string{"system:default/s -ownedBy-> group:default/team-a", "group:default/team-a -ownerOf-> system:default/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := processYAML(t, nil, testSource, tt.yaml)
			if err != nil {
				t.Fatal(err)
			}
			if got := edgeStrings(res.Edges); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("edges differ\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			// EmitRelations on the stored entity gives the same edges.
			direct, err := EmitRelations(res.Entity)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(edgeStrings(direct), tt.want) {
				t.Errorf("EmitRelations differs from Process: %v", edgeStrings(direct))
			}
		})
	}
}

// TestEmitRelationsDirect calls EmitRelations on entities built in Go, for
// shapes that validation would not let through.
func TestEmitRelationsDirect(t *testing.T) {
	tests := []struct {
		name    string
		entity  Entity
		want    []string
		wantErr string
	}{
		{name: "empty owner string is absent",
			entity: Entity{APIVersion: APIVersionV1alpha1, Kind: "Component", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"owner": ""}},
			want:   []string{}},
		{name: "null field is absent",
			entity: Entity{APIVersion: APIVersionV1alpha1, Kind: "Component", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"owner": nil}},
			want:   []string{}},
		{name: "object ref takes defaults",
			entity: Entity{APIVersion: APIVersionV1alpha1, Kind: "Component", Metadata: Metadata{Name: "x", Namespace: "ns"}, Spec: map[string]any{"dependencyOf": []any{map[string]any{"kind": "Component", "name": "y"}}}},
			want:   []string{"component:ns/x -dependencyOf-> component:ns/y", "component:ns/y -dependsOn-> component:ns/x"}},
		{name: "unknown kind emits nothing",
			entity: Entity{APIVersion: APIVersionV1alpha1, Kind: "Widget", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"owner": "a"}},
			want:   []string{}},
		{name: "Template with another apiVersion emits nothing",
			entity: Entity{APIVersion: APIVersionV1alpha1, Kind: "Template", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"owner": "a"}},
			want:   []string{}},
		{name: "dependsOn without kind",
			entity:  Entity{APIVersion: APIVersionV1alpha1, Kind: "Resource", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"dependsOn": []any{"db1"}}},
			wantErr: `Error: Entity reference "db1" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{name: "owner with empty name",
			entity:  Entity{APIVersion: APIVersionV1alpha1, Kind: "System", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"owner": "group:"}},
			wantErr: `TypeError: Entity reference "group:" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "null item in a list",
			entity:  Entity{APIVersion: APIVersionV1alpha1, Kind: "User", Metadata: Metadata{Name: "x"}, Spec: map[string]any{"memberOf": []any{nil}}},
			wantErr: "Error: Entity reference must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edges, err := EmitRelations(&tt.entity)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := edgeStrings(edges); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("edges = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRelationErrors covers refs that fail an entity in postprocessing.
func TestRelationErrors(t *testing.T) {
	const post = "InputError: Processor BuiltinKindsEntityProcessor threw an error while postprocessing; caused by "
	runProcessCases(t, []processCase{
		{name: "dependsOn without kind", yaml: entityDoc(APIVersionV1alpha1, "Component", "{type: service, lifecycle: production, owner: team-a, dependsOn: [db1]}"),
			wantErr: post + `Error: Entity reference "db1" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{name: "Resource dependencyOf without kind", yaml: entityDoc(APIVersionV1alpha1, "Resource", "{type: database, owner: team-a, dependencyOf: [c1]}"),
			wantErr: post + `Error: Entity reference "c1" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{name: "owner with empty name", yaml: entityDoc(APIVersionV1alpha1, "Component", `{type: service, lifecycle: production, owner: "group:"}`),
			wantErr: post + `TypeError: Entity reference "group:" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "system with empty namespace", yaml: entityDoc(APIVersionV1alpha1, "Component", `{type: service, lifecycle: production, owner: a, system: "/s"}`),
			wantErr: post + `TypeError: Entity reference "/s" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "Template owner with empty name", yaml: entityDoc(TemplateAPIVersion, "Template", `{type: service, owner: "group:", steps: []}`),
			wantErr: "InputError: Processor ScaffolderEntitiesProcessor threw an error while postprocessing; caused by " +
				`TypeError: Entity reference "group:" was not on the form [<kind>:][<namespace>/]<name>`},
	})
}

// TestSortSpecLists checks that preprocessing stores these lists sorted
// when every item is a string, and leaves other lists alone.
func TestSortSpecLists(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		field string
		want  string
	}{
		{name: "providesApis", yaml: entityDoc(APIVersionV1alpha1, "Component", "{type: s, lifecycle: l, owner: o, providesApis: [zeta-api, alpha-api]}"),
			field: "providesApis", want: `["alpha-api","zeta-api"]`},
		{name: "consumesApis", yaml: entityDoc(APIVersionV1alpha1, "Component", "{type: s, lifecycle: l, owner: o, consumesApis: [b, a, c]}"),
			field: "consumesApis", want: `["a","b","c"]`},
		{name: "dependsOn by code unit", yaml: entityDoc(APIVersionV1alpha1, "Component", "{type: s, lifecycle: l, owner: o, dependsOn: ['resource:b', 'Resource:a']}"),
			field: "dependsOn", want: `["Resource:a","resource:b"]`},
		{name: "dependencyOf", yaml: entityDoc(APIVersionV1alpha1, "Resource", "{type: s, owner: o, dependencyOf: ['component:b', 'component:a']}"),
			field: "dependencyOf", want: `["component:a","component:b"]`},
		{name: "memberOf", yaml: entityDoc(APIVersionV1alpha1, "User", "{memberOf: [b, a]}"),
			field: "memberOf", want: `["a","b"]`},
		{name: "children", yaml: entityDoc(APIVersionV1alpha1, "Group", "{type: t, children: [b, a]}"),
			field: "children", want: `["a","b"]`},
		{name: "members", yaml: entityDoc(APIVersionV1alpha1, "Group", "{type: t, children: [], members: [b, a]}"),
			field: "members", want: `["a","b"]`},
		{name: "mixed list is left as written", yaml: entityDoc(APIVersionV1alpha1, "Component", "{type: s, lifecycle: l, owner: o, dependencyOf: ['component:b', {kind: component, name: a}]}"),
			field: "dependencyOf", want: `["component:b",{"kind":"component","name":"a"}]`},
		{name: "other lists are not sorted", yaml: entityDoc(APIVersionV1alpha1, "Location", "{targets: [./b.yaml, ./a.yaml]}"),
			field: "targets", want: `["./b.yaml","./a.yaml"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := processYAML(t, nil, testSource, tt.yaml)
			if err != nil {
				t.Fatal(err)
			}
			if got := toJSON(res.Entity.Spec[tt.field]); got != tt.want {
				t.Errorf("spec.%s = %s, want %s", tt.field, got, tt.want)
			}
		})
	}
}

func TestSortRelations(t *testing.T) {
	in := []Relation{
		{"ownerOf", "component:default/b"},
		{"hasMember", "user:default/z"},
		{"ownerOf", "component:default/a"},
		{"ownerOf", "component:default/b"},
		{"childOf", "group:default/org"},
	}
	want := []Relation{
		{"childOf", "group:default/org"},
		{"hasMember", "user:default/z"},
		{"ownerOf", "component:default/a"},
		{"ownerOf", "component:default/b"},
	}
	if got := SortRelations(in); !reflect.DeepEqual(got, want) {
		t.Errorf("SortRelations = %v, want %v", got, want)
	}
}
