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
