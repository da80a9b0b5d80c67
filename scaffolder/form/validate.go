package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/greenroom-dev/greenroom/catalog"
)

// Validate checks values against one parameter page with JSON Schema
// (draft 7, formats asserted) after removing the `ui:*` keys, and returns
// a readable message per field name (the names Page uses). Errors about
// the page as a whole are under "". A schema that does not compile is
// reported under "" too. Backstage's own field checks (RepoUrlPicker,
// EntityNamePicker) are applied as well.
func Validate(schema map[string]any, values map[string]any) map[string]string {
	return ValidateOpts(schema, values, Options{})
}

// ValidateOpts is Validate with the field names prefixed by opts.Prefix.
func ValidateOpts(schema map[string]any, values map[string]any, opts Options) map[string]string {
	out := map[string]string{}
	sch, err := Compile(schema)
	if err != nil {
		out[opts.Prefix] = "The template's parameter schema is invalid: " + err.Error()
		return out
	}
	if values == nil {
		values = map[string]any{}
	}
	inst, err := jsonValue(values)
	if err != nil {
		out[opts.Prefix] = "The values cannot be validated: " + err.Error()
		return out
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			collect(ve, opts.Prefix, out)
		} else {
			out[opts.Prefix] = err.Error()
		}
	}
	customChecks(schema, values, opts.Prefix, out, 0)
	return out
}

// Compile compiles a parameter page (ui:* keys removed) as draft 7.
func Compile(schema map[string]any) (*jsonschema.Schema, error) {
	doc, err := jsonValue(StripUI(schema))
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		// Remote meta-schemas are not fetched; draft 7 is assumed.
		delete(m, "$schema")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	c.UseRegexpEngine(lenientRegexp)
	const loc = "mem:///parameters.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// lenientRegexp compiles patterns with Go's RE2. A JavaScript-only
// pattern (lookaround, backreferences) cannot be checked on the server and
// accepts every value rather than failing the whole page.
func lenientRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return anyRegexp(s), nil
	}
	return re, nil
}

type anyRegexp string

func (r anyRegexp) String() string { return string(r) }

func (anyRegexp) MatchString(string) bool { return true }

type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("external schema %q is not loaded", u)
}

func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// StripUI returns a copy of schema without react-jsonschema-form keys
// (ui:*) and Backstage annotations (backstage:*), leaving property names
// and data keywords (default, enum, const, examples) untouched.
func StripUI(schema map[string]any) map[string]any {
	m, _ := strip(schema, false).(map[string]any)
	return m
}

var nameMaps = map[string]bool{"properties": true, "patternProperties": true, "definitions": true, "$defs": true, "dependencies": true, "dependentSchemas": true}
var dataKeys = map[string]bool{"default": true, "enum": true, "const": true, "examples": true, "enumNames": true}

func strip(v any, names bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if !names && (strings.HasPrefix(k, "ui:") || strings.HasPrefix(k, "backstage:")) {
				continue
			}
			switch {
			case names:
				out[k] = strip(x, false)
			case dataKeys[k]:
				out[k] = x
			case k == "required":
				// Duplicates break the draft 7 meta-schema; Backstage tolerates them.
				if l, ok := x.([]any); ok {
					seen := map[string]bool{}
					req := []any{}
					for _, r := range l {
						if rs, ok := r.(string); ok && !seen[rs] {
							seen[rs] = true
							req = append(req, rs)
						}
					}
					out[k] = req
				} else {
					out[k] = x
				}
			default:
				out[k] = strip(x, nameMaps[k])
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = strip(x, false)
		}
		return out
	}
	return v
}

func pathOf(base string, loc []string) string {
	p := base
	for _, s := range loc {
		p = joinPath(p, s)
	}
	return p
}

func setErr(out map[string]string, path, msg string) {
	if _, ok := out[path]; !ok {
		out[path] = msg
	}
}

func collect(ve *jsonschema.ValidationError, base string, out map[string]string) {
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			setErr(out, pathOf(base, append(append([]string{}, ve.InstanceLocation...), m)), "This field is required.")
		}
		return
	case *kind.Dependency:
		for _, m := range k.Missing {
			setErr(out, pathOf(base, append(append([]string{}, ve.InstanceLocation...), m)), fmt.Sprintf("This field is required when %q is set.", k.Prop))
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		// Prefer the branch chosen by a discriminator (no const/enum
		// mismatch inside it); otherwise report the group.
		for _, c := range ve.Causes {
			if !hasDiscriminatorError(c) {
				collect(c, base, out)
				return
			}
		}
		if len(ve.Causes) > 0 || ve.ErrorKind != nil {
			if _, isOne := k.(*kind.OneOf); isOne {
				if o := k.(*kind.OneOf); len(o.Subschemas) > 1 {
					setErr(out, pathOf(base, ve.InstanceLocation), "Matches more than one of the allowed options.")
					return
				}
			}
			setErr(out, pathOf(base, ve.InstanceLocation), "Does not match any of the allowed options.")
		}
		return
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collect(c, base, out)
		}
		return
	}
	setErr(out, pathOf(base, ve.InstanceLocation), message(ve))
}

