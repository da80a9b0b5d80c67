package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	catalogapi "github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/web/audit"
)

// audited records a task mutation as Backstage's scaffolder "task" event
// (actionType create, cancel, retry): initiated, then succeeded or failed
// by the answer's status. Only the template ref and the task id go into
// the meta — never the values or secrets of the body.
func (s *Server) audited(actionType string, h http.HandlerFunc) http.HandlerFunc {
	return audit.Wrap(s.Audit, "scaffolder", "task", audit.Medium, func(r *http.Request) map[string]any {
		meta := map[string]any{"actionType": actionType}
		if id := chi.URLParam(r, "id"); id != "" {
			meta["taskId"] = id
		}
		if actionType == "create" {
			if ref, ok := catalogapi.PeekJSONField(r, "templateRef"); ok {
				meta["templateRef"] = ref
			}
		}
		return meta
	}, h)
}
