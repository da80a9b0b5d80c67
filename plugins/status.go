package plugins

import (
	"net/http"
	"sync"
	"time"
)

// Status is a plugin's health as its calls show it: the last error and the
// last successful call. It is safe for concurrent use.
type Status struct {
	mu          sync.Mutex
	lastOK      time.Time
	lastErr     string
	lastErrTime time.Time
	calls       int64
	errors      int64
}

// StatusSnapshot is a copy of a Status at one moment.
type StatusSnapshot struct {
	LastSuccess   time.Time
	LastError     string
	LastErrorTime time.Time
	Calls, Errors int64
}

// Healthy reports whether the last call succeeded (or none failed yet).
func (s StatusSnapshot) Healthy() bool {
	return s.LastError == "" || s.LastSuccess.After(s.LastErrorTime)
}

// Record records one call's outcome; a nil error is a success.
func (s *Status) Record(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err == nil {
		s.lastOK = time.Now()
		return
	}
	s.errors++
	s.lastErr = err.Error()
	s.lastErrTime = time.Now()
}

// Snapshot returns the current status.
func (s *Status) Snapshot() StatusSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StatusSnapshot{LastSuccess: s.lastOK, LastError: s.lastErr, LastErrorTime: s.lastErrTime, Calls: s.calls, Errors: s.errors}
}

// recordingTransport records each round trip in a Status: a transport
// error or a 5xx answer is an error, anything else a success (a 404 is
// the upstream answering).
type recordingTransport struct {
	next   http.RoundTripper
	status *Status
}

func (t recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	switch {
	case err != nil:
		t.status.Record(&callError{method: r.Method, host: r.URL.Host, err: err.Error()})
	case resp.StatusCode >= 500:
		t.status.Record(&callError{method: r.Method, host: r.URL.Host, err: resp.Status})
	default:
		t.status.Record(nil)
	}
	return resp, err
}

type callError struct{ method, host, err string }

// Error names the host, never the full URL: query strings can hold
// tokens.
func (e *callError) Error() string { return e.method + " " + e.host + ": " + e.err }
