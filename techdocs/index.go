package techdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/techdocs/mkdocs"
)

// Documented lists the refs of entities with docs (a techdocs-ref).
type Documented interface {
	Query(ctx context.Context, req store.QueryRequest) ([]store.QueryRow, int, error)
}

// Indexer feeds the search index with one document per docs page
// (TypeTechDocs), re-reading a site only when its sources changed.
type Indexer struct {
	Service *Service
	Index   *search.Index
	Catalog Documented
	Log     *slog.Logger
}

// indexedSite is what the index remembers of a site: its version and the
// ids of its page documents, to remove the pages it no longer has.
type indexedSite struct {
	Version string
	IDs     []string
}

func siteKey(ref string) []byte { return []byte("techdocs:site:" + ref) }

// keySites lists the refs whose sites are in the index, so that the pages
// of an entity deleted or no longer documented can be removed.
var keySites = []byte("techdocs:sites")

// Sync indexes every documented entity's site that changed, and removes
// the pages of entities that are gone or have no docs any more.
func (ix *Indexer) Sync(ctx context.Context) error {
	rows, _, err := ix.Catalog.Query(ctx, store.QueryRequest{Filter: store.Field{Key: "metadata.annotations." + RefAnnotation}, Limit: -1})
	if err != nil {
		return fmt.Errorf("documented entities: %w", err)
	}
	current := map[string]bool{}
	for _, row := range rows {
		var e catalog.Entity
		if err := json.Unmarshal(row.Final, &e); err != nil {
			continue
		}
		current[e.Ref().String()] = true
		if err := ix.site(ctx, &e); err != nil && ix.Log != nil {
			ix.Log.Warn("techdocs: indexing", "entity", e.Ref().String(), "error", err)
		}
	}
	var before []string
	if raw, err := ix.Index.Internal(keySites); err == nil && len(raw) > 0 {
		json.Unmarshal(raw, &before)
	}
	for _, ref := range before {
		if current[ref] {
			continue
		}
		var prev indexedSite
		if raw, err := ix.Index.Internal(siteKey(ref)); err == nil && len(raw) > 0 {
			json.Unmarshal(raw, &prev)
		}
		if err := ix.Index.Apply(nil, prev.IDs, siteKey(ref), []byte("{}")); err != nil {
			return fmt.Errorf("remove the docs of %s: %w", ref, err)
		}
	}
	refs := make([]string, 0, len(current))
	for ref := range current {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	list, _ := json.Marshal(refs)
	return ix.Index.Apply(nil, nil, keySites, list)
}

// Run syncs now and then every interval until ctx ends.
func (ix *Indexer) Run(ctx context.Context, interval time.Duration) {
	for {
		if err := ix.Sync(ctx); err != nil && ix.Log != nil && ctx.Err() == nil {
			ix.Log.Error("techdocs: search sync", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (ix *Indexer) site(ctx context.Context, e *catalog.Entity) error {
	ref := e.Ref()
	key := siteKey(ref.String())
	var prev indexedSite
	if raw, err := ix.Index.Internal(key); err == nil && len(raw) > 0 {
		json.Unmarshal(raw, &prev)
	}
	st, err := ix.Service.site(ctx, ref)
	if err != nil {
		// No docs (any more): drop what was indexed.
		if len(prev.IDs) > 0 {
			return ix.Index.Apply(nil, prev.IDs, key, []byte("{}"))
		}
		return nil
	}
	version := st.print + st.stamps()
	if version == prev.Version {
		return nil
	}
	var docs []search.Document
	var ids []string
	for _, pg := range st.mk.Pages {
		res, err := st.render(pg)
		if err != nil {
			continue
		}
		title := res.Title
		if title == "" {
			title = pg.Title
		}
		if title == "" {
			title = st.mk.Name
		} else if title != st.mk.Name {
			title += " · " + st.mk.Name // which site a page is of
		}
		var heads []string
		for _, h := range res.Headings {
			heads = append(heads, h.Text)
		}
		d := search.Document{
			ID:       search.TypeTechDocs + ":" + ref.String() + ":" + pg.Path,
			Type:     search.TypeTechDocs,
			Title:    title,
			Text:     res.Text,
			Location: Root(ref) + mkdocs.URLPath(pg.Path),
			// No Name: a name hit ranks the entity itself, not its pages.
			Kind:      e.Kind,
			Namespace: ref.Namespace,
			Lifecycle: specString(e, "lifecycle"),
			Owner:     search.Owner(e, specString(e, "owner")),
			Extra:     e.Metadata.Name + " \n" + st.mk.Name + " \n" + strings.Join(heads, " \n"),
		}
		docs = append(docs, d)
		ids = append(ids, d.ID)
	}
	var stale []string
	keep := map[string]bool{}
	for _, id := range ids {
		keep[id] = true
	}
	for _, id := range prev.IDs {
		if !keep[id] {
			stale = append(stale, id)
		}
	}
	state, _ := json.Marshal(indexedSite{Version: version, IDs: ids})
	return ix.Index.Apply(docs, stale, key, state)
}

func specString(e *catalog.Entity, k string) string {
	s, _ := e.Spec[k].(string)
	return s
}
