// Package catalog holds Greenroom's entity model — entities, refs,
// relations and locations — and the rules Backstage applies when it reads a
// descriptor: envelope and kind validation, default policies, catalog rules,
// placeholder substitution and the relations each built-in kind emits. It
// does no I/O of its own; readers are passed in by the ingester.
package catalog

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Well-known annotations.
const (
	AnnotationLocation       = "backstage.io/managed-by-location"
	AnnotationOriginLocation = "backstage.io/managed-by-origin-location"
	AnnotationOrphan         = "backstage.io/orphan"
	AnnotationViewURL        = "backstage.io/view-url"
	AnnotationEditURL        = "backstage.io/edit-url"
	AnnotationSourceLocation = "backstage.io/source-location"
)

// Entity is a catalog entity in Backstage's envelope. Metadata keeps keys it
// does not model in Extra, and Spec stays free-form, so nothing an author
// wrote is lost on the way through.
type Entity struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   Metadata       `json:"metadata"`
	Spec       map[string]any `json:"spec,omitzero"`
	Relations  []Relation     `json:"relations,omitempty"`
	Status     *Status        `json:"status,omitempty"`
}

// Metadata is the entity's metadata block.
type Metadata struct {
	UID         string
	Etag        string
	Name        string
	Namespace   string
	Title       string
	Description string
	Labels      map[string]string
	Annotations map[string]string
	Tags        []string
	Links       []Link
	// Extra holds any other metadata keys, which Backstage keeps as they are.
	Extra map[string]any
	// has* distinguish "absent" from "empty" for the fields where Backstage
	// serves what the author wrote (an empty description stays "").
	hasDescription bool
}

// Link is one of metadata.links.
type Link struct {
	URL   string
	Title string
	Icon  string
	Type  string
	Extra map[string]any
}

// Relation is a typed edge from the entity it is attached to.
type Relation struct {
	Type      string `json:"type"`
	TargetRef string `json:"targetRef"`
}

// Status carries processing results, e.g. errors of the last processing pass.
type Status struct {
	Items []StatusItem `json:"items"`
}

// StatusItem is one status entry; Backstage uses type
// "backstage.io/catalog-processing" with level "error" for processing errors.
type StatusItem struct {
	Type    string       `json:"type"`
	Level   string       `json:"level"`
	Message string       `json:"message"`
	Error   *StatusError `json:"error,omitempty"`
}

// StatusError is a serialized error.
type StatusError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Ref returns the entity's ref, in the default namespace when it names none.
func (e *Entity) Ref() Ref {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return Ref{Kind: e.Kind, Namespace: ns, Name: e.Metadata.Name}
}

// SetAnnotation sets one annotation.
func (e *Entity) SetAnnotation(k, v string) {
	if e.Metadata.Annotations == nil {
		e.Metadata.Annotations = map[string]string{}
	}
	e.Metadata.Annotations[k] = v
}

// Map returns the entity as plain JSON-like values, the shape the flattened
// filter rows and field projections work on.
func (e *Entity) Map() map[string]any {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("catalog: entity does not marshal: %v", err))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("catalog: entity does not unmarshal: %v", err))
	}
	return m
}

// MarshalJSON writes metadata with its extra keys merged in.
func (m Metadata) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(m.Extra)+10)
	for k, v := range m.Extra {
		out[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("uid", m.UID)
	set("etag", m.Etag)
	out["name"] = m.Name
	set("namespace", m.Namespace)
	set("title", m.Title)
	if m.Description != "" || m.hasDescription {
		out["description"] = m.Description
	}
	if m.Labels != nil {
		out["labels"] = m.Labels
	}
	if m.Annotations != nil {
		out["annotations"] = m.Annotations
	}
	if m.Tags != nil {
		out["tags"] = m.Tags
	}
	if m.Links != nil {
		out["links"] = m.Links
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads metadata, keeping unknown keys in Extra.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	md, err := metadataFromMap(raw)
	if err != nil {
		return err
	}
	*m = md
	return nil
}

// MarshalJSON writes the link with its extra keys merged in.
func (l Link) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(l.Extra)+4)
	for k, v := range l.Extra {
		out[k] = v
	}
	out["url"] = l.URL
	if l.Title != "" {
		out["title"] = l.Title
	}
	if l.Icon != "" {
		out["icon"] = l.Icon
	}
	if l.Type != "" {
		out["type"] = l.Type
	}
	return json.Marshal(out)
}

// metadataFromMap converts validated metadata into its typed form.
func metadataFromMap(raw map[string]any) (Metadata, error) {
	var m Metadata
	str := func(k string) string {
		s, _ := raw[k].(string)
		return s
	}
	m.UID, m.Etag, m.Name, m.Namespace, m.Title = str("uid"), str("etag"), str("name"), str("namespace"), str("title")
	if d, ok := raw["description"].(string); ok {
		m.Description, m.hasDescription = d, true
	}
	if v, ok := raw["labels"].(map[string]any); ok {
		m.Labels = stringMap(v)
	}
	if v, ok := raw["annotations"].(map[string]any); ok {
		m.Annotations = stringMap(v)
	}
	if v, ok := raw["tags"].([]any); ok {
		m.Tags = make([]string, 0, len(v))
		for _, t := range v {
			s, ok := t.(string)
			if !ok {
				return m, fmt.Errorf("metadata.tags must be strings")
			}
			m.Tags = append(m.Tags, s)
		}
	}
	if v, ok := raw["links"].([]any); ok {
		m.Links = make([]Link, 0, len(v))
		for _, item := range v {
			lm, ok := item.(map[string]any)
			if !ok {
				return m, fmt.Errorf("metadata.links must be objects")
			}
			var l Link
			for k, val := range lm {
				s, _ := val.(string)
				switch k {
				case "url":
					l.URL = s
				case "title":
					l.Title = s
				case "icon":
					l.Icon = s
				case "type":
					l.Type = s
				default:
					if l.Extra == nil {
						l.Extra = map[string]any{}
					}
					l.Extra[k] = val
				}
			}
			m.Links = append(m.Links, l)
		}
	}
	for k, v := range raw {
		switch k {
		case "uid", "etag", "name", "namespace", "title", "description", "labels", "annotations", "tags", "links":
			if _, isString := v.(string); k == "description" && !isString {
				break
			}
			continue
		}
		if m.Extra == nil {
			m.Extra = map[string]any{}
		}
		m.Extra[k] = v
	}
	return m, nil
}

func stringMap(v map[string]any) map[string]string {
	out := make(map[string]string, len(v))
	for k, val := range v {
		s, _ := val.(string)
		out[k] = s
	}
	return out
}

// EntityFromMap converts a validated entity (as produced by processing) into
// its typed form.
func EntityFromMap(raw map[string]any) (*Entity, error) {
	e := &Entity{}
	e.APIVersion, _ = raw["apiVersion"].(string)
	e.Kind, _ = raw["kind"].(string)
	md, ok := raw["metadata"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("metadata must be an object")
	}
	var err error
	if e.Metadata, err = metadataFromMap(md); err != nil {
		return nil, err
	}
	if spec, ok := raw["spec"].(map[string]any); ok {
		e.Spec = spec
	}
	return e, nil
}

// SortRelations orders relations as Backstage's stitcher does: by type, then
// target ref, without duplicates.
func SortRelations(rs []Relation) []Relation {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Type != rs[j].Type {
			return rs[i].Type < rs[j].Type
		}
		return rs[i].TargetRef < rs[j].TargetRef
	})
	out := rs[:0]
	for i, r := range rs {
		if i > 0 && r == rs[i-1] {
			continue
		}
		out = append(out, r)
	}
	return out
}
