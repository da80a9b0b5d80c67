package rbac

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func teamsService(t *testing.T, reload bool) (*Service, string) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"teams.csv", "teams.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	var s Settings
	s.Enabled = true
	s.RBAC.PoliciesCSVFile, s.RBAC.ConditionalPoliciesFile, s.RBAC.PolicyFileReload = "teams.csv", "teams.yaml", reload
	svc, err := NewService(s, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, dir
}

// POST /api/permission/authorize in Backstage's shape: definitive
// decisions, a conditional one returned as its criteria, the same applied
// to a resourceRef, and Backstage's refusals.
func TestAuthorizeEndpoint(t *testing.T) {
	svc, _ := teamsService(t, false)
	entities := map[string]map[string]any{
		"component:default/mine": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": "mine", "namespace": "default"},
			"spec": map[string]any{"owner": "group:default/team-a"}, "relations": []any{map[string]any{"type": "ownedBy", "targetRef": "group:default/team-a"}}},
		"component:default/theirs": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": "theirs", "namespace": "default"},
			"spec": map[string]any{"owner": "group:default/team-b"}, "relations": []any{map[string]any{"type": "ownedBy", "targetRef": "group:default/team-b"}}},
	}
	who := func(r *http.Request) (Identity, bool) {
		u := r.Header.Get("X-User")
		if u == "" {
			return Identity{}, false
		}
		return Identity{Ref: u, OwnershipRefs: strings.Split(r.Header.Get("X-Groups"), ",")}, true
	}
	load := func(ctx context.Context, rt, ref string) (map[string]any, error) { return entities[ref], nil }
	srv := httptest.NewServer(AuthorizeHandler(svc, who, load))
	defer srv.Close()
	ask := func(user, groups, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/authorize", strings.NewReader(body))
		if user != "" {
			req.Header.Set("X-User", user)
			req.Header.Set("X-Groups", user+","+groups)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	read := `{"type":"resource","name":"catalog.entity.read","attributes":{"action":"read"},"resourceType":"catalog-entity"}`
	create := `{"type":"basic","name":"catalog.location.create","attributes":{"action":"create"}}`
	code, body := ask("user:default/amy", "group:default/team-a", `{"items":[
		{"id":"1","permission":`+create+`},
		{"id":"2","permission":`+read+`},
		{"id":"3","permission":`+read+`,"resourceRef":"component:default/mine"},
		{"id":"4","permission":`+read+`,"resourceRef":"component:default/theirs"},
		{"id":"5","permission":`+read+`,"resourceRef":["component:default/mine","component:default/theirs","component:default/gone"]}]}`)
	if code != 200 {
		t.Fatalf("authorize: %d %s", code, body)
	}
	var res struct {
		Items []map[string]any
	}
	json.Unmarshal([]byte(body), &res)
	want := []string{"ALLOW", "CONDITIONAL", "ALLOW", "DENY", "[ALLOW DENY DENY]"}
	for i, w := range want {
		got := res.Items[i]["result"]
		if s, ok := got.([]any); ok {
			parts := make([]string, len(s))
			for j, x := range s {
				parts[j] = x.(string)
			}
			got = "[" + strings.Join(parts, " ") + "]"
		}
		if got != w || res.Items[i]["id"] != []string{"1", "2", "3", "4", "5"}[i] {
			t.Errorf("item %d: %v, want %s (%s)", i+1, res.Items[i], w, body)
		}
	}
	if res.Items[1]["pluginId"] != "catalog" || res.Items[1]["conditions"] == nil || strings.Contains(body, "teams.csv") {
		t.Errorf("the conditional item carries its criteria and no policy lines: %v", res.Items[1])
	}
	if code, body := ask("user:default/dave", "", `{"items":[{"id":"1","permission":{"type":"resource","name":"catalog.entity.delete","attributes":{"action":"delete"},"resourceType":"catalog-entity"},"resourceRef":"component:default/mine"}]}`); code != 200 || !strings.Contains(body, `"DENY"`) {
		t.Errorf("the viewer's deny row: %d %s", code, body)
	}
	for name, c := range map[string]struct{ user, body string }{
		"a resource item without a ref from nobody": {"", `{"items":[{"id":"1","permission":` + read + `}]}`},
		"a basic item with a ref":                   {"user:default/amy", `{"items":[{"id":"1","permission":` + create + `,"resourceRef":"x"}]}`},
		"an empty ref list":                         {"user:default/amy", `{"items":[{"id":"1","permission":` + read + `,"resourceRef":[]}]}`},
		"no items":                                  {"user:default/amy", `{}`},
	} {
		if code, body := ask(c.user, "group:default/team-a", c.body); code != 400 || !strings.Contains(body, `"InputError"`) {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
}

// A policy file that breaks keeps the last good policy in force, with the
// error kept for admins; a fixed file is taken up again.
func TestPolicyReloadKeepsLastGood(t *testing.T) {
	svc, dir := teamsService(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go svc.Run(ctx, 10*time.Millisecond)
	amy := Identity{Ref: "user:default/amy", OwnershipRefs: []string{"user:default/amy", "group:default/team-a"}}
	if d := svc.Decide(amy, CatalogLocationCreate); d.Result != Allow {
		t.Fatalf("before: %v", d.Result)
	}
	csv := filepath.Join(dir, "teams.csv")
	good, _ := os.ReadFile(csv)
	os.WriteFile(csv, append(append([]byte{}, good...), []byte("p, role:default/team-a, catalog.location.create\n")...), 0o644)
	waitFor(t, func() bool { return svc.LastError() != nil })
	if d := svc.Decide(amy, CatalogLocationCreate); d.Result != Allow {
		t.Errorf("a broken file changed the decision: %v", d.Result)
	}
	if !strings.Contains(svc.LastError().Error(), "teams.csv:") {
		t.Errorf("the error names the file and line: %v", svc.LastError())
	}
	os.WriteFile(csv, []byte(strings.Replace(string(good), "p, role:default/team-a, catalog.location.create, create, allow", "p, role:default/team-a, catalog.location.create, create, deny", 1)), 0o644)
	waitFor(t, func() bool { return svc.LastError() == nil && svc.Decide(amy, CatalogLocationCreate).Result == Deny })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Permissions off: everything allowed, as in Backstage.
func TestServiceDisabled(t *testing.T) {
	svc, err := NewService(Settings{}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := svc.Decide(Identity{}, CatalogEntityDelete); d.Result != Allow || !strings.Contains(d.Explanation.Summary(), "permission.enabled") {
		t.Errorf("disabled: %v %s", d.Result, d.Explanation.Summary())
	}
}
