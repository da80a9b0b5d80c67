package roadie

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// Values here are the scaffolder engine's: *expr.Object (ordered, as a
// JavaScript object keeps its keys), []any, string, float64, bool and nil.
// Roadie's actions run on JavaScript values, so key order, number
// formatting and JSON.stringify's output are kept as Node.js has them.

// normalize deep-copies an input value into the engine's model: Go maps
// become objects with sorted keys, integers float64, and undefined is
// dropped from objects and null in arrays (as JSON.stringify has it).
func normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case *expr.Object:
		o := expr.NewObject()
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			if expr.IsUndefined(e) {
				continue
			}
			o.Set(k, normalize(e))
		}
		return o
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := expr.NewObject()
		for _, k := range keys {
			if expr.IsUndefined(x[k]) {
				continue
			}
			o.Set(k, normalize(x[k]))
		}
		return o
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return normalize(m)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if expr.IsUndefined(e) {
				e = nil
			}
			out[i] = normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	}
	if expr.IsUndefined(v) {
		return nil
	}
	return fmt.Sprint(v)
}

func isObject(v any) bool { _, ok := v.(*expr.Object); return ok }

// ---- JSON

// stringifyJSON is JSON.stringify(v, null, indent) for normalized values;
// keep, when not nil, is the replacer array: only those property names
// are written, at every depth.
func stringifyJSON(v any, indent string, keep map[string]bool) string {
	var b strings.Builder
	writeJSON(&b, v, indent, "", keep)
	return b.String()
}

func writeJSON(b *strings.Builder, v any, indent, cur string, keep map[string]bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(jsNumber(x))
		}
	case string:
		writeJSONString(b, x)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		inner := cur + indent
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if indent != "" {
				b.WriteString("\n" + inner)
			}
			writeJSON(b, e, indent, inner, keep)
		}
		if indent != "" {
			b.WriteString("\n" + cur)
		}
		b.WriteByte(']')
	case *expr.Object:
		inner := cur + indent
		b.WriteByte('{')
		n := 0
		for _, k := range x.Keys() {
			if keep != nil && !keep[k] {
				continue
			}
			e, _ := x.Get(k)
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if indent != "" {
				b.WriteString("\n" + inner)
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if indent != "" {
				b.WriteByte(' ')
			}
			writeJSON(b, e, indent, inner, keep)
		}
		if indent != "" && n > 0 {
			b.WriteString("\n" + cur)
		}
		b.WriteByte('}')
	default:
		writeJSON(b, normalize(x), indent, cur, keep)
	}
}

// writeJSONString quotes s as JSON.stringify does (no HTML escaping, no
// escaping of U+2028, unlike encoding/json).
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// jsNumber formats a number as JavaScript's Number#toString.
func jsNumber(f float64) string {
	switch {
	case f == 0:
		return "0"
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	a := math.Abs(f)
	if a >= 1e21 || a < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+21 and e-07; JavaScript e+21 and e-7
		if i := strings.IndexByte(s, 'e'); i >= 0 {
			exp := s[i+2:]
			for len(exp) > 1 && exp[0] == '0' {
				exp = exp[1:]
			}
			s = s[:i+2] + exp
		}
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// parseJSON is JSON.parse into the engine's model.
func parseJSON(data []byte) (any, error) {
	v, err := expr.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "expr: "))
	}
	return v, nil
}

// ---- YAML

// yamlBudget bounds how many values a document may expand to through
// aliases (a "billion laughs" file) and how deep they may nest.
type yamlBudget struct{ left int }

const (
	maxYAMLValues = 1_000_000
	maxYAMLDepth  = 1000
)

// parseYAMLDocuments parses every document of a YAML stream into nodes.
func parseYAMLDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		docs = append(docs, &n)
	}
}

// parseYAML is the yaml package's YAML.parse: the first document's value
// (nil for an empty stream). Like YAML.parse, it refuses a stream of more
// than one document.
func parseYAML(data []byte) (any, error) {
	docs, err := parseYAMLDocuments(data)
	if err != nil {
		return nil, err
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
		return yamlValue(docs[0])
	}
	return nil, errors.New("invalid YAML: the source contains multiple documents; use a multi-document parser")
}

// yamlValue converts a node to the engine's model with the YAML 1.2 core
// schema the yaml package uses (timestamps stay strings, "<<" is a plain
// key).
func yamlValue(n *yaml.Node) (any, error) {
	return (&yamlBudget{left: maxYAMLValues}).value(n, 0)
}

