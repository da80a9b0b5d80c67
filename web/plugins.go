package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/web/auth"
)

// Plugins is what the pages ask of the plugin host.
type Plugins interface {
	Instances() []*plugins.Instance
	EntityCards(e *catalog.Entity) []plugins.ViewRef
	EntityTabs(e *catalog.Entity) []plugins.ViewRef
	RenderView(ctx context.Context, pluginID, name string, tab bool, e *catalog.Entity, v plugins.Viewer) (templ.Component, error)
}

// pluginRow is one installed plugin on the plugins page.
type pluginRow struct {
	*plugins.Instance
	Snap plugins.StatusSnapshot
}

func (s *Server) pluginsPage(w http.ResponseWriter, r *http.Request) {
	var rows []pluginRow
	if s.Plugins != nil {
		for _, in := range s.Plugins.Instances() {
			rows = append(rows, pluginRow{Instance: in, Snap: in.Status.Snapshot()})
		}
	}
	s.render(w, r, http.StatusOK, pluginsView(s.page(r, "Plugins", "/plugins"), rows))
}

// entityCard renders one plugin card of an entity: a fragment for htmx
// (the entity page loads its cards after itself), or a page of its own
// without JavaScript. An upstream failure is a message inside the card,
// answered 200 so htmx swaps it in.
func (s *Server) entityCard(w http.ResponseWriter, r *http.Request) {
	if s.Plugins == nil {
		s.notFound(w, r, "No plugins are enabled.")
		return
	}
	ref := refParam(r)
	_, e, ok := s.loadEntity(w, r, ref)
	if !ok {
		return
	}
	pluginID, name := chi.URLParam(r, "plugin"), chi.URLParam(r, "view")
	var card plugins.ViewRef
	for _, c := range s.Plugins.EntityCards(e.Entity) {
		if c.Plugin == pluginID && c.Name == name {
			card = c
		}
	}
	if card.Plugin == "" {
		s.notFound(w, r, "The entity "+ref.String()+" has no card "+pluginID+"/"+name+".")
		return
	}
	body, err := s.Plugins.RenderView(r.Context(), pluginID, name, false, e.Entity, s.viewer(r))
	msg := ""
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		s.Log.Warn("plugin card", "plugin", pluginID, "card", name, "entity", ref.String(), "error", err)
		msg = cardErrorMessage(err)
	}
	if htmxTarget(r) != "" {
		s.render(w, r, http.StatusOK, cardBody(card, body, msg))
		return
	}
	s.render(w, r, http.StatusOK, cardPage(s.page(r, card.Title+" · "+e.DisplayName(), ""), e, card, body, msg))
}

// cardErrorMessage is what a card shows when its plugin fails: the
// plugin's message, never more than a line or two.
func cardErrorMessage(err error) string {
	m := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		m = "the upstream service did not answer in time"
	}
	if len(m) > 300 {
		m = m[:300] + "…"
	}
	return strings.TrimSpace(m)
}

// viewer is who is looking at the page.
func (s *Server) viewer(r *http.Request) plugins.Viewer {
	id, ok := auth.FromContext(r.Context())
	if !ok {
		return plugins.Viewer{}
	}
	return plugins.Viewer{Ref: id.UserRef, Ownership: id.OwnershipRefs}
}

// cardsOf lists the plugin cards of an entity page, with their URLs.
func (s *Server) cardsOf(e entity) []entityCardRef {
	if s.Plugins == nil {
		return nil
	}
	var out []entityCardRef
	for _, c := range s.Plugins.EntityCards(e.Entity) {
		out = append(out, entityCardRef{ViewRef: c, URL: entityHref(e.Ref) + "/cards/" + c.Path()})
	}
	return out
}

type entityCardRef struct {
	plugins.ViewRef
	URL string
}

// cardID is the card section's element id.
func (c entityCardRef) ID() string {
	return "card-" + strings.NewReplacer(".", "-", "/", "-").Replace(c.Path())
}

// pluginTabsOf lists the plugin tabs of an entity.
func (s *Server) pluginTabsOf(e entity) []plugins.ViewRef {
	if s.Plugins == nil {
		return nil
	}
	return s.Plugins.EntityTabs(e.Entity)
}

// pluginTabView is a plugin tab's content on the entity page.
type pluginTabView struct {
	Ref  plugins.ViewRef
	Body templ.Component
	Msg  string // the plugin's error, shown in place of the tab's content
}

// entityTab renders a plugin's tab of an entity inside the entity page.
// The tab is rendered on the server (a tab is what the user asked to
// see); a failing plugin shows its message there, the page around it
// as always.
func (s *Server) entityTab(w http.ResponseWriter, r *http.Request) {
	ref := refParam(r)
	_, e, ok := s.loadEntity(w, r, ref)
	if !ok {
		return
	}
	pluginID, name := chi.URLParam(r, "plugin"), chi.URLParam(r, "view")
	var tab plugins.ViewRef
	tabs := s.pluginTabsOf(e)
	for _, t := range tabs {
		if t.Plugin == pluginID && t.Name == name {
			tab = t
		}
	}
	if tab.Plugin == "" {
		s.notFound(w, r, "The entity "+ref.String()+" has no tab "+pluginID+"/"+name+".")
		return
	}
	v := entityView{E: e, Tab: "tabs/" + tab.Path(), PluginTabs: tabs}
	v.PluginTab = &pluginTabView{Ref: tab}
	body, err := s.Plugins.RenderView(r.Context(), pluginID, name, true, e.Entity, s.viewer(r))
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		s.Log.Warn("plugin tab", "plugin", pluginID, "tab", name, "entity", ref.String(), "error", err)
		v.PluginTab.Msg = cardErrorMessage(err)
	} else {
		v.PluginTab.Body = body
	}
	s.render(w, r, http.StatusOK, entityPageView(s.page(r, tab.Title+" · "+e.DisplayName(), ""), v))
}
