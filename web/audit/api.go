package audit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Handler serves the events as JSON: GET /events with the query
// parameters actor, eventId, plugin, target, status, since, until
// (RFC 3339), before (an event id, for the next page) and limit. It
// answers {items, nextBefore}; nextBefore is 0 on the last page. Who may
// read it is the caller's to decide (an admin permission).
func Handler(s *Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		f, err := FilterFromQuery(r)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"name": "InputError", "message": err.Error()}})
			return
		}
		items, err := s.Query(r.Context(), f)
		if err != nil {
			http.Error(w, "the audit log could not be read", http.StatusInternalServerError)
			return
		}
		var next int64
		limit := f.Limit
		if limit <= 0 {
			limit = 50
		}
		if len(items) == min(limit, 500) && len(items) > 0 {
			next = items[len(items)-1].ID
		}
		if items == nil {
			items = []Event{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"items": items, "nextBefore": next})
	})
	return mux
}

// FilterFromQuery reads a Filter from a request's query parameters.
func FilterFromQuery(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Actor: q.Get("actor"), EventID: q.Get("eventId"), Plugin: q.Get("plugin"), Target: q.Get("target"), Status: Status(q.Get("status"))}
	switch f.Status {
	case "", Initiated, Succeeded, Failed:
	default:
		return f, &queryError{"status must be initiated, succeeded or failed"}
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, &queryError{name + " must be an RFC 3339 time, like 2026-12-04T10:00:00Z"}
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*int64{"before": &f.Before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, &queryError{name + " must be an event id"}
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, &queryError{"limit must be between 1 and 500"}
		}
		f.Limit = n
	}
	return f, nil
}

type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }
