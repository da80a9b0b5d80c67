package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/techdocs"
	"github.com/greenroom-dev/greenroom/web/graph"
)

// Bounds that keep an entity page small and quick however many
// relations the entity has (a group may own thousands of entities).
const (
	maxOwnedRows    = 50   // owned entities listed on a group or user page
	maxDescendants  = 2000 // child groups followed for "owned by child groups"
	maxSectionRows  = 50   // related entities listed per section
	maxRelationRefs = 25   // refs listed per relation type
)

// section is a list of related entities on the entity page.
type section struct {
	ID, Title, Empty string
	Refs             []catalog.Ref // the first maxSectionRows
	Total            int
}

// relGroup is the entity's relations of one type.
type relGroup struct {
	Type  string
	Refs  []catalog.Ref // the first maxRelationRefs
	Total int
}

type entityView struct {
	E        entity
	Tab      string
	Related  map[string]entity // by canonical ref
	Groups   []relGroup
	Sections []section
	Errors   []store.ProcessingError
	Graph    graph.Graph

	// Groups and users: what they own, directly and through child groups.
	OwnerRefs  []catalog.Ref
	Owned      []entity
	OwnedTotal int

	// Cards are the plugins' cards for this entity (loaded after the page).
	Cards []entityCardRef
	// PluginTabs are the plugins' tabs of this entity; PluginTab is the
	// one shown (Tab is then "tabs/<plugin>/<view>").
	PluginTabs []plugins.ViewRef
	PluginTab  *pluginTabView

	// The inspect tab.
	YAML, JSON string
	Ancestry   []entity
}

// entityTabs are the entity page's tabs by kind.
func (v entityView) tabs() []navItem {
	base := entityHref(v.E.Ref)
	tabs := []navItem{{base, "Overview"}}
	if strings.EqualFold(v.E.Kind, "API") {
		tabs = append(tabs, navItem{base + "/definition", "Definition"})
	}
	if v.E.Annotation(techdocs.RefAnnotation) != "" {
		tabs = append(tabs, navItem{techdocs.Root(v.E.Ref), "Docs"})
	}
	for _, t := range v.PluginTabs {
		tabs = append(tabs, navItem{base + "/tabs/" + t.Path(), t.Title})
	}
	return append(tabs, navItem{base + "/inspect", "Inspect"})
}

func (v entityView) tabPath() string {
	if v.Tab == "" {
		return entityHref(v.E.Ref)
	}
	return entityHref(v.E.Ref) + "/" + v.Tab
}

// related returns the stored entity of a ref, if the catalog has it.
func (v entityView) related(r catalog.Ref) (entity, bool) {
	e, ok := v.Related[r.String()]
	return e, ok
}

func (s *Server) entityPage(w http.ResponseWriter, r *http.Request) {
	ref := refParam(r)
	tab := chi.URLParam(r, "tab")
	switch tab {
	case "", "inspect", "definition":
	default:
		s.notFound(w, r, fmt.Sprintf("The entity page has no %q tab.", tab))
		return
	}
	final, e, ok := s.loadEntity(w, r, ref)
	if !ok {
		return
	}
	if tab == "definition" && !strings.EqualFold(e.Kind, "API") {
		s.notFound(w, r, "Only API entities have a definition.")
		return
	}
	v := entityView{E: e, Tab: tab, PluginTabs: s.pluginTabsOf(e)}
	var err error
	switch tab {
	case "inspect":
		err = s.inspect(r.Context(), &v, final)
	case "":
		err = s.overview(r.Context(), &v)
		v.Cards = s.cardsOf(e)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, entityPageView(s.page(r, e.DisplayName(), ""), v))
}

// refParam is the entity a /catalog/{namespace}/{kind}/{name} or
// /docs/{namespace}/{kind}/{name} URL names.
func refParam(r *http.Request) catalog.Ref {
	return catalog.Ref{Kind: chi.URLParam(r, "kind"), Namespace: chi.URLParam(r, "namespace"), Name: chi.URLParam(r, "name")}
}

// loadEntity reads an entity for a page, answering 404 or an error page
// itself when it cannot (ok false).
func (s *Server) loadEntity(w http.ResponseWriter, r *http.Request, ref catalog.Ref) (final []byte, e entity, ok bool) {
	final, err := s.Catalog.FinalByRef(r.Context(), ref.String())
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r, fmt.Sprintf("The catalog has no entity %s.", ref))
		return nil, e, false
	}
	if err == nil {
		e, err = decodeEntity(final)
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, e, false
	}
	return final, e, true
}

