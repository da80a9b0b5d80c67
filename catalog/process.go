package catalog

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Stages at which a document can be rejected, as Backstage's oracle names them.
const (
	StageParse      = "parse"
	StageEnvelope   = "envelope"
	StageRules      = "rules"
	StageProcessing = "processing"
)

// RejectError says why a document was not accepted: at which stage, for which
// entity (when it has a ref by then), and the Backstage-style error.
type RejectError struct {
	Stage string
	Ref   string // "" when the document never got as far as having a ref
	Err   error
}

func (e *RejectError) Error() string { return e.Err.Error() }
func (e *RejectError) Unwrap() error { return e.Err }

// LocationSpec is a location to read: a type ("file", "url", …), a target,
// and whether a missing target is an error.
type LocationSpec struct {
	Type     string `json:"type"`
	Target   string `json:"target"`
	Presence string `json:"presence,omitempty"`
}

// Ref returns the spec's location ref.
func (l LocationSpec) Ref() LocationRef { return LocationRef{Type: l.Type, Target: l.Target} }

// PlaceholderReader reads what a placeholder ($text, $json, $yaml) names,
// resolved relative to the location the entity came from. It returns a
// *ResolveError when the value cannot be turned into something to read.
type PlaceholderReader func(ctx context.Context, base LocationRef, value string) ([]byte, error)

// ResolveError means a placeholder's value could not be resolved against its
// location (Backstage: "could not form a URL out of …").
type ResolveError struct{ Err error }

func (e *ResolveError) Error() string { return e.Err.Error() }

// Processor runs one Backstage processing pass over a parsed document.
type Processor struct {
	// ReadPlaceholder reads placeholder targets; nil makes every
	// placeholder fail, as with an offline reader.
	ReadPlaceholder PlaceholderReader
	// AllowedLocationTypes are the Location target types an entity may name
	// besides its own location's type (Backstage's default: url).
	AllowedLocationTypes []string
}

// Source says where a document was read from.
type Source struct {
	Location LocationRef // the file or URL read: managed-by-location
	Origin   LocationRef // the registered root location: managed-by-origin-location
}

// Result is an accepted entity with what its processing emitted.
type Result struct {
	Entity  *Entity
	Raw     map[string]any // Entity in its JSON-like form; shares data with Entity, read only
	Edges   []Edge
	Targets []LocationSpec // for Location entities: the targets to read next
}

// Envelope checks a parsed document the way Backstage's output collector
// does before anything else, returning the raw entity with the two location
// annotations set. It fails with StageParse or StageEnvelope.
func Envelope(doc any, src Source) (map[string]any, error) {
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &RejectError{Stage: StageParse, Err: &Error{Name: "Error", Message: "Expected object at root, got " + jsTypeof(doc)}}
	}
	if err := envelopeSchema.validate(obj, ""); err != nil {
		return nil, &RejectError{Stage: StageEnvelope, Err: typeError(err.Detailed())}
	}
	md := obj["metadata"].(map[string]any)
	annotations := map[string]any{}
	switch a := md["annotations"].(type) {
	case nil:
	case map[string]any:
		for k, v := range a {
			annotations[k] = v
		}
	default:
		return nil, &RejectError{Stage: StageEnvelope, Err: errorf("metadata.annotations must be a valid object")}
	}
	annotations[AnnotationOriginLocation] = src.Origin.String()
	annotations[AnnotationLocation] = src.Location.String()
	out := shallowCopy(obj)
	newMD := shallowCopy(md)
	newMD["annotations"] = annotations
	out["metadata"] = newMD
	return out, nil
}

func jsTypeof(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil, []any, map[string]any:
		return "object" // JavaScript's typeof, as in Backstage's message

	}
	return "undefined"
}

func shallowCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// refOfRaw is stringifyEntityRef on a raw entity.
func refOfRaw(e map[string]any) string {
	kind, _ := e["kind"].(string)
	md, _ := e["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	return Ref{Kind: kind, Namespace: ns, Name: name}.String()
}

// Process runs preprocessing, policies, validation, Location target
// resolution and relation emission on an entity that passed Envelope, in
// Backstage's order and with its messages. Errors are *RejectError with
// StageProcessing.
func (p *Processor) Process(ctx context.Context, raw map[string]any, src Source) (*Result, error) {
	ref := refOfRaw(raw)
	fail := func(err error) (*Result, error) {
		return nil, &RejectError{Stage: StageProcessing, Ref: ref, Err: err}
	}

	// Pre-process: placeholders, sorted relation lists, location annotations.
	v, _, err := p.placeholders(ctx, raw, src.Location)
	if err != nil {
		return fail(inputError(asBackstageError(err), "Processor PlaceholderProcessor threw an error while preprocessing"))
	}
	entity := v.(map[string]any)
	sortSpecLists(entity)
	entity = annotateLocation(entity, src.Location)

	// Policies.
	if err := applyPolicies(entity); err != nil {
		return fail(inputError(err, "Policy check failed for %s", ref))
	}
	if _, ok := entity["metadata"].(map[string]any)["namespace"]; !ok {
		entity["metadata"].(map[string]any)["namespace"] = DefaultNamespace
	}

	// Kind validation.
	recognized, kerr := validateKind(entity)
	if kerr != nil {
		processor := "BuiltinKindsEntityProcessor"
		if entity["kind"] == "Template" {
			processor = "ScaffolderEntitiesProcessor"
		}
		return fail(inputError(typeError(kerr.Detailed()), "Processor %s threw an error while validating the entity %s", processor, ref))
	}
	if !recognized {
		return fail(inputError(nil, "No processor recognized the entity %s as valid, possibly caused by a foreign kind or apiVersion", ref))
	}

	e, err := EntityFromMap(entity)
	if err != nil {
		return fail(inputError(err, "Entity %s could not be read", ref))
	}
	res := &Result{Entity: e, Raw: entity}

	if e.Kind == "Location" {
		targets, err := p.locationTargets(e, src.Location)
		if err != nil {
			return fail(err)
		}
		res.Targets = targets
	}

	edges, err := EmitRelations(e)
	if err != nil {
		processor := "BuiltinKindsEntityProcessor"
		if e.Kind == "Template" {
			processor = "ScaffolderEntitiesProcessor"
		}
		return fail(inputError(err, "Processor %s threw an error while postprocessing", processor))
	}
	res.Edges = edges
	return res, nil
}

// applyPolicies runs Backstage's default policy chain: schema, default
// namespace (applied by the caller), no foreign root fields, field formats.
func applyPolicies(e map[string]any) error {
	if err := entitySchema.validate(e, ""); err != nil {
		return errorf("Malformed envelope, %s", err.Error())
	}
	for _, k := range sortedKeys(e) {
		switch k {
		case "apiVersion", "kind", "metadata", "spec":
		default:
			return errorf("Unknown field %s", k)
		}
	}
	if err := checkFieldFormats(e); err != nil {
		return asBackstageError(err)
	}
	return nil
}

// sortSpecLists is BuiltinKindsEntityProcessor's preprocessing: these lists
// are stored sorted when every item is a string.
func sortSpecLists(e map[string]any) {
	spec, ok := e["spec"].(map[string]any)
	if !ok {
		return
	}
	for _, f := range []string{"providesApis", "consumesApis", "dependsOn", "dependencyOf", "memberOf", "children", "members"} {
		list, ok := spec[f].([]any)
		if !ok || len(list) == 0 {
			continue
		}
		strs := make([]string, 0, len(list))
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				break
			}
			strs = append(strs, s)
		}
		if len(strs) != len(list) {
			continue
		}
		sort.Strings(strs)
		sorted := make([]any, len(strs))
		for i, s := range strs {
			sorted[i] = s
		}
		spec = shallowCopy(spec)
		spec[f] = sorted
		e["spec"] = spec
	}
}

