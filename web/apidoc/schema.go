package apidoc

import (
	"strings"
)

// Limits that keep one schema tree (and the whole page) small.
const (
	maxSchemaDepth  = 8   // nesting levels shown
	maxProperties   = 200 // properties listed per object
	maxEnumValues   = 40  // enum values listed per schema
	maxVariants     = 30  // oneOf/anyOf variants listed
	maxInlineLength = 120 // characters of a default/example value shown
)

// schemaBuilder turns JSON Schema nodes into Schema trees, resolving local
// $refs. Every node it makes costs one unit of budget; when the budget runs
// out, references are shown by name only and inline objects are cut, and
// abbreviated is set.
type schemaBuilder struct {
	r *resolver
	// refIDs maps a component schema to its element id in the Schemas
	// list, for links.
	refIDs map[*node]string
	// expandRefs expands referenced schemas inline; otherwise a nested
	// reference to a listed schema is a link to its entry in the Schemas
	// list, and with linkRoots so is a reference at the root.
	expandRefs  bool
	linkRoots   bool
	budget      int
	abbreviated bool
	stack       []*node // referenced schemas being expanded (cycle guard)
}

func (b *schemaBuilder) onStack(n *node) bool {
	for _, s := range b.stack {
		if s == n {
			return true
		}
	}
	return false
}

// build makes the tree for schema node n. name is the property name (empty
// at a root); depth is the nesting level.
func (b *schemaBuilder) build(n *node, name string, depth int) *Schema {
	s := &Schema{Name: name}
	b.budget--
	if n == nil {
		return s
	}
	if !n.isMap() {
		// "true"/"false" schemas, or garbage.
		if v, ok := n.scalar(); ok && v == "true" {
			s.Type = "any"
		}
		return s
	}
	target := n
	if ref, ok := n.get("$ref").scalar(); ok {
		t, last, broken := b.r.deref(n)
		s.Ref = refName(last)
		if broken {
			if strings.HasPrefix(ref, "#") {
				s.Notes = append(s.Notes, "unresolved reference "+ref)
			} else {
				s.External = true
				s.Ref = ref
			}
			return s
		}
		s.RefID = b.refIDs[t]
		target = t
		if d := n.s("description"); d != "" {
			s.Description = d // a sibling of $ref (OpenAPI 3.1) wins
		}
		if b.onStack(target) {
			s.Recursive = true
			b.describe(s, target, true)
			return s
		}
		link := !b.expandRefs && (depth > 0 || b.linkRoots) && s.RefID != "" && hasChildren(target)
		if link || b.budget <= 0 || depth >= maxSchemaDepth {
			b.describe(s, target, true)
			if hasChildren(target) {
				s.Cut = b.budget <= 0 || depth >= maxSchemaDepth || s.RefID == ""
				if b.budget <= 0 {
					b.abbreviated = true
				}
			}
			return s
		}
		b.stack = append(b.stack, target)
		defer func() { b.stack = b.stack[:len(b.stack)-1] }()
	}
	if target.has("allOf") {
		target = b.mergeAllOf(target, s, 0)
	}
	b.describe(s, target, false)
	if depth >= maxSchemaDepth || b.budget <= 0 {
		if hasChildren(target) {
			s.Cut = true
			if b.budget <= 0 {
				b.abbreviated = true
			}
		}
		return s
	}
	b.children(s, target, depth)
	return s
}

// hasChildren reports whether a schema would have a subtree.
func hasChildren(n *node) bool {
	if n.has("properties") || n.has("oneOf") || n.has("anyOf") || n.has("allOf") {
		return true
	}
	if ap := n.get("additionalProperties"); ap.isMap() {
		return true
	}
	if it := n.get("items"); it.isMap() {
		return it.has("$ref") || hasChildren(it)
	}
	return false
}

