package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	catalogapi "github.com/greenroom-dev/greenroom/catalog/api"
)

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers streaming through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// auditErr is the failure an audited handler's status stands for.
type auditErr int

func (e auditErr) Error() string { return "answered " + http.StatusText(int(e)) }

// audited records a task mutation as Backstage's scaffolder "task" event
// (actionType create, cancel, retry): initiated, then succeeded or failed
// by the answer's status. Only the template ref and the task id go into
// the meta — never the values or secrets of the body.
func (s *Server) audited(actionType string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Audit == nil {
			h(w, r)
			return
		}
		meta := map[string]any{"actionType": actionType}
		if id := chi.URLParam(r, "id"); id != "" {
			meta["taskId"] = id
		}
		if actionType == "create" {
			if ref, ok := catalogapi.PeekJSONField(r, "templateRef"); ok {
				meta["templateRef"] = ref
			}
		}
		op := s.Audit.Begin(r.Context(), r, "scaffolder", "task", "medium", meta)
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		var err error
		if sw.status >= 400 {
			err = auditErr(sw.status)
		}
		op.Done(err)
	}
}
