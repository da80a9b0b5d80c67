package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
)

// DefaultNamespace is the namespace of an entity that names none.
const DefaultNamespace = "default"

// Ref names an entity: kind, namespace and name. Refs compare
// case-insensitively; String gives the canonical lower-case form
// "kind:namespace/name" that the catalog stores and the API serves.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns the canonical lower-case form of the ref.
func (r Ref) String() string {
	ns := r.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return strings.ToLower(r.Kind) + ":" + strings.ToLower(ns) + "/" + strings.ToLower(r.Name)
}

// Equal reports whether two refs name the same entity.
func (r Ref) Equal(o Ref) bool { return r.String() == o.String() }

// RefDefaults fill in what a short ref ("team-a", "default/team-a") leaves out.
type RefDefaults struct {
	Kind      string
	Namespace string
}

// ParseRef parses "[kind:][namespace/]name" with Backstage's rules: a "/"
// before the first ":" means there is no kind; empty parts are errors; the
// defaults fill in what is missing. Case is kept as written.
func ParseRef(s string, d RefDefaults) (Ref, error) {
	if s == "" {
		return Ref{}, &Error{Name: "Error", Message: "Entity reference must not be empty"}
	}
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	if slash != -1 && slash < colon {
		colon = -1
	}
	var kind, ns *string
	if colon != -1 {
		k := s[:colon]
		kind = &k
	}
	if slash != -1 {
		n := s[colon+1 : slash]
		ns = &n
	}
	start := colon + 1
	if slash+1 > start {
		start = slash + 1
	}
	name := s[start:]
	if (kind != nil && *kind == "") || (ns != nil && *ns == "") || name == "" {
		return Ref{}, &Error{Name: "TypeError", Message: fmt.Sprintf("Entity reference %q was not on the form [<kind>:][<namespace>/]<name>", s)}
	}
	r := Ref{Kind: d.Kind, Namespace: d.Namespace, Name: name}
	if kind != nil {
		r.Kind = *kind
	}
	if ns != nil {
		r.Namespace = *ns
	}
	if r.Namespace == "" {
		r.Namespace = DefaultNamespace
	}
	if r.Kind == "" {
		q, _ := json.Marshal(s)
		return Ref{}, &Error{Name: "Error", Message: fmt.Sprintf("Entity reference %s had missing or empty kind (e.g. did not start with \"component:\" or similar)", q)}
	}
	return r, nil
}

// MustParseRef is ParseRef for refs known to be valid, such as constants in tests.
func MustParseRef(s string) Ref {
	r, err := ParseRef(s, RefDefaults{})
	if err != nil {
		panic(err)
	}
	return r
}

// LocationRef is a "type:target" location reference, e.g. "file:/srv/catalog-info.yaml".
type LocationRef struct {
	Type   string
	Target string
}

func (l LocationRef) String() string { return l.Type + ":" + l.Target }

// ParseLocationRef parses "type:target" as Backstage does.
func ParseLocationRef(s string) (LocationRef, error) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return LocationRef{}, fmt.Errorf("Unable to parse location ref '%s', expected '<type>:<target>', e.g. 'url:https://host/path'", s)
	}
	t, target := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
	if t == "" || target == "" {
		return LocationRef{}, fmt.Errorf("Unable to parse location ref '%s', expected '<type>:<target>', e.g. 'url:https://host/path'", s)
	}
	if t == "http" || t == "https" {
		return LocationRef{}, fmt.Errorf("Invalid location ref '%s', please prefix it with 'url:', e.g. 'url:%s'", s, s)
	}
	if isScriptURL(target) {
		return LocationRef{}, fmt.Errorf("Invalid location ref '%s', target is a javascript: URL", s)
	}
	return LocationRef{Type: t, Target: target}, nil
}

// isScriptURL mirrors Backstage's guard against javascript: targets, which
// tolerates leading control characters and embedded tabs/newlines.
func isScriptURL(s string) bool {
	s = strings.TrimLeft(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return -1
		}
		return r
	}, s)
	return len(s) >= 11 && strings.EqualFold(s[:11], "javascript:")
}