// describe fills the scalar facts of s from schema node n. With shallow it
// only sets the type (for references that are not expanded).
func (b *schemaBuilder) describe(s *Schema, n *node, shallow bool) {
	types := n.get("type").strings()
	nullable := n.b("nullable")
	kept := types[:0:0]
	for _, t := range types {
		if t == "null" {
			nullable = true
			continue
		}
		kept = append(kept, t)
	}
	s.Type = strings.Join(kept, " | ")
	if s.Type == "" {
		switch {
		case n.has("properties") || n.get("additionalProperties").isMap():
			s.Type = "object"
		case n.has("items"):
			s.Type = "array"
		case n.has("oneOf"):
			s.Type = "one of"
		case n.has("anyOf"):
			s.Type = "any of"
		}
	}
	if s.Type == "object" && !n.has("properties") && n.get("additionalProperties").isMap() {
		s.Type = "map"
	}
	s.Format = n.s("format")
	if shallow {
		if s.Type == "array" {
			if it := n.get("items"); it.isMap() {
				s.Type = "array of " + b.shortLabel(it)
			}
		}
		return
	}
	if s.Description == "" {
		s.Description = n.s("description")
	}
	b.budget -= len(s.Description) / 256 // long descriptions cost more
	s.Title = n.s("title")
	if nullable {
		s.Flags = append(s.Flags, "nullable")
	}
	if n.b("readOnly") {
		s.Flags = append(s.Flags, "read-only")
	}
	if n.b("writeOnly") {
		s.Flags = append(s.Flags, "write-only")
	}
	if n.b("deprecated") {
		s.Flags = append(s.Flags, "deprecated")
	}
	if e := n.get("enum"); e.isSeq() {
		for i, v := range e.vals {
			if i >= maxEnumValues {
				s.MoreEnum = len(e.vals) - i
				break
			}
			s.Enum = append(s.Enum, inline(v))
		}
	}
	if c := n.get("const"); c != nil {
		s.Notes = append(s.Notes, "const "+inline(c))
	}
	for _, k := range noteKeys {
		if v := n.get(k.key); v != nil {
			if k.flag {
				if v.str == "true" {
					s.Notes = append(s.Notes, k.label)
				}
				continue
			}
			s.Notes = append(s.Notes, k.label+" "+inline(v))
		}
	}
	if d := n.get("discriminator"); d != nil {
		if p := d.s("propertyName"); p != "" {
			s.Notes = append(s.Notes, "discriminator "+p)
		} else if v, ok := d.scalar(); ok {
			s.Notes = append(s.Notes, "discriminator "+v)
		}
	}
}

var noteKeys = []struct {
	key, label string
	flag       bool
}{
	{key: "default", label: "default"},
	{key: "minimum", label: "min"},
	{key: "exclusiveMinimum", label: "exclusive min"},
	{key: "maximum", label: "max"},
	{key: "exclusiveMaximum", label: "exclusive max"},
	{key: "multipleOf", label: "multiple of"},
	{key: "minLength", label: "min length"},
	{key: "maxLength", label: "max length"},
	{key: "pattern", label: "pattern"},
	{key: "minItems", label: "min items"},
	{key: "maxItems", label: "max items"},
	{key: "uniqueItems", label: "unique items", flag: true},
	{key: "minProperties", label: "min properties"},
	{key: "maxProperties", label: "max properties"},
	{key: "example", label: "example"},
	{key: "examples", label: "examples"},
}

// shortLabel names a schema in one word or two: its reference name or
// type, for "array of X".
func (b *schemaBuilder) shortLabel(n *node) string {
	for hops := 0; hops < 4; hops++ {
		if ref, ok := n.get("$ref").scalar(); ok {
			return refName(ref)
		}
		t := strings.Join(n.get("type").strings(), " | ")
		if t == "array" {
			if it := n.get("items"); it.isMap() {
				return "array of " + b.shortLabel(it)
			}
		}
		if t != "" {
			return t
		}
		if n.has("properties") {
			return "object"
		}
		return "any"
	}
	return "any"
}

