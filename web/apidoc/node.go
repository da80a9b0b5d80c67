package apidoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// node is a parsed YAML or JSON value with the order of mapping keys kept,
// so operations, properties and responses show in the order they were
// written. YAML aliases become shared pointers; an alias to one of its own
// ancestors becomes null, so the tree has no cycles (though it may share
// subtrees, which is why everything that walks schemas has a budget).
type node struct {
	kind kind
	str  string // scalar value, as written
	keys []string
	vals []*node // mapping values (parallel to keys) or sequence items
}

type kind uint8

const (
	kindNull kind = iota
	kindScalar
	kindMap
	kindSeq
)

// get returns the value of key in a mapping, or nil. It is nil-safe.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindMap {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// has reports whether a mapping has key.
func (n *node) has(key string) bool { return n.get(key) != nil }

// s returns the scalar value of key ("" unless it is a scalar).
func (n *node) s(key string) string {
	v := n.get(key)
	if v == nil || v.kind != kindScalar {
		return ""
	}
	return v.str
}

// scalar returns n's value if it is a scalar.
func (n *node) scalar() (string, bool) {
	if n == nil || n.kind != kindScalar {
		return "", false
	}
	return n.str, true
}

// b reports whether key is the boolean true.
func (n *node) b(key string) bool {
	v, _ := n.get(key).scalar()
	return v == "true" || v == "True" || v == "TRUE"
}

func (n *node) isMap() bool { return n != nil && n.kind == kindMap }
func (n *node) isSeq() bool { return n != nil && n.kind == kindSeq }

// items returns a sequence's items (nil for anything else).
func (n *node) items() []*node {
	if n == nil || n.kind != kindSeq {
		return nil
	}
	return n.vals
}

// strings returns the scalar items of a sequence, or a lone scalar as a
// one-element list.
func (n *node) strings() []string {
	if v, ok := n.scalar(); ok {
		return []string{v}
	}
	var out []string
	for _, it := range n.items() {
		if v, ok := it.scalar(); ok {
			out = append(out, v)
		}
	}
	return out
}

// errNotMapping is returned when a definition parses but is not an object.
var errNotMapping = errors.New("the definition is not a YAML or JSON object")

// parseDocument parses YAML or JSON text. JSON is read with encoding/json
// (faster and stricter than reading it as YAML); if that fails the text is
// tried as YAML, which also accepts most sloppy JSON.
func parseDocument(text string) (root *node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("could not parse the definition: %v", r)
		}
	}()
	trimmed := strings.TrimLeft(text, " \t\r\n\ufeff")
	if strings.HasPrefix(trimmed, "{") {
		if n, jerr := parseJSON(trimmed); jerr == nil {
			root = n
		} else if n, yerr := parseYAML(text); yerr == nil {
			root = n
		} else {
			return nil, fmt.Errorf("invalid JSON: %v", jerr)
		}
	} else {
		root, err = parseYAML(text)
		if err != nil {
			return nil, err
		}
	}
	if !root.isMap() {
		return nil, errNotMapping
	}
	return root, nil
}

// maxNesting caps how deep a definition may nest; deeper values become null.
const maxNesting = 200

// parseJSON reads JSON into a node tree. It is a small hand-written
// parser: encoding/json's token API is several times slower, and a
// definition's key order must be kept.
func parseJSON(text string) (*node, error) {
	p := &jsonParser{s: text}
	p.space()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected data after the top-level value")
	}
	return n, nil
}

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(p.s[:min(p.i, len(p.s))], "\n")
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*node, error) {
	if depth > maxNesting {
		return nil, p.errorf("nested too deeply")
	}
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of JSON input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		n := &node{kind: kindMap}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return n, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.errorf("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.errorf("expected ':' after a key")
			}
			p.i++
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k)
			n.vals = append(n.vals, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return n, nil
			}
			return nil, p.errorf("expected ',' or '}' in an object")
		}
	case c == '[':
		p.i++
		n := &node{kind: kindSeq}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return n, nil
		}
		for {
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return n, nil
			}
			return nil, p.errorf("expected ',' or ']' in an array")
		}
	case c == '"':
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: kindScalar, str: v}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		p.i++
		for p.i < len(p.s) && strings.IndexByte("0123456789.eE+-", p.s[p.i]) >= 0 {
			p.i++
		}
		num := p.s[start:p.i]
		if _, err := strconv.ParseFloat(num, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, p.errorf("invalid number %q", num)
		}
		return &node{kind: kindScalar, str: num}, nil
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(p.s[p.i:], lit) {
			p.i += len(lit)
			if lit == "null" {
				return &node{kind: kindNull}, nil
			}
			return &node{kind: kindScalar, str: lit}, nil
		}
	}
	return nil, p.errorf("invalid character %q", p.s[p.i])
}

// str reads a JSON string at p.i (which is '"').
func (p *jsonParser) str() (string, error) {
	p.i++
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			v := p.s[start:p.i]
			p.i++
			return v, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], "\\u") {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						b.WriteRune(d)
						continue
					}
				}
				p.i = save
			}
			b.WriteRune(r)
		default:
			return "", p.errorf("invalid escape")
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

