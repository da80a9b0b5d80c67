package auth

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Auditor records auditor events (Backstage's auditor service); the lead
// stores them and logs them.
type Auditor interface {
	Record(ctx context.Context, e Event)
}

// Severity is Backstage's auditor severityLevel.
type Severity string

const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Status is an auditor event's status.
type Status string

const (
	StatusInitiated Status = "initiated"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// Event ids this package emits (Backstage auth-backend's).
const (
	EventLogin        = "auth-login"
	EventLogout       = "auth-logout"
	EventTokenRefresh = "auth-token-refresh"
)

// Event is one auditor record. It never holds a token, code, cookie or
// secret: Meta is built here from known-safe fields, and URL is the path
// only (the callback's query holds the authorization code).
type Event struct {
	Plugin    string // "auth"
	ID        string // auth-login, auth-logout, auth-token-refresh
	Severity  Severity
	Status    Status
	Actor     string // user entity ref, or "" before sign-in
	Error     string // for failed events: a message safe to show
	Meta      map[string]any
	RequestID string
	IP        string
	UserAgent string
	Method    string
	URL       string
	Time      time.Time
}

type noAuditor struct{}

func (noAuditor) Record(context.Context, Event) {}

// auditRun is one audited operation: initiated now, then succeeded or
// failed, each with the meta merged in (Backstage's createEvent).
type auditRun struct {
	a    *Auth
	r    *http.Request
	base Event
}

func (a *Auth) auditStart(r *http.Request, id string, sev Severity, actor string, meta map[string]any) *auditRun {
	ip := clientIP(r, a.opts.TrustProxy)
	e := Event{
		Plugin: "auth", ID: id, Severity: sev, Status: StatusInitiated, Actor: actor,
		Meta: meta, IP: ip, UserAgent: r.UserAgent(), Method: r.Method, URL: a.opts.BasePath + r.URL.Path,
		Time: a.now(),
	}
	if a.opts.RequestID != nil {
		e.RequestID = a.opts.RequestID(r)
	}
	a.auditor.Record(r.Context(), e)
	return &auditRun{a: a, r: r, base: e}
}

func (run *auditRun) finish(status Status, actor, errMsg string, meta map[string]any) {
	e := run.base
	e.Status, e.Time, e.Error = status, run.a.now(), errMsg
	if actor != "" {
		e.Actor = actor
	}
	m := map[string]any{}
	for k, v := range run.base.Meta {
		m[k] = v
	}
	for k, v := range meta {
		m[k] = v
	}
	e.Meta = m
	run.a.auditor.Record(run.r.Context(), e)
	if status == StatusFailed {
		run.a.log.Warn("auth: "+e.ID+" failed", "error", errMsg, "ip", e.IP, "request", e.RequestID)
	}
}

func (run *auditRun) success(actor string, meta map[string]any) {
	run.finish(StatusSucceeded, actor, "", meta)
}

func (run *auditRun) fail(msg string, meta map[string]any) {
	run.finish(StatusFailed, "", msg, meta)
}

// clientIP is the peer address, or, behind a trusted proxy, the address
// that proxy saw (the last X-Forwarded-For entry, the only one it wrote).
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
