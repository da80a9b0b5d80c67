// Package audit records what was done in the portal: Backstage's auditor
// events (plugin, event id, severity, actor, request, meta, status
// initiated/succeeded/failed) kept in their own SQLite file and written as
// structured log lines, with a query for the admin page and a JSON export.
// Nothing secret is stored: meta values under names that hold secrets are
// replaced before they are written, and callers pass refs, not payloads.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the store's driver

	"github.com/greenroom-dev/greenroom/web/auth"
)

// Severity is Backstage's severityLevel.
type Severity string

// Severity levels.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Status is where an audited operation is.
type Status string

// Statuses.
const (
	Initiated Status = "initiated"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Actor is who acted: a user entity ref or a service's subject.
type Actor struct {
	ActorID   string `json:"actorId,omitempty"`
	IP        string `json:"ip,omitempty"`
	Hostname  string `json:"hostname,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// Request is the HTTP request an event belongs to.
type Request struct {
	URL    string `json:"url"`
	Method string `json:"method"`
}

// Event is one audit record, in Backstage's auditor shape.
type Event struct {
	ID        int64          `json:"id"`
	Time      time.Time      `json:"time"`
	Plugin    string         `json:"plugin"`
	EventID   string         `json:"eventId"`
	Severity  Severity       `json:"severityLevel"`
	Actor     Actor          `json:"actor"`
	Request   *Request       `json:"request,omitempty"`
	Meta      map[string]any `json:"meta,omitempty"`
	Status    Status         `json:"status"`
	Error     string         `json:"error,omitempty"`
	RequestID string         `json:"requestId,omitempty"`
}

// Message is the event's log message, "<plugin>.<eventId>".
func (e Event) Message() string { return e.Plugin + "." + e.EventID }

// Store keeps events in an SQLite file of their own.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

const schema = `
CREATE TABLE IF NOT EXISTS events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	time       TEXT NOT NULL,
	plugin     TEXT NOT NULL,
	event_id   TEXT NOT NULL,
	severity   TEXT NOT NULL,
	status     TEXT NOT NULL,
	actor_id   TEXT NOT NULL,
	actor      TEXT NOT NULL,
	request    TEXT NOT NULL,
	meta       TEXT NOT NULL,
	error      TEXT NOT NULL,
	request_id TEXT NOT NULL,
	target     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE INDEX IF NOT EXISTS events_actor ON events (actor_id, id);
CREATE INDEX IF NOT EXISTS events_event ON events (event_id, id);
`

// OpenSQLite opens (creating if needed) the audit store at path.
func OpenSQLite(path string) (*Store, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		return nil, fmt.Errorf("audit store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; reads are small and rare
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("audit store %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// secretName matches meta keys whose values must never be stored.
var secretName = regexp.MustCompile(`(?i)(token|secret|password|passwd|authorization|cookie|credential|private|^code$|apikey|api_key)`)

// Scrub returns meta with the values of secret-named keys replaced, at
// any depth. Callers should not pass secrets at all; this is the net.
func Scrub(meta map[string]any) map[string]any {
	if meta == nil {
		return nil
	}
	out := make(map[string]any, len(meta))
	for k, v := range meta {
		if secretName.MatchString(k) {
			out[k] = "***"
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			out[k] = Scrub(t)
		default:
			out[k] = v
		}
	}
	return out
}

// target is what an event acted on, for filtering: the first of the meta's
// entityRef, locationRef, templateRef, taskId, target.
func target(meta map[string]any) string {
	for _, k := range []string{"entityRef", "locationRef", "templateRef", "taskId", "target"} {
		if v, ok := meta[k].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// Record stores an event (its ID and Time are assigned) and returns it.
func (s *Store) Record(ctx context.Context, e Event) (Event, error) {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	if e.Severity == "" {
		e.Severity = Low
	}
	e.Meta = Scrub(e.Meta)
	actor, _ := json.Marshal(e.Actor)
	req := []byte("null")
	if e.Request != nil {
		req, _ = json.Marshal(e.Request)
	}
	meta, err := json.Marshal(e.Meta)
	if err != nil {
		return e, fmt.Errorf("audit event %s: meta: %w", e.Message(), err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO events (time, plugin, event_id, severity, status, actor_id, actor, request, meta, error, request_id, target)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Time.Format(time.RFC3339Nano), e.Plugin, e.EventID, string(e.Severity), string(e.Status), e.Actor.ActorID,
		string(actor), string(req), string(meta), e.Error, e.RequestID, target(e.Meta))
	if err != nil {
		return e, fmt.Errorf("audit event %s: %w", e.Message(), err)
	}
	e.ID, _ = res.LastInsertId()
	return e, nil
}

// Filter selects events; zero fields select everything. Events come
// newest first; Before pages (events with a smaller ID).
type Filter struct {
	Actor, EventID, Plugin, Target string
	Status                         Status
	Since, Until                   time.Time
	Before                         int64
	Limit                          int // default 50, at most 500
}

// Query returns the events the filter selects, newest first.
func (s *Store) Query(ctx context.Context, f Filter) ([]Event, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Actor != "" {
		add("actor_id = ?", f.Actor)
	}
	if f.EventID != "" {
		add("event_id = ?", f.EventID)
	}
	if f.Plugin != "" {
		add("plugin = ?", f.Plugin)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	q := `SELECT id, time, plugin, event_id, severity, status, actor, request, meta, error, request_id FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var t, sev, st, actor, req, meta string
		if err := rows.Scan(&e.ID, &t, &e.Plugin, &e.EventID, &sev, &st, &actor, &req, &meta, &e.Error, &e.RequestID); err != nil {
			return nil, err
		}
		e.Time, _ = time.Parse(time.RFC3339Nano, t)
		e.Severity, e.Status = Severity(sev), Status(st)
		json.Unmarshal([]byte(actor), &e.Actor)
		if req != "null" {
			e.Request = &Request{}
			json.Unmarshal([]byte(req), e.Request)
		}
		json.Unmarshal([]byte(meta), &e.Meta)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Auditor records events in a store and the log, as Backstage's auditor
// service: an operation is logged as initiated, then as succeeded or
// failed with its meta merged in.
type Auditor struct {
	Store *Store
	Log   *slog.Logger
	// ActorOf says who makes a request (the signed-in user's ref); nil:
	// nobody is known.
	ActorOf func(r *http.Request) string
	// RequestID returns the request's id (chi's middleware.GetReqID).
	RequestID func(ctx context.Context) string
}

// Op is an operation that has been logged as initiated.
type Op struct {
	a    *Auditor
	base Event
	ctx  context.Context
}

// Begin records that an operation starts. r may be nil (work with no
// request, e.g. a provider's refresh).
func (a *Auditor) Begin(ctx context.Context, r *http.Request, plugin, eventID string, sev Severity, meta map[string]any) *Op {
	e := Event{Plugin: plugin, EventID: eventID, Severity: sev, Meta: meta, Status: Initiated}
	if r != nil {
		e.Request = &Request{URL: redactQuery(r.URL.RequestURI()), Method: r.Method}
		e.Actor = Actor{IP: clientIP(r), Hostname: r.Host, UserAgent: r.UserAgent()}
		if a.ActorOf != nil {
			e.Actor.ActorID = a.ActorOf(r)
		}
	}
	if a.RequestID != nil {
		e.RequestID = a.RequestID(ctx)
	}
	op := &Op{a: a, base: e, ctx: context.WithoutCancel(ctx)}
	a.write(op.ctx, e)
	return op
}

// Success records that the operation succeeded, with more meta.
func (o *Op) Success(meta map[string]any) {
	e := o.base
	e.Status = Succeeded
	e.Meta = merge(e.Meta, meta)
	o.a.write(o.ctx, e)
}

// Fail records that the operation failed with err.
func (o *Op) Fail(err error, meta map[string]any) {
	e := o.base
	e.Status = Failed
	e.Meta = merge(e.Meta, meta)
	if err != nil {
		e.Error = err.Error()
	}
	o.a.write(o.ctx, e)
}

// Done is Success for a nil error and Fail otherwise.
func (o *Op) Done(err error) {
	if err != nil {
		o.Fail(err, nil)
		return
	}
	o.Success(nil)
}

func (a *Auditor) write(ctx context.Context, e Event) {
	if a == nil {
		return
	}
	e.Meta = Scrub(e.Meta)
	if a.Store != nil {
		stored, err := a.Store.Record(ctx, e)
		if err != nil && a.Log != nil {
			a.Log.Error("audit: event not stored", "event", e.Message(), "error", err)
		}
		e = stored
	}
	if a.Log != nil {
		level := slog.LevelDebug
		if e.Severity != Low && e.Severity != "" {
			level = slog.LevelInfo
		}
		attrs := []any{"isAuditorEvent", true, "plugin", e.Plugin, "severityLevel", string(e.Severity),
			"status", string(e.Status), "actorId", e.Actor.ActorID}
		if e.Request != nil {
			attrs = append(attrs, "method", e.Request.Method, "url", e.Request.URL)
		}
		if len(e.Meta) > 0 {
			attrs = append(attrs, "meta", e.Meta)
		}
		if e.Error != "" {
			attrs = append(attrs, "error", e.Error)
		}
		a.Log.Log(ctx, level, e.Message(), attrs...)
	}
}

func merge(a, b map[string]any) map[string]any {
	if len(b) == 0 {
		return a
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// redactQuery keeps a request URL's path and drops the values of query
// parameters that can carry secrets (tokens in links, OAuth codes).
func redactQuery(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	var parts []string
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if secretName.MatchString(k) || strings.EqualFold(k, "state") {
			kv = k + "=***"
		}
		parts = append(parts, kv)
	}
	return path + "?" + strings.Join(parts, "&")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Wrap records each request to h as one operation: initiated with the
// meta that meta(r) returns (nil: the request is not audited, e.g. a
// preview), then succeeded or failed by the answer's status (>= 400
// fails). A nil Auditor audits nothing.
func Wrap(a *Auditor, plugin, eventID string, sev Severity, meta func(r *http.Request) map[string]any, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a == nil {
			h(w, r)
			return
		}
		m := meta(r)
		if m == nil {
			h(w, r)
			return
		}
		op := a.Begin(r.Context(), r, plugin, eventID, sev, m)
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.status >= 400 {
			op.Fail(fmt.Errorf("answered %d %s", sw.status, http.StatusText(sw.status)), nil)
			return
		}
		op.Success(nil)
	}
}

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

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// APIAuditor adapts an Auditor to the catalog and scaffolder APIs'
// Auditor interface (severity as a string, an op with Done).
type APIAuditor struct{ A *Auditor }

// Begin starts an operation.
func (x APIAuditor) Begin(ctx context.Context, r *http.Request, plugin, eventID, severity string, meta map[string]any) interface{ Done(error) } {
	return x.A.Begin(ctx, r, plugin, eventID, Severity(severity), meta)
}

// Record stores one of sign-in's events (it implements auth.Auditor), so
// sign-ins and sign-outs are in the same log as everything else.
func (a *Auditor) Record(ctx context.Context, e auth.Event) {
	ev := Event{Plugin: e.Plugin, EventID: e.ID, Severity: Severity(e.Severity), Status: Status(e.Status),
		Actor: Actor{ActorID: e.Actor, IP: e.IP, UserAgent: e.UserAgent}, Meta: e.Meta, Error: e.Error, RequestID: e.RequestID}
	if e.Method != "" {
		ev.Request = &Request{URL: e.URL, Method: e.Method}
	}
	a.write(context.WithoutCancel(ctx), ev)
}
