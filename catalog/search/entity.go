package search

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
)

// EntityID is the document id of a catalog entity (by canonical ref).
func EntityID(ref string) string { return TypeCatalog + ":" + strings.ToLower(ref) }

// EntityDocument turns a stored entity (its served JSON) into the search
// document Backstage's catalog collator would make: title, description as
// text, the entity page as location, kind, namespace, type, lifecycle,
// owner — plus name, system, tags and the other text worth finding.
func EntityDocument(final []byte) (Document, error) {
	var e catalog.Entity
	if err := json.Unmarshal(final, &e); err != nil {
		return Document{}, fmt.Errorf("decode entity: %w", err)
	}
	ref := e.Ref()
	ns := ref.Namespace
	str := func(key string) string {
		s, _ := e.Spec[key].(string)
		return s
	}
	d := Document{
		ID:        EntityID(ref.String()),
		Type:      TypeCatalog,
		Title:     e.Metadata.Title,
		Text:      e.Metadata.Description,
		Location:  "/catalog/" + url.PathEscape(ns) + "/" + url.PathEscape(strings.ToLower(e.Kind)) + "/" + url.PathEscape(e.Metadata.Name),
		Name:      e.Metadata.Name,
		Kind:      e.Kind,
		Namespace: ns,
		SpecType:  str("type"),
		Lifecycle: str("lifecycle"),
		Owner:     Owner(&e, str("owner")),
		System:    str("system"),
		Tags:      e.Metadata.Tags,
	}
	if d.Title == "" {
		d.Title = e.Metadata.Name
	}
	var extra []string
	if p, ok := e.Spec["profile"].(map[string]any); ok {
		for _, k := range []string{"displayName", "email"} {
			if s, ok := p[k].(string); ok {
				extra = append(extra, s)
			}
		}
	}
	for _, l := range e.Metadata.Links {
		if l.Title != "" {
			extra = append(extra, l.Title)
		}
	}
	// Other short spec strings (targets, parents, domains, …), not whole
	// definitions: an API's definition would drown its description.
	keys := make([]string, 0, len(e.Spec))
	for k := range e.Spec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "type", "lifecycle", "owner", "system", "definition", "profile":
			continue
		}
		collectStrings(e.Spec[k], &extra, 0)
	}
	d.Extra = strings.Join(extra, " \n")
	return d, nil
}

// collectStrings gathers short strings from a spec value.
func collectStrings(v any, out *[]string, depth int) {
	if depth > 3 || len(*out) > 200 {
		return
	}
	switch t := v.(type) {
	case string:
		if len(t) <= 200 {
			*out = append(*out, t)
		}
	case []any:
		for _, x := range t {
			collectStrings(x, out, depth+1)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collectStrings(t[k], out, depth+1)
		}
	}
}

// Owner is the entity's owner as search documents spell it, one spelling
// per owner — the ownedBy relation's target without the default kind
// (group) and namespace, so "team-a", "group:team-a" and
// "group:default/team-a" count as one; else as written. Catalog and docs
// documents share it, so one owner filter finds both.
func Owner(e *catalog.Entity, written string) string {
	for _, r := range e.Relations {
		if r.Type != catalog.RelationOwnedBy {
			continue
		}
		ref, err := catalog.ParseRef(r.TargetRef, catalog.RefDefaults{})
		if err != nil {
			break
		}
		s := ref.Name
		if !strings.EqualFold(ref.Namespace, catalog.DefaultNamespace) {
			s = ref.Namespace + "/" + s
		}
		if !strings.EqualFold(ref.Kind, "group") {
			s = strings.ToLower(ref.Kind) + ":" + s
		}
		return s
	}
	return written
}
