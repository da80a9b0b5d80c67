package template

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/greenroom-dev/greenroom/catalog"
	"gopkg.in/yaml.v3"
)

// orderKey temporarily records a mapping's key order while decoding.
const orderKey = "\x00order"

// Result is one document of a multi-document YAML file.
type Result struct {
	Index    int // document index in the file
	Template *Template
	Err      error
}

// ParseAll parses every `kind: Template` document of a YAML stream; other
// documents are skipped. A document that is not valid YAML ends the stream
// with an error result.
func ParseAll(data []byte) []Result {
	var out []Result
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if !errors.Is(err, io.EOF) {
				out = append(out, Result{Index: i, Err: fmt.Errorf("invalid template: %w", err)})
			}
			return out
		}
		doc, err := (&orderedDecoder{}).value(&n, 0)
		if err != nil {
			out = append(out, Result{Index: i, Err: fmt.Errorf("invalid template: %w", err)})
			continue
		}
		m, _ := doc.(map[string]any)
		if m == nil || m["kind"] != "Template" {
			continue
		}
		prepareOrder(m)
		t, err := parseMap(m)
		out = append(out, Result{Index: i, Template: t, Err: err})
	}
}

// decodeOrdered decodes one YAML (or JSON) document, keeping the source
// order of the parameter pages' properties as `ui:order` where the author
// wrote none (rjsf renders properties in source order).
func decodeOrdered(b []byte) (map[string]any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("invalid template: %w", err)
	}
	doc, err := (&orderedDecoder{}).value(&n, 0)
	if err != nil {
		return nil, fmt.Errorf("invalid template: %w", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("invalid template: document is not an object")
	}
	prepareOrder(m)
	return m, nil
}

// orderedDecoder turns a YAML node into JSON types, recording each
// mapping's key order. Scalars resolve as the catalog resolves them (YAML
// 1.2: dates and "yes" stay strings) and alias expansion is bounded as
// there: a template is untrusted input (the dry-run API takes one).
type orderedDecoder struct{ nodes int }

func (d *orderedDecoder) value(n *yaml.Node, depth int) (any, error) {
	d.nodes++
	if d.nodes > catalog.MaxYAMLNodes {
		return nil, catalog.ErrYAMLAliasBomb
	}
	if depth > 200 {
		return nil, errors.New("document nested too deeply")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		return d.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		var order []any
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				mv, err := d.value(vn, depth+1)
				if err != nil {
					return nil, err
				}
				merges := []any{mv}
				if l, ok := mv.([]any); ok {
					merges = l
				}
				for _, x := range merges {
					if mm, ok := x.(map[string]any); ok {
						for kk, vv := range mm {
							if _, exists := out[kk]; !exists && kk != orderKey {
								out[kk] = vv
								order = append(order, kk)
							}
						}
					}
				}
				continue
			}
			var key any
			if err := k.Decode(&key); err != nil {
				return nil, err
			}
			ks := fmt.Sprint(key)
			if key == nil {
				ks = "null"
			}
			v, err := d.value(vn, depth+1)
			if err != nil {
				return nil, err
			}
			if _, exists := out[ks]; !exists {
				order = append(order, ks)
			}
			out[ks] = v
		}
		out[orderKey] = order
		return out, nil
	default:
		return catalog.YAMLScalar(n)
	}
}

// prepareOrder turns the recorded key order of the properties maps inside
// spec.parameters into ui:order (unless one is given) and drops every
// other order record.
func prepareOrder(doc map[string]any) {
	var walk func(v any, inParams bool)
	walk = func(v any, inParams bool) {
		switch t := v.(type) {
		case map[string]any:
			if inParams {
				if props, ok := t["properties"].(map[string]any); ok {
					if _, has := t["ui:order"]; !has {
						if o, ok := props[orderKey].([]any); ok && len(o) > 1 {
							t["ui:order"] = o
						}
					}
				}
			}
			delete(t, orderKey)
			for k, x := range t {
				walk(x, inParams)
				_ = k
			}
		case []any:
			for _, x := range t {
				walk(x, inParams)
			}
		}
	}
	if spec, ok := doc["spec"].(map[string]any); ok {
		if p, ok := spec["parameters"]; ok {
			walk(p, true)
		}
	}
	walk(doc, false)
}

// TakeOrder copies the field order (ui:order) that src's parameters carry
// into t's. A template read back from the catalog has
// lost the key order of its descriptor (entities are stored as JSON
// objects); the descriptor file, parsed by ParseAll, still has it, and
// Backstage shows fields in the order they are written.
func (t *Template) TakeOrder(src *Template) {
	if src == nil || len(src.Parameters) != len(t.Parameters) {
		return
	}
	var walk func(dst, from any, depth int)
	walk = func(dst, from any, depth int) {
		if depth > 32 {
			return
		}
		switch d := dst.(type) {
		case map[string]any:
			f, ok := from.(map[string]any)
			if !ok {
				return
			}
			// Parse records the order it reads as ui:order, which for
			// catalog JSON is sorted: the file's order replaces it.
			if o, ok := f["ui:order"]; ok {
				d["ui:order"] = o
			}
			for k, v := range d {
				if k != "ui:order" {
					walk(v, f[k], depth+1)
				}
			}
		case []any:
			f, ok := from.([]any)
			if !ok || len(f) != len(d) {
				return
			}
			for i := range d {
				walk(d[i], f[i], depth+1)
			}
		}
	}
	for i := range t.Parameters {
		walk(t.Parameters[i], src.Parameters[i], 0)
	}
}