// annotateLocation adds view-url, edit-url and source-location for url
// locations on known SCM hosts. Authors' own annotations win.
func annotateLocation(e map[string]any, loc LocationRef) map[string]any {
	if loc.Type != "url" {
		return e
	}
	add := map[string]string{AnnotationViewURL: loc.Target}
	if host := scmHost(loc.Target); host != "" {
		if !commitHashRe.MatchString(loc.Target) {
			if edit := editURL(host, loc.Target); edit != "" {
				add[AnnotationEditURL] = edit
			}
		}
		if u, err := url.Parse(loc.Target); err == nil {
			if dir, err := u.Parse("./"); err == nil {
				src := dir.String()
				if host == "github" {
					// GitHub's resolveUrl points directories at /tree/.
					src = replaceFirst(githubTypeRe, src, "${1}tree/")
				}
				add[AnnotationSourceLocation] = "url:" + src
			}
		}
	}
	md := shallowCopy(e["metadata"].(map[string]any))
	ann, _ := md["annotations"].(map[string]any)
	merged := make(map[string]any, len(ann)+len(add))
	for k, v := range add {
		merged[k] = v
	}
	for k, v := range ann {
		merged[k] = v
	}
	md["annotations"] = merged
	out := shallowCopy(e)
	out["metadata"] = md
	return out
}

// locationTargets is Backstage's Location step: target types must match the
// location or be allowed, relative file targets join the file's directory,
// relative url targets resolve against the URL.
func (p *Processor) locationTargets(e *Entity, loc LocationRef) ([]LocationSpec, error) {
	typ, _ := e.Spec["type"].(string)
	if typ == "" {
		typ = loc.Type
	}
	presence, _ := e.Spec["presence"].(string)
	if presence == "" {
		presence = "required"
	}
	allowed := p.AllowedLocationTypes
	if allowed == nil {
		allowed = []string{"url"}
	}
	if typ != loc.Type && !contains(allowed, typ) {
		b, _ := json.Marshal(allowed)
		return nil, inputError(nil, "Registered locations must be of an allowed type %s", b)
	}
	var targets []string
	if t, _ := e.Spec["target"].(string); t != "" {
		targets = append(targets, t)
	}
	if ts, ok := e.Spec["targets"].([]any); ok {
		for _, t := range ts {
			if s, ok := t.(string); ok {
				targets = append(targets, s)
			}
		}
	}
	var out []LocationSpec
	for _, t := range targets {
		if typ == "file" && strings.HasSuffix(t, "/") {
			return nil, inputError(nil, "LocationEntityProcessor cannot handle %s type location with target %s that ends with a path separator", typ, loc.Target)
		}
		out = append(out, LocationSpec{Type: typ, Target: ResolveTarget(loc, typ, t), Presence: presence})
	}
	return out, nil
}

// ResolveTarget resolves a Location target against the location that named
// it, as Backstage's toAbsoluteUrl does.
func ResolveTarget(base LocationRef, typ, target string) string {
	if base.Type != typ {
		return target
	}
	switch typ {
	case "file":
		if strings.HasPrefix(target, ".") {
			return filepath.Join(filepath.Dir(base.Target), target)
		}
	case "url":
		if b, err := url.Parse(base.Target); err == nil {
			if u, err := b.Parse(target); err == nil {
				return u.String()
			}
		}
	default:
		if strings.HasPrefix(target, ".") {
			return path.Join(path.Dir(base.Target), target)
		}
	}
	return target
}

// placeholders replaces every single-key object whose key is $text, $json or
// $yaml with what its value names, anywhere in the entity.
func (p *Processor) placeholders(ctx context.Context, v any, loc LocationRef) (any, bool, error) {
	switch t := v.(type) {
	case []any:
		var out []any
		for i, item := range t {
			nv, changed, err := p.placeholders(ctx, item, loc)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = append([]any(nil), t...)
			}
			if out != nil {
				out[i] = nv
			}
		}
		if out == nil {
			return v, false, nil
		}
		return out, true, nil
	case map[string]any:
		dollar := false
		for k := range t {
			if strings.HasPrefix(k, "$") {
				dollar = true
			}
		}
		if !dollar {
			var out map[string]any
			for _, k := range sortedKeys(t) {
				nv, changed, err := p.placeholders(ctx, t[k], loc)
				if err != nil {
					return nil, false, err
				}
				if changed && out == nil {
					out = shallowCopy(t)
				}
				if out != nil {
					out[k] = nv
				}
			}
			if out == nil {
				return v, false, nil
			}
			return out, true, nil
		}
		if len(t) != 1 {
			return v, false, nil
		}
		for k, val := range t {
			key := k[1:]
			if key != "text" && key != "json" && key != "yaml" {
				return v, false, nil
			}
			res, err := p.resolvePlaceholder(ctx, key, val, loc)
			return res, true, err
		}
	}
	return v, false, nil
}