func hasDiscriminatorError(ve *jsonschema.ValidationError) bool {
	switch ve.ErrorKind.(type) {
	case *kind.Const, *kind.Enum:
		return true
	}
	for _, c := range ve.Causes {
		if hasDiscriminatorError(c) {
			return true
		}
	}
	return false
}

func rat(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmt.Sprint(f)
}

func message(ve *jsonschema.ValidationError) string {
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		return fmt.Sprintf("Must be %s, not %s.", strings.Join(withArticles(k.Want), " or "), withArticle(k.Got))
	case *kind.Enum:
		var w []string
		for _, x := range k.Want {
			w = append(w, scalarString(x))
		}
		return "Must be one of: " + strings.Join(w, ", ") + "."
	case *kind.Const:
		return fmt.Sprintf("Must be %s.", scalarString(k.Want))
	case *kind.Format:
		return fmt.Sprintf("Must be a valid %s.", k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("Must be at least %d characters long.", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("Must be at most %d characters long.", k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("Must match the pattern %s.", k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("Must be at least %s.", rat(k.Want))
	case *kind.Maximum:
		return fmt.Sprintf("Must be at most %s.", rat(k.Want))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("Must be greater than %s.", rat(k.Want))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("Must be less than %s.", rat(k.Want))
	case *kind.MultipleOf:
		return fmt.Sprintf("Must be a multiple of %s.", rat(k.Want))
	case *kind.MinItems:
		return fmt.Sprintf("Must have at least %d items.", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("Must have at most %d items.", k.Want)
	case *kind.UniqueItems:
		return fmt.Sprintf("Items %d and %d are the same.", k.Duplicates[0]+1, k.Duplicates[1]+1)
	case *kind.AdditionalProperties:
		return "Unexpected fields: " + strings.Join(k.Properties, ", ") + "."
	case *kind.MinProperties:
		return fmt.Sprintf("Must have at least %d fields.", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("Must have at most %d fields.", k.Want)
	case *kind.FalseSchema:
		return "This field is not allowed."
	case *kind.Not:
		return "This value is not allowed."
	case *kind.AdditionalItems:
		return "Too many items."
	case *kind.Contains:
		return "No item matches."
	}
	kp := ve.ErrorKind.KeywordPath()
	if len(kp) > 0 {
		return fmt.Sprintf("Is invalid (%s).", strings.Join(kp, "/"))
	}
	return "Is invalid."
}

func withArticles(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = withArticle(w)
	}
	return out
}

func withArticle(w string) string {
	switch w {
	case "null":
		return "empty"
	case "object", "integer", "array":
		return "an " + w
	}
	return "a " + w
}

// customChecks applies Backstage's per-field validations that JSON
// Schema cannot express.
func customChecks(schema map[string]any, values map[string]any, base string, out map[string]string, depth int) {
	if depth > 12 {
		return
	}
	s := effective(schema, values)
	for k, pv := range mapOf(s["properties"]) {
		p := mapOf(pv)
		if p == nil {
			continue
		}
		name := joinPath(base, k)
		v, has := values[k]
		if !has {
			continue
		}
		if _, bad := out[name]; bad {
			continue
		}
		switch str(p["ui:field"]) {
		case "RepoUrlPicker":
			sv, _ := v.(string)
			host, q := ParseRepoURL(sv)
			switch {
			case host == "":
				out[name] = "Please select a host."
			case q.Get("owner") == "" && q.Get("workspace") == "" && q.Get("organization") == "":
				out[name] = "Please enter an owner."
			case q.Get("repo") == "":
				out[name] = "Please enter a repository name."
			default:
				if allowed := stringList(uiOptions(p)["allowedHosts"]); len(allowed) > 0 && !contains(allowed, host) {
					out[name] = fmt.Sprintf("Host %q is not allowed.", host)
				} else if owners := stringList(uiOptions(p)["allowedOwners"]); len(owners) > 0 && !contains(owners, q.Get("owner")) {
					out[name] = fmt.Sprintf("Owner %q is not allowed.", q.Get("owner"))
				}
			}
		case "EntityNamePicker":
			if sv, ok := v.(string); ok && !catalog.IsValidEntityName(sv) {
				out[name] = "Must start and end with an alphanumeric character, and contain only alphanumeric characters, hyphens, underscores and periods (at most 63 characters)."
			}
		}
		if typeOf(p) == "object" {
			if sub := mapOf(v); sub != nil {
				customChecks(p, sub, name, out, depth+1)
			}
		}
	}
}

// FieldError is one refused value: the field's dotted path ("" for the
// page as a whole) and the message.
type FieldError struct {
	Field   string
	Message string
}

// ValidatePages checks values against every parameter page on its own, as
// Backstage validates a task's values, and lists the problems page by
// page, fields in name order.
func ValidatePages(pages []map[string]any, values map[string]any) []FieldError {
	var out []FieldError
	for _, page := range pages {
		res := Validate(page, values)
		keys := make([]string, 0, len(res))
		for k := range res {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, FieldError{Field: k, Message: res[k]})
		}
	}
	return out
}
