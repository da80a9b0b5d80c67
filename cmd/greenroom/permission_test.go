package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// /api/permission/authorize answers with the RBAC policy of the config
// (RHDH's files), for the caller's identity.
func TestPermissionAuthorize(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "catalog.yaml")
	os.WriteFile(root, []byte(`apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: pat}
spec: {memberOf: [ops]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ops}
spec: {type: team, children: []}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "rbac.csv"), []byte(`p, role:default/ops, catalog.location.create, create, allow
p, role:default/ops, catalog.entity.delete, delete, deny
g, group:default/ops, role:default/ops
`), 0o644)
	os.WriteFile(filepath.Join(dir, "app-config.yaml"), []byte(`
catalog:
  rules: [{allow: [User, Group]}]
  locations: [{type: file, target: ./catalog.yaml}]
auth:
  providers:
    guest: {userEntityRef: user:default/pat, dangerouslyAllowOutsideDevelopment: true}
permission:
  enabled: true
  rbac:
    policies-csv-file: ./rbac.csv
`), 0o644)
	base := startServe(t, "--config", filepath.Join(dir, "app-config.yaml"), "--data-dir", t.TempDir())
	body := `{"items":[
	  {"id":"a","permission":{"type":"basic","name":"catalog.location.create","attributes":{"action":"create"}}},
	  {"id":"b","permission":{"type":"resource","name":"catalog.entity.delete","attributes":{"action":"delete"},"resourceType":"catalog-entity"},"resourceRef":"user:default/pat"},
	  {"id":"c","permission":{"type":"basic","name":"scaffolder.task.create","attributes":{"action":"create"}}}]}`
	resp, err := http.Post(base+"/api/permission/authorize", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"items":[{"id":"a","result":"ALLOW"},{"id":"b","result":"DENY"},{"id":"c","result":"DENY"}]}`
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != want {
		t.Errorf("authorize: %d %s\nwant %s", resp.StatusCode, b, want)
	}
	resp, err = http.Get(base + "/api/permission/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte(`"ok"`)) {
		t.Errorf("health: %s", b)
	}
}

// With permissions on, the API's mutations follow the policy: an allowed
// registration goes through, a denied delete is a 403 that says what was
// refused and whom to ask, and a template run without a row is refused.
func TestPermissionEnforced(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "catalog.yaml"), []byte(`apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: pat}
spec: {memberOf: [ops]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ops}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: billing}
spec: {type: service, lifecycle: production, owner: group:default/finance}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "rbac.csv"), []byte(`p, role:default/ops, catalog.location.create, create, allow
p, role:default/ops, catalog-entity, read, allow
p, role:default/ops, catalog.entity.delete, delete, deny
g, group:default/ops, role:default/ops
`), 0o644)
	os.WriteFile(filepath.Join(dir, "app-config.yaml"), []byte(`
catalog:
  rules: [{allow: [User, Group, Component, Location]}]
  locations: [{type: file, target: ./catalog.yaml}]
backend:
  reading:
    allow: [{host: '127.0.0.1:9'}]
auth:
  providers:
    guest: {userEntityRef: user:default/pat, dangerouslyAllowOutsideDevelopment: true}
permission:
  enabled: true
  rbac:
    policies-csv-file: ./rbac.csv
`), 0o644)
	base := startServe(t, "--config", filepath.Join(dir, "app-config.yaml"), "--data-dir", t.TempDir())
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/api/catalog/locations", `{"type":"url","target":"http://127.0.0.1:9/catalog-info.yaml"}`); code != 201 {
		t.Errorf("an allowed registration: %d %s", code, body)
	}
	var e struct{ Metadata struct{ UID string } }
	if code := getJSON(t, base+"/api/catalog/entities/by-name/component/default/billing", &e); code != 200 || e.Metadata.UID == "" {
		t.Fatalf("billing: %d", code)
	}
	code, body := do("DELETE", "/api/catalog/entities/by-uid/"+e.Metadata.UID, "")
	if code != 403 || !strings.Contains(body, "NotAllowedError") || !strings.Contains(body, "user:default/pat may not delete this entity") ||
		!strings.Contains(body, "group:default/finance (its owner)") || strings.Contains(body, "rbac.csv") {
		t.Errorf("a denied delete: %d %s", code, body)
	}
	if code := getJSON(t, base+"/api/catalog/entities/by-name/component/default/billing", nil); code != 200 {
		t.Errorf("the entity was deleted anyway: %d", code)
	}
	if code, body := do("POST", "/api/scaffolder/v2/tasks", `{"templateRef":"template:default/x","values":{}}`); code != 403 || !strings.Contains(body, "may not run templates") {
		t.Errorf("a template run without a row: %d %s", code, body)
	}
	// the audit log is for those with greenroom.audit.read (admins)
	for _, path := range []string{"/audit", "/api/audit/events"} {
		if code, _ := do("GET", path, ""); code != 403 {
			t.Errorf("GET %s without greenroom.audit.read: %d, want 403", path, code)
		}
	}
}

// A conditional read (what the user's groups own, plus people) filters
// every read of the API inside the query: lists, totals, facet counts,
// by-refs, by-name.
func TestPermissionReadsFiltered(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "catalog.yaml"), []byte(`apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: pat}
spec: {memberOf: [ops]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ops}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: billing}
spec: {type: service, lifecycle: production, owner: group:default/finance}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger}
spec: {type: service, lifecycle: production, owner: group:default/ops}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "rbac.csv"), []byte("g, group:default/ops, role:default/ops\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "rbac.yaml"), []byte(`result: CONDITIONAL
roleEntityRef: role:default/ops
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [read]
conditions:
  anyOf:
    - rule: IS_ENTITY_OWNER
      resourceType: catalog-entity
      params: {claims: [$ownerRefs]}
    - rule: IS_ENTITY_KIND
      resourceType: catalog-entity
      params: {kinds: [User, Group]}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "app-config.yaml"), []byte(`
catalog:
  rules: [{allow: [User, Group, Component]}]
  locations: [{type: file, target: ./catalog.yaml}]
auth:
  providers:
    guest: {userEntityRef: user:default/pat, dangerouslyAllowOutsideDevelopment: true}
permission:
  enabled: true
  rbac:
    policies-csv-file: ./rbac.csv
    conditionalPoliciesFile: ./rbac.yaml
`), 0o644)
	base := startServe(t, "--config", filepath.Join(dir, "app-config.yaml"), "--data-dir", t.TempDir())
	var page struct {
		Items      []struct{ Metadata struct{ Name string } }
		TotalItems int
	}
	getJSON(t, base+"/api/catalog/entities/by-query?filter=kind=component", &page)
	if page.TotalItems != 1 || len(page.Items) != 1 || page.Items[0].Metadata.Name != "ledger" {
		t.Errorf("by-query: %+v", page)
	}
	var list []struct{ Metadata struct{ Name string } }
	getJSON(t, base+"/api/catalog/entities?filter=kind=component", &list)
	if len(list) != 1 || list[0].Metadata.Name != "ledger" {
		t.Errorf("entities: %+v", list)
	}
	var facets struct {
		Facets map[string][]struct {
			Value string
			Count int
		}
	}
	getJSON(t, base+"/api/catalog/entity-facets?facet=kind", &facets)
	counts := map[string]int{}
	for _, f := range facets.Facets["kind"] {
		counts[f.Value] = f.Count
	}
	if counts["Component"] != 1 || counts["User"] != 1 || counts["Group"] != 1 {
		t.Errorf("facet counts reveal denied entities: %v", counts)
	}
	if code := getJSON(t, base+"/api/catalog/entities/by-name/component/default/billing", nil); code != 404 {
		t.Errorf("a denied entity by name: %d, want 404", code)
	}
	resp, err := http.Post(base+"/api/catalog/entities/by-refs", "application/json", strings.NewReader(`{"entityRefs":["component:default/billing","component:default/ledger"]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte(`{"items":[null,{`)) || bytes.Contains(b, []byte("billing")) {
		t.Errorf("by-refs: %s", b)
	}

	// the pages apply the same policy
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, page := get("/catalog?kind=component"); code != 200 || !strings.Contains(page, "ledger") || strings.Contains(page, "billing") {
		t.Errorf("catalog page: %d, ledger %v, billing %v", code, strings.Contains(page, "ledger"), strings.Contains(page, "billing"))
	}
	if code, _ := get("/catalog/default/component/billing"); code != 404 {
		t.Errorf("a denied entity's page: %d, want 404", code)
	}
	if code, page := get("/catalog/default/component/ledger"); code != 200 || !strings.Contains(page, "ledger") {
		t.Errorf("an owned entity's page: %d", code)
	}
	if code, body := get("/api/search/query?term=billing"); code != 403 || strings.Contains(body, `"billing"`) {
		t.Errorf("search API for a restricted user: %d %s", code, body)
	}
	if code, body := get("/api/techdocs/metadata/entity/default/component/billing"); code != 404 {
		t.Errorf("TechDocs of a denied entity: %d %s", code, body)
	}
}
