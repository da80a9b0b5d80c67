package catalog

// API versions of the built-in kinds.
const (
	APIVersionV1alpha1 = "backstage.io/v1alpha1"
	APIVersionV1beta1  = "backstage.io/v1beta1"
	TemplateAPIVersion = "scaffolder.backstage.io/v1beta3"
)

// Kinds lists the built-in kinds Greenroom recognises.
var Kinds = []string{"API", "Component", "Domain", "Group", "Location", "Resource", "System", "Template", "User"}

// envelopeSchema is Backstage's EntityEnvelope schema: the minimum needed to
// give an entity a ref.
var envelopeSchema = object([]string{"apiVersion", "kind", "metadata"},
	p("apiVersion", nonEmptyString()),
	p("kind", nonEmptyString()),
	p("metadata", object([]string{"name"},
		p("name", nonEmptyString()),
		p("namespace", nonEmptyString()))),
)

// entitySchema is Backstage's Entity schema with EntityMeta and the common
// relation/status definitions.
var entitySchema = func() *schema {
	link := object([]string{"url"},
		p("url", nonEmptyString()),
		p("title", nonEmptyString()),
		p("icon", nonEmptyString()),
		p("type", nonEmptyString()))
	meta := object([]string{"name"},
		p("uid", nonEmptyString()),
		p("etag", nonEmptyString()),
		p("name", nonEmptyString()),
		p("namespace", nonEmptyString()),
		p("title", nonEmptyString()),
		p("description", typed("string")),
		p("labels", &schema{types: []string{"object"}, anyKeyProp: typed("string")}),
		p("annotations", &schema{types: []string{"object"}, anyKeyProp: typed("string")}),
		p("tags", arrayOf(nonEmptyString())),
		p("links", arrayOf(link)),
	)
	reference := object([]string{"kind", "namespace", "name"},
		p("kind", nonEmptyString()), p("namespace", nonEmptyString()), p("name", nonEmptyString()))
	reference.noExtra = true
	relation := object([]string{"type", "targetRef"},
		p("type", nonEmptyString()), p("target", reference), p("targetRef", nonEmptyString()))
	relation.noExtra = true
	statusItem := object([]string{"type", "level", "message"},
		p("type", nonEmptyString()),
		p("level", &schema{types: []string{"string"}, enum: []string{"info", "warning", "error"}}),
		p("message", typed("string")),
		p("error", object([]string{"name", "message"},
			p("name", nonEmptyString()), p("message", typed("string")),
			p("code", typed("string")), p("stack", typed("string")))))
	s := object([]string{"apiVersion", "kind", "metadata"},
		p("apiVersion", nonEmptyString()),
		p("kind", nonEmptyString()),
		p("metadata", meta),
		p("spec", typed("object")),
		p("relations", arrayOf(relation)),
		p("status", object(nil, p("items", arrayOf(statusItem)))),
	)
	s.noExtra = true
	return s
}()

// kindSchema is the kind-specific half of a kind's schema (the other half is
// entitySchema, which the policies have already enforced).
type kindSchema struct {
	apiVersions []string
	kind        string
	spec        *schema
}

func profile() *schema {
	return object(nil, p("displayName", nonEmptyString()), p("email", nonEmptyString()), p("picture", nonEmptyString()))
}

func stringList() *schema { return arrayOf(nonEmptyString()) }

var backstageVersions = []string{APIVersionV1alpha1, APIVersionV1beta1}

