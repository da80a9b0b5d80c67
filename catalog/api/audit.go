package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Auditor records the API's mutations as Backstage's catalog auditor
// events (location-mutate, entity-mutate). Declared here, implemented by
// the server's audit log; a nil Auditor records nothing.
type Auditor interface {
	Begin(ctx context.Context, r *http.Request, plugin, eventID, severity string, meta map[string]any) AuditOp
}

// AuditOp is an operation an Auditor logged as initiated. An alias, so
// an implementation need not import this package to return one.
type AuditOp = interface {
	Done(err error)
}

// audited wraps a mutation: it is logged as initiated with meta (from the
// URL and, for a location, its body's type and target), then as succeeded
// or failed with the handler's error.
func (s *Server) audited(eventID, actionType string, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.Audit == nil {
			return h(w, r)
		}
		meta := map[string]any{"actionType": actionType}
		for _, p := range []string{"id", "uid"} {
			if v := chi.URLParam(r, p); v != "" {
				meta[map[string]string{"id": "locationId", "uid": "uid"}[p]] = v
			}
		}
		if eventID == "location-mutate" && actionType == "create" {
			if spec, ok := peekLocation(r); ok {
				meta["locationRef"] = spec
				if strings.EqualFold(r.URL.Query().Get("dryRun"), "true") {
					meta["dryRun"] = true
				}
			}
		}
		if eventID == "entity-mutate" && actionType == "refresh" {
			if ref, ok := PeekJSONField(r, "entityRef"); ok {
				meta["entityRef"] = ref
			}
		}
		op := s.Audit.Begin(r.Context(), r, "catalog", eventID, "medium", meta)
		err := h(w, r)
		op.Done(err)
		return err
	}
}

// peekLocation reads a POST /locations body's type and target, leaving
// the body for the handler.
func peekLocation(r *http.Request) (string, bool) {
	typ, ok1 := PeekJSONField(r, "type")
	target, ok2 := PeekJSONField(r, "target")
	if !ok1 || !ok2 {
		return "", false
	}
	return typ + ":" + target, true
}

// maxPeekBytes bounds what an audit peek holds in memory; a larger body
// is left to the handler's limit (and its field goes unrecorded).
const maxPeekBytes = 1 << 20

// PeekJSONField reads one string field of a JSON request body, leaving the
// body for the handler (for audit meta; never for secrets).
func PeekJSONField(r *http.Request, name string) (string, bool) {
	if r.Body == nil {
		return "", false
	}
	// Bounded: the handler's own body limit is applied after this peek.
	data, err := io.ReadAll(io.LimitReader(r.Body, maxPeekBytes))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), r.Body))
	if err != nil {
		return "", false
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return "", false
	}
	v, ok := m[name].(string)
	return v, ok
}
