package plugins

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxWebhookBytes bounds one delivery (GitHub caps payloads at 25 MB).
const maxWebhookBytes = 25 << 20

// EventsHandler is Backstage's events ingress, mounted at /api/events:
// POST /http/<topic> verifies the delivery's signature with the topic's
// plugin, answers 202 {"status":"accepted"} and queues it for Run; a bad
// signature is refused with 403 and logged (without the secret or body).
func (h *Host) EventsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /http/{topic}", func(w http.ResponseWriter, r *http.Request) {
		topic := r.PathValue("topic")
		hook, pluginID, ok := h.Webhook(topic)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"name": "NotFoundError",
				"message": "no plugin receives events of topic " + topic + " (topics: " + strings.Join(h.Topics(), ", ") + ")"}})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": map[string]string{"name": "InputError", "message": "the delivery is too large or was cut off"}})
			return
		}
		if err := hook.Verify(r.Header, body); err != nil {
			h.log.Warn("webhook refused", "plugin", pluginID, "topic", topic, "remote", r.RemoteAddr, "reason", err)
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "invalid signature"})
			return
		}
		if !h.Deliver(pluginID, hook, r.Header.Clone(), body) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "too many deliveries queued; retry later"})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