func (p *Processor) resolvePlaceholder(ctx context.Context, key string, value any, loc LocationRef) (any, error) {
	s, ok := value.(string)
	if !ok {
		return nil, errorf("Placeholder $%s expected a string value parameter, in the form of an absolute URL or a relative path", key)
	}
	var data []byte
	var err error
	if p.ReadPlaceholder == nil {
		err = errors.New("no reader is configured for placeholders")
	} else {
		data, err = p.ReadPlaceholder(ctx, loc, s)
	}
	if err != nil {
		var re *ResolveError
		if errors.As(err, &re) {
			return nil, errorf("Placeholder $%s could not form a URL out of %s and %s, %v", key, loc.Target, s, re.Err)
		}
		return nil, errorf("Placeholder $%s could not read location %s, %v", key, s, err)
	}
	switch key {
	case "text":
		return strings.ToValidUTF8(string(data), "\uFFFD"), nil
	case "json":
		var out any
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, errorf("Placeholder $json failed to parse JSON data at %s, SyntaxError: %v", s, err)
		}
		return out, nil
	default:
		docs := ParseDocuments(data)
		var nonEmpty []Document
		for _, d := range docs {
			nonEmpty = append(nonEmpty, d)
		}
		if len(nonEmpty) != 1 {
			return nil, errorf("Placeholder $yaml expected to find exactly one document of data at %s, found %d", s, len(nonEmpty))
		}
		if nonEmpty[0].Err != nil {
			return nil, errorf("Placeholder $yaml found an error in the data at %s, %v", s, nonEmpty[0].Err)
		}
		return nonEmpty[0].Value, nil
	}
}

// scmHost returns the integration type Backstage would match for a URL
// with no integrations configured, or "".
func scmHost(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Hostname()) {
	case "github.com":
		// raw.githubusercontent.com matches no integration in Backstage.
		return "github"
	case "gitlab.com":
		return "gitlab"
	case "bitbucket.org":
		return "bitbucketCloud"
	case "dev.azure.com":
		return "azure"
	}
	return ""
}

func editURL(host, target string) string {
	switch host {
	case "github":
		return replaceFirst(githubTypeRe, target, "${1}edit/")
	case "gitlab":
		return replaceFirst(gitlabTypeRe, target, "/-/edit/")
	}
	return ""
}

// The URL types Backstage's GitHub and GitLab integrations rewrite
// (replaceGithubUrlType, replaceGitLabUrlType).
var (
	githubTypeRe = mustRe(`(//[^/]+/[^/]+/[^/]+/)(?:blob|tree|edit)/`)
	gitlabTypeRe = mustRe(`/-/(?:blob|tree|edit)/`)
)

// replaceFirst replaces the first match of re in s, as JavaScript's
// String.replace does with a non-global regexp.
func replaceFirst(re *regexp.Regexp, s, repl string) string {
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	return s[:m[0]] + string(re.ExpandString(nil, repl, s, m)) + s[m[1]:]
}

var commitHashRe = mustRe(`\b[0-9a-f]{40,}\b`)

// String formats a rejection for people: file, document and the error.
func (e *RejectError) Describe(file string, index int) string {
	return fmt.Sprintf("%s (document %d): %s", file, index, e.Err)
}

// FileEntities are the entities one file of a location holds.
type FileEntities struct {
	Location LocationSpec
	Entities []*Entity
}

// GeneratedLocationName is the name Backstage gives the Location entity of
// a registered location: generated-<sha1 of "type:target">.
func GeneratedLocationName(spec LocationSpec) string {
	sum := sha1.Sum([]byte(spec.Type + ":" + spec.Target))
	return "generated-" + hex.EncodeToString(sum[:])
}
