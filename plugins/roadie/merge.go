package roadie

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// merger is lodash's mergeWith as Roadie calls it: objects merge key by
// key, arrays index by index, and with concat (the mergeArrays input) an
// existing array is instead concatenated with the new value and
// deduplicated (Array.from(new Set(a.concat(b)))). Values are the
// engine's model; src is never aliased into the result's containers
// except as lodash's concatenation does.
type merger struct{ concat bool }

// maxArrayGrowth bounds how far an object key like "99999" may extend an
// array (lodash would make it sparse; JSON would fill it with nulls).
const maxArrayGrowth = 10000

// child is what object[key] becomes when src is merged onto obj (nil
// when the key is absent).
func (m merger) child(obj, src any) (any, error) {
	if arr, ok := obj.([]any); ok && m.concat {
		return dedupe(append(append([]any{}, arr...), spread(src)...)), nil
	}
	switch s := src.(type) {
	case []any:
		target, ok := obj.([]any)
		if !ok {
			target = []any{}
		}
		return m.into(target, s)
	case *expr.Object:
		switch obj.(type) {
		case *expr.Object, []any:
			return m.into(obj, s)
		}
		return m.into(expr.NewObject(), s)
	}
	return src, nil
}

// into is lodash's baseMerge: every key (or index) of the container src
// merged into the container dst, which it returns (an array may grow).
func (m merger) into(dst, src any) (any, error) {
	each := func(f func(k string, i int, v any) error) error {
		switch s := src.(type) {
		case *expr.Object:
			for _, k := range s.Keys() {
				v, _ := s.Get(k)
				i, ok := arrayIndex(k)
				if !ok {
					i = -1
				}
				if err := f(k, i, v); err != nil {
					return err
				}
			}
		case []any:
			for i, v := range s {
				if err := f(strconv.Itoa(i), i, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	switch d := dst.(type) {
	case *expr.Object:
		err := each(func(k string, _ int, v any) error {
			old, _ := d.Get(k)
			nv, err := m.child(old, v)
			if err == nil {
				d.Set(k, nv)
			}
			return err
		})
		return d, err
	case []any:
		err := each(func(_ string, i int, v any) error {
			if i < 0 {
				return nil // a named property of an array: not in its JSON
			}
			if i >= len(d)+maxArrayGrowth {
				return fmt.Errorf("merge: index %d is too far past the end of an array of %d", i, len(d))
			}
			var old any
			if i < len(d) {
				old = d[i]
			}
			nv, err := m.child(old, v)
			if err != nil {
				return err
			}
			for len(d) <= i {
				d = append(d, nil)
			}
			d[i] = nv
			return nil
		})
		return d, err
	}
	return dst, nil
}

// root is mergeWith(dst, src) itself: the customizer is not called for
// the root, a null document becomes an object, and a source that is not
// an object or array changes nothing.
func (m merger) root(dst, src any) (any, error) {
	if !isContainer(src) {
		return dst, nil
	}
	if !isContainer(dst) {
		if dst != nil {
			return nil, errors.New("the file's content is not an object or an array, so nothing can be merged into it")
		}
		dst = expr.NewObject()
	}
	return m.into(dst, src)
}

func isContainer(v any) bool {
	switch v.(type) {
	case *expr.Object, []any:
		return true
	}
	return false
}

// arrayIndex reports whether k is a canonical array index ("0", "12").
func arrayIndex(k string) (int, bool) {
	if k == "" || len(k) > 9 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(k)
	return n, err == nil && n >= 0
}

// spread is Array#concat's treatment of its argument.
func spread(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

// sameValueKey identifies a primitive as a Set compares it (SameValueZero);
// objects and arrays are each unique.
func sameValueKey(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case bool:
		return "b:" + strconv.FormatBool(x), true
	case string:
		return "s:" + x, true
	case float64:
		if math.IsNaN(x) {
			return "f:NaN", true
		}
		return "f:" + strconv.FormatFloat(x+0, 'g', -1, 64), true
	}
	return "", false
}

func dedupe(list []any) []any {
	seen := map[string]bool{}
	out := list[:0]
	for _, v := range list {
		if k, ok := sameValueKey(v); ok {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, v)
	}
	return out
}

// ---- the same merge on YAML nodes, keeping their comments

// childNode is merger.child on a node (nil: the key is absent). Nodes it
// keeps keep their comments; a replaced scalar passes its comments on.
func (m merger) childNode(obj *yaml.Node, src any) (*yaml.Node, error) {
	if obj != nil && obj.Kind == yaml.AliasNode {
		// an alias is shared: merge into a copy of its value instead
		v, err := yamlValue(obj)
		if err != nil {
			return nil, err
		}
		nv, err := m.child(v, src)
		if err != nil {
			return nil, err
		}
		return yamlNode(nv), nil
	}
	if obj != nil && obj.Kind == yaml.SequenceNode && m.concat {
		return m.concatNode(obj, src)
	}
	switch s := src.(type) {
	case []any:
		if obj != nil && obj.Kind == yaml.SequenceNode {
			return obj, m.intoSeq(obj, s)
		}
		v, err := m.into([]any{}, s)
		if err != nil {
			return nil, err
		}
		return yamlNode(v), nil
	case *expr.Object:
		if obj != nil && obj.Kind == yaml.MappingNode {
			return obj, m.intoMap(obj, s)
		}
		if obj != nil && obj.Kind == yaml.SequenceNode {
			v, err := yamlValue(obj)
			if err != nil {
				return nil, err
			}
			nv, err := m.into(v, s)
			if err != nil {
				return nil, err
			}
			return yamlNode(nv), nil
		}
		v, err := m.into(expr.NewObject(), s)
		if err != nil {
			return nil, err
		}
		return yamlNode(v), nil
	}
	n := yamlNode(src)
	if obj != nil && obj.Kind == yaml.ScalarNode {
		n.HeadComment, n.LineComment, n.FootComment = obj.HeadComment, obj.LineComment, obj.FootComment
	}
	return n, nil
}

func (m merger) intoMap(dst *yaml.Node, src *expr.Object) error {
	for _, k := range src.Keys() {
		v, _ := src.Get(k)
		found := false
		for i := 0; i+1 < len(dst.Content); i += 2 {
			if key := dst.Content[i]; key.Kind == yaml.ScalarNode && key.Value == k {
				n, err := m.childNode(dst.Content[i+1], v)
				if err != nil {
					return err
				}
				dst.Content[i+1], found = n, true
				break
			}
		}
		if !found {
			n, err := m.childNode(nil, v)
			if err != nil {
				return err
			}
			dst.Content = append(dst.Content, scalarNode(k), n)
		}
	}
	return nil
}

func (m merger) intoSeq(dst *yaml.Node, src []any) error {
	for i, v := range src {
		var old *yaml.Node
		if i < len(dst.Content) {
			old = dst.Content[i]
		}
		n, err := m.childNode(old, v)
		if err != nil {
			return err
		}
		if old != nil {
			dst.Content[i] = n
		} else {
			dst.Content = append(dst.Content, n)
		}
	}
	return nil
}

func (m merger) concatNode(dst *yaml.Node, src any) (*yaml.Node, error) {
	seen := map[string]bool{}
	kept := dst.Content[:0]
	for _, n := range dst.Content {
		r := n
		for r.Kind == yaml.AliasNode && r.Alias != nil {
			r = r.Alias
		}
		if r.Kind == yaml.ScalarNode {
			v, err := scalarValue(r)
			if err != nil {
				return nil, err
			}
			if k, ok := sameValueKey(v); ok {
				if seen[k] {
					continue
				}
				seen[k] = true
			}
		}
		kept = append(kept, n)
	}
	for _, v := range spread(src) {
		if k, ok := sameValueKey(v); ok {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		kept = append(kept, yamlNode(v))
	}
	dst.Content = kept
	return dst, nil
}

// rootNode is merger.root on a document node.
func (m merger) rootNode(doc *yaml.Node, src any) error {
	if !isContainer(src) {
		return nil
	}
	if doc.Kind != yaml.DocumentNode {
		return errors.New("not a YAML document")
	}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	root := doc.Content[0]
	if s, ok := src.(*expr.Object); ok && root.Kind == yaml.MappingNode {
		return m.intoMap(root, s)
	}
	if s, ok := src.([]any); ok && root.Kind == yaml.SequenceNode {
		return m.intoSeq(root, s)
	}
	v, err := yamlValue(root)
	if err != nil {
		return err
	}
	nv, err := m.root(v, src)
	if err != nil {
		return err
	}
	doc.Content[0] = yamlNode(nv)
	return nil
}

// ---- roadiehq:utils:merge

type mergeAction struct{}

func (mergeAction) ID() string          { return "roadiehq:utils:merge" }
func (mergeAction) Description() string { return "Merges data into an existing structured file." }
func (mergeAction) Schema() (map[string]any, map[string]any) {
	content := action.TypeSchema("", "Content", "This will be merged into to the file. Can be either an object or a string.")
	content["type"] = []any{"string", "object"}
	field := action.ObjectSchema([]string{"key", "value"}, map[string]any{
		"key":   action.TypeSchema("string", "Key", "The key of the field to use to find the document to merge into."),
		"value": action.TypeSchema("string", "Value", "The value of the field to use to find the document to merge into."),
	})
	field["title"] = "Use document including field"
	field["description"] = "This option is only applicable to YAML files. It allows you to specify a field to use as a key to find the document to merge into."
	return action.ObjectSchema([]string{"path", "content"}, map[string]any{
			"path":                      action.TypeSchema("string", "Path", "Path to existing file to append."),
			"content":                   content,
			"mergeArrays":               action.TypeSchema("boolean", "Merge arrays", "Where a value is an array the merge function should concatenate the provided array value with the target array"),
			"preserveYamlComments":      action.TypeSchema("boolean", "Preserve YAML comments", "Will preserve standalone and inline comments in YAML files"),
			"useDocumentIncludingField": field,
			"options":                   yamlOptionsSchema(),
		}), action.ObjectSchema(nil, map[string]any{
			"path": action.TypeSchema("string", "Path", "Path to the file that was written"),
		})
}

// SupportsDryRun: the change stays in the (dry run's) workspace.
func (mergeAction) SupportsDryRun() bool { return true }

func (mergeAction) Run(c *action.Context) error {
	rel, err := requiredString(c.Input, "path", false)
	if err != nil {
		return err
	}
	raw, ok := c.Input["content"]
	if !ok || raw == nil || expr.IsUndefined(raw) {
		return errors.New("input \"content\" is required")
	}
	concat, err := action.BoolInput(c.Input, "mergeArrays")
	if err != nil {
		return err
	}
	preserve, err := action.BoolInput(c.Input, "preserveYamlComments")
	if err != nil {
		return err
	}
	opts, err := readYAMLOptions(c.Input)
	if err != nil {
		return err
	}
	field, err := documentField(c.Input)
	if err != nil {
		return err
	}
	data, err := action.ReadWorkspaceFile(c, rel)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("The file %s does not exist.", rel)
	}
	if err != nil {
		return fmt.Errorf("path: %w", err)
	}
	m := merger{concat: concat}
	var out string
	switch strings.ToLower(path.Ext(filepathToSlash(rel))) {
	case ".json":
		content, err := contentValue(raw, parseJSON)
		if err != nil {
			return err
		}
		old, err := parseJSON(data)
		if err != nil {
			// Roadie reads the file with YAML.parse, which takes JSON
			// with comments or trailing commas YAML allows
			if old, err = parseYAML(data); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
		merged, err := m.root(old, content)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		out = stringifyJSON(merged, "  ", nil)
	case ".yaml", ".yml":
		content, err := contentValue(raw, parseYAML)
		if err != nil {
			return err
		}
		if preserve {
			out, err = mergeYAMLPreservingComments(data, content, m, field, opts)
		} else {
			out, err = mergeYAML(data, content, m, field, opts)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	default:
		c.Logf("%s was left alone: only .json, .yaml and .yml files are merged", rel)
		return nil
	}
	for _, o := range opts.ignored {
		c.Logf("YAML option %q is not supported and was ignored", o)
	}
	if err := action.UpdateWorkspaceFile(c, rel, []byte(out)); err != nil {
		return fmt.Errorf("path: %w", err)
	}
	c.Logf("Merged content into %s", rel)
	c.SetOutput("path", pathOutput(c, rel))
	return nil
}

func filepathToSlash(p string) string { return strings.ReplaceAll(p, `\`, "/") }

// contentValue is the content input: a string is parsed (JSON.parse or
// YAML.parse by the file's type), an object taken as it is.
func contentValue(raw any, parse func([]byte) (any, error)) (any, error) {
	if s, ok := raw.(string); ok {
		v, err := parse([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("input \"content\": %w", err)
		}
		return normalize(v), nil
	}
	v := normalize(raw)
	if !isContainer(v) {
		return nil, fmt.Errorf("input \"content\" must be an object or a string, got %T", raw)
	}
	return v, nil
}

// docField is useDocumentIncludingField.
type docField struct {
	set        bool
	key, value string
}

func documentField(in map[string]any) (docField, error) {
	m, err := action.MapInput(in, "useDocumentIncludingField")
	if err != nil || m == nil {
		return docField{}, err
	}
	f := docField{set: true}
	if f.key, err = action.StringInput(m, "key"); err != nil {
		return f, fmt.Errorf("useDocumentIncludingField: %w", err)
	}
	switch v := m["value"].(type) {
	case string:
		f.value = v
	case float64:
		f.value = jsNumber(v)
	case bool:
		f.value = strconv.FormatBool(v)
	default:
		return f, errors.New("useDocumentIncludingField: input \"value\" must be a string")
	}
	if f.key == "" {
		return f, errors.New("useDocumentIncludingField: input \"key\" is required")
	}
	return f, nil
}

var (
	errNoDocuments       = errors.New("No documents found in the input content. Please provide a valid YAML file.")
	errMultipleDocuments = errors.New("Multiple documents found in the input content. Please provide a key and value to use to find the document to merge into.")
)

// mergeYAML is Roadie's merge without preserveYamlComments: every
// document is read as plain data (comments are lost) and written again.
func mergeYAML(data []byte, content any, m merger, f docField, o yamlOptions) (string, error) {
	docs, err := parseYAMLDocuments(data)
	if err != nil {
		return "", err
	}
	if len(docs) == 0 {
		return "", errNoDocuments
	}
	if len(docs) > 1 && !f.set {
		return "", errMultipleDocuments
	}
	parts := make([]string, 0, len(docs))
	for _, d := range docs {
		v, err := yamlValue(d)
		if err != nil {
			return "", err
		}
		match := len(docs) == 1
		if !match {
			// Document.get(key): a top-level key, a string or a number
			var got any
			if obj, ok := v.(*expr.Object); ok {
				got, _ = obj.Get(f.key)
			}
			var s string
			switch x := got.(type) {
			case string:
				s = x
			case float64:
				s = jsNumber(x)
			default:
				return "", fmt.Errorf("The value at %q defined in useDocumentIncludingField must be a string or a number.", f.key)
			}
			match = s == f.value
		}
		if match {
			if v, err = m.root(v, cloneValue(content)); err != nil {
				return "", err
			}
		}
		s, err := encodeYAML(yamlNode(v), o)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "---\n"), nil
}

// yamlSeparator is how Roadie splits a stream before merging with
// comments kept (/^---\s*$/m).
var yamlSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// mergeYAMLPreservingComments merges into the documents' nodes, so
// comments, key order and flow styles that are not replaced stay.
// Documents that useDocumentIncludingField does not select are written
// back unchanged; the field's key may be a dotted path here, as in
// Roadie.
func mergeYAMLPreservingComments(data []byte, content any, m merger, f docField, o yamlOptions) (string, error) {
	var texts []string
	for _, t := range yamlSeparator.Split(string(data), -1) {
		if strings.TrimSpace(t) != "" {
			texts = append(texts, t)
		}
	}
	if len(texts) == 0 {
		return "", errNoDocuments
	}
	if len(texts) > 1 && !f.set {
		return "", errMultipleDocuments
	}
	parts := make([]string, 0, len(texts))
	for _, t := range texts {
		docs, err := parseYAMLDocuments([]byte(t))
		if err != nil {
			return "", err
		}
		doc := &yaml.Node{Kind: yaml.DocumentNode}
		if len(docs) > 0 {
			doc = docs[0]
		}
		match := len(texts) == 1
		if !match {
			v, err := yamlValue(doc)
			if err != nil {
				return "", err
			}
			match = pathEquals(v, f.key, f.value)
		}
		if match {
			if err := m.rootNode(doc, cloneValue(content)); err != nil {
				return "", err
			}
		}
		if len(doc.Content) == 0 {
			parts = append(parts, "null\n")
			continue
		}
		s, err := encodeYAML(doc, o)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "---\n"), nil
}

// pathEquals is Roadie's existPathInObject: the value at a dotted path,
// as a string, equals want.
func pathEquals(v any, dotted, want string) bool {
	cur := v
	for _, k := range strings.Split(dotted, ".") {
		switch x := cur.(type) {
		case *expr.Object:
			next, ok := x.Get(k)
			if !ok {
				return false
			}
			cur = next
		case []any:
			i, ok := arrayIndex(k)
			if !ok || i >= len(x) {
				return false
			}
			cur = x[i]
		default:
			return false
		}
	}
	switch x := cur.(type) {
	case string:
		return x == want
	case float64:
		return jsNumber(x) == want
	case bool:
		return strconv.FormatBool(x) == want
	}
	return false
}

func cloneValue(v any) any { return normalize(v) }

// yamlOptionsSchema is the options input of Roadie's YAML actions (the
// yaml package's ToStringOptions).
func yamlOptionsSchema() map[string]any {
	props := map[string]any{
		"indent":            action.TypeSchema("number", "Indent", "(default: 2) - the number of spaces to use when indenting code"),
		"indentSeq":         action.TypeSchema("boolean", "Indent sequences", "(default: true) - if true, block sequences should be indented (not supported: always true)"),
		"lineWidth":         action.TypeSchema("number", "Line width", "(default: 80) - maximum line width (not supported: lines are not folded)"),
		"blockQuote":        action.TypeSchema("", "Block quote", "use block quote styles for scalar values where applicable (not supported)"),
		"collectionStyle":   action.TypeSchema("string", "Collection style", "enforce 'block' or 'flow' style on maps and sequences (not supported)"),
		"defaultStringType": action.TypeSchema("string", "Default string type", "the default type of string literal used to stringify values (not supported)"),
		"singleQuote":       action.TypeSchema("", "Single quote", "use single quote rather than double quote where applicable (not supported)"),
	}
	s := action.ObjectSchema(nil, props)
	s["title"] = "Options"
	s["description"] = "YAML stringify options; only indent is applied"
	return s
}

// ---- roadiehq:utils:json:merge

type jsonMergeAction struct{}

func (jsonMergeAction) ID() string          { return "roadiehq:utils:json:merge" }
func (jsonMergeAction) Description() string { return "Merge new data into an existing JSON file." }
func (jsonMergeAction) Schema() (map[string]any, map[string]any) {
	content := action.TypeSchema("", "Content", "This will be merged into to the file. Can be either an object or a string.")
	content["type"] = []any{"string", "object"}
	return action.ObjectSchema([]string{"path", "content"}, map[string]any{
			"path":            action.TypeSchema("string", "Path", "Path to existing file to append."),
			"content":         content,
			"mergeArrays":     action.TypeSchema("boolean", "Merge arrays", "Where a value is an array the merge function should concatenate the provided array value with the target array"),
			"matchFileIndent": action.TypeSchema("boolean", "Match file indent", "Make the output file indentation match that of the specified input file."),
		}), action.ObjectSchema(nil, map[string]any{
			"path": action.TypeSchema("string", "Path", "Path to the file that was written"),
		})
}

// SupportsDryRun: the change stays in the (dry run's) workspace.
func (jsonMergeAction) SupportsDryRun() bool { return true }

func (jsonMergeAction) Run(c *action.Context) error {
	rel, err := requiredString(c.Input, "path", false)
	if err != nil {
		return err
	}
	raw, ok := c.Input["content"]
	if !ok || raw == nil || expr.IsUndefined(raw) {
		return errors.New("input \"content\" is required")
	}
	concat, err := action.BoolInput(c.Input, "mergeArrays")
	if err != nil {
		return err
	}
	matchIndent, err := action.BoolInput(c.Input, "matchFileIndent")
	if err != nil {
		return err
	}
	content, err := contentValue(raw, parseJSON)
	if err != nil {
		return err
	}
	var old any = expr.NewObject()
	data, err := action.ReadWorkspaceFile(c, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Logf("The file %s does not exist, creating it.", rel)
	case err != nil:
		return fmt.Errorf("path: %w", err)
	default:
		if old, err = parseJSON(data); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	indent := "  "
	if matchIndent {
		if ind := detectIndent(string(data)); ind != "" {
			indent = ind
		} else {
			c.Logf("Failed to detect source file indentation, using default value of 2.")
		}
	}
	merged, err := merger{concat: concat}.root(old, content)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if err := action.UpdateWorkspaceFile(c, rel, []byte(stringifyJSON(merged, indent, nil))); err != nil {
		return fmt.Errorf("path: %w", err)
	}
	c.Logf("Merged content into %s", rel)
	c.SetOutput("path", pathOutput(c, rel))
	return nil
}

// detectIndent is a small detect-indent: the most common step by which a
// line's indentation grows over the previous line's ("" when no line is
// indented). Tabs count as one step of "\t".
func detectIndent(s string) string {
	counts := map[string]int{}
	prev := 0
	prevTab := false
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		n := len(line) - len(strings.TrimLeft(line, " \t"))
		tab := n > 0 && line[0] == '\t'
		if n > prev && (tab == prevTab || prev == 0) {
			unit := " "
			if tab {
				unit = "\t"
			}
			counts[strings.Repeat(unit, n-prev)]++
		}
		prev, prevTab = n, tab
	}
	best := ""
	for k, n := range counts {
		if n > counts[best] || (n == counts[best] && (len(k) < len(best) || (len(k) == len(best) && k < best))) {
			best = k
		}
	}
	return best
}