// children fills the subtree of s: properties, array items, map values,
// variants.
func (b *schemaBuilder) children(s *Schema, n *node, depth int) {
	if it := n.get("items"); it.isMap() {
		item := b.build(it, "", depth+1)
		label := item.Type
		if item.Ref != "" {
			label = item.Ref
		}
		if label == "" {
			label = "any"
		}
		if item.Format != "" && item.Ref == "" {
			label += " (" + item.Format + ")"
		}
		if s.Type == "array" || s.Type == "" {
			s.Type = "array of " + label
		}
		if item.Ref != "" && s.RefID == "" && s.Ref == "" {
			s.RefID = item.RefID
		}
		s.Children = item.Children
		s.MoreChildren = item.MoreChildren
		s.Variants, s.VariantKind = item.Variants, item.VariantKind
		if len(s.Enum) == 0 {
			s.Enum, s.MoreEnum = item.Enum, item.MoreEnum
		}
		for _, note := range item.Notes {
			s.Notes = append(s.Notes, "items: "+note)
		}
		if s.Description == "" {
			s.Description = item.Description
		}
		s.Recursive = s.Recursive || item.Recursive
		s.Cut = s.Cut || item.Cut
		s.External = s.External || item.External
		if item.External {
			s.Type = "array of " + item.Ref
		}
		return
	}
	if props := n.get("properties"); props.isMap() {
		required := map[string]bool{}
		for _, r := range n.get("required").strings() {
			required[r] = true
		}
		for i, k := range props.mkeys() {
			if i >= maxProperties {
				s.MoreChildren = len(props.keys) - i
				break
			}
			c := b.build(props.vals[i], k, depth+1)
			c.Required = required[k]
			s.Children = append(s.Children, c)
		}
	}
	if ap := n.get("additionalProperties"); ap.isMap() {
		s.Children = append(s.Children, b.build(ap, "[key]", depth+1))
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		vs := n.get(kw).items()
		if len(vs) == 0 {
			continue
		}
		s.VariantKind = "one of"
		if kw == "anyOf" {
			s.VariantKind = "any of"
		}
		for i, v := range vs {
			if i >= maxVariants {
				break
			}
			s.Variants = append(s.Variants, b.build(v, "", depth+1))
		}
		break
	}
}

// mergeAllOf returns a synthetic schema node with the properties, required
// lists and other keywords of n's allOf parts merged into n. A lone
// referenced part names s (allOf: [$ref] is a common way to describe a
// reference).
func (b *schemaBuilder) mergeAllOf(n *node, s *Schema, level int) *node {
	out := &node{kind: kindMap}
	props := &node{kind: kindMap}
	var required []*node
	var add func(m *node, level int)
	seen := map[*node]bool{}
	add = func(m *node, level int) {
		if !m.isMap() || level > 8 || seen[m] {
			return
		}
		seen[m] = true
		for i, k := range m.mkeys() {
			v := m.vals[i]
			switch k {
			case "allOf":
				for _, part := range v.items() {
					t, last, broken := b.r.deref(part)
					if broken {
						continue
					}
					if last != "" && len(v.items()) == 1 && s.Ref == "" {
						s.Ref = refName(last)
						s.RefID = b.refIDs[t]
					}
					b.budget--
					add(t, level+1)
				}
			case "properties":
				for j, pk := range v.mkeys() {
					if i := indexOf(props.keys, pk); i >= 0 {
						props.vals[i] = v.vals[j]
					} else {
						props.keys = append(props.keys, pk)
						props.vals = append(props.vals, v.vals[j])
					}
				}
			case "required":
				required = append(required, v.items()...)
			case "$ref":
			default:
				if !out.has(k) {
					out.keys = append(out.keys, k)
					out.vals = append(out.vals, v)
				}
			}
		}
	}
	add(n, level)
	if len(props.keys) > 0 {
		out.keys = append(out.keys, "properties")
		out.vals = append(out.vals, props)
		if !out.has("type") {
			out.keys = append(out.keys, "type")
			out.vals = append(out.vals, &node{kind: kindScalar, str: "object"})
		}
	}
	if len(required) > 0 {
		out.keys = append(out.keys, "required")
		out.vals = append(out.vals, &node{kind: kindSeq, vals: required})
	}
	return out
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

// inline renders a value on one line, YAML flow style, shortened.
func inline(n *node) string {
	var b strings.Builder
	writeInline(&b, n, 0)
	s := b.String()
	if len(s) > maxInlineLength {
		cut := maxInlineLength
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(c byte) bool { return c&0xC0 != 0x80 }

func writeInline(b *strings.Builder, n *node, depth int) {
	if b.Len() > maxInlineLength {
		return
	}
	switch {
	case n == nil || n.kind == kindNull:
		b.WriteString("null")
	case n.kind == kindScalar:
		b.WriteString(n.str)
	case depth > 3:
		b.WriteString("…")
	case n.kind == kindSeq:
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxInlineLength {
				break
			}
			writeInline(b, v, depth+1)
		}
		b.WriteByte(']')
	case n.kind == kindMap:
		b.WriteByte('{')
		for i, k := range n.mkeys() {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxInlineLength {
				break
			}
			b.WriteString(k)
			b.WriteString(": ")
			writeInline(b, n.vals[i], depth+1)
		}
		b.WriteByte('}')
	}
}
