// Package api serves Backstage's catalog REST API (/api/catalog) from the
// store: the same routes, parameters, paging, errors and status codes, so
// @backstage/catalog-client and scripts written for Backstage work as they
// are.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is an API error with Backstage's error name, which decides the
// status code.
type Error struct {
	Name    string
	Message string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// InputError is Backstage's 400: the request is malformed.
func InputError(format string, args ...any) error {
	return &Error{Name: "InputError", Message: fmt.Sprintf(format, args...)}
}

func inputErr(format string, args ...any) error { return InputError(format, args...) }

func notFound(format string, args ...any) error {
	return &Error{Name: "NotFoundError", Message: fmt.Sprintf(format, args...)}
}

func conflictErr(format string, args ...any) error {
	return &Error{Name: "ConflictError", Message: fmt.Sprintf(format, args...)}
}

func notAllowed(format string, args ...any) error {
	return &Error{Name: "NotAllowedError", Message: fmt.Sprintf(format, args...)}
}

var statusByName = map[string]int{
	"InputError":              http.StatusBadRequest,
	"AuthenticationError":     http.StatusUnauthorized,
	"NotAllowedError":         http.StatusForbidden,
	"NotFoundError":           http.StatusNotFound,
	"ConflictError":           http.StatusConflict,
	"NotModifiedError":        http.StatusNotModified,
	"PayloadTooLargeError":    http.StatusRequestEntityTooLarge,
	"ServiceUnavailableError": http.StatusServiceUnavailable,
}

// writeError answers with Backstage's error envelope:
// {error:{name,message}, request:{method,url}, response:{statusCode}}.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			e = &Error{Name: "PayloadTooLargeError", Message: fmt.Sprintf("request entity too large: the limit is %d bytes", mbe.Limit)}
		} else {
			e = &Error{Name: "Error", Message: err.Error()}
		}
	}
	status, ok := statusByName[e.Name]
	if !ok {
		status = http.StatusInternalServerError
	}
	body := map[string]any{
		"error":    map[string]any{"name": e.Name, "message": e.Message},
		"request":  map[string]any{"method": r.Method, "url": r.URL.RequestURI()},
		"response": map[string]any{"statusCode": status},
	}
	WriteJSON(w, status, body)
}

// WriteJSON answers with a JSON body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
