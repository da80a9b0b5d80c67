package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/greenroom-dev/greenroom/web/audit"
)

// auditView is a page of the audit log with its filters.
type auditView struct {
	F          audit.Filter
	Query      url.Values
	Events     []audit.Event
	NextBefore int64
	Err        string
}

const auditPageSize = 50

// nextURL is the next (older) page with the same filters.
func (v auditView) nextURL() string {
	q := url.Values{}
	for k, vs := range v.Query {
		if k != "before" {
			q[k] = vs
		}
	}
	q.Set("before", strconv.FormatInt(v.NextBefore, 10))
	return "/audit?" + q.Encode()
}

func metaText(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// auditPage lists what was done, newest first, for those allowed to read
// the audit log (greenroom.audit.read): filters by actor, event, target,
// status and time; the same as JSON at /api/audit/events.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r, "greenroom.audit.read", nil) {
		return
	}
	v := auditView{Query: r.URL.Query()}
	f, err := audit.FilterFromQuery(r)
	if err != nil {
		v.Err = err.Error()
		s.render(w, r, http.StatusBadRequest, auditPageView(s.page(r, "Audit log", ""), v))
		return
	}
	f.Limit = auditPageSize
	v.F = f
	v.Events, err = s.Audit.Store.Query(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(v.Events) == auditPageSize {
		v.NextBefore = v.Events[len(v.Events)-1].ID
	}
	s.render(w, r, http.StatusOK, auditPageView(s.page(r, "Audit log", ""), v))
}

// auditAPI is the audit log as JSON, for the same readers.
func (s *Server) auditAPI() http.Handler {
	h := http.StripPrefix("/api/audit", audit.Handler(s.Audit.Store))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Authorize != nil {
			if err := s.Authorize(r, "greenroom.audit.read", nil); err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"name": "NotAllowedError", "message": err.Error()}})
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