// kindSchemas follows the order of Backstage's BuiltinKindsEntityProcessor
// validators, then the scaffolder module's Template validator.
var kindSchemas = []kindSchema{
	{backstageVersions, "API", object([]string{"type", "lifecycle", "owner", "definition"},
		p("type", nonEmptyString()), p("lifecycle", nonEmptyString()), p("owner", nonEmptyString()),
		p("system", nonEmptyString()), p("definition", nonEmptyString()))},
	{backstageVersions, "Component", object([]string{"type", "lifecycle", "owner"},
		p("type", nonEmptyString()), p("lifecycle", nonEmptyString()), p("owner", nonEmptyString()),
		p("system", nonEmptyString()), p("subcomponentOf", nonEmptyString()),
		p("providesApis", stringList()), p("consumesApis", stringList()), p("dependsOn", stringList()))},
	{backstageVersions, "Resource", object([]string{"type", "owner"},
		p("type", nonEmptyString()), p("owner", nonEmptyString()),
		p("dependsOn", stringList()), p("system", nonEmptyString()))},
	{backstageVersions, "Group", object([]string{"type", "children"},
		p("type", nonEmptyString()), p("profile", profile()), p("parent", nonEmptyString()),
		p("children", stringList()), p("members", stringList()))},
	{backstageVersions, "Location", object(nil,
		p("type", nonEmptyString()), p("target", nonEmptyString()), p("targets", stringList()),
		p("presence", &schema{types: []string{"string"}, enum: []string{"required", "optional"}}))},
	{backstageVersions, "User", object([]string{"memberOf"},
		p("profile", profile()), p("memberOf", stringList()))},
	{backstageVersions, "System", object([]string{"owner"},
		p("owner", nonEmptyString()), p("domain", nonEmptyString()), p("type", nonEmptyString()))},
	{backstageVersions, "Domain", object([]string{"owner"},
		p("owner", nonEmptyString()), p("subdomainOf", nonEmptyString()), p("type", nonEmptyString()))},
	{[]string{TemplateAPIVersion}, "Template", templateSpecSchema()},
}

func permissionsTags() *schema {
	return object(nil, p("tags", arrayOf(typed("string"))))
}

func templateSpecSchema() *schema {
	page := object(nil, p("backstage:permissions", permissionsTags()))
	step := object([]string{"action"},
		p("id", typed("string")), p("name", typed("string")), p("action", typed("string")),
		p("input", typed("object")), p("if", typed("string", "boolean")),
		p("backstage:permissions", permissionsTags()))
	decorator := object(nil, p("id", typed("string")), p("input", typed("object")))
	link := object(nil, p("if", typed("string", "boolean")), p("url", nonEmptyString()),
		p("entityRef", nonEmptyString()), p("title", nonEmptyString()), p("icon", nonEmptyString()))
	text := object(nil, p("if", typed("string", "boolean")), p("title", nonEmptyString()),
		p("icon", nonEmptyString()), p("content", typed("string")))
	output := object(nil, p("links", arrayOf(link)), p("text", arrayOf(text)))
	output.extra = typed("string")
	return object([]string{"type", "steps"},
		p("type", nonEmptyString()), p("owner", nonEmptyString()), p("lifecycle", nonEmptyString()),
		p("parameters", &schema{oneOf: []*schema{page, arrayOf(page)}}),
		p("secrets", object(nil, p("schema", typed("object")))),
		p("presentation", object(nil, p("buttonLabels", object(nil,
			p("backButtonText", typed("string")), p("createButtonText", typed("string")),
			p("reviewButtonText", typed("string")))))),
		p("EXPERIMENTAL_recovery", object(nil, p("EXPERIMENTAL_strategy", typed("string")))),
		p("formDecorators", arrayOf(decorator)),
		p("EXPERIMENTAL_formDecorators", arrayOf(decorator)),
		p("steps", arrayOf(step)),
		p("output", output),
	)
}

// validateKind finds the kind schema for the entity. It returns recognized
// false when no built-in kind and apiVersion match (Backstage's "No processor
// recognized the entity"), and an error when they match but the spec does not.
func validateKind(e map[string]any) (recognized bool, err *schemaError) {
	apiVersion, _ := e["apiVersion"].(string)
	kind, _ := e["kind"].(string)
	for _, ks := range kindSchemas {
		if ks.kind != kind || !contains(ks.apiVersions, apiVersion) {
			continue
		}
		spec, ok := e["spec"]
		if !ok {
			return true, &schemaError{"", "must have required property 'spec'", "missingProperty: spec"}
		}
		return true, ks.spec.validate(spec, "/spec")
	}
	return false, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
