package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openStore(t *testing.T) (*Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.db")
	s, err := OpenSQLite(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

func newAuditor(s *Store, logs *bytes.Buffer) *Auditor {
	return &Auditor{
		Store:     s,
		Log:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ActorOf:   func(r *http.Request) string { return r.Header.Get("X-Test-User") },
		RequestID: func(context.Context) string { return "req-1" },
	}
}

// An operation is logged as initiated, then as succeeded or failed with
// its meta merged, in the store and the log, with the request's actor.
func TestAuditorOperations(t *testing.T) {
	s, _ := openStore(t)
	var logs bytes.Buffer
	a := newAuditor(s, &logs)
	r := httptest.NewRequest("DELETE", "/api/catalog/locations/abc", nil)
	r.Header.Set("X-Test-User", "user:default/ana")
	r.Header.Set("User-Agent", "test-agent")
	op := a.Begin(r.Context(), r, "catalog", "location-mutate", Medium, map[string]any{"actionType": "delete", "locationRef": "url:https://x/y.yaml"})
	op.Success(map[string]any{"removed": 3})
	op2 := a.Begin(r.Context(), r, "catalog", "entity-mutate", Medium, map[string]any{"actionType": "delete", "entityRef": "component:default/a"})
	op2.Fail(errors.New("entity not found"), nil)

	got, err := s.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d events, want 4 (two initiated, one succeeded, one failed)", len(got))
	}
	// newest first
	if got[0].Status != Failed || got[0].Error != "entity not found" || got[0].EventID != "entity-mutate" {
		t.Errorf("newest event %+v", got[0])
	}
	if got[2].Status != Succeeded || got[2].Meta["removed"] != float64(3) || got[2].Meta["actionType"] != "delete" {
		t.Errorf("succeeded event %+v", got[2])
	}
	e := got[3]
	if e.Status != Initiated || e.Actor.ActorID != "user:default/ana" || e.Actor.UserAgent != "test-agent" || e.Request.Method != "DELETE" ||
		e.Request.URL != "/api/catalog/locations/abc" || e.RequestID != "req-1" || e.Severity != Medium || e.Plugin != "catalog" {
		t.Errorf("initiated event %+v", e)
	}
	for _, want := range []string{`"msg":"catalog.location-mutate"`, `"isAuditorEvent":true`, `"status":"succeeded"`, `"actorId":"user:default/ana"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestQueryFiltersAndPages(t *testing.T) {
	s, _ := openStore(t)
	base := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 7; i++ {
		actor := "user:default/ana"
		if i%2 == 1 {
			actor = "user:default/ben"
		}
		if _, err := s.Record(context.Background(), Event{Time: base.Add(time.Duration(i) * time.Minute), Plugin: "scaffolder", EventID: "task",
			Actor: Actor{ActorID: actor}, Status: Succeeded, Meta: map[string]any{"taskId": "t" + string(rune('0'+i))}}); err != nil {
			t.Fatal(err)
		}
	}
	q := func(f Filter) []Event {
		got, err := s.Query(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if n := len(q(Filter{Actor: "user:default/ben"})); n != 3 {
		t.Errorf("ben's events: %d, want 3", n)
	}
	if got := q(Filter{Target: "t4"}); len(got) != 1 || got[0].Meta["taskId"] != "t4" {
		t.Errorf("by target: %+v", got)
	}
	if n := len(q(Filter{Since: base.Add(2 * time.Minute), Until: base.Add(5 * time.Minute)})); n != 3 {
		t.Errorf("time window: %d, want 3", n)
	}
	page1 := q(Filter{Limit: 3})
	page2 := q(Filter{Limit: 3, Before: page1[2].ID})
	page3 := q(Filter{Limit: 3, Before: page2[2].ID})
	if len(page1) != 3 || len(page2) != 3 || len(page3) != 1 || page2[0].ID >= page1[2].ID {
		t.Errorf("pages %d %d %d", len(page1), len(page2), len(page3))
	}

	srv := httptest.NewServer(Handler(s))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events?actor=user:default/ana&limit=2")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Items      []Event
		NextBefore int64
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if len(body.Items) != 2 || body.NextBefore != body.Items[1].ID {
		t.Errorf("JSON page: %+v", body)
	}
	for _, bad := range []string{"since=yesterday", "limit=0", "status=maybe", "before=-1"} {
		resp, _ := http.Get(srv.URL + "/events?" + bad)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

// Secrets never reach the store or the log, even when a caller puts them
// in meta or a URL's query.
func TestNoSecretsStored(t *testing.T) {
	s, path := openStore(t)
	var logs bytes.Buffer
	a := newAuditor(s, &logs)
	const tok, code, pw = "ghp_SECRETtoken123", "oauthcode-987", "hunter2-pw"
	r := httptest.NewRequest("GET", "/api/auth/oidc/handler/frame?code="+code+"&state=st4te&x=1", nil)
	op := a.Begin(r.Context(), r, "auth", "auth-login", Low, map[string]any{
		"providerId": "oidc", "token": tok, "nested": map[string]any{"password": pw, "ok": "fine"}, "Authorization": "Bearer " + tok,
	})
	op.Success(map[string]any{"accessToken": tok})
	s.Close()
	var all []byte
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
	}
	for name, secret := range map[string]string{"token": tok, "code": code, "password": pw, "state": "st4te"} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("the %s is in the database file", name)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the %s is in the log", name)
		}
	}
	if !strings.Contains(logs.String(), "fine") || !strings.Contains(logs.String(), "x=1") {
		t.Errorf("what is not secret is kept: %s", logs.String())
	}
}
