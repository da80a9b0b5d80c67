package rbac

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// EntityLoader reads a resource a conditional decision is applied to: the
// catalog entity (as its JSON object) of an item's resourceRef. A missing
// one is (nil, nil): the item is denied.
type EntityLoader func(ctx context.Context, resourceType, ref string) (map[string]any, error)

// AuthorizeHandler is Backstage's permission backend, to mount at
// /api/permission: POST /authorize decides a batch of permissions for
// the caller (who returns the identity, ok false when nobody is signed
// in), applying conditions to an item's resourceRef itself; GET /health.
func AuthorizeHandler(s *Service, who func(r *http.Request) (Identity, bool), load EntityLoader) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /authorize", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Items []struct {
				ID          string          `json:"id"`
				Permission  Permission      `json:"permission"`
				ResourceRef json.RawMessage `json:"resourceRef"`
			} `json:"items"`
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(data, &body)
		}
		if err != nil || body.Items == nil {
			inputError(w, r, "the body must be {items: [{id, permission, resourceRef?}]}")
			return
		}
		id, signedIn := who(r)
		out := make([]any, 0, len(body.Items))
		for _, it := range body.Items {
			var refs []string
			single := true
			if len(it.ResourceRef) > 0 && string(it.ResourceRef) != "null" {
				var one string
				if json.Unmarshal(it.ResourceRef, &one) == nil {
					refs = []string{one}
				} else if json.Unmarshal(it.ResourceRef, &refs) != nil || len(refs) == 0 {
					inputError(w, r, "resourceRef must be a string or a non-empty list of strings")
					return
				} else {
					single = false
				}
			}
			if !it.Permission.IsResource() && refs != nil {
				inputError(w, r, "a basic permission takes no resourceRef ("+it.Permission.Name+")")
				return
			}
			if it.Permission.IsResource() && refs == nil && !signedIn && s.Enabled() {
				inputError(w, r, "Resource permissions require a resourceRef to be set. Direct user requests without a resourceRef are not allowed.")
				return
			}
			d := s.Decide(id, it.Permission)
			if d.Result != Conditional || refs == nil {
				out = append(out, d.Item(it.ID))
				continue
			}
			results := make([]string, len(refs))
			for i, ref := range refs {
				res, err := load(r.Context(), it.Permission.ResourceType, ref)
				switch {
				case err != nil:
					writeJSON(w, r, http.StatusInternalServerError, errorBody(r, "Error", "the resource could not be read", http.StatusInternalServerError))
					return
				case res == nil:
					results[i] = Deny.String()
				default:
					results[i] = d.ApplyTo(res).Result.String()
				}
			}
			if single {
				out = append(out, map[string]any{"id": it.ID, "result": results[0]})
			} else {
				out = append(out, map[string]any{"id": it.ID, "result": results})
			}
		}
		writeJSON(w, r, http.StatusOK, map[string]any{"items": out})
	})
	return mux
}

func inputError(w http.ResponseWriter, r *http.Request, msg string) {
	writeJSON(w, r, http.StatusBadRequest, errorBody(r, "InputError", msg, http.StatusBadRequest))
}

func errorBody(r *http.Request, name, msg string, status int) map[string]any {
	return map[string]any{"error": map[string]string{"name": name, "message": msg},
		"request": map[string]string{"method": r.Method, "url": r.URL.RequestURI()}, "response": map[string]int{"statusCode": status}}
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