func (b *yamlBudget) value(n *yaml.Node, depth int) (any, error) {
	if n == nil {
		return nil, nil
	}
	b.left--
	if b.left < 0 {
		return nil, fmt.Errorf("invalid YAML: the document expands to more than %d values", maxYAMLValues)
	}
	if depth > maxYAMLDepth {
		return nil, fmt.Errorf("invalid YAML: nested more than %d levels deep (or an alias refers to itself)", maxYAMLDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return b.value(n.Content[0], depth)
	case yaml.AliasNode:
		return b.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := b.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		o := expr.NewObject()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := b.key(n.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := o.Get(k); dup {
				return nil, fmt.Errorf("invalid YAML: line %d: map keys must be unique (%q)", n.Content[i].Line, k)
			}
			v, err := b.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("invalid YAML: line %d: unexpected node", n.Line)
}

// key is a mapping key as a JavaScript property name.
func (b *yamlBudget) key(n *yaml.Node, depth int) (string, error) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		v, err := scalarValue(n)
		if err != nil {
			return "", err
		}
		switch x := v.(type) {
		case nil:
			return "", nil
		case float64:
			return jsNumber(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
		return n.Value, nil
	}
	v, err := b.value(n, depth)
	if err != nil {
		return "", err
	}
	return stringifyJSON(v, "", nil), nil
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid YAML: line %d: %s", n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return v, nil
	case "!!int", "!!float":
		var v float64
		if err := n.Decode(&v); err != nil {
			// an integer too large for an int64 still is a number
			f, perr := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if perr != nil {
				return nil, fmt.Errorf("invalid YAML: line %d: %s", n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
			}
			return f, nil
		}
		return v, nil
	}
	// strings, timestamps (YAML 1.2 has none), binary and unknown tags
	return n.Value, nil
}

// yamlNode builds a node from a normalized value, scalars styled (quoted
// or not) by the yaml encoder.
func yamlNode(v any) *yaml.Node {
	switch x := v.(type) {
	case *expr.Object:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			n.Content = append(n.Content, scalarNode(k), yamlNode(e))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case float64:
		switch {
		case math.IsNaN(x):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".nan"}
		case math.IsInf(x, 1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".inf"}
		case math.IsInf(x, -1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "-.inf"}
		}
		tag := "!!float"
		if x == math.Trunc(x) {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: jsNumber(x)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case bool, string:
		return scalarNode(x)
	}
	return yamlNode(normalize(v))
}

// scalarNode is a string or boolean scalar. Strings are left to the
// encoder's YAML 1.2 resolution, which quotes only what would read back
// as another type ("1.0", "true", "null"), not YAML 1.1's yes/no/on/off,
// as the yaml package writes them.
func scalarNode(v any) *yaml.Node {
	switch x := v.(type) {
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(v)}
}

// yamlOptions are the yaml package's ToStringOptions that roadiehq's
// actions accept. The yaml.v3 encoder honours indent; the others are
// accepted, as Roadie's templates pass them, and reported as ignored.
type yamlOptions struct {
	indent  int
	ignored []string
}

func readYAMLOptions(in map[string]any) (yamlOptions, error) {
	o := yamlOptions{indent: 2}
	m, err := action.MapInput(in, "options")
	if err != nil || m == nil {
		return o, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "indent" {
			o.ignored = append(o.ignored, k)
			continue
		}
		n, ok, err := action.NumberInput(m, "indent")
		if err != nil {
			return o, fmt.Errorf("options: %w", err)
		}
		if ok {
			if n < 1 || n > 10 || n != math.Trunc(n) {
				return o, fmt.Errorf("options.indent must be a whole number from 1 to 10, got %v", n)
			}
			o.indent = int(n)
		}
	}
	return o, nil
}

// encodeYAML writes one document as YAML.stringify does: block style,
// sequences indented under their key, a trailing newline.
func encodeYAML(n *yaml.Node, o yamlOptions) (string, error) {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(o.indent)
	if err := e.Encode(n); err != nil {
		return "", fmt.Errorf("write YAML: %w", err)
	}
	if err := e.Close(); err != nil {
		return "", fmt.Errorf("write YAML: %w", err)
	}
	return b.String(), nil
}