func parseYAML(text string) (*node, error) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("the definition is empty")
		}
		return nil, err
	}
	c := converter{done: map[*yaml.Node]*node{}, busy: map[*yaml.Node]bool{}}
	return c.convert(&doc, 0), nil
}

type converter struct {
	done map[*yaml.Node]*node // converted anchored nodes, shared by their aliases
	busy map[*yaml.Node]bool  // anchored nodes being converted (an alias to one is a cycle)
}

func (c *converter) convert(y *yaml.Node, depth int) *node {
	if y == nil || depth > maxNesting {
		return &node{kind: kindNull}
	}
	if y.Kind == yaml.AliasNode {
		return c.convert(y.Alias, depth)
	}
	if y.Kind == yaml.DocumentNode {
		if len(y.Content) == 0 {
			return &node{kind: kindNull}
		}
		return c.convert(y.Content[0], depth)
	}
	if y.Anchor != "" {
		if n, ok := c.done[y]; ok {
			return n
		}
		if c.busy[y] {
			return &node{kind: kindNull}
		}
		c.busy[y] = true
		defer delete(c.busy, y)
	}
	var n *node
	switch y.Kind {
	case yaml.ScalarNode:
		if y.Tag == "!!null" {
			n = &node{kind: kindNull}
		} else {
			n = &node{kind: kindScalar, str: y.Value}
		}
	case yaml.SequenceNode:
		n = &node{kind: kindSeq, vals: make([]*node, 0, len(y.Content))}
		for _, it := range y.Content {
			n.vals = append(n.vals, c.convert(it, depth+1))
		}
	case yaml.MappingNode:
		n = &node{kind: kindMap}
		var merges []*node
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				m := c.convert(v, depth+1)
				if m.isSeq() {
					merges = append(merges, m.vals...)
				} else {
					merges = append(merges, m)
				}
				continue
			}
			key := k.Value
			if k.Kind != yaml.ScalarNode {
				key = ""
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, c.convert(v, depth+1))
		}
		for _, m := range merges {
			if !m.isMap() {
				continue
			}
			for i, k := range m.keys {
				if !n.has(k) {
					n.keys = append(n.keys, k)
					n.vals = append(n.vals, m.vals[i])
				}
			}
		}
	default:
		n = &node{kind: kindNull}
	}
	if y.Anchor != "" {
		c.done[y] = n
	}
	return n
}

// resolver follows local JSON-pointer $refs ("#/components/schemas/Order")
// within one document.
type resolver struct {
	root  *node
	cache map[string]*node
}

func newResolver(root *node) *resolver {
	return &resolver{root: root, cache: map[string]*node{}}
}

// pointer looks up a local reference; nil if it is not local or not found.
func (r *resolver) pointer(ref string) *node {
	if n, ok := r.cache[ref]; ok {
		return n
	}
	var n *node
	if strings.HasPrefix(ref, "#") {
		n = r.root
		p := ref[1:]
		if p != "" {
			if !strings.HasPrefix(p, "/") {
				n = nil
			} else {
				for _, tok := range strings.Split(p[1:], "/") {
					tok = unescapePointer(tok)
					switch {
					case n.isMap():
						n = n.get(tok)
					case n.isSeq():
						i, err := strconv.Atoi(tok)
						if err != nil || i < 0 || i >= len(n.vals) {
							n = nil
						} else {
							n = n.vals[i]
						}
					default:
						n = nil
					}
					if n == nil {
						break
					}
				}
			}
		}
	}
	if len(r.cache) < 10000 {
		r.cache[ref] = n
	}
	return n
}

func unescapePointer(tok string) string {
	if strings.Contains(tok, "%") {
		if u, err := pctDecode(tok); err == nil {
			tok = u
		}
	}
	if strings.Contains(tok, "~") {
		tok = strings.ReplaceAll(tok, "~1", "/")
		tok = strings.ReplaceAll(tok, "~0", "~")
	}
	return tok
}

func pctDecode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) {
				return "", errors.New("bad escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// deref follows n's $ref chain (if any). It returns the target (or n itself
// if it is no reference), the last reference's name, and whether a
// reference could not be resolved (then the returned node is nil).
func (r *resolver) deref(n *node) (target *node, ref string, broken bool) {
	for hops := 0; hops < 32; hops++ {
		rv, ok := n.get("$ref").scalar()
		if !ok {
			return n, ref, false
		}
		ref = rv
		t := r.pointer(rv)
		if t == nil {
			return nil, ref, true
		}
		n = t
	}
	return nil, ref, true
}

// refName is the last segment of a reference: "Order" for
// "#/components/schemas/Order".
func refName(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 && i+1 < len(ref) {
		return unescapePointer(ref[i+1:])
	}
	return ref
}

// mkeys returns a mapping's keys (nil for anything else), so that
// "for i, k := range n.mkeys()" is safe on a nil or non-mapping node.
func (n *node) mkeys() []string {
	if n.isMap() {
		return n.keys
	}
	return nil
}
