// Package template parses Backstage Software Templates
// (apiVersion scaffolder.backstage.io/v1beta3, kind Template) into a typed
// form: metadata, the parameter pages (JSON Schema objects), the steps and
// the output block.
package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
)

// APIVersion is the only Template apiVersion Parse accepts.
const APIVersion = "scaffolder.backstage.io/v1beta3"

// Template is a parsed v1beta3 Template entity.
type Template struct {
	Name        string
	Namespace   string
	Title       string
	Description string
	Tags        []string
	Owner       string
	Type        string
	Lifecycle   string
	// Parameters holds one JSON Schema object per wizard page; a single
	// object in the source is one page.
	Parameters []map[string]any
	Steps      []Step
	Output     Output
	// Presentation is spec.presentation as written (buttonLabels, …).
	Presentation map[string]any
	// Spec is the raw spec, normalised to JSON types.
	Spec map[string]any
}

// Step is one entry of spec.steps.
type Step struct {
	ID     string
	Name   string
	Action string
	// Input is the raw (still templated) input tree; nil when absent.
	Input map[string]any
	// If is the raw `if` value (a templated string or a boolean); nil when absent.
	If any
	// Each is the raw `each` value (a templated string or an array); nil when absent.
	Each any
	// Raw is the step object as written.
	Raw map[string]any
}

// Output is spec.output.
type Output struct {
	Links []OutputLink
	Text  []OutputText
	// Extra holds the other (free-form) keys of spec.output.
	Extra map[string]any
}

// OutputLink is one spec.output.links entry.
type OutputLink struct {
	Title     string
	URL       string
	EntityRef string
	Icon      string
	If        any
}

// OutputText is one spec.output.text entry.
type OutputText struct {
	Title   string
	Content string
	Icon    string
	Default bool
	If      any
}

// Error lists every problem found in a malformed template.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid template: " + strings.Join(e.Problems, "; ")
}

// Parse reads a Template from entity JSON or YAML ([]byte or string), a
// decoded map, or a *catalog.Entity.
func Parse(src any) (*Template, error) {
	var raw map[string]any
	switch v := src.(type) {
	case nil:
		return nil, errors.New("invalid template: no document")
	case []byte:
		m, err := decodeBytes(v)
		if err != nil {
			return nil, err
		}
		raw = m
	case string:
		m, err := decodeBytes([]byte(v))
		if err != nil {
			return nil, err
		}
		raw = m
	case map[string]any:
		raw = v
	case *catalog.Entity:
		if v == nil {
			return nil, errors.New("invalid template: nil entity")
		}
		raw = v.Map()
	case catalog.Entity:
		raw = v.Map()
	default:
		return nil, fmt.Errorf("invalid template: unsupported input %T", src)
	}
	n, ok := Normalize(raw).(map[string]any)
	if !ok {
		return nil, errors.New("invalid template: document is not an object")
	}
	return parseMap(n)
}

func decodeBytes(b []byte) (map[string]any, error) {
	return decodeOrdered(b)
}

// Normalize converts a YAML/Go tree into JSON types: map[string]any,
// []any, string, float64, bool and nil. Integers become float64 so that
// the tree looks exactly like one decoded by encoding/json.
func Normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = Normalize(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = Normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = Normalize(x)
		}
		return out
	case []string:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = x
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = Normalize(x)
		}
		return out
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case int32:
		return float64(t)
	case uint64:
		return float64(t)
	case float32:
		return float64(t)
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return t.String()
		}
		return f
	default:
		return v
	}
}

func parseMap(raw map[string]any) (*Template, error) {
	var probs []string
	bad := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }

	if av, _ := raw["apiVersion"].(string); av != APIVersion {
		bad("apiVersion must be %q, got %q", APIVersion, fmt.Sprint(raw["apiVersion"]))
	}
	if k, _ := raw["kind"].(string); k != "Template" {
		bad("kind must be \"Template\", got %q", fmt.Sprint(raw["kind"]))
	}
	t := &Template{}
	md, ok := raw["metadata"].(map[string]any)
	if !ok {
		bad("metadata must be an object")
	} else {
		t.Name, _ = md["name"].(string)
		if t.Name == "" {
			bad("metadata.name is required")
		}
		t.Namespace, _ = md["namespace"].(string)
		t.Title, _ = md["title"].(string)
		t.Description, _ = md["description"].(string)
		if tags, ok := md["tags"].([]any); ok {
			for _, x := range tags {
				if s, ok := x.(string); ok {
					t.Tags = append(t.Tags, s)
				} else {
					bad("metadata.tags must be strings")
					break
				}
			}
		} else if md["tags"] != nil {
			bad("metadata.tags must be an array")
		}
	}
	spec, ok := raw["spec"].(map[string]any)
	if !ok {
		bad("spec must be an object")
		return nil, &Error{Problems: probs}
	}
	t.Spec = spec
	for _, key := range []string{"parameters", "steps", "output"} {
		if ph := findPlaceholder(spec[key], 0); ph != "" {
			bad("spec.%s holds an unresolved placeholder %s (the catalog substitutes $yaml/$json/$text before the template can be used)", key, ph)
		}
	}
	if len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	t.Type, ok = spec["type"].(string)
	if !ok || t.Type == "" {
		bad("spec.type is required and must be a string")
	}
	if v, present := spec["owner"]; present {
		if t.Owner, ok = v.(string); !ok {
			bad("spec.owner must be a string")
		}
	}
	t.Lifecycle, _ = spec["lifecycle"].(string)
	t.Presentation, _ = spec["presentation"].(map[string]any)

	switch p := spec["parameters"].(type) {
	case nil:
	case map[string]any:
		t.Parameters = []map[string]any{p}
	case []any:
		for i, x := range p {
			m, ok := x.(map[string]any)
			if !ok {
				bad("spec.parameters[%d] must be an object", i)
				continue
			}
			t.Parameters = append(t.Parameters, m)
		}
	default:
		bad("spec.parameters must be an object or an array of objects")
	}
	for i, pg := range t.Parameters {
		if props, present := pg["properties"]; present {
			if _, ok := props.(map[string]any); !ok {
				bad("spec.parameters[%d].properties must be an object", i)
			}
		}
		if req, present := pg["required"]; present {
			if _, ok := req.([]any); !ok {
				bad("spec.parameters[%d].required must be an array", i)
			}
		}
	}

	switch s := spec["steps"].(type) {
	case nil:
	case []any:
		seen := map[string]bool{}
		for i, x := range s {
			m, ok := x.(map[string]any)
			if !ok {
				bad("spec.steps[%d] must be an object", i)
				continue
			}
			st := Step{Raw: m, If: m["if"], Each: m["each"]}
			if st.Action, ok = m["action"].(string); !ok || st.Action == "" {
				bad("spec.steps[%d].action is required and must be a string", i)
			}
			if v, present := m["id"]; present && v != nil {
				if st.ID, ok = v.(string); !ok {
					bad("spec.steps[%d].id must be a string", i)
				}
			}
			if st.ID == "" {
				st.ID = fmt.Sprintf("step-%d", i)
			} else if seen[st.ID] {
				bad("spec.steps[%d].id %q is duplicated", i, st.ID)
			}
			seen[st.ID] = true
			if v, present := m["name"]; present && v != nil {
				if st.Name, ok = v.(string); !ok {
					bad("spec.steps[%d].name must be a string", i)
				}
			}
			if st.Name == "" {
				st.Name = st.Action
			}
			if v, present := m["input"]; present && v != nil {
				if st.Input, ok = v.(map[string]any); !ok {
					bad("spec.steps[%d].input must be an object", i)
				}
			}
			switch st.If.(type) {
			case nil, string, bool:
			default:
				bad("spec.steps[%d].if must be a string or a boolean", i)
			}
			t.Steps = append(t.Steps, st)
		}
	default:
		bad("spec.steps must be an array")
	}

	switch o := spec["output"].(type) {
	case nil:
	case map[string]any:
		t.Output = parseOutput(o, bad)
	default:
		bad("spec.output must be an object")
	}
	if len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	return t, nil
}

func parseOutput(o map[string]any, bad func(string, ...any)) Output {
	var out Output
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o[k]
		switch k {
		case "links":
			arr, ok := v.([]any)
			if !ok && v != nil {
				bad("spec.output.links must be an array")
			}
			for i, x := range arr {
				m, ok := x.(map[string]any)
				if !ok {
					bad("spec.output.links[%d] must be an object", i)
					continue
				}
				l := OutputLink{If: m["if"]}
				l.Title, _ = m["title"].(string)
				l.URL, _ = m["url"].(string)
				l.EntityRef, _ = m["entityRef"].(string)
				l.Icon, _ = m["icon"].(string)
				out.Links = append(out.Links, l)
			}
		case "text":
			arr, ok := v.([]any)
			if !ok && v != nil {
				bad("spec.output.text must be an array")
			}
			for i, x := range arr {
				m, ok := x.(map[string]any)
				if !ok {
					bad("spec.output.text[%d] must be an object", i)
					continue
				}
				tx := OutputText{If: m["if"]}
				tx.Title, _ = m["title"].(string)
				tx.Content, _ = m["content"].(string)
				tx.Icon, _ = m["icon"].(string)
				tx.Default, _ = m["default"].(bool)
				out.Text = append(out.Text, tx)
			}
		default:
			if out.Extra == nil {
				out.Extra = map[string]any{}
			}
			out.Extra[k] = v
		}
	}
	return out
}

// PageTitle returns the title of parameter page i, or Backstage's default
// for an untitled page.
func (t *Template) PageTitle(i int) string {
	if i >= 0 && i < len(t.Parameters) {
		if s, ok := t.Parameters[i]["title"].(string); ok && s != "" {
			return s
		}
	}
	return "Please enter the following information"
}

// findPlaceholder finds a catalog placeholder ({$yaml|$json|$text: ref})
// that the catalog's placeholder processor would have substituted.
func findPlaceholder(v any, depth int) string {
	if depth > 64 {
		return ""
	}
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			for k, x := range t {
				if k == "$yaml" || k == "$json" || k == "$text" {
					return fmt.Sprintf("%s: %v", k, x)
				}
			}
		}
		for _, x := range t {
			if ph := findPlaceholder(x, depth+1); ph != "" {
				return ph
			}
		}
	case []any:
		for _, x := range t {
			if ph := findPlaceholder(x, depth+1); ph != "" {
				return ph
			}
		}
	}
	return ""
}
