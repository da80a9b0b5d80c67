package mkdocs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxConfigBytes caps the size of one mkdocs.yml (or INHERIT/!include file).
const maxConfigBytes = 1 << 20

// maxYAMLNodes caps how many YAML nodes one file may expand to (anchors and
// aliases can multiply a small file into a huge value).
const maxYAMLNodes = 200_000

// mapping is a YAML mapping that keeps its key order (nav and
// markdown_extensions order matters).
type mapping struct {
	keys []string
	vals map[string]any
}

func newMapping() *mapping { return &mapping{vals: map[string]any{}} }

func (m *mapping) get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[k]
	return v, ok
}

func (m *mapping) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *mapping) del(k string) {
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

// mergeMaps returns parent overridden by child, as mkdocs' INHERIT does:
// nested mappings merge recursively, everything else (lists included) is
// replaced by the child's value.
func mergeMaps(parent, child *mapping) *mapping {
	out := newMapping()
	for _, k := range parent.keys {
		out.set(k, parent.vals[k])
	}
	for _, k := range child.keys {
		cv := child.vals[k]
		if pv, ok := out.vals[k]; ok {
			pm, pok := pv.(*mapping)
			cm, cok := cv.(*mapping)
			if pok && cok {
				out.set(k, mergeMaps(pm, cm))
				continue
			}
		}
		out.set(k, cv)
	}
	return out
}

// converter turns a yaml.Node tree into plain values: string, bool, nil,
// []any and *mapping. Numbers stay strings (they are only displayed).
type converter struct {
	l      *loader
	file   string // for notices
	budget int
}

var errTooComplex = errors.New("YAML document expands to too many nodes (anchors/aliases)")

func (c *converter) value(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	c.budget--
	if c.budget < 0 {
		return nil, errTooComplex
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0])
	case yaml.AliasNode:
		return c.value(n.Alias)
	case yaml.ScalarNode:
		return c.scalar(n), nil
	case yaml.SequenceNode:
		if n.Tag == "!ENV" {
			return c.envSequence(n)
		}
		out := make([]any, 0, len(n.Content))
		for _, ch := range n.Content {
			v, err := c.value(ch)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if n.Tag == "!ENV" {
			c.l.notef("env", "%s: !ENV on a mapping is not supported (line %d)", c.file, n.Line)
			return nil, nil
		}
		return c.mapping(n)
	}
	return nil, nil
}

func (c *converter) scalar(n *yaml.Node) any {
	tag := n.Tag
	switch {
	case tag == "!ENV":
		v, ok := c.l.lookupEnv(n.Value)
		if !ok {
			c.l.notef("env", "%s: environment variable %s is not set (no default)", c.file, n.Value)
			return nil
		}
		return v
	case tag == "!include":
		// Unquoted monorepo include: `- Title: !include ./sub/mkdocs.yml`.
		return includePrefix + n.Value
	case tag == "!relative":
		return n.Value
	case strings.HasPrefix(tag, "!!python/"), strings.HasPrefix(tag, "tag:yaml.org,2002:python/"):
		// Python object references (pymdownx emoji generators and the like):
		// meaningless here, kept as the tag text.
		if n.Value != "" {
			return tag + " " + n.Value
		}
		return tag
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
		return n.Value
	case "!!str", "!!int", "!!float", "!!timestamp", "!!binary", "!!merge":
		return n.Value
	}
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		c.l.notef("yaml", "%s: unknown tag %s kept as a string (line %d)", c.file, tag, n.Line)
	}
	return n.Value
}

// envSequence implements `!ENV [VAR1, VAR2, default]`: the first variable
// that is set wins, else the last item (when there are at least two) is the
// default.
func (c *converter) envSequence(n *yaml.Node) (any, error) {
	vars := n.Content
	var def any
	hasDef := false
	if len(vars) > 1 {
		v, err := c.value(vars[len(vars)-1])
		if err != nil {
			return nil, err
		}
		def, hasDef = v, true
		vars = vars[:len(vars)-1]
	}
	var names []string
	for _, vn := range vars {
		if vn.Kind == yaml.AliasNode && vn.Alias != nil {
			vn = vn.Alias
		}
		if vn.Kind != yaml.ScalarNode {
			continue
		}
		names = append(names, vn.Value)
		if v, ok := c.l.lookupEnv(vn.Value); ok {
			return v, nil
		}
	}
	if !hasDef {
		c.l.notef("env", "%s: environment variable %s is not set (no default)", c.file, strings.Join(names, ", "))
	}
	return def, nil
}

func (c *converter) mapping(n *yaml.Node) (*mapping, error) {
	out := newMapping()
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.AliasNode && kn.Alias != nil {
			kn = kn.Alias
		}
		if kn.Kind != yaml.ScalarNode {
			c.l.notef("yaml", "%s: non-scalar mapping key ignored (line %d)", c.file, kn.Line)
			continue
		}
		if kn.ShortTag() == "!!merge" || (kn.Value == "<<" && kn.Style == 0) {
			merges = append(merges, vn)
			continue
		}
		key := kn.Value
		if kn.Tag == "!ENV" {
			if v, ok := c.l.lookupEnv(kn.Value); ok {
				key = v
			}
		}
		v, err := c.value(vn)
		if err != nil {
			return nil, err
		}
		out.set(key, v) // later duplicates win, as in PyYAML
	}
	// YAML merge keys: explicit keys win; earlier merged maps win over later.
	for _, mn := range merges {
		var srcs []*yaml.Node
		if mn.Kind == yaml.AliasNode {
			mn = mn.Alias
		}
		if mn == nil {
			continue
		}
		if mn.Kind == yaml.SequenceNode {
			srcs = mn.Content
		} else {
			srcs = []*yaml.Node{mn}
		}
		for _, s := range srcs {
			v, err := c.value(s)
			if err != nil {
				return nil, err
			}
			sm, ok := v.(*mapping)
			if !ok {
				continue
			}
			for _, k := range sm.keys {
				if _, exists := out.vals[k]; !exists {
					out.set(k, sm.vals[k])
				}
			}
		}
	}
	return out, nil
}

// readLimited reads a whole file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("file is larger than %d bytes", max)
	}
	return data, nil
}

// parseYAMLFile reads and converts one YAML file into a mapping (an empty
// file is an empty mapping).
func (l *loader) parseYAMLFile(path string) (*mapping, error) {
	data, err := readLimited(path, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	c := &converter{l: l, file: l.rel(path), budget: maxYAMLNodes}
	v, err := c.value(&doc)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case nil:
		return newMapping(), nil
	case *mapping:
		return v, nil
	}
	return nil, errors.New("the top level is not a mapping")
}

// scalarString renders a scalar value as a string ("" for nil and for lists
// and mappings).
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

// boolValue reads a YAML 1.1-ish boolean (PyYAML accepts yes/no/on/off).
func boolValue(v any) (val, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "on", "y":
			return true, true
		case "false", "no", "off", "n":
			return false, true
		}
	}
	return false, false
}
