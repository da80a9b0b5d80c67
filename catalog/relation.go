package catalog

// Relation types Backstage's built-in kinds emit, each paired with its inverse.
const (
	RelationOwnedBy       = "ownedBy"
	RelationOwnerOf       = "ownerOf"
	RelationPartOf        = "partOf"
	RelationHasPart       = "hasPart"
	RelationProvidesAPI   = "providesApi"
	RelationAPIProvidedBy = "apiProvidedBy"
	RelationConsumesAPI   = "consumesApi"
	RelationAPIConsumedBy = "apiConsumedBy"
	RelationDependsOn     = "dependsOn"
	RelationDependencyOf  = "dependencyOf"
	RelationMemberOf      = "memberOf"
	RelationHasMember     = "hasMember"
	RelationChildOf       = "childOf"
	RelationParentOf      = "parentOf"
)

// Edge is a relation with both ends, as processing emits it. The catalog
// stores edges by the entity whose processing emitted them and serves each
// entity the edges whose source it is.
type Edge struct {
	Source Ref
	Type   string
	Target Ref
}

// relationField says which relation a spec field produces.
type relationField struct {
	field       string
	defaultKind string // "" means the ref must name its kind
	outgoing    string
	incoming    string
}

// relationFields is Backstage's BuiltinKindsEntityProcessor table (and the
// scaffolder module's for Template), in emission order.
var relationFields = map[string][]relationField{
	"Component": {
		{"owner", "Group", RelationOwnedBy, RelationOwnerOf},
		{"subcomponentOf", "Component", RelationPartOf, RelationHasPart},
		{"providesApis", "API", RelationProvidesAPI, RelationAPIProvidedBy},
		{"consumesApis", "API", RelationConsumesAPI, RelationAPIConsumedBy},
		{"dependsOn", "", RelationDependsOn, RelationDependencyOf},
		{"dependencyOf", "", RelationDependencyOf, RelationDependsOn},
		{"system", "System", RelationPartOf, RelationHasPart},
	},
	"API": {
		{"owner", "Group", RelationOwnedBy, RelationOwnerOf},
		{"system", "System", RelationPartOf, RelationHasPart},
	},
	"Resource": {
		{"owner", "Group", RelationOwnedBy, RelationOwnerOf},
		{"dependsOn", "", RelationDependsOn, RelationDependencyOf},
		{"dependencyOf", "", RelationDependencyOf, RelationDependsOn},
		{"system", "System", RelationPartOf, RelationHasPart},
	},
	"User": {
		{"memberOf", "Group", RelationMemberOf, RelationHasMember},
	},
	"Group": {
		{"parent", "Group", RelationChildOf, RelationParentOf},
		{"children", "Group", RelationParentOf, RelationChildOf},
		{"members", "User", RelationHasMember, RelationMemberOf},
	},
	"System": {
		{"owner", "Group", RelationOwnedBy, RelationOwnerOf},
		{"domain", "Domain", RelationPartOf, RelationHasPart},
	},
	"Domain": {
		{"owner", "Group", RelationOwnedBy, RelationOwnerOf},
		{"subdomainOf", "Domain", RelationPartOf, RelationHasPart},
	},
}

// templateRelations applies to scaffolder.backstage.io/v1beta3 Templates.
var templateRelations = []relationField{{"owner", "Group", RelationOwnedBy, RelationOwnerOf}}

// EmitRelations returns the edges an entity's spec declares, each followed by
// its inverse, exactly as Backstage's built-in processors emit them. A
// reference that cannot be parsed fails the entity, as in Backstage.
func EmitRelations(e *Entity) ([]Edge, error) {
	fields := relationFields[e.Kind]
	if e.Kind == "Template" && e.APIVersion == TemplateAPIVersion {
		fields = templateRelations
	}
	self := Ref{Kind: e.Kind, Namespace: e.Metadata.Namespace, Name: e.Metadata.Name}
	if self.Namespace == "" {
		self.Namespace = DefaultNamespace
	}
	var edges []Edge
	for _, f := range fields {
		v, ok := e.Spec[f.field]
		if !ok || v == nil {
			continue
		}
		var targets []any
		switch t := v.(type) {
		case []any:
			targets = t
		default:
			targets = []any{t}
		}
		if s, ok := v.(string); ok && s == "" {
			continue // JavaScript treats "" as absent here
		}
		for _, t := range targets {
			target, err := refFromValue(t, RefDefaults{Kind: f.defaultKind, Namespace: self.Namespace})
			if err != nil {
				return nil, err
			}
			edges = append(edges,
				Edge{Source: self, Type: f.outgoing, Target: target},
				Edge{Source: target, Type: f.incoming, Target: self})
		}
	}
	return edges, nil
}

// refFromValue accepts a ref string or a {kind, namespace, name} object, as
// Backstage's parseEntityRef does.
func refFromValue(v any, d RefDefaults) (Ref, error) {
	switch t := v.(type) {
	case string:
		return ParseRef(t, d)
	case map[string]any:
		r := Ref{Kind: d.Kind, Namespace: d.Namespace}
		if k, ok := t["kind"].(string); ok {
			r.Kind = k
		}
		if n, ok := t["namespace"].(string); ok {
			r.Namespace = n
		}
		r.Name, _ = t["name"].(string)
		if r.Namespace == "" {
			r.Namespace = DefaultNamespace
		}
		if r.Kind == "" || r.Name == "" {
			return Ref{}, errorf("Entity reference %v had missing or empty kind or name", jsonText(t))
		}
		return r, nil
	case nil:
		return Ref{}, errorf("Entity reference must not be empty")
	}
	return Ref{}, errorf("Entity reference %v is not a string", jsonText(v))
}