// overview gathers the overview tab: relations with the entities they
// point to, the sections of the entity's kind, the graph, errors.
func (s *Server) overview(ctx context.Context, v *entityView) error {
	e := v.E
	byType := map[string][]catalog.Ref{}
	for _, r := range e.Relations {
		ref, err := catalog.ParseRef(r.TargetRef, catalog.RefDefaults{})
		if err != nil {
			continue
		}
		byType[r.Type] = append(byType[r.Type], ref)
	}
	// Fetch only what the page shows: the about card's refs, the first
	// refs of each relation type and of each section.
	show := append([]catalog.Ref(nil), e.Targets(catalog.RelationOwnedBy)...)
	show = append(show, e.Targets(catalog.RelationPartOf)...)
	for t, refs := range byType {
		sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
		g := relGroup{Type: t, Refs: refs, Total: len(refs)}
		if len(refs) > maxRelationRefs {
			g.Refs = refs[:maxRelationRefs]
		}
		show = append(show, g.Refs...)
		v.Groups = append(v.Groups, g)
	}
	sort.Slice(v.Groups, func(i, j int) bool { return v.Groups[i].Type < v.Groups[j].Type })
	v.Sections = kindSections(e)
	for i, sec := range v.Sections {
		v.Sections[i].Total = len(sec.Refs)
		if len(sec.Refs) > maxSectionRows {
			v.Sections[i].Refs = sec.Refs[:maxSectionRows]
		}
		show = append(show, v.Sections[i].Refs...)
	}
	related, err := s.entities(ctx, show)
	if err != nil {
		return err
	}
	v.Related = related
	v.Graph = relationGraph(e, related)

	if v.Errors, err = s.Catalog.EntityErrors(ctx, e.Ref.String()); err != nil {
		return fmt.Errorf("errors of %s: %w", e.Ref, err)
	}
	switch strings.ToLower(e.Kind) {
	case "group":
		owners, err := s.descendantGroups(ctx, e)
		if err != nil {
			return err
		}
		return s.owned(ctx, v, owners)
	case "user":
		return s.owned(ctx, v, append([]catalog.Ref{e.Ref}, e.Targets(catalog.RelationMemberOf)...))
	}
	return nil
}

