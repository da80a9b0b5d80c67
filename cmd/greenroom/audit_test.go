package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/web/audit"
)

// Mutations through the API are in the audit log with their target and
// result, and a template's secret is not.
func TestMutationsAreAudited(t *testing.T) {
	t.Setenv("GREENROOM_CONFIG", "")
	data := t.TempDir()
	base := startServe(t, "--data-dir", data)
	post := func(path string, body any) int {
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// refused (a local path may not be registered): a failed mutation
	if c := post("/api/catalog/locations", map[string]string{"type": "file", "target": "/etc/passwd"}); c != 400 {
		t.Errorf("register a file location: %d", c)
	}
	const secret = "s3cr3t-value-for-audit"
	if c := post("/api/scaffolder/v2/tasks", map[string]any{"templateRef": "template:default/new-go-service",
		"values":  map[string]any{"name": "audited-svc", "owner": "group:default/team-storefront", "repoUrl": "git.freshcart.example?owner=freshcart&repo=audited-svc"},
		"secrets": map[string]string{"token": secret}}); c != 201 {
		t.Fatalf("create task: %d", c)
	}
	st, err := audit.OpenSQLite(filepath.Join(data, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var events []audit.Event
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, err = st.Query(context.Background(), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	found := map[string]bool{}
	for _, e := range events {
		found[e.Plugin+"."+e.EventID+" "+string(e.Status)] = true
		if e.EventID == "location-mutate" && e.Status == audit.Failed && e.Meta["locationRef"] != "file:/etc/passwd" {
			t.Errorf("the failed registration names %v", e.Meta["locationRef"])
		}
		if e.EventID == "task" && e.Status == audit.Succeeded && e.Meta["templateRef"] != "template:default/new-go-service" {
			t.Errorf("the task event names %v", e.Meta["templateRef"])
		}
	}
	for _, want := range []string{"catalog.location-mutate initiated", "catalog.location-mutate failed", "scaffolder.task initiated", "scaffolder.task succeeded"} {
		if !found[want] {
			t.Errorf("no %s event in %v", want, found)
		}
	}
	for _, f := range []string{"audit.db", "audit.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(data, f))
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the template's secret is in %s", f)
		}
	}
}

// The demo's visitors are Backstage's guest: the header says so, the
// guest can get a Backstage user token that the API accepts, and what
// they change is audited under the guest's ref.
func TestDemoGuestIdentity(t *testing.T) {
	t.Setenv("GREENROOM_CONFIG", "")
	data := t.TempDir()
	base := startServe(t, "--data-dir", data)
	req, _ := http.NewRequest("GET", base+"/api/auth/guest/refresh", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ident struct {
		BackstageIdentity struct {
			Token    string
			Identity struct{ UserEntityRef string }
		}
	}
	json.NewDecoder(resp.Body).Decode(&ident)
	resp.Body.Close()
	if resp.StatusCode != 200 || ident.BackstageIdentity.Identity.UserEntityRef != demoGuest || ident.BackstageIdentity.Token == "" {
		t.Fatalf("guest refresh: %d %+v", resp.StatusCode, ident)
	}
	req, _ = http.NewRequest("POST", base+"/api/catalog/refresh", bytes.NewReader([]byte(`{"entityRef":"component:default/order-service"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ident.BackstageIdentity.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("refresh with the guest's token: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", base+"/api/catalog/refresh", bytes.NewReader([]byte(`{"entityRef":"component:default/order-service"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ident.BackstageIdentity.Token+"x")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a tampered token: %d, want 401", resp.StatusCode)
	}
	st, err := audit.OpenSQLite(filepath.Join(data, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.Query(context.Background(), audit.Filter{EventID: "entity-mutate"})
	if err != nil || len(events) == 0 {
		t.Fatalf("no entity-mutate event: %v", err)
	}
	if events[0].Actor.ActorID != demoGuest {
		t.Errorf("the refresh's actor is %q, want %s", events[0].Actor.ActorID, demoGuest)
	}
	resp, err = http.Get(base + "/catalog")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(`class="signed-in"`)) || !bytes.Contains(page, []byte("Guest")) {
		t.Errorf("the header does not show the guest")
	}
	// a template run is the guest's: createdBy and user.ref
	tb, _ := json.Marshal(map[string]any{"templateRef": "template:default/new-go-service", "values": map[string]any{
		"name": "guest-svc", "owner": "group:default/team-storefront", "repoUrl": "git.freshcart.example?owner=freshcart&repo=guest-svc"}})
	resp, err = http.Post(base+"/api/scaffolder/v2/tasks", "application/json", bytes.NewReader(tb))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	var tk struct{ CreatedBy string }
	getJSON(t, base+"/api/scaffolder/v2/tasks/"+created.ID, &tk)
	if tk.CreatedBy != demoGuest {
		t.Errorf("the task's createdBy is %q, want %s", tk.CreatedBy, demoGuest)
	}
	for _, f := range []string{"audit.db", "audit.db-wal", "sessions.db", "sessions.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(data, f))
		if bytes.Contains(b, []byte(ident.BackstageIdentity.Token)) {
			t.Errorf("the user token is in %s", f)
		}
	}
}
