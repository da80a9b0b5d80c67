package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// entity is a stored entity as pages use it: the decoded final JSON and
// its ref, with helpers for the fields pages show.
type entity struct {
	*catalog.Entity
	Ref catalog.Ref
}

// decodeEntity reads a final entity as the store keeps it.
func decodeEntity(final []byte) (entity, error) {
	var e catalog.Entity
	if err := json.Unmarshal(final, &e); err != nil {
		return entity{}, fmt.Errorf("decode entity: %w", err)
	}
	return entity{Entity: &e, Ref: e.Ref()}, nil
}

// queryEntities runs a catalog query and decodes its page of at most
// req.Limit entities (the store reads one more, to tell there is more).
func (s *Server) queryEntities(ctx context.Context, req store.QueryRequest) ([]entity, int, error) {
	rows, total, err := s.Catalog.Query(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	out := make([]entity, 0, min(len(rows), req.Limit))
	for i, row := range rows {
		if i == req.Limit {
			break
		}
		e, err := decodeEntity(row.Final)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, nil
}

// DisplayName is the title when there is one, else the name.
func (e entity) DisplayName() string {
	if t := strings.TrimSpace(e.Metadata.Title); t != "" {
		return t
	}
	return e.Metadata.Name
}

// Href is the entity page's URL.
func (e entity) Href() string { return entityHref(e.Ref) }

// Spec returns a string field of spec ("" when absent or not a string).
func (e entity) Spec(key string) string {
	if s, ok := e.Entity.Spec[key].(string); ok {
		return s
	}
	return ""
}

// SpecType is spec.type, what the table's Type column shows.
func (e entity) SpecType() string { return e.Spec("type") }

// Targets lists the refs of the entity's relations of one type, sorted.
func (e entity) Targets(relType string) []catalog.Ref {
	var out []catalog.Ref
	for _, r := range e.Relations {
		if r.Type != relType {
			continue
		}
		if ref, err := catalog.ParseRef(r.TargetRef, catalog.RefDefaults{}); err == nil {
			out = append(out, ref)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// First returns the first target of a relation type, if any.
func (e entity) First(relType string) (catalog.Ref, bool) {
	t := e.Targets(relType)
	if len(t) == 0 {
		return catalog.Ref{}, false
	}
	return t[0], true
}

// Annotation returns one of metadata.annotations.
func (e entity) Annotation(key string) string { return e.Metadata.Annotations[key] }

// Orphan reports Backstage's orphan annotation: the location that emitted
// the entity no longer does.
func (e entity) Orphan() bool { return e.Annotation("backstage.io/orphan") == "true" }

// entityHref is the entity page of a ref: /catalog/{namespace}/{kind}/{name}
// with the kind lower-cased, as Backstage's routes have it.
func entityHref(r catalog.Ref) string {
	ns := r.Namespace
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	return "/catalog/" + url.PathEscape(ns) + "/" + url.PathEscape(strings.ToLower(r.Kind)) + "/" + url.PathEscape(r.Name)
}

// humanize writes a ref the way Backstage's humanizeEntityRef does: the
// namespace only when not default, the kind only when it is not the one
// the reader expects.
func humanize(r catalog.Ref, defaultKind string) string {
	s := r.Name
	if r.Namespace != "" && !strings.EqualFold(r.Namespace, catalog.DefaultNamespace) {
		s = r.Namespace + "/" + s
	}
	if !strings.EqualFold(r.Kind, defaultKind) {
		s = strings.ToLower(r.Kind) + ":" + s
	}
	return s
}

// safeLink returns an http(s) or mailto URL unchanged and "" for anything
// else: entity links and annotations are written by anyone who can commit
// a catalog file.
func safeLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return u.String()
	}
	return ""
}

// sourceURL turns a location ref ("url:https://…", "file:/…") into a link
// when it is a web address.
func sourceURL(locationRef string) string {
	l, err := catalog.ParseLocationRef(locationRef)
	if err != nil || l.Type != "url" {
		return ""
	}
	return safeLink(l.Target)
}

// truncate shortens text to n runes on a word boundary, with an ellipsis.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// kindNames lists the built-in kinds in the order the kind selector shows them.
var kindNames = []string{"Component", "API", "System", "Domain", "Resource", "Group", "User", "Template", "Location"}

// kindLabel finds the built-in spelling of a lower-case kind.
func kindLabel(kind string) string {
	for _, k := range kindNames {
		if strings.EqualFold(k, kind) {
			return k
		}
	}
	return kind
}