// entities fetches the stored entities of refs, keyed by canonical ref.
func (s *Server) entities(ctx context.Context, refs []catalog.Ref) (map[string]entity, error) {
	out := map[string]entity{}
	if len(refs) == 0 {
		return out, nil
	}
	keys := make([]string, 0, len(refs))
	seen := map[string]bool{}
	for _, r := range refs {
		if k := r.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	finals, err := s.Catalog.ByRefs(ctx, keys, store.All{})
	if err != nil {
		return nil, fmt.Errorf("related entities: %w", err)
	}
	for i, f := range finals {
		if f == nil {
			continue
		}
		e, err := decodeEntity(f)
		if err != nil {
			return nil, err
		}
		out[keys[i]] = e
	}
	return out, nil
}

func sec(id, title, empty string, refs []catalog.Ref) section {
	return section{ID: id, Title: title, Empty: empty, Refs: refs}
}

// kindSections are the lists Backstage's entity pages show for each kind.
func kindSections(e entity) []section {
	t := e.Targets
	onlyKind := func(refs []catalog.Ref, kinds ...string) []catalog.Ref {
		var out []catalog.Ref
		for _, r := range refs {
			for _, k := range kinds {
				if strings.EqualFold(r.Kind, k) {
					out = append(out, r)
				}
			}
		}
		return out
	}
	switch strings.ToLower(e.Kind) {
	case "component":
		return []section{
			sec("subcomponents", "Subcomponents", "No subcomponents.", onlyKind(t(catalog.RelationHasPart), "component")),
			sec("provided-apis", "Provided APIs", "Provides no APIs.", t(catalog.RelationProvidesAPI)),
			sec("consumed-apis", "Consumed APIs", "Consumes no APIs.", t(catalog.RelationConsumesAPI)),
			sec("depends-on", "Depends on", "No dependencies.", t(catalog.RelationDependsOn)),
			sec("dependents", "Depended on by", "Nothing depends on it.", t(catalog.RelationDependencyOf)),
		}
	case "api":
		return []section{
			sec("providers", "Provided by", "No component provides it.", t(catalog.RelationAPIProvidedBy)),
			sec("consumers", "Consumed by", "No component consumes it.", t(catalog.RelationAPIConsumedBy)),
		}
	case "resource":
		return []section{
			sec("depends-on", "Depends on", "No dependencies.", t(catalog.RelationDependsOn)),
			sec("dependents", "Depended on by", "Nothing depends on it.", t(catalog.RelationDependencyOf)),
		}
	case "system":
		parts := t(catalog.RelationHasPart)
		return []section{
			sec("components", "Components", "No components.", onlyKind(parts, "component")),
			sec("apis", "APIs", "No APIs.", onlyKind(parts, "api")),
			sec("resources", "Resources", "No resources.", onlyKind(parts, "resource")),
		}
	case "domain":
		return []section{sec("systems", "Systems", "No systems.", onlyKind(t(catalog.RelationHasPart), "system"))}
	case "group":
		return []section{
			sec("members", "Members", "No members.", t(catalog.RelationHasMember)),
			sec("parent", "Parent group", "No parent group.", t(catalog.RelationChildOf)),
			sec("children", "Child groups", "No child groups.", t(catalog.RelationParentOf)),
		}
	case "user":
		return []section{sec("groups", "Member of", "Not a member of any group.", t(catalog.RelationMemberOf))}
	}
	return nil
}

// descendantGroups is the group and every group below it (parentOf,
// any depth; cycles are harmless), at most maxDescendants.
func (s *Server) descendantGroups(ctx context.Context, g entity) ([]catalog.Ref, error) {
	refs, err := s.Catalog.Reachable(ctx, g.Ref.String(), catalog.RelationParentOf, maxDescendants)
	if err != nil {
		return nil, err
	}
	out := make([]catalog.Ref, 0, len(refs))
	for _, r := range refs {
		if ref, err := catalog.ParseRef(r, catalog.RefDefaults{}); err == nil {
			out = append(out, ref)
		}
	}
	return out, nil
}

// owned lists the first entities owned by any of the refs, by name.
func (s *Server) owned(ctx context.Context, v *entityView, owners []catalog.Ref) error {
	v.OwnerRefs = owners
	values := make([]string, len(owners))
	for i, o := range owners {
		values[i] = o.String()
	}
	owned, total, err := s.queryEntities(ctx, store.QueryRequest{
		Filter:     store.Field{Key: "relations.ownedby", Values: values},
		SortField:  "metadata.name",
		Limit:      maxOwnedRows,
		CountTotal: true,
	})
	if err != nil {
		return fmt.Errorf("owned by %s: %w", v.E.Ref, err)
	}
	v.Owned = owned
	v.OwnedTotal = total
	return nil
}

// inspect gathers the raw entity as YAML and JSON and where it came from.
func (s *Server) inspect(ctx context.Context, v *entityView, final []byte) error {
	var node yaml.Node
	// JSON is YAML: decoding it into a node keeps the key order.
	if err := yaml.Unmarshal(final, &node); err != nil {
		return fmt.Errorf("entity as YAML: %w", err)
	}
	setBlockStyle(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return fmt.Errorf("entity as YAML: %w", err)
	}
	v.YAML = buf.String()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, final, "", "  "); err != nil {
		return fmt.Errorf("entity as JSON: %w", err)
	}
	v.JSON = pretty.String()
	items, err := s.Catalog.Ancestry(ctx, v.E.Ref.String())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("ancestry of %s: %w", v.E.Ref, err)
	}
	for _, it := range items {
		if e, err := decodeEntity(it.Final); err == nil {
			v.Ancestry = append(v.Ancestry, e)
		}
	}
	return nil
}

// setBlockStyle undoes the flow style JSON input leaves on a node, so the
// YAML reads like a catalog file.
func setBlockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		n.Style &^= yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		setBlockStyle(c)
	}
}

// Fields of the about card.

func (e entity) sourceLocation() (label, href string) {
	// Backstage's source-location names where the code lives; without it,
	// the descriptor's own location is the best answer.
	if src := e.Annotation("backstage.io/source-location"); src != "" {
		return src, sourceURL(src)
	}
	loc := e.Annotation("backstage.io/managed-by-location")
	if loc == "" {
		return "", ""
	}
	if u := safeLink(e.Annotation("backstage.io/view-url")); u != "" {
		return loc, u
	}
	return loc, sourceURL(loc)
}

func (e entity) domainRef() (catalog.Ref, bool) {
	d := e.Spec("domain")
	if d == "" {
		return catalog.Ref{}, false
	}
	r, err := catalog.ParseRef(d, catalog.RefDefaults{Kind: "Domain", Namespace: e.Ref.Namespace})
	return r, err == nil
}

// annotations lists metadata.annotations sorted by key.
func (e entity) annotations() [][2]string {
	out := make([][2]string, 0, len(e.Metadata.Annotations))
	for k, v := range e.Metadata.Annotations {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func linkTitle(l catalog.Link) string {
	if strings.TrimSpace(l.Title) != "" {
		return l.Title
	}
	return l.URL
}
